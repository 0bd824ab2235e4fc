"""What the competency requirement says when a competency is not signed off yet: the reason (what is missing, in
order) and the next step (how many more passing observations, and what they must bring), read straight from a
sign-off status so each condition can be set on its own."""

from __future__ import annotations

from datetime import date

import pytest

from lms.core.formatting import format_date
from lms.eligibility.competency import CompetencyStatus
from lms.eligibility.rules import CompetencyRule

from .standard_fixture import obs

LABEL = "C6 Intraoral massage technique"
CONDITIONS = "(level 4 or above, no critical failure, every critical criterion met)"


def status(**kw) -> CompetencyStatus:
    values = {"competency_id": "C6", "title": "Intraoral massage technique", "signed_off": False, "passing": 0,
              "required": 1, "required_level": 4, "assessors": 0, "min_assessors": 1, "cases": 0, "min_cases": 0,
              "dental_assessor_needed": False, "dental_assessor_present": False, "breaking_observation": None,
              "breaking_reasons": (), "reset_by": None, "progress": ""}
    values.update(kw)
    return CompetencyStatus(**values)


# status, reason, next step
TABLE = [
    pytest.param(status(), f"Sign-off needs 1 passing observation {CONDITIONS}; 0 so far.",
                 f"Arrange 1 more passing observation of {LABEL} at level 4+", id="one needed, none yet"),
    pytest.param(status(required=2, passing=1, assessors=1),
                 f"Sign-off needs 2 passing observations in a row {CONDITIONS}; 1 so far.",
                 f"Arrange 1 more passing observation of {LABEL} at level 4+", id="two in a row, one so far"),
    pytest.param(status(required=3, passing=0, min_assessors=2),
                 f"Sign-off needs 3 passing observations in a row {CONDITIONS}; 0 so far.",
                 f"Arrange 3 more passing observations of {LABEL} at level 4+, by at least 2 more assessors",
                 id="nothing passed yet: the step lists the other conditions, the reason does not"),
    pytest.param(status(required=3, passing=1, assessors=1, min_assessors=2),
                 f"Sign-off needs 3 passing observations in a row {CONDITIONS}; 1 so far. The passing observations are "
                 "by 1 assessor; 2 different assessors are needed.",
                 f"Arrange 2 more passing observations of {LABEL} at level 4+, by at least 1 more assessor",
                 id="one passed, one assessor short"),
    pytest.param(status(required=2, passing=2, assessors=1, min_assessors=3),
                 "The passing observations are by 1 assessor; 3 different assessors are needed.",
                 f"Arrange 2 more passing observations of {LABEL} at level 4+, by at least 2 more assessors",
                 id="enough passes, two assessors short"),
    pytest.param(status(required=2, passing=2, assessors=2, min_assessors=2, cases=1, min_cases=3),
                 "They cover 1 distinct case; 3 needed.",
                 f"Arrange 2 more passing observations of {LABEL} at level 4+, on 2 more distinct cases",
                 id="enough passes, two cases short"),
    pytest.param(status(required=2, passing=2, assessors=2, dental_assessor_needed=True),
                 "At least one of them must be by a dental-professional assessor.",
                 f"Arrange 1 more passing observation of {LABEL} at level 4+, including one by a dental-professional "
                 "assessor", id="enough passes, no dental assessor"),
]


@pytest.mark.parametrize("s, reason, step", TABLE)
def test_the_reason_and_next_step_name_what_is_missing(s, reason, step):
    assert CompetencyRule._reason(s) == reason
    assert CompetencyRule._next_step(s) == step


def test_the_observation_that_broke_the_run_is_named_by_its_date():
    breaking = obs(7, level=3, observed_on=date(2026, 3, 4))
    reason = CompetencyRule._reason(status(required=2, breaking_observation=breaking,
                                           breaking_reasons=("level 3, below the required 4",)))
    assert reason.endswith(f"The observation on {format_date(date(2026, 3, 4))} did not pass (level 3, below the "
                           "required 4), so observations before it no longer count.")


def test_a_reset_is_named_by_its_date_while_passes_are_still_missing():
    reset = obs(8, critical_failure=True, observed_on=date(2026, 5, 6))
    short = CompetencyRule._reason(status(required=2, passing=1, assessors=1, reset_by=reset))
    assert short.endswith(f"A critical failure on {format_date(date(2026, 5, 6))} reset the count; only observations "
                          "after it count.")
    # Once the passes after it are enough, the reset is old news: only what is still missing is said.
    enough = CompetencyRule._reason(status(required=2, passing=2, assessors=1, min_assessors=2, reset_by=reset))
    assert enough == "The passing observations are by 1 assessor; 2 different assessors are needed."
