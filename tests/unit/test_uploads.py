"""Evidence uploads: type sniffing, size limits, generated names and safe paths (lms.core.uploads, no Flask)."""

from __future__ import annotations

import hashlib
import io
import re

import pytest

from lms.core.uploads import (
    ALLOWED,
    UploadError,
    download_name,
    safe_original_name,
    sniff,
    store_upload,
    upload_dir,
    upload_path,
)

FIVE_MB = 5 * 1024 * 1024
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 20
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20


def _files(instance) -> list[str]:
    d = instance / "uploads"
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


# --- sniff -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (PDF, "application/pdf"),
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (b"\xff\xd8\xff\xdb" + b"\x00" * 8, "image/jpeg"),  # a quantisation-table start is JPEG too
        (b"", None),
        (b"%PDF", None),  # the header needs its dash
        (b" %PDF-1.4", None),  # a PDF must start at byte 0 here
        (b"\x89PNG\r\n", None),  # a truncated PNG signature
        (b"\x89PNG\n\r\x1a\n", None),  # line endings swapped, as a text-mode transfer would
        (b"\xff\xd8", None),
        (b"GIF89a\x01\x00", None),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
        (b"<html><script>alert(1)</script></html>", None),
        (b"PK\x03\x04", None),  # a zip (docx and friends)
        (b"plain text that mentions %PDF- later", None),
    ],
)
def test_sniff_reads_the_leading_bytes(data, expected):
    assert sniff(data) == expected


def test_every_sniffed_type_has_an_extension():
    assert {sniff(PDF), sniff(PNG), sniff(JPEG)} == set(ALLOWED)


# --- store_upload ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("data", "content_type", "suffix"), [(PDF, "application/pdf", ".pdf"),
                                                              (PNG, "image/png", ".png"),
                                                              (JPEG, "image/jpeg", ".jpg")])
def test_store_upload_writes_the_bytes_under_a_generated_name(tmp_path, data, content_type, suffix):
    stored = store_upload(io.BytesIO(data), "My Certificate.pdf", tmp_path, FIVE_MB)
    assert stored.content_type == content_type
    assert re.fullmatch(r"[0-9a-f]{32}" + re.escape(suffix), stored.stored_name)
    assert stored.original_name == "My Certificate.pdf"
    assert stored.size_bytes == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert (tmp_path / "uploads" / stored.stored_name).read_bytes() == data
    assert _files(tmp_path) == [stored.stored_name]  # the temporary .part file is gone


def test_store_upload_names_are_unique(tmp_path):
    names = {store_upload(io.BytesIO(PDF), "same.pdf", tmp_path, FIVE_MB).stored_name for _ in range(20)}
    assert len(names) == 20
    assert len(_files(tmp_path)) == 20


def test_empty_file_is_refused_and_nothing_written(tmp_path):
    with pytest.raises(UploadError, match="The file is empty"):
        store_upload(io.BytesIO(b""), "empty.pdf", tmp_path, FIVE_MB)
    assert _files(tmp_path) == []


def test_exactly_5_mb_is_accepted(tmp_path):
    data = b"%PDF-" + b"x" * (FIVE_MB - 5)
    assert len(data) == FIVE_MB
    stored = store_upload(io.BytesIO(data), "limit.pdf", tmp_path, FIVE_MB)
    assert stored.size_bytes == FIVE_MB
    assert (tmp_path / "uploads" / stored.stored_name).stat().st_size == FIVE_MB


def test_one_byte_over_5_mb_is_refused_and_nothing_written(tmp_path):
    data = b"%PDF-" + b"x" * (FIVE_MB - 4)
    assert len(data) == FIVE_MB + 1
    with pytest.raises(UploadError, match="larger than 5 MB"):
        store_upload(io.BytesIO(data), "big.pdf", tmp_path, FIVE_MB)
    assert _files(tmp_path) == []


