"""Competency assessments: the instructor gradebook, recording and amending observations, and sign-off rules."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from lms.assessments.models import Assessment
from lms.core.formatting import format_date
from lms.extensions import db
from tests.factories import create_trainee, create_user, enrollment_of
from tests.factories import page_text as _text
from tests.factories import signed_in_client as _client

TODAY = date.today()




def _plain(resp) -> str:
    """The page's visible text: tags removed, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", resp.get_data(as_text=True))).split())


def _competency(comp_id):
    from lms.standards.queries import current_version

    return next(c for c in current_version("omr").data["competencies"] if c["id"] == comp_id)


def _name_as_supervisor(trainee, instructor, program, days_ago=30):
    """The trainee logs a lab session naming the instructor: that makes the instructor one of 'theirs'."""
    from lms.demo import log_session

    log_session(trainee, enrollment_of(trainee), program, instructor, day=TODAY - timedelta(days=days_ago),
                minutes=60, category="lab_in_person", case=None, decision="submitted")


def _count(model=Assessment) -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def observe(trainee, comp_id, actor, *, days_ago, level=4, drop=(), critical_failure=False, case=None):
    """Record one observation through the operation (criteria all met except ``drop``)."""
    from lms.assessments.operations import ObservationInput, record_observation
    from lms.standards.queries import standard_for_user

    comp = _competency(comp_id)
    return record_observation(trainee, enrollment_of(trainee), standard_for_user(trainee.id), ObservationInput(
        competency_id=comp_id, observed_on=TODAY - timedelta(days=days_ago),
        criteria_met={c["id"] for c in comp["criteria"]} - set(drop), critical_failure=critical_failure,
        level=level, case_code=case), actor=actor)


def requirement(user, req_id):
    from lms.eligibility.service import decision_for

    return next(r for r in decision_for(user).decision.requirements if r.id == req_id)


def _form(comp_id, *, level, drop=(), critical_failure=False, observed_on=None, **extra):
    comp = _competency(comp_id)
    data = {"competency_id": comp_id, "observed_on": (observed_on or TODAY).isoformat(), "level": str(level),
            "criteria": [c["id"] for c in comp["criteria"] if c["id"] not in drop], "comments": "Observed in clinic."}
    if critical_failure:
        data["critical_failure"] = "y"
    data.update(extra)
    return data


@pytest.fixture
def cohort(ctx, program):
    """Two instructors (one a dentist), an admin and two trainees: t1 named instructor A, t2 named instructor B."""
    a = create_user("instructor", email="ines@assess.test", name="Ines Instructor", profession="massage_therapist")
    b = create_user("instructor", email="bert@assess.test", name="Bert Other", profession="dentist")
    admin = create_user("admin", email="admin@assess.test")
    t1 = create_trainee(email="t1@assess.test", name="Tara One")
    t2 = create_trainee(email="t2@assess.test", name="Theo Two")
    _name_as_supervisor(t1, a, program)
    _name_as_supervisor(t2, b, program)
    db.session.commit()
    return {"a": a, "b": b, "admin": admin, "t1": t1, "t2": t2}


# --------------------------------------------------------------------------- gradebook and access


def test_gradebook_lists_the_instructors_own_trainees_with_progress(app, cohort):
    a = _client(app, cohort["a"].email)
    page = _text(a.get("/gradebook"))
    assert "Tara One" in page and "Theo Two" not in page
    assert f"/trainees/{cohort['t1'].id}" in page
    assert "0 of 10" in page  # competencies signed off

    # A passing C10 observation (1 needed) shows up as progress.
    resp = a.post(f"/trainees/{cohort['t1'].id}/assessments", data=_form("C10", level=4), follow_redirects=True)
    assert "C10 observation signed: passes (level 4)." in _text(resp)
    assert "1 of 10" in _text(a.get("/gradebook"))

    admin_page = _text(_client(app, cohort["admin"].email).get("/gradebook"))
    assert "Tara One" in admin_page and "Theo Two" in admin_page


