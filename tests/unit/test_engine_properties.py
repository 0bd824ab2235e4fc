"""Engine tests: demo personas, decision semantics, and properties that must hold for any records."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lms.core.formatting import format_date
from lms.eligibility import Decision, RequirementResult, evaluate, hours_by_category
from lms.eligibility.engine import Plan
from lms.eligibility.facts import (
    CLINICAL_EXTRAORAL,
    CLINICAL_INTRAORAL,
    HOUR_APPROVED,
    HOUR_NEEDS_INFO,
    HOUR_REJECTED,
    HOUR_SUBMITTED,
    LAB_IN_PERSON,
    AgreementFact,
    CriterionFact,
    HourFact,
    ObservationFact,
    TraineeFacts,
)

from .standard_fixture import (
    DENTAL_ASSESSOR_ID,
    JURISDICTION_RULES,
    TODAY,
    agreement,
    competency_def,
    dental_hygienist_persona,
    hour,
    make_facts,
    make_standard,
    massage_therapist_persona,
    part_way_persona,
    with_records,
)

WA_RULE = "wa-mt-intraoral-endorsement"
WA_NOTICE = (
    "Washington, massage therapist: Intraoral massage needs an intraoral massage endorsement on the licence "
    "(WAC 246-830-490, last verified 26 Nov 2026; not legal advice)"
)


def decide(facts: TraineeFacts, standard: dict[str, Any] | None = None, **kw: Any) -> Decision:
    return evaluate(standard or make_standard(), facts, JURISDICTION_RULES, **kw)


def req(decision: Decision, requirement_id: str) -> RequirementResult:
    return next(r for r in decision.requirements if r.id == requirement_id)


# --------------------------------------------------------------------------- demo personas


def test_dental_hygienist_qualifies_for_both_endorsements():
    d = decide(dental_hygienist_persona())
    assert d.eligible
    assert d.endorsements == ["extraoral", "intraoral"]
    assert all(r.met for r in d.requirements)
    assert d.next_steps == []
    assert d.summary == "Eligible for certification with the extraoral and intraoral endorsements."
    assert req(d, "P3").progress == "Route D: met through your verified dental hygienist license"
    assert req(d, "J-WA-MT").progress == "not applicable"
    # A Washington massage-therapist rule does not concern a British Columbia hygienist: pages leave it out.
    assert not req(d, "J-WA-MT").applies and req(d, "P3").applies
    assert "J-WA-MT" not in {r.id for r in d.applicable}
    assert "J-WA-MT" not in {r.id for _, reqs in d.groups() for r in reqs}
    assert len(d.notices) == 1 and d.notices[0].startswith("British Columbia, dental hygienist: ")


def test_massage_therapist_without_agreement_gets_extraoral_only():
    d = decide(massage_therapist_persona())
    assert d.eligible
    assert d.endorsements == ["extraoral"]
    p3 = req(d, "P3")
    assert not p3.met
    assert "collaboration agreement" in p3.reason
    assert p3.next_step.startswith("Upload a collaboration agreement with a licensed dental professional (Route N)")
    assert [r.id for r in d.requirements if not r.met] == ["P3"]
    assert d.next_steps == [f"Intraoral endorsement: {p3.next_step}"]
    assert d.summary == (
        "Eligible for certification with the extraoral endorsement. "
        "The intraoral endorsement is not yet met: 1 requirement still open."
    )
    assert d.notices == [WA_NOTICE]
    assert req(d, "J-WA-MT").met and req(d, "J-WA-MT").progress.startswith("Notice only")


def test_massage_therapist_with_a_verified_agreement_gets_both():
    facts = replace(massage_therapist_persona(), agreements=(agreement(3),))
    d = decide(facts)
    assert d.endorsements == ["extraoral", "intraoral"]
    assert req(d, "P3").progress.startswith("Route N: verified collaboration agreement with Dr. N3")


def test_massage_therapist_with_expired_or_revoked_agreements_is_told_which():
    expired = agreement(3, valid_from=TODAY - timedelta(days=500), valid_until=TODAY - timedelta(days=1))
    facts = replace(massage_therapist_persona(), agreements=(expired, agreement(5, "revoked")))
    d = decide(facts)
    assert d.endorsements == ["extraoral"]
    reason = req(d, "P3").reason
    assert f"the agreement with Dr. N3 ({format_date(expired.valid_from)} to {format_date(expired.valid_until)}) " \
           f"expired on {format_date(TODAY - timedelta(days=1))}" in reason
    assert "the agreement with Dr. N5 (" in reason and ") was revoked" in reason


def test_enforced_washington_rule_needs_an_attestation():
    standard = make_standard(jurisdiction_rules_enforced=[WA_RULE])
    facts = replace(massage_therapist_persona(), agreements=(agreement(3),))
    without = decide(facts, standard)
    assert without.endorsements == ["extraoral"]
    assert not req(without, "J-WA-MT").met
    assert "WAC 246-830-490" in req(without, "J-WA-MT").reason
    with_attestation = decide(facts, standard, attestations=[WA_RULE])
    assert with_attestation.endorsements == ["extraoral", "intraoral"]
    # The same enforced rule does not touch a trainee it does not apply to.
    assert decide(dental_hygienist_persona(), standard).endorsements == ["extraoral", "intraoral"]


def test_part_way_trainee_sees_progress_and_next_steps():
    d = decide(part_way_persona())
    assert not d.eligible and d.endorsements == []
    h_intra = req(d, "H-INTRA")
    assert h_intra.progress == "Clinical intraoral hours: 2.5 of 10"  # submitted and rejected hours do not count
    assert h_intra.next_step == "Log and get approval for 7.5 more clinical intraoral hours"
    assert req(d, "C6").progress.startswith(
        "C6 Intraoral massage technique: 3 of 5 passing observations, 1 of 2 assessors"
    )
    assert "critical failure on" in req(d, "C4").reason
    assert req(d, "MODULES").progress == "Modules: 6 of 10 completed"
    assert "the agreement with Dr. N7" in req(d, "P3").reason
    assert d.summary == "Not yet eligible: 8 of 12 certificate requirements still open."
    # The summary's count is the certificate group's size: one number on the page, and no codes in the words.
    scope, certificate_reqs = d.groups()[0]
    assert scope == "certificate" and len(certificate_reqs) == 12
    assert sum(not r.met for r in certificate_reqs) == 8
    # Certificate steps come first, then each endorsement's, labelled.
    assert d.next_steps[0] == "Read and acknowledge the infection-control and glove protocol"
    assert "Intraoral endorsement: Log and get approval for 7.5 more clinical intraoral hours" in d.next_steps
    first_endorsement_step = next(i for i, s in enumerate(d.next_steps) if "endorsement:" in s)
    assert all("endorsement:" in s for s in d.next_steps[first_endorsement_step:])
    assert d.notices and d.notices[0].startswith("Oregon, massage therapist: ")


# --------------------------------------------------------------------------- decision semantics


def test_to_dict_has_the_stable_shape():
    data = decide(part_way_persona()).to_dict()
    assert list(data) == ["eligible", "endorsements", "requirements", "notices", "next_steps", "summary"]
    assert all(
        list(r) == ["id", "title", "scope", "met", "progress", "reason", "next_step"] for r in data["requirements"]
    )
    assert isinstance(data["eligible"], bool) and isinstance(data["summary"], str)


def test_intraoral_requires_extraoral():
    facts = dental_hygienist_persona()
    no_c5 = with_records(facts, observations=[o for o in facts.observations if o.competency_id != "C5"])
    d = decide(no_c5)
    assert not d.eligible and d.endorsements == []
    assert d.summary == "Not yet eligible: the extraoral endorsement has 1 requirement still open."
    assert d.next_steps[0].startswith("Extraoral endorsement: Arrange 3 more passing observations of C5")


def test_unmet_certificate_requirement_blocks_every_endorsement():
    d = decide(replace(dental_hygienist_persona(), cpr_expires_on=TODAY - timedelta(days=1)))
    assert not d.eligible and d.endorsements == []
    assert d.summary == "Not yet eligible: 1 of 12 certificate requirements still open."


def test_optional_requirement_is_reported_but_does_not_block():
    standard = make_standard()
    standard["requirements"].append(
        {"id": "EXTRA", "type": "cpr_current", "scope": "certificate", "title": "Optional CPR", "required": False}
    )
    d = decide(replace(dental_hygienist_persona(), cpr_expires_on=TODAY - timedelta(days=1)), standard)
    assert not req(d, "EXTRA").met
    standard["requirements"] = [r for r in standard["requirements"] if r["id"] != "P4"]
    d = decide(replace(dental_hygienist_persona(), cpr_expires_on=TODAY - timedelta(days=1)), standard)
    assert d.eligible and not req(d, "EXTRA").met and d.next_steps == []


def test_unknown_rule_type_fails_closed():
    standard = make_standard()
    standard["requirements"].append({"id": "X", "type": "telepathy", "scope": "certificate"})
    d = decide(dental_hygienist_persona(), standard)
    assert not d.eligible
    assert "does not know" in req(d, "X").reason


def test_circular_endorsement_prerequisites_never_qualify():
    standard = make_standard()
    standard["endorsements"][1]["requires_endorsements"] = ["intraoral"]
    d = decide(dental_hygienist_persona(), standard)
    assert d.eligible and d.endorsements == ["extraoral"]
    assert "also needs the intraoral endorsement" in d.summary


def test_standard_without_a_base_endorsement_needs_only_certificate_requirements():
    standard = make_standard(endorsements=[])
    standard["requirements"] = [r for r in standard["requirements"] if r["scope"] == "certificate"]
    d = decide(massage_therapist_persona(), standard)
    assert d.eligible and d.endorsements == [] and d.summary == "Eligible for certification."


def test_notices_only_for_matching_rules_and_flag_unconfirmed_wording():
    nc = decide(replace(massage_therapist_persona(), jurisdiction="US-NC"))
    assert len(nc.notices) == 1
    assert "21 NCAC 30 .0516, last verified 26 Nov 2026; wording not yet confirmed at the source" in nc.notices[0]
    assert decide(replace(massage_therapist_persona(), jurisdiction="CA-ON")).notices == []
    assert decide(replace(massage_therapist_persona(), jurisdiction=None)).notices == []
    assert decide(replace(massage_therapist_persona(), profession="nurse")).notices == []


def test_hours_by_category():
    facts = make_facts(
        hours=(
            hour(1, CLINICAL_INTRAORAL, 50),
            hour(2, CLINICAL_INTRAORAL, 50),
            hour(3, CLINICAL_INTRAORAL, 600, HOUR_SUBMITTED),
            hour(4, CLINICAL_INTRAORAL, 600, superseded=True),
            hour(5, LAB_IN_PERSON, 20),
            hour(6, "home_practice", 90),
        )
    )
    assert hours_by_category(facts) == {
        LAB_IN_PERSON: 0.33,
        CLINICAL_EXTRAORAL: 0.0,
        CLINICAL_INTRAORAL: 1.67,
        "home_practice": 1.5,
    }
    assert hours_by_category(make_facts()) == {LAB_IN_PERSON: 0.0, CLINICAL_EXTRAORAL: 0.0, CLINICAL_INTRAORAL: 0.0}


# --------------------------------------------------------------------------- properties

STANDARD = make_standard()
COMPETENCY_IDS = [c["id"] for c in STANDARD["competencies"]]
NO_SIMULATION = [c["id"] for c in STANDARD["competencies"] if not c.get("simulation_allowed")]
CATEGORIES = [LAB_IN_PERSON, CLINICAL_EXTRAORAL, CLINICAL_INTRAORAL]
NOT_COUNTED_STATUSES = [HOUR_SUBMITTED, HOUR_NEEDS_INFO, HOUR_REJECTED]
DATES = st.dates(min_value=TODAY - timedelta(days=400), max_value=TODAY)
# A narrow window, so same-day observations (and full ties on date and sequence) are common.
OBSERVATION_DATES = st.dates(min_value=TODAY - timedelta(days=20), max_value=TODAY)
CASES = st.sampled_from([None, "A", "B", "C", "D", "E", "F", "G", "H"])
ASSESSORS = st.sampled_from([1, 2, 3, DENTAL_ASSESSOR_ID])
PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@st.composite
def hour_specs(draw, statuses=(HOUR_APPROVED, *NOT_COUNTED_STATUSES), superseded=st.booleans()) -> dict[str, Any]:
    return {
        "category": draw(st.sampled_from(CATEGORIES)),
        "minutes": draw(st.integers(min_value=5, max_value=300)),
        "status": draw(st.sampled_from(list(statuses))),
        "entry_date": draw(DATES),
        "superseded": draw(superseded),
        "case_code": draw(CASES),
    }


@st.composite
def observation_specs(
    draw, competencies=COMPETENCY_IDS, passing: bool = False, superseded=st.booleans(), simulated=st.booleans()
) -> dict[str, Any]:
    competency_id = draw(st.sampled_from(list(competencies)))
    definition = competency_def(STANDARD, competency_id)
    if passing:
        level, critical = draw(st.integers(min_value=4, max_value=5)), False
        criteria = tuple(CriterionFact(c["id"], True) for c in definition["criteria"])
    else:
        level = draw(st.sampled_from([2, 3, 4, 4, 5, 5]))  # mostly passes, so sign-offs actually happen
        critical = draw(st.sampled_from([False] * 6 + [True]))
        criteria = tuple(
            CriterionFact(c["id"], draw(st.sampled_from([True] * 5 + [False])))
            for c in definition["criteria"]
            if draw(st.sampled_from([True] * 9 + [False]))  # occasionally a criterion is not recorded
        )
    assessor = draw(ASSESSORS)
    return {
        "competency_id": competency_id,
        "level": level,
        "critical_failure": critical,
        "criteria": criteria,
        "assessor_id": assessor,
        "assessor_is_dental": assessor == DENTAL_ASSESSOR_ID,
        "observed_on": draw(OBSERVATION_DATES),
        "recorded_seq": draw(st.integers(min_value=0, max_value=2)),  # ties on purpose
        "superseded": draw(superseded),
        "case_code": draw(CASES),
        "simulated": draw(simulated),
    }


@st.composite
def agreement_specs(draw) -> dict[str, Any]:
    start = draw(st.dates(min_value=TODAY - timedelta(days=800), max_value=TODAY + timedelta(days=30)))
    return {
        "status": draw(st.sampled_from(["pending", "verified", "verified", "rejected", "revoked"])),
        "valid_from": start,
        "valid_until": start + timedelta(days=draw(st.integers(min_value=0, max_value=800))),
        "dentist_profession": draw(st.sampled_from(["dentist", "dental_hygienist", "physician"])),
    }


def _hours(specs: list[dict[str, Any]], start: int) -> list[HourFact]:
    return [HourFact(id=start + i, **spec) for i, spec in enumerate(specs)]


def _observations(specs: list[dict[str, Any]], start: int) -> list[ObservationFact]:
    return [ObservationFact(id=start + i, **spec) for i, spec in enumerate(specs)]


PERSONAS = [dental_hygienist_persona, massage_therapist_persona, part_way_persona, make_facts]


@st.composite
def scenarios(draw) -> tuple[TraineeFacts, dict[str, Any], frozenset[str]]:
    """A persona plus random extra records, a random enforcement choice and random attestations."""
    facts = draw(st.sampled_from(PERSONAS))()
    facts = replace(facts, profession=draw(st.sampled_from([facts.profession, "nurse", "dentist"])))
    hours = list(facts.hours) + _hours(draw(st.lists(hour_specs(), max_size=15)), 1000)
    observations = list(facts.observations) + _observations(draw(st.lists(observation_specs(), max_size=25)), 1000)
    agreements = list(facts.agreements) + [
        AgreementFact(id=1000 + i, **spec) for i, spec in enumerate(draw(st.lists(agreement_specs(), max_size=3)))
    ]
    facts = with_records(facts, hours=hours, observations=observations, agreements=agreements)
    standard = make_standard(jurisdiction_rules_enforced=[WA_RULE] if draw(st.booleans()) else [])
    attestations = frozenset([WA_RULE]) if draw(st.booleans()) else frozenset()
    return facts, standard, attestations


def _decide(facts: TraineeFacts, standard: dict[str, Any], attestations: frozenset[str]) -> Decision:
    return evaluate(standard, facts, JURISDICTION_RULES, attestations)


def _assert_never_worse(before: Decision, after: Decision) -> None:
    met_before = {r.id for r in before.requirements if r.met}
    met_after = {r.id for r in after.requirements if r.met}
    assert met_before <= met_after, met_before - met_after
    assert after.eligible or not before.eligible
    assert set(before.endorsements) <= set(after.endorsements)


@PROPERTY_SETTINGS
@given(scenarios(), st.lists(hour_specs(statuses=[HOUR_APPROVED], superseded=st.just(False)), min_size=1, max_size=8))
def test_adding_approved_hours_never_turns_a_met_requirement_unmet(scenario, extra):
    facts, standard, attestations = scenario
    more = with_records(facts, hours=[*facts.hours, *_hours(extra, 5000)])
    _assert_never_worse(_decide(facts, standard, attestations), _decide(more, standard, attestations))


@PROPERTY_SETTINGS
@given(
    scenarios(),
    st.lists(
        observation_specs(passing=True, superseded=st.just(False), simulated=st.just(False)), min_size=1, max_size=8
    ),
)
def test_adding_passing_observations_never_turns_a_met_requirement_unmet(scenario, extra):
    facts, standard, attestations = scenario
    more = with_records(facts, observations=[*facts.observations, *_observations(extra, 5000)])
    _assert_never_worse(_decide(facts, standard, attestations), _decide(more, standard, attestations))


@PROPERTY_SETTINGS
@given(
    scenarios(),
    st.lists(hour_specs(statuses=NOT_COUNTED_STATUSES), max_size=8),
    st.lists(hour_specs(superseded=st.just(True)), max_size=5),
    st.lists(observation_specs(superseded=st.just(True)), max_size=8),
    st.lists(
        observation_specs(competencies=NO_SIMULATION, superseded=st.booleans(), simulated=st.just(True)), max_size=5
    ),
)
def test_records_that_do_not_count_never_change_the_decision(scenario, pending, replaced, replaced_obs, simulated):
    facts, standard, attestations = scenario
    noisy = with_records(
        facts,
        hours=[*facts.hours, *_hours(pending + replaced, 5000)],
        observations=[*facts.observations, *_observations(replaced_obs + simulated, 5000)],
    )
    assert _decide(noisy, standard, attestations).to_dict() == _decide(facts, standard, attestations).to_dict()


@PROPERTY_SETTINGS
@given(scenarios(), st.data())
def test_record_order_never_changes_the_decision(scenario, data):
    facts, standard, attestations = scenario
    shuffled = with_records(
        facts,
        hours=data.draw(st.permutations(facts.hours)),
        observations=data.draw(st.permutations(facts.observations)),
        agreements=data.draw(st.permutations(facts.agreements)),
    )
    assert _decide(shuffled, standard, attestations).to_dict() == _decide(facts, standard, attestations).to_dict()
    assert hours_by_category(shuffled) == hours_by_category(facts)


@PROPERTY_SETTINGS
@given(scenarios(), st.data())
def test_jurisdiction_rule_order_never_changes_the_decision(scenario, data):
    facts, standard, attestations = scenario
    rules = data.draw(st.permutations(JURISDICTION_RULES))
    assert evaluate(standard, facts, rules, attestations).to_dict() == _decide(facts, standard, attestations).to_dict()


@PROPERTY_SETTINGS
@given(scenarios())
def test_decision_is_consistent_with_its_requirements(scenario):
    facts, standard, attestations = scenario
    d = _decide(facts, standard, attestations)
    # Every requirement of the fixture standard blocks (J-WA-MT is met whenever it is not enforced).
    blocking_unmet = {r.scope for r in d.requirements if not r.met}
    assert d.eligible == ("certificate" not in blocking_unmet and "extraoral" not in blocking_unmet)
    assert d.endorsements == [e for e in ["extraoral", "intraoral"] if d.eligible and e not in blocking_unmet]
    assert all(bool(r.reason) and bool(r.next_step) for r in d.requirements if not r.met)
    assert all(r.reason == "" and r.next_step == "" for r in d.requirements if r.met)
    assert len(d.next_steps) <= sum(1 for r in d.requirements if not r.met)
    assert d.eligible == d.summary.startswith("Eligible")


# Two rules that make a shared plan's work depend on the trainee: one names several professions (its notice names the
# trainee's own), one says a profession is not regulated in Washington.
COHORT_RULES = [
    *JURISDICTION_RULES,
    {"id": "wa-several", "jurisdiction": "US-WA", "profession": ["nurse", "massage_therapist", "dentist"],
     "activity": "intraoral", "summary": "Gloves and written consent for oral work.", "requires": {},
     "source_cite": "WAC 000-000-000", "verified_on": "2026-10-01", "status": "S"},
    {"id": "wa-nurse-unregulated", "jurisdiction": "US-WA", "profession": "nurse", "activity": "omt",
     "summary": "Not a regulated profession here.", "requires": {}, "source_cite": "RCW 00.000",
     "verified_on": "2026-10-01", "status": "S", "profession_regulated": False},
]


@PROPERTY_SETTINGS
@given(st.lists(scenarios(), min_size=2, max_size=6), st.booleans())
def test_a_plan_shared_by_a_cohort_decides_each_trainee_as_if_alone(cohort, enforce):
    """A cohort shares one prepared standard; each trainee's decision is still the one evaluated for them alone, in
    whatever order the cohort comes."""
    standard = make_standard(jurisdiction_rules_enforced=[WA_RULE] if enforce else [])
    alone = [evaluate(standard, facts, COHORT_RULES, attestations).to_dict() for facts, _, attestations in cohort]
    plan = Plan(standard, COHORT_RULES)
    assert [plan.evaluate(facts, attestations).to_dict() for facts, _, attestations in cohort] == alone
    assert [plan.evaluate(facts, attestations).to_dict() for facts, _, attestations in reversed(cohort)] == alone[::-1]
