"""The intraoral screening gate: Route D and Route N screenings, collaboration agreements, and intraoral hours."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from lms.core.formatting import format_date
from lms.extensions import db
from lms.hours.models import HourEntry
from lms.screening.models import CollaborationAgreement, Screening
from tests.factories import create_trainee, create_user, enrollment_of
from tests.factories import page_text as _text
from tests.factories import signed_in_client as _client

TODAY = date.today()
STRUCTURES = ("extraoral", "teeth", "gingiva", "bone", "tongue", "soft_tissue")
PDFTOTEXT = shutil.which("pdftotext") or "/usr/bin/pdftotext"




def make_pdf(text: str) -> bytes:
    """A small but complete one-page PDF (catalog, page tree, font, content stream, xref) showing ``text``."""
    content = f"BT /F1 14 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Resources<</Font<</F1 4 0 R>>>>/Contents 5 0 R>>",
        b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>",
        b"<</Length " + str(len(content)).encode() + b">>stream\n" + content + b"\nendstream",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<</Size {len(objects) + 1}/Root 1 0 R>>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def _count(model) -> int:
    db.session.expire_all()
    return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def _screening_form(day, screened_by, *, clearance=None, absolute=(), relative=(), modifications="", case="K1",
                    reference="Clearance letter DR-PARK-0042", attest=True, events=()):
    data = {f"finding-{k}": "normal" for k in STRUCTURES}
    data.update({"session_date": day.isoformat(), "screened_by": screened_by, "case_code": case,
                 "absolute": list(absolute), "relative": list(relative), "modifications": modifications,
                 "clearance_date": clearance.isoformat() if clearance else "",
                 "clearance_reference": reference if screened_by == "collaborator" else "",
                 "clearance_event": list(events)})
    if attest and screened_by == "collaborator":
        data["attest_no_change"] = "yes"
    return data


def _hours_form(day, supervisor, screening_id=None, *, category="clinical_intraoral", case="K1"):
    return {"entry_date": day.isoformat(), "duration_hours": "0", "duration_minutes": "45",
            "category": category, "supervisor_id": str(supervisor.id),
            "setting": "University teaching clinic", "case_code": case, "notes": "Supervised session.",
            "screening_id": str(screening_id or 0)}


def _agreement_form(valid_from, valid_until, document=None, filename="agreement.pdf"):
    document = make_pdf("Collaboration agreement with Dr. Riley Park") if document is None else document
    return {"dentist_name": "Dr. Riley Park", "dentist_profession": "dentist", "dentist_license": "DDS-5521",
            "dentist_jurisdiction": "US-OR", "valid_from": valid_from.isoformat(),
            "valid_until": valid_until.isoformat(), "document": (io.BytesIO(document), filename)}


def verified_agreement(trainee, reviewer, *, valid_from, valid_until):
    """A verified agreement made through the operations (its document a real PDF)."""
    from flask import current_app

    from lms.core.uploads import store_upload
    from lms.providers.operations import add_evidence
    from lms.screening.operations import AgreementInput, decide_agreement, submit_agreement

    stored = store_upload(io.BytesIO(make_pdf("Agreement")), "agreement.pdf", current_app.config["INSTANCE_PATH"],
                          current_app.config["UPLOAD_MAX_BYTES"])
    document = add_evidence(trainee, "agreement", stored)
    agreement = submit_agreement(trainee, AgreementInput(
        dentist_name="Dr. Dana Dental", dentist_profession="dentist", dentist_license="DDS-1",
        dentist_jurisdiction="US-OR", valid_from=valid_from, valid_until=valid_until), document)
    decide_agreement(agreement, "verified", actor=reviewer)
    return agreement


def p3(user):
    from lms.eligibility.service import decision_for

    return next(r for r in decision_for(user).decision.requirements if r.id == "P3")


@pytest.fixture
def people(ctx, program):
    instructor = create_user("instructor", email="sup@screen.test", name="Sam Supervisor")
    mt = create_trainee(email="mt@screen.test", profession="massage_therapist", jurisdiction="US-OR")
    hygienist = create_trainee(email="rdh@screen.test", profession="dental_hygienist", jurisdiction="CA-BC")
    db.session.commit()
    return {"instructor": instructor, "mt": mt, "hygienist": hygienist}


# --------------------------------------------------------------------------- Route N: self screening and agreements


def test_route_n_trainee_cannot_record_a_self_screening(app, people):
    resp = _client(app, people["mt"].email).post("/screenings", data=_screening_form(TODAY, "self"))
    assert resp.status_code == 422
    assert ("Only dental hygienists, dentists and dental therapists with a verified license screen their own "
            "patients") in _text(resp)
    assert _count(Screening) == 0


def test_route_n_collaborator_screening_needs_a_verified_current_agreement(app, people):
    mt, instructor = people["mt"], people["instructor"]
    trainee = _client(app, mt.email)
    form = _screening_form(TODAY, "collaborator", clearance=TODAY - timedelta(days=3))

    resp = trainee.post("/screenings", data=form)
    assert resp.status_code == 422
    assert "No verified collaboration agreement is current on the session date" in _text(resp)
    assert _count(Screening) == 0
    assert not p3(mt).met

    # A document that is not a PDF, PNG or JPEG is refused.
    resp = trainee.post("/agreements", data=_agreement_form(TODAY - timedelta(days=30), TODAY + timedelta(days=300),
                                                            document=b"just text", filename="agreement.pdf"),
                        content_type="multipart/form-data")
    assert resp.status_code == 422 and "Only PDF, PNG or JPEG files are accepted" in _text(resp)
    assert _count(CollaborationAgreement) == 0

    resp = trainee.post("/agreements", data=_agreement_form(TODAY - timedelta(days=30), TODAY + timedelta(days=300)),
                        content_type="multipart/form-data", follow_redirects=True)
    assert "Your collaboration agreement was submitted for verification." in _text(resp)
    agreement = db.session.execute(sa.select(CollaborationAgreement)).scalar_one()
    assert agreement.status == "pending" and agreement.trainee_id == mt.id
    assert agreement.document.content_type == "application/pdf"

    # Still pending: the screening is refused and P3 says why.
    assert trainee.post("/screenings", data=form).status_code == 422
    reason = p3(mt).reason
    assert "the agreement with Dr. Riley Park" in reason and "is waiting for verification" in reason
    assert "#" not in reason  # people recognise an agreement by whom it is with and its dates, never by an id

    # The trainee cannot verify it. An instructor acts only for trainees who named them: not yet.
    assert trainee.post(f"/agreements/{agreement.id}/decide", data={"decision": "verified"}).status_code == 403
    reviewer = _client(app, instructor.email)
    assert "Dr. Riley Park" not in _text(reviewer.get("/agreements/review"))
    assert reviewer.get(f"/evidence/{agreement.document_file_id}").status_code == 404
    assert reviewer.post(f"/agreements/{agreement.id}/decide", data={"decision": "verified"}).status_code == 404
    # Once the trainee names the instructor as a supervisor, the instructor reviews it after reading the document.
    assert trainee.post("/hours/", data=_hours_form(TODAY - timedelta(days=1), instructor, None,
                                                    category="clinical_extraoral")).status_code == 302
    queue = _text(reviewer.get("/agreements/review"))
    assert "Dr. Riley Park" in queue
    with reviewer.get(f"/evidence/{agreement.document_file_id}") as document:
        assert document.status_code == 200
        pdf = document.get_data()
    assert pdf.startswith(b"%PDF-")
    # A fixed program reading our own bytes; no shell, no outside input.
    text = subprocess.run([PDFTOTEXT, "-", "-"], input=pdf, capture_output=True, check=True,  # noqa: S603
                          timeout=60).stdout
    assert b"Collaboration agreement with Dr. Riley Park" in text
    resp = reviewer.post(f"/agreements/{agreement.id}/decide", data={"decision": "verified"}, follow_redirects=True)
    assert f"Agreement {agreement.id} is now verified." in _text(resp)
    db.session.expire_all()
    assert agreement.status == "verified" and agreement.decided_by_id == instructor.id

    resp = trainee.post("/screenings", data=form, follow_redirects=True)
    assert "Screening recorded for case K1: no contraindication found." in _text(resp)
    screening = db.session.execute(sa.select(Screening)).scalar_one()
    assert (screening.screened_by, screening.outcome, screening.agreement_id) == ("collaborator", "clear", agreement.id)
    assert screening.clearance_date == TODAY - timedelta(days=3)
    p = p3(mt)
    assert p.met and "Route N: verified collaboration agreement with Dr. Riley Park" in p.progress

    # The clear screening lets the intraoral session be logged.
    resp = trainee.post("/hours/", data=_hours_form(TODAY, instructor, screening.id), follow_redirects=True)
    assert "Your hours were submitted to your supervisor." in _text(resp)
    entry = db.session.execute(sa.select(HourEntry).filter_by(category="clinical_intraoral")).scalar_one()
    assert entry.screening_id == screening.id


@pytest.fixture
def route_n(people):
    """The massage therapist with a verified agreement current for the past 100 days and the next 200."""
    agreement = verified_agreement(people["mt"], people["instructor"], valid_from=TODAY - timedelta(days=100),
                                   valid_until=TODAY + timedelta(days=200))
    db.session.commit()
    return agreement


def _record(client, form):
    resp = client.post("/screenings", data=form, follow_redirects=True)
    db.session.expire_all()
    return resp


def test_absolute_contraindication_blocks_the_intraoral_session(app, people, route_n):
    mt, instructor = people["mt"], people["instructor"]
    trainee = _client(app, mt.email)
    resp = _record(trainee, _screening_form(TODAY, "collaborator", clearance=TODAY - timedelta(days=1),
                                            absolute=["infection"]))
    page = _text(resp)
    assert "Do not treat intraorally" in page and "Refer to a dentist today; defer intraoral work" in page
    screening = db.session.execute(sa.select(Screening)).scalar_one()
    assert screening.outcome == "blocked" and screening.absolute_contraindications == ["infection"]

    resp = trainee.post("/hours/", data=_hours_form(TODAY, instructor, screening.id))
    assert resp.status_code == 422
    message = _text(resp)
    assert "absolute contraindication" in message
    assert "Refer to a dentist today" in message and "defer intraoral work" in message
    assert _count(HourEntry) == 0


def test_relative_contraindication_needs_a_modification(app, people, route_n):
    mt, instructor = people["mt"], people["instructor"]
    trainee = _client(app, mt.email)
    resp = trainee.post("/screenings", data=_screening_form(TODAY, "collaborator", clearance=TODAY,
                                                            relative=["prostheses"]))
    assert resp.status_code == 422
    assert "A relative contraindication was ticked: describe how the plan is modified." in _text(resp)
    assert _count(Screening) == 0

    resp = _record(trainee, _screening_form(TODAY, "collaborator", clearance=TODAY, relative=["prostheses"],
                                            modifications="Dentures removed before intraoral work."))
    assert "Screening recorded for case K1 with a modified plan." in _text(resp)
    screening = db.session.execute(sa.select(Screening)).scalar_one()
    assert screening.outcome == "modify"

    resp = trainee.post("/hours/", data=_hours_form(TODAY, instructor, screening.id), follow_redirects=True)
    assert "Your hours were submitted to your supervisor." in _text(resp)
    assert _count(HourEntry) == 1


def test_relative_contraindication_without_modification_is_refused_by_the_gate(ctx, people, route_n):
    """The gate checks the screening itself too, not only the form that recorded it."""
    from lms.screening.gate import screening_problem

    mt = people["mt"]
    screening = Screening(trainee_id=mt.id, session_date=TODAY, screened_by="collaborator", agreement_id=route_n.id,
                          clearance_date=TODAY, findings={k: "normal" for k in STRUCTURES}, case_code="K1",
                          clearance_reference="Letter 7",
                          absolute_contraindications=[], relative_contraindications=["gag"], modifications="",
                          outcome="modify")
    db.session.add(screening)
    db.session.flush()
    assert "no modification of the plan was noted" in screening_problem(mt, screening, TODAY, "K1")


def test_intraoral_session_needs_a_screening_for_that_date(app, people, route_n):
    mt, instructor, hygienist = people["mt"], people["instructor"], people["hygienist"]
    day = TODAY - timedelta(days=5)
    trainee = _client(app, mt.email)
    _record(trainee, _screening_form(day, "collaborator", clearance=day - timedelta(days=2)))
    screening = db.session.execute(sa.select(Screening)).scalar_one()

    resp = trainee.post("/hours/", data=_hours_form(day - timedelta(days=1), instructor, screening.id))
    assert resp.status_code == 422
    assert "Every intraoral session needs its own pre-treatment screening" in _text(resp)
    resp = trainee.post("/hours/", data=_hours_form(day, instructor, None))
    assert resp.status_code == 422
    assert "needs a pre-treatment intraoral screening of that patient (or lab partner) on the day" in _text(resp)
    assert _count(HourEntry) == 0

    # Someone else's screening does not count either.
    other = _client(app, hygienist.email)
    resp = other.post("/hours/", data=_hours_form(day, instructor, screening.id))
    assert resp.status_code == 422 and "Choose one of your own screenings." in _text(resp)
    assert _count(HourEntry) == 0

    # The matching date is accepted; extraoral sessions need no screening at all.
    trainee = _client(app, mt.email)
    assert trainee.post("/hours/", data=_hours_form(day, instructor, screening.id)).status_code == 302
    assert trainee.post("/hours/", data=_hours_form(day - timedelta(days=1), instructor, None,
                                                    category="clinical_extraoral")).status_code == 302
    assert _count(HourEntry) == 2


def test_clearance_older_than_the_standards_window_is_refused(app, people, route_n):
    from lms.standards.queries import standard_for_user

    mt, instructor = people["mt"], people["instructor"]
    days = standard_for_user(mt.id).data["screening"]["clearance_valid_days"]
    assert days == 183
    day = TODAY - timedelta(days=1)
    trainee = _client(app, mt.email)

    too_old = _screening_form(day, "collaborator", clearance=day - timedelta(days=days + 1))
    resp = trainee.post("/screenings", data=too_old)
    assert resp.status_code == 422
    assert f"must be dated within {days} days before it" in _text(resp)
    assert _count(Screening) == 0

    # Exactly at the limit is fine, and the session can be logged.
    _record(trainee, _screening_form(day, "collaborator", clearance=day - timedelta(days=days)))
    screening = db.session.execute(sa.select(Screening)).scalar_one()
    assert trainee.post("/hours/", data=_hours_form(day, instructor, screening.id)).status_code == 302
    assert _count(HourEntry) == 1


def test_gate_uses_the_clearance_window_of_the_trainees_standard(app, people, route_n, tmp_path):
    """A screening recorded under a 183-day window fails the gate once the enrollment follows a 120-day one."""
    from pathlib import Path

    from lms.standards.operations import load_standard, move_enrollment

    mt, instructor = people["mt"], people["instructor"]
    day = TODAY - timedelta(days=1)
    trainee = _client(app, mt.email)
    _record(trainee, _screening_form(day, "collaborator", clearance=day - timedelta(days=150)))
    screening = db.session.execute(sa.select(Screening)).scalar_one()

    shipped = Path(app.config["COURSES_DIR"]) / "omr" / "standard.yaml"
    text = shipped.read_text(encoding="utf-8")
    old = "clearance_valid_days: 183"
    assert old in text
    changed = tmp_path / "standard.yaml"
    text = text.replace(old, "clearance_valid_days: 120", 1).replace('version: "0.5.1"', 'version: "0.9.0"', 1)
    changed.write_text(text, encoding="utf-8")
    version, created = load_standard(changed)
    assert created
    admin = create_user("admin")
    move_enrollment(enrollment_of(mt), version, actor=admin, reason="Stricter clearance window")
    db.session.commit()

    resp = trainee.post("/hours/", data=_hours_form(day, instructor, screening.id))
    assert resp.status_code == 422
    assert "must be dated within 120 days before the session" in _text(resp)
    assert _count(HourEntry) == 0


def test_revoked_agreement_stops_counting(app, people, route_n):
    mt = people["mt"]
    assert p3(mt).met
    reviewer = _client(app, create_user("admin", email="admin@screen.test").email)
    resp = reviewer.post(f"/agreements/{route_n.id}/decide", data={"decision": "revoked"}, follow_redirects=True)
    assert "Give a reason." in _text(resp)
    db.session.expire_all()
    assert route_n.status == "verified"

    reviewer.post(f"/agreements/{route_n.id}/decide",
                  data={"decision": "revoked", "reason": "The dentist ended the collaboration."})
    db.session.expire_all()
    assert route_n.status == "revoked"
    result = p3(mt)
    assert not result.met
    assert "the agreement with Dr. Dana Dental" in result.reason and "was revoked" in result.reason

    resp = _client(app, mt.email).post("/screenings", data=_screening_form(TODAY, "collaborator", clearance=TODAY))
    assert resp.status_code == 422
    assert _count(Screening) == 0


def test_expired_agreement_stops_counting(app, people):
    mt, instructor = people["mt"], people["instructor"]
    expired = verified_agreement(mt, instructor, valid_from=TODAY - timedelta(days=200),
                                 valid_until=TODAY - timedelta(days=1))
    db.session.commit()
    result = p3(mt)
    assert not result.met
    assert f"to {format_date(TODAY - timedelta(days=1))}) expired on {format_date(TODAY - timedelta(days=1))}" \
        in result.reason
    assert result.progress == "Route N: no current verified collaboration agreement"

    trainee = _client(app, mt.email)
    resp = trainee.post("/screenings", data=_screening_form(TODAY, "collaborator", clearance=TODAY))
    assert resp.status_code == 422 and "No verified collaboration agreement is current" in _text(resp)
    # A session that took place while the agreement was current can still be screened and logged.
    day = TODAY - timedelta(days=10)
    _record(trainee, _screening_form(day, "collaborator", clearance=day))
    screening = db.session.execute(sa.select(Screening)).scalar_one()
    assert screening.agreement_id == expired.id
    assert trainee.post("/hours/", data=_hours_form(day, instructor, screening.id)).status_code == 302

    # The decision names the expired agreement on the trainee's own page too.
    page = _text(trainee.get("/dashboard"))
    assert "the agreement with Dr. Dana Dental" in page and "expired on" in page


# --------------------------------------------------------------------------- Route D


def test_dental_hygienist_screens_her_own_patients(app, people):
    hygienist, instructor = people["hygienist"], people["instructor"]
    client = _client(app, hygienist.email)
    assert "Route D." in _text(client.get("/screenings"))
    resp = _record(client, _screening_form(TODAY, "self"))
    assert "Screening recorded for case K1: no contraindication found." in _text(resp)
    screening = db.session.execute(sa.select(Screening)).scalar_one()
    assert (screening.screened_by, screening.agreement_id, screening.clearance_date) == ("self", None, None)

    resp = client.post("/hours/", data=_hours_form(TODAY, instructor, screening.id), follow_redirects=True)
    assert "Your hours were submitted to your supervisor." in _text(resp)
    assert _count(HourEntry) == 1
    p = p3(hygienist)
    assert p.met and p.progress.startswith("Route D")

    # Her own screening that finds an absolute contraindication blocks her too.
    _record(client, _screening_form(TODAY - timedelta(days=1), "self", absolute=["lesion"], case="K2"))
    blocked = db.session.execute(sa.select(Screening).filter_by(outcome="blocked")).scalar_one()
    resp = client.post("/hours/", data=_hours_form(TODAY - timedelta(days=1), instructor, blocked.id, case="K2"))
    assert resp.status_code == 422 and "Refer to a dentist or physician for diagnosis" in _text(resp)
    assert _count(HourEntry) == 1