def test_instructor_who_is_not_the_trainees_gets_404_and_cannot_record(app, cohort):
    t1 = cohort["t1"]
    b = _client(app, cohort["b"].email)
    assert b.get(f"/trainees/{t1.id}").status_code == 404
    assert b.post(f"/trainees/{t1.id}/assessments", data=_form("C10", level=5)).status_code == 404
    assert _count() == 0

    a = _client(app, cohort["a"].email)
    page = a.get(f"/trainees/{t1.id}")
    assert page.status_code == 200
    assert "Certification decision" in _text(page)
    # A trainee may not reach the instructor pages at all.
    assert _client(app, t1.email).get(f"/trainees/{t1.id}").status_code == 403
    assert _client(app, t1.email).post(f"/trainees/{t1.id}/assessments",
                                       data=_form("C10", level=5)).status_code == 403
    assert _count() == 0


# --------------------------------------------------------------------------- recording: passed is derived


@pytest.mark.parametrize(
    ("label", "kwargs", "expected"),
    [
        ("level below required", {"level": 3, "passed": "y"}, False),
        ("critical criterion unchecked", {"level": 5, "drop": ("c6-gloves",), "passed": "1"}, False),
        ("critical failure recorded", {"level": 5, "critical_failure": True, "passed": "true"}, False),
        ("non-critical criterion unchecked", {"level": 4, "drop": ("c6-technique",), "passed": "0"}, True),
        ("everything met", {"level": 4, "passed": ""}, True),
    ],
)
def test_posted_observation_passes_only_as_the_standard_says(app, cohort, label, kwargs, expected):
    t1 = cohort["t1"]
    resp = _client(app, cohort["a"].email).post(f"/trainees/{t1.id}/assessments", data=_form("C6", **kwargs),
                                                 follow_redirects=True)
    assert resp.status_code == 200
    verdict = "passes" if expected else "does not pass"
    assert f"C6 observation signed: {verdict} (level {kwargs['level']})." in _text(resp), label
    db.session.expire_all()
    a = db.session.execute(sa.select(Assessment)).scalar_one()
    assert a.passed is expected, label
    assert a.assessor_id == cohort["a"].id and a.trainee_id == t1.id
    assert a.standard_version_id == enrollment_of(t1).standard_version_id
    assert a.criteria["c6-gloves"] is ("c6-gloves" not in kwargs.get("drop", ()))
    assert a.critical_failure is bool(kwargs.get("critical_failure"))


def test_invalid_observation_is_refused_with_a_message(app, cohort):
    t1 = cohort["t1"]
    a = _client(app, cohort["a"].email)
    future = _form("C6", level=4, observed_on=TODAY + timedelta(days=1))
    assert "cannot be in the future" in _text(a.post(f"/trainees/{t1.id}/assessments", data=future,
                                                     follow_redirects=True))
    no_level = _form("C6", level=0)
    assert "Choose an entrustment level" in _text(a.post(f"/trainees/{t1.id}/assessments", data=no_level,
                                                         follow_redirects=True))
    simulated = _form("C6", level=4, simulated="y")
    assert "simulation is not allowed" in _text(a.post(f"/trainees/{t1.id}/assessments", data=simulated,
                                                       follow_redirects=True))
    assert _count() == 0


def test_nobody_assesses_themselves(ctx, cohort):
    from lms.assessments.operations import AssessmentError

    t1, a = cohort["t1"], cohort["a"]
    # The operation refuses, whatever the actor's role.
    with pytest.raises(AssessmentError, match="Nobody assesses themselves"):
        observe(t1, "C10", t1, days_ago=1)
    with pytest.raises(AssessmentError, match="Nobody assesses themselves"):
        observe(a, "C10", a, days_ago=1)
    db.session.rollback()
    assert _count() == 0
    # And the database refuses a row written around the operation.
    enrollment = enrollment_of(t1)
    db.session.add(Assessment(trainee_id=t1.id, enrollment_id=enrollment.id,
                              standard_version_id=enrollment.standard_version_id, assessor_id=t1.id,
                              competency_id="C10", observed_on=TODAY, criteria={}, level=5, passed=True))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    assert _count() == 0


