"""Recording and amending competency observations (flush only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from lms.assessments.models import Assessment
from lms.core import audit
from lms.core.timeutil import today
from lms.eligibility.competency import observation_passes
from lms.eligibility.facts import DENTAL_PROFESSIONS, CriterionFact, ObservationFact
from lms.extensions import db
from lms.hours.models import HourEntry
from lms.notifications import notify


class AssessmentError(ValueError):
    pass


@dataclass
class ObservationInput:
    competency_id: str
    observed_on: date
    criteria_met: set[str]
    critical_failure: bool
    level: int
    comments: str = ""
    case_code: str | None = None
    simulated: bool = False
    assessor_reading: float | str | None = None  # the assessor's own reading, for a paired-measurement rule (C7)


def competency_def(standard: dict, competency_id: str) -> dict | None:
    return next((c for c in standard.get("competencies", []) if c["id"] == competency_id), None)


def trainee_ids_for_instructor(instructor_id: int) -> set[int]:
    """Trainees who named this instructor (on their profile, or as supervisor of an hours entry), or whom they have
    assessed."""
    from lms.providers.models import InstructorLink

    linked = sa.select(InstructorLink.trainee_id).where(InstructorLink.instructor_id == instructor_id,
                                                        InstructorLink.ended_at.is_(None))
    named = sa.select(HourEntry.trainee_id).where(HourEntry.supervisor_id == instructor_id)
    assessed = sa.select(Assessment.trainee_id).where(Assessment.assessor_id == instructor_id)
    return set(db.session.execute(sa.union(linked, named, assessed)).scalars())


def acts_for(actor, trainee_id: int) -> bool:
    """Whether ``actor`` may act on ``trainee_id``'s records (credentials, agreements, CE credits, assessments,
    evidence): admins for everyone, instructors only for trainees who named them; nobody for themselves."""
    if actor.id == trainee_id:
        return False
    if actor.has_role("admin"):
        return True
    return actor.has_role("instructor") and trainee_id in trainee_ids_for_instructor(actor.id)


def can_assess(actor, trainee_id: int) -> bool:
    return acts_for(actor, trainee_id)


def record_observation(trainee, enrollment, standard_version, data: ObservationInput, *, actor,
                       amends: Assessment | None = None, reason: str = "") -> Assessment:
    """Sign an observation. Whether it passes is derived from the standard's competency definition."""
    if actor.id == trainee.id:
        raise AssessmentError("Nobody assesses themselves.")
    if not actor.has_role("instructor", "admin"):
        raise AssessmentError("Only instructors and administrators record assessments.")
    comp = competency_def(standard_version.data, data.competency_id)
    if comp is None:
        raise AssessmentError("Choose a competency of the trainee's standard.")
    if not 1 <= data.level <= 5:
        raise AssessmentError("The entrustment level must be between 1 and 5.")
    if data.observed_on > today():
        raise AssessmentError("The observation date cannot be in the future.")
    if data.observed_on < enrollment.enrolled_on:
        raise AssessmentError("The observation date is before the trainee enrolled.")
    if data.simulated and not comp.get("simulation_allowed"):
        raise AssessmentError(f"{comp['id']} must be observed with a real patient; simulation is not allowed.")
    known = {c["id"] for c in comp.get("criteria", [])}
    unknown = data.criteria_met - known
    if unknown:
        raise AssessmentError("Unknown rubric criteria: " + ", ".join(sorted(unknown)))
    if amends is not None:
        if amends.trainee_id != trainee.id or amends.competency_id != data.competency_id:
            raise AssessmentError("An amendment must be for the same trainee and competency.")
        if db.session.execute(sa.select(Assessment.id).filter_by(amends_id=amends.id)).first():
            raise AssessmentError("This assessment has already been amended; amend the latest version instead.")
        if not reason.strip():
            raise AssessmentError("Say why the assessment is being amended.")
    criteria = {c["id"]: c["id"] in data.criteria_met for c in comp.get("criteria", [])}
    is_dental = (actor.profession or "") in DENTAL_PROFESSIONS
    fact = ObservationFact(id=0, competency_id=comp["id"], level=data.level, critical_failure=data.critical_failure,
                           criteria=tuple(CriterionFact(k, v) for k, v in criteria.items()), assessor_id=actor.id,
                           assessor_is_dental=is_dental, observed_on=data.observed_on, simulated=data.simulated)
    passed = observation_passes(comp, fact)
    paired = None
    if comp.get("paired_measurement") and (passed or data.assessor_reading not in (None, "")):
        from lms.cases.pairing import pairing_problem

        problem, paired = pairing_problem(comp["paired_measurement"], comp["id"], trainee.id, data.case_code,
                                          data.observed_on, data.assessor_reading)
        if problem and passed:
            raise AssessmentError(problem)
    assessment = Assessment(
        trainee_id=trainee.id, enrollment_id=enrollment.id, standard_version_id=standard_version.id,
        assessor_id=actor.id, assessor_is_dental=is_dental, competency_id=comp["id"], observed_on=data.observed_on,
        criteria=criteria, critical_failure=data.critical_failure, level=data.level, passed=passed,
        case_code=(data.case_code or "").strip() or None, simulated=data.simulated, paired_measure=paired,
        comments=(data.comments or "").strip(), amends_id=amends.id if amends else None,
        amendment_reason=reason.strip() or None)
    db.session.add(assessment)
    db.session.flush()
    audit.record("assessment.amend" if amends else "assessment.record", "assessment", assessment.id, actor=actor,
                 trainee=trainee.id, competency=comp["id"], level=data.level, passed=passed,
                 amends=amends.id if amends else None, reason=reason.strip() or None)
    notify(trainee, "assessment.recorded", assessment)
    return assessment


def amendment_diff(old: Assessment, new: Assessment) -> list[str]:
    """Plain-language list of what an amendment changed."""
    changes = []
    for attr, label in (("observed_on", "date"), ("level", "level"), ("critical_failure", "critical failure"),
                        ("case_code", "case number"), ("comments", "comments"), ("simulated", "simulation")):
        a, b = getattr(old, attr), getattr(new, attr)
        if a != b:
            changes.append(f"{label}: {a} → {b}")
    for k in sorted(set(old.criteria) | set(new.criteria)):
        if old.criteria.get(k) != new.criteria.get(k):
            changes.append(f"criterion {k}: {'met' if old.criteria.get(k) else 'not met'} → "
                           f"{'met' if new.criteria.get(k) else 'not met'}")
    return changes
