"""Provider profiles, OMT credential uploads, evidence downloads and credential review, through the web client."""

from __future__ import annotations

import contextvars
import hashlib
import io
import re
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from PIL import Image
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from lms.core.audit import AuditEvent
from lms.core.database import set_write_intent
from lms.extensions import db
from lms.providers.models import EvidenceFile, OmtCredential, ProviderProfile
from lms.providers.professions import PROFESSIONS
from tests.factories import (
    PASSWORD,
    PDF_BYTES,
    create_credential,
    create_evidence,
    create_profile,
    create_user,
    name_instructor,
)

MB = 1024 * 1024


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in its own app context, as under a server.

    Without this, requests made while the test holds ``ctx`` reuse the test's app context, so ``g`` (Flask-Login's
    cached user) and the database session would leak from one request or client to the next.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture(autouse=True)
def _isolated_clients(app):
    set_write_intent(False)  # a CLI test earlier in this process may have left it on in the test's context
    app.test_client_class = IsolatedClient


@pytest.fixture
def client(app, _isolated_clients):
    return app.test_client()


def _fresh() -> None:
    # End the test's own transaction so the next query sees what the requests committed (SQLite reads a snapshot).
    db.session.rollback()


def _signed_in(app, email):
    c = app.test_client()
    resp = c.post("/login", data={"email": email, "password": PASSWORD})
    assert resp.status_code == 302, f"sign-in of {email} failed"
    return c


def _image(fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 80, 40)).save(buf, format=fmt)
    return buf.getvalue()


PNG_BYTES = _image("PNG")
JPEG_BYTES = _image("JPEG")


def _uploads(app) -> Path:
    return Path(app.config["INSTANCE_PATH"]) / "uploads"


def _files_on_disk(app) -> set[str]:
    d = _uploads(app)
    return {p.name for p in d.iterdir()} if d.exists() else set()


def _evidence_rows() -> list[EvidenceFile]:
    _fresh()
    return list(db.session.execute(sa.select(EvidenceFile).order_by(EvidenceFile.id)).scalars())


def _credentials() -> list[OmtCredential]:
    _fresh()
    return list(db.session.execute(sa.select(OmtCredential).order_by(OmtCredential.id)).scalars())


def _submit(client, data: bytes | None, filename: str = "certificate.pdf", **fields):
    form = {"provider_name": "OMT Academy", "course_hours": "28", "completed_on": "2024-01-10", **fields}
    if data is not None:
        form["evidence"] = FileStorage(io.BytesIO(data), filename=filename, content_type="application/octet-stream")
    # Encoded in memory: the test client would spool a large body to a temporary file that it never closes.
    boundary, body = encode_multipart(form)
    return client.post("/profile/omt-credential", data=body, content_type=f"multipart/form-data; boundary={boundary}")


def _download(client, file_id: int):
    """GET an evidence file; the response is read and closed (it holds the file open)."""
    with client.get(f"/evidence/{file_id}") as resp:
        resp.get_data()
    return resp


def _follow(client, resp) -> str:
    assert resp.status_code in (302, 303)
    return client.get(resp.headers["Location"]).get_data(as_text=True)


# --- Provider profile ------------------------------------------------------------------------------------------------


