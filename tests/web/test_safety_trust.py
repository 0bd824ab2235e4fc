"""Nothing on a certificate rests on an unchecked claim: screenings that never lose a tick, licences verified at the
source, hours that belong to the program, complete certificate history, and one decision everywhere."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from lms.core.audit import AuditEvent
from lms.extensions import db
from lms.hours.models import HourEntry
from lms.providers.models import AdvancedStanding, Licence
from lms.screening.models import Screening
from tests.factories import (
    create_evidence,
    create_trainee,
    create_user,
    enrollment_of,
    name_instructor,
    post_committed,
    registrar,
    verify_licence,
)
from tests.factories import page_text as _text
from tests.factories import signed_in_client as _client
from tests.web.test_screening import _hours_form, _screening_form, verified_agreement

TODAY = date.today()


def _words(resp) -> str:
    """The page's text without tags, as a reader sees it."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", _text(resp)))


def _status(client, url) -> int:
    with client.get(url) as resp:
        return resp.status_code


def _count(model, **where) -> int:
    db.session.expire_all()
    return db.session.execute(sa.select(sa.func.count()).select_from(model).filter_by(**where)).scalar_one()


def _decision(user):
    from lms.eligibility.service import decision_for

    db.session.expire_all()
    return decision_for(user)


def _req(user, rid):
    return next(r for r in _decision(user).decision.requirements if r.id == rid)


def _checked(page: str, name: str, value: str) -> bool:
    tag = re.search(rf'<input type="checkbox" name="{name}" value="{value}"[^>]*>', page)
    assert tag, f"no {name}={value} checkbox on the page"
    return "checked" in tag.group(0)


@pytest.fixture
def route_n_trainee(ctx, program):
    instructor = create_user("instructor", email="sup@trust.test")
    mt = create_trainee(email="mt@trust.test", profession="massage_therapist", jurisdiction="US-OR")
    agreement = verified_agreement(mt, registrar(), valid_from=TODAY - timedelta(days=100),
                                   valid_until=TODAY + timedelta(days=200))
    db.session.commit()
    return mt, instructor, agreement


# --------------------------------------------------------------------------- 1. the screening form


def test_ticks_and_text_survive_a_validation_error_and_the_outcome_comes_from_the_ticks(app, route_n_trainee):
    mt, instructor, _ = route_n_trainee
    client = _client(app, mt.email)
    form = _screening_form(TODAY, "collaborator", clearance=TODAY - timedelta(days=2),
                           absolute=["infection"], relative=["gag"], modifications="Short bouts at the front.")
    form["finding-teeth"] = ""  # one finding left blank
    form["outcome"] = "clear"  # a posted outcome is never used
    resp = client.post("/screenings", data=form)
    assert resp.status_code == 422
    page = _text(resp)
    assert "Record a finding for every structure" in page
    assert _checked(page, "absolute", "infection") and _checked(page, "relative", "gag")
    assert not _checked(page, "absolute", "lesion")
    assert _checked(page, "attest_no_change", "yes")
    assert "Short bouts at the front." in page and 'value="K1"' in page
    assert _count(Screening) == 0

    # Sent again with the finding filled in, exactly as the page now holds it: the ticks decide the outcome.
    form["finding-teeth"] = "normal"
    resp = client.post("/screenings", data=form, follow_redirects=True)
    screening = db.session.execute(sa.select(Screening)).scalar_one()
    assert screening.outcome == "blocked"
    assert screening.absolute_contraindications == ["infection"] and screening.relative_contraindications == ["gag"]
    assert "Do not treat intraorally" in _text(resp)
    refused = client.post("/hours/", data=_hours_form(TODAY, instructor, screening.id))
    assert refused.status_code == 422 and _count(HourEntry) == 0


@pytest.mark.parametrize(("key", "kind"), [("antiresorptive", "relative"), ("neutropenia", "absolute"),
                                           ("vesicular", "absolute"), ("neuro_recurrence", "absolute")])
