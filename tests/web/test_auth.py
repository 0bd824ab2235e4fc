"""Accounts through the web client and the real database: registration, sign-in, sessions, password change, CLI."""

from __future__ import annotations

import contextvars
from urllib.parse import urljoin, urlsplit

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from lms.auth.models import User
from lms.auth.views import LOGIN_FAILED
from lms.core.audit import AuditEvent
from lms.core.database import set_write_intent
from lms.extensions import db
from tests.factories import PASSWORD, create_user

NEW_PASSWORD = "plum orchard lantern river"  # noqa: S105
LONG_PASSPHRASE = "the quiet heron waits beside the cold river until the morning fog lifts away"  # noqa: S105


class IsolatedClient(FlaskClient):
    """A test client whose every request runs as it would under a server: in its own app context.

    While a test holds ``ctx``, Flask reuses that app context for client requests, so ``g`` (where Flask-Login caches
    the signed-in user) and the database session would carry over from one request, or one client, to the next. A
    signed-out or replayed session would then look signed in (or out) because of the cache, not because of the app.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture(autouse=True)
def _isolated_clients(app):
    # A CLI command run earlier in this process may have left the SQLite write intent on in the test's context; the
    # test's own reads would then take the write lock and block every request.
    set_write_intent(False)
    app.test_client_class = IsolatedClient


@pytest.fixture
def client(app, _isolated_clients):
    return app.test_client()


def _fresh() -> None:
    # End the test's own transaction so the next query sees what the requests committed (SQLite reads a snapshot).
    db.session.rollback()


def _users() -> list[User]:
    _fresh()
    return list(db.session.execute(sa.select(User).order_by(User.id)).scalars())


def _user(email: str) -> User | None:
    _fresh()
    return db.session.execute(sa.select(User).filter_by(email=email)).scalar_one_or_none()


def _audit_count(action: str) -> int:
    _fresh()
    return db.session.execute(sa.select(sa.func.count()).select_from(AuditEvent).filter_by(action=action)).scalar_one()


def _register(client, *, email="new@example.test", password=LONG_PASSPHRASE, confirm=None, **extra):
    data = {"name": "Nia Trainee", "email": email, "password": password,
            "confirm": password if confirm is None else confirm, **extra}
    return client.post("/register", data=data)


def _session_cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None, "no session cookie was set"
    return cookie.value


def _assert_signed_out(client) -> None:
    resp = client.get("/dashboard")
    assert resp.status_code == 302
    assert urlsplit(resp.headers["Location"]).path == "/login"


def _assert_signed_in(client) -> None:
    assert client.get("/dashboard").status_code in (200, 302)
    resp = client.get("/account")
    assert resp.status_code == 200


# --- Registration ----------------------------------------------------------------------------------------------------


def test_register_creates_a_trainee_even_when_the_form_asks_for_admin(ctx, client):
    resp = _register(client, email="Nia@Example.test", role="admin", is_enabled="0")
    assert resp.status_code == 302
    assert urlsplit(resp.headers["Location"]).path == "/login"
    user = _user("nia@example.test")
    assert user is not None
    assert user.role == "trainee"
    assert user.is_enabled
    assert not user.is_verified  # until the link emailed to the address is followed
    assert user.password_hash.startswith("scrypt:")
    assert LONG_PASSPHRASE not in user.password_hash
    # The new trainee is told to check their email; they can sign in and reach the profile page.
    assert "Check your email" in client.get("/login").get_data(as_text=True)
    assert client.post("/login", data={"email": "nia@example.test", "password": LONG_PASSPHRASE}).status_code == 302
    assert client.get("/profile").status_code == 200


def test_password_hashes_are_salted(ctx, client):
    a = create_user(email="a@example.test")
    b = create_user(email="b@example.test")
    assert a.password_hash.startswith("scrypt:") and b.password_hash.startswith("scrypt:")
    assert a.password_hash != b.password_hash


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short-pass1", "Use at least 12 characters"),  # 11 characters
        ("password123!", "commonly used passwords"),
        ("PASSWORD123!", "commonly used passwords"),  # the list is checked case-insensitively
        ("iloveyou!iloveyou", "commonly used passwords"),
    ],
)
def test_register_rejects_weak_passwords_and_writes_nothing(ctx, client, password, message):
    resp = _register(client, password=password)
    assert resp.status_code == 400
    assert message in resp.get_data(as_text=True)
    assert _users() == []
    assert _audit_count("user.create") == 0


def test_register_accepts_exactly_12_characters_and_a_long_passphrase(ctx, client, app):
    twelve = "amber-tulip7"
    assert len(twelve) == 12
    assert _register(client, email="twelve@example.test", password=twelve).status_code == 302
    assert len(LONG_PASSPHRASE) >= 64 and LONG_PASSPHRASE.islower()
    other = app.test_client()
    assert _register(other, email="long@example.test", password=LONG_PASSPHRASE).status_code == 302
    # The long passphrase also works for signing in.
    third = app.test_client()
    assert third.post("/login", data={"email": "long@example.test", "password": LONG_PASSPHRASE}).status_code == 302


def test_register_rejects_mismatched_confirmation(ctx, client):
    resp = _register(client, confirm=LONG_PASSPHRASE + "x")
    assert resp.status_code == 400
    assert "The passwords differ." in resp.get_data(as_text=True)
    assert _users() == []


def test_register_with_a_taken_address_changes_nothing_and_answers_as_for_a_new_one(ctx, client):
    existing = create_user(email="dup@example.test", name="First Owner")
    db.session.commit()
    hash_before, token_before = existing.password_hash, existing.session_token
    creates_before = _audit_count("user.create")

    resp = _register(client, email="  DUP@Example.TEST ")
    assert resp.status_code == 302 and urlsplit(resp.headers["Location"]).path == "/login"
    assert "Check your email" in client.get("/login").get_data(as_text=True)
    users = _users()
    assert len(users) == 1
    assert users[0].name == "First Owner"
    assert users[0].password_hash == hash_before and users[0].session_token == token_before
    assert _audit_count("user.create") == creates_before
    _assert_signed_out(client)


# --- Sign-in ---------------------------------------------------------------------------------------------------------


def test_login_failure_is_identical_for_unknown_email_and_wrong_password(ctx, client):
    create_user(email="known@example.test")
    db.session.commit()
    unknown = client.post("/login", data={"email": "nobody@example.test", "password": PASSWORD})
    wrong = client.post("/login", data={"email": "known@example.test", "password": PASSWORD + "x"})
    assert unknown.status_code == wrong.status_code == 401
    unknown_text, wrong_text = unknown.get_data(as_text=True), wrong.get_data(as_text=True)
    assert LOGIN_FAILED in unknown_text and LOGIN_FAILED in wrong_text
    # Apart from the echoed email address the two pages are the same.
    assert unknown_text.replace("nobody@example.test", "E") == wrong_text.replace("known@example.test", "E")
    _assert_signed_out(client)


def test_login_succeeds_and_renews_the_session_cookie(ctx, client):
    create_user(email="t@example.test")
    db.session.commit()
    client.get("/login")
    with client.session_transaction() as sess:
        sess["planted"] = "anonymous-value"
    before = _session_cookie(client)
    resp = client.post("/login", data={"email": "T@example.test", "password": PASSWORD})
    assert resp.status_code == 302
    assert urlsplit(resp.headers["Location"]).path == "/dashboard"
    assert _session_cookie(client) != before
    with client.session_transaction() as sess:
        assert "planted" not in sess  # nothing from the anonymous session carries over
    _assert_signed_in(client)


def test_disabled_account_cannot_sign_in(ctx, client):
    user = create_user("instructor", email="off@example.test")
    user.is_enabled = False
    db.session.commit()
    resp = client.post("/login", data={"email": "off@example.test", "password": PASSWORD})
    assert resp.status_code == 401
    assert LOGIN_FAILED in resp.get_data(as_text=True)
    _assert_signed_out(client)


def _assert_local(location: str) -> None:
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc, location
    assert not location.startswith("//"), location
    assert "\\" not in location and not any(ord(c) < 32 for c in location), location
    # How a browser resolves it: still this site.
    assert urlsplit(urljoin("http://localhost/login", location)).netloc == "localhost", location


OPEN_REDIRECTS = [
    "//evil.com",
    "////evil.com",
    "/%09/evil.com",
    "https://evil.com",
    "https:evil.com",
    "/\\evil.com",
    "/%5Cevil.com",
    "javascript:alert(1)",
    "http:evil.com",
]


@pytest.mark.parametrize("target", OPEN_REDIRECTS)
def test_next_in_query_string_never_leaves_the_site(ctx, client, target):
    create_user(email="t@example.test")
    db.session.commit()
    # The value goes into the URL as written (percent escapes included), as an attacker's link would.
    resp = client.post(f"/login?next={target}", data={"email": "t@example.test", "password": PASSWORD})
    assert resp.status_code == 302
    _assert_local(resp.headers["Location"])
    assert "evil" not in resp.headers["Location"]
    assert urlsplit(resp.headers["Location"]).path == "/dashboard"


@pytest.mark.parametrize("target", OPEN_REDIRECTS)
def test_next_in_the_form_never_leaves_the_site(ctx, client, target):
    create_user(email="t@example.test")
    db.session.commit()
    resp = client.post("/login", data={"email": "t@example.test", "password": PASSWORD, "next": target})
    assert resp.status_code == 302
    _assert_local(resp.headers["Location"])


@pytest.mark.parametrize("where", ["query", "form"])
def test_next_to_a_page_on_this_site_is_followed(ctx, client, where):
    create_user(email="t@example.test")
    db.session.commit()
    data = {"email": "t@example.test", "password": PASSWORD}
    if where == "query":
        resp = client.post("/login?next=/hours/", data=data)
    else:
        resp = client.post("/login", data={**data, "next": "/hours/"})
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/hours/"


def test_login_page_carries_next_from_a_protected_page(ctx, client):
    create_user(email="t@example.test")
    db.session.commit()
    resp = client.get("/account")
    assert resp.status_code == 302
    login_url = resp.headers["Location"]
    assert urlsplit(login_url).path == "/login"
    resp = client.post(login_url, data={"email": "t@example.test", "password": PASSWORD})
    assert resp.headers["Location"] == "/account"


# --- Sign-out and ended sessions -------------------------------------------------------------------------------------


def test_logout_is_post_only(ctx, client, auth):
    create_user(email="t@example.test")
    db.session.commit()
    auth.login("t@example.test")
    assert client.get("/logout").status_code == 405
    _assert_signed_in(client)
    resp = client.post("/logout")
    assert resp.status_code == 302
    _assert_signed_out(client)


def test_replayed_session_cookie_is_rejected_after_logout(ctx, client, auth):
    create_user(email="t@example.test")
    db.session.commit()
    auth.login("t@example.test")
    _assert_signed_in(client)
    captured = _session_cookie(client)

    assert client.post("/logout").status_code == 302
    client.set_cookie("session", captured)
    _assert_signed_out(client)
    assert client.get("/account").status_code == 302


def test_password_change_ends_the_other_sessions(ctx, app, client, auth):
    create_user(email="t@example.test")
    db.session.commit()
    auth.login("t@example.test")
    captured = _session_cookie(client)
    elsewhere = app.test_client()
    elsewhere.post("/login", data={"email": "t@example.test", "password": PASSWORD})
    _assert_signed_in(elsewhere)

    resp = client.post("/account", data={"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert resp.status_code == 302
    _assert_signed_in(client)  # the session that changed the password continues
    _assert_signed_out(elsewhere)

    replay = app.test_client()
    replay.set_cookie("session", captured)
    _assert_signed_out(replay)


def test_admin_disabling_an_account_ends_its_sessions(ctx, app, client, auth):
    create_user("admin", email="admin@example.test")
    target = create_user("instructor", email="inst@example.test")
    db.session.commit()
    target_id = target.id
    auth.login("inst@example.test")
    _assert_signed_in(client)
    captured = _session_cookie(client)

    admin = app.test_client()
    admin.post("/login", data={"email": "admin@example.test", "password": PASSWORD})
    resp = admin.post(f"/admin/users/{target_id}/enabled", data={"enabled": "0"})
    assert resp.status_code == 302
    assert _user("inst@example.test").is_enabled is False

    _assert_signed_out(client)
    replay = app.test_client()
    replay.set_cookie("session", captured)
    _assert_signed_out(replay)
    again = client.post("/login", data={"email": "inst@example.test", "password": PASSWORD})
    assert again.status_code == 401


def test_admin_cannot_disable_their_own_account(ctx, client, auth):
    admin = create_user("admin", email="admin@example.test")
    db.session.commit()
    auth.login("admin@example.test")
    client.post(f"/admin/users/{admin.id}/enabled", data={"enabled": "0"})
    assert _user("admin@example.test").is_enabled is True
    _assert_signed_in(client)


def test_only_admins_can_disable_accounts(ctx, client, auth):
    create_user("instructor", email="inst@example.test")
    target = create_user("trainee", email="t@example.test")
    db.session.commit()
    auth.login("inst@example.test")
    assert client.post(f"/admin/users/{target.id}/enabled", data={"enabled": "0"}).status_code == 403
    assert _user("t@example.test").is_enabled is True


# --- Account page ----------------------------------------------------------------------------------------------------


def test_password_change_requires_the_current_password(ctx, app, client, auth):
    create_user(email="t@example.test")
    db.session.commit()
    hash_before = _user("t@example.test").password_hash
    auth.login("t@example.test")

    wrong = client.post("/account", data={"current": "not-my-password", "password": NEW_PASSWORD,
                                          "confirm": NEW_PASSWORD})
    assert wrong.status_code == 400
    assert "Your current password is not correct." in wrong.get_data(as_text=True)
    missing = client.post("/account", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert missing.status_code == 400
    assert _user("t@example.test").password_hash == hash_before

    ok = client.post("/account", data={"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert ok.status_code == 302
    assert _user("t@example.test").password_hash != hash_before
    fresh = app.test_client()
    assert fresh.post("/login", data={"email": "t@example.test", "password": PASSWORD}).status_code == 401
    assert fresh.post("/login", data={"email": "t@example.test", "password": NEW_PASSWORD}).status_code == 302


def test_password_change_applies_the_password_policy(ctx, client, auth):
    create_user(email="t@example.test")
    db.session.commit()
    hash_before = _user("t@example.test").password_hash
    auth.login("t@example.test")
    resp = client.post("/account", data={"current": PASSWORD, "password": "password123!", "confirm": "password123!"})
    assert resp.status_code == 400
    assert "commonly used passwords" in resp.get_data(as_text=True)
    assert _user("t@example.test").password_hash == hash_before


def test_account_page_needs_sign_in(client):
    resp = client.get("/account")
    assert resp.status_code == 302
    assert urlsplit(resp.headers["Location"]).path == "/login"


# --- Command line ----------------------------------------------------------------------------------------------------


def _cli_create(runner, *, email="inst@example.test", role="instructor", password=LONG_PASSPHRASE, extra=()):
    args = ["users", "create", "--email", email, "--name", "Ines Instructor", "--role", role, "--password", password,
            *extra]
    # Like a separate process: its own app context and database session, nothing left behind in the test's context.
    return contextvars.Context().run(runner.invoke, args=args)


def test_cli_creates_an_instructor(ctx, runner):
    result = _cli_create(runner, extra=("--profession", "dentist"))
    assert result.exit_code == 0, result.output
    assert "created instructor inst@example.test" in result.output
    user = _user("inst@example.test")
    assert user.role == "instructor" and user.profession == "dentist" and user.name == "Ines Instructor"
    assert user.password_hash.startswith("scrypt:") and user.check_password(LONG_PASSPHRASE)


@pytest.mark.parametrize(
    ("role", "password", "message"),
    [
        ("superuser", LONG_PASSPHRASE, "Invalid value for '--role'"),
        ("instructor", "short", "Use at least 12 characters"),
        ("instructor", "password123!", "commonly used passwords"),
    ],
)
def test_cli_refuses_bad_input_and_creates_nothing(ctx, runner, role, password, message):
    result = _cli_create(runner, role=role, password=password)
    assert result.exit_code != 0
    assert message in result.output
    assert _users() == []


def test_cli_refuses_a_duplicate_email(ctx, runner):
    create_user(email="inst@example.test", name="Original")
    db.session.commit()
    result = _cli_create(runner, email="INST@example.test")
    assert result.exit_code != 0
    assert "already exists" in result.output
    assert [u.name for u in _users()] == ["Original"]


# --- Admin creates staff and board accounts --------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "profession"), [("instructor", "dental_hygienist"), ("board", "")])
def test_admin_creates_staff_and_board_accounts(ctx, app, client, auth, role, profession):
    create_user("admin", email="admin@example.test")
    db.session.commit()
    auth.login("admin@example.test")
    resp = client.post("/admin/users", data={"name": "New Person", "email": "new@example.test", "role": role,
                                             "profession": profession, "password": LONG_PASSPHRASE})
    assert resp.status_code == 302
    user = _user("new@example.test")
    assert user.role == role
    assert user.profession == (profession or None)
    page = client.get("/admin/users").get_data(as_text=True)
    assert "new@example.test" in page
    # The new account can sign in with the initial password.
    other = app.test_client()
    assert other.post("/login", data={"email": "new@example.test", "password": LONG_PASSPHRASE}).status_code == 302


def test_admin_user_form_rejects_weak_password_and_duplicates(ctx, client, auth):
    create_user("admin", email="admin@example.test")
    db.session.commit()
    auth.login("admin@example.test")
    weak = client.post("/admin/users", data={"name": "X", "email": "x@example.test", "role": "instructor",
                                             "profession": "", "password": "short"})
    assert weak.status_code == 400
    assert _user("x@example.test") is None
    dup = client.post("/admin/users", data={"name": "X", "email": "ADMIN@example.test", "role": "board",
                                            "profession": "", "password": LONG_PASSPHRASE})
    assert dup.status_code == 400
    assert "already exists" in dup.get_data(as_text=True)
    assert len(_users()) == 1


@pytest.mark.parametrize("role", ["trainee", "instructor", "board"])
def test_non_admins_cannot_create_accounts(ctx, client, auth, role):
    create_user(role, email="someone@example.test")
    db.session.commit()
    auth.login("someone@example.test")
    assert client.get("/admin/users").status_code == 403
    resp = client.post("/admin/users", data={"name": "Sneaky", "email": "sneaky@example.test", "role": "admin",
                                             "profession": "", "password": LONG_PASSPHRASE})
    assert resp.status_code == 403
    assert _user("sneaky@example.test") is None


def test_anonymous_admin_users_redirects_to_sign_in(client):
    resp = client.post("/admin/users", data={"name": "A", "email": "a@example.test", "role": "admin",
                                             "password": LONG_PASSPHRASE})
    assert resp.status_code == 302
    assert urlsplit(resp.headers["Location"]).path == "/login"