# --------------------------------------------------------------------------- amendments


def test_amendment_is_a_new_linked_record_and_the_original_stops_counting(app, cohort):
    from lms.core.audit import AuditEvent

    t1 = cohort["t1"]
    a = _client(app, cohort["a"].email)
    url = f"/trainees/{t1.id}/assessments"
    a.post(url, data=_form("C10", level=4, case_code="K7"))
    original = db.session.execute(sa.select(Assessment)).scalar_one()
    snapshot = {c.name: getattr(original, c.name) for c in Assessment.__table__.columns}
    assert original.passed and requirement(t1, "C10").met

    # An amendment needs a reason.
    resp = a.post(url, data=_form("C10", level=2, amends_id=str(original.id)), follow_redirects=True)
    assert "Say why the assessment is being amended." in _text(resp)
    assert _count() == 1

    reason = "Level entered wrongly: the trainee needed prompting throughout."
    resp = a.post(url, data=_form("C10", level=2, case_code="K7", amends_id=str(original.id),
                                  amendment_reason=reason), follow_redirects=True)
    assert "C10 observation signed: does not pass (level 2)." in _text(resp)
    db.session.expire_all()
    rows = db.session.execute(sa.select(Assessment).order_by(Assessment.id)).scalars().all()
    assert len(rows) == 2
    first, amendment = rows
    assert {c.name: getattr(first, c.name) for c in Assessment.__table__.columns} == snapshot  # unchanged
    assert amendment.amends_id == first.id and amendment.amendment_reason == reason
    assert amendment.level == 2 and not amendment.passed
    # The original no longer counts: C10 needed one passing observation and now has none.
    c10 = requirement(t1, "C10")
    assert not c10.met and "0 of 1 passing observation" in c10.progress
    event = db.session.execute(sa.select(AuditEvent).filter_by(action="assessment.amend")).scalar_one()
    assert event.details["amends"] == first.id and event.details["reason"] == reason

    # A second amendment of the same original is refused.
    resp = a.post(url, data=_form("C10", level=5, amends_id=str(first.id), amendment_reason="second try"),
                  follow_redirects=True)
    assert "This assessment has already been amended; amend the latest version instead." in _text(resp)
    assert _count() == 2

    # The detail pages say who changed what and why.
    detail = _text(a.get(f"/assessments/{amendment.id}"))
    assert "Ines Instructor" in detail and reason in detail
    assert f"assessment {first.id}" in detail and "level: 4 → 2" in detail
    old_detail = _plain(a.get(f"/assessments/{first.id}"))
    assert f"amended by assessment {amendment.id} and no longer counts" in old_detail
    history = _text(a.get(f"/trainees/{t1.id}"))
    assert "Amended" in history and f"amends {first.id}" in history
    # The trainee can read their own assessment; another instructor cannot.
    assert _client(app, t1.email).get(f"/assessments/{amendment.id}").status_code == 200
    assert _client(app, cohort["b"].email).get(f"/assessments/{amendment.id}").status_code == 404
    assert _client(app, cohort["t2"].email).get(f"/assessments/{amendment.id}").status_code == 404

    # Amending the latest version is allowed and puts C10 back to met.
    resp = a.post(url, data=_form("C10", level=4, amends_id=str(amendment.id), amendment_reason="Re-checked"),
                  follow_redirects=True)
    assert "passes (level 4)" in _text(resp)
    db.session.expire_all()
    assert requirement(t1, "C10").met


def test_amendment_must_match_trainee_and_competency(ctx, cohort):
    from lms.assessments.operations import AssessmentError, ObservationInput, record_observation

    t1 = cohort["t1"]
    original = observe(t1, "C10", cohort["a"], days_ago=3)
    std = original.standard_version_id
    from lms.standards.models import StandardVersion

    with pytest.raises(AssessmentError, match="same trainee and competency"):
        record_observation(t1, enrollment_of(t1), db.session.get(StandardVersion, std), ObservationInput(
            competency_id="C9", observed_on=TODAY, criteria_met=set(), critical_failure=False, level=4),
            actor=cohort["a"], amends=original, reason="wrong competency")