def test_the_checklist_covers_mronj_drugs_neutropenia_vesicles_and_recurrence(key, kind):
    from lms.screening.checklist import ITEMS, outcome_for

    item = ITEMS[key]
    assert item.kind == kind and len(item.action) > 20
    expected = "blocked" if kind == "absolute" else "modify"
    assert outcome_for([key] if kind == "absolute" else [], [key] if kind == "relative" else []) == expected


def test_route_n_clearance_needs_a_document_or_letter_and_the_attestation(app, route_n_trainee):
    mt, instructor, _ = route_n_trainee
    client = _client(app, mt.email)
    clearance = TODAY - timedelta(days=3)
    no_proof = client.post("/screenings", data=_screening_form(TODAY, "collaborator", clearance=clearance,
                                                               reference=""))
    assert no_proof.status_code == 422 and "Attach the dental professional's clearance" in _text(no_proof)
    no_attest = client.post("/screenings", data=_screening_form(TODAY, "collaborator", clearance=clearance,
                                                                attest=False))
    assert no_attest.status_code == 422 and "Confirm that nothing new has happened" in _text(no_attest)
    assert _count(Screening) == 0

    # An uploaded clearance document serves as well as a letter reference.
    import io

    from tests.web.test_screening import make_pdf

    form = _screening_form(TODAY, "collaborator", clearance=clearance, reference="")
    form["clearance_document"] = (io.BytesIO(make_pdf("Cleared for intraoral work")), "clearance.pdf")
    ok = client.post("/screenings", data=form, content_type="multipart/form-data")
    assert ok.status_code == 302
    screening = db.session.execute(sa.select(Screening)).scalar_one()
    assert screening.clearance_document.content_type == "application/pdf" and screening.outcome == "clear"
    assert client.post("/hours/", data=_hours_form(TODAY, instructor, screening.id)).status_code == 302


def test_a_new_event_since_the_clearance_ends_it(app, route_n_trainee):
    mt, instructor, _ = route_n_trainee
    client = _client(app, mt.email)
    form = _screening_form(TODAY, "collaborator", clearance=TODAY - timedelta(days=20), attest=False,
                           events=["dental_procedure"])
    resp = client.post("/screenings", data=form, follow_redirects=True)
    assert "The dental clearance has ended" in _text(resp)
    screening = db.session.execute(sa.select(Screening)).scalar_one()
    assert screening.outcome == "blocked" and screening.clearance_events == ["dental_procedure"]
    refused = client.post("/hours/", data=_hours_form(TODAY, instructor, screening.id))
    assert refused.status_code == 422 and "The dental clearance ended" in _text(refused)
    assert _count(HourEntry) == 0


def test_a_screening_needs_a_case_and_never_clears_another_case(app, route_n_trainee):
    mt, instructor, _ = route_n_trainee
    client = _client(app, mt.email)
    no_case = client.post("/screenings", data=_screening_form(TODAY, "collaborator", clearance=TODAY, case=""))
    assert no_case.status_code == 422 and "Enter the case number" in _text(no_case)
    identifier = client.post("/screenings", data=_screening_form(TODAY, "collaborator", clearance=TODAY,
                                                                 case="Jane Doe"))
    assert identifier.status_code == 422 and "Never a patient's name" in _text(identifier)
    client.post("/screenings", data=_screening_form(TODAY, "collaborator", clearance=TODAY, case="A1"))
    screening = db.session.execute(sa.select(Screening)).scalar_one()
    other = client.post("/hours/", data=_hours_form(TODAY, instructor, screening.id, case="B2"))
    assert other.status_code == 422 and "screening is for case A1, but this session is for case B2" in _text(other)
    assert client.post("/hours/", data=_hours_form(TODAY, instructor, screening.id, case="a1")).status_code == 302


