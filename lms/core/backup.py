"""Backups of the embedded SQLite database with SQLite's online backup API (consistent while the app runs).

PostgreSQL deployments use ``pg_dump``/``pg_restore`` instead (see the README). Uploaded evidence files live under the
instance folder and are copied next to the database backup.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(RuntimeError):
    pass


def sqlite_path(database_uri: str) -> Path:
    url = make_url(database_uri)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise BackupError("flask backup/restore handle the SQLite database; for PostgreSQL use pg_dump and "
                          "pg_restore (see the README).")
    return Path(url.database)


def _copy_db(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(dst.name + ".part")
    if tmp.exists():
        tmp.unlink()
    with sqlite3.connect(src) as source, sqlite3.connect(tmp) as target:
        source.backup(target)
    check = sqlite3.connect(tmp)
    try:
        if check.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError(f"the copy at {tmp} failed SQLite's integrity check")
    finally:
        check.close()
    tmp.replace(dst)


def backup(database_uri: str, instance_path: Path, target: Path) -> Path:
    """Write ``target`` (the database) and ``target``.uploads/ (evidence files). Returns the database copy's path."""
    src = sqlite_path(database_uri)
    if not src.exists():
        raise BackupError(f"no database at {src}")
    target = Path(target)
    _copy_db(src, target)
    uploads = Path(instance_path) / "uploads"
    dest_uploads = target.with_name(target.name + ".uploads")
    if uploads.exists():
        shutil.copytree(uploads, dest_uploads, dirs_exist_ok=True)
    return target


def restore(database_uri: str, instance_path: Path, source: Path) -> Path:
    """Replace the database (and add back the evidence files) from a backup made by :func:`backup`."""
    source = Path(source)
    if not source.exists():
        raise BackupError(f"no backup at {source}")
    with sqlite3.connect(source) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "alembic_version" not in tables or "certificates" not in tables:
        raise BackupError(f"{source} is not an OroCert backup")
    dst = sqlite_path(database_uri)
    # Copy through SQLite's backup API into the live file (never rename over it: its WAL would be replayed on top).
    with sqlite3.connect(source) as src_conn, sqlite3.connect(dst, timeout=30) as dst_conn:
        src_conn.backup(dst_conn)
        if dst_conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError("the restored database failed SQLite's integrity check")
    uploads = source.with_name(source.name + ".uploads")
    if uploads.exists():
        shutil.copytree(uploads, Path(instance_path) / "uploads", dirs_exist_ok=True)
    return dst
