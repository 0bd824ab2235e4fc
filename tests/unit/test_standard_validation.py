"""The default standard file and its checker: shipped file valid, broken variants reported on the right line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from lms.standards.validation import (
    SCHEMA_PATH,
    InvalidStandard,
    StandardError,
    check_standard_file,
    load_standard,
    load_standard_text,
    main,
    standard_digest,
    summarize,
)

ROOT = Path(__file__).resolve().parents[2]
STANDARD_PATH = ROOT / "courses" / "omr" / "standard.yaml"
SHIPPED = STANDARD_PATH.read_text(encoding="utf-8")
MODULE_IDS = {f"M{n}" for n in range(1, 12)}


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line number of the n-th line containing ``needle``."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(hits) >= occurrence, f"{needle!r} not found {occurrence} time(s)"
    return hits[occurrence - 1]


def edited(old: str, new: str) -> str:
    """The shipped text with the first ``old`` replaced by ``new`` (``old`` must be there)."""
    assert old in SHIPPED, f"test fixture out of date: {old!r} is not in standard.yaml"
    return SHIPPED.replace(old, new, 1)


def check(text: str, **kwargs) -> tuple[dict | None, list[StandardError]]:
    return load_standard_text(text, "courses/omr/standard.yaml", **kwargs)


# ------------------------------------------------------------------------------------------------------------
# The shipped standard


@pytest.fixture(scope="module")
def standard() -> dict:
    data, errors = check_standard_file(STANDARD_PATH, module_ids=MODULE_IDS)
    assert errors == [], "\n".join(map(str, errors))
    assert data is not None
    return data


def test_schema_is_a_valid_draft_2020_12_schema():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_shipped_standard_identity(standard):
    assert standard["id"] == "omr-c"
    assert standard["version"] == "0.5.1"
    assert standard["program"] == "omr"
    # YAML dates come back as ISO strings, so the dict is plain JSON.
    assert standard["last_verified"] == "2026-11-30"
    assert isinstance(standard["effective_from"], str)
    assert "not legal advice" in standard["notice"].lower()
    source_ids = {s["id"] for s in standard["sources"]}
    assert {"wac-246-830-490", "oar-334-010-0029", "oac-4731-1", "ncbtmb", "iaom-credential"} <= source_ids


def test_shipped_requirements_and_scopes(standard):
    reqs = {r["id"]: r for r in standard["requirements"]}
    types = {r["type"] for r in standard["requirements"]}
    assert {"P1", "P1-license", "P2", "P3", "P4", "P5"} <= set(reqs)
    assert reqs["P1"]["type"] == "profession" and len(reqs["P1"]["params"]["professions"]) == 9
    assert reqs["P2"]["params"] == {"min_hours": 28}
    assert reqs["P3"] == {**reqs["P3"], "type": "screening_route", "scope": "intraoral"}
    assert reqs["MODULES"]["params"]["modules"] == [f"M{n}" for n in range(1, 12)]
    assert reqs["H-LAB"]["params"] == {"category": "lab_in_person", "min_hours": 16}
    assert reqs["H-CLIN"]["params"]["min_hours"] == 20
    assert reqs["H-SESSIONS"]["params"]["min_sessions"] == 30
    assert reqs["H-SESSIONS"]["params"]["min_cases"] == 10
    assert (reqs["H-EXTRA"]["scope"], reqs["H-EXTRA"]["params"]["min_hours"]) == ("extraoral", 8)
    assert (reqs["H-INTRA"]["scope"], reqs["H-INTRA"]["params"]["min_hours"]) == ("intraoral", 10)
    assert types == {
        "profession",
        "license_current",
        "omt_credential",
        "omt_recency",
        "cpr_current",
        "infection_control_ack",
        "modules_completed",
        "approved_hours",
        "clinical_sessions",
        "documented_cases",
        "competency",
        "screening_route",
        "jurisdiction_rule",
        "written_exam",
        "osce",
        "assessor_qualification",
    }
    assert (reqs["EXAM"]["scope"], reqs["OSCE"]["scope"]) == ("certificate", "certificate")
    assert reqs["CASES"]["params"] == {"min_cases": 3, "letters_per_case": 1}

    gates = {r["params"]["competency"]: r["scope"] for r in standard["requirements"] if r["type"] == "competency"}
    assert reqs["C2-ASSESSOR"]["params"]["verified_licence"] is True
    assert gates == {
        **{c: "certificate" for c in ("C1", "C3", "C4", "C7", "C8", "C9", "C10")},
        "C5": "extraoral",
        "C2": "intraoral",
        "C6": "intraoral",
    }

    rules = {r["params"]["rule"]: r for r in standard["requirements"] if r["type"] == "jurisdiction_rule"}
    assert set(rules) == {"wa-mt-intraoral-endorsement", "oh-mt-tmj-referral"}
    assert rules["wa-mt-intraoral-endorsement"]["scope"] == "intraoral"
    assert standard["jurisdiction_rules_enforced"] == ["wa-mt-intraoral-endorsement"]


def test_shipped_competencies(standard):
    comps = {c["id"]: c for c in standard["competencies"]}
    assert list(comps) == [f"C{n}" for n in range(1, 11)]
    for comp in comps.values():
        assert 3 <= len(comp["criteria"]) <= 6, comp["id"]
        assert comp["required_level"] == 4
    assert [cid for cid, c in comps.items() if c["critical_failure_resets"]] == ["C4"]
    assert (comps["C6"]["observations"], comps["C6"]["min_cases"], comps["C6"]["min_assessors"]) == (5, 3, 2)
    assert comps["C2"]["dental_assessor"] == "route_n"
    assert [cid for cid, c in comps.items() if c["simulation_allowed"]] == ["C10"]
    assert [comps[c]["observations"] for c in comps] == [3, 3, 2, 3, 3, 5, 3, 2, 2, 1]
    critical = {crit["id"] for c in comps.values() for crit in c["criteria"] if crit.get("critical")}
    # The three critical-fail items: glove/hygiene breach, proceeding despite a contraindication, no consent.
    assert {"c4-fresh-gloves", "c6-gloves", "c1-contraindication-stop", "c6-clearance", "c3-written-verbal"} <= critical


def test_shipped_endorsements_validity_renewal(standard):
    ends = {e["id"]: e for e in standard["endorsements"]}
    assert set(ends) == {"extraoral", "intraoral"}
    assert ends["intraoral"]["requires_endorsements"] == ["extraoral"]
    assert all(len(e["scope_statement"]) > 40 for e in ends.values())
    assert standard["validity"] == {"months": 24}
    assert standard["renewal"] == {
        "cycle_months": 24,
        "ce_hours": 24,
        "sub_minimums": {"orofacial": 8, "ethics": 2, "infection_control": 1},
        "practice_sessions_attested": 20,
        "grace_days": 90,
        "reobservation": {"competency": "C6", "every_cycles": 2, "min_level": 4},
        "lapse_reassessment": {"after_cycles": 1, "competencies": ["C4", "C6"]},
    }
    assert standard["screening"] == {"clearance_valid_days": 183}


def test_every_number_in_the_shipped_file_has_a_basis_comment():
    # The check is on by default; prove it is not vacuous by removing one comment.
    assert check(SHIPPED)[1] == []
    text = edited("grace_days: 90               # [A] reinstatement with the CE owed", "grace_days: 90")
    _, errors = check(text)
    assert [(e.line, "no basis comment" in e.message) for e in errors] == [(line_of(text, "grace_days: 90"), True)]
    assert check(text, require_basis=False)[1] == []


# ------------------------------------------------------------------------------------------------------------
# Broken variants: (old, new, line marker in the broken text, words the message must contain)

BROKEN = {
    "bad yaml indentation": (
        "    type: omt_credential\n",
        "   type: omt_credential\n",
        "type: omt_credential",
        ["YAML syntax error", "indentation"],
    ),
    "missing version": (
        'version: "0.5.1"\n',
        "",
        "id: omr-c",  # a missing key is reported where its mapping (here the whole file) begins
        ["missing required key 'version'"],
    ),
    "unknown rule type": (
        "type: omt_credential",
        "type: omt_credentail",
        "type: omt_credentail",
        ["unknown rule type 'omt_credentail'", "did you mean 'omt_credential'"],
    ),
    "competency requirement points to an undefined competency": (
        "params: {competency: C7}",
        "params: {competency: C77}",
        "competency: C77",
        ["requirements[C7]", "competency 'C77' is not defined"],
    ),
    "required_level 7": (
        "required_level: 4          # [A]\n    observations: 5",
        "required_level: 7          # [A]\n    observations: 5",
        "required_level: 7",
        ["competencies[C6].required_level", "7 is above the maximum of 5"],
    ),
    "duplicate requirement id": (
        "  - id: H-CLIN\n",
        "  - id: H-LAB\n",
        "- id: H-LAB",
        ["duplicate requirement id 'H-LAB'", f"first defined on line {line_of(SHIPPED, '- id: H-LAB')}"],
    ),
    "typo key": (
        "    min_assessors: 2",
        "    min_asessors: 2",
        "min_asessors",
        ["competencies[C6]", "unknown key 'min_asessors'", "did you mean 'min_assessors'"],
    ),
    "typo top-level key": (
        "last_verified: 2026-11-30",
        "last_verifed: 2026-11-30",
        "last_verifed",
        ["unknown key 'last_verifed'", "did you mean 'last_verified'"],
    ),
    "impossible date": (
        "effective_from: 2026-11-01",
        "effective_from: 2026-13-01",
        "effective_from",
        ["effective_from", "'2026-13-01' is not a valid date"],
    ),
    "version not a string": ('version: "0.5.1"', "version: 0.1", "version: 0.1", ["version", "expected a string"]),
    "invalid scope": ("scope: extraoral", "scope: extra", "scope: extra", ["'extra' is not one of"]),
    "competency param missing": (
        "params: {competency: C9}",
        "params: {competence: C9}",
        "competence: C9",
        ["requirements[C9].params", "unknown key 'competence'"],
    ),
    "parameters on a rule without parameters": (
        'title_fr: "RCR/SIR à jour (en personne)"\n    params: {}',
        'title_fr: "RCR/SIR à jour (en personne)"\n    params: {months: 24}  # [A]',
        "params: {months: 24}",
        ["requirements[P4].params", "takes no parameters"],
    ),
    "approved_hours with both category and categories": (
        "params: {category: clinical_intraoral, min_hours: 10}",
        "params: {category: clinical_intraoral, categories: [lab_in_person], min_hours: 10}",
        "categories: [lab_in_person]",
        ["requirements[H-INTRA].params", "exactly one of 'category' or 'categories'"],
    ),
    "unknown hour category": (
        "params: {category: lab_in_person, min_hours: 16}",
        "params: {category: lab, min_hours: 16}",
        "category: lab,",
        ["'lab' is not one of"],
    ),
    "duplicate criterion id": (
        "{id: c8-review,",
        "{id: c8-plan,",
        "{id: c8-plan,",
        ["duplicate criterion id 'c8-plan'"],
    ),
    "competency nobody requires": (
        '  - {id: C9, type: competency, scope: certificate, title: "C9 Documentation and interprofessional '
        'communication", title_fr: "C9 Documentation et communication interprofessionnelle", '
        'params: {competency: C9}}\n',
        "",
        "  - id: C9",
        ["competency 'C9' is defined but no `competency` requirement uses it"],
    ),
    "intraoral requires an undefined endorsement": (
        "requires_endorsements: [extraoral]",
        "requires_endorsements: [extra]",
        "requires_endorsements: [extra]",
        ["requires endorsement 'extra', which is not defined"],
    ),
    "extraoral endorsement missing": (
        "  - id: extraoral\n    title: Extraoral orofacial massage\n",
        "  - id: pediatric\n    title: Extraoral orofacial massage\n",
        "endorsements:",
        ["endorsements must define 'extraoral'"],
    ),
    "enforced rule without a requirement": (
        "jurisdiction_rules_enforced: [wa-mt-intraoral-endorsement]",
        "jurisdiction_rules_enforced: [wa-mt-intraoral-endorsement, or-mt-internal-cavity]",
        "jurisdiction_rules_enforced:",
        ["rule 'or-mt-internal-cavity' has no jurisdiction_rule requirement"],
    ),
    "C6 needs more assessors than observations": (
        "min_assessors: 2           # [A] at least 2 distinct assessors",
        "min_assessors: 6           # [A] at least 2 distinct assessors",
        "min_assessors: 6",
        ["competencies[C6]: min_assessors (6) cannot exceed observations (5)"],
    ),
    "duplicate yaml key": (
        "    min_cases: 3               # [A] at least 3 patients\n",
        "    min_cases: 3               # [A] at least 3 patients\n    min_cases: 4  # [A]\n",
        "min_cases: 4",
        ["duplicate key 'min_cases'"],
    ),
    "number without basis comment": (
        "clearance_valid_days: 183    # [A] P3a: a Route N dental clearance is good for about 6 months",
        "clearance_valid_days: 183",
        "clearance_valid_days",
        ["the number 183 has no basis comment"],
    ),
    "tab in indentation": ("  - id: P4\n", "\t- id: P4\n", "- id: P4", ["YAML syntax error", "'\\t'"]),
}


@pytest.mark.parametrize("case", list(BROKEN), ids=list(BROKEN))
def test_broken_variant_is_reported_on_its_line(case):
    old, new, marker, words = BROKEN[case]
    text = edited(old, new)
    # For duplicates the error belongs on the second occurrence, after the original.
    expected_line = line_of(text, marker, occurrence=2 if case.startswith("duplicate") and "yaml" not in case else 1)

    data, errors = check(text)

    assert data is None
    assert errors, "expected at least one error"
    matching = [e for e in errors if all(w in e.message for w in words)]
    assert matching, f"no error mentions {words}:\n" + "\n".join(map(str, errors))
    assert matching[0].line == expected_line, "\n".join(map(str, errors))
    assert str(matching[0]).startswith(f"courses/omr/standard.yaml:{expected_line}: ")
    assert [e.line for e in errors] == sorted(e.line for e in errors)


def test_missing_key_in_a_nested_item_points_at_the_item():
    text = edited("    type: cpr_current\n", "")
    _, errors = check(text)
    assert [(e.line, e.message) for e in errors] == [
        (line_of(text, "- id: P4"), "requirements[P4]: missing required key 'type'")
    ]


def test_unknown_module_with_program_module_ids():
    _, errors = check(SHIPPED, module_ids=MODULE_IDS - {"M11"})
    assert [(e.line, e.message) for e in errors] == [
        (
            line_of(SHIPPED, "params: {modules: [M1,"),
            "requirements[MODULES]: module 'M11' is not a module of the program; did you mean 'M1'? "
            "(modules: M1, M2, M3, M4, M5, M6, M7, M8, M9, M10)",
        ),
        (
            line_of(SHIPPED, "{id: practice, title:"),
            "exam.domains[practice]: module 'M11' is not a module of the program; did you mean 'M1'?",
        ),
    ]
    assert check(SHIPPED)[1] == []  # without module ids there is nothing to compare with


def test_enforced_rule_marked_not_required_is_a_contradiction():
    old = "    params: {rule: wa-mt-intraoral-endorsement}\n"
    text = edited(old, old + "    required: false\n")
    _, errors = check(text)
    assert [e.line for e in errors] == [line_of(text, "required: false")]
    assert "listed in jurisdiction_rules_enforced" in errors[0].message


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("", 1, "the file is empty"),
        ("- just\n- a list\n", 1, "expected a mapping, got a list"),
        ("id: x\ntitle: [unclosed\nversion: '1.0.0'\n", 3, "YAML syntax error"),
        ("---\nid: a\n---\nid: b\n", 3, "expected a single document"),
    ],
)
def test_small_inline_yaml(text, line, words):
    data, errors = check(text)
    assert data is None
    assert any(e.line == line and words in e.message for e in errors), "\n".join(map(str, errors))


# ------------------------------------------------------------------------------------------------------------
# File helpers, summary, digest, command line


def test_standard_error_str():
    assert str(StandardError("a/standard.yaml", 12, "boom")) == "a/standard.yaml:12: boom"


def test_check_standard_file_reports_the_file_path(tmp_path):
    broken = tmp_path / "standard.yaml"
    broken.write_text(edited("type: omt_credential", "type: nope"), encoding="utf-8")
    data, errors = check_standard_file(broken)
    assert data is None
    assert str(errors[0]) == (
        f"{broken}:{line_of(SHIPPED, 'type: omt_credential')}: requirements[P2].type: unknown rule type 'nope' "
        "(registered: profession, license_current, omt_credential, omt_recency, cpr_current, infection_control_ack, "
        "modules_completed, approved_hours, clinical_sessions, documented_cases, competency, screening_route, "
        "jurisdiction_rule, written_exam, osce, assessor_qualification)"
    )
    missing = tmp_path / "absent.yaml"
    _, errors = check_standard_file(missing)
    assert errors[0].path == str(missing) and "cannot read the file" in errors[0].message


def test_load_standard_raises_with_all_errors(tmp_path):
    assert load_standard(STANDARD_PATH, MODULE_IDS)["id"] == "omr-c"
    broken = tmp_path / "standard.yaml"
    broken.write_text(edited("required_level: 4", "required_level: 9"), encoding="utf-8")
    with pytest.raises(InvalidStandard) as info:
        load_standard(broken)
    assert len(info.value.errors) == 1
    assert "9 is above the maximum of 5" in str(info.value)


def test_summarize(standard):
    text = summarize(standard)
    assert "omr-c 0.5.1" in text
    assert "requirements: 29 (certificate 21, extraoral 2, intraoral 6)" in text
    assert "written exam: 30 items in 5 domains, 45 minutes, pass mark 80%, at most 3 sittings" in text
    assert "OSCE: 3 stations (screening, extraoral, adverse_event), 3 to pass" in text
    assert "competencies: 10" in text
    assert "intraoral (requires extraoral)" in text
    assert "validity: 24 months" in text
    assert len(text.splitlines()) <= 10


def test_digest_tracks_content_not_layout(standard):
    digest = standard_digest(standard)
    assert len(digest) == 64 and digest == standard_digest(json.loads(json.dumps(standard)))

    # Comments and quoting of dates do not change the content.
    same = edited("# Any change to this file", "# Note: any change to this file")
    same = same.replace("effective_from: 2026-11-01", 'effective_from: "2026-11-01"', 1)
    assert standard_digest(check(same)[0]) == digest

    changed = edited("grace_days: 90 ", "grace_days: 60 ")
    assert standard_digest(check(changed)[0]) != digest


def test_command_line(tmp_path, capsys):
    assert main([str(STANDARD_PATH)]) == 0
    out = capsys.readouterr().out
    assert "OK" in out and "omr-c 0.5.1" in out

    broken = tmp_path / "standard.yaml"
    broken.write_text(edited('version: "0.5.1"\n', ""), encoding="utf-8")
    assert main([str(broken)]) == 1
    assert (
        f"{broken}:{line_of(SHIPPED, 'id: omr-c')}: top level: missing required key 'version'"
        in capsys.readouterr().out
    )


@pytest.mark.parametrize(("old", "new", "needle", "message"), [
    ("total_items: 30", "total_items: 31", "total_items: 31",
     "exam.total_items is 31 but the domains add up to 30 items"),
    ("stations_to_pass: 3", "stations_to_pass: 4", "stations_to_pass: 4",
     "osce.stations_to_pass (4) is more than the 3 stations; it could never be met"),
    ("competencies: [C10]", "competencies: [C99]", "competencies: [C99]",
     "osce.stations[adverse_event]: competency 'C99' is not defined under competencies"),
    ("pass_rule: {min_checklist_percent: 75, min_global_rating: 3}", "pass_rule: {min_checklist_percent: 75, "
     "min_global_rating: 7}", "min_global_rating: 7",
     "osce.stations[screening]: min_global_rating 7 is not a value of the global rating scale (1, 2, 3, 4, 5)"),
    ("time_limit_minutes: 45", "time_limit_minutes: 0", "time_limit_minutes: 0",
     "exam.time_limit_minutes: 0 is below the minimum of 1"),
    ("reobservation: {competency: C6,", "reobservation: {competency: C66,", "reobservation: {competency: C66,",
     "renewal.reobservation: competency 'C66' is not defined under competencies"),
])
def test_exam_and_osce_sections_are_checked(old, new, needle, message):
    text = edited(old, new)
    _, errors = check(text, module_ids=MODULE_IDS)
    assert (line_of(text, needle), message) in [(e.line, e.message) for e in errors], errors


def test_a_written_exam_requirement_needs_an_exam_section():
    start, end = SHIPPED.index("\nexam:\n"), SHIPPED.index("\n# The OSCE")
    _, errors = check(SHIPPED[:start] + "\n" + SHIPPED[end:])
    assert [(e.line, e.message) for e in errors] == [
        (line_of(SHIPPED, "type: written_exam"),
         "requirements[EXAM]: a written_exam requirement needs an `exam` section in the standard")]


def test_french_titles_are_all_or_none(standard):
    """Every requirement, competency and OSCE station of the shipped standard has a French title; a list with some
    needs them all, and a list with none is fine."""
    for key in ("requirements", "competencies"):
        assert all(item.get("title_fr") for item in standard[key]), key
    assert all(s.get("title_fr") for s in standard["osce"]["stations"])
    text = edited('    title_fr: "Cours de base en TMO"\n', "")
    _, errors = check(text, module_ids=MODULE_IDS)
    assert [(e.line, e.message) for e in errors] == [(
        line_of(text, "- id: P2", 1),
        "requirements[P2]: title_fr is missing; once one entry has a French title (here P1, P1-license, P2b), every "
        "entry of requirements needs one")]
    stripped = "\n".join(line for line in SHIPPED.splitlines() if not line.strip().startswith("title_fr:"))
    stripped = re.sub(r', title_fr: "[^"]*"', "", stripped)
    assert "title_fr" not in stripped
    data, errors = check(stripped, module_ids=MODULE_IDS)
    assert errors == [] and data is not None
    _, errors = check(edited('title_fr: "Examen écrit"', 'title_fr: ""'), module_ids=MODULE_IDS)
    assert errors and "title_fr" in errors[0].message