def _profile_form(**overrides):
    today = date.today()
    data = {"legal_name": "Nia A. Trainee", "profession": "dental_hygienist", "license_number": "DH-40213",
            "license_expires_on": (today + timedelta(days=400)).isoformat(), "jurisdiction": "US-WA",
            "cpr_expires_on": (today + timedelta(days=200)).isoformat(), "has_intraoral_endorsement": "y",
            "infection_control_ack": "y"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_trainee_saves_profile(ctx, client):
    user = create_user("trainee", email="t@example.test")
    db.session.commit()
    user_id = user.id
    client.post("/login", data={"email": "t@example.test", "password": PASSWORD})
    page = client.get("/profile")
    assert page.status_code == 200
    for key, prof in PROFESSIONS.items():  # the select offers the nine professions
        assert f'value="{key}"' in page.get_data(as_text=True), prof.label

    resp = client.post("/profile", data=_profile_form())
    assert "Your profile was saved." in _follow(client, resp)
    _fresh()
    profile = db.session.execute(sa.select(ProviderProfile).filter_by(user_id=user_id)).scalar_one()
    assert profile.legal_name == "Nia A. Trainee"
    assert profile.profession == "dental_hygienist"
    assert profile.license_number == "DH-40213"
    assert profile.jurisdiction == "US-WA"
    assert profile.license_expires_on == date.today() + timedelta(days=400)
    assert profile.has_intraoral_endorsement is True
    assert profile.infection_control_ack_at is not None

    # Saving again updates the same profile rather than adding one.
    client.post("/profile", data=_profile_form(jurisdiction="CA-ON", has_intraoral_endorsement=None))
    _fresh()
    rows = db.session.execute(sa.select(ProviderProfile).filter_by(user_id=user_id)).scalars().all()
    assert len(rows) == 1
    assert rows[0].jurisdiction == "CA-ON" and rows[0].has_intraoral_endorsement is False
    assert 'value="DH-40213"' in client.get("/profile").get_data(as_text=True)


@pytest.mark.parametrize("profession", list(PROFESSIONS))
def test_each_of_the_nine_professions_can_be_saved(ctx, client, profession):
    user = create_user("trainee", email="t@example.test")
    db.session.commit()
    user_id = user.id
    client.post("/login", data={"email": "t@example.test", "password": PASSWORD})
    assert client.post("/profile", data=_profile_form(profession=profession)).status_code == 302
    _fresh()
    assert db.session.execute(sa.select(ProviderProfile.profession).filter_by(user_id=user_id)).scalar_one() \
        == profession


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"profession": "astronaut"}, "Not a valid choice"),
        ({"profession": ""}, "Choose your profession."),
        ({"jurisdiction": "US-XX"}, "Not a valid choice"),
        ({"jurisdiction": ""}, "Choose the jurisdiction that issued your license."),
        ({"legal_name": ""}, "This field is required."),
        ({"license_number": ""}, "This field is required."),
    ],
)
def test_invalid_profile_is_rejected_and_nothing_changes(ctx, client, overrides, message):
    user = create_user("trainee", email="t@example.test")
    create_profile(user, profession="massage_therapist", jurisdiction="US-OR", legal_name="Original Name")
    db.session.commit()
    user_id = user.id
    saves_before = db.session.execute(
        sa.select(sa.func.count()).select_from(AuditEvent).filter_by(action="profile.save")).scalar_one()
    client.post("/login", data={"email": "t@example.test", "password": PASSWORD})

    resp = client.post("/profile", data=_profile_form(**{"legal_name": "Changed Name", **overrides}))
    assert resp.status_code == 400
    assert message in resp.get_data(as_text=True)
    _fresh()
    profile = db.session.execute(sa.select(ProviderProfile).filter_by(user_id=user_id)).scalar_one()
    assert (profile.legal_name, profile.profession, profile.jurisdiction) == \
        ("Original Name", "massage_therapist", "US-OR")
    assert db.session.execute(
        sa.select(sa.func.count()).select_from(AuditEvent).filter_by(action="profile.save")).scalar_one() \
        == saves_before


@pytest.mark.parametrize("role", ["instructor", "admin", "board"])
def test_only_trainees_have_a_provider_profile(ctx, app, role):
    create_user(role, email="staff@example.test")
    db.session.commit()
    c = _signed_in(app, "staff@example.test")
    assert c.get("/profile").status_code == 403
    assert c.post("/profile", data=_profile_form()).status_code == 403
    assert _submit(c, PDF_BYTES).status_code == 403
    _fresh()
    assert db.session.execute(sa.select(sa.func.count()).select_from(ProviderProfile)).scalar_one() == 0
    assert _evidence_rows() == []


def test_anonymous_profile_redirects_to_sign_in(client):
    for resp in (client.get("/profile"), client.post("/profile", data=_profile_form())):
        assert resp.status_code == 302
        assert urlsplit(resp.headers["Location"]).path == "/login"


# --- OMT credential upload -------------------------------------------------------------------------------------------


@pytest.fixture
def trainee_client(ctx, app):
    user = create_user("trainee", email="t@example.test")
    create_profile(user)
    db.session.commit()
    c = _signed_in(app, "t@example.test")
    c.user_id = user.id
    return c


