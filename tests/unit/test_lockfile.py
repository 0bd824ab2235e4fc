"""The lock files pin, with hashes, every dependency pyproject.toml names, at a version its range allows."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("check_lock", ROOT / "scripts" / "check_lock.py")
check_lock = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_lock)


def _copy(tmp_path) -> Path:
    for name in ("pyproject.toml", "requirements.lock", "requirements-test.lock"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def test_every_pyproject_dependency_is_locked_with_hashes():
    assert check_lock.problems() == []
    runtime = check_lock.pins((ROOT / "requirements.lock").read_text())
    test = check_lock.pins((ROOT / "requirements-test.lock").read_text())
    assert "flask" in runtime and "pytest" not in runtime and "pytest" in test
    assert all(hashed for _version, hashed in test.values())
    # The runtime lock is the test lock minus the test tools: the same versions in both.
    assert {name: runtime[name][0] for name in runtime} == {name: test[name][0] for name in runtime}


def test_a_dependency_added_without_relocking_is_reported(tmp_path):
    root = _copy(tmp_path)
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text().replace("dependencies = [\n", 'dependencies = [\n  "tabulate>=0.9",\n', 1)
    pyproject.write_text(text)
    assert any("tabulate>=0.9 is in pyproject.toml but not in the lock" in p for p in check_lock.problems(root))


def test_a_range_the_lock_does_not_satisfy_is_reported(tmp_path):
    root = _copy(tmp_path)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"Flask>=3.1,<3.2"', '"Flask>=9"'))
    assert any("does not satisfy pyproject.toml's Flask>=9" in p for p in check_lock.problems(root))


def test_the_check_fails_loudly_with_the_fix(tmp_path):
    root = _copy(tmp_path)
    (root / "requirements.lock").unlink()
    (root / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "check_lock.py", root / "scripts" / "check_lock.py")
    proc = subprocess.run([sys.executable, str(root / "scripts" / "check_lock.py")],  # noqa: S603
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "requirements.lock is missing" in proc.stderr and "make lock" in proc.stderr
