"""The main journeys of each role, driven through a real browser against the running app (CSRF on).

Each test asserts what the person sees on the page, then (where it matters) that the database agrees.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from lms.core.formatting import format_date
from lms.demo import DEMO_PASSWORD
from lms.extensions import db
from tests.e2e.support import (
    ADMIN,
    BOARD,
    HYGIENIST,
    INSTRUCTOR,
    MASSAGE,
    SERIAL_RE,
    flash,
    nav_go,
    real_pdf,
    sign_in,
    today_iso,
)

pytestmark = pytest.mark.e2e


def _user_id(live_server, email):
    from lms.auth.models import User

    return live_server.query(lambda: db.session.execute(sa.select(User.id).filter_by(email=email)).scalar_one())


def _emailed_link(live_server, address: str, path: str) -> str:
    """The link to ``path`` in the latest email to ``address`` (mail leaves just after the response: wait for it)."""
    import email
    import email.policy
    import time
    from pathlib import Path

    outbox = Path(live_server.app.config["INSTANCE_PATH"]) / "outbox"
    for _ in range(50):
        for eml in sorted(outbox.glob("*.eml"), reverse=True):
            msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
            if msg["To"] == address:
                text = msg.get_body(preferencelist=("plain",)).get_content()
                found = re.search(r"https?://[^/\s]+(" + re.escape(path) + r"\S+)", text)
                assert found, text
                return found.group(1)
        time.sleep(0.1)
    raise AssertionError(f"no email to {address} in {outbox}")


def _module_one(live_server):
    from lms.training.models import Module
    from lms.training.operations import online_hours

    def load():
        m = db.session.execute(sa.select(Module).filter_by(program_id="omr", module_key="M1")).scalar_one()
        return {"title": m.title, "hours": float(online_hours(m)),
                "questions": [{"prompt": q["prompt"], "answer": q["choices"][q["answer"]]} for q in m.questions]}

    return live_server.query(load)


def _current_certificate(live_server, email):
    from lms.auth.models import User
    from lms.certificates.models import Certificate

    def load():
        user = db.session.execute(sa.select(User).filter_by(email=email)).scalar_one()
        cert = db.session.execute(sa.select(Certificate).filter_by(trainee_id=user.id, is_current=True)
                                  .order_by(Certificate.id.desc())).scalars().first()
        return cert.serial if cert else None

    return live_server.query(load)


def test_csrf_protection_is_on_in_the_browser(page):
    """A form posted without its CSRF token is refused: the flows below really carry tokens."""
    page.goto("/login")
    page.locator("input[name=csrf_token]").evaluate("el => el.remove()")
    page.get_by_label("Email", exact=True).fill(ADMIN)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Your form expired or was sent from elsewhere")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)


def test_new_trainee_registers_is_verified_enrolls_and_passes_module_one(open_page, live_server):
    trainee, instructor = open_page(), open_page()
    module = _module_one(live_server)

    # Registration leads straight to the profile.
    trainee.goto("/")
    trainee.get_by_role("navigation", name="Main").get_by_role("link", name="Register").click()
    trainee.get_by_label("Full name").fill("Robin Register")
    trainee.get_by_label("Email", exact=True).fill("robin.register@example.test")
    trainee.get_by_label("Password", exact=True).fill("a long e2e passphrase 2024")
    trainee.get_by_label("Repeat password").fill("a long e2e passphrase 2024")
    trainee.get_by_role("button", name="Create account").click()
    expect(flash(trainee)).to_contain_text("Check your email")
    # The verification email (an .eml file: the live server has no mail server), then sign in.
    trainee.goto(_emailed_link(live_server, "robin.register@example.test", "/verify-email/"))
    trainee.get_by_role("button", name="Confirm", exact=True).click()
    expect(flash(trainee)).to_contain_text("your email address is verified")
    trainee.get_by_label("Email", exact=True).fill("robin.register@example.test")
    trainee.get_by_label("Password", exact=True).fill("a long e2e passphrase 2024")
    trainee.get_by_role("button", name="Sign in").click()
    trainee.goto("/profile")
    expect(trainee.get_by_role("heading", name="Provider profile", level=1)).to_be_visible()

    # The profile.
    trainee.get_by_label("Legal name").fill("Robin Avery Register")
    trainee.get_by_label("Profession", exact=True).select_option("massage_therapist")
    trainee.get_by_label("License or registration number").fill("MA-60012345")
    trainee.get_by_label("License expiry date").fill((date.today() + timedelta(days=400)).isoformat())
    trainee.get_by_label("Issuing jurisdiction").select_option("US-WA")
    trainee.get_by_label("CPR/BLS card expiry date").fill((date.today() + timedelta(days=300)).isoformat())
    trainee.get_by_label(re.compile("infection-control and glove protocol")).check()
    trainee.get_by_role("button", name="Save profile").click()
    expect(flash(trainee)).to_contain_text("Your profile was saved.")
    expect(trainee.get_by_label("Legal name")).to_have_value("Robin Avery Register")

    # The OMT credential, with a real PDF as evidence.
    trainee.get_by_label("Course provider").fill("Academy of Orofacial Myofunctional Therapy")
    trainee.get_by_label("Course hours").fill("28")
    trainee.get_by_label("Completion date").fill("2024-05-17")
    trainee.get_by_label(re.compile("Certificate or transcript")).set_input_files(
        {"name": "omt-certificate.pdf", "mimeType": "application/pdf", "buffer": real_pdf("Robin Avery Register")})
    trainee.get_by_role("button", name="Submit credential").click()
    expect(flash(trainee)).to_contain_text("Your OMT credential was submitted.")
    expect(trainee.get_by_role("table").filter(has_text="Academy of Orofacial")).to_contain_text("Pending")

    # The trainee names the instructor who will act for them (instructors act only for trainees who named them).
    trainee.get_by_label("Name an instructor").select_option(label="Ines Instructor")
    trainee.get_by_role("button", name="Add instructor").click()
    expect(flash(trainee)).to_contain_text("Ines Instructor can now act for you.")

    trainee.get_by_role("link", name="Modules").click()
    expect(trainee.get_by_text("Your OMT credential is waiting for verification.")).to_be_visible()
    expect(trainee.get_by_role("button", name=re.compile("^Enroll in"))).to_have_count(0)

    # An instructor downloads the evidence and verifies the credential.
    sign_in(instructor, INSTRUCTOR)
    nav_go(instructor, "Credentials")  # grouped under "Review" in the navigation
    card = instructor.locator("section.card").filter(has=instructor.get_by_role("heading", name="Robin Register"))
    expect(card).to_contain_text("Academy of Orofacial Myofunctional Therapy")
    with instructor.expect_download() as download:
        card.get_by_role("link", name="Download omt-certificate.pdf").click()
    assert download.value.path().read_bytes().startswith(b"%PDF-")
    card.get_by_label("Decision").select_option(label="Verify")
    card.get_by_role("button", name="Record decision").click()
    expect(flash(instructor)).to_contain_text("Credential of Robin Register verified.")
    expect(instructor.get_by_role("heading", name="Robin Register")).to_have_count(0)

    # The trainee enrolls, reads module 1 and passes its knowledge check.
    trainee.reload()
    expect(trainee.get_by_text("Every prerequisite holds. You can enroll now.")).to_be_visible()
    trainee.get_by_role("button", name=re.compile("^Enroll in")).click()
    expect(flash(trainee)).to_contain_text("You are enrolled in")
    trainee.get_by_role("link", name=module["title"]).click()
    expect(trainee.get_by_role("heading", level=1, name=f"M1. {module['title']}")).to_be_visible()
    # The check shows a draw of 7 of the bank's items; answer the ones shown.
    form = trainee.locator("#check-form")
    expect(form.locator("fieldset")).to_have_count(7)
    answered = 0
    for q in module["questions"]:
        group = form.locator("fieldset").filter(has=trainee.locator("legend", has_text=q["prompt"]))
        if group.count():
            group.get_by_label(q["answer"], exact=True).check()
            answered += 1
    assert answered == 7
    trainee.get_by_role("button", name="Submit answers").click()
    hours = f"{module['hours']:g}"
    expect(flash(trainee)).to_contain_text(f"You passed with 100%. {hours} online hours were credited.")
    expect(trainee.locator("#result")).to_contain_text("7 of 7 correct (100%) · Passed")
    assert trainee.url.endswith("#result")
    expect(trainee.get_by_text(f"{hours} online hours credited on {format_date(date.fromisoformat(today_iso()))}")) \
        .to_be_visible()
    expect(trainee.get_by_role("link", name=re.compile("^Next module: M2. "))).to_be_visible()
    expect(trainee.locator(".badge.ok", has_text="Passed")).to_be_visible()
    trainee.get_by_role("link", name=re.compile("Orofacial Massage")).first.click()
    expect(trainee.get_by_role("row").filter(has_text=module["title"])).to_contain_text("Passed")


def test_hygienist_screens_logs_intraoral_session_and_contraindication_blocks(open_page):
    trainee, instructor = open_page(), open_page()
    today = today_iso()  # what a date field takes
    shown = format_date(date.fromisoformat(today))  # how pages write it
    sign_in(trainee, HYGIENIST)

    # Route D: the dental hygienist screens the patient herself.
    trainee.get_by_role("link", name="Screenings").click()
    expect(trainee.get_by_text("Route D.")).to_be_visible()
    trainee.get_by_label("Session date").fill(today)
    trainee.get_by_label("Case number", exact=True).fill("E2E-D1")
    expect(trainee.get_by_label("I did (Route D)")).to_be_checked()
    findings = trainee.locator("fieldset").filter(has_text="Findings")
    for box in findings.get_by_role("textbox").all():
        box.fill("normal")
    trainee.get_by_role("button", name="Record screening").click()
    expect(flash(trainee)).to_contain_text("Screening recorded for case E2E-D1: no contraindication found.")
    expect(trainee.get_by_role("row").filter(has_text="E2E-D1")).to_contain_text("Clear")

    # The clinical intraoral session, logged against that screening.
    trainee.get_by_role("link", name="Hours").click()
    intraoral = trainee.locator(".progress-row").filter(has_text="Clinical, intraoral")
    before = intraoral.locator(".progress-text").inner_text()
    trainee.get_by_label("Date of the session").fill(today)
    trainee.get_by_label("Hours", exact=True).fill("0")
    trainee.get_by_label("Minutes", exact=True).fill("45")
    trainee.get_by_label("Category").select_option(label="Clinical, intraoral")
    trainee.get_by_label("Supervising instructor").select_option(label="Ines Instructor")
    trainee.get_by_label("Setting").fill("University teaching clinic")
    trainee.get_by_label("Case number").fill("E2E-D1")
    trainee.get_by_label(re.compile("Pre-treatment screening")).select_option(label=f"{shown} · case E2E-D1 · clear")
    trainee.get_by_label("Notes").fill("Intraoral myofascial release, buccinator and masseter.")
    trainee.get_by_role("button", name="Submit hours").click()
    expect(flash(trainee)).to_contain_text("Your hours were submitted to your supervisor.")
    row = trainee.get_by_role("row").filter(has_text=shown).filter(has_text="Clinical, intraoral")
    expect(row).to_contain_text("Submitted")

    # The named instructor approves it from the queue.
    sign_in(instructor, INSTRUCTOR)
    instructor.get_by_role("link", name="Hours queue").click()
    card = instructor.locator("section.card").filter(
        has=instructor.get_by_role("heading", name=f"Harper Hygienist · {shown} · Clinical, intraoral · 45 min"))
    expect(card).to_contain_text("clear, no contraindication ticked")
    card.get_by_label("Decision").select_option(label="Approve")
    card.get_by_role("button", name="Record decision").click()
    expect(flash(instructor)).to_contain_text("of Harper Hygienist: approved.")
    expect(card).to_have_count(0)

    trainee.reload()
    expect(row).to_contain_text("Approved")
    before_hours = float(before.split(" of ")[0])
    expect(intraoral.locator(".progress-text")).to_have_text(re.compile(rf"^{before_hours + 0.75:g} of "))

    # A screening with an absolute contraindication blocks the intraoral session: refer and defer.
    trainee.get_by_role("link", name="Screenings").click()
    trainee.get_by_label("Session date").fill(today)
    trainee.get_by_label("Case number", exact=True).fill("E2E-D2")
    for box in trainee.locator("fieldset").filter(has_text="Findings").get_by_role("textbox").all():
        box.fill("normal")
    trainee.get_by_role("checkbox", name=re.compile("^Fever")).check()
    trainee.get_by_role("button", name="Record screening").click()
    expect(flash(trainee)).to_contain_text("Screening recorded for case E2E-D2. Do not treat intraorally.")
    expect(trainee.get_by_role("row").filter(has_text="E2E-D2")).to_contain_text("Blocked: refer, defer")

    trainee.get_by_role("link", name="Hours").click()
    trainee.get_by_label("Date of the session").fill(today)
    trainee.get_by_label("Minutes", exact=True).fill("30")
    trainee.get_by_label("Category").select_option(label="Clinical, intraoral")
    trainee.get_by_label("Supervising instructor").select_option(label="Ines Instructor")
    trainee.get_by_label("Setting").fill("University teaching clinic")
    trainee.get_by_label("Case number").fill("E2E-D2")
    trainee.get_by_label(re.compile("Pre-treatment screening")).select_option(label=f"{shown} · case E2E-D2 · blocked")
    trainee.get_by_role("button", name="Submit hours").click()
    message = flash(trainee)
    expect(message).to_contain_text("The screening found an absolute contraindication. Do not treat intraorally.")
    expect(message).to_contain_text("Fever: Defer until the patient has been well and without fever.")
    expect(trainee.get_by_role("row").filter(has_text="E2E-D2")).to_have_count(0)  # nothing was logged


def test_instructor_records_a_signed_assessment(open_page):
    page = open_page()
    sign_in(page, INSTRUCTOR)
    page.get_by_role("link", name="Gradebook").click()
    page.get_by_role("link", name="Sam Speech").click()  # the display name, as in the hours queue
    expect(page.get_by_role("heading", name="Sam Speech", level=1)).to_be_visible()
    expect(page.get_by_text("Legal name, printed on certificates: Samira Speech")).to_be_visible()

    page.get_by_label("Competency").select_option(value="C5")
    page.get_by_role("button", name="Show rubric").click()
    rubric = page.locator("form").filter(has=page.get_by_role("button", name="Sign observation"))
    expect(rubric.get_by_role("heading", level=3)).to_contain_text("C5")
    criteria = rubric.locator("fieldset").filter(has_text="Rubric criteria met").get_by_role("checkbox")
    assert criteria.count() >= 2
    for box in criteria.all():
        box.check()
    rubric.get_by_label(re.compile(r"4: Unsupervised practice")).check()
    rubric.get_by_label("Case number (optional, never a patient identifier)").fill("E2E-C5")
    rubric.get_by_label("Comments").fill("Clear explanation, safe pressure, checked in with the client throughout.")
    rubric.get_by_role("button", name="Sign observation").click()

    expect(flash(page)).to_contain_text("C5 observation signed: passes (level 4).")
    newest = page.get_by_role("table").last.get_by_role("row").nth(1)
    expect(newest).to_contain_text("C5")
    expect(newest).to_contain_text("Passes")
    expect(newest).to_contain_text("Ines Instructor")
    newest.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("C5")
    expect(page.locator(".facts")).to_contain_text("E2E-C5")


def test_admin_issues_a_certificate_to_an_eligible_trainee(open_page, live_server):
    page = open_page()
    trainee_id = _user_id(live_server, MASSAGE)
    sign_in(page, ADMIN)
    page.get_by_role("link", name="Trainees").click()
    page.get_by_role("link", name="Morgan Massage").click()
    expect(page).to_have_url(re.compile(rf"/admin/trainees/{trainee_id}$"))
    decision = page.get_by_role("region", name="Certification decision")
    expect(decision).to_contain_text("Endorsements qualified: extraoral")

    page.get_by_role("button", name="Issue certificate").click()
    expect(flash(page)).to_contain_text(re.compile(r"Certificate OFM-\S+ issued\."))
    serial = SERIAL_RE.search(flash(page).inner_text()).group(0)
    listed = page.locator("section.card").filter(has=page.get_by_role("heading", name="Certificates"))
    expect(listed.get_by_role("link", name=serial)).to_be_visible()
    expect(listed).to_contain_text("endorsements extraoral")
    assert _current_certificate(live_server, MASSAGE) == serial


def test_board_bulk_verifies_a_csv(open_page, live_server):
    from lms.certificates.serials import new_serial

    demo_serial = _current_certificate(live_server, HYGIENIST)
    unknown = new_serial()
    page = open_page()
    sign_in(page, BOARD)
    expect(page.get_by_role("heading", name="Verify certificates in bulk")).to_be_visible()
    csv = f"serial,last name\n{demo_serial},Hygienist\n{unknown},Nobody\nOFM-NOT-A-SERIAL,Smith\n"
    page.get_by_label("CSV file").set_input_files(
        {"name": "board-check.csv", "mimeType": "text/csv", "buffer": csv.encode()})
    page.get_by_label("A table on this page").check()
    page.get_by_role("button", name="Verify").click()

    expect(page.get_by_role("heading", name="Results (3)")).to_be_visible()
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0).locator("td").nth(1)).to_have_text("active")
    expect(rows.nth(0)).to_contain_text("Harper Quinn Hygienist")
    expect(rows.nth(0)).to_contain_text("yes")  # the last name matches
    expect(rows.nth(1).locator("td").nth(1)).to_have_text("unknown")
    expect(rows.nth(1)).to_contain_text("No certificate with this serial.")
    expect(rows.nth(2).locator("td").nth(1)).to_have_text("unknown")
    expect(rows.nth(2)).to_contain_text("Not a valid serial.")


def test_admin_revokes_and_the_public_page_shows_it(open_page, live_server):
    from lms.auth.models import User
    from lms.certificates.issuing import issue_certificate

    serial = _current_certificate(live_server, MASSAGE)
    if serial is None:  # this test may run on its own: issue the certificate the admin is about to revoke
        def issue():
            admin = db.session.execute(sa.select(User).filter_by(email=ADMIN)).scalar_one()
            trainee = db.session.execute(sa.select(User).filter_by(email=MASSAGE)).scalar_one()
            result = issue_certificate(trainee, actor=admin)
            db.session.commit()
            return result.certificate.serial

        serial = live_server.query(issue)

    admin = open_page()
    sign_in(admin, ADMIN)
    admin.get_by_role("link", name="Certificates").click()
    row = admin.get_by_role("row").filter(has=admin.get_by_role("link", name=serial))
    expect(row).to_contain_text("active")
    note = "Licence suspended by the Oregon Board of Massage Therapists."
    row.get_by_role("link", name="Revoke…").click()
    admin.get_by_label("Public reason").select_option(label="Requirements not met")
    admin.get_by_label("Internal note").fill(note)
    admin.get_by_role("button", name="Review the revocation").click()
    # The confirmation step: what will happen, and nothing written yet.
    expect(admin.get_by_role("heading", level=1)).to_contain_text(f"Confirm: revoke certificate {serial}?")
    expect(admin.locator("#what-happens")).to_contain_text("“Requirements not met”")
    admin.get_by_role("button", name=f"Yes, revoke {serial}").click()
    expect(flash(admin)).to_contain_text(f"Certificate {serial} revoked (requirements not met).")
    row = admin.get_by_role("row").filter(has=admin.get_by_role("link", name=serial))
    expect(row).to_contain_text("revoked: Requirements not met")
    expect(row).to_contain_text(f"Internal note: {note}")
    expect(row.get_by_role("link", name="Revoke…")).to_have_count(0)

    public = open_page()  # anyone, not signed in
    public.goto("/verify")
    public.get_by_label("Certificate serial").fill(serial.lower())
    public.get_by_role("button", name="Verify").click()
    expect(public).to_have_url(re.compile(rf"/verify/{serial}$"))
    banner = public.locator("#status-banner")
    expect(banner).to_contain_text("Revoked")
    expect(banner).to_contain_text("Reason: Requirements not met")
    expect(public.locator("main")).not_to_contain_text(note)  # the internal note stays internal
    expect(public.locator(".status-banner-active")).to_have_count(0)
