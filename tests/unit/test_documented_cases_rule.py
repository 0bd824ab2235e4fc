"""The documented-cases rule (three cases with a baseline and a follow-up and a letter), table-driven."""

import pytest

from lms.eligibility.facts import CaseFact
from lms.eligibility.rules import RULES, Context
from tests.unit.standard_fixture import make_facts, make_standard

REQ = {"id": "CASES", "type": "documented_cases", "scope": "certificate", "title": "Three documented cases",
       "params": {"min_cases": 3, "letters_per_case": 1}}


def _evaluate(cases, params=None):
    req = {**REQ, "params": params or REQ["params"]}
    ctx = Context.build(make_standard(), make_facts(cases=tuple(cases)))
    return RULES["documented_cases"]().evaluate(req, ctx)


def case(code, paired=True, letters=1):
    return CaseFact(code=code, baseline_and_followup=paired, letters=letters)


# cases, params, met, progress, words in the reason
TABLE = [
    ([], None, False, "Documented cases: 0 of 3", "0 documented cases; 3 needed"),
    ([case("C01"), case("C02"), case("C03")], None, True, "Documented cases: 3 of 3 (C01, C02, C03)", ""),
    ([case("C01"), case("C02"), case("C03", letters=0)], None, False, "2 of 3", "C03 needs a letter"),
    ([case("C01"), case("C02"), case("C03", paired=False)], None, False, "2 of 3",
     "C03 has no baseline and follow-up pair yet"),
    ([case("C01"), case("C02"), case("C03", letters=1)], {"min_cases": 3, "letters_per_case": 2}, False,
     "0 of 3", "2 interprofessional letters"),
    ([case(f"C{i:02d}") for i in range(1, 6)], None, True, "Documented cases: 5 of 3", ""),
    # A standard may ask for another number of cases.
    ([case("C01"), case("C02")], {"min_cases": 2, "letters_per_case": 1}, True, "Documented cases: 2 of 2", ""),
    ([case("C01"), case("C02")], {"min_cases": 4}, False, "Documented cases: 2 of 4", "2 documented cases; 4 needed"),
]


@pytest.mark.parametrize("cases, params, met, progress, words", TABLE)
def test_documented_cases(cases, params, met, progress, words):
    result = _evaluate(cases, params)
    assert result.met is met
    assert progress in result.progress
    assert words in result.reason
    if not met:
        assert result.next_step.startswith("Document")
