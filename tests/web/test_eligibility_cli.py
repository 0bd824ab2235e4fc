"""`flask eligibility` on the seeded demo, and the same decision shown to the trainee, instructor and admin."""

from __future__ import annotations

import html
import json
import re

import pytest
import sqlalchemy as sa

from lms.auth.models import User
from lms.extensions import db

TRAINEE_KEYS = {"email", "name", "profession", "licence"}
REQUIREMENT_KEYS = {"id", "title", "met", "progress", "reason"}
TOP_KEYS = {"trainee", "program", "standard", "eligible", "endorsements", "requirements", "notices"}




@pytest.fixture
def demo(ctx, program):
    from lms.demo import seed

    seed()
    db.session.commit()
    return {u.email: u for u in db.session.execute(sa.select(User)).scalars()}


def _eligibility(runner, *args):
    result = runner.invoke(args=["eligibility", *args])
    assert result.exit_code == 0, result.output
    return result


def _json(runner, *args):
    return json.loads(_eligibility(runner, *args, "--json").stdout)


def _req(payload, req_id):
    return next(r for r in payload["requirements"] if r["id"] == req_id)


def _check_shape(payload):
    assert set(payload) >= TOP_KEYS
    assert set(payload["trainee"]) == TRAINEE_KEYS
    assert payload["program"] == "omr"
    assert payload["standard"] == {"id": "omr-c", "version": "0.5.1"}
    assert isinstance(payload["eligible"], bool)
    assert isinstance(payload["endorsements"], list) and isinstance(payload["notices"], list)
    assert payload["requirements"], "every requirement of the standard is reported"
    for r in payload["requirements"]:
        assert set(r) >= REQUIREMENT_KEYS, r
        assert isinstance(r["met"], bool) and isinstance(r["progress"], str) and r["progress"]
        assert isinstance(r["reason"], str)
        assert bool(r["reason"]) is (not r["met"]), r  # a reason exactly when unmet


# --------------------------------------------------------------------------- the CLI


def test_json_for_the_certified_hygienist(runner, demo):
    payload = _json(runner, "hygienist@orocert.test")
    _check_shape(payload)
    licence = payload["trainee"].pop("licence")
    assert payload["trainee"] == {"email": "hygienist@orocert.test", "name": "Harper Quinn Hygienist",
                                  "profession": "dental_hygienist"}
    assert licence["status"] == "verified" and licence["profession"] == "dental_hygienist"
    assert payload["eligible"] is True
    assert payload["endorsements"] == ["extraoral", "intraoral"]
    assert all(r["met"] for r in payload["requirements"])
    assert _req(payload, "P3")["progress"].startswith("Route D")
    ids = [r["id"] for r in payload["requirements"]]
    from lms.standards.queries import current_version

    assert ids == [r["id"] for r in current_version("omr").data["requirements"]]  # standard order


def test_json_for_the_massage_therapist_without_a_current_agreement(runner, demo):
    payload = _json(runner, "massage@orocert.test")
    _check_shape(payload)
    assert payload["trainee"]["profession"] == "massage_therapist"
    assert payload["eligible"] is True
    assert payload["endorsements"] == ["extraoral"]
    p3 = _req(payload, "P3")
    assert p3["met"] is False
    day = r"\d{1,2} [A-Z][a-z]{2} \d{4}"  # dates read as people write them: 14 May 2026
    assert re.search(rf"the agreement with Dr\. Riley Park \({day} to {day}\) expired on {day}", p3["reason"]), \
        p3["reason"]
    assert [r["id"] for r in payload["requirements"] if not r["met"]] == ["P3"]
    assert any(n.startswith("Oregon, massage therapist:") and "not legal advice" in n for n in payload["notices"])


def test_json_for_the_part_way_speech_language_pathologist(runner, demo):
    payload = _json(runner, "slp@orocert.test")
    _check_shape(payload)
    assert payload["trainee"]["profession"] == "speech_language_pathologist"
    assert payload["eligible"] is False and payload["endorsements"] == []
    unmet = {r["id"]: r for r in payload["requirements"] if not r["met"]}
    assert {"MODULES", "H-LAB", "H-CLIN", "C4", "P3"} <= set(unmet)
    assert "C3" not in unmet  # two passing C3 observations were signed
    assert unmet["MODULES"]["progress"] == "Modules: 4 of 11 completed"
    assert " of " in unmet["H-LAB"]["progress"] and " of " in unmet["C1"]["progress"]
    assert sum(" of " in r["progress"] for r in payload["requirements"]) >= 10
    # Only approved hours count: the rejected, needs-information and submitted entries are not in the total. The
    # 6 approved hours she logged, plus the 2-hour M1 lab session her instructor recorded her attending.
    assert unmet["H-LAB"]["progress"] == "In-person lab hours: 8 of 16"
    assert "once the instructor who ran them records your attendance" in unmet["H-LAB"]["reason"]


