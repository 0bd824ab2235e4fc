"""Trust and sharing: the "Is this PDF genuine?" check in the browser form, the status banner of the public page, the
status badges, the LinkedIn link and embed snippet, and the two-step revocation whose internal note stays internal."""

from __future__ import annotations

import io
import re
from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from lms.extensions import db
from tests.web.test_certificates import admin_user, client_for, flip_byte, refresh, signed_range_offset
from tests.web.test_verification_api import _foreign_pdf, _signed_by_us_but_never_issued, three_certificates

INTERNAL_NOTE = "Complaint 2026-114 from the clinic manager; see the case file"


@pytest.fixture
def certs(ctx, program):
    return three_certificates(INTERNAL_NOTE, "misconduct")


def _upload(client, data: bytes, name="certificate.pdf"):
    return client.post("/verify", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def _upload_large(client, data: bytes):
    """Like _upload; the test client spools a large body to a temporary file, which is closed here afterwards."""
    from werkzeug.test import EnvironBuilder

    builder = EnvironBuilder(path="/verify", method="POST", data={"file": (io.BytesIO(data), "big.pdf")})
    environ = builder.get_environ()
    try:
        resp = client.open(environ)
        resp.get_data()
        return resp
    finally:
        environ["wsgi.input"].close()
        builder.close()


def _verdict(resp) -> str:
    match = re.search(r'data-verdict="([a-z_]+)"', resp.get_data(as_text=True))
    assert match, resp.get_data(as_text=True)[:800]
    return match.group(1)


# --------------------------------------------------------------------------------------------------------------------
# /verify: "Is this PDF genuine?"
# --------------------------------------------------------------------------------------------------------------------


def test_the_verify_page_offers_a_pdf_upload_form(ctx, certs):
    text = client_for(ctx).get("/verify").get_data(as_text=True)
    assert "Is this PDF genuine?" in text
    assert 'enctype="multipart/form-data"' in text and 'type="file"' in text
    assert "verify-drop.js" in text and "<script>" not in text


@pytest.mark.parametrize(("state", "verdict", "words"), [
    ("active", "genuine", "Genuine"),
    ("expired", "expired", "Genuine, but expired"),
    ("revoked", "revoked", "Genuine, but revoked"),
])
def test_an_issued_pdf_is_genuine_with_its_status_and_details(ctx, certs, state, verdict, words):
    cert = certs[state]
    resp = _upload(client_for(ctx), cert.pdf_bytes)
    assert resp.status_code == 200
    text = resp.get_data(as_text=True)
    assert _verdict(resp) == verdict
    assert words in text
    assert cert.serial in text and cert.holder_name in text
    if state == "revoked":
        assert "Misconduct finding" in text
        assert INTERNAL_NOTE not in text


def test_one_changed_byte_is_altered(ctx, certs):
    pdf = certs["active"].pdf_bytes
    resp = _upload(client_for(ctx), flip_byte(pdf, signed_range_offset(pdf)))
    assert _verdict(resp) == "altered"
    assert "Altered" in resp.get_data(as_text=True)
    assert certs["active"].holder_name not in resp.get_data(as_text=True)


def test_data_added_after_signing_is_altered(ctx, certs):
    resp = _upload(client_for(ctx), certs["active"].pdf_bytes + b"\n% added\n")
    assert _verdict(resp) == "altered"


def test_a_pdf_from_elsewhere_is_not_ours(ctx, certs):
    resp = _upload(client_for(ctx), _foreign_pdf())
    assert _verdict(resp) == "not_ours"
    assert "Not issued by us" in resp.get_data(as_text=True)


def test_our_signature_on_bytes_we_never_issued_is_not_ours(ctx, certs):
    assert _verdict(_upload(client_for(ctx), _signed_by_us_but_never_issued())) == "not_ours"


def test_a_file_that_is_not_a_pdf_gets_a_clear_message(ctx, certs):
    resp = _upload(client_for(ctx), b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, name="photo.png")
    assert resp.status_code == 400
    assert _verdict(resp) == "not_pdf"
    assert "not a PDF" in resp.get_data(as_text=True)


def test_no_file_and_a_too_large_file_are_clear_400s(ctx, certs):
    client = client_for(ctx)
    none = client.post("/verify", data={}, content_type="multipart/form-data")
    assert none.status_code == 400 and "Choose a PDF file" in none.get_data(as_text=True)
    for size in (5 * 1024 * 1024 + 10, 8 * 1024 * 1024):  # over the form's limit; over the whole request's limit
        big = _upload_large(client, b"%PDF-1.7\n" + b"0" * size)
        assert big.status_code == 413
        assert "5 MB" in big.get_data(as_text=True)


def test_a_pdf_check_is_logged(ctx, certs):
    from flask import current_app

    from lms.certificates import verification_log
    from lms.certificates.models import VerificationEvent

    _upload(client_for(ctx), certs["active"].pdf_bytes)
    verification_log.flush(current_app._get_current_object())
    refresh()
    row = db.session.execute(sa.select(VerificationEvent).filter_by(method="pdf")).scalars().all()[-1]
    assert row.query == certs["active"].serial and row.result == "active"


def test_the_upload_needs_the_form_token(make_app, program):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    resp = client.post("/verify", data={"file": (io.BytesIO(b"%PDF-1.7"), "x.pdf")},
                       content_type="multipart/form-data")
    assert resp.status_code == 400
    assert "form expired" in resp.get_data(as_text=True)


# --------------------------------------------------------------------------------------------------------------------
# /verify/<serial>: the status banner, in words
# --------------------------------------------------------------------------------------------------------------------


def _banner(text: str) -> str:
    match = re.search(r'<div class="status-banner status-banner-(\w+)" id="status-banner"', text)
    assert match, text[:600]
    return match.group(1)


def test_the_public_page_leads_with_the_status_banner(ctx, certs):
    client = client_for(ctx)
    for state, word in (("active", "Valid"), ("expired", "Expired"), ("revoked", "Revoked")):
        text = client.get(f"/verify/{certs[state].serial}").get_data(as_text=True)
        assert _banner(text) == state
        main = text[text.index('<main'):]
        assert main.index('id="status-banner"') < main.index("<h1")
        assert word in main[:main.index("<h1")]


def test_a_revoked_certificate_never_shows_green_nor_its_internal_note(ctx, certs):
    text = client_for(ctx).get(f"/verify/{certs['revoked'].serial}").get_data(as_text=True)
    assert "status-banner-active" not in text and "status-active" not in text and "badge ok" not in text
    assert "Misconduct finding" in text
    assert INTERNAL_NOTE not in text


def test_dates_and_the_licence_line_are_in_words(ctx, certs):
    cert = certs["active"]
    text = client_for(ctx).get(f"/verify/{cert.serial}").get_data(as_text=True)
    expires = cert.expires_on
    assert f"{expires.day} {expires.strftime('%B %Y')}" in text
    line = re.search(r'<dd id="licence-line">(.*?)</dd>', text, re.S).group(1)
    assert "(V)" not in line and cert.license_number in line
    assert "British Columbia" in line


# --------------------------------------------------------------------------------------------------------------------
# The internal note stays internal: API, bulk, OB3, notification
# --------------------------------------------------------------------------------------------------------------------


def test_api_and_bulk_publish_the_category_label_only(ctx, certs):
    client = client_for(ctx)
    serial = certs["revoked"].serial
    body = client.get(f"/api/v1/certificates/{serial}").get_data(as_text=True)
    assert INTERNAL_NOTE not in body
    assert client.get(f"/api/v1/certificates/{serial}").json["revocation"] == {
        "date": date.today().isoformat(), "reason": "Misconduct finding", "category": "misconduct"}
    bulk = client.post("/api/v1/verify/bulk", json={"serials": [serial]}).get_data(as_text=True)
    assert INTERNAL_NOTE not in bulk and "Misconduct finding" in bulk
    for path in (f"/certificates/{serial}/credential.json", f"/certificates/{serial}/credential",
                 f"/verify/{serial}/badge.svg", "/credentials/status/1"):
        assert INTERNAL_NOTE not in client.get(path).get_data(as_text=True), path


# --------------------------------------------------------------------------------------------------------------------
# Badges
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("state", "word", "colour"), [
    ("active", "VALID", "#1b6e3a"), ("expired", "EXPIRED", "#8a5a00"), ("revoked", "REVOKED", "#a11d2b")])
