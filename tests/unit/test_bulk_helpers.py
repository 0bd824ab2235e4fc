"""The helpers a cohort evaluation uses: fast fact construction, the paused collector, one language for its dates."""

from __future__ import annotations

import gc
from dataclasses import dataclass
from datetime import date

import pytest

from lms.core.bulk import gc_paused
from lms.core.formatting import fixed_language, format_date
from lms.eligibility.facts import CriterionFact, HourFact, ObservationFact, builder
from lms.eligibility.rules import RequirementResult


@pytest.mark.parametrize(("cls", "values"), [
    (HourFact, (7, "lab_in_person", 45, "approved", date(2026, 3, 1), True, "C01", 12)),
    (ObservationFact, (3, "C6", 4, False, (CriterionFact("c1", True),), 9, True, date(2026, 3, 2), 3, False, "K1",
                       False, "dentist", True)),
    (RequirementResult, ("P1", "Profession", "certificate", False, "half", "Not yet.", "Do more")),
])
def test_a_built_fact_is_the_object_its_class_makes(cls, values):
    made, built = cls(*values), builder(cls)(*values)
    assert type(built) is cls
    assert built == made and hash(built) == hash(made) and repr(built) == repr(made)
    with pytest.raises(AttributeError):
        built.id = 1  # still frozen
    assert builder(cls) is builder(cls)


def test_a_class_that_checks_its_values_is_not_built_around_its_init():
    @dataclass(frozen=True)
    class Checked:
        n: int

        def __post_init__(self):
            assert self.n > 0

    with pytest.raises(TypeError, match="Checked cannot be built"):
        builder(Checked)


def test_the_collector_is_paused_inside_and_left_as_it_was_found():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner block leaves it paused for the outer one
    assert gc.isenabled() and gc.get_freeze_count() == 0
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # paused by someone else: stays paused
    finally:
        gc.enable()


def test_fixed_language_keeps_the_language_of_the_moment(app):
    day = date(2026, 11, 29)
    with app.test_request_context("/?lang=fr"):
        french, french_long = format_date(day), format_date(day, "long")
        with fixed_language():
            assert (format_date(day), format_date(day, "long"), format_date(day)) == (french, french_long, french)
    assert french != "29 Nov 2026" and french_long != french
    with app.test_request_context("/?lang=en"), fixed_language():
        assert (format_date(day), format_date(day, "long")) == ("29 Nov 2026", "29 November 2026")
    with fixed_language():
        assert format_date(day) == "29 Nov 2026" and format_date(None) == "" and format_date("soon") == "soon"
