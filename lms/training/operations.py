"""Enrollment, module progress and knowledge checks."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from lms.auth.email_flows import verification_gaps
from lms.core import audit
from lms.core.timeutil import today
from lms.extensions import db
from lms.providers.operations import latest_credential, verified_credential
from lms.providers.professions import PROFESSIONS
from lms.training.models import Enrollment, Module, ModuleCompletion, Program, QuizAttempt


@dataclass
class Gap:
    title: str
    fix: str


class EnrollmentError(ValueError):
    def __init__(self, gaps: list[Gap]):
        super().__init__("; ".join(g.title for g in gaps))
        self.gaps = gaps


def prerequisite_gaps(user, program: Program) -> list[Gap]:
    """What stops this user enrolling, each with how to fix it. Empty when every prerequisite holds."""
    gaps: list[Gap] = verification_gaps(user)
    profile = user.profile
    if profile is None:
        gaps.append(Gap("Your provider profile is not complete.",
                        "Open your profile and enter your legal name, profession, license and jurisdiction."))
    elif profile.profession not in program.eligible_professions:
        label = PROFESSIONS[profile.profession].label if profile.profession in PROFESSIONS else profile.profession
        open_to = ", ".join(PROFESSIONS[p].label for p in program.eligible_professions if p in PROFESSIONS)
        gaps.append(Gap(f"{label} is not an eligible profession for this program.",
                        f"The program is open to: {open_to}."))
    minimum = program.omt_min_hours
    cred = verified_credential(user.id)
    if cred is None:
        last = latest_credential(user.id)
        if last is None:
            gaps.append(Gap("No OMT foundation credential is on file.",
                            f"Upload the certificate of an OMT course of at least {minimum:g} hours on your profile."))
        elif last.status == "pending":
            gaps.append(Gap("Your OMT credential is waiting for verification.",
                            "An instructor or administrator will review it; you can enroll once it is verified."))
        else:
            gaps.append(Gap(f"Your OMT credential was rejected: {last.decision_reason or 'no reason given'}.",
                            "Upload a corrected certificate on your profile."))
    elif float(cred.course_hours) < minimum:
        gaps.append(Gap(f"Your verified OMT course has {float(cred.course_hours):g} hours; the program needs "
                        f"at least {minimum:g}.",
                        f"Complete and upload an OMT course of at least {minimum:g} hours."))
    return gaps


def current_standard_version(program_id: str):
    from lms.standards.models import StandardVersion

    return db.session.execute(
        sa.select(StandardVersion).filter_by(program_id=program_id).order_by(StandardVersion.id.desc()).limit(1)
    ).scalar_one_or_none()


def enroll(user, program: Program) -> Enrollment:
    """Enroll the user, pinned to the program version and the standard version in force today."""
    existing = get_enrollment(user.id, program.id)
    if existing:
        return existing
    gaps = prerequisite_gaps(user, program)
    if gaps:
        raise EnrollmentError(gaps)
    standard = current_standard_version(program.id)
    enrollment = Enrollment(user_id=user.id, program_id=program.id, program_version=program.version,
                            standard_version_id=standard.id if standard else None, enrolled_on=today())
    try:
        with db.session.begin_nested():
            db.session.add(enrollment)
    except IntegrityError:
        return get_enrollment(user.id, program.id)
    audit.record("enrollment.create", "enrollment", enrollment.id, actor=user, program=program.id,
                 program_version=program.version, standard_version_id=enrollment.standard_version_id)
    return enrollment


def get_enrollment(user_id: int, program_id: str) -> Enrollment | None:
    return db.session.execute(
        sa.select(Enrollment).filter_by(user_id=user_id, program_id=program_id)
    ).scalar_one_or_none()


def grade(module: Module, answers: dict[str, int | None]) -> tuple[int, int]:
    correct = sum(1 for q in module.questions if answers.get(q["id"]) == q["answer"])
    return correct, len(module.questions)


def submit_knowledge_check(enrollment: Enrollment, module: Module, answers: dict[str, int | None], *, actor):
    """Store the attempt; a pass credits the module's didactic hours once (unique per enrollment and module)."""
    program = enrollment.program
    correct, total = grade(module, answers)
    score = round(100 * correct / total) if total else 0
    passed = score >= program.pass_mark
    attempt = QuizAttempt(enrollment_id=enrollment.id, module_id=module.id,
                          answers={k: v for k, v in answers.items()}, correct=correct, total=total,
                          score_percent=score, passed=passed)
    db.session.add(attempt)
    db.session.flush()
    credited = False
    if passed and not completion_for(enrollment.id, module.id):
        try:
            with db.session.begin_nested():
                db.session.add(ModuleCompletion(enrollment_id=enrollment.id, module_id=module.id,
                                                attempt_id=attempt.id, hours_credited=module.didactic_hours))
            credited = True
        except IntegrityError:
            credited = False
    audit.record("quiz.attempt", "quiz_attempt", attempt.id, actor=actor, module=module.module_key,
                 score=score, passed=passed, credited=credited)
    return attempt, credited


def completion_for(enrollment_id: int, module_id: int) -> ModuleCompletion | None:
    return db.session.execute(
        sa.select(ModuleCompletion).filter_by(enrollment_id=enrollment_id, module_id=module_id)
    ).scalar_one_or_none()


def progress(enrollment: Enrollment) -> dict:
    """Modules done and didactic hours credited, for dashboards."""
    modules = db.session.execute(
        sa.select(Module).filter_by(program_id=enrollment.program_id, is_active=True).order_by(Module.position)
    ).scalars().all()
    done = {c.module_id: c for c in db.session.execute(
        sa.select(ModuleCompletion).filter_by(enrollment_id=enrollment.id)).scalars()}
    total_hours = sum(float(m.didactic_hours) for m in modules)
    credited = sum(float(c.hours_credited) for c in done.values())
    return {"modules": modules, "done": done, "completed": len([m for m in modules if m.id in done]),
            "total": len(modules), "hours_credited": credited, "hours_total": total_hours}
