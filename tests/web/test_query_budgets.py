"""Query budgets: the SQL statements one request runs must not grow with the data behind the page.

Each test measures a request at a small data size, adds more of the data that page shows (more trainees, more
entries, more decisions by more people, more certificates, more serials), measures again, and asserts that the count
is unchanged and within the page's stated budget. A count that grows with the data is an N+1 query: one more
statement per row shown.

Statements are counted with a ``before_cursor_execute`` listener on the app's engine, for the request only.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from lms.core.database import count_statements
from lms.extensions import db
from tests.factories import PASSWORD, create_trainee, create_user, enrollment_of

# Statements per request, including the session's user lookup, the transaction bookkeeping and the verification log.
BUDGETS = {
    "trainee dashboard": 31,  # + exam sittings, OSCE results and the trainee's cases for the decision
    "hours page": 16,  # + the unread count, the pinned standard's targets and the day hours start to count
    "instructor queue": 7,
    "admin queue": 7,
    "gradebook": 23,  # paged, with licences, enrollment dates, advanced standing, exam sittings, OSCE results and cases
    "admin trainees": 26,  # + licences, enrollment dates, advanced standing, exam sittings, OSCE results and cases
    "admin trainees (search)": 20,
    "verify page": 10,
    "api certificate": 10,
    "api bulk": 9,
    "cohort csv (per batch)": 23,  # + exam sittings, OSCE results and cases per batch
    "your certificates": 8,  # the holder's certificates with their revocations, applications, programs
    "your certificates (applying)": 25,  # no certificate yet: + the decision that says why not to apply yet
}




def queries(app, client, method: str, url: str, **kwargs) -> int:
    with count_statements(app) as statements:
        resp = client.open(url, method=method, **kwargs)
        assert resp.status_code == 200, (url, resp.status_code, resp.get_data(as_text=True)[:300])
        resp.get_data()  # a streamed body runs its queries while it is read
    return len(statements)


def login(app, email: str, password: str = PASSWORD):
    client = app.test_client()
    resp = client.post("/login", data={"email": email, "password": password})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    return client


def check(measured: dict[str, tuple[int, int]]) -> None:
    """Every page: same count at both sizes, within its budget."""
    problems = [f"{page}: {small} queries small, {large} large (budget {BUDGETS[page]})"
                for page, (small, large) in measured.items() if small != large or large > BUDGETS[page]]
    assert not problems, "; ".join(problems)


@pytest.fixture
def loaded(app):
    """The app with the default program and standard loaded. Requests run outside any test context, as in
    production: each gets its own session, so nothing the test loaded is cached for it."""
    from lms.standards.operations import load_standard
    from lms.training.content import load_all

    with app.app_context():
        _loaded, errors = load_all(app.config["COURSES_DIR"])
        assert not errors, errors
        load_standard(app.config["COURSES_DIR"] / "omr" / "standard.yaml")
        db.session.commit()
    return app


def _program():
    from lms.training.models import Program

    return db.session.get(Program, "omr")


def _log(user, enrollment, program, supervisor, day, decision="approved", reason="", category="lab_in_person"):
    from lms.demo import log_session

    return log_session(user, enrollment, program, supervisor, day=day, minutes=60, category=category,
                       case=f"C{day.day:02d}", decision=decision, reason=reason)


def test_trainee_pages_do_not_grow_with_the_trainees_records(loaded):
    from lms.demo import pass_modules, record_observations
    from lms.standards.queries import current_version

    app, today = loaded, date.today()
    with app.test_request_context():
        program = _program()
        trainee = create_trainee(email="busy@budget.test")
        enrollment = enrollment_of(trainee)
        supervisors = [create_user("instructor", profession="massage_therapist") for _ in range(4)]
        dentist = create_user("instructor", profession="dentist")
        pass_modules(trainee, enrollment, program, keys={"M1"})
        _log(trainee, enrollment, program, supervisors[0], today - timedelta(days=3))
        _log(trainee, enrollment, program, supervisors[0], today - timedelta(days=4), decision="submitted")
        db.session.commit()
    client = login(app, "busy@budget.test")
    small = {"trainee dashboard": queries(app, client, "GET", "/dashboard"),
             "hours page": queries(app, client, "GET", "/hours/")}

    # Many more entries, pending and decided, by several supervisors, with reasons; more modules and observations.
    with app.test_request_context():
        program = _program()
        trainee, enrollment = db.session.merge(trainee), db.session.merge(enrollment)
        supervisors = [db.session.merge(s) for s in supervisors]
        dentist = db.session.merge(dentist)
        standard = current_version(program.id)
        pass_modules(trainee, enrollment, program, keys={"M2", "M3", "M4"})
        for i in range(24):
            decision = ("approved", "needs_info", "rejected", "submitted")[i % 4]
            _log(trainee, enrollment, program, supervisors[i % 4], today - timedelta(days=10 + i), decision=decision,
                 reason="" if decision in ("approved", "submitted") else f"Please add detail ({i}).",
                 category=("lab_in_person", "clinical_extraoral")[i % 2])
        record_observations(trainee, enrollment, standard, [supervisors[1], dentist], today, only={"C1", "C3"})
        db.session.commit()
    large = {"trainee dashboard": queries(app, client, "GET", "/dashboard"),
             "hours page": queries(app, client, "GET", "/hours/")}
    check({page: (small[page], large[page]) for page in small})


def test_certificates_page_does_not_grow_with_the_holders_certificates(loaded):
    """``/certificates``: the holder's certificates (each with its status and sharing links), their applications and
    why they cannot apply now. Revoked and reissued certificates and declined applications add rows, not queries."""
    from lms.certificates.issuing import issue_certificate, revoke
    from lms.certificates.models import Certificate, CertificateApplication
    from tests.web.test_certificates import qualified_trainee

    app = loaded
    with app.test_request_context():
        admin = create_user("admin", email="admin@budget.test")
        trainee = qualified_trainee(email="holder@budget.test")
        issue_certificate(trainee, actor=admin)
        db.session.add(CertificateApplication(trainee_id=trainee.id, program_id="omr", status="declined",
                                              note="Declined once", decided_by_id=admin.id))
        db.session.commit()
    client = login(app, "holder@budget.test")
    small = queries(app, client, "GET", "/certificates")

    with app.test_request_context():
        admin, trainee = db.session.merge(admin), db.session.merge(trainee)
        for n in range(3):  # revoked, then reissued with a reason: one more certificate each time
            current = db.session.execute(sa.select(Certificate).filter_by(trainee_id=trainee.id, is_current=True)
                                         .order_by(Certificate.id.desc())).scalars().first()
            revoke(current, actor=admin, reason=f"Typo in the name ({n})", category="issued_in_error")
            issue_certificate(trainee, actor=admin, reissue_reason=f"Name corrected ({n})")
            db.session.add(CertificateApplication(trainee_id=trainee.id, program_id="omr", status="declined",
                                                  note=f"Declined again ({n})", decided_by_id=admin.id))
        db.session.commit()
        assert db.session.execute(sa.select(sa.func.count()).select_from(Certificate)
                                  .filter_by(trainee_id=trainee.id)).scalar_one() == 4
    large = queries(app, client, "GET", "/certificates")

    # Before the first certificate the page also says why the trainee cannot apply yet: the decision, whose cost
    # does not grow with the trainee's records either.
    with app.test_request_context():
        trainee = create_trainee(email="applicant@budget.test")
        db.session.commit()
    applicant = login(app, "applicant@budget.test")
    before_small = queries(app, applicant, "GET", "/certificates")
    with app.test_request_context():
        admin, trainee = db.session.merge(admin), db.session.merge(trainee)
        enrollment, supervisor = enrollment_of(trainee), create_user("instructor", profession="massage_therapist")
        for n in range(6):
            _log(trainee, enrollment, _program(), supervisor, date.today() - timedelta(days=5 + n))
            db.session.add(CertificateApplication(trainee_id=trainee.id, program_id="omr", status="declined",
                                                  note=f"Not yet ({n})", decided_by_id=admin.id))
        db.session.commit()
    before_large = queries(app, applicant, "GET", "/certificates")
    check({"your certificates": (small, large), "your certificates (applying)": (before_small, before_large)})


def _population(app, size: int):
    from lms.scale import build_population

    with app.test_request_context():
        report = build_population(size, seed=size)
        db.session.commit()
    return report


def _serials(app, n: int) -> list[str]:
    """``n`` serials: every issued one (up to n), then well-formed serials that match nothing."""
    from lms.certificates.models import Certificate
    from lms.certificates.serials import new_serial

    with app.app_context():
        issued = list(db.session.execute(sa.select(Certificate.serial).order_by(Certificate.id)).scalars())[:n]
    return issued + [new_serial() for _ in range(n - len(issued))]


def _instructor_with_queue(app, run_index: int) -> tuple[str, int]:
    """The first scale instructor of a seed-scale run, and how many entries wait in their queue."""
    from lms.auth.models import User
    from lms.hours.models import HourEntry

    with app.app_context():
        user = db.session.execute(sa.select(User).where(User.email.like("instructor-%-0@scale.orocert.test"))
                                  .order_by(User.id).offset(run_index).limit(1)).scalar_one()
        waiting = db.session.execute(sa.select(sa.func.count()).select_from(HourEntry).where(
            HourEntry.supervisor_id == user.id, HourEntry.status == "submitted")).scalar_one()
        return user.email, waiting


def _apply_for_eligible(app, at_most: int) -> int:
    """Pending certificate applications from eligible trainees without a certificate (the real operation)."""
    from lms.certificates.applications import apply
    from lms.certificates.models import Certificate, CertificateApplication
    from lms.eligibility.service import decisions_for
    from lms.training.models import Enrollment

    with app.test_request_context():
        ids = list(db.session.execute(sa.select(Enrollment.user_id).order_by(Enrollment.user_id)).scalars())
        holders = set(db.session.execute(sa.select(Certificate.trainee_id)).scalars())
        applied = set(db.session.execute(sa.select(CertificateApplication.trainee_id)).scalars())
        made = 0
        for td in decisions_for(ids):
            if made < at_most and td.decision.eligible and td.user.id not in holders | applied:
                apply(td.user, program_id="omr")
                made += 1
        db.session.commit()
        return db.session.execute(sa.select(sa.func.count()).select_from(CertificateApplication)
                                  .filter_by(status="pending")).scalar_one()


def test_cohort_pages_and_api_do_not_grow_with_the_population(loaded):
    from lms.admin.reports import cohort_rows
    from lms.certificates.models import Certificate
    from lms.scale import SCALE_PASSWORD

    app = loaded
    _population(app, 12)
    pending_small = _apply_for_eligible(app, 1)
    admin = login(app, "admin@scale.orocert.test", SCALE_PASSWORD)
    anonymous = app.test_client()
    with app.app_context():
        serial = db.session.execute(sa.select(Certificate.serial).order_by(Certificate.id).limit(1)).scalar_one()

    def measure(instructor_email: str, bulk_size: int) -> dict[str, int]:
        from lms.core.cache import cache_for

        cache_for(app).clear()  # the verification pages are measured on their cold path (cache miss)
        instructor = login(app, instructor_email, SCALE_PASSWORD)
        out = {
            "instructor queue": queries(app, instructor, "GET", "/hours/queue"),
            "admin queue": queries(app, admin, "GET", "/hours/queue"),
            "gradebook": queries(app, admin, "GET", "/gradebook"),
            "admin trainees": queries(app, admin, "GET", "/admin/trainees"),
            # A search that matches nobody: the pending applications' names are then not already loaded by the page.
            "admin trainees (search)": queries(app, admin, "GET", "/admin/trainees?q=nobody-by-this-name"),
            "verify page": queries(app, anonymous, "GET", f"/verify/{serial}"),
            "api certificate": queries(app, anonymous, "GET", f"/api/v1/certificates/{serial}"),
            "api bulk": queries(app, anonymous, "POST", "/api/v1/verify/bulk",
                                json={"serials": _serials(app, bulk_size)}),
        }
        # The CSV export pages through the cohort: its cost per batch of trainees is what must stay flat.
        with app.test_request_context(), count_statements(app) as statements:
            rows = list(cohort_rows("omr", batch_size=1000))
        assert rows and len({r["trainee_id"] for r in rows}) == len(rows)
        out["cohort csv (per batch)"] = len(statements)
        return out

    first_instructor, waiting_small = _instructor_with_queue(app, 0)
    small = measure(first_instructor, 10)

    # Four times the trainees (more instructors, assessors, certificates, pending applications), ten times the serials.
    _population(app, 36)
    pending_large = _apply_for_eligible(app, 4)
    second_instructor, waiting_large = _instructor_with_queue(app, 1)
    large = measure(second_instructor, 100)
    # The data really grew where each page looks.
    assert waiting_large > waiting_small > 0 and pending_large > pending_small > 0
    check({page: (small[page], large[page]) for page in small})


def test_bulk_verification_answers_every_serial(loaded):
    """The bulk endpoint's constant cost is not bought by dropping rows: every serial gets its own result."""
    _population(loaded, 12)
    for size in (10, 100):
        serials = _serials(loaded, size)
        resp = loaded.test_client().post("/api/v1/verify/bulk", json={"serials": serials})
        assert resp.status_code == 200
        body = resp.get_json()
        assert body["count"] == size and [r["serial"] for r in body["results"]] == serials
        statuses = {r["status"] for r in body["results"]}
        assert statuses <= {"active", "expired", "unknown"} and "active" in statuses
        assert ("unknown" in statuses) == (size == 100)  # the small population holds fewer than 100 certificates


