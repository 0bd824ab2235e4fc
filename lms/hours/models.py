"""The hours ledger: supervised practicum and lab hours."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.i18n import N_
from lms.core.timeutil import utcnow
from lms.extensions import db

CATEGORY_LABELS = {
    "lab_in_person": N_("Lab, in person"),
    "clinical_extraoral": N_("Clinical, extraoral"),
    "clinical_intraoral": N_("Clinical, intraoral"),
}
STATUS_LABELS = {
    "submitted": N_("Submitted"),
    "approved": N_("Approved"),
    "needs_info": N_("Needs information"),
    "rejected": N_("Rejected"),
}


class HourEntry(db.Model):
    """One logged session. Its content never changes; a correction is a new entry pointing at this one."""

    __tablename__ = "hour_entries"
    __table_args__ = (
        sa.CheckConstraint("minutes > 0 AND minutes <= 1440", name="minutes_range"),
        sa.CheckConstraint("status IN ('submitted','approved','needs_info','rejected')", name="status_known"),
        sa.CheckConstraint("supervisor_id <> trainee_id", name="not_self_supervised"),
        sa.Index("ix_hour_entries_trainee_status", "trainee_id", "status"),
        sa.Index("ix_hour_entries_supervisor_status", "supervisor_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trainee_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    enrollment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrollments.id"), index=True)
    entry_date: Mapped[date]
    minutes: Mapped[int]
    category: Mapped[str] = mapped_column(sa.String(30))
    supervisor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    setting: Mapped[str] = mapped_column(sa.String(200))
    case_code: Mapped[str | None] = mapped_column(sa.String(20))
    # The case (patient) of a clinical session; case_code stays, always the case's code.
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    screening_id: Mapped[int | None] = mapped_column(sa.ForeignKey("screenings.id"))
    # A lab session that included intraoral work on a lab partner (needs a screening, like a clinical session).
    intraoral_lab: Mapped[bool] = mapped_column(default=False)
    corrects_id: Mapped[int | None] = mapped_column(sa.ForeignKey("hour_entries.id"), index=True)
    # Set when the entry is an attendee's credit from a lab session an instructor recorded (approved at once).
    attendance_id: Mapped[int | None] = mapped_column(sa.ForeignKey("attendance_sessions.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(12), default="submitted")
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)

    trainee = relationship("User", foreign_keys=[trainee_id])
    supervisor = relationship("User", foreign_keys=[supervisor_id])
    corrects = relationship("HourEntry", remote_side=[id])
    decisions = relationship("HourDecision", order_by="HourDecision.id", back_populates="entry")
    screening = relationship("Screening")
    attendance = relationship("AttendanceSession", back_populates="credits")

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 2)

    @property
    def category_label(self) -> str:
        return gettext(CATEGORY_LABELS.get(self.category, self.category))  # in the reader's language

    @property
    def status_label(self) -> str:
        return gettext(STATUS_LABELS.get(self.status, self.status))


class HourDecision(db.Model):
    """An instructor's or admin's decision on an entry (append-only history of its status)."""

    __tablename__ = "hour_decisions"
    __table_args__ = (sa.CheckConstraint("decision IN ('approved','needs_info','rejected')", name="decision_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("hour_entries.id"), index=True)
    decision: Mapped[str] = mapped_column(sa.String(12))
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    actor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    entry = relationship("HourEntry", back_populates="decisions")
    actor = relationship("User")


class AttendanceSession(db.Model):
    """A module's in-person lab session as the instructor who ran it recorded it. Never edited: each attendee's
    credit is an approved ``HourEntry`` pointing here; a correction is a new session whose credits correct them."""

    __tablename__ = "attendance_sessions"
    __table_args__ = (sa.CheckConstraint("minutes > 0 AND minutes <= 1440", name="attendance_minutes_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(sa.ForeignKey("modules.id"), index=True)
    instructor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    session_date: Mapped[date]
    minutes: Mapped[int]
    setting: Mapped[str] = mapped_column(sa.String(200))
    corrects_id: Mapped[int | None] = mapped_column(sa.ForeignKey("attendance_sessions.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    module = relationship("Module")
    instructor = relationship("User")
    credits = relationship("HourEntry", back_populates="attendance", order_by="HourEntry.id")
