"""Headers on every response, cookie flags, session rotation and timeouts, CSRF, rate limits, production guards."""

import re
import secrets
import time

import pytest

from config import ProductionConfig, TestingConfig
from lms import create_app
from lms.extensions import db
from tests.factories import PASSWORD, create_user

REQUIRED = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy")


def _check_headers(resp):
    for h in REQUIRED:
        assert h in resp.headers, (h, resp.request.path if resp.request else "")
    csp = resp.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp or "sandbox" in csp
    script = re.search(r"script-src ([^;]*)", csp)
    assert script is None or "unsafe-inline" not in script.group(1)
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ["/", "/login", "/verify", "/regulations", "/does-not-exist",
                                  "/api/v1/certificates/OFM-00000-00000-00000", "/api/v1/openapi.json",
                                  "/static/app.css"])
def test_security_headers_on_pages_errors_and_api(client, path):
    resp = client.get(path)
    _check_headers(resp)
    resp.close()


def test_security_headers_on_certificate_pdf(ctx, client, program):
    from lms.demo import seed

    lines = seed()
    db.session.commit()
    serial = next(line for line in lines if line.startswith("Demo certificate")).split()[2]
    resp = client.get(f"/certificates/{serial}.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    _check_headers(resp)
    assert resp.headers["Content-Disposition"].startswith("attachment")


def test_hsts_and_secure_cookies_in_production(tmp_path, monkeypatch, db_url):
    monkeypatch.setenv("SECRET_KEY", secrets.token_urlsafe(32))
    app = create_app(ProductionConfig, INSTANCE_PATH=tmp_path / "prod", SQLALCHEMY_DATABASE_URI=db_url,
                     RATELIMIT_ENABLED=False, CONTACT_EMAIL="desk@registry.example")
    with app.app_context():
        create_user("trainee", email="p@example.test")
        db.session.commit()
    client = app.test_client()
    assert "max-age=31536000" in client.get("/").headers["Strict-Transport-Security"]
    resp = client.post("/login", data={"email": "p@example.test", "password": PASSWORD})
    # CSRF is on in production: a form without its token is refused and no session is issued.
    assert resp.status_code == 400
    page = client.get("/login")
    token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page.data).group(1).decode()
    resp = client.post("/login", data={"email": "p@example.test", "password": PASSWORD, "csrf_token": token},
                       base_url="https://localhost")
    cookie = resp.headers.get("Set-Cookie", "")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("secret", [None, "", "dev", "change-me", "short", " " * 40, "a" * 40, "ab" * 24,
                                    "0123456789" * 4])
