"""Fixture factories: ``create_<thing>`` builds one record through the product's own operations."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

from flask import current_app

from lms.auth.operations import create_user as _create_user
from lms.extensions import db

PASSWORD = "correct-horse-battery"
PDF_BYTES = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
_counter = {"n": 0}


def _next() -> int:
    _counter["n"] += 1
    return _counter["n"]


def create_user(role="trainee", *, email=None, name=None, profession=None, password=PASSWORD, verified=True):
    n = _next()
    user = _create_user(email=email or f"{role}{n}@example.test", name=name or f"{role.title()} {n}", role=role,
                        password=password, profession=profession, verified=verified)
    db.session.flush()
    return user


def create_evidence(user, kind="omt_credential", data=PDF_BYTES):
    from lms.core.uploads import store_upload
    from lms.providers.operations import add_evidence

    stored = store_upload(io.BytesIO(data), f"{kind}.pdf", current_app.config["INSTANCE_PATH"],
                          current_app.config["UPLOAD_MAX_BYTES"])
    return add_evidence(user, kind, stored)


def create_profile(user, *, profession="massage_therapist", jurisdiction="US-OR", legal_name=None,
                   license_number="LIC-1", endorsement=False, licence="verified", licence_expires=None):
    """A complete profile. Its licence is verified by an admin unless ``licence="pending"``."""
    from lms.providers.operations import save_profile

    today = date.today()
    profile = save_profile(user, {"legal_name": legal_name or user.name, "profession": profession,
                                  "license_number": license_number,
                                  "license_expires_on": licence_expires or today + timedelta(days=365),
                                  "jurisdiction": jurisdiction, "cpr_expires_on": today + timedelta(days=365),
                                  "infection_control_ack": True, "has_intraoral_endorsement": endorsement})
    if licence == "verified":
        verify_licence(user)
    return profile


def verify_licence(user, admin=None):
    """An admin verifies the trainee's newest licence record."""
    from lms.providers.operations import current_licence, decide_licence

    return decide_licence(current_licence(user.id), decision="verified", actor=admin or registrar(),
                          reference="https://register.example.test/lookup")


def registrar():
    """The admin who checks licences in tests (one account, created on first use)."""
    import sqlalchemy as sa

    from lms.auth.models import User

    existing = db.session.execute(sa.select(User).filter_by(email="registrar@example.test")).scalar_one_or_none()
    return existing or create_user("admin", email="registrar@example.test", name="Rita Registrar")


def create_credential(user, reviewer=None, *, hours=28, status="verified"):
    from lms.providers.operations import decide_omt_credential, submit_omt_credential

    cred = submit_omt_credential(user, provider_name="OMT Academy", course_hours=Decimal(hours),
                                 completed_on=date(2024, 1, 10), evidence=create_evidence(user))
    if status != "pending":
        reviewer = reviewer or create_user("instructor")
        decide_omt_credential(cred, decision=status, reason="checked" if status == "verified" else "unreadable",
                              actor=reviewer)
    return cred


def create_trainee(*, profession="massage_therapist", jurisdiction="US-OR", enrolled=True, program=None,
                   days_ago=120, **kw):
    """A trainee with a complete profile and verified credential, optionally enrolled months ago."""
    from lms.training.operations import enroll

    user = create_user("trainee", **kw)
    create_profile(user, profession=profession, jurisdiction=jurisdiction)
    create_credential(user)
    if enrolled:
        from lms.training.models import Program

        program = program or db.session.get(Program, "omr")
        enrollment = enroll(user, program)
        enrollment.enrolled_on = date.today() - timedelta(days=days_ago)
        db.session.flush()
    return user


def enrollment_of(user):
    from lms.training.operations import get_enrollment

    return get_enrollment(user.id, "omr")


def signed_in_client(app, email, password=PASSWORD):
    """A fresh test client signed in as ``email``."""
    client = app.test_client()
    resp = client.post("/login", data={"email": email, "password": password})
    assert resp.status_code == 302, resp.data[:500]
    return client


def page_text(resp) -> str:
    """The response body with HTML entities decoded."""
    import html

    return html.unescape(resp.get_data(as_text=True))


def get_committed(client, url, **kw):
    """GET after committing the test's session (the client's requests read the database afresh)."""
    db.session.commit()
    return client.get(url, **kw)


def post_committed(client, url, data=None, **kw):
    """POST after committing the test's session."""
    db.session.commit()
    return client.post(url, data=data or {}, **kw)


def name_instructor(trainee, instructor):
    """The trainee names the instructor, who may then act for them."""
    from lms.providers.operations import name_instructor as _name

    return _name(trainee, instructor)
