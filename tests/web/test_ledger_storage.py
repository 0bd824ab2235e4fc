"""What a submission stores: the trainee's notes as written (trimmed), whether a lab session included intraoral work,
the screening only of a session that needs one; and the lock a submission takes, the same one lab attendance takes for
that trainee, so the daily cap is read and written by one writer at a time."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms.core.audit import AuditEvent
from lms.core.timeutil import today
from lms.extensions import db
from lms.hours import ledger
from lms.hours.ledger import EntryInput, submit_entry
from lms.hours.models import HourEntry
from tests.factories import create_trainee, create_user, enrollment_of, name_instructor

CAP = 8.0
DAY = today() - timedelta(days=2)


@pytest.fixture
def people(ctx, program):
    supervisor = create_user("instructor", email="store-sup@example.test")
    hygienist = create_trainee(email="store-rdh@example.test", profession="dental_hygienist")
    db.session.commit()
    return {"supervisor": supervisor, "trainee": hygienist, "program": program}


def _submit(people, **kw) -> HourEntry:
    trainee = people["trainee"]
    values = {"entry_date": DAY, "minutes": 45, "category": "clinical_extraoral",
              "supervisor_id": people["supervisor"].id, "setting": "University teaching clinic"}
    values.update(kw)
    entry = submit_entry(trainee, enrollment_of(trainee), EntryInput(**values), daily_cap_hours=CAP)
    db.session.commit()
    return entry


def _stored(entry: HourEntry) -> dict:
    """The entry's row as the table holds it (not the object the session still has in memory)."""
    table = HourEntry.__table__
    return dict(db.session.execute(sa.select(table).where(table.c.id == entry.id)).mappings().one())


def _screening(people, case: str):
    from lms.demo import screen

    screening = screen(people["trainee"], DAY, case, "D")
    db.session.commit()
    return screening


@pytest.mark.parametrize(("notes", "stored"), [
    ("  Masseter release; patient tolerated well.  ", "Masseter release; patient tolerated well."),
    ("", ""),
    (None, ""),
])
def test_the_notes_are_stored_as_written_without_surrounding_spaces(people, notes, stored):
    entry = _submit(people, notes=notes)
    assert _stored(entry)["notes"] == stored


def test_a_lab_session_with_intraoral_work_is_stored_as_such_with_its_screening(people):
    screening = _screening(people, "L01")
    entry = _submit(people, category="lab_in_person", intraoral_lab=True, screening_id=screening.id, case_code="L01")
    row = _stored(entry)
    assert row["intraoral_lab"] is True and row["screening_id"] == screening.id
    event = db.session.execute(sa.select(AuditEvent).filter_by(action="hours.submit", object_id=str(entry.id))
                               ).scalar_one()
    assert event.details["screening"] == screening.id  # the audit trail names the screening that cleared it
    plain = _submit(people, category="lab_in_person", intraoral_lab=False, entry_date=DAY - timedelta(days=1))
    assert _stored(plain)["intraoral_lab"] is False


def test_intraoral_lab_work_and_a_screening_are_not_recorded_on_a_session_that_needs_neither(people):
    """Only a lab session can include intraoral lab work, and a screening is stored only where it was checked: an
    extraoral session keeps neither, whatever the form sent."""
    screening = _screening(people, "C05")
    entry = _submit(people, category="clinical_extraoral", intraoral_lab=True, screening_id=screening.id,
                    case_code="C05")
    row = _stored(entry)
    assert row["intraoral_lab"] is False and row["screening_id"] is None
    assert not ledger.needs_screening(entry)


def test_an_intraoral_session_keeps_its_screening_and_is_not_lab_work(people):
    screening = _screening(people, "C06")
    entry = _submit(people, category="clinical_intraoral", intraoral_lab=True, screening_id=screening.id,
                    case_code="C06")
    row = _stored(entry)
    assert row["screening_id"] == screening.id and row["intraoral_lab"] is False


def test_a_submission_takes_the_trainees_ledger_lock_before_reading_the_day(people, monkeypatch):
    """The lock key names the trainee (two trainees never wait on each other) and is the one lab attendance takes,
    so an instructor recording attendance and the trainee logging hours cannot both pass the daily cap."""
    from lms.hours import attendance
    from lms.hours.attendance import AttendanceInput, record_attendance
    from lms.training.models import Module

    calls: list[tuple[str, object]] = []
    read_day = ledger.minutes_logged_on

    def lock(session, key):
        calls.append(("lock", key))

    def minutes(trainee_id, day, except_id=None):
        calls.append(("read", trainee_id))
        return read_day(trainee_id, day, except_id=except_id)

    for module in (ledger, attendance):
        monkeypatch.setattr(module, "advisory_lock", lock)
        monkeypatch.setattr(module, "minutes_logged_on", minutes)
    trainee, other = people["trainee"], create_trainee(email="store-other@example.test")

    _submit(people)
    submit_entry(other, enrollment_of(other), EntryInput(
        entry_date=DAY, minutes=30, category="clinical_extraoral", supervisor_id=people["supervisor"].id,
        setting="Clinic"), daily_cap_hours=CAP)
    assert calls == [("lock", f"ledger:{trainee.id}"), ("read", trainee.id),
                     ("lock", f"ledger:{other.id}"), ("read", other.id)]

    calls.clear()
    instructor = people["supervisor"]
    name_instructor(trainee, instructor)
    m1 = db.session.execute(sa.select(Module).filter_by(program_id="omr", module_key="M1")).scalar_one()
    record_attendance(instructor, AttendanceInput(m1.id, DAY - timedelta(days=1), 60, [trainee.id], "Skills lab"),
                      program=people["program"])
    assert calls[:2] == [("lock", f"ledger:{trainee.id}"), ("read", trainee.id)]
