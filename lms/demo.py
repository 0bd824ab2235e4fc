"""Demo data: one account per role and trainees in different states. Idempotent: a second run changes nothing.

Every record is created through the same operations the web pages use, so the demo obeys every rule it shows.
"""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app

from lms.auth.models import User
from lms.auth.operations import create_user
from lms.core.uploads import store_upload
from lms.exams.demo import seed_failed_sitting
from lms.extensions import db
from lms.notifications import muted

DEMO_PASSWORD = "orocert-demo-passphrase"  # noqa: S105 - published demo accounts, never in production
ADMIN = "admin@orocert.test"

# A tiny valid PDF used as the demo evidence file.
_DEMO_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
             b"trailer<</Root 1 0 R>>\n%%EOF\n")

SIGN_INS = [
    ("admin", ADMIN), ("instructor", "instructor@orocert.test"), ("instructor (dentist)", "dentist@orocert.test"),
    ("board", "board@orocert.test"), ("trainee, certified dental hygienist", "hygienist@orocert.test"),
    ("trainee, massage therapist without a current agreement", "massage@orocert.test"),
    ("trainee, part-way speech-language pathologist (license lapsed)", "slp@orocert.test"),
    ("trainee, new (OMT credential and license awaiting review)", "newcomer@orocert.test"),
]


def _user(email, name, role, profession=None):
    existing = db.session.execute(sa.select(User).filter_by(email=email)).scalar_one_or_none()
    return existing or create_user(email=email, name=name, role=role, password=DEMO_PASSWORD, profession=profession,
                                   verified=True)


def _evidence(user, kind):
    from lms.providers.operations import add_evidence

    stored = store_upload(io.BytesIO(_DEMO_PDF), f"{kind}.pdf", current_app.config["INSTANCE_PATH"],
                          current_app.config["UPLOAD_MAX_BYTES"])
    return add_evidence(user, kind, stored)


def _profile(user, legal_name, profession, jurisdiction, license_no, today, endorsement=False, *, verifier=None,
             licence_expires=None):
    """The trainee's profile and licence; the licence is verified when ``verifier`` (an admin) is given."""
    from lms.providers.operations import decide_licence, save_profile

    save_profile(user, {"legal_name": legal_name, "profession": profession, "license_number": license_no,
                        "license_expires_on": licence_expires or today + timedelta(days=400),
                        "jurisdiction": jurisdiction, "cpr_expires_on": today + timedelta(days=300),
                        "infection_control_ack": True, "has_intraoral_endorsement": endorsement,
                        "licence_evidence": _evidence(user, "licence")})
    if verifier is not None:
        from lms.providers.operations import current_licence

        decide_licence(current_licence(user.id), decision="verified", actor=verifier,
                       reference=f"Licensing body's public register, look-up of {license_no}")


def _credential(user, reviewer, hours=28, verify=True):
    from lms.providers.operations import decide_omt_credential, submit_omt_credential

    cred = submit_omt_credential(user, provider_name="Academy of Orofacial Myofunctional Therapy",
                                 course_hours=Decimal(hours), completed_on=date(2024, 3, 15),
                                 evidence=_evidence(user, "omt_credential"))
    if verify:
        decide_omt_credential(cred, decision="verified", reason="Certificate checked against the provider's register.",
                              actor=reviewer)
    return cred


def _enroll(user, program, today, days_ago=200):
    from lms.training.operations import enroll

    enrollment = enroll(user, program)
    enrollment.enrolled_on = today - timedelta(days=days_ago)  # the demo trainee enrolled months ago
    db.session.flush()
    return enrollment


def pass_modules(user, enrollment, program, keys=None):
    from lms.training.models import Module
    from lms.training.operations import open_draw, submit_knowledge_check

    modules = db.session.execute(sa.select(Module).filter_by(program_id=program.id, is_active=True)
                                 .order_by(Module.position)).scalars().all()
    for m in modules:
        if keys is None or m.module_key in keys:
            draw = open_draw(enrollment, m)
            submit_knowledge_check(enrollment, m, draw, {it["id"]: it["answer"] for it in draw.items}, actor=user)


def log_session(user, enrollment, program, supervisor, *, day, minutes, category, case, screening=None,
                decision="approved", reason=""):
    from lms.hours.ledger import EntryInput, decide, submit_entry

    entry = submit_entry(user, enrollment, EntryInput(
        entry_date=day, minutes=minutes, category=category, supervisor_id=supervisor.id,
        setting="University teaching clinic" if category != "lab_in_person" else "Supervised skills lab",
        notes="Supervised session.", case_code=case, screening_id=screening.id if screening else None),
        daily_cap_hours=program.daily_cap_hours)
    if decision != "submitted":
        decide(entry, decision, actor=supervisor, reason=reason)
    return entry


