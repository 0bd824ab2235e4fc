"""Load and check a certification standard file (courses/<program>/standard.yaml).

Checking runs in four passes, and every problem is reported as ``path:line: message`` so an admin can go
straight to the offending line:

1. YAML syntax (the parser's own line), plus duplicate mapping keys, which PyYAML would otherwise drop silently.
2. The JSON Schema in ``schema.json`` (draft 2020-12), every error, mapped back from the instance path to the
   line of the key or value at fault.
3. Cross-references the schema cannot express: unique ids, competencies and endorsements that exist and are
   used, enforced jurisdiction rules that have a requirement, module ids of the program.
4. Basis comments: every number must carry ``# [S] <source>`` or ``# [A] assumption`` on its line (or on a
   comment line just above it), because the standard is only as trustworthy as the reason for each number.

The module is pure: no Flask, no database. Dates in the returned dict are ISO strings (``"2026-11-01"``), so the
dict is plain JSON and :func:`standard_digest` is stable whether a date was quoted in the file or not.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, ValidationError

SCHEMA_PATH = Path(__file__).with_name("schema.json")

# The scope every endorsement builds on; eligibility needs it to name something.
CERTIFICATE_SCOPE = "certificate"
# The endorsement a decision always needs ("eligible" means certificate + extraoral).
BASE_ENDORSEMENT = "extraoral"

# A basis tag as DOMAIN.md writes them: [S], [A], [V] or combined like [S/V].
_BASIS_TAG = re.compile(r"\[(?:S|A|V)(?:/(?:S|A|V))*\]")
_NUMBER_TAGS = frozenset({"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"})

InstancePath = tuple[str | int, ...]


@dataclass(frozen=True)
class StandardError:
    """One problem in a standard file, printed the way compilers and linters print them."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class InvalidStandard(ValueError):
    """Raised by :func:`load_standard` when a standard file has errors; ``errors`` holds them all."""

    def __init__(self, errors: list[StandardError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


# --------------------------------------------------------------------------------------------------------------
# Public API


def load_standard_text(
    text: str, path: str, module_ids: set[str] | None = None, *, require_basis: bool = True
) -> tuple[dict | None, list[StandardError]]:
    """Parse and check the text of a standard file.

    ``path`` is only used in the messages. ``module_ids`` are the program's module ids (e.g. ``{"M1", ...}``);
    when given, ``modules_completed`` requirements may only name those. ``require_basis`` turns the
    basis-comment check off for small hand-written snippets.

    Returns ``(standard, errors)``. ``standard`` is the parsed dict (dates as ISO strings) only when there are
    no errors; otherwise it is ``None`` so an invalid standard can never be used by accident. Errors are sorted
    by line.
    """
    try:
        node, raw = _compose_and_construct(text)
    except yaml.MarkedYAMLError as exc:
        return None, [StandardError(path, *_yaml_error(exc))]
    except yaml.YAMLError as exc:  # errors without a position are rare (e.g. a reader error); report line 1
        return None, [StandardError(path, 1, f"YAML error: {exc}")]
    if node is None:
        return None, [StandardError(path, 1, "the file is empty; expected a mapping (id, version, requirements ...)")]

    lines = _LineMap(node)
    data = _to_json(raw)
    found: list[tuple[int, str]] = list(lines.duplicate_keys)
    found += [(lines.line_for_error(err), _format_error(err, data)) for err in _validator().iter_errors(data)]
    if isinstance(data, dict):
        found += _semantic_errors(data, lines, module_ids)
    if require_basis:
        # A line that is already wrong (say `version: 0.1`) needs fixing, not a basis comment.
        taken = {line for line, _ in found}
        found += [(line, msg) for line, msg in _basis_comment_errors(node, text) if line not in taken]

    # Two schema branches can report the same fact (e.g. `params` is not a mapping); say it once. The sort is
    # stable, so errors on one line keep the order they were found in (e.g. list items in order).
    unique = dict.fromkeys(found)
    errors = [StandardError(path, line, message) for line, message in sorted(unique, key=lambda e: e[0])]
    return (data if not errors else None), errors


def check_standard_file(
    path: str | Path, module_ids: set[str] | None = None, *, require_basis: bool = True
) -> tuple[dict | None, list[StandardError]]:
    """Read a standard file from disk and check it; see :func:`load_standard_text`."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [StandardError(str(path), 1, f"cannot read the file: {exc}")]
    return load_standard_text(text, str(path), module_ids, require_basis=require_basis)


def load_standard(path: str | Path, module_ids: set[str] | None = None) -> dict:
    """Return the checked standard at ``path`` or raise :class:`InvalidStandard` listing every error."""
    standard, errors = check_standard_file(path, module_ids)
    if errors or standard is None:
        raise InvalidStandard(errors)
    return standard


def summarize(standard: dict) -> str:
    """Describe a (valid) standard in a few lines: id, version, requirement counts by scope, and so on."""
    requirements = standard.get("requirements", [])
    by_scope: dict[str, int] = {}
    for req in requirements:
        by_scope[req.get("scope", "?")] = by_scope.get(req.get("scope", "?"), 0) + 1
    scopes = ", ".join(f"{scope} {n}" for scope, n in by_scope.items())
    competencies = standard.get("competencies", [])
    criteria = [c for comp in competencies for c in comp.get("criteria", [])]
    critical = sum(1 for c in criteria if c.get("critical"))
    endorsements = []
    for end in standard.get("endorsements", []):
        needs = end.get("requires_endorsements") or []
        endorsements.append(end["id"] + (f" (requires {', '.join(needs)})" if needs else ""))
    enforced = standard.get("jurisdiction_rules_enforced") or []
    renewal = standard.get("renewal", {})
    exam, osce = standard.get("exam") or {}, standard.get("osce") or {}
    summative = []
    if exam:
        summative.append(f"written exam: {exam.get('total_items')} items in {len(exam.get('domains') or [])} domains, "
                         f"{exam.get('time_limit_minutes')} minutes, pass mark {exam.get('pass_mark_percent')}%, "
                         f"at most {exam.get('max_attempts')} sittings")
    if osce:
        stations = [str(s.get("id")) for s in osce.get("stations") or []]
        summative.append(f"OSCE: {len(stations)} stations ({', '.join(stations)}), "
                         f"{osce.get('stations_to_pass')} to pass")
    return "\n".join(
        [
            f"{standard.get('title', '')} [{standard.get('id')} {standard.get('version')}]",
            f"program {standard.get('program')}, effective {standard.get('effective_from')}, "
            f"last verified {standard.get('last_verified')}",
            f"requirements: {len(requirements)} ({scopes})",
            f"competencies: {len(competencies)} ({len(criteria)} criteria, {critical} critical)",
            f"endorsements: {', '.join(endorsements) or 'none'}",
            f"jurisdiction rules enforced: {', '.join(enforced) or 'none'}",
            f"validity: {standard.get('validity', {}).get('months')} months; renewal "
            f"{renewal.get('ce_hours')} CE h per {renewal.get('cycle_months')} months, "
            f"{renewal.get('grace_days')} days grace",
            *summative,
        ]
    )


def standard_digest(standard: dict) -> str:
    """Return the SHA-256 (hex) of the standard as canonical JSON (sorted keys, no spaces).

    Comments and layout do not count; any change of content does, so a changed file can be detected and
    given a new version.
    """
    canonical = json.dumps(_to_json(standard), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m lms.standards FILE...``; prints errors, or a digest and summary per file."""
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python -m lms.standards courses/<program>/standard.yaml ...", file=sys.stderr)
        return 2
    status = 0
    for arg in args:
        standard, errors = check_standard_file(arg)
        for err in errors:
            print(err)
        if errors:
            status = 1
        elif standard is not None:
            print(f"{arg}: OK  sha256 {standard_digest(standard)}")
            print(summarize(standard))
    return status


# --------------------------------------------------------------------------------------------------------------
# YAML: parse once into a node tree (for lines) and construct the data from the same tree.


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps timestamps as their text.

    The standard wants ISO date strings anyway, and an impossible date such as 2026-13-01 then reaches the
    schema (which names the key and line) instead of crashing PyYAML's date constructor.
    """


_Loader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_scalar)


def _compose_and_construct(text: str) -> tuple[yaml.Node | None, Any]:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return node, data


def _yaml_error(exc: yaml.MarkedYAMLError) -> tuple[int, str]:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else 1
    parts = [p for p in (exc.context, exc.problem) if p]
    where = ""
    starts, found_at = exc.context_mark, exc.problem_mark
    if exc.context and starts is not None and found_at is not None and starts.line != found_at.line:
        where = f" (the enclosing block starts on line {starts.line + 1})"
    hint = ""
    if exc.problem and ("expected <block end>" in exc.problem or "mapping values are not allowed" in exc.problem):
        hint = "; check the indentation of this line"
    return line, f"YAML syntax error: {', '.join(parts) or exc}{where}{hint}"


def _to_json(value: Any) -> Any:
    """Make YAML data JSON-shaped: ISO date strings, string keys."""
    if isinstance(value, dict):
        return {_key(k): _to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_json(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _key(key: Any) -> str:
    # YAML 1.1 turns keys like `on:` or `1:` into bools/ints; as strings the schema reports them as unknown keys.
    return key if isinstance(key, str) else str(_to_json(key))


def _node_key(key_node: yaml.Node) -> str:
    if key_node.tag == "tag:yaml.org,2002:str" or not isinstance(key_node, yaml.ScalarNode):
        return str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "<complex key>"
    return _key(yaml.safe_load(key_node.value))


class _LineMap:
    """Instance path -> line numbers, from the composed node tree (1-based lines)."""

    def __init__(self, root: yaml.Node):
        self.root_line = root.start_mark.line + 1
        self.key_lines: dict[InstancePath, int] = {(): self.root_line}
        self.value_lines: dict[InstancePath, int] = {(): self.root_line}
        self.duplicate_keys: list[tuple[int, str]] = []
        self._walk(root, ())

    def _walk(self, node: yaml.Node, path: InstancePath, seen: set[int] | None = None) -> None:
        seen = seen if seen is not None else set()
        if id(node) in seen:  # aliases can make the tree a graph; each node is walked once per branch
            return
        seen = seen | {id(node)}
        if isinstance(node, yaml.MappingNode):
            first_line: dict[str, int] = {}
            for key_node, value_node in node.value:
                key = _node_key(key_node)
                line = key_node.start_mark.line + 1
                if key in first_line and key != "<<":
                    self.duplicate_keys.append(
                        (line, f"duplicate key '{key}' (first on line {first_line[key]}); YAML keeps only the last one")
                    )
                    continue
                first_line[key] = line
                child = (*path, key)
                self.key_lines[child] = line
                self.value_lines[child] = value_node.start_mark.line + 1
                self._walk(value_node, child, seen)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                child = (*path, index)
                self.key_lines[child] = self.value_lines[child] = item.start_mark.line + 1
                self._walk(item, child, seen)

    def _nearest(self, table: dict[InstancePath, int], path: InstancePath) -> int:
        # Merged keys (<<) and defaults have no node of their own: fall back to the closest ancestor.
        for end in range(len(path), -1, -1):
            if path[:end] in table:
                return table[path[:end]]
        return self.root_line

    def key_line(self, path: Iterable[str | int]) -> int:
        """Line where the value at ``path`` is introduced (its key, or its `- ` item)."""
        return self._nearest(self.key_lines, tuple(path))

    def value_line(self, path: Iterable[str | int]) -> int:
        """Line of the value itself (differs from key_line for block values on the next line)."""
        return self._nearest(self.value_lines, tuple(path))

    def line_for_error(self, error: ValidationError) -> int:
        path = tuple(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            extras = _extra_keys(error)
            if extras:
                return self.key_line((*path, extras[0]))
        if isinstance(error.instance, dict | list):
            # A mapping or list as a whole is at fault (missing key, too few items): point at where it starts.
            return self.key_line(path)
        return self.value_line(path)


# --------------------------------------------------------------------------------------------------------------
# Schema errors in words


@functools.cache
def _validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _extra_keys(error: ValidationError) -> list[str]:
    allowed = set(error.schema.get("properties", {})) if isinstance(error.schema, dict) else set()
    return [k for k in error.instance if k not in allowed]


def _where(path: Iterable[str | int], data: Any) -> str:
    """Readable location, naming list items by their id: ``requirements[C5].params.competency``."""
    out = ""
    node = data
    for part in path:
        if isinstance(part, int):
            item = node[part] if isinstance(node, list) and part < len(node) else None
            label = item.get("id") if isinstance(item, dict) else None
            out += f"[{label}]" if isinstance(label, str) and label else f"[{part}]"
            node = item
        else:
            out += f".{part}" if out else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out or "top level"


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "empty (null)" if value is None else type(value).__name__


_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
}
_PATTERN_WORDS = {
    "^[0-9]+\\.[0-9]+\\.[0-9]+$": 'a quoted version like "1.2.0"',
    "^[a-z0-9][a-z0-9_-]*$": "lower-case letters, digits, '-' or '_'",
    "^[A-Za-z][A-Za-z0-9_.-]*$": "a letter followed by letters, digits, '.', '-' or '_'",
    "^https?://": "an http(s) address",
}


def _suggest(word: str, options: Iterable[str]) -> str:
    match = difflib.get_close_matches(str(word), [str(o) for o in options], n=1, cutoff=0.6)
    return f"; did you mean '{match[0]}'?" if match else ""


def _format_error(error: ValidationError, data: Any) -> str:
    path = list(error.absolute_path)
    where = _where(path, data)
    value = error.instance
    kind = error.validator
    arg = error.validator_value

    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"{where}: missing required key '{missing}'"
    if kind == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {})) if isinstance(error.schema, dict) else []
        extras = _extra_keys(error)
        if not allowed:
            return f"{where}: this rule type takes no parameters, but got {', '.join(map(repr, extras))}"
        first = extras[0] if extras else "?"
        more = f" (also {', '.join(repr(e) for e in extras[1:])})" if len(extras) > 1 else ""
        hint = _suggest(first, allowed) or f"; allowed keys: {', '.join(allowed)}"
        return f"{where}: unknown key '{first}'{more}{hint}"
    if kind == "enum":
        options = list(arg)
        if path and path[-1] == "type" and len(path) == 3 and path[0] == "requirements":
            return f"{where}: unknown rule type {value!r}{_suggest(value, options)} (registered: {', '.join(options)})"
        return f"{where}: {value!r} is not one of: {', '.join(map(str, options))}{_suggest(value, options)}"
    if kind == "type":
        expected = " or ".join(_TYPE_WORDS.get(t, t) for t in ([arg] if isinstance(arg, str) else arg))
        return f"{where}: expected {expected}, got {_json_type(value)} ({value!r})"
    if kind == "minimum":
        return f"{where}: {value!r} is below the minimum of {arg}"
    if kind == "maximum":
        return f"{where}: {value!r} is above the maximum of {arg}"
    if kind == "exclusiveMinimum":
        return f"{where}: {value!r} must be greater than {arg}"
    if kind == "format" and arg == "date":
        return f"{where}: {value!r} is not a valid date (write it as YYYY-MM-DD)"
    if kind == "pattern":
        return f"{where}: {value!r} is not {_PATTERN_WORDS.get(arg, f'of the form {arg}')}"
    if kind == "minItems":
        return f"{where}: needs at least {arg} item{'s' if arg != 1 else ''}"
    if kind == "minLength":
        return f"{where}: must not be empty"
    if kind == "uniqueItems":
        return f"{where}: lists the same item more than once"
    if kind in ("oneOf", "anyOf") and all(set(s) == {"required"} for s in arg):
        names = [name for s in arg for name in s["required"]]
        return f"{where}: needs exactly one of {' or '.join(repr(n) for n in names)}"
    return f"{where}: {error.message}"


# --------------------------------------------------------------------------------------------------------------
# Cross-reference checks


def _items(data: dict, key: str) -> Iterator[tuple[int, dict]]:
    seq = data.get(key)
    if isinstance(seq, list):
        for index, item in enumerate(seq):
            if isinstance(item, dict):
                yield index, item


def _duplicate_ids(
    entries: Iterable[tuple[InstancePath, Any]], what: str, lines: _LineMap
) -> Iterator[tuple[int, str]]:
    first: dict[str, int] = {}
    for path, ident in entries:
        if not isinstance(ident, str):
            continue
        line = lines.value_line(path)
        if ident in first:
            yield line, f"duplicate {what} id '{ident}' (first defined on line {first[ident]})"
        else:
            first[ident] = line


def _semantic_errors(data: dict, lines: _LineMap, module_ids: set[str] | None) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    reqs = list(_items(data, "requirements"))
    comps = list(_items(data, "competencies"))
    ends = list(_items(data, "endorsements"))

    out += _duplicate_ids([(("requirements", i, "id"), r.get("id")) for i, r in reqs], "requirement", lines)
    out += _duplicate_ids([(("competencies", i, "id"), c.get("id")) for i, c in comps], "competency", lines)
    out += _duplicate_ids([(("endorsements", i, "id"), e.get("id")) for i, e in ends], "endorsement", lines)
    out += _duplicate_ids([(("sources", i, "id"), s.get("id")) for i, s in _items(data, "sources")], "source", lines)
    out += _duplicate_ids(
        (
            (("competencies", i, "criteria", j, "id"), crit.get("id"))
            for i, comp in comps
            for j, crit in enumerate(comp.get("criteria") or [])
            if isinstance(crit, dict)
        ),
        "criterion",
        lines,
    )

    # Competencies: each one referenced, referenced ones defined, counts that can be satisfied.
    comp_ids = {c["id"] for _, c in comps if isinstance(c.get("id"), str)}
    used: set[str] = set()
    for i, req in reqs:
        params = req.get("params")
        if req.get("type") not in ("competency", "assessor_qualification") or not isinstance(params, dict):
            continue
        ref = params.get("competency")
        if not isinstance(ref, str):
            continue
        used.add(ref)
        if ref not in comp_ids:
            out.append(
                (
                    lines.value_line(("requirements", i, "params", "competency")),
                    f"requirements[{req.get('id')}]: competency '{ref}' is not defined under competencies"
                    f"{_suggest(ref, comp_ids)} (defined: {', '.join(_natural(comp_ids)) or 'none'})",
                )
            )
    for i, comp in comps:
        cid = comp.get("id")
        if isinstance(cid, str) and cid not in used:
            out.append(
                (
                    lines.value_line(("competencies", i, "id")),
                    f"competency '{cid}' is defined but no `competency` requirement uses it, so it would never be "
                    f"checked; add a requirement with params: {{competency: {cid}}}",
                )
            )
        observations = comp.get("observations")
        if isinstance(observations, int):
            for field in ("min_assessors", "min_cases"):
                needed = comp.get(field)
                if isinstance(needed, int) and needed > observations:
                    out.append(
                        (
                            lines.value_line(("competencies", i, field)),
                            f"competencies[{cid}]: {field} ({needed}) cannot exceed observations ({observations}); "
                            f"it could never be met",
                        )
                    )

    # Endorsements: the base one exists, prerequisites exist and do not loop.
    end_ids = {e["id"] for _, e in ends if isinstance(e.get("id"), str)}
    if isinstance(data.get("endorsements"), list) and BASE_ENDORSEMENT not in end_ids:
        out.append(
            (
                lines.key_line(("endorsements",)),
                f"endorsements must define '{BASE_ENDORSEMENT}': a trainee is eligible only when the "
                f"{BASE_ENDORSEMENT} endorsement qualifies",
            )
        )
    graph: dict[str, list[str]] = {}
    for i, end in ends:
        eid = end.get("id")
        needs = end.get("requires_endorsements")
        if not isinstance(needs, list):
            continue
        for j, need in enumerate(needs):
            if not isinstance(need, str):
                continue
            line = lines.value_line(("endorsements", i, "requires_endorsements", j))
            if need == eid:
                out.append((line, f"endorsements[{eid}]: an endorsement cannot require itself"))
            elif need not in end_ids:
                out.append(
                    (
                        line,
                        f"endorsements[{eid}]: requires endorsement '{need}', which is not defined"
                        f"{_suggest(need, end_ids)}",
                    )
                )
            elif isinstance(eid, str):
                graph.setdefault(eid, []).append(need)
    for i, end in ends:
        eid = end.get("id")
        if isinstance(eid, str) and _in_cycle(eid, graph):
            out.append(
                (lines.value_line(("endorsements", i, "id")), f"endorsement '{eid}' requires itself through a loop")
            )

    # Requirement scopes and parameters that point elsewhere in the file (or at the program).
    valid_scopes = {CERTIFICATE_SCOPE} | end_ids
    enforced = data.get("jurisdiction_rules_enforced")
    enforced_ids = {r for r in enforced if isinstance(r, str)} if isinstance(enforced, list) else set()
    rule_ids: set[str] = set()
    for i, req in reqs:
        rid = req.get("id")
        scope = req.get("scope")
        if isinstance(scope, str) and scope not in valid_scopes:
            out.append(
                (
                    lines.value_line(("requirements", i, "scope")),
                    f"requirements[{rid}]: scope '{scope}' is neither '{CERTIFICATE_SCOPE}' nor a defined "
                    f"endorsement (defined: {', '.join(sorted(end_ids)) or 'none'})",
                )
            )
        params = req.get("params") if isinstance(req.get("params"), dict) else {}
        if req.get("type") == "jurisdiction_rule" and isinstance(params.get("rule"), str):
            rule_ids.add(params["rule"])
            if params["rule"] in enforced_ids and req.get("required") is False:
                out.append(
                    (
                        lines.value_line(("requirements", i, "required")),
                        f"requirements[{rid}]: rule '{params['rule']}' is listed in jurisdiction_rules_enforced "
                        f"but the requirement says required: false",
                    )
                )
        if req.get("type") == "modules_completed" and module_ids is not None:
            modules = params.get("modules")
            for j, module in enumerate(modules if isinstance(modules, list) else []):
                if isinstance(module, str) and module not in module_ids:
                    out.append(
                        (
                            lines.value_line(("requirements", i, "params", "modules", j)),
                            f"requirements[{rid}]: module '{module}' is not a module of the program"
                            f"{_suggest(module, module_ids)} (modules: {', '.join(_natural(module_ids))})",
                        )
                    )
    if isinstance(enforced, list):
        for j, rule in enumerate(enforced):
            if isinstance(rule, str) and rule not in rule_ids:
                out.append(
                    (
                        lines.value_line(("jurisdiction_rules_enforced", j)),
                        f"jurisdiction_rules_enforced: rule '{rule}' has no jurisdiction_rule requirement"
                        f"{_suggest(rule, rule_ids)}; add one with params: {{rule: {rule}}}",
                    )
                )

    # Renewal sub-minimums must fit inside the total.
    renewal = data.get("renewal")
    if isinstance(renewal, dict) and isinstance(renewal.get("sub_minimums"), dict):
        subs = [v for v in renewal["sub_minimums"].values() if isinstance(v, int | float) and not isinstance(v, bool)]
        total = renewal.get("ce_hours")
        if isinstance(total, int | float) and sum(subs) > total:
            out.append(
                (
                    lines.key_line(("renewal", "sub_minimums")),
                    f"renewal.sub_minimums add up to {sum(subs)} h, more than ce_hours ({total})",
                )
            )
    out += _summative_errors(data, lines, module_ids, comp_ids, reqs)
    out += _french_title_errors(data, lines)
    return out


def _french_title_errors(data: dict, lines: _LineMap) -> list[tuple[int, str]]:
    """French titles are optional, but a list that has some has them all: a French page never mixes languages in
    one table without saying so."""
    out: list[tuple[int, str]] = []
    osce = data.get("osce") if isinstance(data.get("osce"), dict) else {}
    lists = [(("requirements",), "requirements", list(_items(data, "requirements"))),
             (("competencies",), "competencies", list(_items(data, "competencies"))),
             (("osce", "stations"), "osce.stations", list(_items(osce, "stations")))]
    for path, name, entries in lists:
        given = [e.get("id") for _, e in entries if e.get("title_fr")]
        if not given:
            continue
        for i, entry in entries:
            if not entry.get("title_fr"):
                out.append((lines.value_line((*path, i, "id")),
                            f"{name}[{entry.get('id')}]: title_fr is missing; once one entry has a French title "
                            f"(here {', '.join(str(g) for g in given[:3])}), every entry of {name} needs one"))
    return out


def _summative_errors(
    data: dict, lines: _LineMap, module_ids: set[str] | None, comp_ids: set[str], reqs: list[tuple[int, dict]]
) -> list[tuple[int, str]]:
    """The exam blueprint adds up, the OSCE pass rules can be met, and both exist where a requirement uses them."""
    out: list[tuple[int, str]] = []
    for i, req in reqs:
        section = {"written_exam": "exam", "osce": "osce"}.get(str(req.get("type")))
        if section and not isinstance(data.get(section), dict):
            out.append((lines.value_line(("requirements", i, "type")),
                        f"requirements[{req.get('id')}]: a {req.get('type')} requirement needs an `{section}` "
                        "section in the standard"))
    exam = data.get("exam")
    if isinstance(exam, dict) and isinstance(exam.get("domains"), list):
        domains = [(j, d) for j, d in enumerate(exam["domains"]) if isinstance(d, dict)]
        out += _duplicate_ids([(("exam", "domains", j, "id"), d.get("id")) for j, d in domains], "exam domain", lines)
        total = sum(d["items"] for _, d in domains if isinstance(d.get("items"), int))
        if isinstance(exam.get("total_items"), int) and total != exam["total_items"]:
            out.append((lines.value_line(("exam", "total_items")),
                        f"exam.total_items is {exam['total_items']} but the domains add up to {total} items"))
        for j, d in domains:
            mods = d.get("modules") if isinstance(d.get("modules"), list) else []
            for k, m in enumerate(mods):
                if module_ids is not None and isinstance(m, str) and m not in module_ids:
                    out.append((lines.value_line(("exam", "domains", j, "modules", k)),
                                f"exam.domains[{d.get('id')}]: module '{m}' is not a module of the program"
                                f"{_suggest(m, module_ids)}"))
    osce = data.get("osce")
    if isinstance(osce, dict) and isinstance(osce.get("stations"), list):
        stations = [(j, s) for j, s in enumerate(osce["stations"]) if isinstance(s, dict)]
        out += _duplicate_ids([(("osce", "stations", j, "id"), s.get("id")) for j, s in stations], "OSCE station",
                              lines)
        need = osce.get("stations_to_pass")
        if isinstance(need, int) and need > len(stations):
            out.append((lines.value_line(("osce", "stations_to_pass")),
                        f"osce.stations_to_pass ({need}) is more than the {len(stations)} stations; "
                        "it could never be met"))
        scale = osce.get("global_rating_scale")
        values = {r.get("value") for r in scale if isinstance(r, dict)} if isinstance(scale, list) else set()
        for j, s in stations:
            for k, c in enumerate(s.get("competencies") if isinstance(s.get("competencies"), list) else []):
                if isinstance(c, str) and c not in comp_ids:
                    out.append((lines.value_line(("osce", "stations", j, "competencies", k)),
                                f"osce.stations[{s.get('id')}]: competency '{c}' is not defined under competencies"))
            rule = s.get("pass_rule")
            if isinstance(rule, dict) and isinstance(rule.get("min_global_rating"), int) and values \
                    and rule["min_global_rating"] not in values:
                out.append((lines.value_line(("osce", "stations", j, "pass_rule", "min_global_rating")),
                            f"osce.stations[{s.get('id')}]: min_global_rating {rule['min_global_rating']} is not a "
                            f"value of the global rating scale ({', '.join(str(v) for v in sorted(values))})"))
            checklist = [c for c in s.get("checklist") or [] if isinstance(c, dict)]
            out += _duplicate_ids([(("osce", "stations", j, "checklist", k, "id"), c.get("id"))
                                   for k, c in enumerate(checklist)], "checklist item", lines)
    renewal = data.get("renewal") if isinstance(data.get("renewal"), dict) else {}
    reob = renewal.get("reobservation")
    if isinstance(reob, dict) and isinstance(reob.get("competency"), str) and reob["competency"] not in comp_ids:
        out.append((lines.value_line(("renewal", "reobservation", "competency")),
                    f"renewal.reobservation: competency '{reob['competency']}' is not defined under competencies"))
    lapse = renewal.get("lapse_reassessment")
    if isinstance(lapse, dict) and isinstance(lapse.get("competencies"), list):
        for k, c in enumerate(lapse["competencies"]):
            if isinstance(c, str) and c not in comp_ids:
                out.append((lines.value_line(("renewal", "lapse_reassessment", "competencies", k)),
                            f"renewal.lapse_reassessment: competency '{c}' is not defined under competencies"))
    return out


def _in_cycle(start: str, graph: dict[str, list[str]]) -> bool:
    stack, seen = list(graph.get(start, [])), set()
    while stack:
        node = stack.pop()
        if node == start:
            return True
        if node not in seen:
            seen.add(node)
            stack.extend(graph.get(node, []))
    return False


def _natural(ids: Iterable[str]) -> list[str]:
    """Sort ids like M2 < M10."""
    return sorted(ids, key=lambda s: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)])


# --------------------------------------------------------------------------------------------------------------
# Basis comments


def _basis_comment_errors(root: yaml.Node, text: str) -> list[tuple[int, str]]:
    source_lines = text.splitlines()
    flagged: dict[int, str] = {}
    for node in _scalars(root):
        if node.tag not in _NUMBER_TAGS:
            continue
        row = node.start_mark.line
        if row in flagged or _has_basis(source_lines, row, node.end_mark.column):
            continue
        flagged[row] = (
            f"the number {node.value} has no basis comment; add '# [S] <source>' or '# [A] assumption' on this line"
        )
    return [(row + 1, message) for row, message in flagged.items()]


def _scalars(node: yaml.Node, seen: set[int] | None = None) -> Iterator[yaml.ScalarNode]:
    seen = set() if seen is None else seen
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.ScalarNode):
        yield node
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _scalars(item, seen)
    elif isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            yield from _scalars(key_node, seen)
            yield from _scalars(value_node, seen)


def _has_basis(source_lines: list[str], row: int, column: int) -> bool:
    if row < len(source_lines) and _BASIS_TAG.search(_comment_of(source_lines[row][column:])):
        return True
    # A full-line comment directly above also counts (e.g. one note for a short group of numbers).
    above = source_lines[row - 1].strip() if 0 < row <= len(source_lines) else ""
    return above.startswith("#") and bool(_BASIS_TAG.search(above))


def _comment_of(rest: str) -> str:
    # A YAML comment starts with '#' at the start or after whitespace; the rest of the line after the number
    # holds at most closing brackets, more plain values and the comment.
    match = re.search(r"(?:^|\s)#(.*)$", rest)
    return match.group(1) if match else ""
