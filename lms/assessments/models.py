"""Competency assessments by direct observation."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.timeutil import utcnow
from lms.extensions import db


class Assessment(db.Model):
    """A signed observation. Immutable: an amendment is a new record with ``amends_id`` set and a reason."""

    __tablename__ = "assessments"
    __table_args__ = (
        sa.CheckConstraint("level BETWEEN 1 AND 5", name="level_range"),
        sa.CheckConstraint("assessor_id <> trainee_id", name="not_self_assessed"),
        sa.Index("ix_assessments_trainee_competency", "trainee_id", "competency_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trainee_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    enrollment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrollments.id"), index=True)
    standard_version_id: Mapped[int] = mapped_column(sa.ForeignKey("standard_versions.id"))
    assessor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    assessor_is_dental: Mapped[bool] = mapped_column(default=False)
    competency_id: Mapped[str] = mapped_column(sa.String(20))
    observed_on: Mapped[date]
    criteria: Mapped[dict] = mapped_column(sa.JSON)  # criterion id -> met (bool)
    critical_failure: Mapped[bool] = mapped_column(default=False)
    level: Mapped[int]
    passed: Mapped[bool]  # derived from the standard when recorded; shown, never typed in
    case_code: Mapped[str | None] = mapped_column(sa.String(20))
    simulated: Mapped[bool] = mapped_column(default=False)
    # Competencies with a paired-measurement rule (C7): the assessor's and the trainee's readings compared.
    paired_measure: Mapped[dict | None] = mapped_column(sa.JSON)
    comments: Mapped[str] = mapped_column(sa.Text, default="")
    amends_id: Mapped[int | None] = mapped_column(sa.ForeignKey("assessments.id"), unique=True)
    amendment_reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    trainee = relationship("User", foreign_keys=[trainee_id])
    assessor = relationship("User", foreign_keys=[assessor_id])
    amends = relationship("Assessment", remote_side=[id])
