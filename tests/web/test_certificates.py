"""Certificates that boards can trust: issuance, the stored record, serials, schema guarantees, the signed PDF,
revocation and re-issue, and the demo certificate.

The helpers at the top (``qualified_trainee``, ``issue``, ``pdfsig``, ``pdftotext``) are shared by the other
certificate test modules.
"""

from __future__ import annotations

import calendar
import contextvars
import hashlib
import html
import re
import shutil
import subprocess
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.exc import IntegrityError

from lms.extensions import db
from tests.factories import PASSWORD, create_trainee, create_user, enrollment_of

PDFSIG = shutil.which("pdfsig") or "/usr/bin/pdfsig"
PDFTOTEXT = shutil.which("pdftotext") or "/usr/bin/pdftotext"
SERIAL_RE = re.compile(r"^OFM-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}$")


# --------------------------------------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------------------------------------


def qualified_trainee(email="harper@example.test", name="Harper Quinn Hygienist", today=None):
    """A dental hygienist who meets every requirement for both endorsements (the recipe of lms.demo.seed)."""
    from lms.demo import log_practicum, pass_modules, record_observations
    from lms.standards.queries import current_version
    from lms.training.models import Program

    today = today or date.today()
    program = db.session.get(Program, "omr")
    user = create_trainee(profession="dental_hygienist", jurisdiction="CA-BC", email=email, name=name, days_ago=200)
    enrollment = enrollment_of(user)
    instructor = create_user("instructor", profession="massage_therapist")
    dentist = create_user("instructor", profession="dentist")
    pass_modules(user, enrollment, program)
    log_practicum(user, enrollment, program, instructor, today, "D")
    record_observations(user, enrollment, current_version("omr"), [instructor, dentist], today)
    db.session.flush()
    return user


def admin_user(email="admin@example.test"):
    from lms.auth.models import User

    existing = db.session.execute(sa.select(User).filter_by(email=email)).scalar_one_or_none()
    return existing or create_user("admin", email=email)


def issue(user, on=None):
    """Issue through the domain operation and commit; returns the Certificate."""
    from lms.certificates.issuing import issue_certificate

    result = issue_certificate(user, actor=admin_user(), on=on)
    db.session.commit()
    return result.certificate


def expired_on() -> date:
    """An issue date far enough back that the 24-month certificate has expired."""
    return date.today() - timedelta(days=800)


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in its own application context.

    Inside the ``ctx`` fixture, requests would otherwise share the test's app context: the same ``g`` (so
    Flask-Login's cached user leaks from one client to the next) and the same database session (so the request
    would see the test's uncommitted rows). Here each request has a fresh ``g`` and its own session, as in
    production, so the test must commit before a request and start a new transaction before reading its effects.
    The request also runs in a copy of the thread's context variables: the app's before-request hook sets the
    SQLite write intent, and left behind it would make the test's own next transaction BEGIN IMMEDIATE and hold
    the write lock that the following request waits for.
    """

    def open(self, *args, **kwargs):
        def run():
            with self.application.app_context():
                return super(IsolatedClient, self).open(*args, **kwargs)

        return contextvars.copy_context().run(run)


def client_for(app, email=None):
    """An isolated client, signed in as ``email`` when given."""
    client = IsolatedClient(app, app.response_class, use_cookies=True)
    if email:
        resp = client.post("/login", data={"email": email, "password": PASSWORD})
        assert resp.status_code == 302, resp.data[:500]
    return client


def login(app, email):
    return client_for(app, email)


def refresh():
    """End the test's transaction so the next read sees what requests committed (SQLite keeps a snapshot)."""
    db.session.commit()
    db.session.expire_all()


def pdfsig(path) -> str:
    # No NSS trust database is configured on this machine (certutil is not installed), so pdfsig could only say
    # "Certificate issuer isn't Trusted"; -nocert skips the certificate check and leaves the signature and
    # coverage checks. The exit code is ignored on purpose: pdfsig exits 0 even on a digest mismatch.
    proc = subprocess.run([PDFSIG, "-nocert", str(path)],  # noqa: S603 - fixed tool, path from tmp_path
                          capture_output=True, text=True, timeout=60, check=False)
    return proc.stdout + proc.stderr


def pdftotext(path) -> str:
    proc = subprocess.run([PDFTOTEXT, "-layout", str(path), "-"],  # noqa: S603 - fixed tool, path from tmp_path
                          capture_output=True, text=True, timeout=60, check=True)
    return proc.stdout


