"""A retry never doubles a record: one-time form tokens and the API's Idempotency-Key.

The real failure: the server commits, the response is lost on its way back (or the process dies before it is
sent), and the client sends the same submission again.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from lms.certificates.models import VerificationEvent
from lms.core.idempotency import SubmissionRecord
from lms.core.timeutil import today
from lms.extensions import db
from lms.hours.models import HourEntry
from tests.factories import create_trainee, create_user, signed_in_client

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
TOKEN = re.compile(r'name="submission_token" value="([^"]+)"')


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


class LoseResponses:
    """WSGI middleware: the app runs to the end (commit included), then the connection drops before the reply."""

    def __init__(self, app):
        self.app = app
        self.lose = 0

    def __call__(self, environ, start_response):
        if not self.lose:
            return self.app(environ, start_response)
        self.lose -= 1
        body = b"".join(self.app(environ, lambda *a, **k: None))
        assert body is not None
        raise ConnectionResetError("the reply was lost on its way back")


@pytest.fixture
def trainee_client(ctx, program):
    create_trainee(email="retry@example.test")
    sup = create_user("instructor", email="retry-sup@example.test")
    db.session.commit()
    return signed_in_client(ctx, "retry@example.test"), sup


def _hours(sup, token=None, day=3) -> dict:
    data = {"entry_date": (today() - timedelta(days=day)).isoformat(), "duration_hours": "1", "duration_minutes": "0",
            "category": "lab_in_person",
            "supervisor_id": str(sup.id), "setting": "Supervised skills lab", "case_code": "", "screening_id": "0",
            "notes": "Masseter release drills."}
    if token:
        data["submission_token"] = token
    return data


def test_hours_form_resent_after_the_reply_was_lost_is_saved_once(ctx, trainee_client):
    client, sup = trainee_client
    page = client.get("/hours/").get_data(as_text=True)
    token = TOKEN.search(page).group(1)  # the form carries a one-time token
    lossy = LoseResponses(ctx.wsgi_app)
    ctx.wsgi_app = lossy

    lossy.lose = 1
    with pytest.raises(ConnectionResetError):
        client.post("/hours/", data=_hours(sup, token))
    assert _count(HourEntry) == 1  # committed, but the trainee never saw the reply

    retry = client.post("/hours/", data=_hours(sup, token))
    assert retry.status_code == 302
    assert retry.headers["Location"].endswith("/hours/")
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert _count(HourEntry) == 1
    assert "already been sent" in client.get("/hours/").get_data(as_text=True)

    # A new form (a new token) is a new entry.
    assert client.post("/hours/", data=_hours(sup, "another-form-token-1234")).status_code == 302
    assert _count(HourEntry) == 2


def test_process_dies_after_commit_before_the_result_is_kept(ctx, trainee_client):
    client, sup = trainee_client
    crash = {"on": True}

    def _die(response):  # runs after the view's commit, before the result is stored (hooks run last-first)
        if crash.pop("on", False):
            raise RuntimeError("worker killed")
        return response

    ctx.after_request_funcs.setdefault(None, []).append(_die)

    with pytest.raises(RuntimeError):
        client.post("/hours/", data=_hours(sup, "token-of-a-dying-request"))
    assert _count(HourEntry) == 1
    retry = client.post("/hours/", data=_hours(sup, "token-of-a-dying-request"))
    assert retry.status_code == 409
    assert "already received" in retry.get_data(as_text=True)
    assert _count(HourEntry) == 1


def test_a_rejected_form_keeps_nothing_so_the_corrected_form_goes_through(ctx, trainee_client):
    client, sup = trainee_client
    bad = _hours(sup, "token-reused-after-a-fix", day=-5)  # a date in the future is refused
    assert client.post("/hours/", data=bad).status_code in (200, 422)
    assert _count(HourEntry) == 0
    assert _count(SubmissionRecord) == 0
    assert client.post("/hours/", data=_hours(sup, "token-reused-after-a-fix")).status_code == 302
    assert _count(HourEntry) == 1


def test_api_post_with_idempotency_key_is_answered_once(ctx):
    client = ctx.test_client()
    payload = {"serials": ["OFM-NOPE-0001", "OFM-NOPE-0002"]}
    headers = {"Idempotency-Key": "5f0c6d0e-bulk-check-0001"}
    first = client.post("/api/v1/verify/bulk", json=payload, headers=headers)
    assert first.status_code == 200
    events = _count(VerificationEvent)
    again = client.post("/api/v1/verify/bulk", json=payload, headers=headers)
    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _count(VerificationEvent) == events  # nothing logged twice

    other = client.post("/api/v1/verify/bulk", json={"serials": ["OFM-OTHER-0003"]}, headers=headers)
    assert other.status_code == 422
    assert "different request" in other.get_json()["error"]["message"]
    bad_key = client.post("/api/v1/verify/bulk", json=payload, headers={"Idempotency-Key": "x"})
    assert bad_key.status_code == 400

    doc = client.get("/api/v1/openapi.json").get_json()
    for path in ("/verify", "/verify/bulk"):
        assert "Idempotency-Key" in [p["name"] for p in doc["paths"][path]["post"]["parameters"]]


def test_tokens_belong_to_one_user(ctx, trainee_client):
    client, sup = trainee_client
    assert client.post("/hours/", data=_hours(sup, "shared-looking-token-1")).status_code == 302
    create_trainee(email="second@example.test")
    db.session.commit()
    other = signed_in_client(ctx, "second@example.test")
    assert other.post("/hours/", data=_hours(sup, "shared-looking-token-1")).headers.get("Idempotent-Replayed") is None


EXEMPT = {"auth/login.html", "auth/register.html", "base.html"}  # signing in and out is not a record


def test_every_state_changing_form_carries_a_submission_token():
    missing = []
    for path in TEMPLATES.rglob("*.html"):
        rel = path.relative_to(TEMPLATES).as_posix()
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"<form\b[^>]*method=\"post\"[^>]*>(.*?)</form>", text, re.S | re.I):
            if rel not in EXEMPT and "submission_field()" not in m.group(1):
                missing.append(rel)
    assert not missing, missing


def test_a_double_click_sends_two_requests_at_once_and_saves_one(app):
    """Two requests with the same token race (separate connections); one entry, and both get the same answer."""
    import threading

    from lms.training.content import load_all

    with app.app_context():
        load_all(app.config["COURSES_DIR"])
        db.session.commit()
        create_trainee(email="double@example.test")
        sup = create_user("instructor", email="double-sup@example.test")
        db.session.commit()
        form = _hours(sup, "double-click-token-0001")
    first = signed_in_client(app, "double@example.test")
    second = app.test_client()
    second.set_cookie("session", first.get_cookie("session").value)
    barrier = threading.Barrier(2)
    answers = []

    def post(client):
        barrier.wait()
        answers.append(client.post("/hours/", data=form))

    threads = [threading.Thread(target=post, args=(c,)) for c in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(r.status_code for r in answers) == [302, 302]
    assert {r.headers["Location"] for r in answers} == {"/hours/"}
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in answers) == 1
    with app.app_context():
        assert _count(HourEntry) == 1
