"""How the ledger reads: the statements one read of the ledger or the queue costs do not grow with the rows shown (each
entry's supervisor, trainee, screening, lab session and decisions come in batches), the queue's order is the query's
own and not the order the database happens to read the table in, and the queue's trainee filter lists at most 500
names.

Statements are counted on the app's engine (``count_statements``) with an empty session, as a request starts."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from lms.auth.models import User
from lms.core.database import count_statements
from lms.core.timeutil import today
from lms.extensions import db
from lms.hours import ledger
from lms.hours.attendance import AttendanceInput, record_attendance
from lms.hours.ledger import EntryInput, decide, submit_entry
from lms.hours.models import HourEntry
from lms.training.models import Enrollment, Module, Program
from tests.factories import create_trainee, create_user, enrollment_of, name_instructor

CAP = 24.0
# The ledger: the transaction's BEGIN, the entries (their lab session and its module joined), then in one batch each
# the supervisors, the decisions and who made them. The queue (read after the signed-in user is loaded, so the
# transaction has begun): the entries, then the trainees, the supervisors and the screenings.
LEDGER_BUDGET = 5
QUEUE_BUDGET = 4


def _day(days_ago: int):
    return today() - timedelta(days=days_ago)


def _submit(trainee, supervisor, days_ago, *, category="clinical_extraoral", **kw) -> HourEntry:
    return submit_entry(trainee, enrollment_of(trainee), EntryInput(
        entry_date=_day(days_ago), minutes=30, category=category, supervisor_id=supervisor.id,
        setting="University teaching clinic", **kw), daily_cap_hours=CAP)


def _module(key: str) -> Module:
    return db.session.execute(sa.select(Module).filter_by(program_id="omr", module_key=key)).scalar_one()


def _statements(app, read) -> int:
    """Statements ``read`` runs from an empty session, touching everything a page shows of each row."""
    db.session.commit()
    db.session.expunge_all()
    with count_statements(app) as statements:
        read()
    return len(statements)


def _show_ledger(entries):
    assert entries
    for e in entries:
        _ = e.supervisor.name, [d.actor.name for d in e.decisions]
        if e.attendance_id is not None:
            _ = e.attendance.module.module_key


def _show_queue(entries):
    assert entries
    for e in entries:
        _ = e.trainee.name, e.supervisor.name
        if e.screening_id is not None:
            _ = e.screening.case_code


def _ledger_rows(trainee, n: int):
    """Entries of ``trainee`` for the n-th round: a session decided by its own supervisor and a lab session's credit
    recorded by another instructor in another module, every person new."""
    supervisor = create_user("instructor")
    entry = _submit(trainee, supervisor, 10 + n)
    decide(entry, "needs_info" if n % 2 else "approved", actor=supervisor if n % 2 == 0 else create_user("admin"),
           reason="Which clinic?" if n % 2 else "")
    lab = create_user("instructor")
    name_instructor(trainee, lab)
    record_attendance(lab, AttendanceInput(_module(("M1", "M4", "M6")[n]).id, _day(n + 1), 30, [trainee.id],
                                           "Skills lab"), program=db.session.get(Program, "omr"))


def test_reading_a_ledger_costs_the_same_statements_for_more_entries(ctx, program):
    trainee = create_trainee()
    trainee_id = trainee.id
    _ledger_rows(trainee, 0)

    def read():
        _show_ledger(ledger.entries_for(trainee_id))

    small = _statements(ctx, read)
    trainee = db.session.get(User, trainee_id)
    for n in (1, 2):
        _ledger_rows(trainee, n)
    large = _statements(ctx, read)
    assert len(ledger.entries_for(trainee_id)) == 6
    assert small == large <= LEDGER_BUDGET, (small, large)


def _queue_rows(supervisor, n: int):
    """Waiting entries of new trainees, one of them an intraoral session with its screening, for the n-th round."""
    from lms.demo import screen

    hygienist = create_trainee(profession="dental_hygienist")
    screening = screen(hygienist, _day(2), f"C{n:02d}", "D")
    _submit(hygienist, supervisor, 2, category="clinical_intraoral", screening_id=screening.id, case_code=f"C{n:02d}")
    _submit(create_trainee(), supervisor, 3)


@pytest.mark.parametrize("read", ["queue_for", "pending_for"])
def test_reading_the_queue_costs_the_same_statements_for_more_entries(ctx, program, read):
    admin_id = create_user("admin").id
    _queue_rows(create_user("instructor"), 0)

    def measure():
        admin = db.session.get(User, admin_id)  # the signed-in user, loaded before the page reads
        with count_statements(ctx) as statements:
            rows = ledger.queue_for(admin)[0] if read == "queue_for" else ledger.pending_for(admin)
            _show_queue(rows)
        return len(statements), len(rows)

    db.session.commit()
    db.session.expunge_all()
    small, shown_small = measure()
    for n in (1, 2, 3):
        _queue_rows(create_user("instructor"), n)  # each round, other trainees under another supervisor
    db.session.commit()
    db.session.expunge_all()
    large, shown_large = measure()
    assert (shown_small, shown_large) == (2, 8)
    assert small == large <= QUEUE_BUDGET, (small, large)


def test_entries_submitted_at_the_same_time_are_queued_by_entry_whatever_order_the_table_is_read_in(ctx, program):
    supervisor = create_user("instructor")
    first, second = create_trainee(), create_trainee()
    # Entries alternate between the trainees, so reading trainee by trainee is not the order of the entries.
    entries = [_submit(who, supervisor, days_ago) for who, days_ago in
               ((second, 4), (first, 4), (second, 3), (first, 3))]
    ids = [e.id for e in entries]
    # The same submission time for all, set trainee by trainee: PostgreSQL then keeps the rows in that order. And
    # indexes that have SQLite read the waiting entries trainee by trainee too (the test's rollback drops them). The
    # queue's order must come from its own ORDER BY alone.
    for entry in sorted(entries, key=lambda e: (e.trainee_id, e.id)):
        db.session.execute(sa.update(HourEntry).where(HourEntry.id == entry.id)
                           .values(submitted_at=datetime(2026, 1, 1, 9, 0)))
    db.session.execute(sa.text("CREATE INDEX ix_test_by_trainee ON hour_entries (supervisor_id, status, trainee_id)"))
    db.session.execute(sa.text("CREATE INDEX ix_test_all_by_trainee ON hour_entries (status, trainee_id)"))
    by_trainee = db.session.execute(sa.select(HourEntry.id).where(HourEntry.supervisor_id == supervisor.id,
                                                                  HourEntry.status == "submitted")).scalars().all()
    assert by_trainee != ids  # the table is now read in another order than the entries'
    admin = create_user("admin")
    for actor in (supervisor, admin):
        assert [e.id for e in ledger.queue_for(actor)[0]] == ids
        assert [e.id for e in ledger.queue_for(actor, per_page=3)[0]] == ids[:3]
        assert [e.id for e in ledger.queue_for(actor, page=2, per_page=3)[0]] == ids[3:]


def test_the_queue_filter_names_at_most_500_trainees_the_first_by_name(ctx, program):
    """The filter is a drop-down: past 500 trainees an instructor filters by opening a trainee's record instead."""
    supervisor = create_user("instructor")
    version = program.version
    people = [User(email=f"filter{n:03d}@example.test", name=f"Trainee {n:03d}", role="trainee",
                   password_hash="unused") for n in range(501)]  # noqa: S106 - nobody signs in as these
    db.session.add_all(people)
    db.session.flush()
    enrollments = [Enrollment(user_id=u.id, program_id="omr", program_version=version, enrolled_on=_day(30))
                   for u in people]
    db.session.add_all(enrollments)
    db.session.flush()
    db.session.add_all([HourEntry(trainee_id=e.user_id, enrollment_id=e.id, entry_date=_day(2), minutes=30,
                                  category="clinical_extraoral", supervisor_id=supervisor.id, setting="Clinic")
                        for e in reversed(enrollments)])
    db.session.flush()
    names = ledger.queue_trainees(supervisor)
    assert len(names) == 500
    assert names == [(u.id, u.name) for u in people[:500]]


