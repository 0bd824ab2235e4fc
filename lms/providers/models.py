"""Provider profile, prerequisite credentials and evidence files."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.timeutil import utcnow
from lms.extensions import db

CREDENTIAL_STATES = ("pending", "verified", "rejected")


class ProviderProfile(db.Model):
    __tablename__ = "provider_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), unique=True)
    legal_name: Mapped[str] = mapped_column(sa.String(200))
    profession: Mapped[str] = mapped_column(sa.String(40))
    license_number: Mapped[str] = mapped_column(sa.String(60))
    license_expires_on: Mapped[date | None]
    jurisdiction: Mapped[str] = mapped_column(sa.String(10))
    cpr_expires_on: Mapped[date | None]
    # The license carries the jurisdiction's intraoral endorsement, where one exists (e.g. Washington LMT).
    has_intraoral_endorsement: Mapped[bool] = mapped_column(default=False)
    infection_control_ack_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    user = relationship("User", backref=db.backref("profile", uselist=False))


class EvidenceFile(db.Model):
    """An uploaded document (PDF, PNG or JPEG), stored under a generated name."""

    __tablename__ = "evidence_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(30))  # omt_credential | agreement
    stored_name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    original_name: Mapped[str] = mapped_column(sa.String(255))
    content_type: Mapped[str] = mapped_column(sa.String(60))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OmtCredential(db.Model):
    """The orofacial myofunctional therapy (OMT) foundation credential a trainee holds.

    A resubmission is a new record; a decision is made once, by an instructor or admin, with a reason.
    """

    __tablename__ = "omt_credentials"
    __table_args__ = (
        sa.CheckConstraint("status IN ('pending','verified','rejected')", name="status_known"),
        sa.CheckConstraint("course_hours > 0", name="hours_positive"),
        # One pending OMT credential per trainee at a time: a resubmission waits for the decision on the last one.
        sa.Index("uq_omt_credentials_one_pending", "user_id", unique=True,
                 sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    provider_name: Mapped[str] = mapped_column(sa.String(200))
    course_hours: Mapped[Decimal] = mapped_column(sa.Numeric(6, 2))
    completed_on: Mapped[date]
    evidence_file_id: Mapped[int | None] = mapped_column(sa.ForeignKey("evidence_files.id"))
    status: Mapped[str] = mapped_column(sa.String(12), default="pending")
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    evidence = relationship("EvidenceFile")
    user = relationship("User", foreign_keys=[user_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])