def test_svg_badge_shows_the_status(ctx, certs, state, word, colour):
    import xml.etree.ElementTree as ET

    client = client_for(ctx)
    resp = client.get(f"/verify/{certs[state].serial}/badge.svg")
    assert resp.status_code == 200 and resp.mimetype == "image/svg+xml"
    root = ET.fromstring(resp.data)  # noqa: S314 - our own response, not untrusted input
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert word in texts and certs[state].serial in texts
    assert colour in resp.get_data(as_text=True)
    if state != "active":
        assert "#1b6e3a" not in resp.get_data(as_text=True)
    assert "script" not in resp.get_data(as_text=True).lower()


def test_png_badge_is_a_real_png_and_differs_by_status(ctx, certs):
    from PIL import Image

    client = client_for(ctx)
    colours = {}
    for state in ("active", "revoked"):
        resp = client.get(f"/verify/{certs[state].serial}/badge.png")
        assert resp.status_code == 200 and resp.mimetype == "image/png"
        img = Image.open(io.BytesIO(resp.data)).convert("RGB")
        assert img.size == (720, 240)
        colours[state] = img.getpixel((8, 120))  # the status stripe on the left
    assert colours["active"] == (0x1b, 0x6e, 0x3a)
    assert colours["revoked"] == (0xa1, 0x1d, 0x2b)


