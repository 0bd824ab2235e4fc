"""Renewal: continuing education per cycle with sub-minimums, current licence and CPR, attested practice, and a
current agreement for Route N intraoral holders. A renewal is a new certificate linked to the one it renews."""

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest

from lms.certificates.issuing import add_months, current_certificate, issue_certificate
from lms.demo import log_practicum, pass_modules, record_observations
from lms.extensions import db
from lms.renewal import operations
from lms.standards.queries import current_version
from tests.factories import PASSWORD, PDF_BYTES, create_evidence, create_trainee, create_user, enrollment_of


@pytest.fixture
def certified(ctx, program):
    """A dental hygienist certified 23 months ago (inside the renewal window now)."""
    admin = create_user("admin")
    instructor = create_user("instructor")
    dentist = create_user("instructor", profession="dentist")
    trainee = create_trainee(profession="dental_hygienist", jurisdiction="CA-BC", email="renew@example.test",
                             days_ago=900)
    enrollment = enrollment_of(trainee)
    today = date.today()
    pass_modules(trainee, enrollment, program)
    log_practicum(trainee, enrollment, program, instructor, today, "D")
    record_observations(trainee, enrollment, current_version("omr"), [instructor, dentist], today)
    issued_on = add_months(today, -23)
    cert = issue_certificate(trainee, actor=admin, on=issued_on).certificate
    db.session.commit()
    return {"trainee": trainee, "admin": admin, "instructor": instructor, "cert": cert}


def _credits(trainee, verifier, spec):
    for topic, hours, days_ago in spec:
        credit = operations.record_ce(trainee, title=f"{topic} course", provider="CE provider", topic=topic,
                                      hours=Decimal(hours), completed_on=date.today() - timedelta(days=days_ago),
                                      evidence=create_evidence(trainee, "ce_credit"))
        operations.decide_ce(credit, "verified", actor=verifier)


def test_renewal_lists_what_is_missing(certified):
    decision = operations.renewal_decision(certified["cert"], attested_sessions=0)
    assert not decision.eligible
    by_id = {r.id: r for r in decision.requirements}
    assert by_id["R-WINDOW"].met
    assert not by_id["R-CE"].met and "0 of 24" in by_id["R-CE"].progress
    assert not by_id["R-CE-ethics"].met
    assert not by_id["R-PRACTICE"].met and "0 of 20" in by_id["R-PRACTICE"].progress
    assert "R-AGREEMENT" not in by_id  # Route D holders need no agreement


def test_credits_count_only_when_verified_and_inside_the_cycle(certified):
    trainee, instructor = certified["trainee"], certified["instructor"]
    operations.record_ce(trainee, title="Pending", provider="P", topic="orofacial", hours=Decimal(30),
                         completed_on=date.today(), evidence=create_evidence(trainee, "ce_credit"))
    _credits(trainee, instructor, [("orofacial", 20, 800)])  # before the certificate was issued
    decision = operations.renewal_decision(certified["cert"], attested_sessions=25)
    assert {r.id: r for r in decision.requirements}["R-CE"].progress.startswith("Continuing education: 0 of")


def test_sub_minimums_are_enforced(certified):
    _credits(certified["trainee"], certified["instructor"], [("orofacial", 24, 10)])
    decision = operations.renewal_decision(certified["cert"], attested_sessions=25)
    by_id = {r.id: r for r in decision.requirements}
    assert by_id["R-CE"].met and by_id["R-CE-orofacial"].met
    assert not by_id["R-CE-ethics"].met and not by_id["R-CE-infection_control"].met
    assert not decision.eligible


