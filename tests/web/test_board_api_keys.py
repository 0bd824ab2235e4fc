"""Board API keys and the API's HTTP contract: keys issued once and stored hashed, their own rate limit, checks logged
under the board organisation, revocation, no cookies honoured or set, Allow on 405, Retry-After on 429."""

from __future__ import annotations

import hashlib
import re

import pytest
import sqlalchemy as sa

from lms.extensions import db, limiter
from tests.factories import create_user
from tests.web.test_certificates import client_for, issue, qualified_trainee, refresh

ORGANISATION = "Oregon Board of Massage Therapists"


def _issue_key_on_the_page(app) -> tuple[str, object]:
    create_user("admin", email="keys-admin@example.test")
    db.session.commit()
    admin = client_for(app, "keys-admin@example.test")
    resp = admin.post("/admin/api-keys", data={"organisation": ORGANISATION})
    assert resp.status_code == 200
    match = re.search(r'id="new-key">(ocb_[A-Za-z0-9_-]+)<', resp.get_data(as_text=True))
    assert match, "the new key is shown on the page"
    assert resp.headers["Cache-Control"] == "no-store"
    return match.group(1), admin


def _events():
    from flask import current_app

    from lms.certificates import verification_log
    from lms.certificates.models import VerificationEvent

    verification_log.flush(current_app._get_current_object())  # anonymous checks wait in the worker's buffer
    refresh()
    return db.session.execute(sa.select(VerificationEvent).order_by(VerificationEvent.id)).scalars().all()


def test_admin_issues_a_key_shown_once_and_stored_hashed(ctx, program):
    from lms.api.models import BoardApiKey

    key, admin = _issue_key_on_the_page(ctx)
    refresh()
    (record,) = db.session.execute(sa.select(BoardApiKey)).scalars().all()
    assert record.organisation == ORGANISATION
    assert record.key_sha256 == hashlib.sha256(key.encode()).hexdigest()
    # The key itself is in no column of the row, and the page never shows it again.
    assert key not in repr([getattr(record, c.key) for c in BoardApiKey.__table__.columns])
    page = admin.get("/admin/api-keys").get_data(as_text=True)
    assert key not in page and ORGANISATION in page and record.prefix in page


def test_checks_with_a_key_are_logged_under_the_organisation_until_it_is_revoked(ctx, program):
    from lms.api.models import BoardApiKey

    cert = issue(qualified_trainee())
    key, admin = _issue_key_on_the_page(ctx)
    api = client_for(ctx)
    auth = {"Authorization": f"Bearer {key}"}
    assert api.get(f"/api/v1/certificates/{cert.serial}", headers=auth).status_code == 200
    assert api.post("/api/v1/verify/bulk", json={"serials": [cert.serial, "nope"]}, headers=auth).status_code == 200
    assert api.get(f"/api/v1/certificates/{cert.serial}").status_code == 200  # anonymous: logged under nobody
    assert [(e.method, e.organisation) for e in _events()] == [
        ("api", ORGANISATION), ("api-bulk", ORGANISATION), ("api", None)]  # a bulk request is one row

    record_id = db.session.execute(sa.select(BoardApiKey.id)).scalar_one()
    assert admin.post(f"/admin/api-keys/{record_id}/revoke").status_code == 302
    resp = api.get(f"/api/v1/certificates/{cert.serial}", headers=auth)
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert "revoked" in resp.get_json()["error"]["message"]
    assert len(_events()) == 3  # a refused request checks nothing and logs nothing


def test_unknown_key_is_refused_not_treated_as_anonymous(ctx, program):
    resp = client_for(ctx).get("/api/v1/certificates/OFM-00000-00000-00000",
                               headers={"Authorization": "Bearer ocb_not-a-real-key"})
    assert resp.status_code == 401


def test_board_keys_have_their_own_higher_limit_and_429_says_when_to_retry(make_app):
    app = make_app(RATELIMIT_ENABLED=True, PUBLIC_API_RATE_LIMIT="2 per minute", BOARD_API_RATE_LIMIT="5 per minute")
    limiter.reset()
    try:
        with app.test_request_context():
            from lms.api import keys

            _record, key = keys.issue(ORGANISATION, actor=create_user("admin", email="limit-admin@example.test"))
            db.session.commit()
        client = app.test_client()
        url = "/api/v1/certificates/OFM-00000-00000-00000"
        anonymous = [client.get(url).status_code for _ in range(3)]
        assert anonymous == [404, 404, 429]
        keyed = [client.get(url, headers={"Authorization": f"Bearer {key}"}).status_code for _ in range(6)]
        assert keyed == [404] * 5 + [429]  # the key's own bucket, not the exhausted anonymous one
        resp = client.get(url)
        assert resp.status_code == 429
        assert 1 <= int(resp.headers["Retry-After"]) <= 61
        assert resp.get_json()["error"]["code"] == 429
    finally:
        limiter.reset()


def test_the_api_honours_no_session_cookie_and_sets_none(ctx, program):
    cert = issue(qualified_trainee())
    create_user("board", email="cookie-board@example.test")
    db.session.commit()
    board = client_for(ctx, "cookie-board@example.test")
    assert board.get_cookie("session") is not None
    for resp in (board.get(f"/api/v1/certificates/{cert.serial}"),
                 board.post("/api/v1/verify/bulk", json={"serials": [cert.serial]}),
                 board.post("/api/v1/verify", data={}),
                 board.get("/api/v1/openapi.json")):
        assert "Set-Cookie" not in resp.headers, resp.request.path
        assert resp.headers.get("Vary", "").lower().find("cookie") == -1
    assert [e.board_user_id for e in _events()] == [None, None]
    # The same cookie still works on the site itself.
    assert board.get("/board/bulk").status_code == 200


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("get", "/api/v1/verify", {"POST", "OPTIONS"}),
    ("get", "/api/v1/verify/bulk", {"POST", "OPTIONS"}),
    ("delete", "/api/v1/certificates/OFM-00000-00000-00000", {"GET", "HEAD", "OPTIONS"}),
])
def test_405_names_the_allowed_methods(client, method, path, allowed):
    resp = getattr(client, method)(path)
    assert resp.status_code == 405
    assert {m.strip() for m in resp.headers["Allow"].split(",")} == allowed
    assert resp.get_json()["error"]["code"] == 405


def test_openapi_documents_min_items_csv_examples_and_headers(client):
    document = client.get("/api/v1/openapi.json").get_json()
    bulk = document["paths"]["/verify/bulk"]["post"]
    serials = bulk["requestBody"]["content"]["application/json"]["schema"]["properties"]["serials"]
    assert serials["minItems"] == 1 and serials["maxItems"] == 5000
    assert "text/csv" in bulk["responses"]["200"]["content"]
    for path, operations in document["paths"].items():
        if path == "/directory":
            continue  # the directory search takes places and filters, never a serial
        for operation in operations.values():
            assert "OFM-7K3MQ-9XP2D-4CAB8" in str(operation), f"{path} has no example serial"
            assert "Retry-After" in operation["responses"]["429"]["headers"]
            assert "Allow" in operation["responses"]["405"]["headers"]
    assert document["components"]["securitySchemes"]["boardApiKey"]["scheme"] == "bearer"


def test_empty_bulk_request_is_refused(client):
    resp = client.post("/api/v1/verify/bulk", json={"serials": []})
    assert resp.status_code == 400
