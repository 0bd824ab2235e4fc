"""The issued certificate PDF, checked with tools that did not make it.

- pyHanko validates the signature at the signing time the PDF claims (the real time of signing), finds a
  certification signature that permits no changes, and rejects a later revision.
- poppler's pdfsig reports the signature valid over the whole file (tests/web/test_certificates.py).
- pdfinfo reads the XMP identification (PDF/A-3, conformance B) and the structure tags; pdfdetach extracts the
  embedded Open Badges credential, which is the stored credential and verifies on its own.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.policy_decl import NO_REVOCATION, CertRevTrustPolicy

from lms.certificates import keys, ob3
from tests.web.test_certificates import issue, qualified_trainee

PDFINFO = shutil.which("pdfinfo") or "/usr/bin/pdfinfo"
PDFDETACH = shutil.which("pdfdetach") or "/usr/bin/pdfdetach"


def _run(*args) -> str:
    return subprocess.run([*args], capture_output=True, text=True, timeout=60, check=True).stdout  # noqa: S603


def _pyhanko_status(pdf: bytes):
    """pyHanko's own validation, at the signing time the signature claims, with difference analysis on."""
    (signature,) = PdfFileReader(BytesIO(pdf), strict=True).embedded_signatures
    claimed = signature.self_reported_timestamp
    context = ValidationContext(trust_roots=keys.signing_material().trust_roots, allow_fetching=False,
                                revinfo_policy=CertRevTrustPolicy(NO_REVOCATION), moment=claimed)
    return signature, claimed, validate_pdf_signature(signature, context)


def test_pyhanko_validates_a_certification_signature_at_its_real_signing_time(ctx, program):
    before = datetime.now(UTC).replace(microsecond=0)
    cert = issue(qualified_trainee())
    after = datetime.now(UTC) + timedelta(seconds=1)

    signature, claimed, status = _pyhanko_status(cert.pdf_bytes)
    assert before <= claimed <= after  # the real time of signing, not noon of the issue date
    assert status.bottom_line, status.pretty_print_details()
    assert status.intact and status.valid and status.trusted
    assert signature.sig_object_type == "/Sig"
    assert signature.docmdp_level == MDPPerm.NO_CHANGES  # a certification signature, no changes permitted
    assert status.docmdp_ok is True


def test_a_later_revision_breaks_the_certification(ctx, program):
    cert = issue(qualified_trainee())
    writer = IncrementalPdfFileWriter(BytesIO(cert.pdf_bytes))
    writer.root["/Lang"] = generic.TextStringObject("fr")  # the smallest change: a new revision of the catalogue
    writer.update_root()
    out = BytesIO()
    writer.write(out)

    _signature, _claimed, status = _pyhanko_status(out.getvalue())
    assert status.intact  # the signed revision itself is untouched…
    assert status.docmdp_ok is False  # …but DocMDP forbids any change after it
    assert not status.bottom_line


@pytest.fixture
def issued(ctx, program, tmp_path):
    """An issued certificate and its PDF written to a file."""
    cert = issue(qualified_trainee())
    path = tmp_path / "cert.pdf"
    path.write_bytes(cert.pdf_bytes)
    return cert, path


def test_pdf_identifies_itself_as_pdfa_3b_and_is_tagged(issued):
    _cert, path = issued
    xmp = _run(PDFINFO, "-meta", str(path))
    assert 'pdfaid:part="3"' in xmp or "<pdfaid:part>3</pdfaid:part>" in xmp, xmp
    assert 'pdfaid:conformance="B"' in xmp or "<pdfaid:conformance>B</pdfaid:conformance>" in xmp, xmp
    info = _run(PDFINFO, str(path))
    assert "Tagged:          yes" in info
    assert "PDF version:     1.7" in info


def test_pdf_carries_the_credential_as_an_associated_file(issued, tmp_path):
    cert, path = issued
    listing = _run(PDFDETACH, "-list", str(path))
    assert "credential.json" in listing
    target = tmp_path / "credential.json"
    _run(PDFDETACH, "-savefile", "credential.json", "-o", str(target), str(path))
    embedded = json.loads(target.read_text(encoding="utf-8"))
    assert embedded == cert.credential
    result = ob3.verify_credential(embedded, ob3.resolver_from_did_document(keys.did_document()), datetime.now(UTC))
    assert result.valid, result.errors
    # The catalogue lists it under /AF (PDF/A-3 associated files) as an alternative representation.
    reader = PdfFileReader(BytesIO(cert.pdf_bytes))
    (filespec,) = {f.idnum: f.get_object() for f in reader.root["/AF"]}.values()
    assert filespec["/AFRelationship"] == "/Alternative"
    assert filespec["/EF"]["/F"].get_object()["/Subtype"] == "/application/json"