def test_renewal_issues_a_linked_certificate(certified, client):
    trainee, admin, cert = certified["trainee"], certified["admin"], certified["cert"]
    _credits(trainee, certified["instructor"], [("orofacial", 10, 30), ("ethics", 3, 20), ("infection_control", 1, 10),
                                                 ("other", 10, 5)])
    db.session.commit()
    client.post("/login", data={"email": "renew@example.test", "password": PASSWORD})
    resp = client.post("/renewal/request", data={"attested_sessions": "25"})
    assert resp.status_code == 302
    from lms.renewal.models import RenewalRequest

    req = db.session.execute(db.select(RenewalRequest)).scalar_one()
    operations.decide_renewal(req, approve=True, actor=admin)
    db.session.commit()
    new = current_certificate(trainee.id, "omr")
    assert new.id != cert.id and new.renews_id == cert.id
    assert new.issued_on == date.today() and new.expires_on == add_months(date.today(), 24)
    db.session.refresh(cert)
    assert not cert.is_current and cert.revocation is None  # the old one stays, valid until its own expiry
    page = client.get(f"/verify/{new.serial}")
    assert cert.serial.encode() in page.data


def test_route_n_intraoral_holder_needs_a_current_agreement(ctx, program):
    from lms.eligibility.facts import AgreementFact, TraineeFacts
    from lms.eligibility.renewal import CertificateFact, evaluate_renewal

    today = date.today()
    facts = TraineeFacts(email="m@x", name="M", profession="massage_therapist", jurisdiction="US-OR",
                         license_number="L", license_expires_on=today + timedelta(days=90), omt_status="verified",
                         omt_hours=28, omt_completed_on=today, cpr_expires_on=today + timedelta(days=90),
                         infection_control_ack=True, completed_modules=frozenset(), today=today,
                         agreements=(AgreementFact(1, "verified", today - timedelta(days=400),
                                                   today - timedelta(days=1), "dentist"),))
    cert = CertificateFact(today - timedelta(days=700), today + timedelta(days=30), ("extraoral", "intraoral"))
    decision = evaluate_renewal(current_version("omr").data, facts, cert, attested_sessions=30)
    agreement = {r.id: r for r in decision.requirements}["R-AGREEMENT"]
    assert not agreement.met and "agreement" in agreement.next_step


def test_ce_upload_is_checked_by_content(certified, client):
    db.session.commit()
    client.post("/login", data={"email": "renew@example.test", "password": PASSWORD})
    resp = client.post("/renewal/ce", data={"title": "Ethics", "provider": "P", "topic": "ethics", "hours": "2",
                                            "completed_on": date.today().isoformat(),
                                            "evidence": (io.BytesIO(b"not a pdf"), "x.pdf")},
                       content_type="multipart/form-data")
    assert resp.status_code == 422
    from lms.renewal.models import ContinuingEducation

    assert db.session.execute(db.select(ContinuingEducation)).first() is None
    resp = client.post("/renewal/ce", data={"title": "Ethics", "provider": "P", "topic": "ethics", "hours": "2",
                                            "completed_on": date.today().isoformat(),
                                            "evidence": (io.BytesIO(PDF_BYTES), "x.pdf")},
                       content_type="multipart/form-data")
    assert resp.status_code == 302


def test_practice_attestation_is_kept_and_shown_after_a_reload(certified, client):
    from lms.renewal.models import PracticeAttestation

    client.post("/login", data={"email": "renew@example.test", "password": PASSWORD})
    page = client.get("/renewal").get_data(as_text=True)
    assert "Not saved yet." in page and "Sessions attested: 0 of" in page
    # Codes stay out of the page: requirements read by their titles.
    assert "R-WINDOW" not in page and "R-CE" not in page and "Renewal window" in page
    assert "Orofacial, TMD or intraoral: 0 of" in page

    resp = client.post("/renewal/attestation", data={"attested_sessions": "12"})
    assert resp.status_code == 302
    page = client.get("/renewal").get_data(as_text=True)
    assert 'value="12"' in page and "Sessions attested: 12 of" in page and "Not saved yet." not in page

    client.post("/renewal/attestation", data={"attested_sessions": "30"})
    bad = client.post("/renewal/attestation", data={"attested_sessions": "lots"}, follow_redirects=True)
    assert "Enter a whole number of sessions" in bad.get_data(as_text=True)
    kept = db.session.execute(db.select(PracticeAttestation.sessions).order_by(PracticeAttestation.id)).scalars().all()
    assert kept == [12, 30]  # a new figure is a new record; the earlier one stays
    assert "Sessions attested: 30 of" in client.get("/renewal").get_data(as_text=True)