@pytest.mark.parametrize(
    ("data", "filename", "content_type", "suffix"),
    [
        (PDF_BYTES, "certificate.pdf", "application/pdf", ".pdf"),
        (PNG_BYTES, "scan.png", "image/png", ".png"),
        (JPEG_BYTES, "photo.jpeg", "image/jpeg", ".jpg"),
        (PNG_BYTES, "certificate.pdf", "image/png", ".png"),  # the content decides, not the name
        (PDF_BYTES, "certificate", "application/pdf", ".pdf"),
    ],
)
def test_credential_upload_is_typed_by_content(app, trainee_client, data, filename, content_type, suffix):
    resp = _submit(trainee_client, data, filename)
    assert "Your OMT credential was submitted." in _follow(trainee_client, resp)

    [ev] = _evidence_rows()
    assert ev.owner_id == trainee_client.user_id and ev.kind == "omt_credential"
    assert ev.content_type == content_type
    assert re.fullmatch(r"[0-9a-f]{32}" + re.escape(suffix), ev.stored_name)
    assert ev.original_name == filename
    assert ev.size_bytes == len(data) and ev.sha256 == hashlib.sha256(data).hexdigest()
    stored = _uploads(app) / ev.stored_name
    assert stored.read_bytes() == data
    assert _files_on_disk(app) == {ev.stored_name}  # no temporary file left behind

    [cred] = _credentials()
    assert cred.user_id == trainee_client.user_id and cred.evidence_file_id == ev.id
    assert cred.status == "pending" and cred.course_hours == 28 and cred.completed_on == date(2024, 1, 10)
    page = trainee_client.get("/profile").get_data(as_text=True)
    assert "OMT Academy" in page and "Pending" in page


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"just some notes, not a certificate\n", "x.pdf", "Only PDF, PNG or JPEG files are accepted"),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "x.png", "Only PDF, PNG or JPEG files are accepted"),
        (b"<html><script>alert(1)</script></html>", "x.jpg", "Only PDF, PNG or JPEG files are accepted"),
        (b"", "empty.pdf", "The file is empty."),
        (b"%PDF-" + b"0" * (5 * MB - 4), "big.pdf", "The file is larger than 5 MB."),  # 5 MB + 1 byte
        (None, "", "Attach your certificate or transcript."),
    ],
)
def test_unacceptable_uploads_write_nothing(app, trainee_client, data, filename, message):
    resp = _submit(trainee_client, data, filename)
    assert resp.status_code == 400
    assert message in resp.get_data(as_text=True)
    assert _evidence_rows() == []
    assert _credentials() == []
    assert _files_on_disk(app) == set()


def test_oversized_request_is_refused_with_413_and_writes_nothing(app, trainee_client):
    resp = _submit(trainee_client, b"%PDF-" + b"0" * (6 * MB), "huge.pdf")
    assert resp.status_code == 413
    assert "That file is too large. Files may be at most 5 MB." in resp.get_data(as_text=True)
    assert _evidence_rows() == []
    assert _credentials() == []
    assert _files_on_disk(app) == set()


def test_upload_of_exactly_5_mb_is_accepted(app, trainee_client):
    data = b"%PDF-" + b"0" * (5 * MB - 5)
    assert len(data) == 5 * MB
    assert _submit(trainee_client, data, "limit.pdf").status_code == 302
    [ev] = _evidence_rows()
    assert ev.size_bytes == 5 * MB
    assert (_uploads(app) / ev.stored_name).stat().st_size == 5 * MB


@pytest.mark.parametrize(
    ("filename", "kept"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("/etc/cron.d/job.pdf", "job.pdf"),
        # The multipart encoding itself eats backslashes, so only "no separator survives" can be checked here.
        ("..\\..\\windows\\evil.pdf", None),
    ],
)
def test_path_tricks_in_the_filename_are_not_used_on_disk(app, tmp_path, trainee_client, filename, kept):
    assert _submit(trainee_client, PDF_BYTES, filename).status_code == 302
    [ev] = _evidence_rows()
    assert re.fullmatch(r"[0-9a-f]{32}\.pdf", ev.stored_name)
    assert "/" not in ev.original_name and "\\" not in ev.original_name
    if kept:
        assert ev.original_name == kept
    uploads = _uploads(app).resolve()
    stored = (uploads / ev.stored_name).resolve()
    assert stored.parent == uploads and stored.read_bytes() == PDF_BYTES
    # Nothing landed where the name pointed (relative to the upload folder) or anywhere else under the test dir.
    assert not (uploads / "../../etc/passwd.pdf").exists()
    written = [p for p in tmp_path.rglob("*.pdf") if p.resolve() != stored]
    assert written == []
    resp = _download(trainee_client, ev.id)
    assert resp.status_code == 200
    assert resp.headers["Content-Disposition"] == f"attachment; filename={ev.original_name}"


