"""Concurrent writers lose nothing and never produce duplicates; a failure mid-issuance leaves no certificate."""

import threading
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from lms.core.database import set_write_intent
from lms.extensions import db
from lms.hours import ledger
from lms.hours.models import HourDecision, HourEntry
from tests.factories import create_trainee, create_user, enrollment_of

THREADS = 8


def _run_threads(app, work):
    results, errors = [None] * THREADS, []
    barrier = threading.Barrier(THREADS)

    def runner(i):
        with app.app_context():
            set_write_intent(True)
            barrier.wait()
            try:
                results[i] = work(i)
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - collected and asserted on below
                db.session.rollback()
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results, errors


def test_parallel_submissions_respect_the_daily_cap_and_lose_nothing(app, program):
    with app.app_context():
        trainee = create_trainee(email="c@example.test")
        instructor = create_user("instructor")
        db.session.commit()
        tid, sid = trainee.id, instructor.id
    day = date.today() - timedelta(days=1)

    def submit(i):
        from lms.auth.models import User

        user = db.session.get(User, tid)
        try:
            e = ledger.submit_entry(user, enrollment_of(user), ledger.EntryInput(
                entry_date=day, minutes=180, category="lab_in_person", supervisor_id=sid, setting=f"Lab {i}"),
                daily_cap_hours=10)
            return e.id
        except ledger.LedgerError:
            return "refused"

    results, errors = _run_threads(app, submit)
    assert not errors, errors
    accepted = [r for r in results if r != "refused"]
    assert len(accepted) == 3  # 3 × 180 min fit under the 10 h cap; the fourth would not
    with app.app_context():
        rows = db.session.execute(sa.select(HourEntry).filter_by(trainee_id=tid)).scalars().all()
        assert sorted(r.id for r in rows) == sorted(accepted)
        assert sum(r.minutes for r in rows) <= 600


def test_parallel_decisions_on_one_entry_record_exactly_one(app, program):
    with app.app_context():
        trainee = create_trainee(email="d@example.test")
        admin_ids = [create_user("admin").id for _ in range(THREADS)]
        instructor = create_user("instructor")
        entry = ledger.submit_entry(trainee, enrollment_of(trainee), ledger.EntryInput(
            entry_date=date.today() - timedelta(days=1), minutes=60, category="lab_in_person",
            supervisor_id=instructor.id, setting="Lab"), daily_cap_hours=10)
        db.session.commit()
        eid = entry.id

    def decide(i):
        from lms.auth.models import User

        e = db.session.get(HourEntry, eid)
        try:
            ledger.decide(e, "approved" if i % 2 else "rejected", actor=db.session.get(User, admin_ids[i]),
                          reason="checked")
            return "decided"
        except ledger.LedgerError:
            return "refused"

    results, errors = _run_threads(app, decide)
    assert not errors, errors
    assert results.count("decided") == 1
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(HourDecision)).scalar_one() == 1


def test_failure_while_signing_leaves_no_half_issued_certificate(ctx, program, monkeypatch):
    from lms.certificates import issuing
    from lms.certificates.models import Certificate
    from lms.demo import log_practicum, pass_modules, record_observations
    from lms.standards.queries import current_version

    admin = create_user("admin")
    instructor = create_user("instructor")
    dentist = create_user("instructor", profession="dentist")
    trainee = create_trainee(profession="dentist", email="crash@example.test")
    enr = enrollment_of(trainee)
    pass_modules(trainee, enr, program)
    log_practicum(trainee, enr, program, instructor, date.today(), "D")
    record_observations(trainee, enr, current_version("omr"), [instructor, dentist], date.today())
    db.session.commit()

    def broken_sign(*args, **kwargs):
        raise OSError("signing device unavailable")

    monkeypatch.setattr(issuing, "sign_pdf", broken_sign)  # a fault in the middle of issuance, not a fake signature
    with pytest.raises(OSError):
        issuing.issue_certificate(trainee, actor=admin)
    db.session.rollback()
    assert db.session.execute(sa.select(Certificate)).first() is None
    monkeypatch.undo()
    cert = issuing.issue_certificate(trainee, actor=admin).certificate  # a retry works and is complete
    db.session.commit()
    assert cert.pdf_bytes.startswith(b"%PDF") and cert.pdf_sha256