def test_lab_practice_with_intraoral_work_needs_a_screening_of_the_lab_partner(app, route_n_trainee):
    mt, instructor, _ = route_n_trainee
    client = _client(app, mt.email)
    lab = {**_hours_form(TODAY, instructor, None, category="lab_in_person", case="LAB-7"), "intraoral_lab": "y"}
    refused = client.post("/hours/", data=lab)
    assert refused.status_code == 422 and "pre-treatment intraoral screening" in _text(refused)
    form = {**_screening_form(TODAY, "collaborator", clearance=TODAY, case="LAB-7"), "lab_practice": "yes"}
    client.post("/screenings", data=form)
    screening = db.session.execute(sa.select(Screening)).scalar_one()
    assert screening.lab_practice
    assert client.post("/hours/", data={**lab, "screening_id": str(screening.id)}).status_code == 302
    entry = db.session.execute(sa.select(HourEntry)).scalar_one()
    assert entry.intraoral_lab and entry.screening_id == screening.id
    # Lab practice without intraoral work needs no screening.
    plain = _hours_form(TODAY - timedelta(days=1), instructor, None, category="lab_in_person", case="")
    assert client.post("/hours/", data=plain).status_code == 302


# --------------------------------------------------------------------------- 2. licences verified, not typed


def _profile_form(**over):
    data = {"legal_name": "Morgan Lee Massage", "profession": "massage_therapist", "license_number": "LMT-18833",
            "license_expires_on": (TODAY + timedelta(days=400)).isoformat(), "jurisdiction": "US-WA",
            "cpr_expires_on": (TODAY + timedelta(days=300)).isoformat(), "infection_control_ack": "y"}
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def test_a_profession_changed_on_the_profile_counts_only_once_verified(app, ctx, program):
    mt = create_trainee(email="wa-mt@trust.test", profession="massage_therapist", jurisdiction="US-WA")
    db.session.commit()
    client = _client(app, mt.email)
    resp = client.post("/profile", data=_profile_form(profession="dental_hygienist"), follow_redirects=True)
    assert "an administrator will verify them" in _text(resp)
    lic = db.session.execute(sa.select(Licence).filter_by(trainee_id=mt.id).order_by(Licence.id.desc())).scalars()
    newest = next(lic)
    assert (newest.status, newest.profession) == ("pending", "dental_hygienist")

    d = _decision(mt)
    assert "intraoral" not in d.decision.endorsements and not d.decision.eligible
    p1 = next(r for r in d.decision.requirements if r.id == "P1")
    assert not p1.met and "needs verification again" in p1.reason
    p3 = next(r for r in d.decision.requirements if r.id == "P3")
    assert not p3.met and "Route D needs a verified dental license" in p3.reason
    # The typed dental profession does not let the trainee screen her own patients either.
    refused = client.post("/screenings", data=_screening_form(TODAY, "self"))
    assert refused.status_code == 422 and "with a verified license" in _text(refused)

    # Ticking the endorsement box satisfies nothing until an admin has checked it.
    client.post("/profile", data=_profile_form(has_intraoral_endorsement="y"))
    j = _req(mt, "J-WA-MT")
    assert not j.met or j.progress == "not applicable"
    assert not _req(mt, "P1").met


def test_an_admin_verifies_a_licence_with_a_reference_or_rejects_it_with_a_reason(app, ctx, program):
    mt = create_trainee(email="wa-mt2@trust.test", profession="massage_therapist", jurisdiction="US-WA")
    admin = create_user("admin", email="boss@trust.test")
    db.session.commit()
    _client(app, mt.email).post("/profile", data=_profile_form(has_intraoral_endorsement="y"))
    newest = db.session.execute(sa.select(Licence).filter_by(trainee_id=mt.id, status="pending")).scalar_one()
    reviewer = _client(app, admin.email)
    assert "wa-mt2@trust.test" in _text(reviewer.get("/licences"))
    no_ref = reviewer.post(f"/licences/{newest.id}/decide", data={"decision": "verified"}, follow_redirects=True)
    assert "Record where you checked the license" in _text(no_ref)
    no_reason = reviewer.post(f"/licences/{newest.id}/decide", data={"decision": "rejected"}, follow_redirects=True)
    assert "Give the trainee a reason" in _text(no_reason)
    assert _count(Licence, id=newest.id, status="pending") == 1
    ok = reviewer.post(f"/licences/{newest.id}/decide", follow_redirects=True,
                       data={"decision": "verified", "reference": "https://fortress.wa.gov/doh/providercredentialsearch"})
    assert "verified" in _text(ok)
    db.session.expire_all()
    assert newest.status == "verified" and newest.decided_by_id == admin.id and "fortress" in \
        newest.verification_reference
    event = db.session.execute(sa.select(AuditEvent).filter_by(action="licence.verified")
                               .order_by(AuditEvent.id.desc()).limit(1)).scalar_one()
    assert event.actor_id == admin.id and event.details["trainee"] == mt.id
    # Now the verified endorsement meets the Washington rule.
    assert _req(mt, "J-WA-MT").met and _req(mt, "P1").met
    # Instructors and trainees cannot verify licences.
    assert _client(app, mt.email).get("/licences").status_code == 403


