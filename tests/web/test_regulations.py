"""The public regulations page and CSV, and jurisdiction rules in a trainee's decision."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import date, timedelta

import pytest

from lms.core.formatting import format_date
from lms.extensions import db
from lms.jurisdictions.data import CSV_COLUMNS, JURISDICTIONS, load_rules
from tests.factories import PASSWORD, create_evidence, create_profile, create_trainee, create_user, enrollment_of

TODAY = date.today()




@pytest.fixture
def ruleset(app):
    return load_rules(app.config["JURISDICTIONS_FILE"])


def table_rows(resp) -> list[list[str]]:
    """Visible text of every cell of the rules table, row by row."""
    found = re.search(r"<tbody>(.*?)</tbody>", resp.get_data(as_text=True), re.S)
    body = found.group(1) if found else ""
    return [[" ".join(html.unescape(re.sub(r"<[^>]+>", " ", cell)).split())
             for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def _summaries(rules) -> list[str]:
    return [" ".join(r["summary"].split()) for r in rules]


def _csv(resp) -> list[dict]:
    reader = csv.reader(io.StringIO(resp.get_data(as_text=True)))
    header = next(reader)
    assert header == list(CSV_COLUMNS)
    return [dict(zip(header, row, strict=True)) for row in reader]


# --------------------------------------------------------------------------- the page


def test_regulations_page_is_public_with_the_not_legal_advice_note(client, ruleset):
    resp = client.get("/regulations")
    assert resp.status_code == 200
    page = " ".join(html.unescape(resp.get_data(as_text=True)).split())
    assert "Not legal advice." in page
    assert " ".join(ruleset.notice.split()) in page
    assert f"Last verified {format_date(ruleset.last_verified)}." in page
    assert ruleset.last_verified == "2026-11-30"
    assert f"{len(ruleset.rules)} rules." in page
    assert [row[3] for row in table_rows(resp)] == _summaries(ruleset.rules)


def test_search_text_filters_rows(client, ruleset):
    expected = ruleset.search("endorsement")
    assert 0 < len(expected) < len(ruleset.rules)
    resp = client.get("/regulations", query_string={"q": "endorsement"})
    rows = table_rows(resp)
    assert [row[3] for row in rows] == _summaries(expected)
    assert all("endorsement" in " ".join(row).lower() for row in rows)
    assert f"{len(expected)} {'rule' if len(expected) == 1 else 'rules'}." in resp.get_data(as_text=True)

    # Every word must match (case-insensitive); a word nothing contains gives no rows.
    both = client.get("/regulations", query_string={"q": "WASHINGTON gloves"})
    assert [row[3] for row in table_rows(both)] == _summaries(ruleset.search("washington gloves"))
    none = client.get("/regulations", query_string={"q": "zzz-no-such-word"})
    assert table_rows(none) == []
    # Zero results: a friendly empty state with a way back, not an empty table.
    assert "<table" not in none.get_data(as_text=True)
    assert "No rule matches “zzz-no-such-word”." in none.get_data(as_text=True)


def test_filters_by_jurisdiction_and_profession(client, ruleset):
    wa = table_rows(client.get("/regulations", query_string={"jurisdiction": "US-WA"}))
    assert wa and {row[0] for row in wa} == {JURISDICTIONS["US-WA"]}
    assert len(wa) == len(ruleset.search(jurisdiction="US-WA"))

    hygienists = table_rows(client.get("/regulations", query_string={"profession": "dental_hygienist"}))
    assert hygienists and {row[1] for row in hygienists} == {"Dental hygienist"}
    assert len(hygienists) == len(ruleset.search(profession="dental_hygienist"))

    both = client.get("/regulations", query_string={"jurisdiction": "CA-BC", "profession": "dental_hygienist"})
    rows = table_rows(both)
    assert [row[3] for row in rows] == _summaries(ruleset.search(jurisdiction="CA-BC", profession="dental_hygienist"))
    assert {(row[0], row[1]) for row in rows} == {(JURISDICTIONS["CA-BC"], "Dental hygienist")}

    # An unknown filter value is ignored rather than hiding every row.
    everything = table_rows(client.get("/regulations", query_string={"jurisdiction": "XX-YY", "profession": "wizard"}))
    assert len(everything) == len(ruleset.rules)


def test_csv_download_has_a_header_and_the_filtered_rows(client, ruleset):
    resp = client.get("/regulations.csv", query_string={"jurisdiction": "US-WA", "profession": "massage_therapist"})
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = _csv(resp)
    expected = ruleset.search(jurisdiction="US-WA", profession="massage_therapist")
    assert [r["id"] for r in rows] == [r["id"] for r in expected]
    assert {r["jurisdiction"] for r in rows} == {"US-WA"} and {r["profession"] for r in rows} == {"massage_therapist"}
    endorsement = next(r for r in rows if r["id"] == "wa-mt-intraoral-endorsement")
    assert endorsement["requires.endorsement"] == "true" and endorsement["requires.min_hours"] == "16"
    assert endorsement["verified_on"] == "2026-11-30" and endorsement["status"] == "S"

    text_rows = _csv(client.get("/regulations.csv", query_string={"q": "endorsement"}))
    assert [r["id"] for r in text_rows] == [r["id"] for r in ruleset.search("endorsement")]
    assert len(_csv(client.get("/regulations.csv"))) == len(ruleset.rules)


def test_page_links_the_csv_with_the_same_filters(client):
    page = html.unescape(client.get("/regulations", query_string={"q": "gloves", "jurisdiction": "US-OR"})
                         .get_data(as_text=True))
    link = re.search(r'href="(/regulations\.csv\?[^"]*)"', page).group(1)
    assert "q=gloves" in link and "jurisdiction=US-OR" in link
    rows = _csv(client.get(link))
    assert rows and {r["jurisdiction"] for r in rows} == {"US-OR"}


# --------------------------------------------------------------------------- jurisdiction rules in a decision


def qualified_massage_therapist(program, *, email, jurisdiction):
    """A massage therapist who meets every requirement through Route N (the demo's recipe)."""
    from lms.demo import log_practicum, pass_modules, record_observations
    from lms.screening.operations import AgreementInput, decide_agreement, submit_agreement
    from lms.standards.queries import standard_for_user

    instructor = create_user("instructor", profession="massage_therapist")
    dentist = create_user("instructor", profession="dentist")
    user = create_trainee(email=email, profession="massage_therapist", jurisdiction=jurisdiction)
    enrollment = enrollment_of(user)
    agreement = submit_agreement(user, AgreementInput(
        dentist_name="Dr. Riley Park", dentist_profession="dentist", dentist_license="DDS-5521",
        dentist_jurisdiction=jurisdiction, valid_from=TODAY - timedelta(days=200),
        valid_until=TODAY + timedelta(days=200)), create_evidence(user, "agreement"))
    decide_agreement(agreement, "verified", actor=dentist)
    pass_modules(user, enrollment, program)
    log_practicum(user, enrollment, program, instructor, TODAY, "N")
    record_observations(user, enrollment, standard_for_user(user.id), [instructor, dentist], TODAY)
    db.session.commit()
    return user


def _decision(user):
    from lms.eligibility.service import decision_for

    db.session.expire_all()
    return decision_for(user).decision


def _wa_mt(decision):
    return next(r for r in decision.requirements if r.id == "J-WA-MT")


def test_wa_massage_therapist_needs_the_licence_endorsement_for_intraoral(ctx, client, program, ruleset):
    user = qualified_massage_therapist(program, email="wa@regs.test", jurisdiction="US-WA")

    decision = _decision(user)
    wa_rule = ruleset.get("wa-mt-intraoral-endorsement")
    notice = next(n for n in decision.notices if "WAC 246-830-490" in n)
    assert notice.startswith("Washington, massage therapist: A licensed massage therapist may work inside the mouth "
                             "only with an intraoral massage endorsement")
    assert f"last verified {format_date(wa_rule['verified_on'])}; not legal advice" in notice
    # Without the endorsement recorded on the licence, the enforced WA rule blocks the intraoral endorsement only.
    rule = _wa_mt(decision)
    assert not rule.met and rule.scope == "intraoral"
    assert rule.progress == "WAC 246-830-490: not recorded on your license"
    assert "massage therapist in Washington" in rule.reason
    assert decision.eligible is True and decision.endorsements == ["extraoral"]
    assert [r.id for r in decision.requirements if not r.met] == ["J-WA-MT"]
    assert decision.summary.endswith("The intraoral endorsement is not yet met: 1 requirement still open.")
    assert "J-WA-MT" not in decision.summary  # words for people: the page lists the rule by its title

    # The trainee sees the Washington notice on the dashboard.
    client.post("/login", data={"email": "wa@regs.test", "password": PASSWORD})
    page = " ".join(html.unescape(client.get("/dashboard").get_data(as_text=True)).split())
    assert "Notices for your profession and jurisdiction" in page
    assert "Washington, massage therapist: A licensed massage therapist may work inside the mouth" in page

    # Once the licence is recorded as carrying the endorsement, intraoral qualifies.
    create_profile(user, profession="massage_therapist", jurisdiction="US-WA", endorsement=True)
    db.session.commit()
    decision = _decision(user)
    assert _wa_mt(decision).met and "your license is recorded as meeting it" in _wa_mt(decision).progress
    assert decision.endorsements == ["extraoral", "intraoral"]

    # The same trainee practising in Oregon: the WA rule does not apply and no WA notice is shown.
    create_profile(user, profession="massage_therapist", jurisdiction="US-OR", endorsement=False)
    db.session.commit()
    decision = _decision(user)
    assert _wa_mt(decision).met and _wa_mt(decision).progress == "not applicable"
    assert decision.endorsements == ["extraoral", "intraoral"]
    assert not any(n.startswith("Washington") for n in decision.notices)
