"""Certificate PDF pipeline: rendering, the locked-down URL fetcher, PAdES signing and validation.

Everything is real: WeasyPrint renders, pyHanko signs and validates, and poppler's pdftotext/pdfinfo/pdfsig/pdfdetach
read the results. pdfsig exits 0 even on a digest mismatch, so only its output text is checked.
"""

from __future__ import annotations

import http.server
import re
import shutil
import subprocess
import threading
from datetime import UTC, date, datetime
from io import BytesIO
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from lms.certificates.rendering import DEFAULT_DESIGNS_DIR, render_certificate
from lms.certificates.signing import (
    SIGNATURE_FIELD,
    ensure_dev_signing_material,
    load_signing_material,
    sign_pdf,
    validate_pdf,
)
from lms.core.pdf import SafeURLFetcher, render_pdf, shared_font_config

POPPLER = ("pdftotext", "pdfinfo", "pdfsig", "pdfdetach")
pytestmark = pytest.mark.skipif(
    any(shutil.which(tool) is None for tool in POPPLER), reason="poppler-utils is not installed"
)

ISSUER = "OroCert Certification Board"
SIGNING_TIME = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
EXTRAORAL_SCOPE = (
    "Assessment and manual treatment of the face, jaw, neck and temporomandibular region from outside the mouth, "
    "within the holder's licensed scope."
)
INTRAORAL_SCOPE = (
    "Gloved manual treatment of the soft tissues inside the oral cavity, short of the oropharynx, where the "
    "holder's licence permits intraoral work."
)


def make_context(**overrides) -> dict:
    context = {
        "holder_name": "Amara Okafor-Lindqvist",
        "profession_label": "Licensed massage therapist",
        "license_number": "MA60712345",
        "jurisdiction_label": "Washington, United States",
        "program_title": "Orofacial Massage & Rehabilitation",
        "endorsements": [
            {"id": "extraoral", "title": "Extraoral endorsement", "scope_statement": EXTRAORAL_SCOPE},
            {"id": "intraoral", "title": "Intraoral endorsement", "scope_statement": INTRAORAL_SCOPE},
        ],
        "notices": [
            "Washington: intraoral massage also needs the intraoral endorsement on the massage licence.",
            "Ohio: treating temporomandibular joint dysfunction needs a written referral.",
        ],
        "standard_id": "OMR-C",
        "standard_version": "0.1",
        "issued_on": date(2026, 3, 14),
        "expires_on": date(2028, 3, 14),
        "serial": "OMR-2026-7K4Q-9XJD",
        "verify_url": "https://orocert.example/verify/7K4Q9XJDM2PA",
        "issuer_name": ISSUER,
    }
    context.update(overrides)
    return context


def poppler(tool: str, pdf: bytes, tmp_path: Path, *args: str) -> str:
    path = tmp_path / f"{tool}-input.pdf"
    path.write_bytes(pdf)
    # Never look at the exit code: pdfsig reports "Digest Mismatch" with status 0.
    command = [tool, *args, str(path), *(["-"] if tool == "pdftotext" else [])]
    result = subprocess.run(  # noqa: S603 - fixed poppler tool names, paths from tmp_path
        command,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result.stdout + result.stderr


def words(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def certificate_pdf() -> bytes:
    return render_certificate(make_context(), font_config=shared_font_config())


@pytest.fixture(scope="module")
def material(tmp_path_factory):
    return ensure_dev_signing_material(tmp_path_factory.mktemp("signing"), ISSUER)


@pytest.fixture(scope="module")
def signed_pdf(certificate_pdf, material) -> bytes:
    return sign_pdf(
        certificate_pdf, material, reason="Certificate issued", location="OroCert", signing_time=SIGNING_TIME
    )


# --- rendering --------------------------------------------------------------------------------------------------


def test_certificate_is_a_one_page_landscape_pdf(certificate_pdf, tmp_path):
    assert certificate_pdf.startswith(b"%PDF-")
    info = poppler("pdfinfo", certificate_pdf, tmp_path)
    assert re.search(r"^Pages:\s+1$", info, re.M)
    width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info).groups())
    assert width > height
    assert (round(width), round(height)) == (842, 595)  # A4 landscape in points
    assert "CreationDate:    Sat Mar 14 00:00:00 2026 UTC" in info  # from the issue date, not the clock

    page = PdfFileReader(BytesIO(certificate_pdf)).root["/Pages"]["/Kids"][0]
    x0, y0, x1, y1 = (float(v) for v in page["/MediaBox"])
    assert x1 - x0 > y1 - y0


