"""Table-driven tests for each requirement rule type and for competency sign-off."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from lms.core.formatting import format_date
from lms.eligibility.competency import (
    counted_observations,
    dental_assessor_needed,
    failure_reasons,
    observation_passes,
    sign_off,
)
from lms.eligibility.facts import (
    CLINICAL_EXTRAORAL,
    CLINICAL_INTRAORAL,
    HOUR_APPROVED,
    HOUR_NEEDS_INFO,
    HOUR_REJECTED,
    HOUR_SUBMITTED,
    LAB_IN_PERSON,
    CriterionFact,
)
from lms.eligibility.rules import RULES, Context, Rule, fmt_hours, fmt_number, join_words, register

from .standard_fixture import (
    DENTAL_ASSESSOR_ID,
    JURISDICTION_RULES,
    TODAY,
    agreement,
    competency_def,
    hour,
    make_facts,
    make_standard,
    obs,
)

EXPECTED_TYPES = {
    "documented_cases",
    "profession",
    "license_current",
    "omt_credential",
    "omt_recency",
    "cpr_current",
    "infection_control_ack",
    "modules_completed",
    "approved_hours",
    "clinical_sessions",
    "competency",
    "screening_route",
    "jurisdiction_rule",
    "written_exam",
    "osce",
    "assessor_qualification",
}


def run(req: dict[str, Any], facts=None, *, standard=None, rules=JURISDICTION_RULES, attestations=()):
    req = {"scope": "certificate", **req}
    ctx = Context.build(standard or make_standard(), facts or make_facts(), rules, frozenset(attestations))
    return RULES[req["type"]]().evaluate(req, ctx)


def check(result, met: bool, progress: str = "", reason: str = "", next_step: str = ""):
    assert result.met is met, result
    assert progress in result.progress, result.progress
    assert reason in result.reason, result.reason
    assert next_step in result.next_step, result.next_step
    if met:
        assert result.reason == "" and result.next_step == ""
    else:
        assert result.reason and result.next_step


# --------------------------------------------------------------------------- registry


def test_every_rule_type_of_the_standard_format_is_registered():
    assert set(RULES) == EXPECTED_TYPES
    assert all(issubclass(cls, Rule) and cls.type == name for name, cls in RULES.items())


def test_register_refuses_a_second_class_for_the_same_type():
    class Dup(Rule):
        type = "profession"

    with pytest.raises(ValueError, match="already registered"):
        register(Dup)
    assert RULES["profession"] is not Dup


def test_register_refuses_a_class_without_type():
    class NoType(Rule):
        pass

    with pytest.raises(ValueError):
        register(NoType)


def test_result_carries_id_title_scope():
    r = run({"id": "P4", "type": "cpr_current", "scope": "extraoral", "title": "CPR"})
    assert (r.id, r.title, r.scope) == ("P4", "CPR", "extraoral")


# --------------------------------------------------------------------------- profile and credentials

PROFESSION = {"id": "P1", "type": "profession", "params": {"professions": ["dentist", "massage_therapist"]}}
LICENSE = {"id": "L", "type": "license_current", "params": {}}
OMT = {"id": "P2", "type": "omt_credential", "params": {"min_hours": 28}}
CPR = {"id": "P4", "type": "cpr_current", "params": {}}
ACK = {"id": "P5", "type": "infection_control_ack", "params": {}}
DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("req", "overrides", "met", "progress", "reason"),
    [
        (PROFESSION, {"profession": "massage_therapist"}, True, "Profession: massage therapist", ""),
        (PROFESSION, {"profession": "nurse"}, False, "Profession: nurse", "Nurse is not one of the professions"),
        (PROFESSION, {"profession": None}, False, "not recorded", "No regulated health profession"),
        (LICENSE, {}, True, "current until", ""),
        (LICENSE, {"license_expires_on": TODAY}, True, f"current until {format_date(TODAY)}", ""),
        (LICENSE, {"license_expires_on": TODAY - DAY}, False, "expired on", "expired on"),
        (LICENSE, {"license_number": None}, False, "not on file", "No license"),
        (LICENSE, {"license_number": ""}, False, "not on file", "No license"),
        (LICENSE, {"license_expires_on": None}, False, "expiry date not recorded", "cannot be shown to be current"),
        (OMT, {}, True, "verified, 28 hours", ""),
        (OMT, {"omt_hours": 40.0}, True, "verified, 40 hours", ""),
        (OMT, {"omt_hours": 27.5}, False, "27.5 of 28 hours", "has 27.5 hours; at least 28"),
        (OMT, {"omt_status": "pending"}, False, "waiting for verification", "not been verified"),
        (OMT, {"omt_status": "rejected"}, False, "not accepted", "was not accepted"),
        (OMT, {"omt_status": None, "omt_hours": 0.0}, False, "not on file", "No OMT foundation course"),
        (CPR, {}, True, "CPR/BLS: current until", ""),
        (CPR, {"cpr_expires_on": TODAY}, True, "current until", ""),
        (CPR, {"cpr_expires_on": TODAY - DAY}, False, "expired on", "expired on"),
        (CPR, {"cpr_expires_on": None}, False, "not on file", "No CPR/BLS card"),
        (ACK, {}, True, "acknowledged", ""),
        (ACK, {"infection_control_ack": False}, False, "not acknowledged", "not yet acknowledged"),
    ],
    ids=lambda v: v["id"] if isinstance(v, dict) and "id" in v else None,
)
def test_profile_rules(req, overrides, met, progress, reason):
    check(run(req, make_facts(**overrides)), met, progress, reason)


def test_omt_hours_param_is_respected():
    check(run({**OMT, "params": {"min_hours": 16}}, make_facts(omt_hours=16.0)), True)


# --------------------------------------------------------------------------- modules

MODULES = {"id": "MODULES", "type": "modules_completed", "params": {"modules": [f"M{i}" for i in range(1, 11)]}}


@pytest.mark.parametrize(
    ("done", "met", "progress", "reason", "step"),
    [
        ({f"M{i}" for i in range(1, 11)}, True, "10 of 10 completed", "", ""),
        ({f"M{i}" for i in range(1, 11)} | {"M99"}, True, "10 of 10", "", ""),
        ({f"M{i}" for i in range(1, 9)}, False, "8 of 10 completed", "M9, M10", "Complete modules M9 and M10"),
        ({f"M{i}" for i in range(2, 11)}, False, "9 of 10", "M1", "Complete module M1"),
        (set(), False, "0 of 10", "M1, M2", "M1, M2"),
    ],
)
def test_modules_completed(done, met, progress, reason, step):
    check(run(MODULES, make_facts(completed_modules=frozenset(done))), met, progress, reason, step)


def test_modules_completed_with_no_modules_listed_is_met():
    check(run({**MODULES, "params": {"modules": []}}, make_facts(completed_modules=frozenset())), True, "0 of 0")


# --------------------------------------------------------------------------- approved hours

H_INTRA = {"id": "H-INTRA", "type": "approved_hours", "params": {"category": CLINICAL_INTRAORAL, "min_hours": 10}}
H_CLIN = {
    "id": "H-CLIN",
    "type": "approved_hours",
    "params": {"categories": [CLINICAL_EXTRAORAL, CLINICAL_INTRAORAL], "min_hours": 20},
}


@pytest.mark.parametrize(
    ("hours", "met", "progress", "step"),
    [
        ([], False, "Clinical intraoral hours: 0 of 10", "Log and get approval for 10 more clinical intraoral hours"),
        ([hour(1, minutes=150)], False, "Clinical intraoral hours: 2.5 of 10", "7.5 more clinical intraoral hours"),
        ([hour(1, minutes=600)], True, "Clinical intraoral hours: 10 of 10", ""),
        ([hour(1, minutes=599)], False, "9.98 of 10", "0.02 more clinical intraoral hours"),
        ([hour(1, minutes=540)], False, "9 of 10", "1 more clinical intraoral hour"),
        ([hour(i, minutes=20) for i in range(30)], True, "10 of 10", ""),  # 30 x 20 min, no float drift
        ([hour(1, minutes=900)], True, "15 of 10", ""),
        ([hour(1, CLINICAL_EXTRAORAL, 600)], False, "0 of 10", ""),  # other categories never count
        ([hour(1, LAB_IN_PERSON, 600)], False, "0 of 10", ""),
    ],
)
def test_approved_hours(hours, met, progress, step):
    check(run(H_INTRA, make_facts(hours=tuple(hours))), met, progress, "", step)


@pytest.mark.parametrize("status", [HOUR_SUBMITTED, HOUR_NEEDS_INFO, HOUR_REJECTED, "unknown"])
def test_hours_that_are_not_approved_never_count(status):
    facts = make_facts(hours=(hour(1, minutes=150), hour(2, minutes=6000, status=status)))
    check(run(H_INTRA, facts), False, "2.5 of 10", "2.5 approved clinical intraoral hours")


@pytest.mark.parametrize("status", [HOUR_APPROVED, HOUR_SUBMITTED, HOUR_NEEDS_INFO, HOUR_REJECTED])
def test_superseded_hours_never_count(status):
    facts = make_facts(hours=(hour(1, minutes=6000, status=status, superseded=True), hour(2, minutes=60)))
    check(run(H_INTRA, facts), False, "1 of 10")


def test_approved_hours_over_several_categories_are_summed():
    facts = make_facts(hours=(hour(1, CLINICAL_EXTRAORAL, 600), hour(2, CLINICAL_INTRAORAL, 600)))
    check(run(H_CLIN, facts), True, "Clinical extraoral and clinical intraoral hours: 20 of 20")


def test_approved_hours_accepts_category_and_categories_together_without_double_counting():
    req = {**H_CLIN, "params": {"category": CLINICAL_INTRAORAL, "categories": [CLINICAL_INTRAORAL], "min_hours": 1}}
    check(run(req, make_facts(hours=(hour(1, minutes=60),))), True, "Clinical intraoral hours: 1 of 1")


def test_approved_hours_without_a_category_fails_closed():
    check(run({**H_INTRA, "params": {"min_hours": 1}}, make_facts()), False, "", "names no hour category")


# --------------------------------------------------------------------------- clinical sessions

SESSIONS = {
    "id": "H-SESSIONS",
    "type": "clinical_sessions",
    "params": {"categories": [CLINICAL_EXTRAORAL, CLINICAL_INTRAORAL], "min_sessions": 4, "min_cases": 3},
}


def _sessions(n: int, cases: list[str | None], **kw):
    return [hour(i + 1, CLINICAL_INTRAORAL, 60, case_code=cases[i % len(cases)], **kw) for i in range(n)]


@pytest.mark.parametrize(
    ("hours", "met", "progress", "reason", "step"),
    [
        (_sessions(4, ["A", "B", "C"]), True, "4 of 4, distinct cases: 3 of 3", "", ""),
        (_sessions(3, ["A", "B", "C"]), False, "3 of 4", "3 approved sessions so far", "1 more clinical session"),
        (_sessions(6, ["A", "B"]), False, "cases: 2 of 3", "cover 2 distinct cases", "covering 1 more distinct case"),
        (_sessions(6, [None]), False, "cases: 0 of 3", "cover 0 distinct cases", "3 more clinical sessions"),
        (_sessions(6, ["A", "B", "C"], status=HOUR_SUBMITTED), False, "0 of 4", "0 approved sessions", ""),
        (_sessions(6, ["A", "B", "C"], superseded=True), False, "0 of 4", "", ""),
        ([hour(i, LAB_IN_PERSON, case_code=f"L{i}") for i in range(6)], False, "0 of 4", "", ""),
    ],
)
def test_clinical_sessions(hours, met, progress, reason, step):
    check(run(SESSIONS, make_facts(hours=tuple(hours))), met, progress, reason, step)


def test_clinical_sessions_without_case_rule_omits_cases():
    req = {**SESSIONS, "params": {"categories": [CLINICAL_INTRAORAL], "min_sessions": 2, "min_cases": 0}}
    result = run(req, make_facts(hours=tuple(_sessions(2, [None]))))
    check(result, True, "Approved clinical sessions: 2 of 2")
    assert "cases" not in result.progress


# --------------------------------------------------------------------------- competency: single observations

C6 = competency_def(make_standard(), "C6")


@pytest.mark.parametrize(
    ("observation", "passes", "why"),
    [
        (obs(1, level=4), True, ""),
        (obs(1, level=5), True, ""),
        (obs(1, level=3), False, "level 3, below the required 4"),
        (obs(1, level=5, critical_failure=True), False, "critical failure"),
        (obs(1, criteria={"c6-gloves": False, "c6-pressure": True}), False, "c6-gloves not met"),
        (obs(1, criteria={"c6-pressure": True}), False, "c6-gloves not recorded"),  # a missing tick fails
        (obs(1, criteria={"c6-gloves": True, "c6-pressure": False}), True, ""),  # non-critical miss is fine
        (obs(1, criteria={"c6-gloves": True}), True, ""),
    ],
)
def test_observation_passes(observation, passes, why):
    assert observation_passes(C6, observation) is passes
    reasons = "; ".join(failure_reasons(C6, observation))
    assert (reasons == "") is passes and why in reasons


def test_criticality_comes_from_the_standard_not_the_observation():
    relaxed = {**C6, "criteria": [{"id": "c6-gloves", "critical": False}]}
    observation = obs(1, criteria={"c6-gloves": False})
    assert not observation_passes(C6, observation)
    assert observation_passes(relaxed, observation)


def test_duplicate_criterion_records_any_not_met_wins():
    observation = replace(obs(1), criteria=(CriterionFact("c6-gloves", True), CriterionFact("c6-gloves", False)))
    assert not observation_passes(C6, observation)


# --------------------------------------------------------------------------- competency: sign-off


def _run5(**kw) -> list:
    """Five passing C6 observations on three cases by assessors 1 and 2."""
    return [obs(i, assessor_id=1 + i % 2, case_code=f"K{i % 3}", **kw) for i in range(1, 6)]


def c6(observations, *, dental=False, definition=C6):
    return sign_off(definition, observations, trainee_is_dental=dental)


def test_sign_off_with_n_passes_assessors_and_cases():
    status = c6(_run5())
    assert status.signed_off
    assert (status.passing, status.assessors, status.cases) == (5, 2, 3)
    assert status.progress == "5 of 5 passing observations, 2 of 2 assessors, 3 of 3 cases"


def test_fewer_than_n_passes_is_not_signed_off():
    status = c6(_run5()[:3])
    assert not status.signed_off
    assert status.progress.startswith("3 of 5 passing observations, ")


def test_passing_count_is_capped_at_n():
    status = c6(_run5() + [obs(10, assessor_id=1, case_code="K0")])
    assert status.signed_off and status.passing == 5


def test_a_later_failure_breaks_the_run():
    status = c6(_run5() + [obs(10, level=3)])
    assert not status.signed_off
    assert status.passing == 0
    assert status.breaking_observation is not None and status.breaking_observation.id == 10
    assert "level 3" in status.breaking_reasons[0]


def test_an_earlier_failure_does_not_matter_once_n_passes_follow():
    assert c6([obs(0, level=2)] + _run5()).signed_off


def test_distinct_assessors_are_required():
    status = c6([obs(i, assessor_id=1, case_code=f"K{i}") for i in range(1, 6)])
    assert not status.signed_off
    assert status.progress == "5 of 5 passing observations, 1 of 2 assessors, 3 of 3 cases"
    assert status.assessors_short == 1


def test_distinct_cases_are_required_and_missing_case_codes_do_not_count():
    status = c6([obs(i, assessor_id=1 + i % 2, case_code="K1" if i < 3 else None) for i in range(1, 6)])
    assert not status.signed_off
    assert (status.cases, status.cases_short) == (1, 2)


def test_min_cases_zero_means_no_case_rule():
    definition = {**C6, "min_cases": 0}
    status = c6([obs(i, assessor_id=1 + i % 2) for i in range(1, 6)], definition=definition)
    assert status.signed_off and "case" not in status.progress


def test_assessors_and_cases_are_counted_over_the_whole_trailing_run():
    # Assessor 2 and cases K1/K2 appear only before the last five; a sixth pass must not undo sign-off.
    early = [obs(1, assessor_id=2, case_code="K1"), obs(2, assessor_id=2, case_code="K2")]
    late = [obs(i, assessor_id=1, case_code="K3") for i in range(3, 9)]
    status = c6(early + late)
    assert status.signed_off and status.assessors == 2 and status.cases == 3


def test_superseded_observations_never_count():
    replaced_fail = obs(10, level=1, superseded=True)
    replaced_passes = [obs(20 + i, assessor_id=3, case_code=f"X{i}", superseded=True) for i in range(5)]
    assert c6(_run5() + [replaced_fail]).signed_off
    assert not c6(_run5()[:4] + replaced_passes).signed_off


def test_other_competencies_are_ignored():
    assert not c6([replace(o, competency_id="C5") for o in _run5()]).signed_off


def test_simulated_observations_count_only_when_allowed():
    simulated = _run5(simulated=True)
    assert not c6(simulated).signed_off
    assert c6(simulated, definition={**C6, "simulation_allowed": True}).signed_off


def test_same_day_observations_are_ordered_by_recorded_seq():
    day = TODAY - timedelta(days=5)
    passes = [obs(i, assessor_id=1 + i % 2, case_code=f"K{i}", observed_on=day, recorded_seq=i) for i in range(1, 6)]
    fail_first = obs(99, level=2, observed_on=day, recorded_seq=0)
    fail_last = obs(98, level=2, observed_on=day, recorded_seq=10)
    assert c6(passes + [fail_first]).signed_off
    assert not c6(passes + [fail_last]).signed_off


def test_full_ties_are_broken_by_id_so_input_order_does_not_matter():
    day = TODAY - timedelta(days=5)
    passes = [obs(i, assessor_id=1 + i % 2, case_code=f"K{i}", observed_on=day, recorded_seq=1) for i in range(1, 6)]
    failing = obs(3, level=1, observed_on=day, recorded_seq=1)  # id 3 sorts mid-run, whatever the input order
    observations = [*passes[:2], *passes[3:], failing]
    assert c6(observations) == c6(list(reversed(observations)))
    assert c6(observations).passing == 2


@pytest.mark.parametrize("resets", [True, False])
def test_critical_failure_breaks_the_count(resets):
    definition = {**C6, "critical_failure_resets": resets}
    before = _run5()
    critical = obs(10, critical_failure=True, criteria={"c6-gloves": False, "c6-pressure": True})
    after = [obs(11 + i, assessor_id=1 + i % 2, case_code=f"A{i}") for i in range(4)]
    status = c6(before + [critical] + after, definition=definition)
    assert not status.signed_off and status.passing == 4
    assert c6(before + [critical] + after + [obs(20, case_code="A9")], definition=definition).signed_off


def test_critical_failure_reset_discards_earlier_observations_and_says_when():
    definition = {**C6, "critical_failure_resets": True}
    critical = obs(10, critical_failure=True)
    later = [obs(11, assessor_id=2, case_code="Z")]
    assert [o.id for o in counted_observations(definition, _run5() + [critical] + later)] == [11]
    status = c6(_run5() + [critical] + later, definition=definition)
    assert status.reset_by is not None and status.reset_by.id == 10
    assert status.breaking_observation is None
    kept = counted_observations({**definition, "critical_failure_resets": False}, _run5() + [critical] + later)
    assert len(kept) == 7


def test_a_superseded_critical_failure_does_not_reset():
    definition = {**C6, "critical_failure_resets": True}
    assert c6(_run5()[:3] + [obs(10, critical_failure=True, superseded=True)] + _run5()[3:], definition=definition)


# --------------------------------------------------------------------------- dental-assessor rule


@pytest.mark.parametrize(
    ("rule", "trainee_dental", "needed"),
    [
        ("always", True, True),
        ("always", False, True),
        ("route_n", True, False),
        ("route_n", False, True),
        ("never", True, False),
        ("never", False, False),
        (None, False, False),
        ("typo", True, True),  # unknown settings are treated as the strictest
    ],
)
def test_dental_assessor_needed(rule, trainee_dental, needed):
    assert dental_assessor_needed({"id": "C2", "dental_assessor": rule}, trainee_dental) is needed


C2 = competency_def(make_standard(), "C2")


@pytest.mark.parametrize(
    ("rule", "trainee_dental", "with_dental_assessor", "signed_off"),
    [
        ("route_n", False, False, False),
        ("route_n", False, True, True),
        ("route_n", True, False, True),
        ("always", True, False, False),
        ("always", True, True, True),
        ("never", False, False, True),
    ],
)
def test_dental_assessor_rule_in_sign_off(rule, trainee_dental, with_dental_assessor, signed_off):
    definition = {**C2, "dental_assessor": rule}
    observations = [obs(i, "C2", assessor_id=1) for i in range(1, 4)]
    if with_dental_assessor:
        observations[0] = obs(1, "C2", assessor_id=DENTAL_ASSESSOR_ID)
    status = sign_off(definition, observations, trainee_is_dental=trainee_dental)
    assert status.signed_off is signed_off
    shows_dental = "dental-professional assessor" in status.progress
    assert shows_dental is (rule == "always" or (rule == "route_n" and not trainee_dental))


# --------------------------------------------------------------------------- competency rule wording

C6_REQ = {"id": "C6", "type": "competency", "scope": "intraoral", "params": {"competency": "C6"}}


def test_competency_rule_progress_reason_and_next_step():
    observations = tuple(obs(i, assessor_id=1, case_code=f"K{i}") for i in range(1, 4))
    result = run(C6_REQ, make_facts(observations=observations))
    assert result.title == "C6 Intraoral massage technique"
    assert (
        result.progress == "C6 Intraoral massage technique: 3 of 5 passing observations, 1 of 2 assessors, 3 of 3 cases"
    )
    assert "5 passing observations in a row" in result.reason and "3 so far" in result.reason
    assert "by 1 assessor; 2 different assessors" in result.reason
    assert result.next_step == (
        "Arrange 2 more passing observations of C6 Intraoral massage technique at level 4+, by at least 1 more assessor"
    )


def test_competency_rule_names_the_observation_that_broke_the_run():
    observations = (*_run5(), obs(50, criteria={"c6-gloves": False, "c6-pressure": True}))
    result = run(C6_REQ, make_facts(observations=observations))
    check(result, False, "0 of 5", "did not pass (critical criterion c6-gloves not met)", "Arrange 5 more")


def test_competency_rule_reports_a_reset():
    observations = (*_run5(), obs(50, critical_failure=True), obs(51, assessor_id=2, case_code="Q"))
    result = run(C6_REQ, make_facts(observations=observations))
    check(result, False, "1 of 5", "critical failure on", "Arrange 4 more")


def test_competency_rule_asks_for_a_dental_assessor_on_route_n():
    req = {"id": "C2", "type": "competency", "params": {"competency": "C2"}}
    facts = make_facts(observations=tuple(obs(i, "C2") for i in range(1, 4)))
    check(run(req, facts), False, "dental-professional assessor: not yet", "dental-professional", "dental-professional")
    check(run(req, replace(facts, profession="dental_hygienist")), True)


def test_competency_rule_with_unknown_competency_fails_closed():
    check(run({"id": "C99", "type": "competency", "params": {"competency": "C99"}}), False, "", "not defined")


def test_competency_rule_uses_the_requirement_title_when_given():
    assert run({**C6_REQ, "title": "Intraoral technique"}).title == "Intraoral technique"


# --------------------------------------------------------------------------- screening route (P3)

P3 = {"id": "P3", "type": "screening_route", "scope": "intraoral", "params": {}}
N5_FROM, N5_UNTIL = format_date(TODAY - timedelta(days=100)), format_date(TODAY + timedelta(days=265))
REVOKED_N5 = f"with Dr. N5 ({N5_FROM} to {N5_UNTIL}) was revoked"
PAST, FUTURE = TODAY - timedelta(days=400), TODAY + timedelta(days=30)


@pytest.mark.parametrize(
    ("profession", "agreements", "met", "progress", "reason"),
    [
        ("dental_hygienist", (), True, "Route D: met through your verified dental hygienist license",
         ""),
        ("dentist", (agreement(1, "revoked"),), True, "Route D", ""),
        ("dental_therapist", (), True, "Route D", ""),
        ("massage_therapist", (agreement(3),), True,
         "Route N: verified collaboration agreement with Dr. N3 (dentist)", ""),
        ("massage_therapist", (agreement(3, valid_until=TODAY),), True, "Route N", ""),  # last valid day
        ("massage_therapist", (agreement(3, valid_from=TODAY),), True, "Route N", ""),
        ("nurse", (agreement(3, dentist_profession="dental_hygienist"),), True, "with Dr. N3 (dental hygienist)", ""),
        ("massage_therapist", (), False, "no collaboration agreement on file", "no collaboration agreement"),
        (None, (), False, "no collaboration agreement", "Your profession (not recorded)"),
        ("massage_therapist", (agreement(4, valid_until=TODAY - DAY),), False, "no current",
         "the agreement with Dr. N4 ("),
        ("massage_therapist", (agreement(5, "revoked"),), False, "no current", REVOKED_N5),
        ("massage_therapist", (agreement(6, "rejected"),), False, "no current", "was rejected at review"),
        ("massage_therapist", (agreement(7, "pending"),), False, "no current", "is waiting for verification"),
        ("massage_therapist", (agreement(8, valid_from=FUTURE),), False, "no current", "only takes effect on"),
        ("massage_therapist", (agreement(9, dentist_profession="physician"),), False, "", "with a physician, not a"),
        (
            "occupational_therapist",
            (agreement(9, dentist_profession="occupational_therapist"),),
            False,
            "",
            "with an occupational therapist",
        ),
        ("massage_therapist", (agreement(2, "revoked"), agreement(3)), True, "with Dr. N3", ""),
    ],
)
def test_screening_route(profession, agreements, met, progress, reason):
    check(run(P3, make_facts(profession=profession, agreements=agreements)), met, progress, reason)


def test_screening_route_next_steps():
    none = run(P3, make_facts())
    assert none.next_step.startswith(
        "Upload a collaboration agreement with a licensed dental professional (Route N), or"
    )
    assert "Route D" in none.next_step
    pending = run(P3, make_facts(agreements=(agreement(7, "pending"),)))
    assert "wait for an admin to verify the agreement with Dr. N7 (" in pending.next_step


def test_screening_route_lists_every_agreement_in_date_order_whatever_the_input_order():
    expired = agreement(4, valid_from=PAST, valid_until=TODAY - DAY)
    revoked = agreement(2, "revoked")
    a = run(P3, make_facts(agreements=(expired, revoked)))
    b = run(P3, make_facts(agreements=(revoked, expired)))
    assert a == b
    assert "the agreement with Dr. N4 (" in a.reason and "the agreement with Dr. N2 (" in a.reason
    # Records are named by what a person sees (whom, and when), never by a database id.
    assert "#" not in a.reason
    assert a.reason.index("Dr. N4") < a.reason.index("Dr. N2")  # the older agreement first


# --------------------------------------------------------------------------- jurisdiction rules

J_WA = {
    "id": "J-WA-MT",
    "type": "jurisdiction_rule",
    "scope": "intraoral",
    "params": {"rule": "wa-mt-intraoral-endorsement"},
}
ENFORCED = make_standard(jurisdiction_rules_enforced=["wa-mt-intraoral-endorsement"])
WA_MT = {"profession": "massage_therapist", "jurisdiction": "US-WA"}


@pytest.mark.parametrize(
    ("standard", "overrides", "attestations", "met", "progress", "reason"),
    [
        (None, WA_MT, (), True, "Notice only: WAC 246-830-490", ""),
        (None, {"jurisdiction": "US-OR"}, (), True, "not applicable", ""),
        (ENFORCED, WA_MT, (), False, "WAC 246-830-490: not recorded on your license", "applies to you as a massage"),
        (ENFORCED, WA_MT, ("wa-mt-intraoral-endorsement",), True, "recorded as meeting it", ""),
        (ENFORCED, {"jurisdiction": "US-OR"}, (), True, "not applicable", ""),
        (ENFORCED, {"jurisdiction": "US-WA", "profession": "dental_hygienist"}, (), True, "not applicable", ""),
        (ENFORCED, {"jurisdiction": None}, (), True, "not applicable", ""),
    ],
)
def test_jurisdiction_rule(standard, overrides, attestations, met, progress, reason):
    check(run(J_WA, make_facts(**overrides), standard=standard, attestations=attestations), met, progress, reason)


def test_jurisdiction_rule_missing_from_the_data():
    check(run(J_WA, make_facts(), rules=()), True, "not applicable")
    check(run(J_WA, make_facts(), standard=ENFORCED, rules=()), False, "not found", "not in the jurisdiction data")


def test_retired_jurisdiction_rule_never_applies():
    retired = [{**JURISDICTION_RULES[0], "status": "retired"}]
    check(run(J_WA, make_facts(), standard=ENFORCED, rules=retired), True, "not applicable")


def test_jurisdiction_rule_profession_may_be_a_list():
    listed = [{**JURISDICTION_RULES[0], "profession": ["nurse", "massage_therapist"]}]
    check(run(J_WA, make_facts(), standard=ENFORCED, rules=listed), False)


# --------------------------------------------------------------------------- wording helpers


@pytest.mark.parametrize(
    ("value", "text"), [(20, "20"), (7.5, "7.5"), (7.25, "7.25"), (1 / 3, "0.33"), (0, "0"), (28.0, "28")]
)
def test_fmt_number(value, text):
    assert fmt_number(value) == text


def test_fmt_hours_and_join_words():
    assert fmt_hours(750) == "12.5"
    assert join_words([]) == "" and join_words(["a"]) == "a"
    assert join_words(["a", "b", "c"]) == "a, b and c"
