import copy
import csv
import io
import os
from datetime import date

import pytest
import yaml

from lms.eligibility.facts import DENTAL_PROFESSIONS
from lms.jurisdictions.data import (
    CSV_COLUMNS,
    DEFAULT_PATH,
    JURISDICTIONS,
    RulesError,
    load_rules,
    to_csv,
    validate_rules,
)
from lms.providers.professions import PROFESSIONS, label, profession_choices

SHIPPED_CODES = {"US-WA", "US-OR", "US-NC", "US-OH", "CA-BC", "CA-ON", "CA-MB", "CA-NB", "CA-AB"}


@pytest.fixture
def raw():
    return yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


@pytest.fixture
def rules():
    return load_rules()


# --------------------------------------------------------------------------- the shipped file


def test_shipped_file_validates(raw):
    assert validate_rules(raw) == []
    assert str(raw["last_verified"]) == "2026-11-30"
    assert "not legal advice" in raw["notice"].lower()
    assert {"S", "V", "S/V", "SEC"} <= set(raw["legend"])


# Rows re-checked on 2026-11-30; every other row keeps the date it was last checked.
RECHECKED = {"wa-mt-intraoral-endorsement", "wa-mt-intraoral-standard-of-practice", "or-mt-internal-cavities",
             "nc-mt-body-cavities", "nc-mt-health-history-consent", "oh-mt-tmj-referral", "bc-dh-omt-adpie"}


def test_every_row_has_verified_on_and_a_source(rules):
    assert rules.rules
    for rule in rules.rules:
        expected = date(2026, 11, 30) if rule["id"] in RECHECKED else date(2026, 11, 26)
        assert date.fromisoformat(rule["verified_on"]) == expected, rule["id"]
        assert rule["source_cite"].strip(), rule["id"]
        assert rule["source_url"] is None or rule["source_url"].startswith(("https://", "http://"))
        assert rule["status"] in {"S", "V", "S/V", "SEC"}


def test_rows_name_their_primary_source_not_the_seed(raw):
    text = DEFAULT_PATH.read_text(encoding="utf-8").lower()
    assert "seed" not in text
    for rule in raw["rules"]:
        assert "as cited in" not in rule["source_cite"].lower(), rule["id"]
        # A citation names a statute, a regulation or a regulator's own document, not a web page.
        assert not rule["source_cite"].lower().startswith(("http", "www")), rule["id"]


def test_secondary_only_rows_say_so(rules):
    oregon = rules.get("or-mt-internal-cavities")
    assert oregon["status"] == "SEC" and "massageschoolnotes" in oregon["source_url"]
    assert rules.get("oh-mt-intraoral-permitted")["status"] == "SEC"
    assert rules.get("nc-mt-health-history-consent")["status"] == "SEC"
    # Rows read in the official text today are S and point at the official site.
    for rid in ("wa-mt-intraoral-endorsement", "wa-mt-intraoral-standard-of-practice"):
        row = rules.get(rid)
        assert row["status"] == "S" and row["source_url"].startswith("https://app.leg.wa.gov/"), rid
    assert "246-830-550(1)(h)" in rules.get("wa-mt-intraoral-standard-of-practice")["source_cite"]


def test_a_status_missing_from_the_legend_is_refused(raw):
    data = copy.deepcopy(raw)
    del data["legend"]["SEC"]
    errors = validate_rules(data)
    assert any("status 'SEC' is not explained in the legend" in e for e in errors)
    data["rules"] = [r for r in data["rules"] if r["status"] != "SEC"]
    assert validate_rules(data) == []


def test_every_jurisdiction_in_domain_table_is_covered(rules):
    assert {r["jurisdiction"] for r in rules.rules} == SHIPPED_CODES
    # Rows that cover two professions in the reference table are split into one row per profession.
    for code in ("CA-MB", "CA-NB", "CA-AB", "CA-BC"):
        assert {r["profession"] for r in rules.search(jurisdiction=code)} == {"massage_therapist", "dental_hygienist"}


