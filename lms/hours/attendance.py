"""Lab attendance: an instructor records who attended a module's in-person lab session, and each attendee is
credited the session's hours as an approved lab entry of the hours ledger.

A knowledge-check pass credits only a module's online hours (reading and activities); the lab part is earned here,
where it happens. Records are never edited: each attendee's credit is an ``HourEntry`` with ``attendance_id`` set,
and a correction is a new session whose credits correct the earlier ones (the ledger's usual supersession).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from lms.assessments.operations import trainee_ids_for_instructor
from lms.core import audit
from lms.core.database import advisory_lock
from lms.core.timeutil import today
from lms.extensions import db
from lms.hours.ledger import PAST_LIMIT_DAYS, LedgerError, minutes_logged_on, superseded_ids_query
from lms.hours.models import AttendanceSession, HourDecision, HourEntry
from lms.training.models import Enrollment, Module

LAB = "lab_in_person"


@dataclass
class AttendanceInput:
    module_id: int
    session_date: date
    minutes: int
    attendee_ids: list[int]
    setting: str


def lab_minutes(module: Module) -> int:
    parts = ((module.program.manifest or {}).get("hour_breakdown") or {}).get(module.slug) or {}
    return int(parts.get("lab_minutes", 0))


def lab_modules(program_id: str) -> list[Module]:
    """Active modules with an in-person lab, in order."""
    modules = db.session.execute(sa.select(Module).filter_by(program_id=program_id, is_active=True)
                                 .order_by(Module.position)).scalars()
    return [m for m in modules if lab_minutes(m) > 0]


def attendees_for(instructor, program_id: str) -> list:
    """Enrolled trainees this instructor may record (those who named them; every enrolled trainee for an admin)."""
    from lms.auth.models import User

    q = (sa.select(User).join(Enrollment, Enrollment.user_id == User.id)
         .where(Enrollment.program_id == program_id, User.id != instructor.id).order_by(User.name))
    if not instructor.has_role("admin"):
        q = q.where(User.id.in_(sorted(trainee_ids_for_instructor(instructor.id))))
    return list(db.session.execute(q).scalars())


def credited_lab_minutes(trainee_id: int, module_id: int) -> int:
    """Lab minutes already credited to the trainee for the module by attendance (approved, not superseded)."""
    return db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(HourEntry.minutes), 0))
        .join(AttendanceSession, AttendanceSession.id == HourEntry.attendance_id)
        .where(HourEntry.trainee_id == trainee_id, AttendanceSession.module_id == module_id,
               HourEntry.status == "approved", HourEntry.id.not_in(superseded_ids_query(trainee_id)))
    ).scalar_one()


def record_attendance(instructor, data: AttendanceInput, *, program) -> AttendanceSession:
    """Store the session and credit each attendee (flush only). Refuses, storing nothing, when any attendee cannot
    be credited: not one of the instructor's enrolled trainees, past the daily cap, or past the module's lab time."""
    if not instructor.has_role("instructor", "admin"):
        raise LedgerError("Only instructors record lab attendance.")
    module = db.session.get(Module, data.module_id)
    if module is None or module.program_id != program.id or not module.is_active or lab_minutes(module) == 0:
        raise LedgerError("Choose a module that has an in-person lab.")
    if data.session_date > today():
        raise LedgerError("The date cannot be in the future. Record attendance after the session.")
    if data.session_date < today() - timedelta(days=PAST_LIMIT_DAYS):
        raise LedgerError("The date is more than three years ago. Ask an administrator to record older sessions.")
    lab = lab_minutes(module)
    if not 0 < data.minutes <= lab:
        raise LedgerError(f"A {module.module_key} lab session lasts more than zero and at most {lab} minutes "
                          "(the module's lab time).")
    if not data.setting.strip():
        raise LedgerError("Describe where the session took place (for example, 'Skills lab, room 2').")
    ids = sorted(set(data.attendee_ids))
    if not ids:
        raise LedgerError("Choose at least one attendee.")
    allowed = {u.id: u for u in attendees_for(instructor, program.id)}
    if any(i not in allowed for i in ids):
        raise LedgerError("You can record attendance only for enrolled trainees who named you as their instructor.")
    enrollments = dict(db.session.execute(sa.select(Enrollment.user_id, Enrollment.id).where(
        Enrollment.user_id.in_(ids), Enrollment.program_id == program.id)).all())
    cap = int(program.daily_cap_hours * 60)
    for trainee_id in ids:
        advisory_lock(db.session, f"ledger:{trainee_id}")  # the same lock as the trainee's own submissions
        name = allowed[trainee_id].name
        if minutes_logged_on(trainee_id, data.session_date) + data.minutes > cap:
            raise LedgerError(f"{name} would pass the daily cap of {program.daily_cap_hours:g} hours on "
                              f"{data.session_date.isoformat()}; nothing was recorded.")
        if credited_lab_minutes(trainee_id, module.id) + data.minutes > lab:
            raise LedgerError(f"{name} would have more than the {lab} lab minutes of {module.module_key} credited; "
                              "nothing was recorded.")
    session = AttendanceSession(module_id=module.id, instructor_id=instructor.id, session_date=data.session_date,
                                minutes=data.minutes, setting=data.setting.strip())
    db.session.add(session)
    db.session.flush()
    for trainee_id in ids:
        entry = HourEntry(trainee_id=trainee_id, enrollment_id=enrollments[trainee_id], entry_date=data.session_date,
                          minutes=data.minutes, category=LAB, supervisor_id=instructor.id, setting=session.setting,
                          notes=f"Attendance at the {module.module_key} lab session", attendance_id=session.id,
                          status="approved")
        db.session.add(entry)
        db.session.flush()
        db.session.add(HourDecision(entry_id=entry.id, decision="approved", actor_id=instructor.id,
                                    reason="Attendance recorded by the instructor who ran the session."))
    db.session.flush()
    audit.record("attendance.record", "attendance_session", session.id, actor=instructor, module=module.module_key,
                 minutes=data.minutes, attendees=ids, session_date=data.session_date.isoformat())
    return session


def sessions_by(instructor, limit: int = 50) -> list[AttendanceSession]:
    q = (sa.select(AttendanceSession)
         .options(selectinload(AttendanceSession.module),
                  selectinload(AttendanceSession.credits).selectinload(HourEntry.trainee))
         .order_by(AttendanceSession.session_date.desc(), AttendanceSession.id.desc()).limit(limit))
    if not instructor.has_role("admin"):
        q = q.where(AttendanceSession.instructor_id == instructor.id)
    return list(db.session.execute(q).scalars())
