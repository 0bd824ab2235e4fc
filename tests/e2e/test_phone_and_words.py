"""Phones and plain words in a real browser: 375 px pages that never scroll sideways, a compact menu that works with
scripts switched off, tables that keep their Status and Action on screen, an admin menu on one line at 1280 px, and
the journeys of the usability walk (attestation kept, apply explained, readable dates) at both widths."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from lms.extensions import db
from tests.e2e.support import (
    ADMIN,
    BLOCKING_IMPACTS,
    HYGIENIST,
    INSTRUCTOR,
    MASSAGE,
    SLP,
    axe_violations,
    describe,
    horizontal_overflow,
    nav_go,
    open_menu,
    sign_in,
)

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True}
WIDTHS = {"desktop": {"viewport": {"width": 1280, "height": 900}}, "phone": PHONE}


@pytest.fixture(scope="module")
def serial(live_server) -> str:
    from lms.auth.models import User
    from lms.certificates.models import Certificate

    def load():
        uid = db.session.execute(sa.select(User.id).filter_by(email=HYGIENIST)).scalar_one()
        return db.session.execute(sa.select(Certificate.serial).filter_by(trainee_id=uid)
                                  .order_by(Certificate.id)).scalars().first()

    return live_server.query(load)


def _fits(page: Page, path: str) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 375, f"{path} is {width} px wide at 375 px: {horizontal_overflow(page)['wide']}"


def _no_serious_axe(page: Page, where: str, axe_source: str) -> None:
    blocking = [v for v in axe_violations(page, axe_source) if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"{where}:\n{describe(blocking)}"


def test_public_pages_fit_a_phone(open_page, serial, axe_source):
    page = open_page(**PHONE)
    for path in ["/login", "/regulations", "/verify", f"/verify/{serial}", "/regulations?q=zzz-nothing"]:
        page.goto(path)
        _fits(page, path)
        _no_serious_axe(page, f"{path} at 375 px", axe_source)


def test_trainee_pages_fit_a_phone_and_the_hours_table_keeps_status_and_action(open_page, axe_source):
    page = open_page(**PHONE)
    sign_in(page, SLP)
    for path in ["/dashboard", "/hours/", "/certificates", "/renewal", "/account"]:
        page.goto(path)
        _fits(page, path)
        _no_serious_axe(page, f"{path} at 375 px", axe_source)
    page.goto("/hours/")
    first_row = page.locator("table.stack tbody tr").first
    for label in ("Status", "Action"):
        cell = first_row.locator(f'td[data-label="{label}"]')
        expect(cell).to_be_visible()
        box = cell.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 375, (label, box)


def _tables_fit(page: Page, path: str) -> None:
    """Every table reads at 375 px without scrolling sideways, inside its own box as well as on the page, and without
    squeezing its columns until words break letter by letter: a table stacks into one labelled card per row, or it
    is narrow enough already (no cell with text under 6rem wide)."""
    found = page.evaluate("""() => [...document.querySelectorAll('table')].map(t => {
        const box = t.closest('.table-wrap') || t;
        const cells = [...t.querySelectorAll('tbody td')].filter(td => td.innerText.trim());
        return {cls: t.className, width: t.scrollWidth, room: box.clientWidth,
                scrolls: box.scrollWidth > box.clientWidth + 1,
                narrowest: Math.min(...cells.map(td => td.getBoundingClientRect().width))};
    })""")
    bad = [t for t in found if t["width"] > t["room"] + 1 or t["scrolls"] or t["narrowest"] < 96]
    assert not bad, f"{path}: tables that do not read at 375 px: {bad}"
    for cell in page.locator("table.stack tbody td").all()[:40]:
        assert cell.get_attribute("data-label"), f"{path}: a stacked cell without its column label"


def test_admin_and_instructor_tables_fit_a_phone(open_page, live_server, axe_source):
    """Admin trainees (with a pending application), certificates, the gradebook and the license queue, and the
    instructor's gradebook and hours queue: readable at 375 px with no sideways scroll."""
    from lms.auth.models import User
    from lms.certificates.models import CertificateApplication

    def pending_application():
        trainee = db.session.execute(sa.select(User).filter_by(email=MASSAGE)).scalar_one()
        if db.session.execute(sa.select(CertificateApplication.id).filter_by(trainee_id=trainee.id,
                                                                             status="pending")).first() is None:
            db.session.add(CertificateApplication(trainee_id=trainee.id, program_id="omr"))
            db.session.commit()

    live_server.query(pending_application)
    for who, paths in ((ADMIN, ["/admin/trainees", "/admin/certificates", "/gradebook", "/licences"]),
                       (INSTRUCTOR, ["/gradebook", "/hours/queue"])):
        page = open_page(**PHONE)
        sign_in(page, who)
        for path in paths:
            page.goto(path)
            _fits(page, path)
            _tables_fit(page, path)
            _no_serious_axe(page, f"{path} at 375 px", axe_source)
        if who == ADMIN:
            page.goto("/admin/trainees")
            row = page.locator("table.stack tbody tr").first
            for label in ("Trainee", "Eligible"):
                box = row.locator(f'td[data-label="{label}"]').bounding_box()
                assert box and box["x"] >= 0 and box["x"] + box["width"] <= 375, (label, box)
            # The application is decided from the phone too (declined, so the other browser tests find the trainee
            # as they left them: eligible, with no application waiting).
            expect(page.get_by_role("button", name="Approve and issue")).to_be_visible()
            page.get_by_label(re.compile("^Note")).fill("Declined from the phone layout check.")
            page.get_by_role("button", name="Decline").click()
            expect(page.get_by_role("button", name="Approve and issue")).to_have_count(0)