def signed_range_offset(pdf: bytes) -> int:
    """An offset in the middle of the first signed byte range."""
    match = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf)
    assert match, "no /ByteRange in the signed PDF"
    start, length = int(match.group(1)), int(match.group(2))
    return start + length // 2


def flip_byte(pdf: bytes, offset: int) -> bytes:
    data = bytearray(pdf)
    data[offset] ^= 0x01
    return bytes(data)


def add_months(d: date, months: int) -> date:
    # Written independently of lms.certificates.issuing.add_months: the test must not reuse the code it checks.
    total = d.year * 12 + d.month - 1 + months
    year, month = divmod(total, 12)
    return date(year, month + 1, min(d.day, calendar.monthrange(year, month + 1)[1]))


# --------------------------------------------------------------------------------------------------------------------
# Issuance
# --------------------------------------------------------------------------------------------------------------------


def test_admin_issues_from_the_trainee_page(ctx, program):
    from lms.certificates.models import Certificate

    trainee = qualified_trainee()
    admin_user()
    db.session.commit()
    client = login(ctx, "admin@example.test")

    resp = client.post(f"/admin/trainees/{trainee.id}/issue", follow_redirects=True)
    assert resp.status_code == 200
    refresh()
    certs = db.session.execute(sa.select(Certificate).filter_by(trainee_id=trainee.id)).scalars().all()
    assert len(certs) == 1
    assert SERIAL_RE.match(certs[0].serial)
    assert f"Certificate {certs[0].serial} issued." in resp.get_data(as_text=True)
    assert certs[0].is_current

    # A second click returns the same certificate rather than a new one.
    again = client.post(f"/admin/trainees/{trainee.id}/issue", follow_redirects=True)
    assert f"already holds current certificate {certs[0].serial}" in again.get_data(as_text=True)
    refresh()
    assert db.session.execute(sa.select(sa.func.count(Certificate.id))).scalar_one() == 1


def test_ineligible_trainee_is_refused_with_the_decisions_reasons(ctx, program):
    from lms.certificates.issuing import NotEligible, issue_certificate
    from lms.certificates.models import Certificate
    from lms.eligibility.service import decision_for

    trainee = create_trainee(email="early@example.test")  # enrolled, nothing done yet
    admin = admin_user()
    db.session.commit()
    unmet = [r for r in decision_for(trainee).decision.requirements if not r.met]
    assert unmet

    with pytest.raises(NotEligible) as excinfo:
        issue_certificate(trainee, actor=admin)
    assert excinfo.value.decision is not None and not excinfo.value.decision.eligible
    assert {r.id for r in excinfo.value.decision.requirements if not r.met} == {r.id for r in unmet}
    db.session.rollback()

    client = login(ctx, "admin@example.test")
    resp = client.post(f"/admin/trainees/{trainee.id}/issue", follow_redirects=True)
    text = html.unescape(resp.get_data(as_text=True))
    assert "Not issued." in text
    assert f"{unmet[0].title}: {unmet[0].reason}" in text
    refresh()
    assert db.session.execute(sa.select(sa.func.count(Certificate.id))).scalar_one() == 0


def test_trainee_applies_and_admin_approves(ctx, program):
    from lms.certificates.models import Certificate, CertificateApplication

    trainee = qualified_trainee(email="applicant@example.test")
    admin_user()
    db.session.commit()

    trainee_client = login(ctx, "applicant@example.test")
    resp = trainee_client.post("/certificates/apply", follow_redirects=True)
    assert "sent to the administrators" in resp.get_data(as_text=True)
    refresh()
    application = db.session.execute(sa.select(CertificateApplication).filter_by(trainee_id=trainee.id)).scalar_one()
    assert application.status == "pending"
    # Applying twice is refused: one pending application at a time.
    twice = trainee_client.post("/certificates/apply", follow_redirects=True)
    assert "already waiting" in twice.get_data(as_text=True)
    refresh()
    assert db.session.execute(sa.select(sa.func.count(CertificateApplication.id))).scalar_one() == 1
    assert db.session.execute(sa.select(sa.func.count(Certificate.id))).scalar_one() == 0

    admin_client = login(ctx, "admin@example.test")
    resp = admin_client.post(f"/admin/applications/{application.id}", data={"decision": "approve"},
                             follow_redirects=True)
    assert f"Application {application.id} approved." in resp.get_data(as_text=True)
    refresh()
    cert = db.session.execute(sa.select(Certificate).filter_by(trainee_id=trainee.id)).scalar_one()
    application = db.session.get(CertificateApplication, application.id)
    assert application.status == "approved"
    assert application.certificate_id == cert.id
    assert SERIAL_RE.match(cert.serial)
    # The trainee now sees the certificate on their page.
    assert cert.serial in trainee_client.get("/certificates").get_data(as_text=True)