def test_credential_fields_are_validated_before_storing(app, trainee_client):
    future = (date.today() + timedelta(days=3)).isoformat()
    resp = _submit(trainee_client, PDF_BYTES, completed_on=future)
    assert resp.status_code == 400
    assert "The completion date cannot be in the future." in resp.get_data(as_text=True)
    resp = _submit(trainee_client, PDF_BYTES, course_hours="0")
    assert resp.status_code == 400
    assert "Enter hours between 1 and 2000." in resp.get_data(as_text=True)
    assert _evidence_rows() == [] and _credentials() == [] and _files_on_disk(app) == set()


# --- Evidence download -----------------------------------------------------------------------------------------------


@pytest.fixture
def evidence_setup(ctx, app):
    owner = create_user("trainee", email="owner@example.test")
    create_user("trainee", email="other@example.test")
    name_instructor(owner, create_user("instructor", email="inst@example.test"))
    create_user("instructor", email="stranger@example.test")
    create_user("admin", email="admin@example.test")
    create_user("board", email="board@example.test")
    ev = create_evidence(owner, data=PDF_BYTES)
    db.session.commit()
    return ev.id


@pytest.mark.parametrize("email", ["owner@example.test", "inst@example.test", "admin@example.test"])
def test_evidence_is_downloadable_as_attachment_by_owner_instructor_admin(app, evidence_setup, email):
    resp = _download(_signed_in(app, email), evidence_setup)
    assert resp.status_code == 200
    assert resp.data == PDF_BYTES
    assert resp.mimetype == "application/pdf"
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in resp.headers["Content-Security-Policy"]


def test_an_instructor_the_owner_did_not_name_gets_404(app, evidence_setup):
    assert _signed_in(app, "stranger@example.test").get(f"/evidence/{evidence_setup}").status_code == 404


def test_another_trainee_gets_404(app, evidence_setup):
    c = _signed_in(app, "other@example.test")
    assert c.get(f"/evidence/{evidence_setup}").status_code == 404
    # Same answer as for a file that does not exist: nothing tells the files of others apart.
    assert c.get(f"/evidence/{evidence_setup + 1000}").status_code == 404


def test_board_gets_403(app, evidence_setup):
    assert _signed_in(app, "board@example.test").get(f"/evidence/{evidence_setup}").status_code == 403


def test_anonymous_is_sent_to_sign_in(client, evidence_setup):
    resp = client.get(f"/evidence/{evidence_setup}")
    assert resp.status_code == 302
    assert urlsplit(resp.headers["Location"]).path == "/login"
    assert PDF_BYTES not in resp.data


def test_evidence_whose_file_is_missing_is_404(app, evidence_setup):
    _fresh()
    ev = db.session.get(EvidenceFile, evidence_setup)
    (_uploads(app) / ev.stored_name).unlink()
    assert _signed_in(app, "inst@example.test").get(f"/evidence/{evidence_setup}").status_code == 404


def test_png_uploaded_under_a_pdf_name_downloads_as_png(app, trainee_client):
    assert _submit(trainee_client, PNG_BYTES, "certificate.pdf").status_code == 302
    [ev] = _evidence_rows()
    resp = _download(trainee_client, ev.id)
    assert resp.status_code == 200
    assert resp.mimetype == "image/png"
    assert resp.data == PNG_BYTES
    # Offered under the name the trainee gave it, with the extension of what it really is.
    assert resp.headers["Content-Disposition"] == "attachment; filename=certificate.png"


# --- Credential review -----------------------------------------------------------------------------------------------


@pytest.fixture
def review_setup(ctx):
    trainee = create_user("trainee", email="t@example.test", name="Tara Trainee")
    create_profile(trainee)
    cred = create_credential(trainee, status="pending")
    name_instructor(trainee, create_user("instructor", email="inst@example.test"))
    create_user("instructor", email="stranger@example.test")
    create_user("admin", email="admin@example.test")
    create_user("board", email="board@example.test")
    db.session.commit()
    return cred.id


def _decide(c, cred_id, decision, reason=""):
    return c.post(f"/credentials/{cred_id}/decide", data={"decision": decision, "reason": reason})


def _cred(cred_id) -> OmtCredential:
    _fresh()
    return db.session.get(OmtCredential, cred_id)


