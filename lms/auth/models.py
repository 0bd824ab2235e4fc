"""Accounts and roles."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from lms.core.timeutil import utcnow
from lms.extensions import db


class Role(enum.StrEnum):
    TRAINEE = "trainee"
    INSTRUCTOR = "instructor"
    BOARD = "board"
    ADMIN = "admin"


ROLE_LABELS = {
    Role.TRAINEE: "Trainee",
    Role.INSTRUCTOR: "Instructor",
    Role.BOARD: "Licensing board",
    Role.ADMIN: "Administrator",
}


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (sa.CheckConstraint("role IN ('trainee','instructor','board','admin')", name="role_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    # The display name, shown everywhere in the interface. The legal name printed on certificates is the
    # provider profile's ``legal_name`` (see README, "One name per person").
    name: Mapped[str] = mapped_column(sa.String(200))
    # IANA zone in which this person reads times (stored times stay UTC); checked with zoneinfo on save.
    time_zone: Mapped[str] = mapped_column(sa.String(64), default="UTC", server_default="UTC")
    role: Mapped[str] = mapped_column(sa.String(20), default=Role.TRAINEE.value)
    # Profession of instructors and assessors (trainees keep theirs on the provider profile).
    profession: Mapped[str | None] = mapped_column(sa.String(40))
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    # Alternative id for Flask-Login: rotating it ends every session and remember cookie of this account.
    session_token: Mapped[str] = mapped_column(sa.String(64), unique=True, default=new_session_token)
    is_enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # Set when the owner follows the link sent to the address; unverified accounts cannot enroll or apply.
    email_verified_at: Mapped[datetime | None]
    verification_sent_at: Mapped[datetime | None]
    # The interface language the user chose ("en", "fr"); None follows the browser (see lms/core/i18n.py).
    locale: Mapped[str | None] = mapped_column(sa.String(8))

    def set_password(self, password: str) -> None:
        from flask import current_app

        self.password_hash = generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])
        self.session_token = new_session_token()

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def end_all_sessions(self) -> None:
        self.session_token = new_session_token()

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    def get_id(self) -> str:
        return self.session_token

    @property
    def is_active(self) -> bool:
        return self.is_enabled

    def has_role(self, *roles: str) -> bool:
        return self.role in {str(r) for r in roles}

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(Role(self.role), self.role)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"
