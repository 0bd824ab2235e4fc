"""The screening form never loses a contraindication: the sequence that once saved "no contraindication found".

A trainee ticks "Active oral or odontogenic infection" and "Strong gag reflex", leaves a finding blank and submits.
The page must come back with both boxes still ticked and the text kept; submitting again (after filling the finding)
records a blocked screening, so the intraoral session cannot be logged against it and the instructor never sees
"clear".
"""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from lms.core.formatting import format_date
from lms.extensions import db
from tests.e2e.support import HYGIENIST, INSTRUCTOR, flash, sign_in, today_iso

pytestmark = pytest.mark.e2e

CASE = "PW-SAFE-1"


def _box(form, label: str):
    """A contraindication's checkbox by the start of its label (the label goes on with the action to take)."""
    return form.get_by_role("checkbox", name=re.compile("^" + re.escape(label)))


def _screenings(live_server):
    from lms.screening.models import Screening

    def load():
        rows = db.session.execute(sa.select(Screening).filter_by(case_code=CASE)).scalars().all()
        return [(s.outcome, list(s.absolute_contraindications), list(s.relative_contraindications)) for s in rows]

    return live_server.query(load)


def test_ticked_contraindications_survive_an_error_and_block_the_session(open_page, live_server):
    page = open_page()
    sign_in(page, HYGIENIST)
    page.goto("/screenings")
    form = page.locator("#screening-form")
    form.get_by_label("Case number").fill(CASE)
    form.get_by_label("I did (Route D)").check()
    for key in ("extraoral", "gingiva", "bone", "tongue", "soft_tissue"):
        form.locator(f"#finding-{key}").fill("normal")
    # "Teeth" is left blank on purpose.
    _box(form, "Active oral or odontogenic infection or abscess").check()
    _box(form, "Strong gag reflex").check()
    form.get_by_label("Modifications to the plan").fill("Front of the mouth only, short bouts.")
    form.get_by_role("button", name="Record screening").click()

    expect(flash(page)).to_contain_text("Record a finding for every structure")
    form = page.locator("#screening-form")
    # Every field comes back as it was sent: the ticks above all.
    expect(_box(form, "Active oral or odontogenic infection or abscess")).to_be_checked()
    expect(_box(form, "Strong gag reflex")).to_be_checked()
    expect(_box(form, "Unexplained lesion")).not_to_be_checked()
    expect(form.get_by_label("Case number")).to_have_value(CASE)
    expect(form.locator("#finding-gingiva")).to_have_value("normal")
    expect(form.locator("#finding-teeth")).to_have_value("")
    expect(form.get_by_label("Modifications to the plan")).to_have_value("Front of the mouth only, short bouts.")
    expect(form.get_by_label("I did (Route D)")).to_be_checked()
    assert _screenings(live_server) == []

    # The trainee fills the missing finding and submits again, without touching the ticks.
    form.locator("#finding-teeth").fill("normal")
    form.get_by_role("button", name="Record screening").click()
    expect(flash(page)).to_contain_text("Do not treat intraorally")
    expect(flash(page)).not_to_contain_text("no contraindication found")
    assert _screenings(live_server) == [("blocked", ["infection"], ["gag"])]
    row = page.locator("table tr", has_text=CASE)
    expect(row).to_contain_text("Blocked: refer, defer")

    # The intraoral session cannot be logged against the blocked screening.
    page.goto("/hours/")
    page.get_by_label("Date of the session").fill(today_iso())
    page.get_by_label("Minutes", exact=True).fill("30")
    page.get_by_label("Category").select_option("clinical_intraoral")
    page.get_by_label("Supervising instructor").select_option(label="Ines Instructor")
    page.get_by_label("Setting").fill("University teaching clinic")
    page.get_by_label("Case number").fill(CASE)
    page.get_by_label("Pre-treatment screening", exact=False).select_option(
        label=f"{format_date(date.fromisoformat(today_iso()))} · case {CASE} · blocked")
    page.get_by_role("button", name="Submit hours").click()
    expect(flash(page)).to_contain_text("The screening found an absolute contraindication. Do not treat intraorally.")

    def logged():
        from lms.hours.models import HourEntry

        return db.session.execute(sa.select(sa.func.count()).select_from(HourEntry)
                                  .filter_by(case_code=CASE)).scalar_one()

    assert live_server.query(logged) == 0

    # The instructor's queue never shows this case as clear.
    instructor = open_page()
    sign_in(instructor, INSTRUCTOR)
    instructor.goto("/hours/queue")
    expect(instructor.get_by_role("heading", level=1)).to_be_visible()
    expect(instructor.get_by_text(CASE)).to_have_count(0)
