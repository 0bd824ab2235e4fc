"""Is this PDF genuine? In Chromium: choosing a real issued PDF, a changed copy and a PDF from elsewhere, dropping a
file on the form (the external script), the status banner and the pages at 375 px, and axe on the new pages."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from lms.extensions import db
from tests.e2e.support import (
    ADMIN,
    BLOCKING_IMPACTS,
    HYGIENIST,
    axe_violations,
    describe,
    horizontal_overflow,
    real_pdf,
    sign_in,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def issued(live_server) -> dict:
    """The demo hygienist's certificate: its serial and the exact PDF bytes that were issued."""
    from lms.auth.models import User
    from lms.certificates.models import Certificate

    def load():
        cert = db.session.execute(sa.select(Certificate).join(User, User.id == Certificate.trainee_id)
                                  .where(User.email == HYGIENIST).order_by(Certificate.id)).scalars().first()
        return {"serial": cert.serial, "pdf": bytes(cert.pdf_bytes), "holder": cert.holder_name}

    return live_server.query(load)


def _check(page, name: str, data: bytes):
    page.goto("/verify")
    page.get_by_label("Certificate PDF (up to 5 MB)").set_input_files(
        files=[{"name": name, "mimeType": "application/pdf", "buffer": data}])
    page.get_by_role("button", name="Check the PDF").click()
    return page.locator("#pdf-verdict")


def test_an_issued_pdf_is_genuine_with_its_details(open_page, issued):
    page = open_page()
    verdict = _check(page, f"{issued['serial']}.pdf", issued["pdf"])
    expect(verdict).to_have_attribute("data-verdict", "genuine")
    expect(verdict).to_contain_text("Genuine")
    expect(page.locator("main")).to_contain_text(issued["holder"])
    expect(page.get_by_role("link", name=issued["serial"]).first).to_be_visible()


def test_a_changed_copy_and_a_foreign_pdf_are_refused(open_page, issued):
    page = open_page()
    data = bytearray(issued["pdf"])
    data[len(data) // 3] ^= 0x01  # one byte, inside the signed range
    verdict = _check(page, "changed.pdf", bytes(data))
    expect(verdict).to_have_attribute("data-verdict", "altered")
    expect(page.locator("main")).not_to_contain_text(issued["holder"])
    verdict = _check(page, "elsewhere.pdf", real_pdf("Avery Active completed orofacial massage training."))
    expect(verdict).to_have_attribute("data-verdict", "not_ours")
    expect(verdict).to_contain_text("Not issued by us")


def test_a_file_dropped_on_the_form_is_checked(open_page, issued):
    page = open_page()
    page.goto("/verify")
    zone = page.locator("[data-drop-zone]")
    # A drop as the browser makes it: a DataTransfer holding a File, dispatched on the zone.
    page.evaluate("""([bytes, name]) => {
        const transfer = new DataTransfer();
        transfer.items.add(new File([new Uint8Array(bytes)], name, {type: 'application/pdf'}));
        const zone = document.querySelector('[data-drop-zone]');
        zone.dispatchEvent(new DragEvent('dragover', {dataTransfer: transfer, bubbles: true, cancelable: true}));
        zone.dispatchEvent(new DragEvent('drop', {dataTransfer: transfer, bubbles: true, cancelable: true}));
    }""", [list(issued["pdf"]), "dropped.pdf"])
    expect(zone).not_to_have_class("is-dragging")
    assert page.locator("#file").evaluate("input => input.files[0].name") == "dropped.pdf"
    page.get_by_role("button", name="Check the PDF").click()
    expect(page.locator("#pdf-verdict")).to_have_attribute("data-verdict", "genuine")


def test_badges_open_on_their_own(open_page, issued):
    page = open_page()
    for kind in ("svg", "png"):  # the page watcher fails the test on any CSP violation
        resp = page.goto(f"/verify/{issued['serial']}/badge.{kind}")
        assert resp.status == 200 and resp.headers["content-type"].startswith("image/")


def test_verify_pages_fit_a_phone(open_page, issued):
    page = open_page(viewport={"width": 375, "height": 800})
    for path in ("/verify", f"/verify/{issued['serial']}"):
        page.goto(path)
        overflow = horizontal_overflow(page)
        assert overflow["scrollWidth"] <= 375, (path, overflow)
    expect(page.locator("#status-banner")).to_contain_text("Valid")


def test_new_pages_have_no_serious_axe_violations(open_page, axe_source, issued):
    failures = []

    def scan(page, where):
        blocking = [v for v in axe_violations(page, axe_source) if v["impact"] in BLOCKING_IMPACTS]
        if blocking:
            failures.append(f"{where}:\n{describe(blocking)}")

    public = open_page()
    for path in ("/verify", f"/verify/{issued['serial']}", "/help", "/help/faq", "/contact", "/privacy", "/terms"):
        public.goto(path)
        scan(public, path)
    _check(public, "c.pdf", issued["pdf"])
    scan(public, "/verify (PDF result)")
    trainee = open_page()
    sign_in(trainee, HYGIENIST)
    trainee.goto("/certificates")
    trainee.get_by_text("Share and embed").first.click()
    scan(trainee, "/certificates (share open)")
    admin = open_page()
    sign_in(admin, ADMIN)
    admin.goto(f"/admin/certificates/{issued['serial']}/revoke")
    scan(admin, "revoke form")
    admin.get_by_label("Public reason").select_option(label="Superseded")
    admin.get_by_label("Internal note").fill("Checked only; not confirmed")
    admin.get_by_role("button", name="Review the revocation").click()
    expect(admin.locator("#what-happens")).to_be_visible()
    scan(admin, "revoke confirmation")
    assert not failures, "serious or critical accessibility violations:\n" + "\n".join(failures)
