"""The case page in a real browser: axe-core finds no serious or critical violation, its charts are SVG images with
a title and description and a data table, and the CSP blocks nothing on it (the open_page fixture fails on a CSP
violation or a script error). Also the portfolio and the admin outcomes page."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from lms.extensions import db
from tests.e2e.support import ADMIN, BLOCKING_IMPACTS, HYGIENIST, INSTRUCTOR, axe_violations, describe, sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def trismus_case(live_server) -> int:
    from lms.auth.models import User
    from lms.cases.models import Case

    def load():
        return db.session.execute(sa.select(Case.id).join(User, User.id == Case.trainee_id)
                                  .where(User.email == HYGIENIST, Case.code == "C02")).scalar_one()

    return live_server.query(load)


def _blocking(page, axe_source):
    return [v for v in axe_violations(page, axe_source) if v["impact"] in BLOCKING_IMPACTS]


@pytest.mark.parametrize("who", [HYGIENIST, INSTRUCTOR])
def test_case_page_passes_axe_and_charts_have_text_alternatives(who, open_page, axe_source, trismus_case):
    page = open_page()
    sign_in(page, who)
    page.goto(f"/cases/{trismus_case}")
    expect(page.get_by_role("heading", name="Case C02", level=1)).to_be_visible()
    blocking = _blocking(page, axe_source)
    assert not blocking, describe(blocking)
    charts = page.locator("svg[role=img]")
    assert charts.count() >= 5  # opening, three pain scales, GTQ, EAT-10
    for i in range(charts.count()):
        chart = charts.nth(i)
        labelled = chart.get_attribute("aria-labelledby").split()
        assert len(labelled) == 2
        for ident in labelled:
            assert (page.locator(f"#{ident}").text_content() or "").strip()  # SVG <title>/<desc> with text
    opening = page.get_by_role("img", name="Maximal interincisal opening over time, case C02")
    expect(opening).to_be_visible()
    expect(page.get_by_role("table", name="Maximal interincisal opening: the data in the chart")).to_be_visible()


def test_portfolio_and_outcomes_pages_pass_axe(open_page, axe_source):
    page = open_page()
    sign_in(page, HYGIENIST)
    page.goto("/cases/")
    expect(page.get_by_role("table", name="Cases with the direction of change from baseline to the latest "
                                          "follow-up")).to_be_visible()
    assert not _blocking(page, axe_source)
    admin = open_page()
    sign_in(admin, ADMIN)
    admin.goto("/admin/outcomes/?condition=radiation_trismus")
    expect(admin.get_by_role("table", name="Outcomes per measure")).to_be_visible()
    blocking = _blocking(admin, axe_source)
    assert not blocking, describe(blocking)
