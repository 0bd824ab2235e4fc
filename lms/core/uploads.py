"""Evidence uploads: PDF, PNG or JPEG only, checked by content, stored under generated names.

A file is *staged* when the request stores it and moved into place only after the database transaction commits
(the row that names it is then saved too). A rollback, a failed request or an error page removes the staged file, so
a rejected upload leaves nothing behind. With no application context (no transaction to wait for) the file is
written in place at once. ``flask --app lms uploads sweep`` removes staged files a crash left behind and reports
files without a row and rows without a file. The evidence store itself is lms.core.storage (local folder or S3).
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

import click
import sqlalchemy as sa
from flask import current_app, has_app_context
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from lms.core.storage import private_dir, store_for, write_private

log = logging.getLogger("lms.uploads")

ALLOWED = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
}


class UploadError(ValueError):
    pass


def sniff(data: bytes) -> str | None:
    """The content type from the file's own bytes (never from its name)."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    return None


@dataclass
class StoredUpload:
    stored_name: str
    original_name: str
    content_type: str
    size_bytes: int
    sha256: str


def upload_dir(instance_path: Path) -> Path:
    return private_dir(Path(instance_path) / "uploads")


def store_upload(stream, original_name: str, instance_path: Path, max_bytes: int) -> StoredUpload:
    """Validate and store an upload. Raises UploadError with a message a trainee can act on."""
    data = stream.read(max_bytes + 1)
    if not data:
        raise UploadError("The file is empty. Choose a PDF, PNG or JPEG file.")
    if len(data) > max_bytes:
        raise UploadError(f"The file is larger than {max_bytes // (1024 * 1024)} MB.")
    content_type = sniff(data)
    if content_type is None:
        raise UploadError("Only PDF, PNG or JPEG files are accepted, and this file's content is none of those.")
    stored_name = secrets.token_hex(16) + ALLOWED[content_type]
    if has_app_context():
        from lms.extensions import db

        store = store_for(current_app._get_current_object())
        store.stage(stored_name, data)
        db.session.info.setdefault(STAGED, []).append((store, stored_name))
    else:
        write_private(upload_dir(instance_path) / stored_name, data)
    return StoredUpload(stored_name, safe_original_name(original_name), content_type, len(data),
                        hashlib.sha256(data).hexdigest())


def safe_original_name(original_name: str | None) -> str:
    """The uploader's file name reduced to a display name: no folders, no control characters, at most 200 characters.

    It is only ever shown or offered as a download name; files on disk always get generated names.
    """
    name = os.path.basename((original_name or "").replace("\\", "/"))
    name = "".join(c for c in name if ord(c) >= 32 and ord(c) != 127).strip()
    if not name.strip("."):  # "", ".", ".." and the like name nothing
        return "upload"
    return name[:200]


def download_name(original_name: str, content_type: str) -> str:
    """The name to offer for a download: the original name, with an extension that matches the stored content.

    The type comes from the bytes, so a PNG uploaded as ``scan.pdf`` is offered as ``scan.png`` and opens in the
    right program.
    """
    wanted = ALLOWED.get(content_type)
    if wanted is None:
        return original_name
    accepted = {".jpg", ".jpeg"} if wanted == ".jpg" else {wanted}
    stem, dot, ext = original_name.rpartition(".")
    if dot and stem and f".{ext.lower()}" in accepted:
        return original_name
    return (stem if dot and stem else original_name) + wanted


def upload_path(instance_path: Path, stored_name: str) -> Path:
    base = upload_dir(instance_path).resolve()
    path = (base / stored_name).resolve()
    if path.parent != base:
        raise UploadError("invalid file name")
    return path


STAGED = "lms_staged_uploads"


def open_upload(stored_name: str) -> BinaryIO:
    """The stored evidence file for reading (FileNotFoundError or UploadError when there is none)."""
    return store_for(current_app._get_current_object()).open(stored_name)


@sa.event.listens_for(Session, "after_commit")
def _promote_staged(session) -> None:
    for store, name in session.info.pop(STAGED, []):
        try:
            store.promote(name)
        except Exception:  # noqa: BLE001 - the row is saved; `uploads sweep` reports the missing file
            log.exception("evidence file %s could not be moved into place after commit", name)


@sa.event.listens_for(Session, "after_soft_rollback")
def _discard_on_rollback(session, previous_transaction) -> None:
    if not previous_transaction.nested:  # a savepoint's rollback leaves the outer transaction's files staged
        discard_staged(session)


def discard_staged(session) -> None:
    for store, name in session.info.pop(STAGED, []):
        try:
            store.discard(name)
        except Exception:  # noqa: BLE001 - `uploads sweep` removes it later
            log.warning("staged evidence file %s could not be removed", name, exc_info=True)


@dataclass
class SweepReport:
    removed_staged: list[str]
    files_without_row: list[str]
    rows_without_file: list[str]


def sweep(store, stored_names: set[str], older_than: timedelta = timedelta(days=1), dry_run: bool = False):
    """Remove staged files older than ``older_than``; list stored files with no row and rows with no file."""
    removed = []
    for name, age in list(store.staged()):
        if age > older_than.total_seconds():
            if not dry_run:
                store.discard(name)
            removed.append(name)
    on_store = set(store.names())
    return SweepReport(sorted(removed), sorted(on_store - stored_names), sorted(stored_names - on_store))


@click.group("uploads")
def uploads_cli():
    """Evidence files."""


@uploads_cli.command("sweep")
@click.option("--older-than-hours", type=click.IntRange(min=1), default=24, show_default=True,
              help="Remove staged files older than this.")
@click.option("--dry-run", is_flag=True, help="Report only; remove nothing.")
@with_appcontext
def sweep_cmd(older_than_hours, dry_run):
    """Remove staged files a crash left behind; report files with no row and rows with no file."""
    from lms.extensions import db
    from lms.providers.models import EvidenceFile

    names = set(db.session.scalars(sa.select(EvidenceFile.stored_name)))
    db.session.rollback()
    report = sweep(store_for(current_app._get_current_object()), names, timedelta(hours=older_than_hours), dry_run)
    verb = "would remove" if dry_run else "removed"
    click.echo(f"{verb} {len(report.removed_staged)} staged file(s) older than {older_than_hours} h")
    for name in report.files_without_row:
        click.echo(f"file with no row: {name}")
    for name in report.rows_without_file:
        click.echo(f"row with no file: {name}")
    click.echo(f"{len(report.files_without_row)} file(s) with no row, "
               f"{len(report.rows_without_file)} row(s) with no file")


def init_app(app) -> None:
    """Remove files staged by a request that never committed, keep the instance folder private, add the CLI."""
    from lms.extensions import db

    @app.teardown_appcontext
    def _discard_uncommitted(_exc):
        discard_staged(db.session)

    secure_instance(app)
    app.cli.add_command(uploads_cli)


def secure_instance(app) -> None:
    """The instance folder (SQLite database, uploads, development keys) is readable by the app's user only."""
    try:
        private_dir(Path(app.config["INSTANCE_PATH"]))
        uri = app.config.get("SQLALCHEMY_DATABASE_URI", "")
        if uri.startswith("sqlite:///") and ":memory:" not in uri:
            db_file = Path(uri.removeprefix("sqlite:///"))
            if db_file.parent.exists():
                os.close(os.open(db_file, os.O_CREAT | os.O_RDWR, 0o600))  # SQLite's -wal/-shm files copy these bits
                os.chmod(db_file, 0o600)
    except OSError as exc:  # e.g. a shared volume owned by another account: run, but say so
        log.warning("could not make the instance folder private: %s", exc)
