"""Every route × every role: anonymous visitors are sent to sign in, the wrong role gets 403, the right role gets in.

A route that is not listed in ACCESS fails the test, so a new page cannot ship without a decision on who may use it.
"""

import pytest

from lms.extensions import db
from tests.factories import PASSWORD, create_user

PUBLIC = "public"
ANY = "signed-in"
T, I, B, A = "trainee", "instructor", "board", "admin"  # noqa: E741 - short role names keep the table readable

ACCESS = {
    "main.index": PUBLIC, "auth.login": PUBLIC, "auth.register": PUBLIC, "static": PUBLIC,
    "regulations.index": PUBLIC, "regulations.csv": PUBLIC,
    "certificates.verify_form": PUBLIC, "certificates.verify_page": PUBLIC, "certificates.pdf": PUBLIC,
    "certificates.credential": PUBLIC, "certificates.status_list": PUBLIC, "certificates.did_document": PUBLIC,
    "certificates.credential_page": PUBLIC, "certificates.verify_upload": PUBLIC, "certificates.badge_svg": PUBLIC,
    "certificates.badge_png": PUBLIC, "admin.revoke_form": {A}, "help.index": PUBLIC, "help.faq": PUBLIC,
    "help.contact": PUBLIC, "help.privacy": PUBLIC, "help.terms": PUBLIC, "help.favicon": PUBLIC,
    "transcripts.mine": {T}, "transcripts.for_trainee": {A}, "api_keys.index": {A}, "api_keys.revoke": {A},
    "api.certificate": PUBLIC, "api.openapi": PUBLIC, "api.verify_pdf": PUBLIC, "api.verify_bulk": PUBLIC,
    "main.dashboard": ANY, "auth.account": ANY, "auth.logout": ANY,
    "providers.profile": {T}, "providers.submit_credential": {T}, "providers.evidence": {T, I, A},
    "providers.credential_queue": {I, A}, "providers.decide_credential": {I, A},
    "providers.licence_queue": {A}, "providers.decide_licence": {A}, "providers.record_standing": {A},
    "providers.name_instructor": {T}, "providers.end_instructor": {T}, "admin.clear_revocation": {A},
    "training.program": {T}, "training.enroll": {T}, "training.module": {T}, "training.knowledge_check": {T},
    "hours.index": {T}, "hours.submit": {T}, "hours.queue": {I, A}, "hours.decide": {I, A},
    "hours.attendance_index": {I, A}, "hours.attendance_record": {I, A}, "admin.items": {A},
    "hours.approve_selected": {I, A},
    "screening.index": {T}, "screening.record": {T}, "screening.submit_agreement": {T},
    "screening.agreement_queue": {I, A}, "screening.decide_agreement": {I, A},
    "assessments.gradebook": {I, A}, "assessments.trainee": {I, A}, "assessments.record": {I, A},
    "assessments.detail": {T, I, A},
    "certificates.mine": {T}, "certificates.apply": {T}, "certificates.bulk": {B, A},
    "admin.trainees": {A}, "admin.trainee": {A}, "admin.issue": {A}, "admin.move_standard": {A},
    "admin.decide_application": {A}, "admin.certificates": {A}, "admin.revoke": {A}, "admin.users": {A},
    "admin.set_enabled": {A}, "admin.standards": {A}, "reports.cohort_csv_download": {A},
    "reports.exports": {A}, "reports.request_export": {A}, "reports.download_export": {A},
    "renewal.index": {T}, "renewal.record_ce": {T}, "renewal.request_renewal": {T}, "renewal.review": {I, A},
    "renewal.attest": {T}, "renewal.decide_ce": {I, A}, "renewal.decide_request": {A},
    "diagrams.show": {T, I, A},
    # The provider directory and the access-gap report
    "directory.index": PUBLIC, "directory.print_pdf": PUBLIC, "directory_api.api_search": PUBLIC,
    "directory.access_report": PUBLIC, "directory.access_csv": {A}, "directory.listing": {T}, "directory.withdraw": {T},
    "auth.forgot_password": PUBLIC, "auth.reset_password": PUBLIC, "auth.verify_email": PUBLIC,
    "auth.confirm_email_change": PUBLIC, "auth.resend_verification": ANY, "auth.change_email": ANY,
    "auth.set_language": ANY,
    "auth.set_time_zone": ANY,
    "notifications.index": ANY, "notifications.read_all": ANY, "notifications.open_one": ANY,
    "notifications.preferences": ANY, "notifications.preferences_by_link": PUBLIC,
    "notifications.outbox": {A}, "notifications.retry": {A},
    # The written exam (trainees sit it; only admins read the bank) and OSCE grading
    "exams.index": {T}, "exams.start": {T}, "exams.sitting": {T}, "exams.answer": {T}, "exams.bank": {A},
    "exams.osce": {I, A}, "exams.record": {I, A},
    # Clinical cases and outcomes
    "cases.index": {T}, "cases.save": {T}, "cases.show": {T, I, A}, "cases.record": {T}, "cases.submit": {T},
    "cases.fhir_bundle": {T, I, A}, "cases.trainee": {I, A}, "outcomes.report": {A}, "outcomes.csv_download": {A},
}