def log_partway_history(user, enrollment, program, supervisor, today, *, pending=1):
    """Hours of a trainee part-way through: approved lab and clinical hours, one rejected, one returned for more
    information, and ``pending`` entries waiting in the supervisor's queue."""
    for i in range(3):
        log_session(user, enrollment, program, supervisor, day=today - timedelta(days=10 + i), minutes=120,
                    category="lab_in_person", case=None)
    log_session(user, enrollment, program, supervisor, day=today - timedelta(days=14), minutes=90,
                category="clinical_extraoral", case="C01")
    log_session(user, enrollment, program, supervisor, day=today - timedelta(days=15), minutes=60,
                category="clinical_extraoral", case="C02", decision="rejected",
                reason="This session was observation only; log it once you treat under supervision.")
    log_session(user, enrollment, program, supervisor, day=today - timedelta(days=16), minutes=60,
                category="clinical_extraoral", case="C03", decision="needs_info",
                reason="Which techniques did you practise? Please correct the entry with notes.")
    for i in range(pending):
        log_session(user, enrollment, program, supervisor, day=today - timedelta(days=2 + i), minutes=120,
                    category="lab_in_person", case=None, decision="submitted")


def screen(user, day, case, route):
    from lms.screening.operations import ScreeningInput, record_screening

    findings = {k: "normal" for k in ("extraoral", "teeth", "gingiva", "bone", "tongue", "soft_tissue")}
    route_n = route == "N"
    return record_screening(user, ScreeningInput(
        session_date=day, screened_by="self" if not route_n else "collaborator", findings=findings,
        clearance_date=day - timedelta(days=7) if route_n else None, case_code=case,
        clearance_reference=f"Clearance letter {case}-{(day - timedelta(days=7)).isoformat()}" if route_n else "",
        attested_no_change=route_n))


def log_practicum(user, enrollment, program, supervisor, today, route):
    offset = 25
    for _ in range(8):  # 16 h of supervised lab
        log_session(user, enrollment, program, supervisor, day=today - timedelta(days=offset), minutes=120,
             category="lab_in_person", case=None)
        offset += 1
    for i in range(14):  # 10.5 h clinical extraoral
        log_session(user, enrollment, program, supervisor, day=today - timedelta(days=offset), minutes=45,
             category="clinical_extraoral", case=f"C{i % 10 + 1:02d}")
        offset += 1
    for i in range(16):  # 12 h clinical intraoral, each with its own pre-treatment screening
        day = today - timedelta(days=offset)
        case = f"C{i % 10 + 1:02d}"
        log_session(user, enrollment, program, supervisor, day=day, minutes=45, category="clinical_intraoral",
                    case=case,
             screening=screen(user, day, case, route))
        offset += 1
    _document_cases(user, today)


def _document_cases(user, today):
    from lms.cases.demo import document_cases

    document_cases(user, today)  # three documented cases with baseline, follow-up and a letter


def record_observations(user, enrollment, standard, assessors, today, only=None, limit=None):
    from lms.assessments.operations import ObservationInput, record_observation

    for comp in standard.data["competencies"]:
        if only is not None and comp["id"] not in only:
            continue
        count = comp["observations"] if limit is None else min(limit, comp["observations"])
        for i in range(count):
            actor = assessors[i % len(assessors)]
            if comp.get("dental_assessor") != "never" and i == 0:
                actor = next((a for a in assessors if a.profession == "dentist"), actor)
            day, case = today - timedelta(days=20 - i), f"C{i + 1:02d}"
            record_observation(user, enrollment, standard, ObservationInput(
                competency_id=comp["id"], observed_on=day,
                criteria_met={c["id"] for c in comp["criteria"]}, critical_failure=False,
                level=comp["required_level"], comments="Safe, fluent and well explained.",
                case_code=case, assessor_reading=_paired(comp, user, case, day)), actor=actor)
    if only is None and limit is None:  # a full sign-off: the written exam and the OSCE are passed as well
        from lms.exams.demo import pass_summative

        pass_summative(user, enrollment, standard, assessors, today)


def _paired(comp, user, case, day):
    """C7: the trainee's recorded MIO for the case that day, and the assessor's own reading."""
    if not comp.get("paired_measurement"):
        return None
    from lms.cases.demo import paired_reading

    return paired_reading(user, case, day)


