"""Enrollment, module progress and knowledge checks."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from lms.auth.email_flows import verification_gaps
from lms.core import audit
from lms.core.database import advisory_lock
from lms.core.timeutil import today, utcnow
from lms.extensions import db
from lms.providers.operations import latest_credential, verified_credential
from lms.providers.professions import PROFESSIONS
from lms.training.content import knowledge_check_settings
from lms.training.models import Enrollment, Module, ModuleCompletion, Program, QuizAttempt, QuizDraw


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


class QuizError(ValueError):
    """A knowledge-check submission that cannot be accepted; the message says why and what to do."""


class AttemptLimitReached(QuizError):
    def __init__(self, until: datetime, attempts: int, window_hours: int):
        super().__init__(f"You have used your {attempts} attempts at this check in {window_hours} hours. You may try "
                         f"again from {until.strftime('%Y-%m-%d %H:%M')} UTC.")
        self.until = until


def check_settings(module: Module) -> dict[str, int]:
    return knowledge_check_settings(module.program.manifest, module.slug)


def online_hours(module: Module) -> Decimal:
    """The hours a knowledge-check pass credits: the module's reading and online activities. Its lab minutes are
    credited only when an instructor records the trainee's attendance at a lab session."""
    parts = ((module.program.manifest or {}).get("hour_breakdown") or {}).get(module.slug)
    if not parts:
        return module.didactic_hours if module.delivery == "online" else Decimal(0)
    minutes = int(parts["reading_minutes"]) + int(parts["activities_minutes"])
    return (Decimal(minutes) / 60).quantize(Decimal("0.01"))


def lab_hours(module: Module) -> Decimal:
    parts = ((module.program.manifest or {}).get("hour_breakdown") or {}).get(module.slug) or {}
    return (Decimal(int(parts.get("lab_minutes", 0))) / 60).quantize(Decimal("0.01"))


def attempts_for(enrollment_id: int, module_id: int) -> list[QuizAttempt]:
    """Newest first."""
    return list(db.session.execute(
        sa.select(QuizAttempt).filter_by(enrollment_id=enrollment_id, module_id=module_id)
        .order_by(QuizAttempt.id.desc())).scalars())


def wait_until(module: Module, attempts: list[QuizAttempt], now: datetime | None = None) -> datetime | None:
    """When the next attempt is allowed, or None when one is allowed now. ``attempts`` newest first."""
    settings = check_settings(module)
    now = now or utcnow()
    window = timedelta(hours=settings["window_hours"])
    recent = sorted((a.created_at for a in attempts), reverse=True)[:settings["attempts"]]
    if len(recent) < settings["attempts"] or recent[-1] + window <= now:
        return None
    return recent[-1] + window


def open_draw(enrollment: Enrollment, module: Module, rng: random.Random | None = None) -> QuizDraw:
    """The trainee's unanswered draw for this module, or a new one: ``items`` random items of the bank in random
    order, each with its choices shuffled. A draw whose items left the bank (content reloaded) is not reused."""
    answered = sa.select(QuizAttempt.draw_id).where(QuizAttempt.draw_id.is_not(None),
                                                    QuizAttempt.enrollment_id == enrollment.id)
    draw = db.session.execute(
        sa.select(QuizDraw).filter_by(enrollment_id=enrollment.id, module_id=module.id)
        .where(QuizDraw.id.not_in(answered)).order_by(QuizDraw.id.desc()).limit(1)).scalar_one_or_none()
    bank = {q["id"]: q for q in module.questions}
    if draw is not None and all(it["id"] in bank and bank[it["id"]]["answer"] == it["answer"]
                                and len(it["order"]) == len(bank[it["id"]]["choices"]) for it in draw.items):
        return draw
    rng = rng or random.SystemRandom()
    size = min(check_settings(module)["items"], len(module.questions))
    items = []
    for q in rng.sample(module.questions, size):
        order = list(range(len(q["choices"])))
        rng.shuffle(order)
        items.append({"id": q["id"], "order": order, "answer": q["answer"]})
    draw = QuizDraw(enrollment_id=enrollment.id, module_id=module.id, items=items)
    db.session.add(draw)
    db.session.flush()
    return draw


def shown_items(draw: QuizDraw, module: Module) -> list[dict]:
    """The draw as the page shows it: prompt and choices in display order (no answers)."""
    bank = {q["id"]: q for q in module.questions}
    return [{"id": it["id"], "prompt": bank[it["id"]]["prompt"] if it["id"] in bank else "",
             "choices": [bank[it["id"]]["choices"][i] for i in it["order"]] if it["id"] in bank else [],
             "explanation": bank.get(it["id"], {}).get("explanation", "")}
            for it in draw.items]


