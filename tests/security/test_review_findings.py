"""The findings of the independent security review, each reproduced and shown fixed.

One test (or group) per row of the review's table. Rows owned elsewhere: registration revealing taken addresses
(notifications), the quiz-score oracle itself (assessment), one log row per bulk request (verification logging) and
file modes (storage); only the rate limits asked for here are tested for those rows.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from config import ProductionConfig, config_from_env
from lms import create_app
from lms.extensions import db, limiter
from tests.factories import PASSWORD, create_credential, create_evidence, create_trainee, create_user
from tests.web.test_certificates import client_for, qualified_trainee, refresh
from tests.web.test_concurrency import run_together

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.fixture
def limited(make_app):
    """An app instance with rate limiting on (the suite runs with it off), and clean counters around the test."""
    def build(**limits):
        app = make_app(RATELIMIT_ENABLED=True, **limits)
        limiter.reset()  # after the app, which gives the limiter its storage
        return app
    yield build
    limiter.reset()


def _production_env(tmp_path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "LMS_"))}
    env.update({"LMS_CONFIG": "production", "SECRET_KEY": secrets.token_urlsafe(32), "FLASK_APP": "lms",
                "CONTACT_EMAIL": "desk@registry.example",
                "LMS_INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}",
                **extra})
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- Medium: production refuses debug, whatever starts it -----------------------------------------------------------


def test_flask_run_with_flask_debug_in_production_refuses_to_start(tmp_path):
    port = _free_port()
    proc = subprocess.run([str(BIN / "flask"), "run", "--port", str(port)], cwd=ROOT,  # noqa: S603
                          env=_production_env(tmp_path, FLASK_DEBUG="1"), capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0  # it exits instead of serving (a served debugger would keep it running)
    assert "DEBUG must be off in production" in proc.stderr


def test_production_app_refuses_debug_set_after_start_up(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", secrets.token_urlsafe(32))
    monkeypatch.setenv("FLASK_DEBUG", "1")
    with pytest.raises(RuntimeError, match="DEBUG must be off"):
        create_app(ProductionConfig, INSTANCE_PATH=tmp_path / "a", SQLALCHEMY_DATABASE_URI="sqlite://")
    monkeypatch.delenv("FLASK_DEBUG")
    app = create_app(ProductionConfig, INSTANCE_PATH=tmp_path / "b", SQLALCHEMY_DATABASE_URI="sqlite://",
                     CONTACT_EMAIL="desk@registry.example")
    with pytest.raises(RuntimeError, match="DEBUG must be off"):
        app.debug = True  # what the flask CLI does with FLASK_DEBUG once the app is built
    with pytest.raises(RuntimeError, match="DEBUG must be off"):
        app.run(debug=True)  # raises before any server starts
    assert app.debug is False


# --- Medium: an unknown LMS_CONFIG is an error that names the valid ones --------------------------------------------


@pytest.mark.parametrize("value", ["Production", "prod", "PRODUCTION", " production", "staging"])
def test_unknown_lms_config_is_an_error(monkeypatch, value):
    monkeypatch.setenv("LMS_CONFIG", value)
    with pytest.raises(RuntimeError, match="development, testing, production"):
        config_from_env()


def test_known_lms_config_values_load(monkeypatch):
    monkeypatch.setenv("LMS_CONFIG", "production")
    assert config_from_env() is ProductionConfig


# --- Medium: seed-demo is refused in production ---------------------------------------------------------------------


def test_seed_demo_is_refused_in_production(tmp_path, db_url, monkeypatch):
    from lms.auth.models import User

    monkeypatch.setenv("SECRET_KEY", secrets.token_urlsafe(32))
    app = create_app(ProductionConfig, INSTANCE_PATH=tmp_path / "prod", SQLALCHEMY_DATABASE_URI=db_url,
                     CONTACT_EMAIL="desk@registry.example")
    with app.app_context():  # as the flask command provides
        result = app.test_cli_runner().invoke(args=["seed-demo"])
        assert result.exit_code != 0
        assert "refused in production" in result.output
        assert db.session.execute(sa.select(User).filter_by(email="admin@orocert.test")).first() is None
        db.session.remove()
        db.engine.dispose()


# --- Low: sign-in limits count failures; an attacked account slows the attacker, not its owner ----------------------
# (The per-address part, failures only, is in tests/security/test_http.py.)


def test_failures_on_one_account_from_rotating_addresses_delay_but_never_lock_the_owner(limited):
    from lms.auth import throttle

    app = limited()
    with app.app_context():
        create_user("admin", email="owner@example.test")
        db.session.commit()
    client = app.test_client()

    def attempt(password, n):
        return client.post("/login", data={"email": "owner@example.test", "password": password},
                           environ_base={"REMOTE_ADDR": f"203.0.113.{n}"})

    codes = [attempt("wrong-password-x", n).status_code for n in range(throttle.FREE_FAILURES + 1)]
    assert codes == [401] * (throttle.FREE_FAILURES + 1)
    # Right after the fifth failure the account waits a few seconds, not fifteen minutes, and says so.
    resp = attempt(PASSWORD, 99)
    assert resp.status_code == 429
    wait = int(resp.headers["Retry-After"])
    assert 1 <= wait <= 2
    time.sleep(wait + 0.2)
    resp = attempt(PASSWORD, 99)
    assert resp.status_code == 302  # the owner is in
    notice = client.get(resp.headers["Location"], follow_redirects=True).get_data(as_text=True)
    assert f"{throttle.FREE_FAILURES + 1} attempts to sign in to your account failed" in notice

    with app.test_request_context():
        # However long the attack goes on, the delay stays at most a minute; unknown addresses behave the same, so
        # the delay tells nothing about whether an account exists.
        for _ in range(40):
            throttle.record_failure("owner@example.test")
            throttle.record_failure("nobody@example.test")
        assert 0 < throttle.seconds_to_wait("owner@example.test") <= throttle.MAX_DELAY
        assert 0 < throttle.seconds_to_wait("nobody@example.test") <= throttle.MAX_DELAY


# --- Low: X-Forwarded-For is trusted only when configured -----------------------------------------------------------


def _api_codes(app, forwarded_for: list[str]) -> list[int]:
    client = app.test_client()
    return [client.get("/api/v1/certificates/OFM-00000-00000-00000", headers={"X-Forwarded-For": ip},
                       base_url="https://localhost").status_code for ip in forwarded_for]


def test_forwarded_for_is_ignored_unless_proxies_are_configured(tmp_path, db_url, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", secrets.token_urlsafe(32))
    monkeypatch.delenv("PROXY_FIX_X_FOR", raising=False)
    try:
        direct = create_app(ProductionConfig, INSTANCE_PATH=tmp_path / "d", SQLALCHEMY_DATABASE_URI=db_url,
                            PUBLIC_API_RATE_LIMIT="2 per minute", CONTACT_EMAIL="desk@registry.example")
        limiter.reset()
        assert direct.config["PROXY_FIX_X_FOR"] == 0
        # Spoofed, rotating X-Forwarded-For headers do not buy a fresh limit: all count against the real address.
        assert _api_codes(direct, ["198.51.100.1", "198.51.100.2", "198.51.100.3"]) == [404, 404, 429]
        limiter.reset()
        proxied = create_app(ProductionConfig, INSTANCE_PATH=tmp_path / "p", SQLALCHEMY_DATABASE_URI=db_url,
                             PUBLIC_API_RATE_LIMIT="2 per minute", PROXY_FIX_X_FOR=1,
                             CONTACT_EMAIL="desk@registry.example")
        # Behind one configured proxy, the address the proxy reports is the one counted.
        assert _api_codes(proxied, ["198.51.100.1", "198.51.100.2", "198.51.100.3"]) == [404, 404, 404]
    finally:
        limiter.reset()
        for name in ("direct", "proxied"):
            app = locals().get(name)
            if app is not None:
                with app.app_context():
                    db.session.remove()
                    db.engine.dispose()


# --- Low: 8 parallel applies give one pending application and no 500 ------------------------------------------------


def test_parallel_applies_make_one_pending_application(ctx, program):
    from lms.certificates.models import CertificateApplication

    trainee = qualified_trainee()
    email = trainee.email
    db.session.commit()
    clients = [client_for(ctx, email) for _ in range(8)]

    def apply(i):
        return clients[i].post("/certificates/apply").status_code

    codes, errors = run_together(apply, count=8)
    assert not errors, "\n".join(errors)
    assert codes == [302] * 8
    refresh()
    pending = db.session.execute(sa.select(CertificateApplication).filter_by(status="pending")).scalars().all()
    assert len(pending) == 1
    # And the trainee can go on using the page: another apply is answered, not a 500.
    resp = clients[0].post("/certificates/apply", follow_redirects=True)
    assert resp.status_code == 200
    assert "already waiting for an administrator" in resp.get_data(as_text=True)


def test_database_refuses_a_second_pending_application(ctx, program):
    from sqlalchemy.exc import IntegrityError

    from lms.certificates.models import CertificateApplication

    trainee = create_trainee()
    db.session.add(CertificateApplication(trainee_id=trainee.id, program_id="omr"))
    db.session.flush()
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(CertificateApplication(trainee_id=trainee.id, program_id="omr"))
    # Decided applications do not count: a declined one and a new pending one live side by side.
    db.session.execute(sa.update(CertificateApplication).values(status="declined", note="not yet"))
    db.session.add(CertificateApplication(trainee_id=trainee.id, program_id="omr"))
    db.session.flush()


# --- Low: odd numbers in forms and query strings are a 400/404 with a message, never a 500 --------------------------


def test_superscript_and_huge_numbers_are_not_500s(ctx, program):
    from lms.auth.models import User

    trainee = qualified_trainee()
    create_user("admin", email="numbers-admin@example.test")
    db.session.commit()
    trainee_id = trainee.id
    student = client_for(ctx, trainee.email)
    assert student.get("/renewal?attested_sessions=²").status_code < 500
    assert student.post("/renewal/request", data={"attested_sessions": "²"}).status_code < 500

    admin = client_for(ctx, "numbers-admin@example.test")  # admins may assess any trainee
    form = {"competency_id": "C1", "observed_on": "2026-01-05", "level": "²"}
    resp = admin.post(f"/trainees/{trainee_id}/assessments", data=form, follow_redirects=True)
    assert resp.status_code == 200
    assert "Choose an entrustment level from 1 to 5" in resp.get_data(as_text=True)
    resp = admin.post(f"/trainees/{trainee_id}/assessments", data={**form, "level": "3", "amends_id": "9" * 30})
    assert resp.status_code == 404
    assert "does not exist" in resp.get_data(as_text=True)

    for url in ("/admin/trainees?page=99999999999999999999", "/admin/certificates?page=99999999999999999999",
                "/admin/trainees?page=²", "/admin/certificates?page=-1"):
        resp = admin.get(url)
        assert resp.status_code == 404, url
        assert "There is no page" in resp.get_data(as_text=True)
    assert admin.get("/admin/trainees?page=2").status_code == 200
    assert db.session.get(User, trainee_id) is not None


# --- Low: per-user limit on knowledge-check submissions; a rate limit on registration --------------------------------


def test_knowledge_check_submissions_are_limited_per_trainee(limited):
    app = limited(KNOWLEDGE_CHECK_RATE_LIMIT="2 per hour")
    with app.app_context():
        from lms.training.content import load_all

        load_all(app.config["COURSES_DIR"])
        create_trainee(email="quiz@example.test")
        db.session.commit()
    client = client_for(app, "quiz@example.test")
    codes = [client.post("/modules/01-anatomy/check", data={},
                         environ_base={"REMOTE_ADDR": f"198.51.100.{n}"}).status_code for n in range(3)]
    assert 429 not in codes[:2] and codes[2] == 429  # per trainee, whatever address they come from
    other = create_other_trainee(app)
    assert other.post("/modules/01-anatomy/check", data={}).status_code != 429


def create_other_trainee(app):
    with app.app_context():
        create_trainee(email="quiz2@example.test")
        db.session.commit()
    return client_for(app, "quiz2@example.test")


def test_registration_is_rate_limited_per_address(limited):
    app = limited(REGISTER_RATE_LIMIT="2 per hour")
    client = app.test_client()
    codes = [client.post("/register", data={"name": f"N {n}", "email": f"new{n}@example.test", "password": PASSWORD,
                                            "confirm": PASSWORD}).status_code for n in range(3)]
    assert codes[:2] == [302, 302] and codes[2] == 429


# --- Info: evidence downloads are no-store; responses carry no server banner -----------------------------------------


def test_evidence_downloads_are_not_stored_in_any_cache(ctx, program):
    trainee = create_trainee(email="evidence@example.test")
    evidence = create_evidence(trainee)
    db.session.commit()
    resp = client_for(ctx, "evidence@example.test").get(f"/evidence/{evidence.id}")
    resp.close()
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"


@pytest.mark.skipif(shutil.which("gunicorn", path=str(BIN)) is None, reason="gunicorn is not installed")
def test_gunicorn_sends_no_server_banner(tmp_path):
    port = _free_port()
    proc = subprocess.Popen([str(BIN / "gunicorn"), "--workers", "1", "--bind", f"127.0.0.1:{port}",  # noqa: S603
                             "lms:create_app()"], cwd=ROOT, env=_production_env(tmp_path),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                    sock.sendall(b"GET /static/app.css HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                    head = b""
                    while b"\r\n\r\n" not in head:
                        chunk = sock.recv(4096)
                        if not chunk:
                            break
                        head += chunk
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "gunicorn did not start"
                time.sleep(0.3)
        headers = head.split(b"\r\n\r\n")[0].decode("latin-1")
        assert headers.startswith("HTTP/1.1 200")
        server = re.search(r"^Server: (.*)$", headers, re.M | re.I)
        assert server is not None and server.group(1).strip() == "OroCert", headers
        assert "gunicorn" not in headers.lower() and "werkzeug" not in headers.lower() and "python" not in \
            headers.lower()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# --- Info: one pending OMT credential at a time ---------------------------------------------------------------------


def test_a_second_omt_credential_waits_for_the_first_decision(ctx, program):
    from lms.providers.models import OmtCredential

    trainee = create_user("trainee", email="omt@example.test")
    create_credential(trainee, status="pending")
    db.session.commit()
    client = client_for(ctx, "omt@example.test")
    resp = client.post("/profile/omt-credential", data={
        "provider_name": "Another Academy", "course_hours": "30", "completed_on": "2024-02-01",
        "evidence": (__import__("io").BytesIO(b"%PDF-1.4 second"), "second.pdf")},
        content_type="multipart/form-data")
    assert resp.status_code == 409
    assert "already waiting for a decision" in resp.get_data(as_text=True)
    refresh()
    pending = db.session.execute(sa.select(OmtCredential).filter_by(user_id=trainee.id, status="pending")).all()
    assert len(pending) == 1