# --------------------------------------------------------------------------- cohort issuance and the cohort CSV
# Both walk a whole cohort in batches; their correctness is checked here next to their query budgets.


def _eligible_without_certificate(app) -> set[int]:
    from lms.certificates.cohort import candidate_ids
    from lms.eligibility.service import decisions_for

    with app.test_request_context():
        return {td.user.id for td in decisions_for(candidate_ids("omr")) if td.decision.eligible}


def test_issue_cohort_issues_one_signed_certificate_per_eligible_trainee(loaded):
    from lms.certificates import keys
    from lms.certificates.models import Certificate
    from lms.certificates.signing import validate_pdf

    app = loaded
    _population(app, 14)
    eligible = _eligible_without_certificate(app)
    with app.app_context():
        before = db.session.execute(sa.select(sa.func.count()).select_from(Certificate)).scalar_one()
    assert len(eligible) >= 2

    result = app.test_cli_runner().invoke(args=["certificates", "issue-cohort", "omr", "--batch-size", "3"])
    assert result.exit_code == 0, result.output
    assert f"issued {len(eligible)} certificates" in result.output

    with app.app_context():
        new = db.session.execute(sa.select(Certificate).where(Certificate.trainee_id.in_(eligible))).scalars().all()
        assert {c.trainee_id for c in new} == eligible and len(new) == len(eligible)
        assert all(c.is_current and c.credential for c in new)
        total = db.session.execute(sa.select(sa.func.count()).select_from(Certificate)).scalar_one()
        assert total == before + len(eligible)
        roots = keys.signing_material().trust_roots
        for cert in new:
            check = validate_pdf(cert.pdf_bytes, roots)
            assert check.valid, check.reason
            assert cert.credential["id"].endswith(f"/certificates/{cert.serial}/credential.json")
        indexes = db.session.execute(sa.select(Certificate.status_index)).scalars().all()
        assert len(indexes) == len(set(indexes))

    # A second run finds nobody left to issue to: one current certificate per trainee.
    again = app.test_cli_runner().invoke(args=["certificates", "issue-cohort", "omr"])
    assert again.exit_code == 0, again.output
    assert "issued 0 certificates" in again.output