def test_certificate_text_shows_the_issued_facts(certificate_pdf, tmp_path):
    text = words(poppler("pdftotext", certificate_pdf, tmp_path))
    for expected in (
        "Amara Okafor-Lindqvist",
        "OMR-2026-7K4Q-9XJD",
        "License MA60712345",
        "Washington, United States",
        "Orofacial Massage & Rehabilitation",
        "OMR-C version 0.1",
        "EXTRAORAL ENDORSEMENT",
        "INTRAORAL ENDORSEMENT",
        EXTRAORAL_SCOPE,
        INTRAORAL_SCOPE,
        "needs a written referral",
        "14 March 2026",
        "14 March 2028",
        "https://orocert.example/verify/7K4Q9XJDM2PA",
    ):
        assert expected in text, expected
    assert ISSUER in text


def test_certificate_embeds_only_the_bundled_fonts(certificate_pdf, tmp_path):
    fonts = poppler("pdffonts", certificate_pdf, tmp_path) if shutil.which("pdffonts") else ""
    if fonts:
        names = set(re.findall(r"^[A-Z]{6}\+(\S+)", fonts, re.M))
        assert names == {"OroCert-Serif", "OroCert-Serif-Bold", "OroCert-Serif-Italic", "OroCert-Sans"}


def test_rendering_is_deterministic(certificate_pdf):
    again = render_certificate(make_context(), font_config=shared_font_config())
    fresh_fonts = render_certificate(make_context())  # a new FontConfiguration must not change the bytes
    assert again == certificate_pdf
    assert fresh_fonts == certificate_pdf
    assert render_certificate(make_context(serial="OMR-2026-OTHER")) != certificate_pdf


def test_context_is_checked():
    context = make_context()
    del context["serial"]
    with pytest.raises(KeyError, match="serial"):
        render_certificate(context)
    with pytest.raises(ValueError, match="qr_svg"):
        render_certificate(make_context(qr_svg="<svg onload=x>"))
    with pytest.raises(ValueError, match="verify_url"):
        render_certificate(make_context(verify_url="javascript:alert(1)"))
    with pytest.raises(ValueError, match="design"):
        render_certificate(make_context(), design="../classic")


# --- locked-down URL fetcher ------------------------------------------------------------------------------------


@pytest.fixture
def listening_server():
    """A local HTTP server that records every request it receives."""
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server naming
            requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_markup_in_holder_name_prints_as_text(tmp_path, listening_server):
    port, requests = listening_server
    payload = f'<img src="file:///etc/passwd"><img src="http://127.0.0.1:{port}/name.png">'
    design_dir = DEFAULT_DESIGNS_DIR / "classic"
    fetcher = SafeURLFetcher(design_dir)
    pdf = render_certificate(make_context(holder_name=payload), fetcher=fetcher)

    text = words(poppler("pdftotext", pdf, tmp_path))
    assert '<img src="file:///etc/passwd">' in text
    assert "root:" not in text
    assert b"root:x" not in pdf
    # Escaped markup never becomes an element, so nothing was even attempted, let alone fetched.
    assert fetcher.refused == []
    assert requests == []