def test_a_profession_not_regulated_where_the_trainee_practises_does_not_meet_p1(ctx, program):
    mb = create_trainee(email="mb@trust.test", profession="massage_therapist", jurisdiction="CA-MB")
    db.session.commit()
    p1 = _req(mb, "P1")
    assert not p1.met
    assert "not a regulated health profession in Manitoba" in p1.reason and "not legal advice" in p1.reason


def test_a_lapsed_verified_licence_shows_on_the_certificate_record(app, ctx, program):
    from lms.certificates.issuing import issue_certificate
    from tests.web.test_certificates import qualified_trainee

    trainee = qualified_trainee(email="lapsing@trust.test")
    cert = issue_certificate(trainee, actor=registrar()).certificate
    db.session.commit()
    record = app.test_client().get(f"/api/v1/certificates/{cert.serial}").json
    assert record["licence"]["status"] == "current" and record["status"] == "active"
    assert record["holder"]["license"] == cert.license_number
    verified = db.session.execute(sa.select(Licence).filter_by(trainee_id=trainee.id)).scalar_one()
    # The licensing body's register later shows the licence lapsed (an admin verifies the new expiry).
    from lms.providers.operations import save_profile

    profile = trainee.profile
    save_profile(trainee, {"legal_name": profile.legal_name, "profession": profile.profession,
                           "license_number": profile.license_number, "jurisdiction": profile.jurisdiction,
                           "license_expires_on": TODAY - timedelta(days=3), "cpr_expires_on": profile.cpr_expires_on,
                           "infection_control_ack": True, "has_intraoral_endorsement": False})
    verify_licence(trainee)
    db.session.commit()
    assert verified.id != db.session.execute(sa.select(sa.func.max(Licence.id))).scalar_one()
    record = app.test_client().get(f"/api/v1/certificates/{cert.serial}").json
    assert record["status"] == "active"  # the certificate itself stays valid
    assert record["licence"] == {"status": "expired", "expires_on": (TODAY - timedelta(days=3)).isoformat(),
                                 "verified_on": TODAY.isoformat()}
    page = _text(app.test_client().get(f"/verify/{cert.serial}"))
    lapsed = TODAY - timedelta(days=3)
    assert f"The holder's license expired on {lapsed.day} {lapsed.strftime('%B %Y')}" in page


def test_the_certificate_prints_the_licence_as_verified_not_as_typed(ctx, program):
    from lms.certificates.issuing import issue_certificate
    from tests.web.test_certificates import qualified_trainee

    trainee = qualified_trainee(email="typed@trust.test")
    trainee.profile.license_number = "TYPED-AFTER"  # typed straight into the profile, never checked
    db.session.flush()
    cert = issue_certificate(trainee, actor=registrar()).certificate
    verified = db.session.execute(sa.select(Licence).filter_by(trainee_id=trainee.id)).scalar_one()
    assert cert.license_number == verified.number != "TYPED-AFTER"
    db.session.rollback()


# --------------------------------------------------------------------------- 3. hours belong to the program