def test_issue_cohort_rechecks_before_storing(loaded):
    """A trainee whose state changes between rendering and storing is skipped, never issued on stale facts."""
    from lms.auth.models import User
    from lms.certificates.cohort import CohortResult, _jobs, _render_job, _store
    from lms.certificates.models import Certificate
    from lms.providers.models import ProviderProfile
    from lms.providers.operations import sync_licence
    from lms.training.models import Program
    from tests.factories import verify_licence

    app = loaded
    _population(app, 14)
    eligible = sorted(_eligible_without_certificate(app))
    with app.test_request_context():
        admin_id = db.session.execute(sa.select(User.id).filter_by(role="admin")).scalars().first()
        program = db.session.get(Program, "omr")
        result = CohortResult()
        jobs = list(_jobs(eligible[:2], program, date.today(), result))
        rendered = [_render_job(job) for job in jobs]  # in this process: the same function the queued job runs
        changed, unchanged = jobs[0].trainee_id, jobs[1].trainee_id
        profile = db.session.execute(sa.select(ProviderProfile).filter_by(user_id=changed)).scalar_one()
        profile.license_number = "LIC-CHANGED"  # a new licence number, verified again: the printed one is stale
        sync_licence(profile.user, profile)
        verify_licence(profile.user)
        db.session.commit()
        _store(rendered, "omr", admin_id, date.today(), result)
        holders = set(db.session.execute(sa.select(Certificate.trainee_id).where(
            Certificate.trainee_id.in_([changed, unchanged]))).scalars())
    assert holders == {unchanged}
    assert result.skipped == [(changed, "profile changed while rendering")]