@muted  # the demo records past events: nobody is notified of them
def seed() -> list[str]:
    """Create the demo population once; return the lines to print."""
    from lms.certificates.issuing import issue_certificate
    from lms.providers.operations import name_instructor
    from lms.screening.operations import AgreementInput, decide_agreement, submit_agreement
    from lms.standards.queries import current_version
    from lms.training.demo import seed_training_demo
    from lms.training.models import Program

    program = db.session.get(Program, current_app.config["DEFAULT_PROGRAM"])
    if program is None:
        raise RuntimeError("Load the courses first: flask --app lms courses load")
    standard = current_version(program.id)
    lines = ["Demo sign-ins (password for every account: " + DEMO_PASSWORD + "):"]
    lines += [f"  {role:<58} {email}" for role, email in SIGN_INS]
    if db.session.execute(sa.select(User).filter_by(email=ADMIN)).scalar_one_or_none():
        from lms.certificates.models import Certificate

        serial = db.session.execute(
            sa.select(Certificate.serial).join(User, User.id == Certificate.trainee_id)
            .where(User.email == "hygienist@orocert.test", Certificate.is_current.is_(True))).scalar_one_or_none()
        base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
        extra = [f"Demo certificate: {serial} — verify at {base}/verify/{serial}"] if serial else []
        return ["Demo data already present."] + lines + extra + _seed_directory()
    today = date.today()
    admin = _user(ADMIN, "Alex Admin", "admin")
    instructor = _user("instructor@orocert.test", "Ines Instructor", "instructor", "massage_therapist")
    dentist = _user("dentist@orocert.test", "Dr. Dana Dentist", "instructor", "dentist")
    _user("board@orocert.test", "Bo Board (Washington Board of Massage)", "board")
    assessors = [instructor, dentist]

    # 1. A dental hygienist who qualifies for both endorsements, and holds a certificate.
    hyg = _user("hygienist@orocert.test", "Harper Hygienist", "trainee")
    _profile(hyg, "Harper Quinn Hygienist", "dental_hygienist", "CA-BC", "RDH-20417", today, verifier=admin)
    _credential(hyg, instructor)
    enr = _enroll(hyg, program, today)
    pass_modules(hyg, enr, program)
    log_practicum(hyg, enr, program, instructor, today, "D")
    record_observations(hyg, enr, standard, assessors, today)

    # 2. A massage therapist with everything but a current collaboration agreement: extraoral only.
    mt = _user("massage@orocert.test", "Morgan Massage", "trainee")
    _profile(mt, "Morgan Lee Massage", "massage_therapist", "US-OR", "LMT-18833", today, verifier=admin)
    _credential(mt, instructor)
    enr_mt = _enroll(mt, program, today)
    pass_modules(mt, enr_mt, program)
    agreement = submit_agreement(mt, AgreementInput(
        dentist_name="Dr. Riley Park", dentist_profession="dentist", dentist_license="DDS-5521",
        dentist_jurisdiction="US-OR", valid_from=today - timedelta(days=200), valid_until=today - timedelta(days=15)),
        _evidence(mt, "agreement"))
    decide_agreement(agreement, "verified", actor=admin)
    log_practicum(mt, enr_mt, program, instructor, today, "N")
    record_observations(mt, enr_mt, standard, assessors, today)

    # 3. A speech-language pathologist part-way through: some modules, approved, pending and rejected hours. Her
    #    licence was verified, but has since lapsed.
    slp = _user("slp@orocert.test", "Sam Speech", "trainee")
    _profile(slp, "Samira Speech", "speech_language_pathologist", "US-WA", "SLP-60021", today, verifier=admin,
             licence_expires=today - timedelta(days=12))
    _credential(slp, dentist, hours=32)
    enr_slp = _enroll(slp, program, today, days_ago=60)
    pass_modules(slp, enr_slp, program, keys={"M1", "M2", "M3", "M4"})
    log_partway_history(slp, enr_slp, program, instructor, today)
    record_observations(slp, enr_slp, standard, assessors, today, only={"C1", "C3", "C5"}, limit=2)
    seed_failed_sitting(slp, enr_slp, standard, today)  # one written-exam sitting that did not pass

    # 4. A newcomer whose OMT credential and licence wait for review (cannot enroll yet).
    new = _user("newcomer@orocert.test", "Nico Newcomer", "trainee")
    _profile(new, "Nico Newcomer", "physical_therapist", "CA-ON", "PT-77310", today)
    name_instructor(new, instructor)  # so the instructor sees the credential waiting in the queue
    _credential(new, instructor, verify=False)

    seed_training_demo(instructor, hyg, mt, slp, today)
    result = issue_certificate(hyg, actor=admin)
    lines.append(f"Demo certificate: {result.certificate.serial} — verify at "
                 f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/verify/{result.certificate.serial}")
    return lines + _seed_directory()


def _seed_directory() -> list[str]:
    from lms.directory.demo import seed_directory

    return seed_directory()
