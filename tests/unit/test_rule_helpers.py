"""Table-driven tests for the helpers every requirement rule leans on: which hours count, which jurisdiction rules
apply to whom, the context built once per evaluation, the rule registry, and the numbers and words they show."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from lms.eligibility.facts import (
    CLINICAL_EXTRAORAL,
    CLINICAL_INTRAORAL,
    HOUR_NEEDS_INFO,
    HOUR_REJECTED,
    HOUR_SUBMITTED,
    LAB_IN_PERSON,
    LicenceFact,
)
from lms.eligibility.rules import (
    RULES,
    Context,
    Rule,
    capitalise,
    category_label,
    counted_hours,
    early_minutes_by_category,
    fmt_hours,
    fmt_number,
    join_words,
    jurisdiction_label,
    jurisdiction_notice,
    licence_unverified,
    not_regulated_rule,
    plural,
    profession_label,
    register,
    rule_applies,
    rule_professions,
    short_cite,
    with_article,
)

from .standard_fixture import TODAY, hour, make_facts, make_standard

START = TODAY - timedelta(days=100)


def _hours():
    return (
        hour(5, CLINICAL_INTRAORAL, 30, entry_date=START + timedelta(days=3)),
        hour(2, CLINICAL_INTRAORAL, 40, entry_date=START),  # the first day that counts
        hour(9, LAB_IN_PERSON, 50, entry_date=START + timedelta(days=3)),
        hour(3, CLINICAL_EXTRAORAL, 70, entry_date=START - timedelta(days=1)),  # the day before: early
        hour(4, CLINICAL_EXTRAORAL, 15, entry_date=START - timedelta(days=20)),
        hour(6, LAB_IN_PERSON, 25, entry_date=START - timedelta(days=2)),
        hour(7, CLINICAL_INTRAORAL, 500, HOUR_SUBMITTED, entry_date=START + timedelta(days=1)),
        hour(8, CLINICAL_INTRAORAL, 500, HOUR_NEEDS_INFO, entry_date=START + timedelta(days=1)),
        hour(10, CLINICAL_INTRAORAL, 500, HOUR_REJECTED, entry_date=START + timedelta(days=1)),
        hour(11, CLINICAL_INTRAORAL, 500, superseded=True, entry_date=START + timedelta(days=1)),
        hour(12, CLINICAL_EXTRAORAL, 500, superseded=True, entry_date=START - timedelta(days=1)),
    )


def test_counted_hours_are_approved_current_and_dated_from_the_start_in_date_then_id_order():
    facts = make_facts(hours=_hours(), hours_count_from=START)
    assert [h.id for h in counted_hours(facts)] == [2, 5, 9]
    assert [h.id for h in counted_hours(make_facts(hours=_hours()))] == [4, 6, 3, 2, 5, 9]


def test_early_minutes_are_approved_current_minutes_dated_before_the_start():
    assert early_minutes_by_category(make_facts(hours=_hours(), hours_count_from=START)) == {
        CLINICAL_EXTRAORAL: 85, LAB_IN_PERSON: 25}
    assert early_minutes_by_category(make_facts(hours=_hours())) == {}


def test_the_context_counts_minutes_once_and_indexes_the_standard():
    standard = make_standard(jurisdiction_rules_enforced=["wa-1", 7])
    rules = [{"id": "wa-1", "jurisdiction": "US-WA"}, {"id": 7}]
    ctx = Context.build(standard, make_facts(hours=_hours(), hours_count_from=START), rules, ["ack"])
    assert [h.id for h in ctx.counted_hours] == [2, 5, 9]
    assert ctx.minutes_by_category == {CLINICAL_INTRAORAL: 70, LAB_IN_PERSON: 50}
    assert ctx.early_minutes == {CLINICAL_EXTRAORAL: 85, LAB_IN_PERSON: 25}
    assert set(ctx.competencies) == {str(c["id"]) for c in standard["competencies"]}
    assert all(ctx.competencies[str(c["id"])] is c for c in standard["competencies"])
    assert ctx.jurisdiction_rules == {"wa-1": rules[0], "7": rules[1]}
    assert ctx.enforced_rules == frozenset({"wa-1", "7"})
    assert ctx.attestations == frozenset({"ack"})
    assert ctx.today == TODAY
    bare = Context.build({}, make_facts())
    assert (bare.competencies, bare.jurisdiction_rules, bare.enforced_rules, bare.attestations) == (
        {}, {}, frozenset(), frozenset())


@pytest.mark.parametrize(("value", "shown"), [
    (20, "20"), (7.5, "7.5"), (7.456, "7.46"), (12.50, "12.5"), (0, "0"), (100, "100"), (0.1 + 0.2, "0.3"),
    (2.005, "2"), (1.999, "2"),
])
def test_fmt_number(value, shown):
    assert fmt_number(value) == shown


@pytest.mark.parametrize(("minutes", "shown"), [(750, "12.5"), (60, "1"), (90, "1.5"), (20, "0.33"), (0, "0")])
def test_fmt_hours(minutes, shown):
    assert fmt_hours(minutes) == shown


@pytest.mark.parametrize(("n", "args", "word"), [
    (1, ("hour",), "hour"), (2, ("hour",), "hours"), (0, ("hour",), "hours"), (1.5, ("hour",), "hours"),
    (1, ("person", "people"), "person"), (2, ("person", "people"), "people"), (1.0, ("case",), "case"),
])
def test_plural(n, args, word):
    assert plural(n, *args) == word


@pytest.mark.parametrize(("words", "joined"), [
    ([], ""), (["a"], "a"), (["a", "b"], "a and b"), (["a", "b", "c"], "a, b and c"), (("x", "y"), "x and y"),
])
def test_join_words(words, joined):
    assert join_words(words) == joined


@pytest.mark.parametrize(("text", "shown"), [
    ("", ""), ("omt course", "Omt course"), ("in-person lab", "In-person lab"), ("OMT", "OMT"), ("a", "A"),
])
def test_capitalise(text, shown):
    assert capitalise(text) == shown


@pytest.mark.parametrize(("key", "label"), [
    ("massage_therapist", "massage therapist"), ("dentist", "dentist"), ("new_kind_of_role", "new kind of role"),
    (None, "unknown profession"),
])
def test_profession_label(key, label):
    assert profession_label(key) == label


@pytest.mark.parametrize(("noun", "shown"), [
    ("dentist", "a dentist"), ("occupational therapist", "an occupational therapist"), ("Ohio rule", "an Ohio rule"),
    ("unit", "an unit"),
])
def test_with_article(noun, shown):
    assert with_article(noun) == shown


@pytest.mark.parametrize(("code", "label"), [
    ("US-WA", "Washington"), ("CA-BC", "British Columbia"), ("XX-YY", "XX-YY"), (None, "no jurisdiction"),
    ("", "no jurisdiction"),
])
def test_jurisdiction_label(code, label):
    assert jurisdiction_label(code) == label


@pytest.mark.parametrize(("category", "label"), [
    (LAB_IN_PERSON, "in-person lab"), (CLINICAL_INTRAORAL, "clinical intraoral"), ("home_practice", "home practice"),
])
def test_category_label(category, label):
    assert category_label(category) == label


@pytest.mark.parametrize(("value", "professions"), [
    (None, []), ("dentist", ["dentist"]), (["dentist", "dental_hygienist"], ["dentist", "dental_hygienist"]),
    ((1, 2), ["1", "2"]),
])
def test_rule_professions(value, professions):
    rule = {} if value is None else {"profession": value}
    assert rule_professions(rule) == professions


WA_MT = {"jurisdiction": "US-WA", "profession": "massage_therapist"}


@pytest.mark.parametrize(("rule", "facts", "applies"), [
    (WA_MT, {}, True),
    ({**WA_MT, "status": "active"}, {}, True),
    ({**WA_MT, "status": "Retired"}, {}, False),
    ({**WA_MT, "status": "withdrawn"}, {}, False),
    ({**WA_MT, "status": "superseded"}, {}, False),
    ({**WA_MT, "status": "INACTIVE"}, {}, False),
    ({**WA_MT, "status": None}, {}, True),
    (WA_MT, {"jurisdiction": "US-OR"}, False),
    (WA_MT, {"jurisdiction": None}, False),
    ({"jurisdiction": None, "profession": "*"}, {"jurisdiction": None}, False),
    ({"jurisdiction": "", "profession": "*"}, {"jurisdiction": ""}, False),
    (WA_MT, {"profession": "dentist"}, False),
    ({"jurisdiction": "US-WA", "profession": ["dentist", "massage_therapist"]}, {}, True),
    ({"jurisdiction": "US-WA", "profession": "*"}, {"profession": "dentist"}, True),
    ({"jurisdiction": "US-WA", "profession": "any"}, {"profession": "dentist"}, True),
    ({"jurisdiction": "US-WA"}, {}, False),
    ({"jurisdiction": "US-WA", "profession": "dentist"}, {"profession": None}, False),
])
def test_rule_applies(rule, facts, applies):
    assert rule_applies(rule, make_facts(**facts)) is applies


@pytest.mark.parametrize(("rule", "cite"), [
    ({"source_cite": "WAC 246-830-490; RCW 18.108.250", "id": "wa"}, "WAC 246-830-490"),
    ({"source_cite": "  ORS 687.011  ", "id": "or"}, "ORS 687.011"),
    ({"source_cite": "", "id": "oh-1"}, "oh-1"),
    ({"id": "oh-1"}, "oh-1"),
    ({}, "no citation"),
])
def test_short_cite(rule, cite):
    assert short_cite(rule) == cite


def test_the_jurisdiction_notice_names_place_profession_rule_citation_and_check_date():
    from lms.core.formatting import format_date

    rule = {"jurisdiction": "US-WA", "profession": ["dentist", "massage_therapist"], "summary": " Scope covers it. ",
            "source_cite": "WAC 1; RCW 2", "verified_on": date(2026, 11, 26), "status": "confirmed"}
    assert jurisdiction_notice(rule, make_facts()) == (
        f"Washington, massage therapist: Scope covers it (WAC 1, last verified {format_date(date(2026, 11, 26))}; "
        "not legal advice)")
    other = make_facts(profession="physiotherapist")
    named = {**rule, "jurisdiction_name": "State of Washington", "verified_on": None, "status": "S/V"}
    assert jurisdiction_notice(named, other) == (
        "State of Washington, dentist: Scope covers it (WAC 1, last verified date unknown; wording not yet confirmed "
        "at the source; not legal advice)")
    bare = {"jurisdiction": "US-OR"}
    assert jurisdiction_notice(bare, make_facts()) == (
        "Oregon, unknown profession:  (no citation, last verified date unknown; not legal advice)")


def _licence(**kw):
    values = {"status": "pending", "profession": "massage_therapist", "jurisdiction": "US-WA", "number": "MA-1",
              "expires_on": TODAY + timedelta(days=100)}
    values.update(kw)
    return LicenceFact(**values)


def test_licence_unverified_is_silent_without_a_record_or_once_verified():
    assert licence_unverified(make_facts()) is None
    assert licence_unverified(make_facts(licence=_licence(status="verified"))) is None


def test_a_rejected_licence_says_why_and_how_to_put_it_right():
    progress, reason, step = licence_unverified(make_facts(licence=_licence(status="rejected",
                                                                            decision_reason="Number not found")))
    assert progress == "License: not accepted"
    assert "massage therapist, Washington, number MA-1" in reason and reason.endswith(": Number not found.")
    assert step.startswith("Correct your license details")
    _, reason, _ = licence_unverified(make_facts(licence=_licence(status="rejected")))
    assert reason.endswith("were not accepted at verification.")


def test_a_pending_or_changed_licence_waits_for_verification():
    progress, reason, step = licence_unverified(make_facts(licence=_licence()))
    assert progress == "License: waiting for verification" and "needs verification" in reason
    assert step.startswith("Wait for an admin to verify your license")
    changed = _licence(changed_after_verification=True, submitted_on=date(2026, 3, 2))
    progress, reason, _ = licence_unverified(make_facts(licence=changed))
    assert progress == "License: waiting for verification"
    assert reason.startswith("Your license details changed on ") and "needs verification again" in reason
    _, reason, _ = licence_unverified(make_facts(licence=_licence(changed_after_verification=True)))
    assert reason.startswith("Your license details changed (massage therapist")


def test_not_regulated_rule_finds_the_rule_that_applies_and_says_so():
    regulated = {"id": "a", **WA_MT, "profession_regulated": True}
    unknown = {"id": "b", **WA_MT}
    elsewhere = {"id": "c", "jurisdiction": "US-OR", "profession": "massage_therapist", "profession_regulated": False}
    not_regulated = {"id": "d", **WA_MT, "profession_regulated": False}
    facts = make_facts()
    ctx = Context.build(make_standard(), facts, [regulated, unknown, elsewhere])
    assert not_regulated_rule(ctx, facts) is None
    ctx = Context.build(make_standard(), facts, [regulated, unknown, elsewhere, not_regulated])
    assert not_regulated_rule(ctx, facts) is not_regulated


def test_the_registry_refuses_a_rule_without_a_type_or_a_type_taken_by_another_rule():
    class NoType(Rule):
        pass

    with pytest.raises(ValueError, match="NoType has no rule type"):
        register(NoType)

    existing = RULES["profession"]

    class Clash(Rule):
        type = "profession"

    with pytest.raises(ValueError, match="'profession' is already registered by ProfessionRule"):
        register(Clash)
    assert RULES["profession"] is existing
    assert register(existing) is existing

    class Fresh(Rule):
        type = "test_only_fresh_rule"

    try:
        assert register(Fresh) is Fresh and RULES["test_only_fresh_rule"] is Fresh
    finally:
        RULES.pop("test_only_fresh_rule", None)


def test_a_result_carries_id_title_scope_and_only_an_unmet_one_says_why():
    class Probe(Rule):
        type = "probe"

    ctx = Context.build(make_standard(), make_facts())
    rule = Probe()
    met = rule.met({"id": 7, "title": "Seven", "scope": "E1"}, ctx, "done")
    assert (met.id, met.title, met.scope, met.met, met.progress, met.reason, met.next_step) == (
        "7", "Seven", "E1", True, "done", "", "")
    unmet = rule.unmet({"id": "P1"}, ctx, "half", "Not yet.", "Do more.")
    assert (unmet.id, unmet.title, unmet.scope, unmet.met, unmet.reason, unmet.next_step) == (
        "P1", "P1", "certificate", False, "Not yet.", "Do more")
    assert Rule.params({"id": "x"}) == {} and Rule.params({"params": {"a": 1}}) == {"a": 1}
    with pytest.raises(NotImplementedError):
        rule.evaluate({"id": "x"}, ctx)


def test_result_drops_the_reason_and_next_step_of_a_met_outcome_and_defaults_them_to_empty():
    """``result`` is what every rule type's outcome goes through (new rule types may call it directly): a met
    outcome never carries why or what next, even when given them, and an unmet one given none has none."""

    class Probe(Rule):
        type = "probe"

    ctx = Context.build(make_standard(), make_facts())
    req = {"id": "R1"}
    met = Probe().result(req, ctx, True, "done", "Left over.", "Nothing to do.")
    assert (met.met, met.reason, met.next_step) == (True, "", "")
    bare = Probe().result(req, ctx, False, "half")
    assert (bare.met, bare.progress, bare.reason, bare.next_step) == (False, "half", "", "")