def test_known_rules(rules):
    wa = rules.get("wa-mt-intraoral-endorsement")
    assert wa["requires"]["endorsement"] is True
    assert wa["requires"]["min_hours"] == 16
    assert wa["requires"]["supervised_in_person"] is True
    assert wa["requires"]["gloves"] is True
    assert wa["instructor_quals"]
    oh = rules.get("oh-mt-tmj-referral")
    assert oh["activity"] == "tmj"
    assert oh["requires"]["referral_written"] is True
    assert oh["status"] == "V"
    oregon = rules.get("or-mt-internal-cavities")
    assert oregon["requires"]["consent_written"] and oregon["requires"]["witness_option"]
    assert oregon["requires"]["min_hours"] is None
    # The seed's Manitoba 28-hour figure could not be verified and must stay marked so.
    mb = rules.get("mb-dh-omt-training")
    assert mb["status"] == "V" and mb["requires"]["min_hours"] == 28
    assert rules.get("no-such-rule") is None


def test_dates_are_iso_strings_after_loading(rules):
    assert rules.last_verified == "2026-11-30"
    for rule in rules.rules:
        assert isinstance(rule["verified_on"], str)
        assert rule["source_last_updated"] is None or date.fromisoformat(rule["source_last_updated"])


# --------------------------------------------------------------------------- search


def test_search_by_text_is_case_insensitive(rules):
    ids = {r["id"] for r in rules.search("ENDORSEMENT")}
    assert "wa-mt-intraoral-endorsement" in ids
    assert all(
        "endorsement" in r["summary"].lower() or "endorsement" in r["source_cite"].lower()
        for r in rules.search("endorsement")
    )


def test_search_matches_labels_citations_and_activity(rules):
    assert {r["jurisdiction"] for r in rules.search("ohio")} == {"US-OH"}
    assert [r["id"] for r in rules.search("334-010-0029")] == ["or-mt-internal-cavities"]
    assert {r["profession"] for r in rules.search("dental hygienist")} == {"dental_hygienist"}
    assert {r["activity"] for r in rules.search("tmj")} >= {"tmj"}
    assert rules.search("no such words anywhere") == []


def test_search_filters_by_jurisdiction_and_profession(rules):
    wa = rules.search(jurisdiction="US-WA")
    assert wa and all(r["jurisdiction"] == "US-WA" for r in wa)
    assert rules.search(jurisdiction="us-wa") == wa
    dh = rules.search(profession="dental_hygienist")
    assert dh and all(r["profession"] == "dental_hygienist" for r in dh)
    both = rules.search("omt", jurisdiction="CA-BC", profession="dental_hygienist")
    assert [r["id"] for r in both] == ["bc-dh-omt-adpie"]
    assert rules.search(jurisdiction="US-WA", profession="dentist") == []
    assert len(rules.search()) == len(rules.rules)


def test_for_trainee(rules):
    wa = {r["id"] for r in rules.for_trainee("massage_therapist", "US-WA")}
    assert "wa-mt-intraoral-endorsement" in wa
    oh = {r["id"] for r in rules.for_trainee("massage_therapist", "US-OH")}
    assert "oh-mt-tmj-referral" in oh
    assert all(r["profession"] == "dental_hygienist" for r in rules.for_trainee("dental_hygienist", "CA-MB"))
    assert rules.for_trainee("massage_therapist", "OTHER") == []
    assert rules.for_trainee(None, "US-WA") == []
    assert rules.for_trainee("physician", "US-WA") == []


def test_load_rules_returns_independent_copies():
    first = load_rules()
    first.get("wa-mt-intraoral-endorsement")["requires"]["min_hours"] = 0
    assert load_rules().get("wa-mt-intraoral-endorsement")["requires"]["min_hours"] == 16


def test_load_rules_picks_up_edits(tmp_path, raw):
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    assert len(load_rules(path).rules) == len(raw["rules"])
    smaller = dict(raw, rules=raw["rules"][:2])
    path.write_text(yaml.safe_dump(smaller), encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert len(load_rules(path).rules) == 2


def test_load_rules_rejects_invalid_file(tmp_path, raw):
    bad = copy.deepcopy(raw)
    bad["rules"][0]["jurisdiction"] = "US-XX"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(bad), encoding="utf-8")
    with pytest.raises(RulesError, match="unknown jurisdiction"):
        load_rules(path)
    with pytest.raises(RulesError):
        load_rules(tmp_path / "missing.yaml")


