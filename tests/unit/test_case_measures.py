"""Outcome-measure scoring, ranges and change from baseline (pure functions, no database).

Scoring rules confirmed with sources (see lms/cases/measures.py): EAT-10 is the sum of ten 0-4 items (0-40) and 3 or
more is abnormal (Belafsky et al. 2008); OHIP-14 items run 0 (never) to 4 (very often) and the additive score is
their sum (0-56); JFLS-8 items run 0-10. No published worked example (a filled-in form with its score) was found for
any of them, so every example below is hand-computed: the expected totals were worked out by hand from the items.
"""

import pytest

from lms.cases.measures import (
    MEASURES,
    Change,
    MeasureError,
    interpret_eat10,
    score_items,
    validate_method,
    validate_value,
)

# measure, items, expected score (hand-computed)
SCORING = [
    ("eat10", [0] * 10, 0.0),
    ("eat10", [4] * 10, 40.0),
    ("eat10", [2, 2, 3, 3, 2, 1, 2, 3, 1, 2], 21.0),  # 2+2+3+3+2+1+2+3+1+2
    ("eat10", [1, 1, 1, 0, 0, 0, 0, 0, 0, 0], 3.0),
    ("ohip14", [0] * 14, 0.0),
    ("ohip14", [4] * 14, 56.0),
    ("ohip14", [2, 1, 3, 3, 2, 2, 2, 1, 2, 1, 1, 2, 1, 1], 24.0),
    ("jfls8", [5, 4, 6, 3, 4, 2, 5, 4], 4.12),  # 33 / 8 = 4.125, shown to 2 decimals
    ("jfls8", [10] * 8, 10.0),
    ("jfls8", [6, None, 4, 2, None, 8, 0, 4], 4.0),  # 24 / 6 answered items
]


@pytest.mark.parametrize("key, items, expected", SCORING)
def test_scoring_matches_the_hand_computed_examples(key, items, expected):
    assert score_items(MEASURES[key], items) == pytest.approx(expected, abs=0.01)


NORMAL, ABNORMAL = "within normal limits (below 3)", "abnormal (3 or more)"


@pytest.mark.parametrize("total, reading", [(0, NORMAL), (2, NORMAL), (3, ABNORMAL), (40, ABNORMAL)])
def test_eat10_cut_off_is_three(total, reading):
    assert interpret_eat10(total) == reading


# measure, items, words the refusal must contain
BAD_ITEMS = [
    ("eat10", [5] + [0] * 9, "item 1 is 5; each item is a whole number from 0 to 4"),
    ("eat10", [0] * 9, "has 10 items; 9 were given"),
    ("eat10", [0] * 9 + [None], "Answer all 10 items"),
    ("ohip14", [0] * 13 + [-1], "item 14 is -1"),
    ("ohip14", [0] * 13 + ["1.5"], "item 14 is 1.5"),
    ("jfls8", [11] + [0] * 7, "item 1 is 11; each item is a whole number from 0 to 10"),
    ("jfls8", [1, 1, 1, 1, 1, None, None, None], "Only 5 of the 8 JFLS-8 items were answered"),
    ("jfls8", ["x"] + [0] * 7, "item 1 must be a number"),
]


@pytest.mark.parametrize("key, items, words", BAD_ITEMS)
def test_bad_items_are_refused_with_a_reason(key, items, words):
    with pytest.raises(MeasureError, match=words.replace("(", r"\(").replace(")", r"\)")):
        score_items(MEASURES[key], items)


# measure, raw value, accepted value or None when refused
RANGES = [
    ("mio_mm", 120, None), ("mio_mm", -1, None), ("mio_mm", "abc", None), ("mio_mm", "nan", None),
    ("mio_mm", 0, 0), ("mio_mm", 90, 90), ("mio_mm", "38", 38),
    ("pain_nrs_opening", 11, None), ("pain_nrs_rest", -1, None), ("pain_nrs_clenching", 2.5, None),
    ("pain_nrs_opening", 10, 10), ("pain_nrs_rest", 0, 0),
    ("gtq", 101, None), ("gtq", 42.5, 42.5),
]


@pytest.mark.parametrize("key, raw, accepted", RANGES)
def test_single_values_are_checked_for_range_and_unit(key, raw, accepted):
    m = MEASURES[key]
    if accepted is None:
        with pytest.raises(MeasureError):
            validate_value(m, raw)
    else:
        assert validate_value(m, raw) == accepted


def test_out_of_range_messages_name_the_range_and_unit():
    with pytest.raises(MeasureError, match=r"120 mm is outside the possible range of 0 to 90 mm"):
        validate_value(MEASURES["mio_mm"], 120)
    with pytest.raises(MeasureError, match=r"11 points is outside the possible range of 0 to 10 points"):
        validate_value(MEASURES["pain_nrs_opening"], 11)


def test_mouth_opening_needs_its_method():
    m = MEASURES["mio_mm"]
    with pytest.raises(MeasureError, match="assisted must be one of unassisted, assisted"):
        validate_method(m, {"overlap": "overlap_included", "instrument": "ruler"})
    assert validate_method(m, {"assisted": "assisted", "overlap": "overlap_not_included", "instrument": "calipers",
                               "extra": "dropped"}) == {"assisted": "assisted", "overlap": "overlap_not_included",
                                                        "instrument": "calipers"}


# measure, baseline, follow-up, direction, within error, reaches MCID
CHANGES = [
    ("mio_mm", 30, 36, "improved", False, None),
    ("mio_mm", 40, 41, "no change", True, None),  # 1 mm: inside the ±2 mm measurement error
    ("mio_mm", 40, 38.5, "no change", True, None),
    ("mio_mm", 40, 37, "worse", False, None),
    ("pain_nrs_opening", 7, 5, "improved", False, True),  # a fall of 2 points reaches the MCID
    ("pain_nrs_opening", 7, 6, "improved", False, False),
    ("pain_nrs_rest", 2, 4, "worse", False, False),
    ("eat10", 21, 12, "improved", False, None),
]


@pytest.mark.parametrize("key, base, follow, direction, within, mcid", CHANGES)
def test_change_from_baseline(key, base, follow, direction, within, mcid):
    change = Change(MEASURES[key], base, follow)
    assert (change.direction, change.within_error, change.reaches_mcid) == (direction, within, mcid)
    if within:
        assert "smaller than the measurement error of ±2 mm" in change.summary()
