"""Cases (one de-identified patient), interprofessional letters and outcome measures."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.timeutil import utcnow
from lms.extensions import db

CONDITION_LABELS = {
    "tmd_myogenous": "TMD, myogenous",
    "tmd_arthrogenous": "TMD, arthrogenous",
    "tmd_mixed": "TMD, mixed",
    "radiation_trismus": "Radiation-induced trismus",
    "post_surgical": "Post-surgical",
    "neurological": "Neurological",
    "other": "Other",
    "unspecified": "Not yet described",
}
AGE_BANDS = ("under_18", "18_29", "30_44", "45_59", "60_74", "75_plus", "unknown")
AGE_BAND_LABELS = {"under_18": "Under 18", "18_29": "18-29", "30_44": "30-44", "45_59": "45-59", "60_74": "60-74",
                   "75_plus": "75 or older", "unknown": "Not recorded"}


class Case(db.Model):
    """One patient, de-identified: known only by the trainee's own case number."""

    __tablename__ = "cases"
    __table_args__ = (sa.UniqueConstraint("trainee_id", "code", name="uq_cases_trainee_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trainee_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(20))
    condition: Mapped[str] = mapped_column(sa.String(30), default="unspecified")
    age_band: Mapped[str] = mapped_column(sa.String(10), default="unknown")
    consent_recorded: Mapped[bool] = mapped_column(default=False)
    consent_on: Mapped[date | None]
    agreement_id: Mapped[int | None] = mapped_column(sa.ForeignKey("collaboration_agreements.id"))
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    trainee = relationship("User")
    agreement = relationship("CollaborationAgreement")
    letters = relationship("CaseLetter", order_by="CaseLetter.id", back_populates="case")

    @property
    def condition_label(self) -> str:
        return CONDITION_LABELS.get(self.condition, self.condition)

    @property
    def age_band_label(self) -> str:
        return AGE_BAND_LABELS.get(self.age_band, self.age_band)


class CaseLetter(db.Model):
    """An interprofessional communication letter about the case (a document or a letter reference)."""

    __tablename__ = "case_letters"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    sent_on: Mapped[date]
    recipient: Mapped[str] = mapped_column(sa.String(40))  # the recipient's profession, never a name
    reference: Mapped[str] = mapped_column(sa.String(200), default="")
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    document_file_id: Mapped[int | None] = mapped_column(sa.ForeignKey("evidence_files.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case = relationship("Case", back_populates="letters")
    document = relationship("EvidenceFile")


class CaseMeasure(db.Model):
    """One outcome measurement. Never edited: a correction is a new record pointing at the one it corrects."""

    __tablename__ = "case_measures"
    __table_args__ = (
        sa.CheckConstraint("timepoint IN ('baseline','session','follow_up')", name="timepoint_known"),
        sa.Index("ix_case_measures_case_measure", "case_id", "measure"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"))
    measured_on: Mapped[date]
    timepoint: Mapped[str] = mapped_column(sa.String(10))
    measure: Mapped[str] = mapped_column(sa.String(30))
    value: Mapped[float]
    items: Mapped[list | None] = mapped_column(sa.JSON)
    method: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    method_note: Mapped[str] = mapped_column(sa.Text, default="")
    hour_entry_id: Mapped[int | None] = mapped_column(sa.ForeignKey("hour_entries.id"))
    corrects_id: Mapped[int | None] = mapped_column(sa.ForeignKey("case_measures.id"), unique=True)
    correction_reason: Mapped[str | None] = mapped_column(sa.Text)
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case = relationship("Case")
