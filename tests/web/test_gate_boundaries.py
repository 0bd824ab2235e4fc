"""Boundaries of the intraoral screening gate: whose agreement, which days, which standard's clearance window.

Each test pins a behaviour a mutation run showed no test would notice changing (see mutation/REPORT.md)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from lms.extensions import db
from lms.screening.gate import agreement_current, check_screening_for_entry, clearance_days_for, current_agreement
from lms.screening.operations import (
    AgreementInput,
    ScreeningError,
    ScreeningInput,
    decide_agreement,
    record_screening,
    submit_agreement,
)
from tests.factories import create_evidence, create_trainee, create_user, enrollment_of, signed_in_client

TODAY = date.today()
FINDINGS = {k: "normal" for k in ("extraoral", "teeth", "gingiva", "bone", "tongue", "soft_tissue")}
NOT_COVERED = "not covered by a verified collaboration agreement that is current on the session date"


def _agreement(trainee, reviewer, valid_from, valid_until, *, verify=True):
    agreement = submit_agreement(trainee, AgreementInput(
        dentist_name="Dr. Dana Dental", dentist_profession="dentist", dentist_license="DDS-1",
        dentist_jurisdiction="US-OR", valid_from=valid_from, valid_until=valid_until),
        create_evidence(trainee, "agreement"))
    if verify:
        decide_agreement(agreement, "verified", actor=reviewer)
    db.session.flush()
    return agreement


def _screening(trainee, day, *, clearance_days_before=1, case="K1"):
    return record_screening(trainee, ScreeningInput(
        session_date=day, screened_by="collaborator", findings=dict(FINDINGS), case_code=case,
        clearance_date=day - timedelta(days=clearance_days_before), clearance_reference="Letter DR-1",
        attested_no_change=True))


@pytest.fixture
def people(ctx, program):
    reviewer = create_user("admin", email="gate-admin@example.test")
    instructor = create_user("instructor", email="gate-sup@example.test")
    first = create_trainee(email="first@gate.test")
    second = create_trainee(email="second@gate.test")
    db.session.commit()
    return {"reviewer": reviewer, "instructor": instructor, "first": first, "second": second}


def test_agreement_revoked_after_the_screening_blocks_the_intraoral_session(app, people):
    first, reviewer, instructor = people["first"], people["reviewer"], people["instructor"]
    agreement = _agreement(first, reviewer, TODAY - timedelta(days=30), TODAY + timedelta(days=300))
    day = TODAY - timedelta(days=2)
    screening = _screening(first, day)
    assert check_screening_for_entry(first, screening.id, day, "K1") is None
    db.session.commit()

    decide_agreement(agreement, "revoked", actor=reviewer, reason="The dentist ended the collaboration.")
    db.session.commit()
    # The dates still cover the session: only the revocation stops it.
    assert agreement.valid_from <= day <= agreement.valid_until
    assert not agreement_current(agreement, day)
    assert NOT_COVERED in check_screening_for_entry(first, screening.id, day, "K1")

    resp = signed_in_client(app, first.email).post("/hours/", data={
        "entry_date": day.isoformat(), "duration_hours": "0", "duration_minutes": "45",
        "category": "clinical_intraoral", "supervisor_id": str(instructor.id),
        "setting": "University teaching clinic", "case_code": "K1",
        "notes": "", "screening_id": str(screening.id)})
    assert resp.status_code == 422
    assert "verified collaboration agreement" in resp.get_data(as_text=True)


def test_one_trainees_agreement_never_serves_another(people):
    first, second, reviewer = people["first"], people["second"], people["reviewer"]
    mine = _agreement(first, reviewer, TODAY - timedelta(days=30), TODAY + timedelta(days=300))
    assert current_agreement(first.id, TODAY) == mine
    assert current_agreement(second.id, TODAY) is None
    with pytest.raises(ScreeningError, match="No verified collaboration agreement is current"):
        _screening(second, TODAY)
    # Once the second trainee has her own, hers is the one used.
    hers = _agreement(second, reviewer, TODAY - timedelta(days=10), TODAY + timedelta(days=10))
    assert current_agreement(second.id, TODAY) == hers
    assert _screening(second, TODAY).agreement_id == hers.id


def test_only_a_verified_agreement_is_current(people):
    first, reviewer = people["first"], people["reviewer"]
    pending = _agreement(first, reviewer, TODAY - timedelta(days=30), TODAY + timedelta(days=30), verify=False)
    assert pending.status == "pending"
    assert not agreement_current(pending, TODAY)
    assert current_agreement(first.id, TODAY) is None
    assert not agreement_current(None, TODAY)


def test_a_future_dated_agreement_does_not_count_yet(people):
    first, reviewer = people["first"], people["reviewer"]
    future = _agreement(first, reviewer, TODAY + timedelta(days=10), TODAY + timedelta(days=300))
    assert not agreement_current(future, TODAY)
    assert current_agreement(first.id, TODAY) is None
    with pytest.raises(ScreeningError, match="No verified collaboration agreement is current"):
        _screening(first, TODAY)


def test_first_and_last_day_of_an_agreement_count_and_the_days_around_them_do_not(people):
    first, reviewer = people["first"], people["reviewer"]
    start, end = TODAY - timedelta(days=40), TODAY - timedelta(days=20)
    agreement = _agreement(first, reviewer, start, end)
    for day, current in ((start - timedelta(days=1), False), (start, True), (end, True),
                         (end + timedelta(days=1), False)):
        assert agreement_current(agreement, day) is current, day
        assert (current_agreement(first.id, day) == agreement) is current, day
    # A session on the last day can be screened and logged; the day after cannot be screened.
    last = _screening(first, end, case="K2")
    assert last.agreement_id == agreement.id
    assert check_screening_for_entry(first, last.id, end, "K2") is None
    with pytest.raises(ScreeningError, match="No verified collaboration agreement is current"):
        _screening(first, end + timedelta(days=1), case="K3")


def test_the_newest_of_two_current_agreements_is_used(people):
    first, reviewer = people["first"], people["reviewer"]
    _agreement(first, reviewer, TODAY - timedelta(days=30), TODAY + timedelta(days=10))
    longer = _agreement(first, reviewer, TODAY - timedelta(days=5), TODAY + timedelta(days=200))
    assert current_agreement(first.id, TODAY) == longer


def _load_changed_standard(app, tmp_path, days: int):
    """A newer copy of the shipped standard whose clearance window is ``days``."""
    import re

    from lms.standards.operations import load_standard

    text = (Path(app.config["COURSES_DIR"]) / "omr" / "standard.yaml").read_text(encoding="utf-8")
    assert "clearance_valid_days: 183" in text
    text = text.replace("clearance_valid_days: 183", f"clearance_valid_days: {days}", 1)
    text = re.sub(r'^version: "[^"]+"', 'version: "9.9.0"', text, count=1, flags=re.MULTILINE)
    changed = tmp_path / "standard.yaml"
    changed.write_text(text, encoding="utf-8")
    version, created = load_standard(changed)
    assert created
    return version


def test_a_trainee_pinned_to_an_older_standard_keeps_its_clearance_window(app, people, tmp_path):
    """A newer standard with a shorter window does not reach a trainee whose enrollment stays on the older one."""
    first, reviewer = people["first"], people["reviewer"]
    _agreement(first, reviewer, TODAY - timedelta(days=300), TODAY + timedelta(days=300))
    day = TODAY - timedelta(days=1)
    screening = _screening(first, day, clearance_days_before=150)
    newer = _load_changed_standard(app, tmp_path, 120)
    db.session.commit()
    assert enrollment_of(first).standard_version_id != newer.id
    assert clearance_days_for(first) == 183
    assert check_screening_for_entry(first, screening.id, day, "K1") is None


def test_an_event_since_the_clearance_is_named_in_the_refusal(people):
    first, reviewer = people["first"], people["reviewer"]
    _agreement(first, reviewer, TODAY - timedelta(days=30), TODAY + timedelta(days=300))
    day = TODAY - timedelta(days=1)
    screening = record_screening(first, ScreeningInput(
        session_date=day, screened_by="collaborator", findings=dict(FINDINGS), case_code="K1",
        clearance_date=day - timedelta(days=5), clearance_reference="Letter DR-1",
        clearance_events=["dental_procedure", "radiation"]))
    problem = check_screening_for_entry(first, screening.id, day, "K1")
    assert problem.startswith("The dental clearance ended when something new happened (an extraction or other "
                              "dental procedure, radiotherapy to the head or neck).")


def test_an_attached_clearance_document_needs_no_letter_reference(people):
    first, reviewer = people["first"], people["reviewer"]
    _agreement(first, reviewer, TODAY - timedelta(days=30), TODAY + timedelta(days=300))
    day = TODAY - timedelta(days=1)
    screening = record_screening(first, ScreeningInput(
        session_date=day, screened_by="collaborator", findings=dict(FINDINGS), case_code="K1",
        clearance_date=day - timedelta(days=5), clearance_document=create_evidence(first, "clearance"),
        clearance_reference="", attested_no_change=True))
    assert screening.clearance_document_id is not None and not screening.clearance_reference
    assert check_screening_for_entry(first, screening.id, day, "K1") is None
    # Neither a document nor a reference (a record changed outside the app): refused.
    screening.clearance_document_id = None
    assert "no clearance document or letter reference" in check_screening_for_entry(first, screening.id, day, "K1")
    db.session.rollback()


def test_clearance_window_edges(people):
    first, reviewer = people["first"], people["reviewer"]
    _agreement(first, reviewer, TODAY - timedelta(days=400), TODAY + timedelta(days=300))
    day = TODAY - timedelta(days=1)
    at_limit = _screening(first, day, clearance_days_before=183)
    same_day = _screening(first, day, clearance_days_before=0, case="K2")
    assert check_screening_for_entry(first, at_limit.id, day, "K1") is None
    assert check_screening_for_entry(first, same_day.id, day, "K2") is None
    # A clearance dated after the session (only possible for a screening changed outside the app) never counts.
    same_day.clearance_date = day + timedelta(days=1)
    assert "within 183 days before the session" in check_screening_for_entry(first, same_day.id, day, "K2")
    at_limit.clearance_date = day - timedelta(days=184)
    assert "within 183 days before the session" in check_screening_for_entry(first, at_limit.id, day, "K1")
    db.session.rollback()