def test_all_json_is_a_list_of_every_enrolled_trainee(runner, demo):
    payload = _json(runner, "--all")
    assert isinstance(payload, list)
    assert [p["trainee"]["email"] for p in payload] == ["hygienist@orocert.test", "massage@orocert.test",
                                                         "slp@orocert.test",
                                                         # certified by the directory demo
                                                         "dentist.seattle@orocert.test",
                                                         "hygienist.calgary@orocert.test"]
    for p in payload:
        _check_shape(p)
    assert payload[1] == _json(runner, "massage@orocert.test")


def test_text_output_and_errors(runner, demo):
    out = _eligibility(runner, "massage@orocert.test").stdout
    assert "Morgan Lee Massage <massage@orocert.test>" in out
    assert "eligible: yes; endorsements: extraoral" in out
    assert re.search(r"✘ \[intraoral\] Intraoral screening route .*the agreement with Dr\. Riley Park .* expired on",
                     out)
    assert "notice: Oregon, massage therapist:" in out

    missing = runner.invoke(args=["eligibility", "nobody@orocert.test", "--json"])
    assert missing.exit_code == 1 and "no account with email nobody@orocert.test" in missing.output
    neither = runner.invoke(args=["eligibility"])
    assert neither.exit_code == 1 and "give an EMAIL or --all" in neither.output


# --------------------------------------------------------------------------- the same decision in the browser


def _client(app, email):
    from lms.demo import DEMO_PASSWORD

    client = app.test_client()
    assert client.post("/login", data={"email": email, "password": DEMO_PASSWORD}).status_code == 302
    return client


def decision_rows(page: bytes) -> list[tuple[str, str, str]]:
    """(requirement, status, progress) of every row in the decision panel, group after group (certificate first)."""
    text = page.decode()
    section = re.search(r'<section class="card" aria-labelledby="decision-h">(.*?)</section>', text, re.S)
    assert section, "no decision panel on the page"
    rows = []
    for body in re.findall(r"<tbody>(.*?)</tbody>", section.group(1), re.S):
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
            cells = [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", c)).split())
                     for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            rows.append(tuple(cells[:3]))
    return rows


def shown_in_panel(requirements: list[dict]) -> list[tuple[str, str]]:
    """(title, progress) of the requirements a page shows: those that concern the trainee, grouped by scope with
    the certificate's first and the others in the order they first appear."""
    applicable = [r for r in requirements if not r["progress"].startswith("not applicable")]
    scopes = ["certificate", *dict.fromkeys(r["scope"] for r in applicable if r["scope"] != "certificate")]
    return [(r["title"], r["progress"]) for scope in scopes for r in applicable if r["scope"] == scope]


@pytest.mark.parametrize("email", ["hygienist@orocert.test", "massage@orocert.test", "slp@orocert.test"])
def test_trainee_instructor_and_admin_see_the_same_requirement_progress(app, runner, demo, email):
    trainee = demo[email]
    expected = shown_in_panel(_json(runner, email)["requirements"])

    pages = {
        "trainee": _client(app, email).get("/dashboard"),
        "instructor": _client(app, "instructor@orocert.test").get(f"/trainees/{trainee.id}"),
        "admin": _client(app, "admin@orocert.test").get(f"/admin/trainees/{trainee.id}"),
    }
    for who, resp in pages.items():
        assert resp.status_code == 200, who
        rows = decision_rows(resp.data)
        assert [(title, progress) for title, _status, progress in rows] == expected, who
    # The status column agrees too (Met / Not met), and so does every page with every other.
    statuses = {who: [row[1] for row in decision_rows(resp.data)] for who, resp in pages.items()}
    assert statuses["trainee"] == statuses["instructor"] == statuses["admin"]


def test_unmet_reason_is_shown_in_the_browser(app, demo):
    page = html.unescape(_client(app, "massage@orocert.test").get("/dashboard").get_data(as_text=True))
    assert re.search(r"none on file counts: the agreement with Dr\. Riley Park \(.*\) expired on", page)
    assert "Eligible for certification with the extraoral endorsement." in page