def test_ineligible_trainee_cannot_apply(ctx, program):
    from lms.certificates.models import CertificateApplication

    create_trainee(email="early@example.test")
    db.session.commit()
    client = login(ctx, "early@example.test")
    resp = client.post("/certificates/apply", follow_redirects=True)
    assert "not eligible yet" in resp.get_data(as_text=True)
    refresh()
    assert db.session.execute(sa.select(sa.func.count(CertificateApplication.id))).scalar_one() == 0


# --------------------------------------------------------------------------------------------------------------------
# Serials
# --------------------------------------------------------------------------------------------------------------------


def test_serial_normalisation_is_forgiving_but_checks_the_check_character():
    from lms.certificates.serials import ALPHABET, new_serial, normalize

    serial = new_serial()
    assert SERIAL_RE.match(serial)
    assert normalize(serial) == serial
    assert normalize(serial.lower()) == serial
    assert normalize(serial.replace("-", "")) == serial
    assert normalize(serial.replace("-", "").lower()) == serial
    assert normalize(f"  {serial[:9]} {serial[9:]} ") == serial
    # Every single-character change of the last (check) character is rejected.
    for other in ALPHABET:
        if other != serial[-1]:
            assert normalize(serial[:-1] + other) is None
    # A changed data character is caught by the check character too.
    data_pos = 5
    for other in ALPHABET:
        if other != serial[data_pos]:
            assert normalize(serial[:data_pos] + other + serial[data_pos + 1:]) is None
    for bad in ("", "OFM", "OFM-12345", serial + "0", "OFM-UUUUU-UUUUU-UUUUU", "<script>"):
        assert normalize(bad) is None


def test_a_thousand_serials_are_unique_and_well_formed():
    from lms.certificates.serials import new_serial, normalize

    serials = [new_serial() for _ in range(1000)]
    assert len(set(serials)) == 1000
    assert all(SERIAL_RE.match(s) and normalize(s) == s for s in serials)


# --------------------------------------------------------------------------------------------------------------------
# The stored record and the PDF download
# --------------------------------------------------------------------------------------------------------------------


def test_record_stores_what_was_printed_and_what_it_rests_on(ctx, program):
    from lms.standards.queries import current_version

    trainee = qualified_trainee()
    cert = issue(trainee)
    profile = trainee.profile
    standard = current_version("omr")

    assert cert.holder_name == profile.legal_name == "Harper Quinn Hygienist"
    assert cert.profession == "dental_hygienist"
    assert cert.license_number == profile.license_number
    assert cert.jurisdiction == "CA-BC"
    assert cert.endorsements == ["extraoral", "intraoral"]
    assert cert.standard_version_id == standard.id
    assert (cert.standard_version.standard_key, cert.standard_version.version) == ("omr-c", "0.5.1")
    assert cert.issued_on == date.today()
    assert cert.expires_on == add_months(cert.issued_on, int(standard.data["validity"]["months"]))
    assert cert.expires_on == add_months(date.today(), 24)

    evidence = cert.evidence
    # log_practicum: 8 × 120 min lab, 14 × 45 min extraoral, 16 × 45 min intraoral.
    assert evidence["hours_by_category"] == {"lab_in_person": 16.0, "clinical_extraoral": 10.5,
                                             "clinical_intraoral": 12.0}
    assert sorted(c["id"] for c in evidence["competencies_signed_off"]) == sorted(f"C{i}" for i in range(1, 11))
    assert all(c["title"] for c in evidence["competencies_signed_off"])
    assert evidence["screening_route"].startswith("D")
    assert evidence["modules_completed"] == [f"M{i}" for i in range(1, 12)]

    assert cert.pdf_bytes.startswith(b"%PDF-")
    assert cert.pdf_sha256 == hashlib.sha256(cert.pdf_bytes).hexdigest()