def test_cohort_csv_lists_every_enrolled_trainee_once(loaded):
    import csv
    import io

    from lms.admin.reports import bp
    from lms.eligibility.service import decisions_for
    from lms.scale import SCALE_PASSWORD
    from lms.training.models import Enrollment

    app = loaded
    if "reports" not in app.blueprints:  # until the app registers the reports blueprint itself
        app.register_blueprint(bp)
    _population(app, 14)
    with app.test_request_context():
        ids = list(db.session.execute(sa.select(Enrollment.user_id).order_by(Enrollment.user_id)).scalars())
        expected = {td.user.id: td.decision.eligible for td in decisions_for(ids)}
    assert app.test_client().get("/admin/reports/cohort.csv").status_code == 302  # sign in first
    admin = login(app, "admin@scale.orocert.test", SCALE_PASSWORD)
    resp = admin.get("/admin/reports/cohort.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert [int(r["trainee_id"]) for r in rows] == ids
    assert {int(r["trainee_id"]): r["eligible"] == "yes" for r in rows} == expected
    assert any(r["certificate"].startswith("OFM-") for r in rows)
    with app.app_context():
        from lms.auth.models import User

        email = db.session.execute(sa.select(User.email).filter_by(role="trainee")).scalars().first()
    assert login(app, email, SCALE_PASSWORD).get("/admin/reports/cohort.csv").status_code == 403


def _bulk_trainees(app, total: int) -> None:
    """Top the cohort up to ``total`` enrolled trainees with plain rows (thousands in a second or two)."""
    import secrets

    from lms.auth.models import User
    from lms.standards.queries import current_version
    from lms.training.models import Enrollment

    with app.test_request_context():
        have = db.session.execute(sa.select(sa.func.count()).select_from(Enrollment)).scalar_one()
        if have >= total:
            return
        program = _program()
        version = current_version(program.id)
        start = (db.session.execute(sa.select(sa.func.max(User.id))).scalar() or 0) + 1
        users, enrollments = [], []
        for i in range(start, start + total - have):
            users.append({"id": i, "email": f"bulk-{i}@budget.test", "name": f"Bulk Trainee {i:05d}",
                          "role": "trainee", "password_hash": "!", "session_token": secrets.token_hex(16),
                          "is_enabled": True})
            enrollments.append({"user_id": i, "program_id": program.id, "program_version": program.version,
                                "standard_version_id": version.id, "enrolled_on": date.today()})
        db.session.execute(sa.insert(User), users)
        db.session.execute(sa.insert(Enrollment), enrollments)
        db.session.commit()


def test_gradebook_and_cohort_pages_cost_the_same_at_1k_and_10k_trainees(loaded):
    """Paged: the admin's gradebook and cohort pages run the same statements for 1,000 trainees as for 10,000."""
    app = loaded
    with app.app_context():
        create_user("admin", email="pager@budget.test")
        db.session.commit()
    admin = login(app, "pager@budget.test")
    pages = {"gradebook": "/gradebook", "gradebook (last page)": "/gradebook?page={last}",
             "admin trainees": "/admin/trainees", "admin trainees (last page)": "/admin/trainees?page={last}"}
    measured: dict[str, list[int]] = {name: [] for name in pages}
    for total in (1000, 10000):
        _bulk_trainees(app, total)
        last = total // 50
        for name, url in pages.items():
            resp = admin.get(url.format(last=last))
            body = resp.get_data(as_text=True)
            assert resp.status_code == 200 and f"Page {last if 'last' in name else 1} of {last}" in body, name
            measured[name].append(queries(app, admin, "GET", url.format(last=last)))
    budget = {"gradebook": BUDGETS["gradebook"], "admin trainees": BUDGETS["admin trainees"]}
    problems = [f"{name}: {small} queries at 1k, {large} at 10k" for name, (small, large) in measured.items()
                if small != large or large > budget[name.split(" (")[0]]]
    assert not problems, "; ".join(problems)