class _EndlessPdf(io.RawIOBase):
    """A never-ending upload that records how much was asked of it."""

    def __init__(self):
        self.served = 0

    def readable(self):
        return True

    def readinto(self, buf):
        chunk = (b"%PDF-" if self.served == 0 else b"") + b"0" * len(buf)
        chunk = chunk[: len(buf)]
        buf[: len(chunk)] = chunk
        self.served += len(chunk)
        return len(chunk)


def test_oversized_stream_is_not_read_past_the_limit(tmp_path):
    stream = io.BufferedReader(_EndlessPdf())
    with pytest.raises(UploadError, match="larger than"):
        store_upload(stream, "endless.pdf", tmp_path, FIVE_MB)
    # At most the limit, one byte more and one read buffer: never the whole (endless) stream.
    assert stream.raw.served <= FIVE_MB + 1 + io.DEFAULT_BUFFER_SIZE
    assert _files(tmp_path) == []


@pytest.mark.parametrize("data", [b"hello, this is text\n", b"GIF89a" + b"\x00" * 10, b"\x00" * 64])
def test_other_content_is_refused_whatever_its_name(tmp_path, data):
    with pytest.raises(UploadError, match="Only PDF, PNG or JPEG"):
        store_upload(io.BytesIO(data), "certificate.pdf", tmp_path, FIVE_MB)
    assert _files(tmp_path) == []


def test_content_wins_over_the_name(tmp_path):
    stored = store_upload(io.BytesIO(PNG), "certificate.pdf", tmp_path, FIVE_MB)
    assert stored.content_type == "image/png" and stored.stored_name.endswith(".png")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\Windows\\system.ini.pdf", "system.ini.pdf"),
        ("C:\\Users\\nia\\Desktop\\cert.pdf", "cert.pdf"),
        ("/absolute/path/scan.png", "scan.png"),
        ("bad\r\nname\x00.pdf", "badname.pdf"),
        ("..", "upload"),
        ("", "upload"),
        (None, "upload"),
        ("folder/", "upload"),
        ("a" * 300 + ".pdf", "a" * 200),
        ("Zertifikat Müller.pdf", "Zertifikat Müller.pdf"),
    ],
)
def test_original_names_lose_folders_and_control_characters(tmp_path, name, expected):
    assert safe_original_name(name) == expected
    stored = store_upload(io.BytesIO(PDF), name, tmp_path, FIVE_MB)
    assert stored.original_name == expected
    # Whatever the name, the file lies directly in the upload folder under its generated name.
    [on_disk] = (tmp_path / "uploads").iterdir()
    assert on_disk.name == stored.stored_name
    assert list(tmp_path.rglob("*")) == [tmp_path / "uploads", on_disk]


# --- upload_path and download_name -----------------------------------------------------------------------------------


def test_upload_path_stays_inside_the_upload_folder(tmp_path):
    stored = store_upload(io.BytesIO(PDF), "x.pdf", tmp_path, FIVE_MB)
    path = upload_path(tmp_path, stored.stored_name)
    assert path == (upload_dir(tmp_path) / stored.stored_name).resolve()
    assert path.read_bytes() == PDF


@pytest.mark.parametrize("name", ["../secret.pdf", "../../etc/passwd", "sub/x.pdf", "/etc/passwd", "..", ""])
def test_upload_path_refuses_names_that_leave_the_folder(tmp_path, name):
    with pytest.raises(UploadError):
        upload_path(tmp_path, name)


@pytest.mark.parametrize(
    ("original", "content_type", "expected"),
    [
        ("certificate.pdf", "application/pdf", "certificate.pdf"),
        ("certificate.PDF", "application/pdf", "certificate.PDF"),
        ("certificate.pdf", "image/png", "certificate.png"),
        ("photo.jpeg", "image/jpeg", "photo.jpeg"),
        ("photo.JPG", "image/jpeg", "photo.JPG"),
        ("photo.png", "image/jpeg", "photo.jpg"),
        ("certificate", "application/pdf", "certificate.pdf"),
        (".hidden", "application/pdf", ".hidden.pdf"),
        ("notes.txt", "text/plain", "notes.txt"),  # not an evidence type: left alone
    ],
)
def test_download_name_matches_the_content(original, content_type, expected):
    assert download_name(original, content_type) == expected
