"""Account flows that go through the owner's mailbox: verification, password reset and change of address.

Tokens are signed with the app's secret (itsdangerous) and carry their purpose in the salt:
- password reset: one hour, bound to the current password hash, so it stops working once used or once the password
  changes by any other route;
- address verification: seven days, bound to the address it was sent to;
- change of address: one day, bound to the old and the new address.
Every function flushes only; the request commits, and the mail leaves after that (see ``lms.notifications``).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from werkzeug.security import check_password_hash

from lms.auth.models import Role, User
from lms.auth.operations import (
    AccountError,
    _dummy_hash,
    create_user,
    find_by_email,
    normalize_email,
    password_problem,
)
from lms.core import audit
from lms.core.timeutil import utcnow
from lms.extensions import db

RESET_MAX_AGE = 3600
VERIFY_MAX_AGE = 7 * 24 * 3600
CHANGE_MAX_AGE = 24 * 3600
RESEND_INTERVAL = timedelta(minutes=2)
UNVERIFIED_MESSAGE = ("Verify your email address first: open the link we sent you, or send a new one from your "
                      "account page.")


class TokenError(ValueError):
    """A link that cannot be used; the message says what to do instead."""


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"account-{purpose}")


def _load(purpose: str, token: str, max_age: int, expired: str) -> dict:
    try:
        data = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise TokenError(expired) from exc
    except BadSignature as exc:
        raise TokenError("That link is not valid. Copy the whole link from the email, or ask for a new one.") from exc
    if not isinstance(data, dict):
        raise TokenError("That link is not valid.")
    return data


def _url(endpoint: str, **values) -> str:
    from lms.notifications.operations import absolute, path_for

    return absolute(path_for(endpoint, **values))


def _mail(to: str, subject: str, lines: list[str], event: str, *, user=None, action_url=None, action="Open OroCert"):
    from lms.notifications.operations import queue_email

    return queue_email(to=to, subject=subject, lines=lines, category="security", event=event, user=user,
                       action_url=action_url, action=action)


# ---------------------------------------------------------------- password reset

def _password_fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:24]


def reset_token(user: User) -> str:
    return _serializer("reset").dumps({"u": user.id, "p": _password_fingerprint(user)})


def user_for_reset_token(token: str) -> User:
    data = _load("reset", token, RESET_MAX_AGE,
                 "That link has expired: reset links work for one hour. Ask for a new one.")
    user = db.session.get(User, data.get("u")) if isinstance(data.get("u"), int) else None
    if user is None or not user.is_enabled or data.get("p") != _password_fingerprint(user):
        raise TokenError("That link has already been used or your password has changed since. Ask for a new one.")
    return user


def request_password_reset(email: str) -> None:
    """Send a reset link when the address belongs to an active account. The caller answers the same either way."""
    user = find_by_email(email)
    if user is None or not user.is_enabled:
        audit.record("auth.reset_request", "user", "-", reason="unknown or disabled account")
        return
    audit.record("auth.reset_request", "user", user.id)
    _mail(user.email, "Reset your OroCert password",
          ["Someone (we hope you) asked to reset the password of your OroCert account.",
           "The link works once, for one hour. If you did not ask, ignore this email: your password stays as it is."],
          "security.password_reset", user=user, action_url=_url("auth.reset_password", token=reset_token(user)),
          action="Choose a new password")


def reset_password(token: str, new_password: str) -> User:
    from lms.notifications import notify

    user = user_for_reset_token(token)
    problem = password_problem(new_password)
    if problem:
        raise AccountError(problem)
    user.set_password(new_password)  # rotates the session token: every session of the account ends
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()  # the link reached the owner's mailbox
    audit.record("user.password_reset", "user", user.id, actor=user)
    notify(user, "security.password_changed", user)
    return user


# ---------------------------------------------------------------- verification at registration

def verification_token(user: User) -> str:
    return _serializer("verify").dumps({"u": user.id, "e": user.email})


def send_verification(user: User, *, force: bool = False) -> None:
    """Send the verification link; at most once per RESEND_INTERVAL unless ``force``."""
    if user.is_verified:
        raise AccountError("Your email address is already verified.")
    now = utcnow()
    if not force and user.verification_sent_at and now - user.verification_sent_at < RESEND_INTERVAL:
        wait = int((RESEND_INTERVAL - (now - user.verification_sent_at)).total_seconds()) + 1
        raise AccountError(f"We sent a link a moment ago. Check your inbox, or try again in {wait} seconds.")
    user.verification_sent_at = now
    _mail(user.email, "Confirm your email address for OroCert",
          [f"Welcome to OroCert, {user.name}.",
           "Confirm that this address is yours to enroll in programs and apply for certificates. "
           "The link works for seven days."],
          "security.verify_email", user=user, action_url=_url("auth.verify_email", token=verification_token(user)),
          action="Confirm your address")


def verify_email(token: str, *, apply: bool = True) -> User:
    """Check the link and (when ``apply``) mark the address verified."""
    data = _load("verify", token, VERIFY_MAX_AGE,
                 "That link has expired. Sign in and send a new one from your account page.")
    user = db.session.get(User, data.get("u")) if isinstance(data.get("u"), int) else None
    if user is None or user.email != data.get("e"):
        raise TokenError("That link is for an address this account no longer uses.")
    if apply and user.email_verified_at is None:
        user.email_verified_at = utcnow()
        audit.record("user.email_verified", "user", user.id, actor=user)
    return user


def register(*, email: str, name: str, password: str) -> User | None:
    """Create a trainee account and send its verification link.

    When the address is taken nothing is created; its owner is told someone tried, and the caller gives the same
    answer as for a new account, so the form never reveals which addresses have accounts.
    """
    existing = find_by_email(email)
    if existing is not None:
        check_password_hash(_dummy_hash(), password)  # the same hashing work as a real registration
        audit.record("user.register_existing", "user", existing.id)
        _mail(existing.email, "Someone tried to register with your address",
              ["Someone tried to create a new OroCert account with this email address, which already has one.",
               "If it was you, sign in instead; if you forgot your password, reset it. Otherwise you can ignore "
               "this email: nothing has changed on your account."],
              "security.register_attempt", user=existing, action_url=_url("auth.forgot_password"),
              action="Reset your password")
        return None
    user = create_user(email=email, name=name, role=Role.TRAINEE.value, password=password)
    send_verification(user, force=True)
    return user


def verification_gaps(user) -> list:
    """Enrollment prerequisites: an unverified address is one more gap, with how to fix it."""
    from lms.training.operations import Gap

    if getattr(user, "is_verified", True):
        return []
    return [Gap("Your email address is not verified yet.",
                "Open the link we emailed you, or send a new one from your account page.")]


def require_verified(user, error: type[Exception]) -> None:
    """Raise ``error`` with a clear message when the account's address is not verified."""
    if not getattr(user, "is_verified", True):
        raise error(UNVERIFIED_MESSAGE)