def test_badges_revalidate_with_an_etag_that_follows_the_state(ctx, certs):
    from lms.certificates.issuing import revoke

    client = client_for(ctx)
    url = f"/verify/{certs['active'].serial}/badge.svg"
    first = client.get(url)
    assert first.headers["Cache-Control"] == "no-cache" and first.headers["ETag"]
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    png = client.get(f"/verify/{certs['active'].serial}/badge.png")
    assert png.headers["ETag"] != first.headers["ETag"]
    refresh()
    revoke(db.session.merge(certs["active"]), actor=admin_user(), reason="note", category="issued_in_error")
    db.session.commit()
    after = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert after.status_code == 200 and b"REVOKED" in after.data
    assert client.get("/verify/OFM-00000-00000-00000/badge.svg").status_code == 404
    assert client.get("/verify/garbage/badge.png").status_code == 404


# --------------------------------------------------------------------------------------------------------------------
# The holder's page: LinkedIn and the embeddable snippet
# --------------------------------------------------------------------------------------------------------------------


def test_holder_gets_a_linkedin_link_and_an_embed_snippet(ctx, certs):
    import html

    cert = certs["active"]
    text = client_for(ctx, "active@example.test").get("/certificates").get_data(as_text=True)
    link = html.unescape(re.search(r'href="(https://www\.linkedin\.com/profile/add\?[^"]+)"', text).group(1))
    query = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
    assert query["startTask"] == "CERTIFICATION_NAME"
    assert query["certId"] == cert.serial
    assert query["certUrl"].endswith(f"/verify/{cert.serial}")
    assert query["issueYear"] == str(cert.issued_on.year) and query["issueMonth"] == str(cert.issued_on.month)
    assert query["expirationYear"] == str(cert.expires_on.year)
    assert query["organizationName"] and query["name"]
    snippet = html.unescape(re.search(r'<textarea[^>]*id="embed-[^"]*"[^>]*>(.*?)</textarea>', text, re.S).group(1))
    assert f"/verify/{cert.serial}/badge.svg" in snippet and 'href="http' in snippet
    assert "<script" not in snippet


# --------------------------------------------------------------------------------------------------------------------
# Revoking: a confirmation step, a public reason from the list, an internal note
# --------------------------------------------------------------------------------------------------------------------


def test_revoking_shows_what_will_happen_before_anything_is_written(ctx, certs):
    from lms.certificates.models import Certificate

    cert = certs["active"]
    admin_user()
    db.session.commit()
    admin = client_for(ctx, "admin@example.test")
    form = admin.get(f"/admin/certificates/{cert.serial}/revoke").get_data(as_text=True)
    assert "Public reason" in form and "Internal note" in form
    note = "Board letter of 3 March; phoned the holder"
    review = admin.post(f"/admin/certificates/{cert.serial}/revoke",
                        data={"category": "holder_request", "reason": note})
    assert review.status_code == 200
    text = review.get_data(as_text=True)
    assert "What will happen" in text and "At the holder&#39;s request" in text and 'name="confirm"' in text
    refresh()
    assert db.session.get(Certificate, cert.id).revocation is None  # not yet
    done = admin.post(f"/admin/certificates/{cert.serial}/revoke",
                      data={"category": "holder_request", "reason": note, "confirm": "yes"})
    assert done.status_code == 302
    refresh()
    revocation = db.session.get(Certificate, cert.id).revocation
    assert revocation.category == "holder_request" and revocation.reason == note
    public = client_for(ctx).get(f"/verify/{cert.serial}").get_data(as_text=True)
    assert "At the holder&#39;s request" in public and note not in public


@pytest.mark.parametrize(("data", "message"), [
    ({"category": "", "reason": "note"}, "Choose the public reason"),
    ({"category": "made_up", "reason": "note", "confirm": "yes"}, "Choose the public reason"),
    ({"category": "misconduct", "reason": "  "}, "Write an internal note"),
])
def test_revocation_without_a_listed_reason_or_a_note_is_refused(ctx, certs, data, message):
    from lms.certificates.models import Certificate

    admin_user()
    db.session.commit()
    resp = client_for(ctx, "admin@example.test").post(f"/admin/certificates/{certs['active'].serial}/revoke",
                                                       data=data)
    assert resp.status_code == 400
    assert message in resp.get_data(as_text=True)
    refresh()
    assert db.session.get(Certificate, certs["active"].id).revocation is None
