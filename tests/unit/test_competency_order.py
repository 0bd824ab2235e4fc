"""Competency sign-off edges: a critical criterion recorded twice fails whichever order the results came in, a
standard asking for one case (`min_cases: 1`) needs one case number, what a definition that leaves a setting out
means, the dental-assessor progress, and a critical failure on the very first observation."""

from __future__ import annotations

from dataclasses import replace

import pytest

from lms.eligibility.competency import failure_reasons, observation_passes, sign_off
from lms.eligibility.facts import CriterionFact

from .standard_fixture import competency_def, make_standard, obs

C6 = competency_def(make_standard(), "C6")


@pytest.mark.parametrize("first, second", [(True, False), (False, True), (False, False)])
def test_a_critical_criterion_recorded_not_met_fails_in_either_order(first, second):
    twice = replace(obs(1), criteria=(CriterionFact("c6-gloves", first), CriterionFact("c6-gloves", second),
                                      CriterionFact("c6-pressure", True)))
    assert not observation_passes(C6, twice)
    assert failure_reasons(C6, twice) == ["critical criterion c6-gloves not met"]


def test_a_critical_criterion_met_twice_passes():
    twice = replace(obs(1), criteria=(CriterionFact("c6-gloves", True), CriterionFact("c6-gloves", True)))
    assert observation_passes(C6, twice) and failure_reasons(C6, twice) == []


def test_a_repeated_not_met_breaks_the_run_of_passes():
    definition = {**C6, "observations": 2, "min_assessors": 1, "min_cases": 0}
    passes = [obs(1), obs(2)]
    late_miss = replace(obs(3), criteria=(CriterionFact("c6-gloves", False), CriterionFact("c6-gloves", True)))
    status = sign_off(definition, passes + [late_miss], trainee_is_dental=False)
    assert not status.signed_off and status.breaking_observation == late_miss
    assert status.breaking_reasons == ("critical criterion c6-gloves not met",)


def test_min_cases_one_needs_one_case_number():
    definition = {**C6, "observations": 2, "min_assessors": 1, "min_cases": 1}
    without = sign_off(definition, [obs(1), obs(2)], trainee_is_dental=False)
    assert not without.signed_off
    assert (without.cases, without.min_cases, without.cases_short) == (0, 1, 1)
    assert without.progress == "2 of 2 passing observations, 0 of 1 case"

    with_one = sign_off(definition, [obs(1, case_code="K1"), obs(2, case_code="K1")], trainee_is_dental=False)
    assert with_one.signed_off and (with_one.cases, with_one.cases_short) == (1, 0)
    assert with_one.progress == "2 of 2 passing observations, 1 of 1 case"


def test_a_negative_min_cases_means_no_case_rule():
    definition = {**C6, "observations": 1, "min_assessors": 1, "min_cases": -3}
    status = sign_off(definition, [obs(1)], trainee_is_dental=False)
    assert status.signed_off and status.min_cases == 0 and status.progress == "1 of 1 passing observation"


def _bare(**settings):
    """A competency definition with only the settings given (the standard's schema asks for all of them; the sign-off
    still has a meaning for each one left out)."""
    return {"id": "CX", "criteria": [], **settings}


def _plain(id, **kw):
    return obs(id, "CX", criteria={}, **kw)


def test_a_definition_that_leaves_the_counts_out_asks_for_one_pass_at_level_4_by_one_assessor_and_no_case():
    status = sign_off(_bare(), [_plain(1)], trainee_is_dental=False)
    assert status.signed_off
    assert (status.required, status.required_level, status.min_assessors, status.min_cases) == (1, 4, 1, 0)
    assert (status.title, status.label, status.progress) == ("", "CX", "1 of 1 passing observation")
    below = sign_off(_bare(), [_plain(1, level=3)], trainee_is_dental=False)
    assert not below.signed_off and below.breaking_reasons == ("level 3, below the required 4",)


def test_the_required_level_is_the_definitions_own():
    status = sign_off(_bare(required_level=3), [_plain(1, level=3)], trainee_is_dental=False)
    assert status.signed_off and status.required_level == 3


def test_simulated_observations_count_only_where_the_definition_allows_them():
    simulated = [_plain(1, simulated=True)]
    assert not sign_off(_bare(), simulated, trainee_is_dental=False).signed_off
    assert not sign_off(_bare(simulation_allowed=False), simulated, trainee_is_dental=False).signed_off
    assert sign_off(_bare(simulation_allowed=True), simulated, trainee_is_dental=False).signed_off


def test_the_progress_says_whether_a_dental_professional_assessed():
    definition = _bare(dental_assessor="always")
    without = sign_off(definition, [_plain(1, assessor_is_dental=False)], trainee_is_dental=False)
    assert not without.signed_off and without.dental_assessor_present is False
    assert without.progress == "1 of 1 passing observation, dental-professional assessor: not yet"
    with_one = sign_off(definition, [_plain(1, assessor_is_dental=True)], trainee_is_dental=False)
    assert with_one.signed_off and with_one.dental_assessor_present is True
    assert with_one.progress == "1 of 1 passing observation, dental-professional assessor: yes"


def test_a_critical_failure_on_the_first_observation_is_the_reset():
    first = _plain(1, critical_failure=True)
    status = sign_off(_bare(critical_failure_resets=True), [first, _plain(2)], trainee_is_dental=False)
    assert status.signed_off and status.reset_by == first
