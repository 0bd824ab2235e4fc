"""Accessibility in a real browser: axe-core on each role's main pages, keyboard use, and 200 % zoom (reflow).

axe-core is the engine behind most accessibility checkers; it is pinned in package.json next to this file. A
serious or critical violation fails the test; moderate and minor ones are listed at the end of the run.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from lms.demo import DEMO_PASSWORD
from lms.extensions import db
from tests.e2e.support import (
    ADMIN,
    AXE_NOTES,
    BLOCKING_IMPACTS,
    BOARD,
    HYGIENIST,
    INSTRUCTOR,
    SLP,
    axe_violations,
    describe,
    horizontal_overflow,
    open_menu,
    sign_in,
    tab_through_main,
)

pytestmark = pytest.mark.e2e

ROLES = {"public": None, "trainee": HYGIENIST, "instructor": INSTRUCTOR, "admin": ADMIN, "board": BOARD}


@pytest.fixture(scope="module")
def refs(live_server) -> dict:
    """Identifiers the page addresses need: demo users, the demo certificate, module 1."""
    from lms.auth.models import User
    from lms.certificates.models import Certificate
    from lms.training.models import Module

    def load():
        ids = dict(db.session.execute(sa.select(User.email, User.id).where(User.email.in_([HYGIENIST, SLP]))).all())
        serial = db.session.execute(sa.select(Certificate.serial).where(Certificate.trainee_id == ids[HYGIENIST])
                                    .order_by(Certificate.id)).scalars().first()
        slug = db.session.execute(sa.select(Module.slug).filter_by(program_id="omr", module_key="M1")).scalar_one()
        return {"hygienist": ids[HYGIENIST], "slp": ids[SLP], "serial": serial, "m1": slug}

    return live_server.query(load)


def pages_for(role: str, r: dict) -> list[str]:
    """The main pages a person in ``role`` uses (public pages are scanned signed out)."""
    return {
        "public": ["/", "/verify", "/verify?serial=not-a-serial", f"/verify/{r['serial']}", "/regulations",
                   "/login", "/register", "/regulations?q=zzz-no-such-rule",
                   "/help", "/help/faq", "/contact", "/privacy", "/terms"],
        "trainee": ["/dashboard", "/profile", "/program", f"/modules/{r['m1']}", "/hours/", "/screenings",
                    "/certificates", "/renewal", "/account"],
        "instructor": ["/hours/queue", "/hours/queue?status=approved", "/hours/attendance", "/gradebook",
                       f"/trainees/{r['slp']}?competency=C2"],
        "admin": ["/admin/trainees", f"/admin/trainees/{r['hygienist']}", "/admin/certificates",
                  "/admin/certificates?q=nobody-by-this-name", "/hours/queue", "/admin/users",
                  "/admin/items", f"/admin/certificates/{r['serial']}/revoke"],
        "board": ["/board/bulk"],
    }[role]


def _open_as(open_page, role: str, **context_options) -> Page:
    page = open_page(**context_options)
    if ROLES[role]:
        sign_in(page, ROLES[role])
    return page


def visit(page: Page, role: str, r: dict):
    """Open each main page of ``role`` in turn, yielding a label once it is ready; then a few states after input."""
    for path in pages_for(role, r):
        page.goto(path)
        yield path
    if role == "board":  # the results table is the part of the page a board uses most
        page.get_by_label("Or paste serials").fill(f"{r['serial']},Hygienist\nOFM-00000-00000-00000\n")
        page.get_by_role("button", name="Verify").click()
        expect(page.get_by_role("heading", name="Results (2)")).to_be_visible()
        yield "/board/bulk (results)"
    if role == "public":  # a form showing its errors
        page.goto("/register")
        page.get_by_role("button", name="Create account").click()
        expect(page.get_by_text("Please correct the highlighted fields.")).to_be_visible()
        yield "/register (with errors)"


def _scan(page: Page, where: str, axe_source: str, failures: list[str]) -> None:
    violations = axe_violations(page, axe_source)
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    if blocking:
        failures.append(f"{where}:\n{describe(blocking)}")
    for v in violations:
        if v["impact"] not in BLOCKING_IMPACTS:
            AXE_NOTES.append(f"{where}: [{v['impact']}] {v['id']} — {v['help']} ({len(v['nodes'])} element(s))")


@pytest.mark.parametrize("role", list(ROLES))
def test_no_serious_or_critical_axe_violations(role, open_page, axe_source, refs):
    page = _open_as(open_page, role)
    failures: list[str] = []
    for label in visit(page, role, refs):
        _scan(page, f"{role} {label}", axe_source, failures)
    assert not failures, "serious or critical accessibility violations:\n" + "\n".join(failures)


# Every role's pages, scanned again in French (the language the visitor switched to with ?lang=fr).
FRENCH_PAGES = {"public": [], "trainee": ["/renewal", "/exam", "/cases/"], "instructor": [], "admin": [], "board": []}


@pytest.mark.parametrize("role", list(FRENCH_PAGES))
def test_no_serious_or_critical_axe_violations_in_french(role, open_page, axe_source, refs):
    page = _open_as(open_page, role)
    page.goto("/?lang=fr")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    failures: list[str] = []
    for path in pages_for(role, refs) + FRENCH_PAGES[role]:
        # Each address carries ?lang=fr as a shared link would, so the scan never depends on what the session kept.
        page.goto(path + ("&" if "?" in path else "?") + "lang=fr")
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        _scan(page, f"{role} {path} (fr)", axe_source, failures)
    if role == "public":  # the form's errors, in French
        page.goto("/register")
        page.get_by_role("button", name="Créer le compte").click()
        expect(page.get_by_text("Veuillez corriger les champs signalés.")).to_be_visible()
        _scan(page, "public /register (fr, with errors)", axe_source, failures)
    assert not failures, "serious or critical accessibility violations:\n" + "\n".join(failures)


def test_login_form_in_tab_order_with_visible_focus(open_page):
    page = open_page()
    page.goto("/login")
    stops = tab_through_main(page, stop_at="BUTTON:Sign in")
    assert [s["key"] for s in stops] == ["email", "password", "BUTTON:Sign in"]
    assert all(s["inMain"] for s in stops)
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.type(ADMIN)
    page.keyboard.press("Tab")
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")  # submitting from the keyboard alone signs in
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_hours_form_in_tab_order_with_visible_focus(open_page):
    page = _open_as(open_page, "trainee")
    page.goto("/hours/")
    stops = tab_through_main(page, stop_at="BUTTON:Submit hours")
    assert [s["key"] for s in stops] == ["entry_date", "duration_hours", "duration_minutes", "category",
                                         "supervisor_id", "setting",
                                         "case_code", "intraoral_lab", "screening_id", "notes",
                                         "BUTTON:Submit hours"]


@pytest.mark.parametrize("role", list(ROLES))
def test_pages_reflow_at_200_percent_zoom(role, open_page, axe_source, refs):
    """A 1280 px wide window at 200 % zoom lays out like a 640 px viewport: nothing may need horizontal scrolling
    (WCAG 1.4.10), and every item of the main navigation must stay on screen. axe runs again at this size, since
    tables that now scroll sideways must stay reachable from the keyboard."""
    page = _open_as(open_page, role, viewport={"width": 640, "height": 800}, device_scale_factor=2)
    problems: list[str] = []
    for path in visit(page, role, refs):
        _scan(page, f"{role} {path} (200 % zoom)", axe_source, problems)
        overflow = horizontal_overflow(page)
        if overflow["scrollWidth"] > overflow["clientWidth"] + 1:
            problems.append(f"{path}: page is {overflow['scrollWidth']} px wide in a {overflow['clientWidth']} px "
                            f"viewport; too wide: {overflow['wide']}")
        # Narrow: the navigation folds behind a Menu button (no script); unfolded, with every group opened, each of
        # its links must be on screen.
        open_menu(page)
        nav = page.get_by_role("navigation", name="Main")
        expect(nav).to_be_visible()
        for summary in nav.locator("summary").all():
            if summary.locator("xpath=..").get_attribute("open") is None:
                summary.click()
        for item in nav.locator("a, button").all():
            box = item.bounding_box()
            if box is None or box["x"] < 0 or box["x"] + box["width"] > overflow["clientWidth"] + 1:
                problems.append(f"{path}: navigation item {item.inner_text()!r} is off screen ({box})")
    assert not problems, "\n".join(problems)
