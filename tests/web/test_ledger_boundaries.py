"""Edges of the hours ledger: the day an entry may be dated, the limits of one entry, and what the audit chain records
for a submission and a decision (who, why, how much)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms.core.audit import AuditEvent
from lms.core.timeutil import today
from lms.extensions import db
from lms.hours import ledger
from lms.hours.ledger import EntryInput, LedgerError, decide, submit_entry
from tests.factories import create_trainee, create_user, enrollment_of

CAP = 8.0


@pytest.fixture
def people(ctx, program):
    supervisor = create_user("instructor", email="ledger-sup@example.test")
    trainee = create_trainee(email="ledger-trainee@example.test")
    db.session.commit()
    return {"supervisor": supervisor, "trainee": trainee}


def _entry(people, day, minutes=60, **kw):
    return EntryInput(entry_date=day, minutes=minutes, category=kw.pop("category", "clinical_extraoral"),
                      supervisor_id=people["supervisor"].id, setting="University teaching clinic", **kw)


def _submit(people, data, corrects=None):
    trainee = people["trainee"]
    return submit_entry(trainee, enrollment_of(trainee), data, daily_cap_hours=CAP, corrects=corrects)


def test_hours_logged_on_the_day_they_happen_are_accepted_and_tomorrow_refused(people):
    entry = _submit(people, _entry(people, today()))
    assert entry.entry_date == today() and entry.status == "submitted"
    with pytest.raises(LedgerError, match="The date cannot be in the future"):
        _submit(people, _entry(people, today() + timedelta(days=1)))


def test_the_oldest_date_accepted_is_the_past_limit(people):
    oldest = today() - timedelta(days=ledger.PAST_LIMIT_DAYS)
    assert _submit(people, _entry(people, oldest)).entry_date == oldest
    with pytest.raises(LedgerError, match="more than three years ago"):
        _submit(people, _entry(people, oldest - timedelta(days=1)))


def test_one_entry_is_between_one_minute_and_a_day(people):
    day = today() - timedelta(days=3)
    assert _submit(people, _entry(people, day, minutes=1)).minutes == 1
    for minutes in (0, -5):
        with pytest.raises(LedgerError, match="more than zero minutes"):
            _submit(people, _entry(people, day, minutes=minutes))
    with pytest.raises(LedgerError, match="longer than 24 hours"):
        _submit(people, _entry(people, day - timedelta(days=1), minutes=24 * 60 + 1))


def test_the_daily_cap_is_reached_exactly_and_not_passed(people):
    day = today() - timedelta(days=2)
    _submit(people, _entry(people, day, minutes=int(CAP * 60) - 30))
    _submit(people, _entry(people, day, minutes=30))
    with pytest.raises(LedgerError, match=r"past the daily cap of 8 hours \(0 minutes left that day\)"):
        _submit(people, _entry(people, day, minutes=1))


def _events(action):
    return db.session.execute(sa.select(AuditEvent).filter_by(action=action).order_by(AuditEvent.id)).scalars().all()


def test_audit_records_who_submitted_what_and_who_decided_why(people):
    trainee, supervisor = people["trainee"], people["supervisor"]
    day = today() - timedelta(days=1)
    entry = _submit(people, _entry(people, day, minutes=75, case_code="k-7"))
    (submitted,) = _events("hours.submit")
    assert submitted.actor_id == trainee.id
    assert (submitted.object_type, submitted.object_id) == ("hour_entry", str(entry.id))
    assert submitted.details == {"minutes": 75, "category": "clinical_extraoral", "corrects": None,
                                 "case": entry.case_code, "screening": None}

    decide(entry, "needs_info", actor=supervisor, reason="  Which clinic?  ")
    (asked,) = _events("hours.needs_info")
    assert asked.actor_id == supervisor.id and asked.object_id == str(entry.id)
    assert asked.details == {"reason": "Which clinic?"}
    assert entry.decisions[-1].reason == "Which clinic?" and entry.decisions[-1].actor_id == supervisor.id

    correction = _submit(people, _entry(people, day, minutes=60), corrects=entry)
    second = _events("hours.submit")[-1]
    assert second.details["corrects"] == entry.id and second.details["minutes"] == 60
    decide(correction, "approved", actor=supervisor)
    (approved,) = _events("hours.approved")
    assert approved.actor_id == supervisor.id and approved.details == {"reason": ""}
    assert ledger.counted_minutes_by_category(trainee.id) == {"clinical_extraoral": 60}
    assert ledger.superseded_ids(trainee.id) == {entry.id}


def test_a_rejection_needs_a_reason_and_nobody_decides_their_own_hours(people):
    trainee, supervisor = people["trainee"], people["supervisor"]
    entry = _submit(people, _entry(people, today() - timedelta(days=1)))
    with pytest.raises(LedgerError, match="a reason is required"):
        decide(entry, "rejected", actor=supervisor, reason="   ")
    with pytest.raises(LedgerError, match="Nobody approves their own hours"):
        decide(entry, "approved", actor=trainee)
    other = create_user("instructor")
    with pytest.raises(LedgerError, match="Only the named supervisor or an administrator"):
        decide(entry, "approved", actor=other)
    with pytest.raises(LedgerError, match="Unknown decision"):
        decide(entry, "maybe", actor=supervisor)
    assert _events("hours.rejected") == [] and _events("hours.approved") == []
    decide(entry, "rejected", actor=create_user("admin"), reason="Not a supervised session.")
    assert _events("hours.rejected")[0].details == {"reason": "Not a supervised session."}
    with pytest.raises(LedgerError, match="only submitted entries are decided"):
        decide(entry, "approved", actor=supervisor)


def test_every_entry_that_may_still_count_uses_up_the_day(people):
    """Approved entries and entries returned for more information still count toward the day's cap."""
    supervisor, day = people["supervisor"], today() - timedelta(days=5)
    decide(_submit(people, _entry(people, day, minutes=240)), "approved", actor=supervisor)
    decide(_submit(people, _entry(people, day, minutes=180)), "needs_info", actor=supervisor, reason="Which clinic?")
    with pytest.raises(LedgerError, match=r"\(60 minutes left that day\)"):
        _submit(people, _entry(people, day, minutes=61))
    assert _submit(people, _entry(people, day, minutes=60)).minutes == 60


