"""Whose entries the ledger reads and in what order: one trainee's hours never count or show for another, the
newest entries come first, the oldest submission is decided first, and the trainee hears of each decision."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from lms.core.audit import AuditEvent
from lms.core.timeutil import today
from lms.extensions import db
from lms.hours import ledger
from lms.hours.ledger import EntryInput, LedgerError, decide, submit_entry
from lms.notifications.models import Notification
from tests.factories import create_trainee, create_user, enrollment_of

CAP = 24.0


@pytest.fixture
def people(ctx, program):
    supervisor = create_user("instructor", email="scope-sup@example.test")
    trainee = create_trainee(email="scope-trainee@example.test")
    other = create_trainee(email="scope-other@example.test")
    db.session.commit()
    return {"supervisor": supervisor, "trainee": trainee, "other": other}


def _submit(people, days_ago, minutes=60, who="trainee", category="clinical_extraoral", corrects=None):
    trainee = people[who]
    data = EntryInput(entry_date=today() - timedelta(days=days_ago), minutes=minutes, category=category,
                      supervisor_id=people["supervisor"].id, setting="University teaching clinic")
    return submit_entry(trainee, enrollment_of(trainee), data, daily_cap_hours=CAP, corrects=corrects)


def _approve(people, entry):
    decide(entry, "approved", actor=people["supervisor"])
    return entry


@pytest.mark.parametrize(("category", "intraoral_lab", "needed"), [
    ("clinical_intraoral", False, True),
    ("lab_in_person", True, True),
    ("lab_in_person", False, False),
    ("clinical_extraoral", True, False),
    ("clinical_extraoral", False, False),
])
def test_which_sessions_need_a_same_day_screening(category, intraoral_lab, needed):
    data = EntryInput(entry_date=today(), minutes=30, category=category, supervisor_id=1, setting="x",
                      intraoral_lab=intraoral_lab)
    assert ledger.needs_screening(data) is needed


def test_counted_minutes_are_the_trainees_own_and_start_on_the_since_day(people):
    trainee = people["trainee"]
    _approve(people, _submit(people, 10, minutes=30))
    _approve(people, _submit(people, 9, minutes=45))
    _approve(people, _submit(people, 8, minutes=50, category="lab_in_person"))
    _approve(people, _submit(people, 9, minutes=600, who="other"))
    _submit(people, 9, minutes=20)  # submitted, not approved: does not count
    assert ledger.counted_minutes_by_category(trainee.id) == {"clinical_extraoral": 75, "lab_in_person": 50}
    nine_days_ago = today() - timedelta(days=9)
    assert ledger.counted_minutes_by_category(trainee.id, since=nine_days_ago) == {
        "clinical_extraoral": 45, "lab_in_person": 50}
    assert ledger.counted_minutes_by_category(trainee.id, since=nine_days_ago + timedelta(days=1)) == {
        "lab_in_person": 50}
    assert ledger.counted_minutes_by_category(people["other"].id) == {"clinical_extraoral": 600}


def test_superseded_ids_are_only_the_trainees_own(people):
    mine = _approve(people, _submit(people, 5))
    theirs = _approve(people, _submit(people, 5, who="other"))
    _approve(people, _submit(people, 5, minutes=30, corrects=mine))
    _approve(people, _submit(people, 5, minutes=30, who="other", corrects=theirs))
    assert ledger.superseded_ids(people["trainee"].id) == {mine.id}
    assert ledger.superseded_ids(people["other"].id) == {theirs.id}


def test_an_unrelated_submitted_entry_does_not_block_a_correction(people):
    approved = _approve(people, _submit(people, 4))
    _submit(people, 3)  # waiting for a decision, but not a correction of `approved`
    correction = _submit(people, 4, minutes=30, corrects=approved)
    assert correction.corrects_id == approved.id


def test_a_rejected_correction_leaves_the_entry_open_to_a_new_correction(people):
    approved = _approve(people, _submit(people, 4))
    first = _submit(people, 4, minutes=30, corrects=approved)
    with pytest.raises(LedgerError, match="already waiting for a decision"):
        _submit(people, 4, minutes=40, corrects=approved)
    decide(first, "rejected", actor=people["supervisor"], reason="Wrong day.")
    second = _submit(people, 4, minutes=40, corrects=approved)
    assert second.corrects_id == approved.id and second.status == "submitted"


def test_the_ledger_lists_the_newest_day_first_and_the_later_entry_first_within_a_day(people):
    trainee = people["trainee"]
    a = _submit(people, 2)
    b = _submit(people, 6)
    c = _submit(people, 2)
    d = _submit(people, 1)
    assert [e.id for e in ledger.entries_for(trainee.id)] == [d.id, c.id, a.id, b.id]
    page, more = ledger.entries_page(trainee.id, 1, per_page=3)
    assert [e.id for e in page] == [d.id, c.id, a.id] and more
    page, more = ledger.entries_page(trainee.id, 2, per_page=3)
    assert [e.id for e in page] == [b.id] and not more
    assert ledger.entries_for(people["other"].id) == []


def test_recent_and_open_shows_the_newest_entries_and_every_open_one(people):
    trainee = people["trainee"]
    waiting = _submit(people, 40)  # old, but still waiting for a decision
    asked = _submit(people, 39)
    decide(asked, "needs_info", actor=people["supervisor"], reason="Which clinic?")
    # Eleven approved entries, created newest day first, so the order of creation is not the order of the days.
    approved = [_approve(people, _submit(people, days_ago)) for days_ago in range(1, 12)]
    _approve(people, _submit(people, 1, who="other"))
    recent, open_ = ledger.recent_and_open(trainee.id)
    assert [e.id for e in recent] == [e.id for e in approved[:10]]
    assert {e.id for e in open_} == {waiting.id, asked.id}
    recent, _ = ledger.recent_and_open(trainee.id, recent=3)
    assert [e.id for e in recent] == [e.id for e in approved[:3]]


def test_recent_entries_on_the_same_day_keep_the_later_one(people):
    trainee = people["trainee"]
    for days_ago in range(3, 13):
        _approve(people, _submit(people, days_ago, minutes=10))
    earlier = _approve(people, _submit(people, 12, minutes=10))
    recent, _ = ledger.recent_and_open(trainee.id)
    assert len(recent) == 10 and recent[-1].id == earlier.id


def test_the_queue_puts_the_oldest_submission_first(people):
    first = _submit(people, 3)
    second = _submit(people, 2)
    first.submitted_at, second.submitted_at = datetime(2026, 1, 2, 9, 0), datetime(2026, 1, 1, 9, 0)
    db.session.flush()
    supervisor = people["supervisor"]
    assert [e.id for e in ledger.pending_for(supervisor)] == [second.id, first.id]
    assert [e.id for e in ledger.queue_for(supervisor)[0]] == [second.id, first.id]
    assert ledger.pending_for(create_user("instructor")) == []
    assert {e.id for e in ledger.pending_for(create_user("admin"))} == {first.id, second.id}


def test_a_decision_is_audited_on_the_entry_and_the_trainee_is_told_why(people):
    trainee = people["trainee"]
    entry = _submit(people, 2)
    decide(entry, "needs_info", actor=people["supervisor"], reason="  Which clinic was it?  ")
    event = db.session.execute(sa.select(AuditEvent).filter_by(action="hours.needs_info")).scalar_one()
    assert (event.object_type, event.object_id, event.actor_id) == ("hour_entry", str(entry.id),
                                                                   people["supervisor"].id)
    (notice,) = db.session.execute(sa.select(Notification).filter_by(event="hours.needs_info")).scalars()
    assert notice.user_id == trainee.id
    assert "Which clinic was it?" in notice.body


def test_the_queue_pages_filters_and_lists_only_waiting_entries(people):
    supervisor = people["supervisor"]
    mine = [_submit(people, days_ago) for days_ago in (5, 4, 3)]
    lab = _submit(people, 2, category="lab_in_person")
    theirs = _submit(people, 2, who="other")
    decided = _approve(people, _submit(people, 1))
    for n, entry in enumerate([*mine, lab, theirs, decided]):
        entry.submitted_at = datetime(2026, 1, 1, 9, n)  # oldest submission first, in order of creation
    db.session.flush()
    waiting = [*mine, lab, theirs]
    rows, more = ledger.queue_for(supervisor)
    assert [e.id for e in rows] == [e.id for e in waiting] and not more
    rows, more = ledger.queue_for(supervisor, per_page=5)
    assert [e.id for e in rows] == [e.id for e in waiting] and not more
    rows, more = ledger.queue_for(supervisor, per_page=2)
    assert [e.id for e in rows] == [mine[0].id, mine[1].id] and more
    rows, more = ledger.queue_for(supervisor, page=2, per_page=2)
    assert [e.id for e in rows] == [mine[2].id, lab.id] and more
    rows, more = ledger.queue_for(supervisor, page=3, per_page=2)
    assert [e.id for e in rows] == [theirs.id] and not more
    assert [e.id for e in ledger.queue_for(supervisor, trainee_id=people["other"].id)[0]] == [theirs.id]
    assert [e.id for e in ledger.queue_for(supervisor, category="lab_in_person")[0]] == [lab.id]
    assert [e.id for e in ledger.queue_for(supervisor, status="approved")[0]] == [decided.id]
    assert ledger.queue_for(create_user("instructor")) == ([], False)
    assert [e.id for e in ledger.queue_for(create_user("admin"))[0]] == [e.id for e in waiting]


def test_the_queue_ties_on_the_submission_time_by_entry(people):
    entries = [_submit(people, 3), _submit(people, 2), _submit(people, 1)]
    for entry in entries:
        entry.submitted_at = datetime(2026, 1, 1, 9, 0)
    db.session.flush()
    assert [e.id for e in ledger.queue_for(people["supervisor"])[0]] == [e.id for e in entries]


def test_the_queue_filter_names_the_supervised_trainees(people):
    _submit(people, 2)
    _submit(people, 3)
    _submit(people, 2, who="other")
    expected = sorted([(people["trainee"].id, people["trainee"].name), (people["other"].id, people["other"].name)],
                      key=lambda t: (t[1], t[0]))
    assert ledger.queue_trainees(people["supervisor"]) == expected
    assert ledger.queue_trainees(create_user("admin")) == expected
    assert ledger.queue_trainees(create_user("instructor")) == []


def test_approving_many_approves_each_it_may_and_names_the_rest(people):
    supervisor = people["supervisor"]
    first = _submit(people, 3)
    decided = _approve(people, _submit(people, 2))
    elsewhere = _submit(people, 2, who="other")
    elsewhere.supervisor_id = create_user("instructor").id
    last = _submit(people, 1)
    db.session.flush()
    approved, refused = ledger.approve_many([first.id, 999999, elsewhere.id, decided.id, last.id, first.id],
                                            actor=supervisor)
    assert [e.id for e in approved] == [first.id, last.id]
    assert [i for i, _ in refused] == [999999, elsewhere.id, decided.id]
    assert refused[0][1] == refused[1][1] == "No such entry in your queue."
    assert "only submitted entries are decided" in refused[2][1]
    assert (first.status, last.status, elsewhere.status) == ("approved", "approved", "submitted")
    approved, refused = ledger.approve_many([elsewhere.id], actor=create_user("admin"))
    assert [e.id for e in approved] == [elsewhere.id] and refused == []


def test_a_clinical_session_joins_its_case_and_a_lab_session_does_not(people):
    from lms.cases.operations import case_by_code

    trainee = people["trainee"]
    data = EntryInput(entry_date=today() - timedelta(days=2), minutes=60, category="clinical_extraoral",
                      supervisor_id=people["supervisor"].id, setting="University teaching clinic", case_code="k-7")
    clinical = submit_entry(trainee, enrollment_of(trainee), data, daily_cap_hours=CAP)
    case = case_by_code(trainee.id, clinical.case_code)
    assert case is not None and clinical.case_id == case.id
    lab = submit_entry(trainee, enrollment_of(trainee), EntryInput(
        entry_date=today() - timedelta(days=2), minutes=60, category="lab_in_person",
        supervisor_id=people["supervisor"].id, setting="Skills lab", case_code="k-8"), daily_cap_hours=CAP)
    assert lab.case_id is None and case_by_code(trainee.id, lab.case_code) is None


def test_a_ledger_page_says_more_only_when_a_later_entry_exists(people):
    for days_ago in (3, 2):
        _submit(people, days_ago)
    assert ledger.entries_page(people["trainee"].id, 1, per_page=2)[1] is False
    assert ledger.entries_page(people["trainee"].id, 1, per_page=1)[1] is True


def test_the_queue_filter_lists_trainees_by_name(ctx, program):
    supervisor = create_user("instructor", email="names-sup@example.test")
    zoe = create_trainee(email="names-zoe@example.test", name="Zoe Zimmer")
    amy = create_trainee(email="names-amy@example.test", name="Amy Abbott")
    for trainee in (zoe, amy):
        submit_entry(trainee, enrollment_of(trainee), EntryInput(
            entry_date=today() - timedelta(days=1), minutes=30, category="clinical_extraoral",
            supervisor_id=supervisor.id, setting="Clinic"), daily_cap_hours=CAP)
    assert ledger.queue_trainees(supervisor) == [(amy.id, "Amy Abbott"), (zoe.id, "Zoe Zimmer")]
