"""The hours ledger: submission, decisions, corrections, counting and the instructor queue.

Through the web (POST /hours/, POST /hours/<id>/decide, GET /hours/queue) and through lms.hours.ledger directly.
"""

from __future__ import annotations

import html
import re
import shutil
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from lms.auth.models import User
from lms.core.timeutil import today
from lms.extensions import db
from lms.hours import ledger
from lms.hours.models import HourDecision, HourEntry
from lms.training.content import load_all
from lms.training.models import Enrollment
from tests.factories import PASSWORD, create_trainee, create_user, enrollment_of
from tests.factories import get_committed as _get
from tests.factories import post_committed as _post

SHIPPED = Path(__file__).resolve().parents[2] / "courses" / "omr"


# --- helpers -------------------------------------------------------------------------------------------------------


def _text(resp) -> str:
    return html.unescape(resp.get_data(as_text=True))


def _signed_in(app, email):
    """A test client signed in as ``email`` (each person gets their own client, like their own browser)."""
    client = app.test_client()
    db.session.commit()
    assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
    return client


def _count(model, **filters) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).filter_by(**filters))


def _row(entry_id: int) -> dict:
    """Every column of one hour entry, straight from the table."""
    table = HourEntry.__table__
    return dict(db.session.execute(sa.select(table).where(table.c.id == entry_id)).mappings().one())