def test_another_trainees_hours_do_not_use_up_the_day(people):
    day = today() - timedelta(days=5)
    other = create_trainee(email="ledger-other@example.test")
    submit_entry(other, enrollment_of(other), _entry(people, day, minutes=int(CAP * 60)), daily_cap_hours=CAP)
    assert _submit(people, _entry(people, day, minutes=int(CAP * 60))).minutes == int(CAP * 60)


def test_a_corrected_entry_no_longer_uses_up_the_day(people):
    supervisor, day = people["supervisor"], today() - timedelta(days=5)
    original = _submit(people, _entry(people, day, minutes=300))
    decide(original, "approved", actor=supervisor)
    correction = _submit(people, _entry(people, day, minutes=120), corrects=original)
    decide(correction, "approved", actor=supervisor)
    assert _submit(people, _entry(people, day, minutes=360)).minutes == 360  # 120 + 360: the cap exactly


def test_one_entry_may_last_a_whole_day(people):
    trainee = people["trainee"]
    entry = submit_entry(trainee, enrollment_of(trainee), _entry(people, today() - timedelta(days=5), minutes=24 * 60),
                         daily_cap_hours=24.0)
    assert entry.minutes == ledger.MAX_ENTRY_MINUTES


def test_an_administrator_may_supervise_hours(people):
    admin = create_user("admin", email="ledger-admin@example.test")
    data = _entry(people, today() - timedelta(days=5))
    data.supervisor_id = admin.id
    assert _submit(people, data).supervisor_id == admin.id
