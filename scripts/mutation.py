"""`make mutation`: run mutmut over each module listed in mutation/modules.toml and check the floors.

For each module a scratch copy of the project is made in mutation/work/<name>/ with a `[tool.mutmut]` section for that
module alone (mutmut reads its configuration from the current directory and copies the project into `mutants/`
there), mutmut runs against the module's tests, and the results are read back from mutmut's own files. The summary
goes to mutation/summary.json and mutation/REPORT.md; the exit status is 1 when a module misses its floor.

What counts: killed mutants (a test failed, timed out or the type checker refused) over all mutants, less those that
only change message text and those listed in mutation/equivalent.txt. A mutant is *message-only* when every token it
changes is a string literal of prose (it holds whitespace or ends a sentence: ".", "?", "!", ":") replaced by another
string or by None, or removed as an argument: the wording users read, which the floors leave to review.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import time
import tokenize
import tomllib
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "mutation" / "modules.toml"
EQUIVALENT = ROOT / "mutation" / "equivalent.txt"
# Everything the app and its tests read at run time, relative to the project root (tests/ and pyproject.toml are
# copied by mutmut itself).
PROJECT_FILES = ["lms", "tests", "config.py", "courses", "templates", "certificates", "migrations", "pyproject.toml"]
KILLED = {"killed", "timeout", "caught by type check"}


def load_modules(config: Path = CONFIG) -> list[dict]:
    modules = tomllib.loads(config.read_text("utf-8"))["module"]
    for m in modules:
        missing = {"name", "path", "tests", "floor"} - m.keys()
        if missing:
            raise SystemExit(f"{config}: module {m.get('name', '?')} lacks {', '.join(sorted(missing))}")
        m.setdefault("functions", [])
    return modules


def load_equivalents(path: Path = EQUIVALENT) -> dict[str, str]:
    out = {}
    if path.exists():
        for line in path.read_text("utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                key, _, reason = line.partition(" ")
                out[key] = reason.strip()
    return out


def _toml_list(values: list[str]) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def prepare(module: dict, work: Path, root: Path = ROOT) -> None:
    """A fresh copy of the project in ``work`` whose pyproject.toml tells mutmut about this module only."""
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "node_modules", ".pytest_cache")
    for name in PROJECT_FILES:
        src = root / name
        if src.is_dir():
            shutil.copytree(src, work / name, ignore=ignore)
        elif src.exists():
            shutil.copy2(src, work / name)
    write_config(module, work, root)


def write_config(module: dict, work: Path, root: Path = ROOT) -> None:
    """pyproject.toml with a `[tool.mutmut]` section for this module (and in mutmut's copy, when there is one)."""
    pyproject = (root / "pyproject.toml").read_text("utf-8")
    pyproject += (
        "\n[tool.mutmut]\n"
        'source_paths = ["lms"]\n'
        f"only_mutate = {_toml_list([module['path']])}\n"
        f"also_copy = {_toml_list(['config.py', 'courses', 'templates', 'certificates', 'migrations'])}\n"
        f"pytest_add_cli_args_test_selection = {_toml_list(module['tests'])}\n"
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "-m", "not postgres and not e2e"]\n'
        "use_git_change_detection = false\n"
        # A mutant's pytest session starts from scratch; on a loaded machine that start dominates, so the time limit
        # is generous: a timeout should mean a mutant that hangs, not a slow machine.
        "timeout_constant = 30.0\n"
    )
    for target in (work, work / "mutants"):
        if target.is_dir():
            (target / "pyproject.toml").write_text(pyproject, "utf-8")


def refresh_tests(work: Path, root: Path = ROOT) -> None:
    """Copy the current tests into an existing scratch copy (and mutmut's own copy inside it)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "node_modules", ".pytest_cache")
    for target in (work / "tests", work / "mutants" / "tests"):
        shutil.copytree(root / "tests", target, ignore=ignore, dirs_exist_ok=True)


def previous_survivors(module: dict, work: Path, equivalents: dict[str, str]) -> list[str]:
    """The last run's survivors that count (message-only and listed-equivalent mutants are not run again)."""
    return [s["name"] for s in collect(module, work, equivalents)["survivors"]]