PARAMS = {"serial": "OFM-00000-00000-00000", "filename": "app.css", "slug": "01-anatomy",
          "program_id": "omr", "diagram": "screening-flow", "fmt": "csv"}


def _build(rule, values):
    from flask import url_for

    return url_for(rule.endpoint, **values)


def test_every_route_has_an_access_decision(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    missing = endpoints - ACCESS.keys()
    assert not missing, f"routes without an access decision: {sorted(missing)}"
    assert not ACCESS.keys() - endpoints, "ACCESS lists routes that no longer exist"


@pytest.mark.parametrize("role", [None, T, I, B, A])
def test_route_role_matrix(app, role):
    with app.app_context():
        user = create_user(role, email=f"{role}@matrix.test") if role else None
        db.session.commit()
    client = app.test_client()
    if user:
        resp = client.post("/login", data={"email": f"{role}@matrix.test", "password": PASSWORD})
        assert resp.status_code == 302
    failures = []
    for rule in app.url_map.iter_rules():
        allowed = ACCESS[rule.endpoint]
        with app.test_request_context():
            url = _build(rule, {arg: PARAMS.get(arg, 1) for arg in rule.arguments})
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if rule.endpoint == "auth.logout":
                continue  # signing out would end this client's session mid-matrix; covered in test_auth
            resp = client.open(url, method=method)
            code = resp.status_code
            resp.close()
            if code >= 500:
                failures.append(f"{method} {url} as {role}: {code}")
            elif allowed == PUBLIC:
                if code in (401, 403):
                    failures.append(f"{method} {url} public but {code} for {role}")
            elif role is None:
                if not (code == 302 and "/login" in resp.headers.get("Location", "")):
                    failures.append(f"{method} {url} anonymous got {code}, expected redirect to sign-in")
            elif allowed == ANY or role in allowed:
                if code in (401, 403):
                    failures.append(f"{method} {url} should admit {role}, got {code}")
            elif code != 403:
                failures.append(f"{method} {url} should refuse {role} with 403, got {code}")
    assert not failures, "\n".join(failures)


def test_mutating_routes_refuse_get(app):
    """No state change over GET: every route that changes state accepts only POST."""
    mutating = {e for e in ACCESS if e.rsplit(".", 1)[-1] in {
        "submit_credential", "decide_credential", "enroll", "knowledge_check", "submit", "decide", "record",
        "submit_agreement", "decide_agreement", "apply", "issue", "move_standard", "decide_application", "revoke",
        "set_enabled", "logout", "verify_pdf", "verify_bulk", "record_ce", "request_renewal", "attest", "set_time_zone",
        "approve_selected",
        "decide_ce",
        "decide_request", "decide_licence", "record_standing", "name_instructor", "end_instructor",
        "clear_revocation", "withdraw", "attendance_record", "set_language",
        "start", "answer", "save", "verify_upload"}}
    for rule in app.url_map.iter_rules():
        if rule.endpoint in mutating:
            assert "GET" not in rule.methods, rule.endpoint


# Routes that act on one trainee's records, with the roles for which access depends on ownership: the owning trainee
# and the trainee's own instructor get in; another trainee and another instructor are turned away (403 or 404).
OWNED = {
    "providers.evidence": {T, I},
    "providers.decide_credential": {I},
    "screening.decide_agreement": {I},
    "renewal.decide_ce": {I},
    "hours.decide": {I},
    "assessments.trainee": {I},
    "assessments.record": {I},
    "assessments.detail": {T, I},
    "exams.osce": {I},
    "exams.record": {I},
    "cases.show": {T, I},
    "cases.fhir_bundle": {T, I},
    "cases.trainee": {I},
    "cases.record": {T},
    "cases.submit": {T},
}


def test_every_owned_route_is_listed_in_access():
    assert OWNED.keys() <= ACCESS.keys()


def test_another_trainee_and_another_instructor_are_turned_away(app):
    from datetime import date, timedelta
    from decimal import Decimal

    from flask import url_for

    from lms.assessments.operations import ObservationInput, record_observation
    from lms.demo import log_session
    from lms.providers.models import EvidenceFile, OmtCredential
    from lms.renewal.operations import record_ce
    from lms.screening.operations import AgreementInput, submit_agreement
    from lms.standards.operations import load_standard
    from lms.standards.queries import current_version
    from lms.training.content import load_all
    from lms.training.models import Program
    from tests.factories import create_evidence, create_trainee, enrollment_of

    with app.test_request_context():
        load_all(app.config["COURSES_DIR"])
        load_standard(app.config["COURSES_DIR"] / "omr" / "standard.yaml")
        program = db.session.get(Program, "omr")
        owner = create_trainee(email="owner@matrix.test", program=program)
        create_trainee(email="other@matrix.test", program=program)
        mine = create_user(I, email="mine@matrix.test")
        create_user(I, email="stranger@matrix.test")
        enr = enrollment_of(owner)
        entry = log_session(owner, enr, program, mine, day=date.today() - timedelta(days=1), minutes=60,
                            category="lab_in_person", case=None, decision="submitted")
        assessment = record_observation(owner, enr, current_version("omr"), ObservationInput(
            competency_id="C3", observed_on=date.today(), criteria_met=set(), critical_failure=False, level=2),
            actor=mine)
        evidence_id = db.session.execute(
            db.select(EvidenceFile.id).filter_by(owner_id=owner.id, kind="omt_credential")).scalar_one()
        cred = db.session.execute(db.select(OmtCredential).filter_by(user_id=owner.id)).scalar_one()
        agreement = submit_agreement(owner, AgreementInput(
            dentist_name="Dr. Riley Park", dentist_profession="dentist", dentist_license="DDS-1",
            dentist_jurisdiction="US-OR", valid_from=date.today(), valid_until=date.today() + timedelta(days=30)),
            create_evidence(owner, "agreement"))
        credit = record_ce(owner, title="Ethics", provider="CE Co", topic="ethics", hours=Decimal(2),
                           completed_on=date.today(), evidence=create_evidence(owner, "ce"))
        from lms.cases.operations import CaseInput, save_case

        case = save_case(owner, CaseInput(code="C01", condition="tmd_myogenous"))
        db.session.commit()
        ids = {"case_id": case.id}
        ids |= {"file_id": evidence_id, "entry_id": entry.id, "trainee_id": owner.id, "assessment_id": assessment.id,
               "cred_id": cred.id, "agreement_id": agreement.id, "credit_id": credit.id}
        urls = {}
        for rule in app.url_map.iter_rules():
            if rule.endpoint in OWNED:
                urls[rule.endpoint] = (url_for(rule.endpoint, **{a: ids[a] for a in rule.arguments}),
                                       sorted(rule.methods - {"HEAD", "OPTIONS"})[0])

    def status(email, endpoint):
        client = app.test_client()
        assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
        url, method = urls[endpoint]
        data = {"competency_id": "C3", "level": "4", "observed_on": date.today().isoformat(), "decision": "approved",
                "reason": "checked"}
        resp = client.open(url, method=method, data=data if method == "POST" else None)
        resp.close()
        return resp.status_code

    failures = []
    for endpoint, roles in OWNED.items():
        for role in roles:
            own, other = ("owner@matrix.test", "other@matrix.test") if role == T else \
                ("mine@matrix.test", "stranger@matrix.test")
            refused = status(other, endpoint)
            if refused not in (403, 404):
                failures.append(f"{endpoint}: another {role} got {refused}")
            allowed = status(own, endpoint)
            if allowed in (401, 403, 404) or allowed >= 500:
                failures.append(f"{endpoint}: the owning {role} got {allowed}")
    assert not failures, "\n".join(failures)