def test_trainees_of_the_same_name_are_listed_by_account_whatever_order_the_table_is_read_in(ctx, program):
    """Two trainees may share a display name; the filter lists them in account order. Here the database reads the
    accounts in another order: by an index on name and email (the newer account's address sorts first) with fresh
    statistics (SQLite then reads users through it), and with the older account's row moved to the end of the table
    (PostgreSQL does that on an update). A list ordered by name alone would come back the other way round."""
    supervisor = create_user("instructor")
    older = create_trainee(name="Sam Lee", email="sam.lee.z@example.test")
    newer = create_trainee(name="Sam Lee", email="sam.lee.a@example.test")
    for trainee in (older, newer):
        _submit(trainee, supervisor, 2)
    db.session.execute(sa.update(User).where(User.id == older.id).values(last_login_at=datetime(2026, 1, 1, 9, 0)))
    db.session.execute(sa.text("CREATE INDEX ix_test_users_by_name ON users (name, email)"))
    db.session.execute(sa.text("ANALYZE"))
    by_name = db.session.execute(sa.select(User.id).where(User.name == "Sam Lee").order_by(User.name)).scalars().all()
    assert by_name == [newer.id, older.id]  # the accounts are now read newer first
    assert ledger.queue_trainees(supervisor) == [(older.id, "Sam Lee"), (newer.id, "Sam Lee")]