# --------------------------------------------------------------------------- sign-off rules


def test_c6_needs_five_passes_by_two_assessors_on_three_cases(ctx, cohort):
    t1, a, b = cohort["t1"], cohort["a"], cohort["b"]
    for i in range(5):
        observe(t1, "C6", a, days_ago=40 - i, case=f"K{i % 3 + 1}")
    c6 = requirement(t1, "C6")
    assert not c6.met
    assert "5 of 5 passing observations, 1 of 2 assessors, 3 of 3 cases" in c6.progress
    assert "2 different assessors are needed" in c6.reason

    observe(t1, "C6", b, days_ago=30, case="K1")
    c6 = requirement(t1, "C6")
    assert c6.met, c6
    assert "5 of 5 passing observations, 2 of 2 assessors, 3 of 3 cases" in c6.progress

    # A later observation that does not pass breaks the run: the earlier passes no longer count.
    observe(t1, "C6", a, days_ago=20, level=3, case="K2")
    c6 = requirement(t1, "C6")
    assert not c6.met and "0 of 5 passing observations" in c6.progress
    assert "level 3, below the required 4" in c6.reason


def test_c6_is_not_signed_off_on_too_few_cases(ctx, cohort):
    t1 = cohort["t1"]
    for i in range(6):
        observe(t1, "C6", (cohort["a"], cohort["b"])[i % 2], days_ago=40 - i, case=f"K{i % 2 + 1}")
    c6 = requirement(t1, "C6")
    assert not c6.met
    assert "2 of 3 cases" in c6.progress and "3 needed" in c6.reason


def test_critical_failure_on_c4_resets_its_count(ctx, cohort):
    t1, a = cohort["t1"], cohort["a"]
    for i in range(3):
        observe(t1, "C4", a, days_ago=50 - i)
    assert requirement(t1, "C4").met

    failure = observe(t1, "C4", a, days_ago=40, level=5, critical_failure=True)
    assert not failure.passed
    c4 = requirement(t1, "C4")
    assert not c4.met and "0 of 3 passing observations" in c4.progress

    observe(t1, "C4", a, days_ago=30)
    observe(t1, "C4", a, days_ago=29)
    c4 = requirement(t1, "C4")
    assert not c4.met and "2 of 3 passing observations" in c4.progress
    assert f"A critical failure on {format_date(failure.observed_on)} reset the count" in c4.reason

    observe(t1, "C4", a, days_ago=28)
    assert requirement(t1, "C4").met


def test_c2_for_route_n_needs_a_dental_professional_assessor(ctx, cohort, program):
    mt = cohort["t1"]  # a massage therapist: Route N
    other = create_user("instructor", profession="physical_therapist")
    for i in range(3):
        observe(mt, "C2", (cohort["a"], other)[i % 2], days_ago=30 - i)
    c2 = requirement(mt, "C2")
    assert not c2.met
    assert "3 of 3 passing observations" in c2.progress and "dental-professional assessor: not yet" in c2.progress
    assert "dental-professional assessor" in c2.reason

    dentist_obs = observe(mt, "C2", cohort["b"], days_ago=20)
    assert dentist_obs.assessor_is_dental  # derived from the assessor's profession
    c2 = requirement(mt, "C2")
    assert c2.met and "dental-professional assessor: yes" in c2.progress

    # A dental hygienist (Route D) does not need a dental assessor for C2.
    hygienist = create_trainee(email="hyg@assess.test", profession="dental_hygienist", jurisdiction="CA-BC")
    for i in range(3):
        observe(hygienist, "C2", cohort["a"], days_ago=30 - i)
    c2 = requirement(hygienist, "C2")
    assert c2.met and "dental-professional" not in c2.progress