def test_production_refuses_to_start_without_a_real_secret_key(tmp_path, monkeypatch, secret):
    if secret is None:
        monkeypatch.delenv("SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("SECRET_KEY", secret)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(ProductionConfig, INSTANCE_PATH=tmp_path / "prod", SQLALCHEMY_DATABASE_URI="sqlite://")


def test_production_refuses_debug(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", secrets.token_urlsafe(32))
    with pytest.raises(RuntimeError, match="DEBUG"):
        create_app(ProductionConfig, INSTANCE_PATH=tmp_path / "prod", SQLALCHEMY_DATABASE_URI="sqlite://", DEBUG=True)


@pytest.mark.parametrize("address", [None, "", "registry@orocert.invalid", "not an address", "desk@registry.invalid"])
def test_production_refuses_to_start_without_a_real_contact_address(tmp_path, monkeypatch, address):
    """The privacy page sends personal-data requests to CONTACT_EMAIL: production needs one that reaches someone."""
    monkeypatch.setenv("SECRET_KEY", secrets.token_urlsafe(32))
    extra = {} if address is None else {"CONTACT_EMAIL": address}  # None: the shipped default
    with pytest.raises(RuntimeError, match="CONTACT_EMAIL is not usable in production"):
        create_app(ProductionConfig, INSTANCE_PATH=tmp_path / "prod", SQLALCHEMY_DATABASE_URI="sqlite://", **extra)
    app = create_app(ProductionConfig, INSTANCE_PATH=tmp_path / "ok", SQLALCHEMY_DATABASE_URI="sqlite://",
                     CONTACT_EMAIL="registry@board.example")
    assert app.config["CONTACT_EMAIL"] == "registry@board.example"


def test_session_changes_at_sign_in(ctx, client):
    create_user("trainee", email="s@example.test")
    db.session.commit()
    client.get("/login")
    before = client.get_cookie("session")
    client.post("/login", data={"email": "s@example.test", "password": PASSWORD})
    after = client.get_cookie("session")
    assert after is not None and (before is None or before.value != after.value)


def test_inactivity_timeout_ends_the_session(make_app):
    app = make_app(SESSION_IDLE_TIMEOUT=__import__("datetime").timedelta(seconds=1))
    with app.app_context():
        create_user("trainee", email="idle@example.test")
        db.session.commit()
    client = app.test_client()
    client.post("/login", data={"email": "idle@example.test", "password": PASSWORD})
    assert client.get("/account").status_code == 200
    time.sleep(2.1)
    resp = client.get("/account")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_csrf_is_enforced_on_every_post_form(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    posts = [r for r in app.url_map.iter_rules() if "POST" in r.methods and not r.rule.startswith("/api/")]
    assert posts
    for rule in posts:
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **{a: "1" if a != "slug" else "01-anatomy" for a in rule.arguments})
        resp = client.post(url, data={"email": "x@example.test", "password": "whatever-it-is"})
        # Anonymous POSTs are refused either by the CSRF check (400) or by sign-in (302); never processed.
        assert resp.status_code in (400, 302), (url, resp.status_code)
    resp = client.post("/register", data={"name": "N", "email": "n@example.test", "password": PASSWORD,
                                          "confirm": PASSWORD})
    assert resp.status_code == 400
    with app.app_context():
        from lms.auth.models import User

        assert db.session.execute(db.select(User)).first() is None


def test_sign_in_limit_per_address_counts_failures_only(make_app):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    from lms.extensions import limiter

    limiter.reset()
    try:
        with app.app_context():
            for n in range(5):
                create_user("trainee", email=f"class{n}@example.test")
            db.session.commit()
        # A class behind one clinic network: five successful sign-ins from one address are not limited.
        for n in range(5):
            resp = app.test_client().post("/login", data={"email": f"class{n}@example.test", "password": PASSWORD})
            assert resp.status_code == 302, n
        # Failures from that address are: three wrong passwords (three different accounts), then 429.
        client = app.test_client()
        codes = [client.post("/login", data={"email": f"class{n}@example.test", "password": "wrong-password-1"})
                 .status_code for n in range(4)]
        assert codes == [401, 401, 401, 429]
        resp = client.post("/login", data={"email": "class4@example.test", "password": PASSWORD})
        assert resp.status_code == 429 and b"Too many" in resp.data
        assert 1 <= int(resp.headers["Retry-After"]) <= 61
        # Another address is not affected.
        other = app.test_client().post("/login", data={"email": "class4@example.test", "password": PASSWORD},
                                       environ_base={"REMOTE_ADDR": "10.9.9.9"})
        assert other.status_code == 302
    finally:
        limiter.reset()


def test_generic_500_page_has_no_traceback(make_app):
    app = make_app()

    @app.get("/boom-test")
    def boom():
        raise RuntimeError("secret internal detail")

    resp = app.test_client().get("/boom-test")
    assert resp.status_code == 500
    assert b"secret internal detail" not in resp.data and b"Traceback" not in resp.data
    _check_headers(resp)


def test_api_errors_are_json(client):
    resp = client.get("/api/v1/certificates/not-a-serial")
    assert resp.status_code == 404 and resp.json["error"]["code"] == 404
    resp = client.get("/api/v1/verify")
    assert resp.status_code == 405 and resp.is_json


def test_testing_config_is_not_production():
    assert TestingConfig.TESTING and not ProductionConfig.GENERATE_DEV_KEYS