def unchecked(module: dict, work: Path) -> list[str]:
    """Mutants of ``module`` without a verdict in mutmut's results (never run, or reset by mutmut)."""
    meta = json.loads((work / "mutants" / (module["path"] + ".meta")).read_text("utf-8"))
    dotted = module["path"].removesuffix(".py").replace("/", ".")
    patterns = [f"{dotted}.{f}__mutmut_*" for f in module["functions"]]
    return [name for name, code in meta["exit_code_by_key"].items()
            if code is None and (not patterns or any(fnmatch(name, p) for p in patterns))]


def run_mutmut(module: dict, work: Path, jobs: int, log, names: list[str] | None = None) -> int:
    env = {k: v for k, v in os.environ.items() if k not in ("TEST_DATABASE_URL", "PYTEST_ADDOPTS")}
    # tests/conftest.py keeps the migrated template and signing material here across mutmut's many pytest sessions.
    env["OROCERT_TEST_SESSION_CACHE"] = str((work / "session-cache").resolve())
    dotted = module["path"].removesuffix(".py").replace("/", ".")
    names = names or [f"{dotted}.{f}__mutmut_*" for f in module["functions"]]
    cmd = [sys.executable, "-m", "mutmut", "run", "--max-children", str(jobs), *names]
    # A fixed command line: this interpreter, mutmut, names built from our own configuration.
    return subprocess.run(cmd, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,  # noqa: S603
                          check=False).returncode


def _tokens(code: str) -> list[tuple[int, str]]:
    out = []
    for tok in tokenize.generate_tokens(io.StringIO(code).readline):
        if tok.type in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.COMMENT,
                        tokenize.ENDMARKER):
            continue
        out.append((tok.type, tok.string))
    return out


def _is_prose(tok: tuple[int, str]) -> bool:
    kind, text = tok
    if kind != tokenize.STRING:
        return False
    body = text.lstrip("rRbBuUfF").strip("'\"")
    return any(c.isspace() for c in body) or body.rstrip().endswith((".", "?", "!", ":"))


def message_only(original: str, mutant: str) -> bool:
    """Does the mutant change nothing but prose string literals (see module docstring)?"""
    try:
        a, b = _tokens(original), _tokens(mutant)
    except (tokenize.TokenError, SyntaxError):
        return False
    changed = False
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        old = [t for t in a[i1:i2] if t != (tokenize.OP, ",")]
        new = [t for t in b[j1:j2] if t != (tokenize.OP, ",")]
        if not old or not all(_is_prose(t) for t in old):
            return False
        if not all(t[0] == tokenize.STRING or t == (tokenize.NAME, "None") for t in new):
            return False
        changed = True
    return changed


def stable_key(module_name: str, mutant_name: str, diff: str) -> str:
    """module:function:hash of the changed lines — survives mutmut renumbering the mutants of a function."""
    function = mutant_name.rpartition(".")[2].split("__mutmut_")[0].removeprefix("x_")
    changed = "\n".join(line[0] + line[1:].strip() for line in diff.splitlines()
                        if line[:1] in "+-" and not line.startswith(("+++", "---")))
    return f"{module_name}:{function}:{hashlib.sha256(changed.encode()).hexdigest()[:10]}"