def test_snapshot_does_not_follow_later_profile_changes(ctx, program):
    trainee = qualified_trainee()
    cert = issue(trainee)
    trainee.profile.legal_name = "Someone Else"
    refresh()
    assert cert.holder_name == "Harper Quinn Hygienist"


def test_pdf_download_returns_exactly_the_stored_bytes(ctx, program):
    client = client_for(ctx)
    trainee = qualified_trainee()
    cert = issue(trainee)

    first = client.get(f"/certificates/{cert.serial}.pdf")
    second = client.get(f"/certificates/{cert.serial.lower()}.pdf")
    assert first.status_code == second.status_code == 200
    assert first.mimetype == "application/pdf"
    assert first.headers["Content-Disposition"] == f'attachment; filename="{cert.serial}.pdf"'
    assert hashlib.sha256(first.data).hexdigest() == cert.pdf_sha256
    assert first.data == second.data == cert.pdf_bytes
    assert client.get("/certificates/OFM-00000-00000-00000.pdf").status_code == 404


# --------------------------------------------------------------------------------------------------------------------
# Schema guarantees (what keeps duplicates out even when code races)
# --------------------------------------------------------------------------------------------------------------------


def test_schema_has_the_partial_unique_index_and_not_null_keys(ctx):
    inspector = sa.inspect(db.engine)
    columns = {c["name"]: c for c in inspector.get_columns("certificates")}
    for name in ("trainee_id", "program_id", "is_current", "serial", "status_index"):
        assert columns[name]["nullable"] is False, name

    uniques = {tuple(u["column_names"]) for u in inspector.get_unique_constraints("certificates")}
    unique_indexes = {tuple(i["column_names"]) for i in inspector.get_indexes("certificates") if i["unique"]}
    assert ("serial",) in uniques | unique_indexes
    assert ("status_index",) in uniques | unique_indexes

    index = next(i for i in inspector.get_indexes("certificates") if i["name"] == "uq_certificates_one_current")
    assert index["unique"]
    assert index["column_names"] == ["trainee_id", "program_id"]
    # The WHERE clause of a partial index is read from the catalog itself, per dialect.
    if db.engine.dialect.name == "sqlite":
        catalog = "SELECT sql FROM sqlite_master WHERE name = 'uq_certificates_one_current'"
    else:
        catalog = "SELECT indexdef FROM pg_indexes WHERE indexname = 'uq_certificates_one_current'"
    ddl = db.session.execute(sa.text(catalog)).scalar_one()
    assert re.search(r"UNIQUE INDEX", ddl, re.I)
    assert re.search(r"WHERE\s+\(?\s*is_current\s*\)?\s*$", ddl.strip(), re.I), ddl


def test_database_refuses_a_second_current_certificate(ctx, program):
    from lms.certificates.models import Certificate

    trainee = qualified_trainee()
    cert = issue(trainee)
    columns = [c.key for c in sa.inspect(Certificate).column_attrs if c.key not in ("id", "serial", "status_index")]
    counter = iter(range(1, 100))

    def copy(**changes):
        n = next(counter)
        values = {k: getattr(cert, k) for k in columns} | {"serial": f"OFM-TEST{n}-00000-00000",
                                                             "status_index": cert.status_index + n} | changes
        return Certificate(**values)

    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(copy())  # a second current certificate for the same trainee and program
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(copy(is_current=None))  # NULL would slip past a unique index; NOT NULL stops it
    with db.session.begin_nested():
        db.session.add(copy(is_current=False))  # superseded certificates may be many
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(copy(is_current=False, serial=cert.serial))  # serials are unique
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(copy(is_current=False, status_index=cert.status_index))  # status bits are never shared
    db.session.rollback()


# --------------------------------------------------------------------------------------------------------------------
# The signed PDF, read by independent tools
# --------------------------------------------------------------------------------------------------------------------


def test_pdf_text_shows_the_certified_facts(ctx, program, tmp_path):
    client = client_for(ctx)
    trainee = qualified_trainee()
    cert = issue(trainee)
    path = tmp_path / "cert.pdf"
    path.write_bytes(client.get(f"/certificates/{cert.serial}.pdf").data)

    text = pdftotext(path)
    flat = " ".join(text.split())
    assert "Harper Quinn Hygienist" in flat
    assert cert.serial in flat
    assert cert.license_number in flat
    assert re.search(r"extraoral", flat, re.I) and re.search(r"intraoral", flat, re.I)
    assert "omr-c version 0.5.1" in flat
    assert f"/verify/{cert.serial}" in flat