def test_hours_before_enrollment_count_only_with_advanced_standing(app, ctx, program):
    from lms.demo import log_session
    from lms.providers.operations import record_advanced_standing

    trainee = create_trainee(email="early@trust.test", days_ago=30)
    sup = create_user("instructor", email="sup-early@trust.test")
    enrollment = enrollment_of(trainee)
    log_session(trainee, enrollment, program, sup, day=TODAY - timedelta(days=40), minutes=120,
                category="lab_in_person", case=None)
    log_session(trainee, enrollment, program, sup, day=TODAY - timedelta(days=10), minutes=60,
                category="lab_in_person", case=None)
    db.session.commit()
    lab = _req(trainee, "H-LAB")
    assert lab.progress == "In-person lab hours: 1 of 16 (2 h before enrollment, not counted)"
    assert "dated before" in lab.reason and "(before enrollment) do not count" in lab.reason
    assert "ask an admin to record advanced standing" in lab.next_step
    page = _text(_client(app, trainee.email).get("/hours/"))
    assert "1 of 16 h" in page  # the page counts what the decision counts

    admin = create_user("admin", email="standing@trust.test")
    with pytest.raises(ValueError, match="reason"):
        record_advanced_standing(trainee, program_id="omr", kind="prior_hours", reason=" ", actor=admin,
                                 evidence=create_evidence(trainee, "advanced_standing"),
                                 hours_from=TODAY - timedelta(days=60))
    record_advanced_standing(trainee, program_id="omr", kind="prior_hours", reason="Supervised lab at OMT Academy",
                             evidence=create_evidence(trainee, "advanced_standing"), actor=admin,
                             hours_from=TODAY - timedelta(days=60))
    db.session.commit()
    assert _req(trainee, "H-LAB").progress == "In-person lab hours: 3 of 16"
    assert _count(AdvancedStanding, trainee_id=trainee.id) == 1


def test_p2b_needs_a_recent_omt_course_or_recognised_practice(ctx, program):
    from lms.providers.operations import decide_omt_credential, record_advanced_standing, submit_omt_credential

    trainee = create_trainee(email="old-omt@trust.test")
    assert _req(trainee, "P2b").met  # the factories' course of 2024 is recent
    admin = create_user("admin", email="p2b@trust.test")
    old = submit_omt_credential(trainee, provider_name="OMT Academy", course_hours=Decimal(40),
                                completed_on=date(2015, 5, 1), evidence=create_evidence(trainee))
    decide_omt_credential(old, decision="verified", reason="ok", actor=admin)
    db.session.commit()
    p2b = _req(trainee, "P2b")  # the longest verified course counts: now the 2015 one
    assert not p2b.met and "more than 5 years before" in p2b.reason and "active OMT practice" in p2b.next_step
    record_advanced_standing(trainee, program_id="omr", kind="omt_practice", reason="Employer attestation",
                             evidence=create_evidence(trainee, "advanced_standing"), actor=admin)
    db.session.commit()
    assert _req(trainee, "P2b").met


# --------------------------------------------------------------------------- 4. history is complete


def test_the_application_queue_shows_the_earlier_revocation_and_approval_records_replaces(app, ctx, program):
    from lms.certificates.applications import apply
    from lms.certificates.issuing import issue_certificate, revoke
    from tests.web.test_certificates import qualified_trainee

    trainee = qualified_trainee(email="again@trust.test")
    admin = create_user("admin", email="queue@trust.test")
    old = issue_certificate(trainee, actor=admin).certificate
    revoke(old, actor=admin, reason="Printed the wrong jurisdiction", category="issued_in_error")
    application = apply(trainee, program_id="omr")
    db.session.commit()
    client = _client(app, admin.email)
    page = _text(client.get("/admin/trainees"))
    assert f"{old.serial} was revoked on {TODAY.isoformat()}" in page and "Printed the wrong jurisdiction" in page
    no_note = client.post(f"/admin/applications/{application.id}", data={"decision": "approve"},
                          follow_redirects=True)
    assert "give the reason for the reissue" in _text(no_note)
    client.post(f"/admin/applications/{application.id}", data={"decision": "approve",
                                                               "note": "Jurisdiction corrected"})
    db.session.expire_all()
    from lms.certificates.models import Certificate

    new = db.session.execute(sa.select(Certificate).filter_by(trainee_id=trainee.id, is_current=True)).scalar_one()
    assert new.replaces_id == old.id
    anon = app.test_client()
    assert anon.get(f"/api/v1/certificates/{old.serial}").json["replaced_by"] == new.serial
    assert f"revoked and replaced by {new.serial}" in _words(anon.get(f"/verify/{old.serial}"))
    assert f"reissued after the revocation of {old.serial}" in _words(anon.get(f"/verify/{new.serial}"))


