"""Pre-treatment intraoral screenings and collaboration agreements with dental professionals."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.timeutil import utcnow
from lms.extensions import db


class CollaborationAgreement(db.Model):
    """Route N: a documented collaboration with a licensed dental professional."""

    __tablename__ = "collaboration_agreements"
    __table_args__ = (
        sa.CheckConstraint("status IN ('pending','verified','rejected','revoked')", name="status_known"),
        sa.CheckConstraint("valid_until >= valid_from", name="dates_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trainee_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    dentist_name: Mapped[str] = mapped_column(sa.String(200))
    dentist_profession: Mapped[str] = mapped_column(sa.String(40))
    dentist_license: Mapped[str] = mapped_column(sa.String(60))
    dentist_jurisdiction: Mapped[str] = mapped_column(sa.String(10))
    valid_from: Mapped[date]
    valid_until: Mapped[date]
    document_file_id: Mapped[int] = mapped_column(sa.ForeignKey("evidence_files.id"))
    status: Mapped[str] = mapped_column(sa.String(12), default="pending")
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    document = relationship("EvidenceFile")
    trainee = relationship("User", foreign_keys=[trainee_id])


class Screening(db.Model):
    """A pre-treatment intraoral screening for one session. No patient identifiers."""

    __tablename__ = "screenings"
    __table_args__ = (
        sa.CheckConstraint("screened_by IN ('self','collaborator')", name="screener_known"),
        sa.CheckConstraint("outcome IN ('clear','modify','blocked')", name="outcome_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trainee_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    session_date: Mapped[date]
    case_code: Mapped[str | None] = mapped_column(sa.String(20))
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    screened_by: Mapped[str] = mapped_column(sa.String(12))  # self (Route D) | collaborator (Route N)
    agreement_id: Mapped[int | None] = mapped_column(sa.ForeignKey("collaboration_agreements.id"))
    clearance_date: Mapped[date | None]  # Route N: date of the dental clearance
    # Route N: the collaborating dental professional's clearance for this patient, as a document or a letter
    # reference, and what the trainee attested about the time since the clearance.
    clearance_document_id: Mapped[int | None] = mapped_column(sa.ForeignKey("evidence_files.id"))
    clearance_reference: Mapped[str | None] = mapped_column(sa.String(200))
    clearance_events: Mapped[list | None] = mapped_column(sa.JSON)  # events since the clearance that end it
    attested_no_change: Mapped[bool] = mapped_column(default=False)
    lab_practice: Mapped[bool] = mapped_column(default=False)  # a lab partner, not a clinical patient
    findings: Mapped[dict] = mapped_column(sa.JSON)  # extraoral, teeth, gingiva, bone, tongue, soft_tissue -> text
    absolute_contraindications: Mapped[list] = mapped_column(sa.JSON)
    relative_contraindications: Mapped[list] = mapped_column(sa.JSON)
    modifications: Mapped[str] = mapped_column(sa.Text, default="")
    outcome: Mapped[str] = mapped_column(sa.String(10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    agreement = relationship("CollaborationAgreement")
    clearance_document = relationship("EvidenceFile")
