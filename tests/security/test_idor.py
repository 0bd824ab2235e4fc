"""Data-level access: one trainee cannot reach another's records by id; an instructor who is not a trainee's cannot
either; posted privilege fields are ignored."""

import io
from datetime import date, timedelta

import sqlalchemy as sa

from lms.assessments.models import Assessment
from lms.auth.models import User
from lms.demo import log_session, screen
from lms.extensions import db
from lms.hours.models import HourEntry
from lms.providers.models import OmtCredential
from tests.factories import PASSWORD, PDF_BYTES, create_trainee, create_user, enrollment_of


def _login(client, email):
    client.post("/logout")
    assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302


def _setup(program):
    owner = create_trainee(profession="dental_hygienist", email="owner@example.test")
    other = create_trainee(email="other@example.test")
    mine = create_user("instructor", email="mine@example.test")
    stranger = create_user("instructor", email="stranger@example.test")
    enr = enrollment_of(owner)
    day = date.today() - timedelta(days=3)
    s = screen(owner, day, "C01", "D")
    entry = log_session(owner, enr, program, mine, day=day, minutes=60, category="clinical_intraoral", case="C01",
                        screening=s, decision="submitted")
    cred = db.session.execute(sa.select(OmtCredential).filter_by(user_id=owner.id)).scalar_one()
    db.session.commit()
    return owner, other, mine, stranger, entry, cred


def test_another_trainee_cannot_read_or_act_on_records(ctx, client, program):
    owner, other, mine, stranger, entry, cred = _setup(program)
    _login(client, "other@example.test")
    assert client.get(f"/evidence/{cred.evidence_file_id}").status_code == 404
    assert client.get(f"/hours/?correct={entry.id}").status_code == 404
    resp = client.post("/hours/", data={"corrects_id": entry.id, "entry_date": date.today().isoformat(),
                                        "duration_minutes": 30, "category": "lab_in_person", "supervisor_id": mine.id,
                                        "setting": "x"})
    assert resp.status_code == 404
    assert client.post(f"/hours/{entry.id}/decide", data={"decision": "approved"}).status_code == 403
    page = client.get("/screenings")
    assert b"C01" not in page.data  # the owner's screening is not listed for another trainee


def test_an_instructor_not_named_cannot_decide_or_assess(ctx, client, program):
    owner, other, mine, stranger, entry, cred = _setup(program)
    _login(client, "stranger@example.test")
    assert client.post(f"/hours/{entry.id}/decide", data={"decision": "approved"}).status_code == 404
    assert client.get(f"/trainees/{owner.id}").status_code == 404
    resp = client.post(f"/trainees/{owner.id}/assessments", data={"competency_id": "C1", "level": "5",
                                                                   "observed_on": date.today().isoformat()})
    assert resp.status_code == 404
    db.session.expire_all()
    assert db.session.get(HourEntry, entry.id).status == "submitted"
    assert db.session.execute(sa.select(Assessment)).first() is None
    # The named instructor can.
    _login(client, "mine@example.test")
    assert client.post(f"/hours/{entry.id}/decide", data={"decision": "approved"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(HourEntry, entry.id).status == "approved"


def test_mass_assignment_fields_are_ignored(ctx, client, program):
    trainee = create_trainee(email="mass@example.test")
    instructor = create_user("instructor")
    db.session.commit()
    _login(client, "mass@example.test")
    client.post("/profile", data={"legal_name": "Mass Trainee", "profession": "nurse", "license_number": "N-1",
                                  "jurisdiction": "US-OR", "role": "admin", "is_enabled": "0", "approved": "1"})
    resp = client.post("/hours/", data={"entry_date": (date.today() - timedelta(days=1)).isoformat(),
                                        "duration_hours": 1,
                                        "category": "lab_in_person", "supervisor_id": instructor.id,
                                        "setting": "Lab", "status": "approved", "approved": "1", "hours": "99",
                                        "trainee_id": instructor.id})
    assert resp.status_code == 302
    db.session.expire_all()
    user = db.session.get(User, trainee.id)
    assert user.role == "trainee" and user.is_enabled
    entry = db.session.execute(sa.select(HourEntry).filter_by(trainee_id=trainee.id)).scalar_one()
    assert entry.status == "submitted" and entry.minutes == 60
    resp = client.post("/register", data={"name": "X", "email": "x@example.test", "password": PASSWORD,
                                          "confirm": PASSWORD, "role": "admin"})
    assert db.session.execute(sa.select(User.role).filter_by(email="x@example.test")).scalar_one_or_none() in (
        None, "trainee")


def test_evidence_is_served_only_as_an_attachment(ctx, client, program):
    owner, other, mine, stranger, entry, cred = _setup(program)
    _login(client, "mine@example.test")
    resp = client.get(f"/evidence/{cred.evidence_file_id}")
    assert resp.status_code == 200 and resp.data == PDF_BYTES
    assert resp.headers["Content-Disposition"].startswith("attachment")
    assert "sandbox" in resp.headers["Content-Security-Policy"]
    assert io.BytesIO(resp.data).read(5) == b"%PDF-"
    resp.close()