def test_pdfsig_reports_a_valid_signature_over_the_whole_file(ctx, program, tmp_path):
    cert = issue(qualified_trainee())
    path = tmp_path / "cert.pdf"
    path.write_bytes(cert.pdf_bytes)

    out = pdfsig(path)
    assert "Signature is Valid" in out
    assert "Total document signed" in out
    assert "Not total document signed" not in out
    assert "Digest Mismatch" not in out


def test_pdfsig_detects_a_changed_byte_inside_the_signed_range(ctx, program, tmp_path):
    cert = issue(qualified_trainee())
    path = tmp_path / "tampered.pdf"
    path.write_bytes(flip_byte(cert.pdf_bytes, signed_range_offset(cert.pdf_bytes)))

    out = pdfsig(path)
    assert "Digest Mismatch" in out
    assert "Signature is Valid" not in out


def test_pdfsig_detects_appended_bytes(ctx, program, tmp_path):
    cert = issue(qualified_trainee())
    path = tmp_path / "appended.pdf"
    path.write_bytes(cert.pdf_bytes + b"\n% added after signing\n")

    out = pdfsig(path)
    # pdfsig's wording: the signature itself still checks out, but it no longer covers the whole file.
    assert "Not total document signed" in out


# --------------------------------------------------------------------------------------------------------------------
# Revocation and re-issue
# --------------------------------------------------------------------------------------------------------------------


def test_admin_revokes_in_the_ui_and_every_path_reports_it(ctx, program):
    client = client_for(ctx)
    import io

    from lms.certificates.models import Certificate, CertificateRevocation
    from lms.core.audit import AuditEvent

    cert = issue(qualified_trainee())
    serial, pdf = cert.serial, cert.pdf_bytes
    admin_client = login(ctx, "admin@example.test")

    listing = admin_client.get("/admin/certificates").get_data(as_text=True)
    assert serial in listing and f"/admin/certificates/{serial}/revoke" in listing

    refused = admin_client.post(f"/admin/certificates/{serial}/revoke", data={"reason": "  ",
                                                                              "category": "requirements_not_met"})
    assert refused.status_code == 400 and "Write an internal note" in refused.get_data(as_text=True)
    refresh()
    assert db.session.execute(sa.select(sa.func.count(CertificateRevocation.id))).scalar_one() == 0

    no_category = admin_client.post(f"/admin/certificates/{serial}/revoke",
                                    data={"reason": "Licence suspended by the board", "confirm": "yes"})
    assert "Choose the public reason" in no_category.get_data(as_text=True)
    refresh()
    assert db.session.execute(sa.select(sa.func.count(CertificateRevocation.id))).scalar_one() == 0
    resp = admin_client.post(f"/admin/certificates/{serial}/revoke",
                             data={"reason": "Licence suspended by the board", "category": "requirements_not_met",
                                   "confirm": "yes"}, follow_redirects=True)
    assert f"Certificate {serial} revoked (requirements not met)." in resp.get_data(as_text=True)

    refresh()
    cert = db.session.execute(sa.select(Certificate).filter_by(serial=serial)).scalar_one()  # the row is kept
    assert cert.revocation.reason == "Licence suspended by the board"
    assert cert.revocation.revoked_on == date.today()
    assert not cert.is_current
    events = db.session.execute(sa.select(AuditEvent).filter_by(action="certificate.revoke", object_id=serial)
                                ).scalars().all()
    assert len(events) == 1 and events[0].details["reason"] == "Licence suspended by the board"

    page = client.get(f"/verify/{serial}").get_data(as_text=True)
    today = date.today()
    assert "Revoked" in page and f"{today.day} {today.strftime('%B %Y')}" in page
    assert "Requirements not met" in page and "Licence suspended by the board" not in page
    api = client.get(f"/api/v1/certificates/{serial}").json
    assert api["status"] == "revoked"
    assert api["revocation"] == {"date": date.today().isoformat(), "reason": "Requirements not met",
                                 "category": "requirements_not_met"}
    bulk = client.post("/api/v1/verify/bulk", json={"serials": [serial]}).json
    assert bulk["results"][0]["status"] == "revoked"
    check = client.post("/api/v1/verify", data={"file": (io.BytesIO(pdf), "c.pdf")}).json
    assert check["genuine"] is True and check["status"] == "revoked"

    twice = admin_client.post(f"/admin/certificates/{serial}/revoke", data={"reason": "again", "confirm": "yes"})
    assert "already revoked" in twice.get_data(as_text=True)
    refresh()
    assert db.session.execute(sa.select(sa.func.count(CertificateRevocation.id))).scalar_one() == 1


