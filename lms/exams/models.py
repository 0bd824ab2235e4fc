"""Exam items, timed sittings with every answer kept, and OSCE station results."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.timeutil import utcnow
from lms.extensions import db


class ExamItem(db.Model):
    """One item of a program's exam bank (loaded from courses/<program>/exam/). Never shown outside a sitting."""

    __tablename__ = "exam_items"
    __table_args__ = (sa.UniqueConstraint("program_id", "item_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[str] = mapped_column(sa.ForeignKey("programs.id"))
    item_key: Mapped[str] = mapped_column(sa.String(40))
    domain: Mapped[str] = mapped_column(sa.String(40))
    prompt: Mapped[str] = mapped_column(sa.Text)
    choices: Mapped[list] = mapped_column(sa.JSON)
    answer: Mapped[int]  # index into choices as written in the file
    is_active: Mapped[bool] = mapped_column(default=True)  # an item dropped from the bank is retired, not deleted


class ExamSitting(db.Model):
    """One timed sitting. The server sets the start and the deadline; the draw is fixed when the sitting starts.

    The unique (enrollment, attempt number) key means two parallel starts cannot both take the same attempt.
    """

    __tablename__ = "exam_sittings"
    __table_args__ = (sa.UniqueConstraint("enrollment_id", "attempt_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trainee_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    enrollment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrollments.id"))
    standard_version_id: Mapped[int] = mapped_column(sa.ForeignKey("standard_versions.id"))
    attempt_no: Mapped[int]
    draw: Mapped[list] = mapped_column(sa.JSON)  # [{"item": exam_items.id, "order": [choice index, ...]}, ...]
    started_at: Mapped[datetime]
    deadline: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    submitted_by: Mapped[str | None] = mapped_column(sa.String(20))  # trainee | time_limit
    correct: Mapped[int | None]
    total: Mapped[int]
    score_percent: Mapped[int | None]
    pass_mark: Mapped[int]
    passed: Mapped[bool | None]

    answers = relationship("ExamAnswer", order_by="ExamAnswer.id", back_populates="sitting")

    @property
    def is_open(self) -> bool:
        return self.submitted_at is None


class ExamAnswer(db.Model):
    """Every answer as it was given; a changed answer is a new row, and the latest one per item counts."""

    __tablename__ = "exam_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    sitting_id: Mapped[int] = mapped_column(sa.ForeignKey("exam_sittings.id"), index=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("exam_items.id"))
    choice: Mapped[int]  # index into the item's choices as written in the file
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)

    sitting = relationship("ExamSitting", back_populates="answers")


class OsceResult(db.Model):
    """One graded OSCE station. Immutable: an amendment is a new record with ``amends_id`` and a reason."""

    __tablename__ = "osce_results"
    __table_args__ = (sa.CheckConstraint("assessor_id <> trainee_id", name="osce_not_self_assessed"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trainee_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    enrollment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrollments.id"))
    standard_version_id: Mapped[int] = mapped_column(sa.ForeignKey("standard_versions.id"))
    station_id: Mapped[str] = mapped_column(sa.String(40))
    assessor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    assessed_on: Mapped[date]
    checklist: Mapped[dict] = mapped_column(sa.JSON)  # checklist item id -> ticked (bool)
    global_rating: Mapped[int]
    passed: Mapped[bool]  # derived from the station's pass rule when recorded
    failed_reasons: Mapped[list] = mapped_column(sa.JSON)
    comments: Mapped[str] = mapped_column(sa.Text, default="")
    amends_id: Mapped[int | None] = mapped_column(sa.ForeignKey("osce_results.id"), unique=True)
    amendment_reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    assessor = relationship("User", foreign_keys=[assessor_id])
