"""What boards read is cached and revalidated (ETag, 304), and every change of a certificate's state shows at once;
anonymous checks are logged from a per-worker buffer, board checks in the request; verifications stay out of the
audit chain."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms.extensions import db
from tests.factories import create_user
from tests.web.test_certificates import admin_user, client_for, issue, qualified_trainee, refresh
from tests.web.test_jobs import REDIS_URL, redis_or_skip
from tests.web.test_verification_api import certs, events  # noqa: F401 - the shared fixture


def _buffered(app) -> int:
    buf = app.extensions.get("verification_log")
    return buf.pending() if buf else 0


def test_api_answers_304_to_a_board_that_already_holds_the_record(ctx, certs):  # noqa: F811
    serial = certs["active"].serial
    client = client_for(ctx)
    first = client.get(f"/api/v1/certificates/{serial}")
    assert first.status_code == 200 and first.headers["ETag"]
    assert first.headers["Cache-Control"] == "no-cache"
    again = client.get(f"/api/v1/certificates/{serial}", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    other = client.get(f"/api/v1/certificates/{certs['expired'].serial}",
                       headers={"If-None-Match": first.headers["ETag"]})
    assert other.status_code == 200 and other.json["status"] == "expired"
    # Both checks of the same certificate are in the log, the 304 too.
    assert [e.result for e in events() if e.certificate_id == certs["active"].id] == ["active", "active"]


def test_revocation_shows_at_once_and_changes_the_etag(ctx, certs):  # noqa: F811
    from lms.certificates.issuing import revoke

    cert = certs["active"]
    client = client_for(ctx)
    before = client.get(f"/api/v1/certificates/{cert.serial}")
    page_before = client.get(f"/verify/{cert.serial}")
    assert before.json["status"] == "active" and page_before.status_code == 200
    revoke(cert, actor=admin_user(), reason="Licence suspended")
    db.session.commit()
    after = client.get(f"/api/v1/certificates/{cert.serial}", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200, "a board holding the old record must get the new one"
    assert after.json["status"] == "revoked" and after.json["revocation"]["reason"] == "Issued in error"
    assert after.headers["ETag"] != before.headers["ETag"]
    page = client.get(f"/verify/{cert.serial}", headers={"If-None-Match": page_before.headers["ETag"]})
    assert page.status_code == 200 and "Revoked" in page.get_data(as_text=True)


def test_expiry_shows_on_the_day_it_happens(ctx, certs, monkeypatch):  # noqa: F811
    from lms.certificates import verification

    cert = certs["active"]
    client = client_for(ctx)
    before = client.get(f"/api/v1/certificates/{cert.serial}")
    assert before.json["status"] == "active"
    monkeypatch.setattr(verification, "today", lambda: cert.expires_on + timedelta(days=1))
    after = client.get(f"/api/v1/certificates/{cert.serial}", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.json["status"] == "expired"


def test_a_reissue_changes_the_old_certificates_etag(ctx, program):
    from lms.certificates.issuing import issue_certificate

    old = issue(qualified_trainee(email="renew@example.test"))
    client = client_for(ctx)
    before = client.get(f"/api/v1/certificates/{old.serial}")
    new = issue_certificate(old.trainee, actor=admin_user(), renews=old).certificate
    db.session.commit()
    after = client.get(f"/api/v1/certificates/{old.serial}", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    assert client.get(f"/api/v1/certificates/{new.serial}").json["renews"] == old.serial


def test_only_anonymous_visitors_get_a_304_for_the_page(ctx, certs):  # noqa: F811
    create_user("board", email="board@example.test")
    db.session.commit()
    serial = certs["active"].serial
    anonymous = client_for(ctx)
    first = anonymous.get(f"/verify/{serial}")
    assert "Cookie" in first.headers["Vary"]
    assert anonymous.get(f"/verify/{serial}", headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    board = client_for(ctx, "board@example.test")
    signed_in = board.get(f"/verify/{serial}", headers={"If-None-Match": first.headers["ETag"]})
    assert signed_in.status_code == 200 and "ETag" not in signed_in.headers  # their page carries their own form token


def test_anonymous_checks_are_buffered_and_board_checks_written_in_the_request(ctx, certs):  # noqa: F811
    from lms.certificates import verification_log
    from lms.certificates.models import VerificationEvent

    create_user("board", email="board@example.test")
    db.session.commit()

    def count():
        refresh()
        return db.session.execute(sa.select(sa.func.count(VerificationEvent.id))).scalar_one()

    verification_log.flush(ctx)
    start = count()
    client_for(ctx).get(f"/api/v1/certificates/{certs['active'].serial}")
    assert count() == start and _buffered(ctx) == 1  # not yet written: it waits in this worker's buffer
    client_for(ctx, "board@example.test").get(f"/verify/{certs['active'].serial}")
    assert count() == start + 1  # the signed-in board's check was written before the answer
    assert verification_log.flush(ctx) == 1
    assert count() == start + 2 and _buffered(ctx) == 0


def test_the_buffer_writes_itself_within_its_window(make_app, program):
    app = make_app(VERIFICATION_LOG_FLUSH_SECONDS=0.05)
    from lms.certificates.models import VerificationEvent

    with app.test_request_context():
        client_for(app).get("/api/v1/certificates/OFM-00000-00000-00000")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            db.session.commit()
            if db.session.execute(sa.select(sa.func.count(VerificationEvent.id))).scalar_one():
                break
            time.sleep(0.05)
        row = db.session.execute(sa.select(VerificationEvent)).scalar_one()
    assert row.result == "unknown" and row.board_user_id is None


def test_a_full_buffer_is_written_as_one_batch(make_app, program):
    app = make_app(VERIFICATION_LOG_BATCH=5, VERIFICATION_LOG_FLUSH_SECONDS=60)
    from lms.certificates.models import VerificationEvent

    with app.test_request_context():
        client = client_for(app)
        for _ in range(5):
            client.get("/api/v1/certificates/OFM-00000-00000-00000")
        deadline = time.monotonic() + 20
        written = 0
        while time.monotonic() < deadline and written < 5:
            db.session.commit()
            written = db.session.execute(sa.select(sa.func.count(VerificationEvent.id))).scalar_one()
            time.sleep(0.05)
    assert written == 5  # well before the 60-second window: the batch size triggered the write


def test_the_log_is_append_only(ctx, certs):  # noqa: F811
    from sqlalchemy.exc import DatabaseError

    client_for(ctx).get(f"/api/v1/certificates/{certs['active'].serial}")
    assert events()
    with pytest.raises(DatabaseError):
        db.session.execute(sa.text("UPDATE verification_log SET result = 'forged'"))
        db.session.flush()
    db.session.rollback()
    with pytest.raises(DatabaseError):
        db.session.execute(sa.text("DELETE FROM verification_log"))
        db.session.flush()
    db.session.rollback()


def test_verifications_leave_the_audit_chain_alone(ctx, certs):  # noqa: F811
    from lms.core.audit import AuditEvent

    def audit_count():
        refresh()
        return db.session.execute(sa.select(sa.func.count(AuditEvent.id))).scalar_one()

    create_user("board", email="board@example.test")
    db.session.commit()
    before = audit_count()
    board = client_for(ctx, "board@example.test")
    after_login = audit_count()  # signing in is a state change and is recorded
    client_for(ctx).get(f"/verify/{certs['active'].serial}")
    board.get(f"/api/v1/certificates/{certs['active'].serial}")
    board.post("/api/v1/verify/bulk", json={"serials": [certs["active"].serial]})
    client_for(ctx).post("/api/v1/verify", data={"file": (__import__("io").BytesIO(b"not a pdf"), "x.pdf")})
    assert after_login >= before and audit_count() == after_login


def test_organisation_checks_are_written_in_the_request_under_the_organisation(ctx, certs):  # noqa: F811
    """The hook API keys use: a check made for a board organisation is never buffered and names it."""
    from lms.certificates import verification

    state = verification.check("api", certs["active"].serial, organisation="Oregon Board of Massage Therapists")
    assert state.status == "active" and _buffered(ctx) == 0
    results = verification.bulk_verify([(certs["revoked"].serial, "")], method="api-bulk", organisation=7)
    db.session.commit()
    assert results[0]["status"] == "revoked"
    logged = [(e.method, e.organisation, e.result) for e in events()]
    assert logged == [("api", "Oregon Board of Massage Therapists", "active"), ("api-bulk", "7", "bulk")]


@pytest.fixture
def redis_prefix():
    import redis

    redis_or_skip()
    prefix = f"orocert-test:{uuid.uuid4().hex[:10]}:"
    yield prefix
    conn = redis.Redis.from_url(REDIS_URL)
    for key in conn.scan_iter(prefix + "*"):
        conn.delete(key)


def _two_instances(make_app, redis_prefix, email):
    """Two instances of the app sharing one Redis cache, and a certificate issued on the first."""
    one = make_app(REDIS_URL=REDIS_URL, CACHE_KEY_PREFIX=redis_prefix)
    two = make_app(REDIS_URL=REDIS_URL, CACHE_KEY_PREFIX=redis_prefix)
    with one.test_request_context():
        cert = issue(qualified_trainee(email=email))
        serial = cert.serial
    return one, two, cert, serial


def test_instances_share_the_redis_cache_and_see_a_revocation_at_once(make_app, redis_prefix, program):
    import redis

    from lms.certificates.issuing import revoke

    one, two, cert, serial = _two_instances(make_app, redis_prefix, "shared@example.test")
    first = client_for(one).get(f"/api/v1/certificates/{serial}")
    assert first.json["status"] == "active"
    stored = [k.decode() for k in redis.Redis.from_url(REDIS_URL).scan_iter(redis_prefix + "*")]
    assert any(serial in k for k in stored), stored  # the record went to the shared cache
    from_two = client_for(two).get(f"/api/v1/certificates/{serial}")
    assert from_two.get_data() == first.get_data() and from_two.headers["ETag"] == first.headers["ETag"]
    with two.test_request_context():
        revoke(db.session.merge(cert), actor=admin_user(), reason="Revoked on the other instance")
        db.session.commit()
    again = client_for(one).get(f"/api/v1/certificates/{serial}")
    assert again.json["status"] == "revoked"


def test_verification_works_when_redis_is_down(make_app, program):
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens there
    with app.test_request_context():
        serial = issue(qualified_trainee(email="noredis@example.test")).serial
    resp = client_for(app).get(f"/api/v1/certificates/{serial}")
    assert resp.status_code == 200 and resp.json["status"] == "active"


def test_a_check_costs_one_query_cold_or_warm(ctx, certs):  # noqa: F811
    """An anonymous API check is one SELECT, cached or not: the certificate's state and its public facts are read
    together, so a cache miss needs no second query (and no BEGIN around a lone read on SQLite)."""
    from lms.core.cache import cache_for
    from lms.core.database import count_statements

    cache = cache_for(ctx)
    cache.clear()
    client = client_for(ctx)
    url = f"/api/v1/certificates/{certs['active'].serial}"
    with count_statements(ctx) as cold:
        first = client.get(url)
    assert first.status_code == 200
    with count_statements(ctx) as warm:
        again = client.get(url)
    assert again.status_code == 200 and again.get_data() == first.get_data()
    for statements in (cold, warm):
        assert len(statements) == 1 and statements[0].lstrip().upper().startswith("SELECT")
        assert "certificate_revocations" in statements[0] and "licences" in statements[0]
    cache.clear()  # rebuilt from the same one query, the body is byte for byte the cached one
    with count_statements(ctx) as rebuilt:
        assert client.get(url).get_data() == first.get_data()
    assert len(rebuilt) == 1


# --------------------------------------------------------------------------- the HTML page from the shared cache


def _page(client, serial, *, lang=None, etag=None, **headers):
    url = f"/verify/{serial}" + (f"?lang={lang}" if lang else "")
    if etag:
        headers["If-None-Match"] = etag
    return client.get(url, headers=headers)


def _page_entries(app) -> list[str]:
    from lms.core.cache import cache_for

    return [key for key in cache_for(app)._data if key.startswith("page:")]


def test_the_page_is_served_from_the_cache_and_a_revocation_shows_at_once(ctx, certs):  # noqa: F811
    from lms.certificates.issuing import revoke
    from lms.core.cache import cache_for

    cache_for(ctx).clear()
    cert = certs["active"]
    first = _page(client_for(ctx), cert.serial)
    assert first.status_code == 200 and "Valid" in first.get_data(as_text=True)
    assert len(_page_entries(ctx)) == 1
    again = _page(client_for(ctx), cert.serial)  # another visitor: the stored bytes
    assert again.get_data() == first.get_data() and again.headers["ETag"] == first.headers["ETag"]
    assert len(_page_entries(ctx)) == 1

    revoke(cert, actor=admin_user(), reason="Licence suspended")
    db.session.commit()
    after = _page(client_for(ctx), cert.serial)
    body = after.get_data(as_text=True)
    assert after.status_code == 200 and "Revoked" in body and "status-banner-revoked" in body
    assert "status-banner-active" not in body and after.headers["ETag"] != first.headers["ETag"]
    # A visitor holding the valid page's ETag gets the revoked page, not a 304.
    held = _page(client_for(ctx), cert.serial, etag=first.headers["ETag"])
    assert held.status_code == 200 and held.get_data() == after.get_data()
    assert _page(client_for(ctx), cert.serial, etag=after.headers["ETag"]).status_code == 304
    assert len(_page_entries(ctx)) == 2  # the valid page's entry is simply never asked for again


def test_french_and_english_pages_are_cached_apart(ctx, certs):  # noqa: F811
    from lms.core.cache import cache_for

    cache_for(ctx).clear()
    serial = certs["active"].serial
    french = _page(client_for(ctx), serial, lang="fr")
    english = _page(client_for(ctx), serial, lang="en")
    assert '<html lang="fr">' in french.get_data(as_text=True) and "Valide" in french.get_data(as_text=True)
    assert '<html lang="en">' in english.get_data(as_text=True) and "Valid" in english.get_data(as_text=True)
    assert french.headers["ETag"] != english.headers["ETag"]
    # Each language keeps its own bytes, whichever was asked last and however the language was chosen.
    for _ in range(2):
        assert _page(client_for(ctx), serial, lang="fr").get_data() == french.get_data()
        assert _page(client_for(ctx), serial, **{"Accept-Language": "fr"}).get_data() == french.get_data()
        assert _page(client_for(ctx), serial).get_data() == english.get_data()
    assert len(_page_entries(ctx)) == 2
    # A French visitor holding the English ETag gets the French page.
    assert _page(client_for(ctx), serial, lang="fr", etag=english.headers["ETag"]).status_code == 200


def test_a_cached_page_is_the_page_rendered_afresh(ctx, certs):  # noqa: F811
    from lms.core.cache import cache_for

    for status in ("active", "expired", "revoked"):
        for lang in ("en", "fr"):
            cache_for(ctx).clear()
            rendered = _page(client_for(ctx), certs[status].serial, lang=lang).get_data()
            assert _page(client_for(ctx), certs[status].serial, lang=lang).get_data() == rendered


def test_pages_that_differ_for_the_visitor_are_never_taken_from_the_cache(ctx, certs):  # noqa: F811
    from lms.core.cache import cache_for

    create_user("board", email="board@example.test")
    db.session.commit()
    cache_for(ctx).clear()
    serial = certs["active"].serial
    shared = _page(client_for(ctx), serial).get_data(as_text=True)
    assert "Sign out" not in shared
    # A signed-in user gets their own navigation and form token.
    own = _page(client_for(ctx, "board@example.test"), serial).get_data(as_text=True)
    assert "Sign out" in own and "Bulk verify" in own and own != shared
    # A message waiting for this visitor is shown to them, and to no one else.
    visitor = client_for(ctx)
    with visitor.session_transaction() as sess:
        sess["_flashes"] = [("info", "A note for this visitor only")]
    assert "A note for this visitor only" in _page(visitor, serial).get_data(as_text=True)
    assert _page(client_for(ctx), serial).get_data(as_text=True) == shared
    # Another address (extra arguments, the serial typed in lower case) is rendered for what it is.
    tagged = client_for(ctx).get(f"/verify/{serial}?utm_source=board-newsletter").get_data(as_text=True)
    assert "utm_source=board-newsletter" in tagged  # the language link keeps the visitor's address
    lower = client_for(ctx).get(f"/verify/{serial.lower()}")
    assert lower.status_code == 200 and f"/verify/{serial.lower()}?lang=fr" in lower.get_data(as_text=True)
    assert len(_page_entries(ctx)) == 1


def test_instances_share_the_cached_page_and_see_a_revocation_at_once(make_app, redis_prefix, program):
    import redis

    from lms.certificates.issuing import revoke

    one, two, cert, serial = _two_instances(make_app, redis_prefix, "sharedpage@example.test")
    first = _page(client_for(one), serial, lang="fr")
    stored = [k.decode() for k in redis.Redis.from_url(REDIS_URL).scan_iter(redis_prefix + "page:fr:*")]
    assert len(stored) == 1 and serial in stored[0], stored
    assert _page(client_for(two), serial, lang="fr").get_data() == first.get_data()
    with two.test_request_context():
        revoke(db.session.merge(cert), actor=admin_user(), reason="Revoked on the other instance")
        db.session.commit()
    for app in (one, two):
        assert "Révoqué" in _page(client_for(app), serial, lang="fr").get_data(as_text=True)