def read_responses(draw: QuizDraw, form) -> tuple[dict[str, int | None], list[int]]:
    """Map the displayed choices posted in ``form`` (``q-<item id>`` = display position) back to bank indices.

    Returns (item id -> bank index or None, 1-based numbers of unanswered items). A posted item that is not in the
    draw is refused: the form was altered or belongs to another draw."""
    drawn = {it["id"]: it for it in draw.items}
    for key in form:
        if key.startswith("q-") and key[2:] not in drawn:
            raise QuizError("That form does not match your knowledge check. Open the check again and answer the "
                            "questions shown.")
    answers: dict[str, int | None] = {}
    missing = []
    for n, it in enumerate(draw.items, start=1):
        raw = form.get(f"q-{it['id']}", "")
        # ASCII digits only: str.isdigit() also accepts characters such as '²' that int() rejects.
        if raw.isascii() and raw.isdigit() and int(raw) < len(it["order"]):
            answers[it["id"]] = it["order"][int(raw)]
        else:
            answers[it["id"]] = None
            missing.append(n)
    return answers, missing


def submit_knowledge_check(enrollment: Enrollment, module: Module, draw: QuizDraw,
                           answers: dict[str, int | None], *, actor):
    """Grade one answered draw and store the attempt; a pass credits the module's online hours once.

    ``answers`` maps each drawn item to the bank index of the chosen choice. The attempt limit of the program file
    is checked under a per-enrollment-and-module lock (PostgreSQL advisory lock; SQLite write transactions run one
    at a time), and the unique attempt number refuses any submission that slipped past it."""
    advisory_lock(db.session, f"quiz:{enrollment.id}:{module.id}")
    if draw.enrollment_id != enrollment.id or draw.module_id != module.id:
        raise QuizError("That form does not match your knowledge check. Open the check again.")
    if db.session.execute(sa.select(QuizAttempt.id).filter_by(draw_id=draw.id)).first():
        raise QuizError("Those answers were already submitted. Your result is shown below; open the check again "
                        "for a new set of questions.")
    previous = attempts_for(enrollment.id, module.id)
    settings = check_settings(module)
    until = wait_until(module, previous)
    if until is not None:
        raise AttemptLimitReached(until, settings["attempts"], settings["window_hours"])
    results = {it["id"]: int(answers.get(it["id"]) == it["answer"]) for it in draw.items}
    correct, total = sum(results.values()), len(results)
    score = round(100 * correct / total) if total else 0
    passed = score >= enrollment.program.pass_mark
    attempt = QuizAttempt(enrollment_id=enrollment.id, module_id=module.id, draw_id=draw.id,
                          number=max([a.number or 0 for a in previous] + [len(previous)]) + 1,
                          answers={k: answers.get(k) for k in results}, results=results, correct=correct,
                          total=total, score_percent=score, passed=passed)
    db.session.add(attempt)
    db.session.flush()
    credited = False
    if passed and not completion_for(enrollment.id, module.id):
        try:
            with db.session.begin_nested():
                db.session.add(ModuleCompletion(enrollment_id=enrollment.id, module_id=module.id,
                                                attempt_id=attempt.id, hours_credited=online_hours(module)))
            credited = True
        except IntegrityError:
            credited = False
    audit.record("quiz.attempt", "quiz_attempt", attempt.id, actor=actor, module=module.module_key,
                 score=score, passed=passed, credited=credited, number=attempt.number)
    return attempt, credited


def review(attempt: QuizAttempt, module: Module, *, explanations: bool) -> list[dict]:
    """An attempt's items as they were shown, with the trainee's choice (display position) and whether it was
    wrong. Never the correct choice; the explanation only when ``explanations`` is allowed."""
    if attempt.draw is None:
        return []
    out = []
    for item, it in zip(shown_items(attempt.draw, module), attempt.draw.items, strict=True):
        chosen = (attempt.answers or {}).get(it["id"])
        item["chosen"] = it["order"].index(chosen) if chosen in it["order"] else None
        item["wrong"] = not (attempt.results or {}).get(it["id"])
        if not explanations:
            item["explanation"] = ""
        out.append(item)
    return out


def completion_for(enrollment_id: int, module_id: int) -> ModuleCompletion | None:
    return db.session.execute(
        sa.select(ModuleCompletion).filter_by(enrollment_id=enrollment_id, module_id=module_id)
    ).scalar_one_or_none()


def progress(enrollment: Enrollment) -> dict:
    """Modules done and online hours credited by knowledge-check passes, for dashboards."""
    modules = db.session.execute(
        sa.select(Module).filter_by(program_id=enrollment.program_id, is_active=True).order_by(Module.position)
    ).scalars().all()
    done = {c.module_id: c for c in db.session.execute(
        sa.select(ModuleCompletion).filter_by(enrollment_id=enrollment.id)).scalars()}
    total_hours = sum(float(online_hours(m)) for m in modules)
    credited = sum(float(c.hours_credited) for c in done.values())
    return {"modules": modules, "done": done, "completed": len([m for m in modules if m.id in done]),
            "total": len(modules), "hours_credited": credited, "hours_total": total_hours}


def online_credits(enrollment: Enrollment) -> list[ModuleCompletion]:
    """The online hours each passed knowledge check credited, in module order (the hours ledger's source list)."""
    return list(db.session.execute(
        sa.select(ModuleCompletion).join(Module, Module.id == ModuleCompletion.module_id)
        .where(ModuleCompletion.enrollment_id == enrollment.id).options(contains_eager(ModuleCompletion.module))
        .order_by(Module.position)).scalars())