def test_compact_menu_opens_without_any_script(open_page):
    page = open_page(java_script_enabled=False, **PHONE)
    sign_in(page, HYGIENIST)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_hidden()
    menu = page.locator("label.nav-toggle-label")
    expect(menu).to_be_visible()
    expect(menu).to_have_text(re.compile("Menu"))
    menu.click()
    expect(nav).to_be_visible()
    expect(nav.get_by_role("link", name="Hours", exact=True)).to_be_visible()
    nav.get_by_role("link", name="Hours", exact=True).click()
    expect(page).to_have_url(re.compile(r"/hours/$"))
    expect(nav).to_be_hidden()  # a new page starts folded
    # A group of links (a <details> menu) opens with no script either.
    open_menu(page)
    nav.locator("summary", has_text="Public pages").click()
    expect(nav.get_by_role("link", name="Regulations")).to_be_visible()


@pytest.mark.parametrize("who", [ADMIN, INSTRUCTOR, HYGIENIST])
def test_navigation_stays_on_one_line_at_1280(who, open_page):
    page = open_page()
    sign_in(page, who)
    page.goto("/dashboard")
    tops = page.evaluate("""() => [...document.querySelectorAll('nav[aria-label=Main] .nav > li')]
                              .map(li => Math.round(li.getBoundingClientRect().top))""")
    assert len(set(tops)) == 1, f"the navigation of {who} wraps onto {len(set(tops))} lines: {tops}"
    if who == ADMIN:
        nav_go(page, "Standards")  # grouped under Administration
        expect(page).to_have_url(re.compile(r"/admin/standards$"))


@pytest.mark.parametrize("width", list(WIDTHS))
def test_renewal_attestation_is_kept_after_a_reload(width, open_page):
    page = open_page(**WIDTHS[width])
    sign_in(page, HYGIENIST)
    page.goto("/renewal")
    expect(page.get_by_text("R-WINDOW")).to_have_count(0)
    # On a phone each cell also carries its column's label ("Requirement"), so match the cell by its own text.
    expect(page.locator('td[data-label="Requirement"]', has_text="Renewal window")).to_be_visible()
    sessions = "17" if width == "phone" else "23"
    page.get_by_label(re.compile("Orofacial sessions you provided")).fill(sessions)
    page.get_by_role("button", name="Save attestation").click()
    expect(page.locator(".flashes")).to_contain_text(f"Attestation saved: {sessions} sessions in this cycle.")
    page.reload()
    expect(page.get_by_label(re.compile("Orofacial sessions you provided"))).to_have_value(sessions)
    expect(page.get_by_text(re.compile(rf"Sessions attested: {sessions} of"))).to_be_visible()


@pytest.mark.parametrize("width", list(WIDTHS))
def test_dashboard_speaks_in_titles_and_apply_explains_itself(width, open_page):
    page = open_page(**WIDTHS[width])
    sign_in(page, SLP)
    page.goto("/dashboard")
    main = page.locator("main")
    expect(main).not_to_contain_text("Ohio")
    expect(main).not_to_contain_text(re.compile(r"\b(MODULES|H-LAB|H-CLIN)\b"))
    expect(main).not_to_contain_text(re.compile(r"\d{4}-\d{2}-\d{2}"))
    page.goto("/certificates")
    button = page.get_by_role("button", name="Apply for certification")
    if button.is_disabled():
        expect(page.locator("#apply-why")).to_be_visible()
        assert page.locator("#apply-why li").count() >= 1 or page.locator("#apply-why p").count() == 1


def test_instructor_filters_the_queue_and_approves_several_entries(open_page, live_server):
    from lms.auth.models import User
    from lms.core.timeutil import today
    from lms.hours import ledger
    from lms.training.operations import get_enrollment

    def prepare():
        trainee = db.session.execute(sa.select(User).filter_by(email=SLP)).scalar_one()
        sup = db.session.execute(sa.select(User).filter_by(email=INSTRUCTOR)).scalar_one()
        enrollment = get_enrollment(trainee.id, "omr")
        from datetime import timedelta

        for n in range(2):
            ledger.submit_entry(trainee, enrollment, ledger.EntryInput(
                entry_date=today() - timedelta(days=2), minutes=25, category="lab_in_person", supervisor_id=sup.id,
                setting=f"E2E bulk room {n}", notes=""), daily_cap_hours=24)
        db.session.commit()

    live_server.query(prepare)
    page = open_page()
    sign_in(page, INSTRUCTOR)
    nav_go(page, "Hours queue")
    page.get_by_label("Category").select_option(label="Lab, in person")
    page.get_by_role("button", name="Show").click()
    cards = page.locator("section.card").filter(has_text="E2E bulk room")
    expect(cards).to_have_count(2)
    expect(cards.first.get_by_role("link", name=re.compile("^Every entry of"))).to_be_visible()
    for card in cards.all():
        card.get_by_role("checkbox").check()
    page.get_by_role("button", name="Approve the ticked entries").click()
    expect(page.locator(".flashes")).to_contain_text("2 entries approved.")
    expect(page.locator("section.card").filter(has_text="E2E bulk room")).to_have_count(0)
