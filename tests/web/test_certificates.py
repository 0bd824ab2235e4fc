from datetime import date, timedelta

from lms.extensions import db
from tests.factories import create_trainee, create_user, enrollment_of


def qualified_trainee(email="harper@example.test", today=None):
    from lms.demo import log_practicum, pass_modules, record_observations
    from lms.standards.queries import current_version
    from lms.training.models import Program

    today = today or date.today()
    program = db.session.get(Program, "omr")
    user = create_trainee(profession="dental_hygienist", jurisdiction="CA-BC", email=email, days_ago=200)
    enr = enrollment_of(user)
    instructor = create_user("instructor", profession="massage_therapist")
    dentist = create_user("instructor", profession="dentist")
    pass_modules(user, enr, program)
    log_practicum(user, enr, program, instructor, today, "D")
    record_observations(user, enr, current_version("omr"), [instructor, dentist], today)
    db.session.flush()
    return user


def test_exp(ctx, program):
    import time
    from lms.certificates.issuing import issue_certificate
    from lms.eligibility.service import decision_for
    t0 = time.time()
    u = qualified_trainee()
    print("build", time.time() - t0)
    d = decision_for(u)
    print(d.decision.eligible, d.decision.endorsements)
    admin = create_user("admin")
    t0 = time.time()
    r = issue_certificate(u, actor=admin)
    print("issue", time.time() - t0, r.certificate.serial)
    on = date.today() - timedelta(days=800)
    d = decision_for(u, on=on)
    print(d.decision.eligible, [ (x.id, x.reason) for x in d.decision.requirements if not x.met])


def test_exp2(ctx, program):
    from lms.certificates.issuing import issue_certificate
    u = qualified_trainee()
    admin = create_user("admin")
    r = issue_certificate(u, actor=admin)
    open("/tmp/certexp/c.pdf", "wb").write(r.certificate.pdf_bytes)
    print(r.certificate.evidence, r.certificate.endorsements, r.certificate.holder_name, r.certificate.license_number)