def test_render_pdf_refuses_local_files_and_network(tmp_path, listening_server):
    port, requests = listening_server
    base = tmp_path / "design"
    base.mkdir()
    (base / "notes.txt").write_text("inside the design folder\n")
    (base / "leak.txt").symlink_to("/etc/passwd")
    html = f"""<!DOCTYPE html><html><head>
      <link rel="attachment" href="file:///etc/passwd">
      <link rel="attachment" href="leak.txt">
      <link rel="stylesheet" href="http://127.0.0.1:{port}/style.css">
      <style>body {{ background: url("http://127.0.0.1:{port}/bg.png") }}</style>
    </head><body>
      <p>Resource test</p>
      <img src="file:///etc/passwd">
      <img src="../../../../../../etc/passwd">
      <img src="http://127.0.0.1:{port}/x.png">
      <img src="https://127.0.0.1:{port}/y.png">
      <img src="ftp://127.0.0.1:{port}/z.png">
    </body></html>"""
    fetcher = SafeURLFetcher(base)
    pdf = render_pdf(html, base, fetcher=fetcher)

    assert pdf.startswith(b"%PDF-")
    assert requests == []
    refused = set(fetcher.refused)
    assert "file:///etc/passwd" in refused
    assert (base / "leak.txt").as_uri() in refused  # symlink escape
    assert f"http://127.0.0.1:{port}/x.png" in refused
    assert f"http://127.0.0.1:{port}/style.css" in refused
    assert f"http://127.0.0.1:{port}/bg.png" in refused
    assert f"https://127.0.0.1:{port}/y.png" in refused
    assert f"ftp://127.0.0.1:{port}/z.png" in refused
    assert "0 embedded files" in poppler("pdfdetach", pdf, tmp_path, "-list")
    assert "root:" not in poppler("pdftotext", pdf, tmp_path)
    assert b"root:x" not in pdf


def test_render_pdf_still_serves_files_inside_base_dir(tmp_path):
    # Control for the test above: the same check does see an attachment that is allowed.
    base = tmp_path / "design"
    base.mkdir()
    (base / "notes.txt").write_text("inside the design folder\n")
    html = (
        '<html><head><link rel="attachment" href="notes.txt"></head><body><p>ok</p>'
        '<img src="data:image/svg+xml,%3Csvg xmlns=%22http://www.w3.org/2000/svg%22 width=%221%22 '
        'height=%221%22/%3E"></body></html>'
    )
    fetcher = SafeURLFetcher(base)
    pdf = render_pdf(html, base, fetcher=fetcher)
    assert fetcher.refused == []
    assert "1 embedded files" in poppler("pdfdetach", pdf, tmp_path, "-list")


def test_stylesheets_outside_base_dir_are_rejected(tmp_path):
    base = tmp_path / "design"
    base.mkdir()
    outside = tmp_path / "outside.css"
    outside.write_text("body { color: red }")
    with pytest.raises(ValueError, match="outside"):
        render_pdf("<p>x</p>", base, [outside])


# --- signing and validation -------------------------------------------------------------------------------------


def byte_range(pdf: bytes) -> list[int]:
    match = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf)
    assert match, "no /ByteRange in the signed PDF"
    return [int(v) for v in match.groups()]


def test_signed_certificate_validates(signed_pdf, material, tmp_path):
    result = validate_pdf(signed_pdf, [material.ca_cert])
    assert result.valid, result.reason
    assert (result.intact, result.trusted, result.entire_file) == (True, True, True)
    assert "Certificate Signing" in result.signer_subject

    report = poppler("pdfsig", signed_pdf, tmp_path)
    assert f"Signature Field Name: {SIGNATURE_FIELD}" in report
    assert "Signature is Valid" in report
    assert "Total document signed" in report
    assert "ETSI.CAdES.detached" in report
    assert "SHA-256" in report


def test_signature_is_an_incremental_update_over_the_rendered_bytes(certificate_pdf, signed_pdf):
    assert signed_pdf.startswith(certificate_pdf)
    start, first_len, second_start, second_len = byte_range(signed_pdf)
    assert start == 0
    assert second_start + second_len == len(signed_pdf)


def test_signing_is_deterministic_for_a_fixed_time(certificate_pdf, signed_pdf, material):
    again = sign_pdf(
        certificate_pdf, material, reason="Certificate issued", location="OroCert", signing_time=SIGNING_TIME
    )
    assert again == signed_pdf


