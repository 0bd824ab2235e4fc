"""Random and hostile input on every form and API endpoint: never a 500, never a partial write.

Each example compares the row counts of every table before and after the request: a refused request changes nothing,
an accepted one adds only the rows of its own record (and audit/verification log rows).
"""

import io
import string
from datetime import date

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lms.extensions import db
from tests.factories import PASSWORD, create_trainee, create_user

HOSTILE = st.sampled_from([
    "", " ", "<script>alert(1)</script>", "'; DROP TABLE users; --", "\x00", "../../etc/passwd", "%00",
    "=cmd|' /C calc'!A0",
    "\u202e\u0644\u0627", "9" * 400, "-1", "1e309", "NaN", "2026-02-30", "9999-12-31", "0001-01-01", "null", "[]", "{}",
    "\r\nSet-Cookie: x=y", "OFM-00000-00000-00000", "1", "0", "24", "1441",
])
TEXT = st.one_of(HOSTILE, st.text(alphabet=string.printable + "éß漢😀", max_size=300))
FUZZ = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                         HealthCheck.too_slow])
LOG_TABLES = {"audit_events", "verification_log"}


def _counts():
    return {t.name: db.session.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in db.metadata.sorted_tables if t.name not in LOG_TABLES}


@pytest.fixture
def world(ctx, program, client):
    trainee = create_trainee(email="fuzz@example.test")
    instructor = create_user("instructor", email="fuzz-i@example.test")
    create_user("admin", email="fuzz-a@example.test")
    create_user("board", email="fuzz-b@example.test")
    db.session.commit()
    return {"trainee": trainee, "instructor": instructor}


def _login(client, email):
    client.post("/logout")
    assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302


FORMS = [
    ("fuzz@example.test", "/profile", ["legal_name", "profession", "license_number", "license_expires_on",
                                       "jurisdiction", "cpr_expires_on", "role", "approved"]),
    ("fuzz@example.test", "/hours/", ["entry_date", "minutes", "category", "supervisor_id", "setting", "case_code",
                                      "screening_id", "notes", "corrects_id", "status", "approved", "hours"]),
    ("fuzz@example.test", "/screenings", ["session_date", "screened_by", "clearance_date", "finding-teeth",
                                          "absolute", "relative", "modifications", "case_code"]),
    ("fuzz@example.test", "/modules/01-anatomy/check", ["q-m1-q1", "q-m1-q2", "q-m1-q3", "q-m1-q4", "q-m1-q5"]),
    ("fuzz@example.test", "/account", ["current", "password", "confirm"]),
    ("fuzz@example.test", "/renewal/ce", ["title", "provider", "topic", "hours", "completed_on"]),
    ("fuzz-i@example.test", "/hours/1/decide", ["decision", "reason"]),
    ("fuzz-i@example.test", "/credentials/1/decide", ["decision", "reason"]),
    ("fuzz-a@example.test", "/admin/users", ["name", "email", "role", "profession", "password"]),
    ("fuzz-a@example.test", "/admin/certificates/OFM-00000-00000-00000/revoke", ["reason"]),
    ("fuzz-b@example.test", "/board/bulk", ["serials", "format"]),
]


@pytest.mark.parametrize("email,url,fields", FORMS, ids=[f[1] for f in FORMS])
def test_forms_never_fail_or_half_write(world, client, email, url, fields):
    _login(client, email)

    @FUZZ
    @given(values=st.fixed_dictionaries({f: TEXT for f in fields}))
    def run(values):
        before = _counts()
        resp = client.post(url, data=values)
        assert resp.status_code < 500, (url, values)
        after = _counts()
        changed = {k for k in after if after[k] != before[k]}
        if resp.status_code >= 400:
            assert not changed, (url, values, changed)
        assert all(after[k] >= before[k] for k in after), "a request deleted rows"
        resp.close()

    run()


def test_enroll_and_apply_with_junk_do_not_fail(world, client):
    _login(client, "fuzz@example.test")
    for url in ("/program/enroll", "/certificates/apply", "/renewal/request", "/agreements"):
        resp = client.post(url, data={"x": "<script>", "attested_sessions": "-5", "valid_from": "bad"})
        assert resp.status_code < 500, url


@FUZZ
@given(serials=st.lists(TEXT, max_size=30))
def test_bulk_api_never_fails(world, client, serials):
    resp = client.post("/api/v1/verify/bulk", json={"serials": serials})
    assert resp.status_code in (200, 400)
    if resp.status_code == 200:
        assert resp.json["count"] == len(serials)


@FUZZ
@given(body=st.one_of(st.binary(max_size=2000), TEXT.map(str.encode)))
def test_pdf_verify_api_never_fails(world, client, body):
    resp = client.post("/api/v1/verify", data={"file": (io.BytesIO(body), "x.pdf")},
                       content_type="multipart/form-data")
    assert resp.status_code == 200 and resp.json["genuine"] is False


@FUZZ
@given(serial=TEXT)
def test_public_lookups_never_fail(world, client, serial):
    for url in (f"/api/v1/certificates/{serial}", f"/verify/{serial}", f"/certificates/{serial}.pdf",
                f"/verify?serial={serial}", f"/regulations?q={serial}&jurisdiction={serial}&profession={serial}"):
        resp = client.get(url)
        assert resp.status_code < 500, url
        resp.close()


def test_json_bodies_of_the_wrong_shape_are_refused_clearly(world, client):
    for body in ([], {"serials": "x"}, {"serials": [1, 2]}, {"serials": [{"nope": 1}]}, "text"):
        resp = client.post("/api/v1/verify/bulk", json=body)
        assert resp.status_code == 400 and "error" in resp.json
    assert date.today()
