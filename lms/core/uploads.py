"""Evidence uploads: PDF, PNG or JPEG only, checked by content, stored under generated names in the instance folder."""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

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
    path = Path(instance_path) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


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
    target = upload_dir(instance_path) / stored_name
    tmp = target.with_suffix(".part")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)
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