def test_a_misconduct_revocation_blocks_reissue_until_an_admin_clears_it(app, ctx, program):
    from lms.certificates.applications import ApplicationError, apply
    from lms.certificates.issuing import ReissueRefused, issue_certificate, revoke
    from tests.web.test_certificates import qualified_trainee

    trainee = qualified_trainee(email="misconduct@trust.test")
    admin = create_user("admin", email="clear@trust.test")
    old = issue_certificate(trainee, actor=admin).certificate
    revoke(old, actor=admin, reason="Board finding 2026-17", category="misconduct")
    db.session.commit()
    with pytest.raises(ReissueRefused, match="blocks any reissue"):
        issue_certificate(trainee, actor=admin, reissue_reason="Please")
    with pytest.raises(ApplicationError, match="once an administrator has cleared"):
        apply(trainee, program_id="omr")
    db.session.rollback()
    client = _client(app, admin.email)
    no_reason = client.post(f"/admin/certificates/{old.serial}/clear-revocation", data={"reason": ""},
                            follow_redirects=True)
    assert "Give the reason" in _text(no_reason)
    client.post(f"/admin/certificates/{old.serial}/clear-revocation", data={"reason": "Sanction served"})
    db.session.expire_all()
    assert old.revocation.clearance is not None and not old.revocation.blocks_reissue
    new = issue_certificate(trainee, actor=admin, reissue_reason="Sanction served").certificate
    assert new.replaces_id == old.id and old.revocation is not None  # the old one stays revoked
    db.session.commit()


def test_issue_cohort_skips_holders_whose_certificate_was_revoked(app, ctx, program):
    from lms.certificates.cohort import issue_cohort
    from lms.certificates.issuing import issue_certificate, revoke
    from lms.certificates.models import Certificate
    from tests.web.test_certificates import qualified_trainee

    trainee = qualified_trainee(email="cohort-revoked@trust.test")
    admin = create_user("admin", email="cohort@trust.test")
    old = issue_certificate(trainee, actor=admin).certificate
    revoke(old, actor=admin, reason="Issued before the exam", category="issued_in_error")
    db.session.commit()
    result = issue_cohort("omr", actor=admin, echo=lambda *_: None)
    assert result.issued == []
    assert [(tid, why.split(" was revoked")[0]) for tid, why in result.skipped] == [(trainee.id, old.serial)]
    assert _count(Certificate, trainee_id=trainee.id) == 1


def test_instructors_act_only_for_trainees_who_named_them(app, ctx, program):
    trainee = create_trainee(email="names@trust.test", enrolled=False)
    from lms.providers.operations import submit_omt_credential

    cred = submit_omt_credential(trainee, provider_name="Academy", course_hours=Decimal(30),
                                 completed_on=date(2025, 1, 1), evidence=create_evidence(trainee))
    named = create_user("instructor", email="named@trust.test")
    create_user("instructor", email="unnamed@trust.test")
    db.session.commit()
    client = _client(app, trainee.email)
    resp = client.post("/profile/instructors", data={"instructor_id": str(named.id)}, follow_redirects=True)
    assert f"{named.name} can now act for you." in _text(resp)
    unnamed = _client(app, "unnamed@trust.test")
    assert "names@trust.test" not in _text(unnamed.get("/credentials"))
    assert _status(unnamed, f"/evidence/{cred.evidence_file_id}") == 404
    mine = _client(app, named.email)
    assert "names@trust.test" in _text(mine.get("/credentials"))
    assert _status(mine, f"/evidence/{cred.evidence_file_id}") == 200
    # Removing the instructor ends it at once; the link stays as history.
    link_id = db.session.execute(sa.text("SELECT id FROM instructor_links")).scalar_one()
    client.post(f"/profile/instructors/{link_id}/end")
    assert _status(mine, f"/evidence/{cred.evidence_file_id}") == 404


# --------------------------------------------------------------------------- 5. one decision, everywhere


