"""`make mutation` keeps working: its driver runs mutmut on the serials module and writes the summary and report;
its message-only classification and equivalent-mutant keys behave as the README says."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import mutation  # noqa: E402


def test_every_listed_module_and_test_file_exists():
    for m in mutation.load_modules():
        assert (ROOT / m["path"]).is_file(), m["path"]
        for t in m["tests"]:
            assert (ROOT / t).is_file(), t
        assert 0 < m["floor"] <= 100


@pytest.mark.parametrize("original, mutant, expected", [
    ('raise E("The date cannot be in the future.")', 'raise E("XXThe date cannot be in the future.XX")', True),
    ('raise E("The date cannot be in the future.")', "raise E(None)", True),
    ('return f"Expired on {d}."', 'return f"XXExpired on {d}.XX"', True),
    ('x = status == "verified"', 'x = status == "XXverifiedXX"', False),
    ('x = status == "verified"', 'x = status != "verified"', False),
    ('raise E("Too late.") if a > b else None', 'raise E("Too late.") if a >= b else None', False),
    ('log("hours.submit", n=1)', 'log("HOURS.SUBMIT", n=1)', False),
])
def test_message_only_classification(original, mutant, expected):
    assert mutation.message_only(original, mutant) is expected


def test_equivalent_keys_survive_renumbering():
    diff = "--- a\n+++ a\n@@ -1 +1 @@\n-    return x[0:5]\n+    return x[0:6]"
    key = mutation.stable_key("serials", "lms.certificates.serials.x__format__mutmut_6", diff)
    assert key == mutation.stable_key("serials", "lms.certificates.serials.x__format__mutmut_9", diff)
    assert key.startswith("serials:_format:")


@pytest.mark.slow
def test_smoke_run_on_the_serials_module(tmp_path):
    config = tmp_path / "modules.toml"
    config.write_text('[[module]]\nname = "serials"\npath = "lms/certificates/serials.py"\n'
                      'functions = ["x__check_char"]\ntests = ["tests/unit/test_serials.py"]\nfloor = 90\n')
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "mutation.py"), "--config", str(config),
                           "--out", str(tmp_path / "out"), "--work", str(tmp_path / "work"), "--jobs", "1"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    (serials,) = summary["modules"]
    assert serials["total"] > 10 and serials["killed"] == serials["counted"] and serials["score"] == 100.0
    assert summary["passed"] is True
    assert "| serials |" in (tmp_path / "out" / "REPORT.md").read_text()


def _result(name, score, **extra):
    return {"name": name, "path": f"lms/{name}.py", "functions": [], "tests": [f"tests/unit/test_{name}.py"],
            "floor": 85, "score": score, "counted": 10, "total": 10, "killed": int(score / 10), "timeout": 0,
            "survived": 10 - int(score / 10), "message_only": 0, "equivalent": 0, "not_run": 0,
            "meets_floor": score >= 85, "complete": True, "survivors": [], "message_only_mutants": [],
            "equivalent_mutants": [], **extra}


def test_a_run_of_some_modules_keeps_the_others_figures_from_the_previous_summary(tmp_path):
    modules = [{"name": n, "path": f"lms/{n}.py"} for n in ("gate", "ledger", "rules", "new")]
    old_gate, old_ledger = _result("gate", 100.0), _result("ledger", 60.0)
    moved = {**_result("rules", 90.0), "path": "lms/elsewhere.py"}  # a module whose file changed is not carried
    (tmp_path / "summary.json").write_text(json.dumps({"modules": [old_gate, old_ledger, moved]}))
    merged = mutation.carry_over([_result("ledger", 90.0)], modules, tmp_path / "summary.json")
    assert [(r["name"], r["score"], r.get("carried_over", False)) for r in merged] == [
        ("gate", 100.0, True), ("ledger", 90.0, False)]
    mutation.write_report(merged, tmp_path, {"gate:x:1": "unused", "ledger:y:2": "unused"})
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["passed"] is True and summary["modules"][0]["carried_over"] is True
    assert summary["stale_equivalents"] == ["ledger:y:2"]  # only a module run now is judged
    assert "Not run this time, from the previous summary: gate." in (tmp_path / "REPORT.md").read_text()
    assert mutation.carry_over([], modules, tmp_path / "missing.json") == []
