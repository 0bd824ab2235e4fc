"""Password reset, address verification and change of address, through the web pages and a real SMTP server."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from lms.auth.models import User
from lms.extensions import db
from lms.notifications.delivery import deliver_pending
from tests.factories import PASSWORD, create_user, page_text, signed_in_client
from tests.smtp import mail_app, smtp  # noqa: F401 - fixtures

NEW_PASSWORD = "lantern-meadow-orbit-77"


@pytest.fixture
def app(mail_app):  # noqa: F811 - every test here sends through the real SMTP server
    return mail_app


def _deliver():
    db.session.commit()
    return deliver_pending()


def _path(url: str) -> str:
    return urlsplit(url).path


def _reset_link(client, smtp, address) -> str:  # noqa: F811
    smtp.clear()
    resp = client.post("/forgot-password", data={"email": address})
    assert resp.status_code == 302
    _deliver()
    [mail] = smtp.to(address)
    return _path(mail.link("/reset-password/"))


# --- Password reset --------------------------------------------------------------------------------------------------


def test_reset_by_email_sets_a_new_password_ends_sessions_and_the_link_works_once(ctx, client, smtp):  # noqa: F811
    user = create_user(email="harper@example.test")
    db.session.commit()
    other_device = signed_in_client(ctx, "harper@example.test")
    assert "Forgot your password?" in client.get("/login").get_data(as_text=True)

    link = _reset_link(client, smtp, "harper@example.test")
    [mail] = smtp.to("harper@example.test")
    assert mail.rcpt == ["harper@example.test"] and len(smtp.messages) == 1
    assert "reset" in mail.subject.lower() and link in mail.html  # both parts carry the link
    assert client.get(link).status_code == 200

    resp = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert resp.status_code == 302 and _path(resp.headers["Location"]) == "/login"
    # Every other session ended; the new password signs in and the old one fails.
    assert _path(other_device.get("/dashboard").headers["Location"]) == "/login"
    assert ctx.test_client().post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 401
    assert ctx.test_client().post("/login", data={"email": user.email, "password": NEW_PASSWORD}).status_code == 302
    # The link fails a second time.
    again = client.post(link, data={"password": "another-long-passphrase", "confirm": "another-long-passphrase"})
    assert again.status_code == 400 and "already been used" in page_text(again)
    assert client.get(link).status_code == 400
    # The owner is told the password changed.
    _deliver()
    notices = [m for m in smtp.to("harper@example.test") if "password was changed" in m.subject]
    assert len(notices) == 1 and notices[0].html


def test_forgot_password_answers_the_same_for_unknown_addresses_and_sends_nothing(ctx, client, smtp):  # noqa: F811
    create_user(email="known@example.test")
    db.session.commit()
    known = client.post("/forgot-password", data={"email": "known@example.test"}, follow_redirects=True)
    unknown = client.post("/forgot-password", data={"email": "nobody@example.test"}, follow_redirects=True)
    assert known.status_code == unknown.status_code == 200
    assert page_text(known).replace("known@", "X@") == page_text(unknown).replace("nobody@", "X@")
    _deliver()
    assert [m.rcpt for m in smtp.messages] == [["known@example.test"]]


def test_reset_password_applies_the_registration_policy(ctx, client, smtp):  # noqa: F811
    create_user(email="t@example.test")
    db.session.commit()
    link = _reset_link(client, smtp, "t@example.test")
    resp = client.post(link, data={"password": "short", "confirm": "short"})
    assert resp.status_code == 400 and "at least 12 characters" in page_text(resp)
    assert ctx.test_client().post("/login", data={"email": "t@example.test", "password": PASSWORD}).status_code == 302


def test_reset_link_expires_after_one_hour(ctx, client, monkeypatch):
    import itsdangerous.timed

    from lms.auth.email_flows import reset_token

    user = create_user(email="late@example.test")
    db.session.commit()
    now = time.time()
    with monkeypatch.context() as m:
        m.setattr(itsdangerous.timed.time, "time", lambda: now - 3601)
        token = reset_token(user)
    resp = client.post(f"/reset-password/{token}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert resp.status_code == 400 and "expired" in page_text(resp)
    with monkeypatch.context() as m:
        m.setattr(itsdangerous.timed.time, "time", lambda: now - 3500)
        fresh = reset_token(user)
    assert client.get(f"/reset-password/{fresh}").status_code == 200


def test_reset_link_dies_when_the_password_changes_another_way(ctx, client, smtp):  # noqa: F811
    create_user(email="t@example.test")
    db.session.commit()
    link = _reset_link(client, smtp, "t@example.test")
    signed = signed_in_client(ctx, "t@example.test")
    resp = signed.post("/account", data={"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert resp.status_code == 302
    assert client.get(link).status_code == 400
    tampered = link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb")
    assert "not valid" in page_text(client.get(tampered))


# --- Registration and verification ---------------------------------------------------------------------------------


def _register(client, email):
    return client.post("/register", data={"name": "Robin Register", "email": email, "password": NEW_PASSWORD,
                                          "confirm": NEW_PASSWORD}, follow_redirects=True)


def test_registration_never_reveals_a_taken_address_and_tells_its_owner(ctx, client, smtp):  # noqa: F811
    owner = create_user(email="taken@example.test", name="First Owner")
    db.session.commit()
    new = _register(client, "fresh@example.test")
    taken = _register(ctx.test_client(), "taken@example.test")
    assert new.status_code == taken.status_code == 200
    assert page_text(new).replace("fresh@", "X@") == page_text(taken).replace("taken@", "X@")
    assert "Check your email" in page_text(new)
    _deliver()
    [verify] = smtp.to("fresh@example.test")
    assert "Confirm your email" in verify.subject and "/verify-email/" in verify.text
    [warning] = smtp.to("taken@example.test")
    assert "tried to register" in warning.subject
    assert len(smtp.messages) == 2
    db.session.refresh(owner)
    assert owner.name == "First Owner"
    assert db.session.execute(sa.select(sa.func.count(User.id))).scalar_one() == 2


def test_unverified_account_signs_in_and_fills_its_profile_but_cannot_enroll_or_apply(ctx, client, smtp, program):  # noqa: F811
    from lms.auth.email_flows import UNVERIFIED_MESSAGE
    from lms.certificates.applications import ApplicationError, apply
    from lms.training.operations import EnrollmentError, enroll
    from tests.factories import create_credential, create_profile

    _register(client, "robin@example.test")
    user = db.session.execute(sa.select(User).filter_by(email="robin@example.test")).scalar_one()
    assert not user.is_verified
    signed = signed_in_client(ctx, "robin@example.test", NEW_PASSWORD)
    assert signed.get("/profile").status_code == 200
    create_profile(user)
    create_credential(user)
    db.session.commit()
    with pytest.raises(EnrollmentError, match="email address is not verified"):
        enroll(user, program)
    with pytest.raises(ApplicationError, match="Verify your email address"):
        apply(user, program_id="omr")
    assert "Verify your email address" in UNVERIFIED_MESSAGE
    db.session.rollback()
    page = signed.get("/program")
    assert "not verified" in page_text(page)

    _deliver()
    link = _path(smtp.to("robin@example.test")[0].link("/verify-email/"))
    assert signed.get(link).status_code == 200  # a page with a button: a link scanner changes nothing
    db.session.expire_all()
    assert not db.session.get(User, user.id).is_verified
    assert signed.post(link).status_code == 302
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert user.is_verified
    assert enroll(user, program).user_id == user.id


def test_resending_the_verification_link_is_rate_limited(ctx, client, smtp):  # noqa: F811
    _register(client, "robin@example.test")
    signed = signed_in_client(ctx, "robin@example.test", NEW_PASSWORD)
    first = signed.post("/account/verification", follow_redirects=True)
    assert "moment ago" in page_text(first)  # the registration mail was just sent
    user = db.session.execute(sa.select(User).filter_by(email="robin@example.test")).scalar_one()
    user.verification_sent_at = user.verification_sent_at.replace(year=2020)
    db.session.commit()
    again = signed.post("/account/verification", follow_redirects=True)
    assert "We sent a new link" in page_text(again)
    third = signed.post("/account/verification", follow_redirects=True)
    assert "moment ago" in page_text(third)
    _deliver()
    assert len(smtp.to("robin@example.test")) == 2


def test_accounts_created_by_an_operator_are_verified_and_registrations_are_not(ctx):
    from lms.auth.operations import create_user as create_account

    assert create_account(email="op@example.test", name="Op", role="instructor", password=NEW_PASSWORD,
                          verified=True).is_verified
    assert not create_account(email="self@example.test", name="Self", role="trainee", password=NEW_PASSWORD).is_verified


# --- Change of address -------------------------------------------------------------------------------------------


def test_change_of_address_needs_the_password_confirms_the_new_and_tells_the_old(ctx, client, smtp):  # noqa: F811
    create_user(email="old@example.test")
    db.session.commit()
    signed = signed_in_client(ctx, "old@example.test")
    wrong = signed.post("/account/email", data={"new_email": "new@example.test", "email_password": "not-my-password"})
    assert wrong.status_code == 400 and "password is not correct" in page_text(wrong)
    _deliver()
    assert smtp.messages == []

    ok = signed.post("/account/email", data={"new_email": "New@Example.test", "email_password": PASSWORD})
    assert ok.status_code == 302
    _deliver()
    [confirm] = smtp.to("new@example.test")
    assert smtp.to("old@example.test") == []
    link = _path(confirm.link("/account/email/"))
    assert signed.get(link).status_code == 200
    assert signed.post(link).status_code == 302
    db.session.expire_all()
    user = db.session.execute(sa.select(User).filter_by(email="new@example.test")).scalar_one()
    assert user.is_verified
    _deliver()
    [old_notice] = smtp.to("old@example.test")
    assert "was changed" in old_notice.subject and "new@example.test" in old_notice.text
    assert any("was changed" in m.subject for m in smtp.to("new@example.test"))
    assert signed.post(link).status_code == 400  # used once


def test_change_to_a_taken_address_changes_nothing_and_warns_its_owner(ctx, client, smtp):  # noqa: F811
    create_user(email="me@example.test")
    create_user(email="someone@example.test")
    db.session.commit()
    signed = signed_in_client(ctx, "me@example.test")
    resp = signed.post("/account/email", data={"new_email": "someone@example.test", "email_password": PASSWORD},
                       follow_redirects=True)
    assert "We sent a confirmation link to someone@example.test" in page_text(resp)
    _deliver()
    [warning] = smtp.to("someone@example.test")
    assert "tried to use your address" in warning.subject and "/account/email/" not in warning.text
    assert db.session.execute(sa.select(User).filter_by(email="me@example.test")).scalar_one()