# --------------------------------------------------------------------------- validation


def test_validate_rules_reports_problems(raw):
    data = copy.deepcopy(raw)
    first, second = data["rules"][0], data["rules"][1]
    second["id"] = first["id"]
    first["profession"] = "wizard"
    first["verified_on"] = "26/11/2026"
    first["status"] = "maybe"
    first["activity"] = "dance"
    first["requires"]["gloves"] = "yes"
    first["requires"]["min_hours"] = True
    first["source_url"] = "javascript:alert(1)"
    del data["rules"][2]["summary"]
    data["last_verified"] = "not a date"
    errors = "\n".join(validate_rules(data))
    for expected in (
        "duplicate id",
        "unknown profession",
        "verified_on must be an ISO date",
        "status must be one of",
        "activity must be one of",
        "requires.gloves must be true or false",
        "requires.min_hours must be",
        "source_url must be",
        "missing summary",
        "last_verified must be",
    ):
        assert expected in errors


def test_validate_rules_rejects_wrong_shapes():
    assert validate_rules(None)
    assert validate_rules({"last_verified": "2026-11-26", "notice": "x", "legend": {"S": "a", "V": "b"}, "rules": []})
    assert validate_rules({"last_verified": "2026-02-30", "notice": "x", "legend": {"S": "a", "V": "b"}, "rules": [{}]})


def test_jurisdictions_list():
    assert set(JURISDICTIONS) == SHIPPED_CODES | {"OTHER"}
    assert JURISDICTIONS["OTHER"] == "Other / not listed"


# --------------------------------------------------------------------------- CSV


def test_csv_has_header_and_one_line_per_rule(rules):
    text = to_csv(rules.rules)
    lines = text.splitlines()
    assert lines[0].split(",") == list(CSV_COLUMNS)
    assert len(lines) == len(rules.rules) + 1
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["id"] for r in rows] == [r["id"] for r in rules.rules]
    wa = next(r for r in rows if r["id"] == "wa-mt-intraoral-endorsement")
    assert wa["requires.endorsement"] == "true"
    assert wa["requires.min_hours"] == "16"
    assert wa["jurisdiction_label"] == "Washington, US"
    assert wa["profession_label"] == "Massage therapist"


def test_csv_neutralises_formula_cells(rules):
    hostile = copy.deepcopy(rules.get("wa-mt-intraoral-endorsement"))
    hostile["summary"] = "=cmd()"
    hostile["source_cite"] = "+SUM(1,1)"
    hostile["notes"] = "@import"
    hostile["instructor_quals"] = "-2+3"
    row = next(csv.DictReader(io.StringIO(to_csv([hostile]))))
    assert row["summary"] == "'=cmd()"
    assert row["source_cite"] == "'+SUM(1,1)"
    assert row["notes"] == "'@import"
    assert row["instructor_quals"] == "'-2+3"
    assert row["id"] == "wa-mt-intraoral-endorsement"


# --------------------------------------------------------------------------- professions


def test_professions_in_seed_order():
    assert list(PROFESSIONS) == [
        "massage_therapist",
        "dental_hygienist",
        "dentist",
        "dental_therapist",
        "nurse",
        "physical_therapist",
        "speech_language_pathologist",
        "occupational_therapist",
        "physician",
    ]
    assert PROFESSIONS["massage_therapist"].education == "Certificate/Diploma (500-1000 hours)"
    assert PROFESSIONS["physician"].education == "Medical degree (MD/DO) + Residency"


def test_oral_assessment_scope_matches_eligibility():
    assert {k for k, p in PROFESSIONS.items() if p.oral_assessment_scope} == DENTAL_PROFESSIONS


def test_profession_helpers():
    assert profession_choices()[0] == ("massage_therapist", "Massage therapist")
    assert len(profession_choices()) == 9
    assert label("speech_language_pathologist") == "Speech-language pathologist"
    assert label(None) == ""
    assert label("unknown_key") == "unknown_key"
