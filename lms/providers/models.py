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


LICENCE_STATES = ("pending", "verified", "rejected")


class Licence(db.Model):
    """A trainee's professional licence as submitted, and, once an admin has checked it at the primary source, as
    verified. A record is never edited after it is decided: new or changed details are a new record, and the newest
    record is the trainee's licence. Only a verified newest record feeds eligibility, certificates and Route D."""

    __tablename__ = "licences"
    __table_args__ = (
        sa.CheckConstraint("status IN ('pending','verified','rejected')", name="status_known"),
        sa.Index("ix_licences_trainee", "trainee_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trainee_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    profession: Mapped[str] = mapped_column(sa.String(40))
    jurisdiction: Mapped[str] = mapped_column(sa.String(10))
    number: Mapped[str] = mapped_column(sa.String(60))
    expires_on: Mapped[date | None]
    endorsements: Mapped[list] = mapped_column(sa.JSON, default=list)  # e.g. ["intraoral_massage"]
    evidence_file_id: Mapped[int | None] = mapped_column(sa.ForeignKey("evidence_files.id"))
    status: Mapped[str] = mapped_column(sa.String(12), default="pending")
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    verification_reference: Mapped[str | None] = mapped_column(sa.String(500))  # registry URL or look-up id
    decision_reason: Mapped[str | None] = mapped_column(sa.Text)

    evidence = relationship("EvidenceFile")
    trainee = relationship("User", foreign_keys=[trainee_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])

    @property
    def verified_on(self) -> date | None:
        return self.decided_at.date() if self.status == "verified" and self.decided_at else None


class AdvancedStanding(db.Model):
    """An admin's recorded recognition of prior learning, with evidence and a reason (append-only).

    ``prior_hours`` (P2a): hours dated on or after ``hours_from`` count although they precede the enrollment.
    ``omt_practice`` (P2b): evidence of active OMT practice stands in for a recent OMT course.
    """

    __tablename__ = "advanced_standings"
    __table_args__ = (sa.CheckConstraint("kind IN ('prior_hours','omt_practice')", name="kind_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trainee_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    program_id: Mapped[str] = mapped_column(sa.ForeignKey("programs.id"))
    kind: Mapped[str] = mapped_column(sa.String(20))
    hours_from: Mapped[date | None]
    credential: Mapped[str] = mapped_column(sa.String(200), default="")  # e.g. "IAOM COM 1234, expires 2027-05-01"
    reason: Mapped[str] = mapped_column(sa.Text)
    evidence_file_id: Mapped[int] = mapped_column(sa.ForeignKey("evidence_files.id"))
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    evidence = relationship("EvidenceFile")
    recorded_by = relationship("User", foreign_keys=[recorded_by_id])


class InstructorLink(db.Model):
    """A trainee names an instructor who may act for them (verify credentials and agreements, assess, read their
    evidence). Naming a supervisor on an hours entry counts too. Ending a link keeps it as history."""

    __tablename__ = "instructor_links"
    __table_args__ = (sa.Index("ix_instructor_links_instructor", "instructor_id", "ended_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trainee_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    instructor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]

    instructor = relationship("User", foreign_keys=[instructor_id])