def collect(module: dict, work: Path, equivalents: dict[str, str]) -> dict:
    """Read mutmut's results for ``module`` from ``work`` and score them."""
    from mutmut.mutation.diff_apply import (
        get_diff_for_mutant,
        read_functions_from_index,
        read_mutant_function,
        read_mutants_module,
        read_original_function,
    )
    from mutmut.stats import status_by_exit_code

    meta = json.loads((work / "mutants" / (module["path"] + ".meta")).read_text("utf-8"))
    dotted = module["path"].removesuffix(".py").replace("/", ".")
    patterns = [f"{dotted}.{f}__mutmut_*" for f in module["functions"]]
    counts = {"total": 0, "killed": 0, "timeout": 0, "survived": 0, "message_only": 0, "equivalent": 0,
              "not_run": 0}
    survivors, message, equivalent_used = [], [], []
    cwd = os.getcwd()
    os.chdir(work)
    try:
        import libcst as cst

        module_cst = None
        for name, code in sorted(meta["exit_code_by_key"].items(), key=lambda kv: _natural(kv[0])):
            if patterns and not any(fnmatch(name, p) for p in patterns):
                continue
            status = status_by_exit_code[code]
            functions = read_functions_from_index(name, module["path"])
            if functions is None:
                module_cst = module_cst or read_mutants_module(module["path"])
                functions = (read_original_function(module_cst, name), read_mutant_function(module_cst, name))
            orig, mut = (cst.Module([f]).code.strip() for f in functions)
            diff = get_diff_for_mutant(name, path=module["path"])
            key = stable_key(module["name"], name, diff)
            counts["total"] += 1
            entry = {"name": name, "key": key, "status": status, "diff": diff}
            if message_only(orig, mut):
                counts["message_only"] += 1
                message.append(name)
            elif key in equivalents:
                counts["equivalent"] += 1
                equivalent_used.append({"name": name, "key": key, "reason": equivalents[key], "status": status})
            elif status in KILLED:
                counts["killed"] += 1
                counts["timeout"] += status == "timeout"
            elif status in ("not checked", "check was interrupted by user"):
                counts["not_run"] += 1
                survivors.append(entry)
            else:
                counts["survived"] += 1
                survivors.append(entry)
    finally:
        os.chdir(cwd)
    counted = counts["total"] - counts["message_only"] - counts["equivalent"]
    score = 100.0 if counted == 0 else round(100.0 * counts["killed"] / counted, 1)
    return {"name": module["name"], "path": module["path"], "functions": module["functions"],
            "tests": module["tests"], "floor": module["floor"], "score": score, "counted": counted, **counts,
            "meets_floor": score >= module["floor"], "complete": counts["not_run"] == 0,
            "survivors": survivors, "message_only_mutants": message,
            "equivalent_mutants": equivalent_used}


def _natural(name: str) -> tuple[str, int]:
    base, _, n = name.rpartition("__mutmut_")
    return base, int(n) if n.isdigit() else 0


def carry_over(results: list[dict], modules: list[dict], previous: Path) -> list[dict]:
    """``results`` of the modules just run, plus, for every other listed module, its figures in the previous summary
    (marked ``carried_over``), in the order of modules.toml: a run of some modules keeps the report whole."""
    earlier = {}
    if previous.exists():
        earlier = {r["name"]: r for r in json.loads(previous.read_text("utf-8"))["modules"]}
    run = {r["name"]: r for r in results}
    merged = []
    for m in modules:
        if m["name"] in run:
            merged.append(run[m["name"]])
        elif m["name"] in earlier and earlier[m["name"]]["path"] == m["path"]:
            merged.append({**earlier[m["name"]], "carried_over": True})
    return merged


