"""A compact standard, jurisdiction rules and fact builders for the eligibility tests.

Self-contained on purpose: the real courses/omr/standard.yaml can change without breaking these
tests. Numbers are small so personas stay readable, but every rule type and option is exercised.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from lms.eligibility.facts import (
    CLINICAL_EXTRAORAL,
    CLINICAL_INTRAORAL,
    HOUR_APPROVED,
    LAB_IN_PERSON,
    AgreementFact,
    CriterionFact,
    HourFact,
    ObservationFact,
    TraineeFacts,
)

TODAY = date(2026, 11, 26)
ALL_MODULES = frozenset(f"M{i}" for i in range(1, 11))
PROFESSIONS = [
    "massage_therapist",
    "dental_hygienist",
    "dentist",
    "dental_therapist",
    "nurse",
    "physical_therapist",
    "occupational_therapist",
    "speech_language_pathologist",
    "physician",
]
DENTAL_ASSESSOR_ID = 9  # the one assessor in these tests who is a dental professional

_STANDARD: dict[str, Any] = {
    "id": "omr-c-test",
    "title": "Test standard",
    "version": "0.0.1",
    "program": "omr",
    "competencies": [
        {
            "id": "C1",
            "title": "Health history and screening",
            "required_level": 4,
            "observations": 3,
            "min_assessors": 1,
            "min_cases": 2,
            "critical_failure_resets": False,
            "dental_assessor": "never",
            "simulation_allowed": False,
            "criteria": [{"id": "c1-history", "text": "Takes a health history", "critical": False}],
        },
        {
            "id": "C2",
            "title": "Intraoral and extraoral screening exam",
            "required_level": 4,
            "observations": 3,
            "min_assessors": 1,
            "min_cases": 0,
            "critical_failure_resets": False,
            "dental_assessor": "route_n",
            "simulation_allowed": False,
            "criteria": [{"id": "c2-red-flags", "text": "Spots red flags and refers", "critical": True}],
        },
        {
            "id": "C4",
            "title": "Infection control and glove protocol",
            "required_level": 4,
            "observations": 3,
            "min_assessors": 1,
            "min_cases": 0,
            "critical_failure_resets": True,
            "dental_assessor": "never",
            "simulation_allowed": False,
            "criteria": [{"id": "c4-gloves", "text": "Fresh gloves for each contact", "critical": True}],
        },
        {
            "id": "C5",
            "title": "Extraoral orofacial massage",
            "required_level": 4,
            "observations": 3,
            "min_assessors": 1,
            "min_cases": 2,
            "critical_failure_resets": False,
            "dental_assessor": "never",
            "simulation_allowed": False,
            "criteria": [],
        },
        {
            "id": "C6",
            "title": "Intraoral massage technique",
            "required_level": 4,
            "observations": 5,
            "min_assessors": 2,
            "min_cases": 3,
            "critical_failure_resets": True,
            "dental_assessor": "never",
            "simulation_allowed": False,
            "criteria": [
                {"id": "c6-gloves", "text": "Gloves on, fresh pair", "critical": True},
                {"id": "c6-pressure", "text": "Pressure suits the tissue", "critical": False},
            ],
        },
        {
            "id": "C10",
            "title": "Adverse-event response",
            "required_level": 4,
            "observations": 1,
            "min_assessors": 1,
            "min_cases": 0,
            "critical_failure_resets": False,
            "dental_assessor": "never",
            "simulation_allowed": True,
            "criteria": [],
        },
    ],
    "endorsements": [
        {"id": "extraoral", "title": "Extraoral orofacial massage", "scope_statement": "Extraoral work."},
        {
            "id": "intraoral",
            "title": "Intraoral orofacial massage",
            "scope_statement": "Intraoral work.",
            "requires_endorsements": ["extraoral"],
        },
    ],
    "requirements": [
        {"id": "P1", "type": "profession", "scope": "certificate", "title": "Regulated profession",
         "params": {"professions": PROFESSIONS}},
        {"id": "P1-license", "type": "license_current", "scope": "certificate", "title": "Current licence",
         "params": {}},
        {"id": "P2", "type": "omt_credential", "scope": "certificate", "title": "OMT foundation course",
         "params": {"min_hours": 28}},
        {"id": "P4", "type": "cpr_current", "scope": "certificate", "title": "CPR/BLS", "params": {}},
        {"id": "P5", "type": "infection_control_ack", "scope": "certificate", "title": "Infection control",
         "params": {}},
        {"id": "MODULES", "type": "modules_completed", "scope": "certificate", "title": "Modules",
         "params": {"modules": sorted(ALL_MODULES, key=lambda m: int(m[1:]))}},
        {"id": "H-LAB", "type": "approved_hours", "scope": "certificate", "title": "In-person lab hours",
         "params": {"category": LAB_IN_PERSON, "min_hours": 16}},
        {"id": "H-CLIN", "type": "approved_hours", "scope": "certificate", "title": "Clinical hours",
         "params": {"categories": [CLINICAL_EXTRAORAL, CLINICAL_INTRAORAL], "min_hours": 20}},
        {"id": "H-SESSIONS", "type": "clinical_sessions", "scope": "certificate", "title": "Clinical sessions",
         "params": {"categories": [CLINICAL_EXTRAORAL, CLINICAL_INTRAORAL], "min_sessions": 10, "min_cases": 6}},
        {"id": "H-EXTRA", "type": "approved_hours", "scope": "extraoral", "title": "Extraoral hours",
         "params": {"category": CLINICAL_EXTRAORAL, "min_hours": 8}},
        {"id": "H-INTRA", "type": "approved_hours", "scope": "intraoral", "title": "Intraoral hours",
         "params": {"category": CLINICAL_INTRAORAL, "min_hours": 10}},
        {"id": "C1", "type": "competency", "scope": "certificate", "params": {"competency": "C1"}},
        {"id": "C4", "type": "competency", "scope": "certificate", "params": {"competency": "C4"}},
        {"id": "C10", "type": "competency", "scope": "certificate", "params": {"competency": "C10"}},
        {"id": "C5", "type": "competency", "scope": "extraoral", "params": {"competency": "C5"}},
        {"id": "C2", "type": "competency", "scope": "intraoral", "params": {"competency": "C2"}},
        {"id": "C6", "type": "competency", "scope": "intraoral", "params": {"competency": "C6"}},
        {"id": "P3", "type": "screening_route", "scope": "intraoral", "title": "Intraoral screening route",
         "params": {}},
        {"id": "J-WA-MT", "type": "jurisdiction_rule", "scope": "intraoral", "title": "WA intraoral endorsement",
         "params": {"rule": "wa-mt-intraoral-endorsement"}, "required": False},
    ],
    "jurisdiction_rules_enforced": [],
}  # fmt: skip

JURISDICTION_RULES: list[dict[str, Any]] = [
    {
        "id": "wa-mt-intraoral-endorsement",
        "jurisdiction": "US-WA",
        "profession": "massage_therapist",
        "activity": "intraoral",
        "summary": "Intraoral massage needs an intraoral massage endorsement on the licence.",
        "requires": {"endorsement": True, "min_hours": 16},
        "source_cite": "WAC 246-830-490; RCW 18.108.250 (endorsement)",
        "verified_on": date(2026, 11, 26),
        "status": "S",
    },
    {
        "id": "or-mt-internal-cavities",
        "jurisdiction": "US-OR",
        "profession": "massage_therapist",
        "activity": "intraoral",
        "summary": "Oral work needs gloves or finger cots, extra training and written and verbal consent.",
        "requires": {"gloves": True, "consent_written": True},
        "source_cite": "OAR 334-010-0029",
        "verified_on": "2026-11-20",
        "status": "S",
    },
    {
        "id": "nc-mt-body-cavities",
        "jurisdiction": "US-NC",
        "profession": "massage_therapist",
        "activity": "intraoral",
        "summary": "A rule on treatment in body cavities exists; its text was not retrieved.",
        "requires": {},
        "source_cite": "21 NCAC 30 .0516",
        "verified_on": date(2026, 11, 26),
        "status": "V",
    },
    {
        "id": "bc-dh-omt",
        "jurisdiction": "CA-BC",
        "profession": "dental_hygienist",
        "activity": "omt",
        "summary": "OMT is an adjunct if the full ADPIE process is followed; no therapy past the oral cavity proper.",
        "requires": {},
        "source_cite": "CDHBC Interpretation Guideline, Orofacial Myofunctional Therapies",
        "verified_on": date(2026, 11, 26),
        "status": "S",
    },
]


def make_standard(**overrides: Any) -> dict[str, Any]:
    """A fresh deep copy of the compact standard, with top-level keys overridden."""
    standard = copy.deepcopy(_STANDARD)
    standard.update(copy.deepcopy(overrides))
    return standard


def competency_def(standard: dict[str, Any], competency_id: str) -> dict[str, Any]:
    """One competency definition from a standard."""
    return next(c for c in standard["competencies"] if c["id"] == competency_id)


def make_facts(**overrides: Any) -> TraineeFacts:
    """A trainee with every credential current and no hours, observations or agreements."""
    values: dict[str, Any] = {
        "email": "trainee@example.org",
        "name": "Test Trainee",
        "profession": "massage_therapist",
        "jurisdiction": "US-WA",
        "license_number": "MA-12345",
        "license_expires_on": TODAY + timedelta(days=365),
        "omt_status": "verified",
        "omt_hours": 28.0,
        "omt_completed_on": TODAY - timedelta(days=200),
        "cpr_expires_on": TODAY + timedelta(days=300),
        "infection_control_ack": True,
        "completed_modules": ALL_MODULES,
        "today": TODAY,
    }
    values.update(overrides)
    return TraineeFacts(**values)


def hour(
    id: int,
    category: str = CLINICAL_INTRAORAL,
    minutes: int = 60,
    status: str = HOUR_APPROVED,
    *,
    superseded: bool = False,
    case_code: str | None = None,
    entry_date: date = TODAY - timedelta(days=30),
) -> HourFact:
    """One hour-ledger entry (approved by default)."""
    return HourFact(
        id=id,
        category=category,
        minutes=minutes,
        status=status,
        entry_date=entry_date,
        superseded=superseded,
        case_code=case_code,
    )


def obs(
    id: int,
    competency_id: str = "C6",
    level: int = 4,
    *,
    assessor_id: int = 1,
    assessor_is_dental: bool | None = None,
    critical_failure: bool = False,
    criteria: dict[str, bool] | None = None,
    observed_on: date | None = None,
    recorded_seq: int | None = None,
    superseded: bool = False,
    case_code: str | None = None,
    simulated: bool = False,
) -> ObservationFact:
    """One observation. Criteria default to every criterion of the compact standard met.

    ``observed_on`` defaults to a date that grows with ``id`` so tests list observations in time
    order; the dental flag defaults to whether the assessor is DENTAL_ASSESSOR_ID.
    """
    if criteria is None:
        criteria = {c["id"]: True for c in competency_def(_STANDARD, competency_id)["criteria"]}
    return ObservationFact(
        id=id,
        competency_id=competency_id,
        level=level,
        critical_failure=critical_failure,
        criteria=tuple(CriterionFact(cid, met) for cid, met in criteria.items()),
        assessor_id=assessor_id,
        assessor_is_dental=assessor_id == DENTAL_ASSESSOR_ID if assessor_is_dental is None else assessor_is_dental,
        observed_on=observed_on or TODAY - timedelta(days=300 - id % 300),
        recorded_seq=id if recorded_seq is None else recorded_seq,
        superseded=superseded,
        case_code=case_code,
        simulated=simulated,
    )


def agreement(
    id: int = 1,
    status: str = "verified",
    *,
    valid_from: date = TODAY - timedelta(days=100),
    valid_until: date = TODAY + timedelta(days=265),
    dentist_profession: str = "dentist",
    dentist_name: str | None = None,
) -> AgreementFact:
    """A collaboration agreement (verified and current by default), with "Dr. N<id>" unless named."""
    return AgreementFact(
        id=id, status=status, valid_from=valid_from, valid_until=valid_until, dentist_profession=dentist_profession,
        dentist_name=dentist_name if dentist_name is not None else f"Dr. N{id}"
    )


# --------------------------------------------------------------------------- complete record sets


def complete_hours(start_id: int = 1) -> tuple[HourFact, ...]:
    """Approved hours meeting every hour and session requirement of the compact standard."""
    entries = [hour(start_id + i, LAB_IN_PERSON, 240) for i in range(4)]  # 16 h lab
    for i in range(5):  # 10 h extraoral on 5 cases
        entries.append(hour(start_id + 10 + i, CLINICAL_EXTRAORAL, 120, case_code=f"E{i + 1}"))
    for i in range(5):  # 10 h intraoral on 5 cases
        entries.append(hour(start_id + 20 + i, CLINICAL_INTRAORAL, 120, case_code=f"I{i + 1}"))
    return tuple(entries)


def passing_run(competency_id: str, n: int, start_id: int, *, dental_assessor: bool = False) -> list[ObservationFact]:
    """``n`` passing observations alternating assessors 1 and 2, each on its own case.

    With ``dental_assessor`` the first one is by the dental assessor instead.
    """
    run = []
    for i in range(n):
        assessor = DENTAL_ASSESSOR_ID if dental_assessor and i == 0 else 1 + i % 2
        run.append(obs(start_id + i, competency_id, 4, assessor_id=assessor, case_code=f"{competency_id}-K{i + 1}"))
    return run


def complete_observations(*, dental_assessor_for_c2: bool) -> tuple[ObservationFact, ...]:
    """Observations that sign off every competency in the compact standard."""
    needed = {"C1": 3, "C2": 3, "C4": 3, "C5": 3, "C6": 5, "C10": 1}
    result: list[ObservationFact] = []
    for block, (competency_id, n) in enumerate(needed.items()):
        result += passing_run(
            competency_id, n, 100 + 10 * block, dental_assessor=dental_assessor_for_c2 and competency_id == "C2"
        )
    return tuple(result)


# --------------------------------------------------------------------------- demo personas


def dental_hygienist_persona() -> TraineeFacts:
    """A dental hygienist in British Columbia who qualifies for both endorsements (Route D)."""
    return make_facts(
        email="dh@example.org",
        name="Dana Hygienist",
        profession="dental_hygienist",
        jurisdiction="CA-BC",
        license_number="DH-2201",
        hours=complete_hours(),
        observations=complete_observations(dental_assessor_for_c2=False),
    )


def massage_therapist_persona() -> TraineeFacts:
    """A Washington massage therapist with everything except a collaboration agreement."""
    return make_facts(
        email="mt@example.org",
        name="Morgan Therapist",
        profession="massage_therapist",
        jurisdiction="US-WA",
        hours=complete_hours(),
        observations=complete_observations(dental_assessor_for_c2=True),
    )


def part_way_persona() -> TraineeFacts:
    """An Oregon massage therapist part-way through: some hours, some observations, a few gaps."""
    hours = (
        hour(1, LAB_IN_PERSON, 480),  # 8 h lab
        hour(2, CLINICAL_EXTRAORAL, 180, case_code="E1"),  # 3 h extraoral
        hour(3, CLINICAL_INTRAORAL, 150, case_code="I1"),  # 2.5 h intraoral
        hour(4, CLINICAL_INTRAORAL, 600, "submitted", case_code="I2"),  # waiting: does not count
        hour(5, CLINICAL_INTRAORAL, 600, "rejected", case_code="I3"),
    )
    c6 = [obs(50 + i, "C6", 4, assessor_id=1, case_code=f"K{i + 1}") for i in range(3)]
    c4 = [
        obs(60, "C4", 4),
        obs(61, "C4", 4),
        obs(62, "C4", 4, critical_failure=True, criteria={"c4-gloves": False}),
        obs(63, "C4", 4),
    ]
    return make_facts(
        email="pw@example.org",
        name="Pat Partway",
        profession="massage_therapist",
        jurisdiction="US-OR",
        infection_control_ack=False,
        completed_modules=frozenset({"M1", "M2", "M3", "M4", "M5", "M6"}),
        hours=hours,
        observations=tuple(c6 + c4),
        agreements=(agreement(7, "pending"),),
    )


def with_records(facts: TraineeFacts, **records: Any) -> TraineeFacts:
    """Copy of ``facts`` with record tuples replaced (hours=..., observations=..., agreements=...)."""
    return replace(facts, **{k: tuple(v) for k, v in records.items()})
