"""The provider directory and the access report in a real browser: axe-core, a 375 px phone screen, the map drawn by
the served Leaflet script under the app's CSP (with tiles that fail to load), and a holder withdrawing and opting in
again through the forms."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.support import (
    ADMIN,
    AXE_NOTES,
    BLOCKING_IMPACTS,
    HYGIENIST,
    axe_violations,
    describe,
    horizontal_overflow,
    sign_in,
)

pytestmark = pytest.mark.e2e

PUBLIC_PAGES = ["/directory", "/directory?near=Vancouver&radius_km=1000", "/directory?near=Qwertyburg",
                "/directory?near=Seattle&radius_km=25&profession=dentist", "/access",
                "/access?sort=providers_per_100k&dir=desc"]
SIGNED_IN_PAGES = {HYGIENIST: ["/directory/listing", "/directory"], ADMIN: ["/access"]}


def _scan(page, where, axe_source, failures):
    violations = axe_violations(page, axe_source)
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    if blocking:
        failures.append(f"{where}:\n{describe(blocking)}")
    AXE_NOTES.extend(f"{where}: [{v['impact']}] {v['id']} — {v['help']}" for v in violations
                     if v["impact"] not in BLOCKING_IMPACTS)


def _visits(open_page, **options):
    page = open_page(**options)
    for path in PUBLIC_PAGES:
        page.goto(path)
        yield page, f"public {path}"
    for email, paths in SIGNED_IN_PAGES.items():
        page = open_page(**options)
        sign_in(page, email)
        for path in paths:
            page.goto(path)
            yield page, f"{email} {path}"


def test_directory_and_access_pages_have_no_serious_axe_violations(open_page, axe_source):
    failures: list[str] = []
    for page, where in _visits(open_page):
        _scan(page, where, axe_source, failures)
    assert not failures, "serious or critical accessibility violations:\n" + "\n".join(failures)


def test_directory_and_access_pages_fit_a_375_px_phone(open_page, axe_source):
    problems: list[str] = []
    for page, where in _visits(open_page, viewport={"width": 375, "height": 800}):
        width = page.evaluate("() => document.documentElement.scrollWidth")
        if width > 375:
            problems.append(f"{where}: {width} px wide at 375 px: {horizontal_overflow(page)['wide']}")
        _scan(page, f"{where} (375 px)", axe_source, problems)
    assert not problems, "\n".join(problems)


def test_search_results_list_the_nearest_first_with_distances(open_page):
    page = open_page()
    page.goto("/directory")
    page.get_by_label("Near (city or postal code)").fill("Seattle, WA")
    page.get_by_label("Within").select_option("1000")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="3 providers within 1000 km of Seattle, WA, US")).to_be_visible()
    names = page.locator(".directory-results h3").all_inner_texts()
    assert names == ["Dr. Rowan Reyes", "Harper Quinn Hygienist", "Tamsin Okafor"]
    expect(page.locator(".directory-results li").nth(1)).to_contain_text("km away")
    page.get_by_label("Near (city or postal code)").fill("Qwertyburg")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("alert")).to_contain_text("could not find")


def test_map_draws_the_results_and_the_list_stays_when_tiles_fail(live_server, open_page):
    """Tiles come from an address that answers 404 for every tile: the map still draws its markers with the served
    Leaflet script (no CSP violation, no script error) and the list is all there."""
    app = live_server.app
    app.config["DIRECTORY_TILE_URL"] = live_server.url + "/static/no-such-tiles/{z}/{x}/{y}.png"
    try:
        page = open_page()
        page.goto("/directory?near=Vancouver&radius_km=1000")
        expect(page.locator("#directory-map")).to_be_visible()
        expect(page.locator("#directory-map path.leaflet-interactive")).to_have_count(4)  # 3 providers + centre
        expect(page.locator(".directory-results > li")).to_have_count(3)
    finally:
        app.config["DIRECTORY_TILE_URL"] = ""
    page = open_page(java_script_enabled=False)
    page.goto("/directory?near=Vancouver&radius_km=1000")
    expect(page.locator(".directory-results > li")).to_have_count(3)  # without scripts: the list


def test_holder_withdraws_and_opts_in_again_through_the_forms(open_page):
    visitor = open_page()
    holder = open_page()
    sign_in(holder, HYGIENIST)
    holder.goto("/directory/listing")
    holder.get_by_role("button", name="Withdraw my listing").click()
    expect(holder.locator(".flashes")).to_contain_text("withdrawn")
    visitor.goto("/directory?near=Vancouver")
    expect(visitor.get_by_text("Harper Quinn Hygienist")).to_have_count(0)
    holder.get_by_label("Show my listing in the public directory").check()
    holder.get_by_role("button", name="Save listing").click()
    expect(holder.locator(".flashes")).to_contain_text("Your listing is in the directory.")
    visitor.goto("/directory?near=Vancouver")
    expect(visitor.get_by_role("heading", name="Harper Quinn Hygienist")).to_be_visible()
