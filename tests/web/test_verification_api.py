"""How boards verify: the public page, the serial form, the JSON API, PDF checks, bulk checks, the verification log,
and the OpenAPI description the API is held to."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
import sqlalchemy as sa

from lms.extensions import db
from tests.factories import create_user
from tests.web.test_certificates import (
    admin_user,
    client_for,
    expired_on,
    flip_byte,
    issue,
    qualified_trainee,
    refresh,
    signed_range_offset,
)

REVOCATION_REASON = "Licence suspended by the board"


def three_certificates(note: str = REVOCATION_REASON, category: str = "issued_in_error") -> dict:
    """Three issued certificates: one active, one expired, one revoked with this internal note and public reason."""
    from lms.certificates.issuing import revoke

    active = issue(qualified_trainee(email="active@example.test", name="Avery Active"))
    expired = issue(qualified_trainee(email="expired@example.test", name="Ezra Expired"), on=expired_on())
    revoked = issue(qualified_trainee(email="revoked@example.test", name="Rowan Revoked"))
    revoke(revoked, actor=admin_user(), reason=note, category=category)
    db.session.commit()
    assert expired.expires_on < date.today()
    return {"active": active, "expired": expired, "revoked": revoked}


@pytest.fixture
def certs(ctx, program):
    return three_certificates()


def events():
    """The verification log in the order the checks were made (anonymous checks are written a moment later)."""
    from flask import current_app

    from lms.certificates import verification_log
    from lms.certificates.models import VerificationEvent

    verification_log.flush(current_app._get_current_object())
    refresh()
    return db.session.execute(sa.select(VerificationEvent).order_by(VerificationEvent.created_at,
                                                                     VerificationEvent.id)).scalars().all()


def upload(data: bytes, name="certificate.pdf"):
    return {"file": (io.BytesIO(data), name)}


# --------------------------------------------------------------------------------------------------------------------
# The public verification page and form
# --------------------------------------------------------------------------------------------------------------------


def test_page_for_an_active_certificate(ctx, certs):
    cert = certs["active"]
    resp = client_for(ctx).get(f"/verify/{cert.serial}")
    assert resp.status_code == 200
    text = resp.get_data(as_text=True)
    expires = f"{cert.expires_on.day} {cert.expires_on.strftime('%B %Y')}"
    assert "Valid" in text and f"valid until {expires}" in text
    assert "Avery Active" in text and cert.license_number in text
    assert "extraoral" in text and "intraoral" in text
    assert "omr-c, version 0.5.1" in text
    assert cert.pdf_sha256 in text
    assert "Revoked" not in text and "Expired" not in text


def test_page_for_an_expired_certificate(ctx, certs):
    cert = certs["expired"]
    text = client_for(ctx).get(f"/verify/{cert.serial}").get_data(as_text=True)
    assert "Expired" in text and f"on {cert.expires_on.day} {cert.expires_on.strftime('%B %Y')}" in text
    assert cert.issued_on == expired_on()
    assert "Ezra Expired" in text
    assert "status-active" not in text


def test_page_for_a_revoked_certificate_shows_date_and_public_reason_only(ctx, certs):
    cert = certs["revoked"]
    text = client_for(ctx).get(f"/verify/{cert.serial}").get_data(as_text=True)
    assert "Revoked" in text
    today = date.today()
    assert f"on {today.day} {today.strftime('%B %Y')}" in text
    assert "Issued in error" in text
    assert REVOCATION_REASON not in text  # the administrator's note is internal
    assert "status-active" not in text


def test_page_for_an_unknown_serial_is_a_clear_404(ctx, certs):
    from lms.certificates.serials import new_serial

    client = client_for(ctx)
    unknown = new_serial()
    resp = client.get(f"/verify/{unknown}")
    assert resp.status_code == 404
    text = resp.get_data(as_text=True)
    assert "No certificate found" in text and unknown in text
    assert "should not be relied on" in text
    garbage = client.get("/verify/not-a-serial")
    assert garbage.status_code == 404 and "No certificate found" in garbage.get_data(as_text=True)


def test_form_normalises_the_serial_and_rejects_malformed_input(ctx, certs):
    from lms.certificates.serials import ALPHABET

    client = client_for(ctx)
    serial = certs["active"].serial
    assert client.get("/verify").status_code == 200

    sloppy = serial.lower().replace("-", "")
    resp = client.get("/verify", query_string={"serial": f"  {sloppy} "})
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith(f"/verify/{serial}")
    assert client.get(resp.headers["Location"]).status_code == 200

    wrong_check = serial[:-1] + next(c for c in ALPHABET if c != serial[-1])
    for bad in (wrong_check, "OFM-123", "hello <b>world</b>"):
        resp = client.get("/verify", query_string={"serial": bad})
        assert resp.status_code == 400
        text = resp.get_data(as_text=True)
        assert "not a valid certificate serial" in text
        assert "<b>world</b>" not in text  # the echoed input is escaped


# --------------------------------------------------------------------------------------------------------------------
# GET /api/v1/certificates/<serial>
# --------------------------------------------------------------------------------------------------------------------


def test_api_record_has_exactly_the_documented_keys(ctx, certs):
    client = client_for(ctx)
    documented = client.get("/api/v1/openapi.json").json["components"]["schemas"]["Certificate"]
    documented_keys = set(documented["properties"])
    core = {"serial", "status", "holder", "endorsements", "program", "standard", "issued_on", "expires_on"}
    assert core <= documented_keys and "revocation" in documented_keys

    for state, cert in certs.items():
        resp = client.get(f"/api/v1/certificates/{cert.serial}")
        assert resp.status_code == 200 and resp.mimetype == "application/json"
        body = resp.json
        expected_keys = documented_keys if state == "revoked" else documented_keys - {"revocation"}
        assert set(body) == expected_keys, state
        assert body["serial"] == cert.serial
        assert body["status"] == state
        assert body["holder"] == {"name": cert.holder_name, "profession": "dental_hygienist",
                                  "license": cert.license_number, "jurisdiction": "CA-BC"}
        assert body["endorsements"] == ["extraoral", "intraoral"]
        assert body["program"] == "omr"
        assert body["standard"] == {"id": "omr-c", "version": "0.5.1"}
        assert body["issued_on"] == cert.issued_on.isoformat()
        assert body["expires_on"] == cert.expires_on.isoformat()
        assert body["pdf_sha256"] == cert.pdf_sha256
    revoked = client.get(f"/api/v1/certificates/{certs['revoked'].serial}").json
    assert revoked["revocation"] == {"date": date.today().isoformat(), "reason": "Issued in error",
                                     "category": "issued_in_error"}
    # Serials are read forgivingly here too.
    sloppy = certs["active"].serial.lower().replace("-", "")
    assert client.get(f"/api/v1/certificates/{sloppy}").json["serial"] == certs["active"].serial


def test_api_unknown_serial_is_a_json_404(ctx, certs):
    from lms.certificates.serials import new_serial

    client = client_for(ctx)
    for query in (new_serial(), "garbage"):
        resp = client.get(f"/api/v1/certificates/{query}")
        assert resp.status_code == 404
        assert resp.mimetype == "application/json"
        assert resp.json == {"error": {"code": 404, "message": "No certificate with this serial."}}


# --------------------------------------------------------------------------------------------------------------------
# POST /api/v1/verify (is this PDF exactly what we issued?)
# --------------------------------------------------------------------------------------------------------------------


def test_genuine_pdf_is_recognised(ctx, certs):
    client = client_for(ctx)
    for state, cert in certs.items():
        resp = client.post("/api/v1/verify", data=upload(cert.pdf_bytes))
        assert resp.status_code == 200
        assert resp.json["genuine"] is True
        assert resp.json["serial"] == cert.serial
        assert resp.json["status"] == state
        assert resp.json["reason"]
        assert resp.json["verdict"] == {"active": "genuine"}.get(state, state)


def _foreign_pdf() -> bytes:
    from weasyprint import HTML

    return HTML(string="<h1>Certificate</h1><p>Avery Active has completed orofacial massage training.</p>"
                       "<p>OFM-00000-00000-00000</p>").write_pdf()


def _signed_by_us_but_never_issued() -> bytes:
    from datetime import UTC, datetime

    from lms.certificates import keys
    from lms.certificates.signing import sign_pdf

    return sign_pdf(_foreign_pdf(), keys.signing_material(), reason="not issued", location="nowhere",
                    signing_time=datetime.now(UTC))


@pytest.mark.parametrize(("kind", "reason_pattern", "verdict"), [
    ("tampered", r"altered after it was signed", "altered"),
    ("appended", r"changed after signing \(data was added\)", "altered"),
    ("foreign", r"not a certificate issued by this registry", "not_ours"),
    ("signed-not-issued", r"signature is ours, but these bytes are not an issued certificate", "not_ours"),
    ("not-pdf", r"not a PDF", "not_pdf"),
    ("empty", r"not a PDF", "not_pdf"),
])
def test_anything_but_the_issued_bytes_is_not_genuine(ctx, certs, kind, reason_pattern, verdict):
    pdf = certs["active"].pdf_bytes
    data = {
        "tampered": lambda: flip_byte(pdf, signed_range_offset(pdf)),
        "appended": lambda: pdf + b"\n% added after signing\n",
        "foreign": _foreign_pdf,
        "signed-not-issued": _signed_by_us_but_never_issued,
        "not-pdf": lambda: b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
        "empty": lambda: b"",
    }[kind]()
    resp = client_for(ctx).post("/api/v1/verify", data=upload(data))
    assert resp.status_code == 200, resp.data[:300]
    assert resp.json["genuine"] is False
    assert resp.json["status"] is None and resp.json["serial"] is None
    assert re.search(reason_pattern, resp.json["reason"]), resp.json["reason"]
    assert resp.json["verdict"] == verdict


def test_verify_without_a_file_is_a_json_400_not_a_500(ctx, certs):
    client = client_for(ctx)
    for kwargs in ({}, {"data": {"other": "x"}}, {"json": {"file": "abc"}}, {"data": b"%PDF-1.7",
                                                                             "content_type": "application/pdf"}):
        resp = client.post("/api/v1/verify", **kwargs)
        assert resp.status_code == 400, kwargs
        assert resp.mimetype == "application/json"
        assert "'file'" in resp.json["error"]["message"]


# --------------------------------------------------------------------------------------------------------------------
# Bulk verification
# --------------------------------------------------------------------------------------------------------------------


def _thousand(certs):
    """1,000 serials mixing every status, sloppy spellings, unknown and malformed input; with expected statuses."""
    from lms.certificates.serials import new_serial

    issued = {c.serial for c in certs.values()}
    rows = []
    for i in range(1000):
        kind = i % 6
        if kind < 3:
            state = ("active", "expired", "revoked")[kind]
            serial = certs[state].serial
            rows.append((serial.lower().replace("-", "") if i % 2 else serial, state))
        elif kind < 5:
            serial = new_serial()
            while serial in issued:
                serial = new_serial()
            rows.append((serial, "unknown"))
        else:
            rows.append((f"OFM-BAD{i}", "unknown"))
    return rows


def _check_results(results, rows, certs):
    assert len(results) == 1000
    by_serial = {c.serial: c for c in certs.values()}
    for (raw, expected), result in zip(rows, results, strict=True):
        assert result["input"] == raw
        assert result["status"] == expected, (raw, result)
        if expected != "unknown":
            cert = by_serial[result["serial"]]
            assert result["holder_name"] == cert.holder_name
            assert result["expires_on"] == cert.expires_on.isoformat()
        else:
            assert result["holder_name"] == ""
    revoked = next(r for r in results if r["status"] == "revoked")
    assert "Issued in error" in revoked["message"] and REVOCATION_REASON not in revoked["message"]
    assert any(r["message"] == "Not a valid serial." for r in results)
    assert any(r["message"] == "No certificate with this serial." for r in results)


def test_bulk_api_with_a_thousand_serials_as_json(ctx, certs):
    rows = _thousand(certs)
    before = len(events())
    resp = client_for(ctx).post("/api/v1/verify/bulk", json={"serials": [raw for raw, _ in rows]})
    assert resp.status_code == 200
    assert resp.json["count"] == 1000
    _check_results(resp.json["results"], rows, certs)
    logged = events()[before:]
    assert len(logged) == 1  # one row for the request, listing every serial asked
    (entry,) = logged
    assert entry.method == "api-bulk" and entry.result == "bulk" and entry.board_user_id is None
    assert len(entry.serials) == 1000
    expected = {}
    for _, status in rows:
        expected[status] = expected.get(status, 0) + 1
    assert entry.results == expected


def test_bulk_api_with_a_thousand_serials_as_csv(ctx, certs):
    rows = _thousand(certs)
    body = "serial\n" + "\n".join(raw for raw, _ in rows) + "\n"
    client = client_for(ctx)

    as_file = client.post("/api/v1/verify/bulk", data={"file": (io.BytesIO(body.encode()), "serials.csv")})
    assert as_file.status_code == 200
    _check_results(as_file.json["results"], rows, certs)

    as_body = client.post("/api/v1/verify/bulk", data=body, content_type="text/csv",
                          headers={"Accept": "text/csv"})
    assert as_body.status_code == 200 and as_body.mimetype == "text/csv"
    parsed = list(csv.DictReader(io.StringIO(as_body.get_data(as_text=True))))
    _check_results(parsed, rows, certs)


def test_bulk_api_rejects_bad_requests_without_a_500(ctx, certs):
    client = client_for(ctx)
    for kwargs in ({"json": {"serials": "OFM"}}, {"json": {"serials": []}}, {"json": {"serials": [1, 2]}},
                   {"json": ["x"]}, {"data": "", "content_type": "text/csv"},
                   {"json": {"serials": ["OFM-00000-00000-00000"] * 5001}}):
        resp = client.post("/api/v1/verify/bulk", **kwargs)
        assert resp.status_code == 400, kwargs
        assert resp.json["error"]["message"]


def test_board_bulk_page_takes_a_csv_with_last_names_and_returns_a_csv(ctx, certs):
    board = create_user("board", email="board@example.test")
    db.session.commit()
    active, expired, revoked = certs["active"], certs["expired"], certs["revoked"]
    upload_csv = (f"serial,last name\n{active.serial},active\n{expired.serial.lower()},Smith\n{revoked.serial}\n"
                  "OFM-00000-00000-00000,Nobody\n=HYPERLINK(\"http://evil.example\"),x\n")
    client = client_for(ctx, "board@example.test")
    assert client.get("/board/bulk").status_code == 200
    before = len(events())

    resp = client.post("/board/bulk", data={"file": (io.BytesIO(upload_csv.encode()), "serials.csv"),
                                            "format": "csv"}, content_type="multipart/form-data")
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv"
    assert resp.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert [(r["serial"], r["status"], r["name_match"]) for r in rows[:4]] == [
        (active.serial, "active", "yes"),
        (expired.serial, "expired", "no"),
        (revoked.serial, "revoked", ""),
        ("OFM-00000-00000-00000", "unknown", ""),  # well-formed (all-zero data checks to 0) but never issued
    ]
    assert "does not match" in rows[1]["message"]
    assert "does not match" not in rows[0]["message"]
    assert "Issued in error" in rows[2]["message"] and REVOCATION_REASON not in rows[2]["message"]
    assert rows[4]["input"].startswith("'=")  # a spreadsheet formula is defused, not echoed raw

    logged = events()[before:]
    assert len(logged) == 1
    assert logged[0].method == "bulk" and logged[0].board_user_id == board.id
    assert logged[0].serials[:4] == [active.serial, expired.serial, revoked.serial, "OFM-00000-00000-00000"]
    assert logged[0].results == {"active": 1, "expired": 1, "revoked": 1, "unknown": 2}

    html_page = client.post("/board/bulk", data={"serials": f"{active.serial},Active"})
    assert html_page.status_code == 200 and "Avery Active" in html_page.get_data(as_text=True)


def test_bulk_page_is_for_boards_only(ctx, certs):
    create_user("trainee", email="t@example.test")
    db.session.commit()
    anonymous = client_for(ctx).post("/board/bulk", data={"serials": certs["active"].serial})
    assert anonymous.status_code in (302, 401, 403)
    trainee = client_for(ctx, "t@example.test").post("/board/bulk", data={"serials": certs["active"].serial})
    assert trainee.status_code == 403


# --------------------------------------------------------------------------------------------------------------------
# The verification log
# --------------------------------------------------------------------------------------------------------------------


def test_every_verification_is_logged_with_method_result_and_board_user(ctx, certs):
    from lms.certificates.serials import new_serial

    board = create_user("board", email="board@example.test")
    db.session.commit()
    anonymous, signed_in = client_for(ctx), client_for(ctx, "board@example.test")
    active, revoked = certs["active"], certs["revoked"]
    unknown = new_serial()
    before = len(events())

    anonymous.get(f"/verify/{active.serial}")
    signed_in.get(f"/verify/{revoked.serial}")
    anonymous.get(f"/verify/{unknown}")
    signed_in.get(f"/api/v1/certificates/{certs['expired'].serial}")
    anonymous.get(f"/api/v1/certificates/{unknown}")
    signed_in.post("/api/v1/verify", data=upload(active.pdf_bytes))
    anonymous.post("/api/v1/verify", data=upload(b"not a pdf"))
    anonymous.post("/api/v1/verify", data=upload(active.pdf_bytes + b"x"))
    signed_in.post("/api/v1/verify/bulk", json={"serials": [active.serial]})

    got = [(e.method, e.result, e.certificate_id, e.board_user_id) for e in events()[before:]]
    assert got == [
        ("page", "active", active.id, None),
        ("page", "revoked", revoked.id, board.id),
        ("page", "unknown", None, None),
        # The API honours no session cookie: a board's browser session does not make its checks the board's.
        # Boards are identified on the API by an API key only (tests/web/test_board_api_keys.py).
        ("api", "expired", certs["expired"].id, None),
        ("api", "unknown", None, None),
        ("pdf", "active", active.id, None),
        ("pdf", "not-pdf", None, None),
        ("pdf", "not-genuine", None, None),
        ("api-bulk", "bulk", None, None),
    ]


# --------------------------------------------------------------------------------------------------------------------
# OpenAPI
# --------------------------------------------------------------------------------------------------------------------


def _openapi(client):
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    return resp.json


def _validator(document, component):
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    registry = Registry().with_resource("urn:orocert:openapi", Resource.from_contents(
        document, default_specification=DRAFT202012))
    return Draft202012Validator({"$ref": f"urn:orocert:openapi#/components/schemas/{component}"},
                                registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER)


def test_openapi_document_is_valid_openapi_3_1(ctx):
    from openapi_spec_validator import OpenAPIV31SpecValidator, validate

    document = _openapi(client_for(ctx))
    assert document["openapi"].startswith("3.1")
    validate(document, cls=OpenAPIV31SpecValidator)  # raises on any violation


def test_every_documented_path_is_served(ctx):
    from urllib.parse import urlsplit

    document = _openapi(client_for(ctx))
    prefix = urlsplit(document["servers"][0]["url"]).path.rstrip("/")
    assert prefix == "/api/v1"
    rules = {(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", r.rule), m) for r in ctx.url_map.iter_rules() for m in r.methods}
    for path, operations in document["paths"].items():
        for method in operations:
            assert (prefix + path, method.upper()) in rules, (path, method)


def test_live_responses_match_the_documented_schemas(ctx, certs):
    client = client_for(ctx)
    document = _openapi(client)
    paths = document["paths"]

    def check(resp, path, method, component):
        assert str(resp.status_code) in paths[path][method]["responses"], (path, resp.status_code)
        errors = list(_validator(document, component).iter_errors(resp.json))
        assert not errors, [e.message for e in errors]

    for cert in certs.values():
        check(client.get(f"/api/v1/certificates/{cert.serial}"), "/certificates/{serial}", "get", "Certificate")
    check(client.get("/api/v1/certificates/OFM-00000-00000-00000"), "/certificates/{serial}", "get", "Error")
    pdf = certs["active"].pdf_bytes
    check(client.post("/api/v1/verify", data=upload(pdf)), "/verify", "post", "PdfCheck")
    check(client.post("/api/v1/verify", data=upload(pdf + b" ")), "/verify", "post", "PdfCheck")
    check(client.post("/api/v1/verify", data={}), "/verify", "post", "Error")
    bulk = client.post("/api/v1/verify/bulk", json={"serials": [c.serial for c in certs.values()] + ["x"]})
    check(bulk, "/verify/bulk", "post", "BulkResult")
    check(client.post("/api/v1/verify/bulk", json={}), "/verify/bulk", "post", "Error")

    # The schemas are strict enough to catch a broken response.
    broken = dict(client.get(f"/api/v1/certificates/{certs['active'].serial}").json, status="valid")
    assert list(_validator(document, "Certificate").iter_errors(broken))
    assert list(_validator(document, "Certificate").iter_errors(dict(broken, status="active", issued_on="soon")))