def test_flipped_byte_is_a_digest_mismatch(signed_pdf, material, tmp_path):
    _, first_len, _, _ = byte_range(signed_pdf)
    # A byte inside the first content stream: the file still parses, only the signed digest changes.
    offset = signed_pdf.index(b"stream", 200) + 40
    assert offset < first_len
    tampered = bytearray(signed_pdf)
    tampered[offset] ^= 0x01
    tampered = bytes(tampered)

    assert "Digest Mismatch" in poppler("pdfsig", tampered, tmp_path)
    result = validate_pdf(tampered, material.trust_roots)
    assert not result.valid
    assert not result.intact


def test_appended_bytes_are_not_entire_file(signed_pdf, material, tmp_path):
    extended = signed_pdf + b"\n% appended after signing\n"
    assert "Not total document signed" in poppler("pdfsig", extended, tmp_path)
    result = validate_pdf(extended, material.trust_roots)
    # The signature itself still checks out; only the coverage rule catches the extra bytes.
    assert (result.intact, result.trusted) == (True, True)
    assert result.entire_file is False
    assert result.valid is False


@pytest.mark.parametrize(
    "data",
    [b"", b"not a pdf", b"%PDF-1.7\n%%EOF\n", b"%PDF-1.7\n" + bytes(range(256)) * 8],
    ids=["empty", "text", "header-only", "binary-junk"],
)
def test_garbage_is_invalid_without_raising(data, material):
    result = validate_pdf(data, material.trust_roots)
    assert result.valid is False
    assert result.reason


def test_unsigned_and_truncated_pdfs_are_invalid(certificate_pdf, signed_pdf, material):
    unsigned = validate_pdf(certificate_pdf, material.trust_roots)
    assert unsigned.valid is False
    assert "no OroCertSignature" in unsigned.reason

    truncated = validate_pdf(signed_pdf[: len(signed_pdf) - 300], material.trust_roots)
    assert truncated.valid is False


def test_other_ca_and_signer_as_root_are_not_trusted(signed_pdf, material, tmp_path):
    other = ensure_dev_signing_material(tmp_path / "other", "Another Board")
    foreign = validate_pdf(signed_pdf, other.trust_roots)
    assert foreign.intact is True
    assert foreign.trusted is False
    assert foreign.valid is False

    # Trust the CA, not the signer: a signer certificate offered as a trust root is refused.
    assert validate_pdf(signed_pdf, [material.signer_cert]).valid is False
    assert validate_pdf(signed_pdf, []).valid is False


def test_dev_signing_material_is_created_once(tmp_path):
    directory = tmp_path / "keys"
    first = ensure_dev_signing_material(directory, ISSUER)
    second = ensure_dev_signing_material(directory, ISSUER)
    assert second.signer_cert.dump() == first.signer_cert.dump()
    assert second.ca_cert.dump() == first.ca_cert.dump()
    assert (directory / "signer-key.pem").stat().st_mode & 0o777 == 0o600

    assert first.ca_cert.ca is True
    assert first.signer_cert.ca is False
    assert first.signer_cert.issuer == first.ca_cert.subject
    assert {"digital_signature", "non_repudiation"} <= set(first.signer_cert.key_usage_value.native)

    loaded = load_signing_material(directory / "signer.pem", directory / "signer-key.pem", directory / "ca.pem")
    assert loaded.signer_cert.dump() == first.signer_cert.dump()

    (directory / "ca.pem").unlink()
    with pytest.raises(FileExistsError, match="ca.pem"):
        ensure_dev_signing_material(directory, ISSUER)


def test_load_signing_material_rejects_signer_as_ca(tmp_path):
    directory = tmp_path / "keys"
    ensure_dev_signing_material(directory, ISSUER)
    with pytest.raises(ValueError, match="trust root|issued"):
        load_signing_material(directory / "signer.pem", directory / "signer-key.pem", directory / "signer.pem")