# ---------------------------------------------------------------- change of address

def request_email_change(user: User, *, password: str, new_email: str) -> str:
    """Check the password and send a confirmation link to the new address. Returns the normalised address.

    When the new address already has an account, its owner is told instead, and the answer is the same.
    """
    if not user.check_password(password):
        raise AccountError("Your password is not correct.")
    new_email = normalize_email(new_email)
    if new_email == user.email:
        raise AccountError("That is already your address.")
    owner = find_by_email(new_email)
    audit.record("user.email_change_request", "user", user.id, actor=user)
    if owner is not None:
        _mail(owner.email, "Someone tried to use your address on OroCert",
              ["Someone tried to move another OroCert account to this email address, which already has an account.",
               "Nothing has changed on your account. If this keeps happening, contact an administrator."],
              "security.register_attempt", user=owner)
        return new_email
    token = _serializer("change").dumps({"u": user.id, "o": user.email, "n": new_email})
    _mail(new_email, "Confirm your new OroCert email address",
          [f"{user.name} asked to use this address for their OroCert account.",
           "Confirm to make the change. The link works for one day. If you did not ask, ignore this email."],
          "security.confirm_new_email", action_url=_url("auth.confirm_email_change", token=token),
          action="Confirm the new address")
    return new_email


def confirm_email_change(token: str, *, apply: bool = True) -> tuple[User, str]:
    """Check the link and (when ``apply``) move the account to the new address. Returns the user and the address."""
    from lms.notifications import notify

    data = _load("change", token, CHANGE_MAX_AGE, "That link has expired. Ask for the change again.")
    user = db.session.get(User, data.get("u")) if isinstance(data.get("u"), int) else None
    if user is None or user.email != data.get("o"):
        raise TokenError("That link has already been used or the address has changed since.")
    new = normalize_email(data.get("n", ""))
    if find_by_email(new) is not None:
        raise TokenError("That address now belongs to another account; the change was not made.")
    if not apply:
        return user, new
    old = user.email
    user.email, user.email_verified_at = new, utcnow()
    db.session.flush()
    audit.record("user.email_change", "user", user.id, actor=user)
    notify(user, "security.email_changed", user, old=old, new=new)
    _mail(old, "Your OroCert email address was changed",
          [f"The email address of your OroCert account was changed from {old} to {new}.",
           "If you did not do this, contact an administrator at once."], "security.email_changed", user=user)
    return user, new
