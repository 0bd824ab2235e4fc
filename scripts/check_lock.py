"""Fail loudly when pyproject.toml and the lock files disagree.

Every dependency named in pyproject.toml (the runtime list, and the ``test`` extra for the test lock) must be pinned
in the lock with a version its range allows, and every pin must carry hashes. Run by ``make setup`` before anything is
installed; ``make lock`` brings the locks up to date.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

try:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name
except ImportError:  # a fresh virtualenv has pip's copy of packaging only
    from pip._vendor.packaging.requirements import Requirement
    from pip._vendor.packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCKS = {"requirements.lock": (), "requirements-test.lock": ("test",)}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def pins(text: str) -> dict[str, tuple[str, bool]]:
    """name -> (version, has hashes) for each ``name==version`` line of a hashed requirements file."""
    found: dict[str, tuple[str, bool]] = {}
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = PIN.match(line)
        if not m:
            continue
        block = [line]
        for nxt in lines[i + 1:]:
            if not nxt.startswith(" "):
                break
            block.append(nxt)
        found[canonicalize_name(m.group(1))] = (m.group(2), any("--hash=sha256:" in b for b in block))
    return found


def wanted(pyproject: dict, extras: tuple[str, ...]) -> list[Requirement]:
    project = pyproject["project"]
    reqs = list(project.get("dependencies", []))
    for extra in extras:
        reqs += project.get("optional-dependencies", {}).get(extra, [])
    return [Requirement(r) for r in reqs]


def problems(root: Path = ROOT) -> list[str]:
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    out = []
    for lock, extras in LOCKS.items():
        path = root / lock
        if not path.exists():
            out.append(f"{lock} is missing")
            continue
        locked = pins(path.read_text())
        for req in wanted(pyproject, extras):
            name = canonicalize_name(req.name)
            if req.marker is not None and not req.marker.evaluate():
                continue
            if name not in locked:
                out.append(f"{lock}: {req} is in pyproject.toml but not in the lock")
                continue
            version, hashed = locked[name]
            if req.specifier and not req.specifier.contains(version, prereleases=True):
                out.append(f"{lock}: {req.name}=={version} does not satisfy pyproject.toml's {req}")
            if not hashed:
                out.append(f"{lock}: {req.name}=={version} has no hashes")
    return out


def main() -> int:
    found = problems()
    if found:
        print("The lock files do not match pyproject.toml:", file=sys.stderr)
        for p in found:
            print(f"  - {p}", file=sys.stderr)
        print("Run `make lock` and commit requirements.lock and requirements-test.lock.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