def test_instructor_verifies_a_credential(app, review_setup):
    inst = _signed_in(app, "inst@example.test")
    queue = inst.get("/credentials").get_data(as_text=True)
    assert "Tara Trainee" in queue and "OMT Academy" in queue
    assert "Tara Trainee verified" in _follow(inst, _decide(inst, review_setup, "verified"))

    cred = _cred(review_setup)
    assert cred.status == "verified"
    assert cred.decided_by.email == "inst@example.test" and cred.decided_at is not None
    assert "Tara Trainee" not in inst.get("/credentials").get_data(as_text=True)  # no longer waiting
    assert db.session.execute(sa.select(AuditEvent).filter_by(action="omt.verified", object_id=str(review_setup))
                              ).scalar_one().actor_id == cred.decided_by_id
    page = _signed_in(app, "t@example.test").get("/profile").get_data(as_text=True)
    assert "Verified" in page


@pytest.mark.parametrize("who", ["inst@example.test", "admin@example.test"])
def test_rejection_with_reason_is_shown_to_the_trainee(app, review_setup, who):
    reviewer = _signed_in(app, who)
    reason = "The scan is unreadable; please upload the full certificate."
    _decide(reviewer, review_setup, "rejected", reason)
    cred = _cred(review_setup)
    assert cred.status == "rejected" and cred.decision_reason == reason
    page = _signed_in(app, "t@example.test").get("/profile").get_data(as_text=True)
    assert "Rejected" in page
    assert "The scan is unreadable; please upload the full certificate." in page


@pytest.mark.parametrize("reason", ["", "   \n  "])
def test_rejection_without_reason_is_refused(app, review_setup, reason):
    inst = _signed_in(app, "inst@example.test")
    page = _follow(inst, _decide(inst, review_setup, "rejected", reason))
    assert "Give the trainee a reason for the rejection." in page
    cred = _cred(review_setup)
    assert cred.status == "pending" and cred.decided_by_id is None and cred.decision_reason is None


def test_unknown_decision_is_refused(app, review_setup):
    inst = _signed_in(app, "inst@example.test")
    _decide(inst, review_setup, "approved", "fine")
    assert _cred(review_setup).status == "pending"


@pytest.mark.parametrize("role", ["instructor", "admin"])
def test_nobody_decides_their_own_credential(ctx, app, role):
    reviewer = create_user(role, email="self@example.test")
    name_instructor(reviewer, create_user("instructor", email="inst@example.test"))
    own = create_credential(reviewer, status="pending")
    db.session.commit()
    own_id = own.id
    c = _signed_in(app, "self@example.test")
    page = _follow(c, _decide(c, own_id, "verified"))
    assert "You cannot verify your own credential." in page
    assert _cred(own_id).status == "pending"
    # Another instructor can.
    other = _signed_in(app, "inst@example.test")
    _decide(other, own_id, "verified")
    assert _cred(own_id).status == "verified"


def test_a_decided_credential_cannot_be_decided_again(app, review_setup):
    inst = _signed_in(app, "inst@example.test")
    _decide(inst, review_setup, "verified")
    first = _cred(review_setup)
    decided_at, decided_by = first.decided_at, first.decided_by_id

    admin = _signed_in(app, "admin@example.test")
    page = _follow(admin, _decide(admin, review_setup, "rejected", "changed my mind"))
    assert "This credential has already been decided." in page
    again = _cred(review_setup)
    assert (again.status, again.decided_at, again.decided_by_id, again.decision_reason) == \
        ("verified", decided_at, decided_by, None)
    assert db.session.execute(sa.select(sa.func.count()).select_from(AuditEvent)
                              .filter_by(action="omt.rejected")).scalar_one() == 0


@pytest.mark.parametrize("email", ["t@example.test", "board@example.test"])
def test_trainees_and_boards_cannot_review(app, review_setup, email):
    c = _signed_in(app, email)
    assert c.get("/credentials").status_code == 403
    assert _decide(c, review_setup, "verified").status_code == 403
    assert _cred(review_setup).status == "pending"


def test_an_instructor_not_named_neither_sees_nor_decides_the_credential(app, review_setup):
    stranger = _signed_in(app, "stranger@example.test")
    assert "Tara Trainee" not in stranger.get("/credentials").get_data(as_text=True)
    assert _decide(stranger, review_setup, "verified").status_code == 404
    assert _cred(review_setup).status == "pending"
    named = _signed_in(app, "inst@example.test")
    assert "Tara Trainee" in named.get("/credentials").get_data(as_text=True)


def test_decide_on_a_missing_credential_is_404(app, review_setup):
    assert _decide(_signed_in(app, "inst@example.test"), review_setup + 1000, "verified").status_code == 404
