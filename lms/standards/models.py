"""Versions of certification standards, and explicit moves of enrollments between them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from lms.core.timeutil import utcnow
from lms.extensions import db


class StandardVersion(db.Model):
    """One loaded version of a standard file. Versions are never changed or removed."""

    __tablename__ = "standard_versions"
    __table_args__ = (sa.UniqueConstraint("standard_key", "version"), sa.UniqueConstraint("digest"))

    id: Mapped[int] = mapped_column(primary_key=True)
    standard_key: Mapped[str] = mapped_column(sa.String(40))
    version: Mapped[str] = mapped_column(sa.String(40))
    program_id: Mapped[str] = mapped_column(sa.ForeignKey("programs.id"))
    title: Mapped[str] = mapped_column(sa.String(200))
    digest: Mapped[str] = mapped_column(sa.String(64))
    data: Mapped[dict] = mapped_column(sa.JSON)
    source_path: Mapped[str] = mapped_column(sa.String(300))
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def label(self) -> str:
        return f"{self.standard_key} v{self.version}"


class StandardMove(db.Model):
    """An admin's explicit move of an enrollment to another standard version."""

    __tablename__ = "standard_moves"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrollments.id"), index=True)
    from_version_id: Mapped[int | None] = mapped_column(sa.ForeignKey("standard_versions.id"))
    to_version_id: Mapped[int] = mapped_column(sa.ForeignKey("standard_versions.id"))
    actor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
