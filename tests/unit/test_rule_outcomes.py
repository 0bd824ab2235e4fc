"""Table-driven outcomes of the requirement rules on the paths the main rule tests do not walk: a licence still
waiting for verification, a profession not regulated where the trainee practises, Route D with an unverified dental
licence, the choice between several valid agreements, defaults of each rule's parameters, and early hours."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from lms.core.formatting import format_date
from lms.eligibility.facts import CLINICAL_EXTRAORAL, LAB_IN_PERSON, CaseFact, LicenceFact
from lms.eligibility.rules import RULES, Context, licence_unverified

from .standard_fixture import TODAY, agreement, hour, make_facts, make_standard

NOT_REGULATED = {"id": "wa-mt-not-regulated", "jurisdiction": "US-WA", "profession": "massage_therapist",
                 "profession_regulated": False, "source_cite": "RCW 1; RCW 2", "verified_on": "2026-10-01"}


def evaluate(rule_type, params=None, *, rules=(), attestations=(), title=None, **facts):
    req = {"id": "R1", "type": rule_type, "params": params or {}}
    if title:
        req["title"] = title
    ctx = Context.build(make_standard(), make_facts(**facts), list(rules), attestations)
    return RULES[rule_type]().evaluate(req, ctx)


def _licence(status="pending", profession="massage_therapist"):
    return LicenceFact(status=status, profession=profession, jurisdiction="US-WA", number="MA-9",
                       expires_on=TODAY + timedelta(days=100))


def _as_unverified(result):
    assert not result.met and result.id == "R1"
    return result.progress, result.reason, result.next_step


# Every unmet outcome says why and what to do; every outcome names its requirement.
CASES = [
    ("profession", {"professions": ["massage_therapist"]}, {"profession": None}),
    ("profession", {"professions": ["massage_therapist"]}, {"profession": None, "licence": _licence()}),
    ("profession", {"professions": ["dentist"]}, {}),
    ("profession", {}, {}),
    ("profession", {"professions": ["massage_therapist"]}, {"rules": [NOT_REGULATED]}),
    ("license_current", {}, {"license_number": None}),
    ("license_current", {}, {"license_number": None, "licence": _licence()}),
    ("license_current", {}, {"license_expires_on": None}),
    ("license_current", {}, {"license_expires_on": TODAY - timedelta(days=1)}),
    ("omt_credential", {"min_hours": 24}, {"omt_status": None}),
    ("omt_credential", {"min_hours": 24}, {"omt_status": "pending"}),
    ("omt_credential", {"min_hours": 24}, {"omt_status": "rejected"}),
    ("omt_credential", {"min_hours": 24}, {"omt_hours": 20.0}),
    ("omt_recency", {"max_years": 5}, {"omt_completed_on": None}),
    ("omt_recency", {"max_years": 5}, {"omt_completed_on": TODAY - timedelta(days=6 * 366)}),
    ("cpr_current", {}, {"cpr_expires_on": None}),
    ("cpr_current", {}, {"cpr_expires_on": TODAY - timedelta(days=1)}),
    ("infection_control_ack", {}, {"infection_control_ack": False}),
    ("modules_completed", {"modules": ["M1", "M99"]}, {}),
    ("approved_hours", {"category": LAB_IN_PERSON, "min_hours": 2}, {}),
    ("approved_hours", {"min_hours": 2}, {}),
    ("clinical_sessions", {"categories": [CLINICAL_EXTRAORAL], "min_sessions": 2, "min_cases": 1}, {}),
    ("competency", {"competency": "C99"}, {}),
    ("screening_route", {}, {"profession": None, "licence": _licence(profession="dentist")}),
    ("screening_route", {}, {}),
    ("screening_route", {}, {"agreements": (agreement(1, "pending"),)}),
    ("jurisdiction_rule", {"rule": "nowhere"}, {"rules": [], "enforced": True}),
    ("documented_cases", {}, {}),
]


@pytest.mark.parametrize(("rule_type", "params", "facts"), CASES)
def test_every_unmet_outcome_says_why_and_what_next(rule_type, params, facts):
    facts = dict(facts)
    rules = facts.pop("rules", [])
    if facts.pop("enforced", False):
        req = {"id": "R1", "type": rule_type, "params": params}
        standard = make_standard(jurisdiction_rules_enforced=[params["rule"]])
        result = RULES[rule_type]().evaluate(req, Context.build(standard, make_facts(**facts), rules))
    else:
        result = evaluate(rule_type, params, rules=rules, **facts)
    assert not result.met
    assert result.id == "R1" and result.scope == "certificate" and result.title
    assert isinstance(result.progress, str) and result.progress
    assert isinstance(result.reason, str) and result.reason
    assert isinstance(result.next_step, str) and result.next_step and not result.next_step.endswith(".")


def test_a_licence_waiting_for_verification_stands_in_for_the_profession_and_the_licence():
    facts = make_facts(profession=None, license_number=None, licence=_licence())
    progress, reason, step = licence_unverified(facts)
    expected = (progress, reason, step.rstrip("."))
    assert _as_unverified(evaluate("profession", {"professions": ["massage_therapist"]}, profession=None,
                                   license_number=None, licence=_licence())) == expected
    assert _as_unverified(evaluate("license_current", {}, profession=None, license_number=None,
                                   licence=_licence())) == expected
    # With a number on file the licence rule reads the number and its expiry, not the pending record.
    with_number = evaluate("license_current", {}, licence=_licence())
    assert with_number.met and with_number.progress.startswith("License: verified, current until")
    no_record = evaluate("profession", {"professions": ["massage_therapist"]}, profession=None)
    assert no_record.progress == "Profession: not recorded"


def test_a_profession_outside_the_list_names_the_accepted_ones():
    result = evaluate("profession", {"professions": ["dentist", "dental_hygienist"]})
    assert result.progress == "Profession: massage therapist"
    assert result.reason == ("Massage therapist is not one of the professions this standard accepts "
                             "(dentist and dental hygienist).")
    assert "(none listed)" in evaluate("profession", {}).reason


def test_a_profession_not_regulated_where_the_trainee_practises_is_refused():
    result = evaluate("profession", {"professions": ["massage_therapist"]}, rules=[NOT_REGULATED])
    assert not result.met
    assert result.progress == "Profession: massage therapist, not regulated in Washington"
    assert result.reason == ("Certification is for regulated health professionals, and a massage therapist is not a "
                             "regulated health profession in Washington (RCW 1, last verified 2026-10-01; not legal "
                             "advice).")
    assert result.next_step.startswith("Contact an admin")
    elsewhere = {**NOT_REGULATED, "jurisdiction": "US-OR"}
    met = evaluate("profession", {"professions": ["massage_therapist"]}, rules=[elsewhere])
    assert met.met and met.progress == "Profession: massage therapist (verified license)"


def test_route_d_waits_for_a_dental_licence_to_be_verified():
    result = evaluate("screening_route", {}, profession=None, licence=_licence(profession="dentist"))
    assert not result.met and result.progress == "Route D: license waiting for verification"
    assert "Your license as a dentist has not been verified" in result.reason
    assert result.next_step.startswith("Wait for an admin to verify your license")
    # A pending licence of another profession says nothing about Route D: Route N is checked.
    other = evaluate("screening_route", {}, profession=None, licence=_licence())
    assert other.progress == "Route N: no collaboration agreement on file"
    assert "Your profession (not recorded)" in other.reason
    assert "Your profession (massage therapist)" in evaluate("screening_route", {}).reason
    verified = evaluate("screening_route", {}, profession=None, licence=_licence(status="verified",
                                                                                  profession="dentist"))
    assert verified.progress == "Route N: no collaboration agreement on file"


def test_route_n_names_the_agreement_that_runs_longest():
    later = TODAY + timedelta(days=400)
    agreements = (agreement(1, valid_until=TODAY + timedelta(days=30)), agreement(2, valid_until=later),
                  agreement(3, valid_until=TODAY + timedelta(days=60)))
    result = evaluate("screening_route", {}, agreements=agreements)
    assert result.met
    assert result.progress == (
        f"Route N: verified collaboration agreement with Dr. N2 (dentist), until {format_date(later)}")
    tie = (agreement(4, valid_until=later, dentist_name=""), agreement(3, valid_until=later))
    assert evaluate("screening_route", {}, agreements=tie).progress == (
        f"Route N: verified collaboration agreement with a dentist (dentist), until {format_date(later)}")


def test_an_enforced_jurisdiction_rule_quotes_its_summary_and_is_titled_by_its_id():
    rule = {"id": "wa-x", "jurisdiction": "US-WA", "profession": "massage_therapist", "source_cite": "WAC 9",
            "summary": "  Intraoral work needs an endorsement.  "}
    req = {"id": "R1", "type": "jurisdiction_rule", "params": {"rule": "wa-x"}}
    ctx = Context.build(make_standard(jurisdiction_rules_enforced=["wa-x"]), make_facts(), [rule])
    result = RULES["jurisdiction_rule"]().evaluate(req, ctx)
    assert result.title == "Jurisdiction rule wa-x"
    assert result.reason == ("WAC 9 applies to you as a massage therapist in Washington: Intraoral work needs an "
                             "endorsement. Your license is not recorded as meeting it.")
    assert RULES["jurisdiction_rule"]().evaluate({**req, "title": "Endorsement"}, ctx).title == "Endorsement"


def test_rule_parameters_default_to_nothing_required_except_documented_cases():
    assert evaluate("approved_hours", {"category": LAB_IN_PERSON}).progress == "In-person lab hours: 0 of 0"
    assert evaluate("approved_hours", {"category": LAB_IN_PERSON}).met
    assert evaluate("clinical_sessions", {"categories": [CLINICAL_EXTRAORAL]}).met
    assert evaluate("clinical_sessions", {"categories": [CLINICAL_EXTRAORAL]}).progress == (
        "Approved clinical sessions: 0 of 0")
    omt = evaluate("omt_credential", {}, omt_hours=0.5)
    assert omt.met and omt.progress == "OMT foundation course: verified, 0.5 hours"
    cases = evaluate("documented_cases", {})
    assert not cases.met and cases.progress == "Documented cases: 0 of 3"
    assert cases.next_step.startswith("Document 3 more cases:")
    assert "and 1 interprofessional letter." in cases.reason


def test_one_required_case_is_shown_and_counted():
    entries = (hour(1, CLINICAL_EXTRAORAL, case_code="K-1"), hour(2, CLINICAL_EXTRAORAL))
    result = evaluate("clinical_sessions", {"categories": [CLINICAL_EXTRAORAL], "min_sessions": 1, "min_cases": 1},
                      hours=entries)
    assert result.met and result.progress == "Approved clinical sessions: 2 of 1, distinct cases: 1 of 1"


def test_documented_cases_list_five_cases_without_a_pair_and_count_the_rest():
    cases = tuple(CaseFact(code=f"K-{n}", baseline_and_followup=False, letters=0) for n in range(1, 8))
    done = (CaseFact(code="K-0", baseline_and_followup=True, letters=1),)
    result = evaluate("documented_cases", {"min_cases": 3}, cases=done + cases)
    assert result.progress == "Documented cases: 1 of 3 (K-0)"
    assert result.reason.startswith("1 documented case; 3 needed.")
    assert result.reason.endswith(" K-1, K-2, K-3, K-4 and K-5 and others have no baseline and follow-up pair yet.")
    assert result.next_step.startswith("Document 2 more cases:")


def test_hours_before_enrollment_are_shown_and_explained_but_not_counted():
    start = date(2026, 1, 10)
    entries = (hour(1, LAB_IN_PERSON, 90, entry_date=start - timedelta(days=3)),
               hour(2, LAB_IN_PERSON, 60, entry_date=start + timedelta(days=1)),
               hour(3, CLINICAL_EXTRAORAL, 30, entry_date=start - timedelta(days=3)))
    result = evaluate("approved_hours", {"category": LAB_IN_PERSON, "min_hours": 4}, hours=entries,
                      hours_count_from=start)
    assert not result.met
    assert result.progress == "In-person lab hours: 1 of 4 (1.5 h before enrollment, not counted)"
    assert result.reason == (
        "1 approved in-person lab hour so far; 4 needed. Only hours an instructor has approved count. Module lab "
        "sessions count once the instructor who ran them records your attendance. 1.5 approved hours dated before "
        f"{format_date(start)} (before enrollment) do not count.")
    assert result.next_step == (
        "Log and get approval for 3 more in-person lab hours, or, if the earlier hours belong to this program's "
        "training, ask an admin to record advanced standing with evidence so that they count")
    clinical = evaluate("approved_hours", {"category": CLINICAL_EXTRAORAL, "min_hours": 1}, hours=entries[2:])
    assert clinical.reason == ("0.5 approved clinical extraoral hours so far; 1 needed. Only hours an instructor "
                               "has approved count.")
    assert clinical.progress == "Clinical extraoral hours: 0.5 of 1"


def test_an_undefined_competency_is_named():
    result = evaluate("competency", {"competency": "C99"})
    assert result.progress == "Competency C99: not defined"
    assert result.reason == "Competency C99 is not defined in this standard."