def _form(supervisor, **over) -> dict:
    data = {"entry_date": (today() - timedelta(days=3)).isoformat(), "duration_hours": "1", "duration_minutes": "30",
            "category": "lab_in_person", "supervisor_id": str(supervisor.id), "setting": "Supervised skills lab",
            "case_code": "", "screening_id": "0", "notes": "Masseter and temporalis release drills."}
    if "minutes" in over:  # the form asks for hours and minutes; tests speak in minutes
        minutes = over.pop("minutes")
        data["duration_hours"], data["duration_minutes"] = (
            ("", "") if minutes == "" else (str(int(minutes) // 60), str(int(minutes) % 60)))
    data.update({k: str(v) for k, v in over.items()})
    return data


def _entry_input(supervisor, **over) -> ledger.EntryInput:
    values = {"entry_date": today() - timedelta(days=3), "minutes": 90, "category": "lab_in_person",
              "supervisor_id": supervisor.id, "setting": "Supervised skills lab", "notes": ""}
    values.update(over)
    return ledger.EntryInput(**values)


def _submit(people, **over) -> HourEntry:
    entry = ledger.submit_entry(people.trainee, enrollment_of(people.trainee), _entry_input(people.sup, **over),
                                daily_cap_hours=people.program.daily_cap_hours)
    db.session.commit()
    return entry


def _progress_text(page: str, label: str) -> str:
    """The 'x of y h' text of the first progress row labelled ``label``."""
    m = re.search(r'progress-label">' + re.escape(label) + r'</span>.*?progress-text">([^<]*)<', page, re.S)
    assert m, label
    return m.group(1)


def _load_variant(tmp_path, old: str, new: str) -> None:
    root = tmp_path / "courses"
    shutil.copytree(SHIPPED, root / "omr")
    manifest = root / "omr" / "program.yaml"
    text = manifest.read_text(encoding="utf-8")
    assert text.count(old) == 1
    manifest.write_text(text.replace(old, new), encoding="utf-8")
    assert load_all(root) == (["omr"], [])
    db.session.commit()


@pytest.fixture
def people(ctx, program):
    trainee = create_trainee(email="trainee@example.test", name="Tara Trainee")
    sup = create_user("instructor", email="sup@example.test", name="Sam Supervisor")
    other = create_user("instructor", email="other@example.test", name="Olga Other")
    admin = create_user("admin", email="admin@example.test", name="Ada Admin")
    db.session.commit()
    return SimpleNamespace(app=ctx, program=program, trainee=trainee, sup=sup, other=other, admin=admin)


# --- submission ----------------------------------------------------------------------------------------------------


def test_trainee_submits_hours_through_the_web(people):
    client = _signed_in(people.app, "trainee@example.test")

    resp = _post(client, "/hours/", _form(people.sup, case_code="C07"), follow_redirects=True)

    assert resp.status_code == 200
    assert "Your hours were submitted to your supervisor." in _text(resp)
    entry = db.session.execute(sa.select(HourEntry)).scalar_one()
    assert (entry.trainee_id, entry.supervisor_id, entry.minutes, entry.category, entry.status, entry.case_code) == \
        (people.trainee.id, people.sup.id, 90, "lab_in_person", "submitted", "C07")
    assert entry.enrollment_id == enrollment_of(people.trainee).id
    assert entry.corrects_id is None and entry.screening_id is None
    assert _count(HourDecision) == 0


def test_the_form_says_patient_identifiers_are_never_asked_for(people):
    client = _signed_in(people.app, "trainee@example.test")
    page = _text(_get(client, "/hours/"))

    assert "Never enter patient identifiers: no names, initials, dates of birth or record numbers." in page
    assert "Never a patient's name, initials, date of birth or record number." in page
    fields = set(re.findall(r'name="([^"]+)"', page))
    assert {"entry_date", "duration_hours", "duration_minutes",
            "category", "supervisor_id", "setting", "case_code", "notes"} <= fields
    assert not any(re.search(r"patient|initial|birth|dob|mrn|record", f, re.I) for f in fields), fields


@pytest.mark.parametrize("over, status, message", [
    ({"entry_date": (today() + timedelta(days=1)).isoformat()}, 422,
     "The date cannot be in the future. Log sessions after they happen."),
    ({"minutes": 0}, 400, "Enter a duration from 1 minute to 24 hours."),
    ({"minutes": 1441}, 400, "Enter a duration from 1 minute to 24 hours."),
    ({"minutes": ""}, 400, "Enter how long the session lasted, in hours and minutes."),
    ({"duration_minutes": 75}, 400, "Enter 0 to 59 minutes."),
    ({"duration_hours": "two"}, 400, "Not a valid integer value."),
    ({"supervisor_id": 99999}, 422, "Choose a supervising instructor from the list."),
    ({"supervisor_id": 0}, 422, "Choose a supervising instructor from the list."),
    ({"setting": ""}, 400, "Describe the setting, for example 'University teaching clinic'."),
    ({"setting": "   "}, 400, "Describe the setting, for example 'University teaching clinic'."),
], ids=["future", "zero", "over_1440", "no_minutes", "minutes_over_59", "hours_not_a_number",
        "unknown_supervisor", "no_supervisor", "no_setting",
        "blank_setting"])
def test_invalid_submissions_are_refused_with_a_clear_message_and_nothing_written(people, over, status, message):
    client = _signed_in(people.app, "trainee@example.test")

    resp = _post(client, "/hours/", _form(people.sup, **over))

    assert resp.status_code == status
    assert message in _text(resp)
    assert _count(HourEntry) == 0


def test_another_trainee_cannot_be_named_supervisor(people):
    peer = create_trainee(email="peer@example.test")
    client = _signed_in(people.app, "trainee@example.test")

    resp = _post(client, "/hours/", _form(peer))

    assert resp.status_code == 422
    assert "Choose a supervising instructor from the list." in _text(resp)
    assert _count(HourEntry) == 0


@pytest.mark.parametrize("over, message", [
    ({"entry_date": today() + timedelta(days=1)}, "The date cannot be in the future."),
    ({"minutes": 0}, "The duration must be more than zero minutes."),
    ({"minutes": 1441}, "One entry cannot be longer than 24 hours."),
    ({"supervisor_id": 99999}, "Choose a supervising instructor from the list."),
    ({"setting": "  "}, "Describe the setting"),
    ({"category": "massage_spa"}, "Choose a category"),
], ids=["future", "zero", "over_1440", "unknown_supervisor", "blank_setting", "unknown_category"])
def test_ledger_validation_refuses_and_writes_nothing(people, over, message):
    with pytest.raises(ledger.LedgerError, match=re.escape(message)):
        ledger.submit_entry(people.trainee, enrollment_of(people.trainee), _entry_input(people.sup, **over),
                            daily_cap_hours=people.program.daily_cap_hours)
    db.session.rollback()
    assert _count(HourEntry) == 0


def test_daily_cap_from_the_program_manifest(people):
    assert people.program.daily_cap_hours == 10
    client = _signed_in(people.app, "trainee@example.test")
    day = (today() - timedelta(days=5)).isoformat()
    assert _post(client, "/hours/", _form(people.sup, entry_date=day, minutes=480)).status_code == 302

    resp = _post(client, "/hours/", _form(people.sup, entry_date=day, minutes=180))

    assert resp.status_code == 422
    assert f"That would take {day} past the daily cap of 10 hours (120 minutes left that day)." in _text(resp)
    assert _count(HourEntry) == 1
    # What is left still fits, and another day is not affected.
    assert _post(client, "/hours/", _form(people.sup, entry_date=day, minutes=120)).status_code == 302
    other_day = (today() - timedelta(days=6)).isoformat()
    assert _post(client, "/hours/", _form(people.sup, entry_date=other_day, minutes=180)).status_code == 302
    assert _count(HourEntry) == 3


def test_rejected_entries_do_not_use_up_the_daily_cap(people):
    day = today() - timedelta(days=5)
    entry = _submit(people, entry_date=day, minutes=540)
    ledger.decide(entry, "rejected", actor=people.sup, reason="No such session on the clinic roster.")
    db.session.commit()

    _submit(people, entry_date=day, minutes=540)

    assert _count(HourEntry) == 2


def test_a_changed_daily_cap_in_program_yaml_applies(people, tmp_path):
    _load_variant(tmp_path, "daily_cap_hours: 10 ", "daily_cap_hours: 2 ")
    client = _signed_in(people.app, "trainee@example.test")

    resp = _post(client, "/hours/", _form(people.sup, minutes=150))

    assert resp.status_code == 422
    assert "past the daily cap of 2 hours (120 minutes left that day)" in _text(resp)
    assert _count(HourEntry) == 0


def test_clinical_intraoral_without_a_screening_is_refused(people):
    client = _signed_in(people.app, "trainee@example.test")

    resp = _post(client, "/hours/", _form(people.sup, category="clinical_intraoral", minutes=45, case_code="C01"))

    assert resp.status_code == 422
    text = _text(resp)
    assert "Intraoral work needs a pre-treatment intraoral screening of that patient (or lab partner) on the day of " \
        "the session." in text
    assert _count(HourEntry) == 0
    with pytest.raises(ledger.LedgerError, match="screening"):
        ledger.submit_entry(people.trainee, enrollment_of(people.trainee),
                            _entry_input(people.sup, category="clinical_intraoral", screening_id=None),
                            daily_cap_hours=10)


def test_clinical_intraoral_with_a_screening_for_that_session_is_accepted(ctx, program):
    from lms.demo import screen

    hygienist = create_trainee(email="rdh@example.test", profession="dental_hygienist")
    sup = create_user("instructor", email="sup2@example.test")
    day = today() - timedelta(days=2)
    screening = screen(hygienist, day, "C02", "D")
    wrong_day = screen(hygienist, day - timedelta(days=1), "C03", "D")
    client = _signed_in(ctx, "rdh@example.test")

    refused = _post(client, "/hours/", _form(sup, category="clinical_intraoral", minutes=45,
                                             entry_date=day.isoformat(), screening_id=wrong_day.id))
    assert refused.status_code == 422 and "needs its own pre-treatment screening" in _text(refused)
    # A screening clears its own case only: case C02's screening never clears a session of case C03.
    other_case = _post(client, "/hours/", _form(sup, category="clinical_intraoral", minutes=45,
                                                entry_date=day.isoformat(), screening_id=screening.id, case_code="C03"))
    assert other_case.status_code == 422
    assert "The screening is for case C02, but this session is for case C03" in _text(other_case)
    ok = _post(client, "/hours/", _form(sup, category="clinical_intraoral", minutes=45, entry_date=day.isoformat(),
                                        screening_id=screening.id, case_code="c02"))

    assert ok.status_code == 302
    entry = db.session.execute(sa.select(HourEntry)).scalar_one()
    assert entry.screening_id == screening.id and entry.category == "clinical_intraoral"


# --- decisions -----------------------------------------------------------------------------------------------------


def test_named_supervisor_approves_through_the_web(people):
    entry = _submit(people)
    client = _signed_in(people.app, "sup@example.test")

    resp = _post(client, f"/hours/{entry.id}/decide", {"decision": "approved", "reason": ""}, follow_redirects=True)

    assert f"Entry {entry.id} of Tara Trainee: approved." in _text(resp)
    db.session.refresh(entry)
    assert entry.status == "approved"
    decision = db.session.execute(sa.select(HourDecision)).scalar_one()
    assert (decision.entry_id, decision.decision, decision.actor_id) == (entry.id, "approved", people.sup.id)


@pytest.mark.parametrize("decision", ["needs_info", "rejected"])
def test_needs_info_and_rejected_require_a_reason(people, decision):
    entry = _submit(people)
    client = _signed_in(people.app, "sup@example.test")

    refused = _post(client, f"/hours/{entry.id}/decide", {"decision": decision, "reason": "  "},
                    follow_redirects=True)
    assert "Tell the trainee why: a reason is required." in _text(refused)
    db.session.refresh(entry)
    assert entry.status == "submitted" and _count(HourDecision) == 0

    reason = "The setting does not match the clinic roster; add the room."
    _post(client, f"/hours/{entry.id}/decide", {"decision": decision, "reason": reason})

    db.session.refresh(entry)
    assert entry.status == decision
    record = db.session.execute(sa.select(HourDecision)).scalar_one()
    assert (record.decision, record.reason) == (decision, reason)
    # The trainee sees the state and the reason.
    trainee_page = _text(_get(_signed_in(people.app, "trainee@example.test"), "/hours/"))
    assert {"needs_info": "Needs information", "rejected": "Rejected"}[decision] in trainee_page
    assert f"Sam Supervisor: {reason}" in trainee_page


def test_another_instructor_cannot_decide(people):
    entry = _submit(people)
    before = _row(entry.id)
    client = _signed_in(people.app, "other@example.test")

    resp = _post(client, f"/hours/{entry.id}/decide", {"decision": "approved"})

    assert resp.status_code == 404
    assert _row(entry.id) == before and _count(HourDecision) == 0
    with pytest.raises(ledger.LedgerError, match="Only the named supervisor or an administrator"):
        ledger.decide(entry, "approved", actor=people.other)
    db.session.rollback()
    assert _row(entry.id) == before and _count(HourDecision) == 0


def test_trainee_cannot_decide_and_admin_can(people):
    entry = _submit(people)
    trainee_client = _signed_in(people.app, "trainee@example.test")
    assert _post(trainee_client, f"/hours/{entry.id}/decide", {"decision": "approved"}).status_code == 403
    assert _row(entry.id)["status"] == "submitted"

    admin_client = _signed_in(people.app, "admin@example.test")
    _post(admin_client, f"/hours/{entry.id}/decide", {"decision": "rejected", "reason": "Duplicate of another entry."})

    assert _row(entry.id)["status"] == "rejected"
    assert db.session.execute(sa.select(HourDecision.actor_id)).scalar_one() == people.admin.id


def test_nobody_supervises_or_approves_their_own_hours(people):
    # The database refuses an entry naming its own trainee as supervisor.
    enrollment = enrollment_of(people.trainee)
    db.session.add(HourEntry(trainee_id=people.trainee.id, enrollment_id=enrollment.id,
                             entry_date=today() - timedelta(days=1), minutes=60, category="lab_in_person",
                             supervisor_id=people.trainee.id, setting="Skills lab", status="submitted"))
    with pytest.raises(IntegrityError) as exc:
        db.session.flush()
    assert "not_self_supervised" in str(exc.value)
    db.session.rollback()

    # The ledger refuses an instructor naming themself.
    with pytest.raises(ledger.LedgerError, match="You cannot supervise your own hours."):
        ledger.validate_entry(people.sup, _entry_input(people.sup), daily_cap_hours=10)

    # And an admin cannot decide on an entry where they are the trainee.
    own = Enrollment(user_id=people.admin.id, program_id="omr", program_version="2026.1", enrolled_on=today())
    db.session.add(own)
    db.session.flush()
    entry = HourEntry(trainee_id=people.admin.id, enrollment_id=own.id, entry_date=today() - timedelta(days=1),
                      minutes=60, category="lab_in_person", supervisor_id=people.sup.id, setting="Skills lab",
                      status="submitted")
    db.session.add(entry)
    db.session.commit()
    with pytest.raises(ledger.LedgerError, match="Nobody approves their own hours."):
        ledger.decide(entry, "approved", actor=people.admin)
    db.session.rollback()
    assert _row(entry.id)["status"] == "submitted" and _count(HourDecision) == 0


def test_decided_entries_cannot_be_decided_again(people):
    entry = _submit(people)
    client = _signed_in(people.app, "sup@example.test")
    _post(client, f"/hours/{entry.id}/decide", {"decision": "approved"})

    again = _post(client, f"/hours/{entry.id}/decide", {"decision": "rejected", "reason": "Changed my mind."},
                  follow_redirects=True)

    assert "This entry is already approved; only submitted entries are decided." in _text(again)
    assert _row(entry.id)["status"] == "approved"
    assert _count(HourDecision) == 1


def test_two_decisions_on_one_entry_leave_exactly_one_decision(people):
    entry = _submit(people)
    ledger.decide(entry, "approved", actor=people.sup)
    with pytest.raises(ledger.LedgerError):
        ledger.decide(entry, "rejected", actor=people.admin, reason="Duplicate.")
    db.session.commit()

    assert _count(HourDecision) == 1
    assert _row(entry.id)["status"] == "approved"


def test_a_decision_on_a_stale_copy_loses_the_race(people):
    """Two reviewers load the same submitted entry; the second to write is refused by the guarded update."""
    entry = _submit(people)
    entry_id, sup_id = entry.id, people.sup.id
    stale = db.session.get(HourEntry, entry_id)
    assert stale.status == "submitted" and stale.trainee_id and stale.supervisor_id
    db.session.expunge(stale)  # this reviewer's copy keeps saying 'submitted'
    db.session.rollback()  # and holds no open transaction (a SQLite read snapshot would turn the race into a lock)

    with people.app.app_context():  # the first reviewer, with a session of its own
        fresh = db.session.get(HourEntry, entry_id)
        ledger.decide(fresh, "approved", actor=db.session.get(User, sup_id))
        db.session.commit()

    with pytest.raises(ledger.LedgerError, match="Another decision was recorded on this entry a moment ago."):
        ledger.decide(stale, "rejected", actor=people.admin, reason="Duplicate of another entry.")
    db.session.rollback()

    decisions = db.session.execute(sa.select(HourDecision)).scalars().all()
    assert [(d.decision, d.actor_id) for d in decisions] == [("approved", people.sup.id)]
    assert _row(entry.id)["status"] == "approved"


# --- counting ------------------------------------------------------------------------------------------------------


def test_only_approved_hours_count(people):
    day = today() - timedelta(days=10)
    approved = _submit(people, entry_date=day, minutes=90)
    needs_info = _submit(people, entry_date=day - timedelta(days=1), minutes=30)
    rejected = _submit(people, entry_date=day - timedelta(days=2), minutes=45, category="clinical_extraoral")
    _submit(people, entry_date=day - timedelta(days=3), minutes=120, category="clinical_extraoral")  # pending
    ledger.decide(approved, "approved", actor=people.sup)
    ledger.decide(needs_info, "needs_info", actor=people.sup, reason="Which lab room?")
    ledger.decide(rejected, "rejected", actor=people.sup, reason="Not a supervised session.")
    db.session.commit()

    assert ledger.counted_minutes_by_category(people.trainee.id) == {"lab_in_person": 90}

    client = _signed_in(people.app, "trainee@example.test")
    dashboard = _text(_get(client, "/dashboard"))
    assert _progress_text(dashboard, "Lab, in person") == "1.5 of 16 h"
    assert _progress_text(dashboard, "Clinical, extraoral") == "0 of 8 h"  # the standard's H-EXTRA target
    assert _progress_text(dashboard, "Clinical, intraoral") == "0 of 10 h"
    assert "Which lab room?" in dashboard  # needs_info is waiting on the trainee, with the reason
    hours_page = _text(_get(client, "/hours/"))
    assert _progress_text(hours_page, "Lab, in person") == "1.5 of 16 h"
    assert _progress_text(hours_page, "Clinical, extraoral") == "0 of 8 h"


# --- corrections ---------------------------------------------------------------------------------------------------


def test_a_correction_is_a_new_linked_entry_and_the_original_counts_until_it_is_approved(people):
    original = _submit(people, minutes=60, case_code="C04")
    ledger.decide(original, "approved", actor=people.sup)
    db.session.commit()
    before = _row(original.id)
    client = _signed_in(people.app, "trainee@example.test")
    assert f'value="{original.id}"' in _text(_get(client, f"/hours/?correct={original.id}"))

    resp = _post(client, "/hours/", {**_form(people.sup, minutes=75, case_code="C04"), "corrects_id": original.id},
                 follow_redirects=True)

    assert "Your correction was submitted. The original entry stays in your history." in _text(resp)
    correction = db.session.execute(sa.select(HourEntry).filter_by(corrects_id=original.id)).scalar_one()
    assert (correction.minutes, correction.status, correction.trainee_id) == (75, "submitted", people.trainee.id)
    assert _row(original.id) == before
    assert ledger.counted_minutes_by_category(people.trainee.id) == {"lab_in_person": 60}
    assert original.id not in ledger.superseded_ids(people.trainee.id)

    # A second correction while the first waits is refused.
    again = _post(client, "/hours/", {**_form(people.sup, minutes=80), "corrects_id": original.id})
    assert again.status_code == 422
    assert "A correction of that entry is already waiting for a decision." in _text(again)

    ledger.decide(correction, "approved", actor=people.sup)
    db.session.commit()

    assert _row(original.id) == before  # still approved, never edited
    assert ledger.counted_minutes_by_category(people.trainee.id) == {"lab_in_person": 75}
    assert ledger.superseded_ids(people.trainee.id) == {original.id}
    page = _text(_get(client, "/hours/"))
    assert "Superseded by a correction" in page and f"corrects {original.id}" in page
    assert _progress_text(page, "Lab, in person") == "1.25 of 16 h"
    # A superseded entry cannot be corrected again.
    with pytest.raises(ledger.LedgerError, match="already been corrected"):
        ledger.submit_entry(people.trainee, enrollment_of(people.trainee), _entry_input(people.sup, minutes=30),
                            daily_cap_hours=10, corrects=original)


def test_a_rejected_correction_leaves_the_original_counting(people):
    original = _submit(people, minutes=60)
    ledger.decide(original, "approved", actor=people.sup)
    correction = ledger.submit_entry(people.trainee, enrollment_of(people.trainee),
                                     _entry_input(people.sup, minutes=600), daily_cap_hours=10, corrects=original)
    ledger.decide(correction, "rejected", actor=people.sup, reason="Ten hours is not plausible.")
    db.session.commit()

    assert ledger.counted_minutes_by_category(people.trainee.id) == {"lab_in_person": 60}
    assert ledger.superseded_ids(people.trainee.id) == set()


@pytest.mark.parametrize("state", ["needs_info", "rejected"])
def test_a_correction_of_a_returned_entry_supersedes_it_at_once(people, state):
    original = _submit(people, minutes=60)
    ledger.decide(original, state, actor=people.sup, reason="Add the lab room.")
    db.session.commit()
    before = _row(original.id)
    client = _signed_in(people.app, "trainee@example.test")

    resp = _post(client, "/hours/", {**_form(people.sup, minutes=60, setting="Skills lab, room 2"),
                                     "corrects_id": original.id})

    assert resp.status_code == 302
    correction = db.session.execute(sa.select(HourEntry).filter_by(corrects_id=original.id)).scalar_one()
    assert correction.status == "submitted"
    assert ledger.superseded_ids(people.trainee.id) == {original.id}
    assert _row(original.id) == before
    assert ledger.counted_minutes_by_category(people.trainee.id) == {}

    ledger.decide(correction, "approved", actor=people.sup)
    db.session.commit()
    assert ledger.counted_minutes_by_category(people.trainee.id) == {"lab_in_person": 60}
    assert _row(original.id) == before


def test_a_trainee_cannot_correct_someone_elses_entry(people):
    other_trainee = create_trainee(email="else@example.test")
    theirs = ledger.submit_entry(other_trainee, enrollment_of(other_trainee), _entry_input(people.sup),
                                 daily_cap_hours=10)
    ledger.decide(theirs, "approved", actor=people.sup)
    db.session.commit()
    client = _signed_in(people.app, "trainee@example.test")

    assert _get(client, f"/hours/?correct={theirs.id}").status_code == 404
    assert _post(client, "/hours/", {**_form(people.sup), "corrects_id": theirs.id}).status_code == 404
    assert _count(HourEntry) == 1


# --- the instructor queue ------------------------------------------------------------------------------------------


def test_queue_shows_an_instructor_only_their_entries_and_an_admin_all(people):
    mine = _submit(people, setting="Room for Sam")
    theirs = _submit(people, setting="Room for Olga", supervisor_id=people.other.id,
                     entry_date=today() - timedelta(days=4))
    done = _submit(people, setting="Already decided room", entry_date=today() - timedelta(days=5))
    ledger.decide(done, "approved", actor=people.sup)
    db.session.commit()

    sam = _text(_get(_signed_in(people.app, "sup@example.test"), "/hours/queue"))
    olga = _text(_get(_signed_in(people.app, "other@example.test"), "/hours/queue"))
    admin = _text(_get(_signed_in(people.app, "admin@example.test"), "/hours/queue"))

    assert "Room for Sam" in sam and "Room for Olga" not in sam
    assert "Room for Olga" in olga and "Room for Sam" not in olga
    assert "Room for Sam" in admin and "Room for Olga" in admin
    for page in (sam, olga, admin):
        assert "Already decided room" not in page
    assert f'action="/hours/{mine.id}/decide"' in sam and f'action="/hours/{theirs.id}/decide"' in olga
    assert [e.id for e in ledger.pending_for(people.sup)] == [mine.id]
    assert {e.id for e in ledger.pending_for(people.admin)} == {mine.id, theirs.id}


def test_trainees_cannot_open_the_queue(people):
    client = _signed_in(people.app, "trainee@example.test")
    assert _get(client, "/hours/queue").status_code == 403


@pytest.mark.parametrize("raw", ["abc", "²", "-1", "99999999999999999999", "424242"])
def test_malformed_or_unknown_entry_ids_are_404_not_errors(people, raw):
    trainee = _signed_in(people.app, "trainee@example.test")
    assert _get(trainee, f"/hours/?correct={raw}").status_code == 404
    assert _post(trainee, "/hours/", {**_form(people.sup), "corrects_id": raw}).status_code == 404
    admin = _signed_in(people.app, "admin@example.test")
    assert _post(admin, f"/hours/{raw}/decide", {"decision": "approved"}).status_code == 404
    assert _count(HourEntry) == 0 and _count(HourDecision) == 0


# --- the queue: bulk approval, filters, paging ------------------------------------------------------------------------


def test_bulk_approval_decides_each_entry_with_the_same_checks_and_audit(people):
    from lms.core.audit import AuditEvent

    first = _submit(people, setting="Bulk one")
    second = _submit(people, setting="Bulk two", entry_date=today() - timedelta(days=4))
    olgas = _submit(people, setting="Olga's", supervisor_id=people.other.id, entry_date=today() - timedelta(days=5))
    db.session.commit()
    client = _signed_in(people.app, "sup@example.test")
    page = _text(_get(client, "/hours/queue"))
    assert 'id="bulk-approve"' in page and f'name="entry_id" value="{first.id}" form="bulk-approve"' in page

    resp = _post(client, "/hours/queue/approve", {"entry_id": [str(first.id), str(second.id), str(olgas.id)]},
                 follow_redirects=True)
    text = _text(resp)
    assert "2 entries approved." in text
    assert f"<li>Entry {olgas.id}: No such entry in your queue.</li>" in text  # another supervisor's entry
    assert (_row(first.id)["status"], _row(second.id)["status"], _row(olgas.id)["status"]) == \
        ("approved", "approved", "submitted")
    audited = db.session.execute(sa.select(AuditEvent.object_id).where(AuditEvent.action == "hours.approved")
                                 ).scalars().all()
    assert sorted(audited) == sorted([str(first.id), str(second.id)])
    assert _count(HourDecision) == 2

    # Already decided: refused with the same words as one by one; nothing new recorded.
    again = _text(_post(client, "/hours/queue/approve", {"entry_id": str(first.id)}, follow_redirects=True))
    assert "is already approved" in again and _count(HourDecision) == 2
    assert "Tick the entries to approve first." in _text(_post(client, "/hours/queue/approve", {},
                                                                follow_redirects=True))


def test_queue_filters_link_to_the_trainee_and_pages(people):
    other_trainee = create_trainee(email="second@example.test", name="Quinn Second")
    db.session.commit()
    lab = _submit(people, setting="Tara lab")
    clin = _submit(people, setting="Tara clinic", category="clinical_extraoral", case_code="C01",
                   entry_date=today() - timedelta(days=4))
    quinn = ledger.submit_entry(other_trainee, enrollment_of(other_trainee),
                                _entry_input(people.sup, setting="Quinn lab"),
                                daily_cap_hours=people.program.daily_cap_hours)
    db.session.commit()
    client = _signed_in(people.app, "sup@example.test")

    by_trainee = _text(_get(client, f"/hours/queue?trainee={other_trainee.id}"))
    assert "Quinn lab" in by_trainee and "Tara lab" not in by_trainee
    by_category = _text(_get(client, "/hours/queue?category=clinical_extraoral"))
    assert "Tara clinic" in by_category and "Tara lab" not in by_category and "Quinn lab" not in by_category
    assert f'href="/hours/queue?trainee={people.trainee.id}&amp;status=submitted"' in _get(
        client, "/hours/queue").get_data(as_text=True)
    ledger.decide(lab, "approved", actor=people.sup)
    db.session.commit()
    approved = _text(_get(client, "/hours/queue?status=approved"))
    assert "Tara lab" in approved and "Tara clinic" not in approved and 'id="bulk-approve"' not in approved
    none = _text(_get(client, "/hours/queue?status=rejected"))
    assert "No entries match these filters." in none
    assert clin.id and quinn.id

    # Paging: 20 to a page, oldest submission first; nonsense page numbers are 404s, not errors.
    assert _get(client, "/hours/queue?page=0").status_code == 404
    assert _get(client, "/hours/queue?page=2").status_code == 200


def test_trainee_history_is_paged(people):
    for n in range(23):
        entry = ledger.EntryInput(entry_date=today() - timedelta(days=30 + n), minutes=30, category="lab_in_person",
                                  supervisor_id=people.sup.id, setting=f"Paged room {n}", notes="")
        ledger.submit_entry(people.trainee, enrollment_of(people.trainee), entry,
                            daily_cap_hours=people.program.daily_cap_hours)
    db.session.commit()
    client = _signed_in(people.app, "trainee@example.test")
    first = _get(client, "/hours/").get_data(as_text=True)
    assert first.count('data-label="Entry"') == 20 and 'rel="next"' in first and 'rel="prev"' not in first
    assert "30 min" in first  # durations read as hours and minutes
    second = _get(client, "/hours/?page=2").get_data(as_text=True)
    assert second.count('data-label="Entry"') == 3 and 'rel="prev"' in second and 'rel="next"' not in second


def test_the_queue_links_each_entry_to_a_record_its_reviewer_can_open(people):
    entry = _submit(people)
    db.session.commit()
    sam = _signed_in(people.app, "sup@example.test")
    page = _get(sam, "/hours/queue").get_data(as_text=True)
    link = f'href="/trainees/{people.trainee.id}"'
    assert link in page and entry.id
    assert _get(sam, f"/trainees/{people.trainee.id}").status_code == 200  # naming a supervisor lets them act
    admin_page = _get(_signed_in(people.app, "admin@example.test"), "/hours/queue").get_data(as_text=True)
    assert f'href="/admin/trainees/{people.trainee.id}"' in admin_page