def test_the_decision_never_names_a_database_id_and_the_demo_has_every_licence_state(runner, ctx, program):
    from lms.demo import seed

    seed()
    db.session.commit()
    out = runner.invoke(args=["eligibility", "--all", "--json"])
    assert out.exit_code == 0, out.output
    assert not re.search(r"#\d", out.output)
    payload = json.loads(out.output)
    assert {p["trainee"]["email"] for p in payload} >= {"hygienist@orocert.test", "slp@orocert.test"}
    states = {row.status: row for row in db.session.execute(sa.select(Licence)).scalars()}
    assert set(states) >= {"verified", "pending"}
    lapsed = [r for r in db.session.execute(sa.select(Licence).filter_by(status="verified")).scalars()
              if r.expires_on < TODAY]
    assert len(lapsed) == 1
    slp = next(p for p in payload if p["trainee"]["email"] == "slp@orocert.test")
    assert next(r for r in slp["requirements"] if r["id"] == "P1-license")["met"] is False

    # The acceptance walk-through: the massage therapist retypes her profession as dental hygienist.
    massage = runner.invoke(args=["eligibility", "massage@orocert.test", "--json"])
    assert json.loads(massage.output)["endorsements"] == ["extraoral"]


def test_progress_bars_use_the_pinned_standards_targets(app, ctx, program, tmp_path):
    from pathlib import Path

    from lms.standards.operations import load_standard, move_enrollment

    trainee = create_trainee(email="bars@trust.test")
    db.session.commit()
    shipped = (Path(app.config["COURSES_DIR"]) / "omr" / "standard.yaml").read_text(encoding="utf-8")
    old = "params: {category: clinical_intraoral, min_hours: 10}"
    assert old in shipped
    changed = tmp_path / "standard.yaml"
    changed.write_text(shipped.replace(old, "params: {category: clinical_intraoral, min_hours: 30}", 1)
                       .replace('version: "0.5.1"', 'version: "0.8.0"', 1), encoding="utf-8")
    version, _ = load_standard(changed)
    move_enrollment(enrollment_of(trainee), version, actor=create_user("admin"), reason="Stricter standard")
    client = _client(app, trainee.email)
    db.session.commit()
    for url in ("/dashboard", "/hours/"):
        page = _text(client.get(url))
        assert re.search(r"Clinical, intraoral</span>\s*<progress[^>]*>\s*</progress>\s*<span class=\"progress-text\">"
                         r"0 of 30 h", page), url


def test_eligibility_for_a_trainee_who_cannot_enroll_gives_the_real_reason(runner, ctx, program):
    create_trainee(email="blocked@trust.test", enrolled=False, profession="massage_therapist")
    from lms.auth.models import User

    user = db.session.execute(sa.select(User).filter_by(email="blocked@trust.test")).scalar_one()
    from lms.providers.models import OmtCredential

    for cred in db.session.execute(sa.select(OmtCredential).filter_by(user_id=user.id)).scalars():
        db.session.delete(cred)
    db.session.commit()
    text = runner.invoke(args=["eligibility", "blocked@trust.test"])
    assert "Enrollment is blocked: No OMT foundation credential is on file." in text.output
    data = json.loads(runner.invoke(args=["eligibility", "blocked@trust.test", "--json"]).output)
    assert data["next_steps"] == ["Upload the certificate of an OMT course of at least 28 hours on your profile."]


def test_a_trainee_names_an_instructor_only_from_the_list(app, ctx, program):
    trainee = create_trainee(email="pick@trust.test")
    board = create_user("board", email="board@trust.test")
    db.session.commit()
    client = _client(app, trainee.email)
    for bad in (str(board.id), "x", "99999999999999", str(trainee.id)):
        resp = client.post("/profile/instructors", data={"instructor_id": bad}, follow_redirects=True)
        assert resp.status_code == 200 and "Choose an instructor from the list" in _text(resp)
    assert db.session.execute(sa.text("SELECT count(*) FROM instructor_links")).scalar_one() == 0
    name_instructor(trainee, create_user("instructor", email="ok@trust.test"))
    db.session.commit()
    post_committed(client, "/profile/instructors", {"instructor_id": str(db.session.execute(
        sa.text("SELECT instructor_id FROM instructor_links")).scalar_one())})
    assert db.session.execute(sa.text("SELECT count(*) FROM instructor_links")).scalar_one() == 1
