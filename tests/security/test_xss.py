"""Hostile names, notes and course text are escaped in pages and in the certificate PDF."""

import subprocess
from datetime import date, timedelta

from lms.extensions import db
from tests.factories import PASSWORD, create_trainee, create_user, enrollment_of

PAYLOAD = '<script>alert("x")</script><img src=x onerror=alert(1)>'
FILE_PAYLOAD = '<img src="file:///etc/passwd">'


def test_hostile_name_and_notes_are_escaped_in_pages(ctx, client, program):
    trainee = create_trainee(email="xss@example.test", name=PAYLOAD)
    instructor = create_user("instructor", email="xi@example.test", name=PAYLOAD)
    db.session.commit()
    client.post("/login", data={"email": "xss@example.test", "password": PASSWORD})
    client.post("/profile", data={"legal_name": PAYLOAD, "profession": "nurse", "license_number": PAYLOAD,
                                  "jurisdiction": "US-OR"})
    client.post("/hours/", data={"entry_date": (date.today() - timedelta(days=1)).isoformat(), "duration_hours": 1,
                                 "category": "lab_in_person", "supervisor_id": instructor.id,
                                 "setting": PAYLOAD, "notes": PAYLOAD})
    for url in ("/dashboard", "/hours/", "/profile"):
        page = client.get(url).data
        assert b"<script>alert" not in page and b"<img src=x" not in page, url
        assert b"&lt;script&gt;" in page, url
    client.post("/logout")
    client.post("/login", data={"email": "xi@example.test", "password": PASSWORD})
    page = client.get("/hours/queue").data
    assert b"<script>alert" not in page and b"&lt;script&gt;" in page
    assert trainee


def test_hostile_name_prints_as_text_in_the_certificate_pdf(ctx, program, tmp_path):
    from lms.certificates.issuing import issue_certificate
    from lms.demo import log_practicum, pass_modules, record_observations
    from lms.standards.queries import current_version

    admin = create_user("admin")
    instructor = create_user("instructor")
    dentist = create_user("instructor", profession="dentist")
    trainee = create_trainee(profession="dentist", email="pdfxss@example.test")
    trainee.profile.legal_name = FILE_PAYLOAD
    enr = enrollment_of(trainee)
    pass_modules(trainee, enr, program)
    log_practicum(trainee, enr, program, instructor, date.today(), "D")
    record_observations(trainee, enr, current_version("omr"), [instructor, dentist], date.today())
    cert = issue_certificate(trainee, actor=admin).certificate
    db.session.commit()
    pdf = tmp_path / "c.pdf"
    pdf.write_bytes(cert.pdf_bytes)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "<img" in text and "file:///etc/passwd" in text  # printed literally
    assert "root:" not in text and b"root:x:" not in cert.pdf_bytes