def write_report(results: list[dict], out: Path, equivalents: dict[str, str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    used = {e["key"] for r in results for e in r["equivalent_mutants"]}
    # A carried-over module's figures predate the current equivalent.txt: its entries are not judged stale here.
    run_names = {r["name"] for r in results if not r.get("carried_over")}
    stale = sorted(k for k in equivalents if k not in used and k.split(":")[0] in run_names)
    carried = [r["name"] for r in results if r.get("carried_over")]
    summary = {"modules": results, "stale_equivalents": stale,
               "passed": all(r["meets_floor"] for r in results)}
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", "utf-8")
    lines = ["# Mutation report", "",
             "Score = killed / (all mutants − message-only − listed equivalent). "
             "Made by `make mutation`; see the README section \"Mutation testing\".", "",
             *([f"Not run this time, from the previous summary: {', '.join(carried)}.", ""] if carried else []),
             "| module | file | score | floor | killed (timeouts) | survived | message-only | equivalent | total |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in results:
        mark = "" if r["meets_floor"] else " **below floor**"
        if not r["complete"]:
            mark += f" (incomplete: {r['not_run']} not checked)"
        lines.append(f"| {r['name']} | `{r['path']}` | {r['score']}%{mark} | {r['floor']}% | "
                     f"{r['killed']} ({r['timeout']}) | "
                     f"{r['survived'] + r['not_run']} | {r['message_only']} | {r['equivalent']} | {r['total']} |")
    for r in results:
        lines += ["", f"## {r['name']} — {r['score']}% (floor {r['floor']}%)", "",
                  f"Tests: {', '.join('`' + t + '`' for t in r['tests'])}"]
        if r["functions"]:
            lines.append(f"Functions: {', '.join('`' + f + '`' for f in r['functions'])}")
        if not r["survivors"]:
            lines += ["", "No surviving mutants."]
        for s in r["survivors"]:
            if s["status"] == "not checked":
                continue
            lines += ["", f"### `{s['name']}` ({s['status']})", "",
                      f"Key for mutation/equivalent.txt: `{s['key']}`", "", "```diff", s["diff"], "```"]
        for e in r["equivalent_mutants"]:
            lines += ["", f"- equivalent `{e['key']}` ({e['name']}): {e['reason']}"]
    if stale:
        lines += ["", "## Stale entries in mutation/equivalent.txt", ""] + [f"- `{k}`" for k in stale]
    (out / "REPORT.md").write_text("\n".join(lines) + "\n", "utf-8")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", action="append",
                   help="run only this module (by name; repeatable); the others keep their previous figures")
    p.add_argument("--config", type=Path, default=CONFIG)
    p.add_argument("--out", type=Path, default=ROOT / "mutation", help="where summary.json and REPORT.md go")
    p.add_argument("--work", type=Path, default=ROOT / "mutation" / "work", help="scratch copies of the project")
    p.add_argument("--jobs", type=int, default=int(os.environ.get("MUTATION_JOBS", os.cpu_count() or 2)))
    p.add_argument("--report-only", action="store_true", help="re-read the results of the last run, run nothing")
    p.add_argument("--rerun-survivors", action="store_true",
                   help="after adding tests: run only the last run's survivors again, with the current tests")
    args = p.parse_args(argv)

    modules = load_modules(args.config)
    if args.only:
        unknown = set(args.only) - {m["name"] for m in modules}
        if unknown:
            p.error(f"unknown module(s): {', '.join(sorted(unknown))}")
        modules = [m for m in modules if m["name"] in args.only]
    equivalents = load_equivalents()
    results = []
    for module in modules:
        work = args.work / module["name"]
        if args.rerun_survivors and not args.report_only:
            survivors = previous_survivors(module, work, equivalents)
            print(f"mutation: {module['name']}: {len(survivors)} survivors again with the current tests", flush=True)
            if survivors:
                refresh_tests(work)
                write_config(module, work)
                with open(work / "mutmut.log", "ab") as log:
                    code = run_mutmut(module, work, args.jobs, log, survivors)
                    # mutmut drops every cached verdict when the test selection changes (a test file added to the
                    # module), so the mutants killed before are run again too, against the new selection.
                    reset = unchecked(module, work) if code == 0 else []
                    if reset:
                        print(f"mutation: {module['name']}: the test list changed, so {len(reset)} more mutants "
                              "run again", flush=True)
                        code = run_mutmut(module, work, args.jobs, log, reset)
                if code != 0:
                    print(f"mutation: mutmut failed for {module['name']} (exit {code}); see {work / 'mutmut.log'}")
                    return 2
        elif not args.report_only:
            started = time.monotonic()
            print(f"mutation: {module['name']} ({module['path']}) against {' '.join(module['tests'])}", flush=True)
            prepare(module, work)
            work.mkdir(parents=True, exist_ok=True)
            with open(work / "mutmut.log", "wb") as log:
                code = run_mutmut(module, work, args.jobs, log)
            if code != 0:
                print(f"mutation: mutmut failed for {module['name']} (exit {code}); see {work / 'mutmut.log'}")
                return 2
            print(f"mutation: {module['name']} ran in {time.monotonic() - started:.0f} s", flush=True)
        results.append(collect(module, work, equivalents))
    if args.only:
        results = carry_over(results, load_modules(args.config), args.out / "summary.json")
    write_report(results, args.out, equivalents)
    for r in results:
        verdict = ("ok" if r["meets_floor"] else "BELOW FLOOR") + (" (previous run)" if r.get("carried_over") else "")
        print(f"{r['name']:<14} {r['score']:5.1f}% (floor {r['floor']}%)  killed {r['killed']}/{r['counted']}, "
              f"message-only {r['message_only']}, equivalent {r['equivalent']}  {verdict}")
    print(f"mutation: report in {args.out / 'REPORT.md'}")
    return 0 if all(r["meets_floor"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
