"""Edges of the OMT course recency rule (P2b): the exact cut-off day, the reference date, 29 February, the default
window and what an admin's recognition of active practice changes."""

from __future__ import annotations

from datetime import date

import pytest

from lms.eligibility.rules import RULES, Context

from .standard_fixture import JURISDICTION_RULES, make_facts, make_standard

P2B = {"id": "P2b", "type": "omt_recency", "scope": "certificate", "params": {"max_years": 5}}


def run(req, **facts):
    ctx = Context.build(make_standard(), make_facts(**facts), JURISDICTION_RULES, frozenset())
    return RULES["omt_recency"]().evaluate(req, ctx)


def test_completed_exactly_max_years_before_enrollment_is_recent_and_a_day_earlier_is_not():
    enrolled = date(2025, 6, 15)
    on_the_day = run(P2B, enrolled_on=enrolled, omt_completed_on=date(2020, 6, 15))
    assert on_the_day.met
    assert on_the_day.progress == "OMT course recency: completed 15 Jun 2020, within 5 years of enrollment"
    too_old = run(P2B, enrolled_on=enrolled, omt_completed_on=date(2020, 6, 14))
    assert not too_old.met
    assert too_old.progress == "OMT course recency: completed 14 Jun 2020"
    assert too_old.reason.startswith("Your OMT course was completed on 14 Jun 2020, more than 5 years before "
                                     "enrollment (15 Jun 2025).")
    assert too_old.next_step.startswith("Send evidence of active OMT practice")


def test_before_enrolling_the_window_ends_today():
    today = date(2026, 3, 1)
    assert run(P2B, today=today, omt_completed_on=date(2021, 3, 1)).progress.endswith("within 5 years of today")
    late = run(P2B, today=today, omt_completed_on=date(2021, 2, 28))
    assert not late.met and "before today (1 Mar 2026)" in late.reason


def test_the_window_defaults_to_five_years_and_follows_the_standard():
    enrolled = date(2025, 6, 15)
    no_param = {**P2B, "params": {}}
    assert run(no_param, enrolled_on=enrolled, omt_completed_on=date(2020, 6, 15)).met
    assert not run(no_param, enrolled_on=enrolled, omt_completed_on=date(2020, 6, 14)).met
    two = {**P2B, "params": {"max_years": 2}}
    assert run(two, enrolled_on=enrolled, omt_completed_on=date(2023, 6, 15)).met
    assert not run(two, enrolled_on=enrolled, omt_completed_on=date(2023, 6, 14)).met


def test_an_enrollment_on_29_february_counts_back_to_28_february():
    enrolled = date(2024, 2, 29)
    assert run(P2B, enrolled_on=enrolled, omt_completed_on=date(2019, 2, 28)).met
    assert not run(P2B, enrolled_on=enrolled, omt_completed_on=date(2019, 2, 27)).met


@pytest.mark.parametrize("status, completed", [("pending", date(2025, 1, 1)), ("rejected", date(2025, 1, 1)),
                                               (None, None), ("verified", None)])
def test_without_a_verified_course_date_recency_cannot_be_checked(status, completed):
    result = run(P2B, omt_status=status, omt_completed_on=completed)
    assert not result.met and result.progress == "OMT course recency: no verified course date"
    assert result.next_step == "Have your OMT course certificate verified"


def test_recognised_active_practice_meets_it_whatever_the_course_date():
    for completed in (None, date(2001, 1, 1)):
        result = run(P2B, omt_practice_recognised=True, omt_completed_on=completed, omt_status=None)
        assert result.met and result.progress == "OMT course recency: active OMT practice recognised by an admin"
        assert (result.id, result.scope, result.reason, result.next_step) == ("P2b", "certificate", "", "")
