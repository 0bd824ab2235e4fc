"""Account operations. They flush; the request or command commits."""

from __future__ import annotations

import functools
import secrets

import sqlalchemy as sa
from flask_babel import gettext as _
from werkzeug.security import check_password_hash

from lms.auth.models import Role, User
from lms.core import audit
from lms.core.timeutil import utcnow
from lms.extensions import db

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256


class AccountError(ValueError):
    pass


def password_problem(password: str) -> str | None:
    """Return a plain-language reason the password is not acceptable, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return _("Use at least %(n)d characters. A few unrelated words make a strong, memorable password.",
                 n=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        return _("Use at most %(n)d characters.", n=MAX_PASSWORD_LENGTH)
    from lms.auth.common_passwords import is_common

    if is_common(password):
        return _("That password is on a list of commonly used passwords. Please choose another.")
    return None


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def find_by_email(email: str) -> User | None:
    return db.session.execute(sa.select(User).filter_by(email=normalize_email(email))).scalar_one_or_none()


def create_user(*, email: str, name: str, role: str, password: str, profession: str | None = None,
                actor=None, verified: bool = False) -> User:
    """Create an account. Raises AccountError with a readable message when the input cannot be used.

    ``verified`` marks the address as confirmed (accounts an administrator vouches for, demo accounts)."""
    email = normalize_email(email)
    if role not in {r.value for r in Role}:
        raise AccountError(f"Unknown role '{role}'. Use one of: trainee, instructor, board, admin.")
    if not email or "@" not in email:
        raise AccountError("Enter a valid email address.")
    if not name.strip():
        raise AccountError("Enter a name.")
    problem = password_problem(password)
    if problem:
        raise AccountError(problem)
    if find_by_email(email):
        raise AccountError("An account with that email already exists.")
    user = User(email=email, name=name.strip(), role=role, profession=profession or None,
                email_verified_at=utcnow() if verified else None)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", "user", user.id, actor=actor or user, role=role)
    return user


def authenticate(email: str, password: str) -> User | None:
    """Return the user when the email and password match an enabled account.

    The same work (one hash check) happens for unknown emails, so neither the answer nor its timing tells
    whether an account exists.
    """
    user = find_by_email(email)
    if user is None:
        check_password_hash(_dummy_hash(), password)
        audit.record("auth.failure", "user", "-", reason="unknown account")
        return None
    if not user.check_password(password) or not user.is_enabled:
        audit.record("auth.failure", "user", user.id, reason="bad password or disabled")
        return None
    user.last_login_at = utcnow()
    audit.record("auth.success", "user", user.id, actor=user)
    return user


def set_time_zone(user: User, zone_name: str) -> None:
    """Show ``user`` every time in ``zone_name`` (an IANA name such as ``America/Toronto``); stored times stay UTC."""
    from lms.core.formatting import valid_zone

    zone_name = (zone_name or "").strip()
    if not valid_zone(zone_name):
        raise AccountError("Choose a time zone from the list, such as America/Toronto or Europe/Paris.")
    user.time_zone = zone_name
    db.session.flush()


def change_password(user: User, current: str, new: str) -> None:
    if not user.check_password(current):
        raise AccountError("Your current password is not correct.")
    problem = password_problem(new)
    if problem:
        raise AccountError(problem)
    user.set_password(new)  # also rotates the session token: every other session ends
    audit.record("user.password_change", "user", user.id, actor=user)
    from lms.notifications import notify

    notify(user, "security.password_changed", user)


def sign_out(user: User) -> None:
    """End the account's sessions: every cookie that names the old session token stops working.

    Flask keeps the session in a signed cookie on the client, so clearing it at sign-out does not stop a copy of that
    cookie from being replayed. Rotating the token does, at the price of signing the account out on every device.
    """
    user.end_all_sessions()
    audit.record("auth.logout", "user", user.id, actor=user)


def set_enabled(user: User, enabled: bool, *, actor) -> None:
    user.is_enabled = enabled
    user.end_all_sessions()
    audit.record("user.enable" if enabled else "user.disable", "user", user.id, actor=actor)


@functools.cache
def _dummy_hash_for(method: str) -> str:
    from werkzeug.security import generate_password_hash

    return generate_password_hash(secrets.token_hex(16), method=method)


def _dummy_hash() -> str:
    """A hash of the same cost as real ones, so unknown accounts take as long to refuse as wrong passwords."""
    from flask import current_app

    return _dummy_hash_for(current_app.config["PASSWORD_HASH_METHOD"])
