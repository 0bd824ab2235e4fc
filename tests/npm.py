"""Installing a test folder's npm packages once (``npm ci``), shared by the browser and interoperability tests."""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path


def npm_ci_once(folder: Path, marker: Path, what: str, unavailable: Callable[[str], None]) -> None:
    """Run ``npm ci`` in ``folder`` unless ``marker`` exists; ``unavailable`` reports why it could not be done."""
    if marker.exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        unavailable(f"npm is not installed, so {what} cannot be installed (apt-get install npm)")
    # Test workers (pytest -n) may get here together; npm ci first deletes node_modules, so only one may run it.
    lock_path = Path(tempfile.gettempdir()) / f"orocert-npm-{hashlib.sha256(bytes(folder)).hexdigest()[:12]}"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists():
            proc = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=folder,  # noqa: S603
                                  capture_output=True, text=True, timeout=300, check=False)
            if proc.returncode != 0 or not marker.exists():
                unavailable(f"npm ci in {folder} failed: {(proc.stderr or proc.stdout)[-800:]}")
