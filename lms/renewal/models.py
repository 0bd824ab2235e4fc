"""Continuing-education credits and renewal requests."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.timeutil import utcnow
from lms.extensions import db

CE_TOPICS = {"orofacial": "Orofacial, TMD or intraoral", "ethics": "Ethics and consent",
             "infection_control": "Infection control", "other": "Other"}


class ContinuingEducation(db.Model):
    """A continuing-education credit with its certificate of completion; counts once verified."""

    __tablename__ = "ce_credits"
    __table_args__ = (
        sa.CheckConstraint("hours > 0 AND hours <= 100", name="hours_range"),
        sa.CheckConstraint("status IN ('pending','verified','rejected')", name="status_known"),
        sa.CheckConstraint("topic IN ('orofacial','ethics','infection_control','other')", name="topic_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trainee_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    provider: Mapped[str] = mapped_column(sa.String(200))
    topic: Mapped[str] = mapped_column(sa.String(20))
    hours: Mapped[Decimal] = mapped_column(sa.Numeric(5, 2))
    completed_on: Mapped[date]
    evidence_file_id: Mapped[int] = mapped_column(sa.ForeignKey("evidence_files.id"))
    status: Mapped[str] = mapped_column(sa.String(10), default="pending")
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    trainee = relationship("User", foreign_keys=[trainee_id])


class RenewalRequest(db.Model):
    __tablename__ = "renewal_requests"
    __table_args__ = (sa.CheckConstraint("status IN ('pending','approved','declined')", name="status_known"),
                      sa.CheckConstraint("attested_sessions >= 0", name="sessions_non_negative"))

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(sa.ForeignKey("certificates.id"), index=True)
    trainee_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    attested_sessions: Mapped[int]
    status: Mapped[str] = mapped_column(sa.String(10), default="pending")
    note: Mapped[str] = mapped_column(sa.Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    new_certificate_id: Mapped[int | None] = mapped_column(sa.ForeignKey("certificates.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    certificate = relationship("Certificate", foreign_keys=[certificate_id])
    trainee = relationship("User", foreign_keys=[trainee_id])


class PracticeAttestation(db.Model):
    """A holder's statement of how many orofacial sessions they provided in a certificate's cycle.

    Never edited: a changed figure is a new record, and the newest one for the certificate counts.
    """

    __tablename__ = "practice_attestations"
    __table_args__ = (sa.CheckConstraint("sessions >= 0 AND sessions <= 99999", name="sessions_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trainee_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    certificate_id: Mapped[int] = mapped_column(sa.ForeignKey("certificates.id"), index=True)
    sessions: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