def test_revoking_twice_is_refused_in_the_domain(ctx, program):
    from lms.certificates.issuing import RevocationError, revoke

    cert = issue(qualified_trainee())
    revoke(cert, actor=admin_user(), reason="Issued in error")
    db.session.commit()
    with pytest.raises(RevocationError, match="already revoked"):
        revoke(cert, actor=admin_user(), reason="Again")


def test_after_revocation_a_new_certificate_is_only_an_explicit_reissue(ctx, program):
    client = client_for(ctx)
    from lms.certificates.issuing import ReissueRefused, issue_certificate, revoke
    from lms.certificates.models import Certificate

    trainee = qualified_trainee()
    old = issue(trainee)
    revoke(old, actor=admin_user(), reason="Name printed wrongly")
    db.session.commit()

    with pytest.raises(ReissueRefused, match="explicit reissue, with a reason"):
        issue_certificate(trainee, actor=admin_user())
    db.session.rollback()
    new = issue_certificate(trainee, actor=admin_user(), reissue_reason="Name corrected").certificate
    db.session.commit()
    assert new.serial != old.serial and new.id != old.id and new.replaces_id == old.id
    assert new.is_current and new.revocation is None
    refresh()
    certs = db.session.execute(sa.select(Certificate).filter_by(trainee_id=trainee.id).order_by(Certificate.id)
                               ).scalars().all()
    assert [c.serial for c in certs] == [old.serial, new.serial]
    assert client.get(f"/api/v1/certificates/{old.serial}").json["status"] == "revoked"
    assert client.get(f"/api/v1/certificates/{new.serial}").json["status"] == "active"


# --------------------------------------------------------------------------------------------------------------------
# Demo
# --------------------------------------------------------------------------------------------------------------------


def test_demo_seed_issues_one_active_certificate_to_the_hygienist(ctx, program):
    client = client_for(ctx)
    from lms.auth.models import User
    from lms.certificates.models import Certificate
    from lms.demo import seed

    seed()
    db.session.commit()
    hygienist = db.session.execute(sa.select(User).filter_by(email="hygienist@orocert.test")).scalar_one()
    certs = db.session.execute(sa.select(Certificate).filter_by(trainee_id=hygienist.id)).scalars().all()
    assert len(certs) == 1  # (the directory demo certifies two more providers of its own)
    assert client.get(f"/api/v1/certificates/{certs[0].serial}").json["status"] == "active"
    # Seeding again changes nothing.
    total = db.session.execute(sa.select(sa.func.count(Certificate.id))).scalar_one()
    seed()
    db.session.commit()
    assert db.session.execute(sa.select(sa.func.count(Certificate.id))).scalar_one() == total

    home = client.get("/").get_data(as_text=True)
    assert re.search(r'(href|action)="/verify"', home)


def test_admin_searches_certificates_by_serial_name_or_email(ctx, program):
    first = issue(qualified_trainee())
    second = issue(qualified_trainee(email="rowan@example.test", name="Rowan Second Hygienist"))
    admin_client = login(ctx, "admin@example.test")

    def listing(q):
        return admin_client.get("/admin/certificates", query_string={"q": q}).get_data(as_text=True)

    by_serial = listing(first.serial.lower().replace("-", " "))  # however it was typed
    assert first.serial in by_serial and second.serial not in by_serial
    by_name = listing("rowan second")
    assert second.serial in by_name and first.serial not in by_name
    by_email = listing("harper@example")
    assert first.serial in by_email and second.serial not in by_email
    nothing = listing("nobody-by-this-name")
    assert "<table" not in nothing and "No certificate matches “nobody-by-this-name”." in nothing
    assert listing("100%_") and "No certificate matches" in listing("100%_")  # wildcards are literal
    assert admin_client.get("/admin/certificates?page=0").status_code == 404
