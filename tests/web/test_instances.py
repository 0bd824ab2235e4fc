"""Several app instances share one database: a certificate issued through one verifies through the other."""

from datetime import date

from lms.extensions import db
from tests.factories import create_trainee, create_user, enrollment_of


def test_certificate_issued_on_one_instance_verifies_on_another(make_app, tmp_path):
    first, second = make_app(), make_app()
    assert first.config["INSTANCE_PATH"] != second.config["INSTANCE_PATH"]  # nothing shared on disk
    with first.test_request_context():
        from lms.certificates.issuing import issue_certificate
        from lms.demo import log_practicum, pass_modules, record_observations
        from lms.standards.operations import load_standard
        from lms.standards.queries import current_version
        from lms.training.content import load_all
        from lms.training.models import Program

        load_all(first.config["COURSES_DIR"])
        load_standard(first.config["COURSES_DIR"] / "omr" / "standard.yaml")
        program = db.session.get(Program, "omr")
        admin = create_user("admin")
        instructor = create_user("instructor")
        dentist = create_user("instructor", profession="dentist")
        trainee = create_trainee(profession="dental_therapist", email="two@example.test", program=program)
        enr = enrollment_of(trainee)
        pass_modules(trainee, enr, program)
        log_practicum(trainee, enr, program, instructor, date.today(), "D")
        record_observations(trainee, enr, current_version("omr"), [instructor, dentist], date.today())
        cert = issue_certificate(trainee, actor=admin).certificate
        db.session.commit()
        serial, pdf = cert.serial, cert.pdf_bytes
        db.session.remove()

    other = second.test_client()
    resp = other.get(f"/api/v1/certificates/{serial}")
    assert resp.status_code == 200 and resp.json["status"] == "active"
    import io

    resp = other.post("/api/v1/verify", data={"file": (io.BytesIO(pdf), "c.pdf")}, content_type="multipart/form-data")
    assert resp.json["genuine"] is True and resp.json["serial"] == serial
    assert other.get(f"/certificates/{serial}.pdf").data == pdf
