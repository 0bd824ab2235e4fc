"""Written-exam sittings and OSCE results (flush only; the caller commits).

The server keeps time: a sitting stores its start and deadline when it starts, every answer is stored as it is
given, an answer that arrives after the deadline is refused and not stored, and a sitting whose time has run out is
scored from the answers it holds (``finalise_if_expired`` on the next request, ``sweep`` from a job or the CLI).
Every function takes ``now`` so tests and the demo control the clock through stored timestamps, never by sleeping.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from lms.core import audit
from lms.core.timeutil import utcnow
from lms.eligibility.summative import exam_standing, long_date
from lms.exams.models import ExamAnswer, ExamItem, ExamSitting, OsceResult
from lms.extensions import db


class ExamError(ValueError):
    pass


def exam_of(standard_version) -> dict:
    return (standard_version.data or {}).get("exam") or {}


def _modules_required(standard: dict) -> list[str]:
    for req in standard.get("requirements") or ():
        if req.get("type") == "modules_completed":
            return [str(m) for m in (req.get("params") or {}).get("modules") or ()]
    return []


def sittings_of(enrollment_id: int) -> list[ExamSitting]:
    return list(db.session.execute(sa.select(ExamSitting).filter_by(enrollment_id=enrollment_id)
                                   .order_by(ExamSitting.attempt_no)).scalars())


def open_sitting(enrollment_id: int) -> ExamSitting | None:
    return db.session.execute(sa.select(ExamSitting).filter_by(enrollment_id=enrollment_id, submitted_at=None)
                              .order_by(ExamSitting.id.desc()).limit(1)).scalar_one_or_none()


def start_problem(enrollment, standard_version, completed_modules: set[str], now: datetime) -> str:
    """Why the trainee may not start a new sitting now ("" when they may)."""
    from lms.eligibility.facts import ExamSittingFact

    exam = exam_of(standard_version)
    if not exam:
        return "The trainee's standard has no written exam."
    if exam.get("requires_modules", True):
        missing = [m for m in _modules_required(standard_version.data) if m not in completed_modules]
        if missing:
            return f"The written exam opens once every module is complete (still open: {', '.join(missing)})."
    facts = tuple(ExamSittingFact(id=s.id, attempt_no=s.attempt_no, started_on=s.started_at.date(),
                                  submitted_on=s.submitted_at.date() if s.submitted_at else None,
                                  score_percent=s.score_percent, pass_mark=s.pass_mark, passed=s.passed)
                  for s in sittings_of(enrollment.id))
    st = exam_standing(exam, facts, now.date())
    if st["passed"] is not None:
        return "The written exam has already been passed."
    if st["exhausted"]:
        return f"All {st['max_attempts']} sittings allowed by the standard have been used."
    if st["waiting"]:
        return f"A re-sit opens on {long_date(st['next_from'])}, {exam.get('resit_wait_days')} days after the last " \
               "sitting."
    return ""


def draw_items(program_id: str, exam: dict, rng: random.Random) -> list[dict]:
    """Items per the blueprint: the set number from each domain, in shuffled order, with shuffled choices."""
    items = list(db.session.execute(sa.select(ExamItem).filter_by(program_id=program_id, is_active=True)
                                    .order_by(ExamItem.item_key)).scalars())
    draw: list[dict] = []
    for domain in exam.get("domains") or ():
        pool = [i for i in items if i.domain == domain["id"]]
        if len(pool) < int(domain["items"]):
            raise ExamError(f"The exam bank cannot fill domain '{domain['id']}'; ask an admin to load the bank.")
        for item in rng.sample(pool, int(domain["items"])):
            order = list(range(len(item.choices)))
            rng.shuffle(order)
            draw.append({"item": item.id, "order": order})
    rng.shuffle(draw)
    return draw


def start_sitting(trainee, enrollment, standard_version, completed_modules: set[str], *, now: datetime | None = None,
                  rng: random.Random | None = None) -> tuple[ExamSitting, bool]:
    """Resume the open sitting (within its time) or start a new one. Returns (sitting, started)."""
    now = now or utcnow()
    current = open_sitting(enrollment.id)
    if current is not None:
        finalise_if_expired(current, now=now)
        if current.is_open:
            return current, False
    problem = start_problem(enrollment, standard_version, completed_modules, now)
    if problem:
        raise ExamError(problem)
    exam = exam_of(standard_version)
    used = db.session.execute(sa.select(sa.func.count(ExamSitting.id)).filter_by(
        enrollment_id=enrollment.id)).scalar_one()
    draw = draw_items(enrollment.program_id, exam, rng or random.SystemRandom())
    sitting = ExamSitting(trainee_id=trainee.id, enrollment_id=enrollment.id, standard_version_id=standard_version.id,
                          attempt_no=used + 1, draw=draw, started_at=now,
                          deadline=now + timedelta(minutes=int(exam["time_limit_minutes"])), total=len(draw),
                          pass_mark=int(round(float(exam["pass_mark_percent"]))))
    try:
        with db.session.begin_nested():  # a parallel start took this attempt number: refuse, never exceed the limit
            db.session.add(sitting)
            db.session.flush()
    except IntegrityError as exc:
        raise ExamError("Another sitting was started at the same moment; reload the exam page.") from exc
    audit.record("exam.start", "exam_sitting", sitting.id, actor=trainee, trainee=trainee.id,
                 attempt=sitting.attempt_no, deadline=sitting.deadline.isoformat())
    return sitting, True


def latest_answers(sitting: ExamSitting) -> dict[int, int]:
    """Item id -> the choice (file index) last given for it."""
    out: dict[int, int] = {}
    for a in db.session.execute(sa.select(ExamAnswer).filter_by(sitting_id=sitting.id)
                                .order_by(ExamAnswer.id)).scalars():
        out[a.item_id] = a.choice
    return out


def record_answer(sitting: ExamSitting, trainee, *, position: int, shown_choice: int,
                  now: datetime | None = None) -> ExamAnswer:
    """Store the answer to the item at ``position`` (1-based) as shown on the page (choice ``shown_choice``, 0-based).

    An answer after the deadline is refused and not stored; the sitting is then scored from what it holds."""
    now = now or utcnow()
    if sitting.trainee_id != trainee.id:
        raise ExamError("That is not your sitting.")
    if not sitting.is_open:
        raise ExamError("This sitting has been submitted; answers can no longer change.")
    if now > sitting.deadline:
        finalise_if_expired(sitting, now=now)
        raise ExamError(f"Time ran out at {sitting.deadline:%H:%M} UTC; this answer was not stored and the sitting "
                        "was submitted with the answers given in time.")
    if not 1 <= position <= len(sitting.draw):
        raise ExamError("That question is not part of this sitting.")
    entry = sitting.draw[position - 1]
    if not 0 <= shown_choice < len(entry["order"]):
        raise ExamError("Choose one of the answers shown.")
    answer = ExamAnswer(sitting_id=sitting.id, item_id=entry["item"], choice=entry["order"][shown_choice],
                        answered_at=now)
    db.session.add(answer)
    db.session.flush()
    return answer


def submit_sitting(sitting: ExamSitting, *, by: str, now: datetime | None = None) -> ExamSitting:
    """Score the sitting from its stored answers (answers given after the deadline were never stored)."""
    now = now or utcnow()
    if not sitting.is_open:
        return sitting
    # Lock the row so a trainee's submit and the sweep cannot both score it.
    locked = db.session.execute(sa.select(ExamSitting).filter_by(id=sitting.id).with_for_update()).scalar_one()
    if not locked.is_open:
        return locked
    answers = latest_answers(locked)
    keys = dict(db.session.execute(sa.select(ExamItem.id, ExamItem.answer)
                                   .where(ExamItem.id.in_([d["item"] for d in locked.draw]))).all())
    correct = sum(1 for d in locked.draw if answers.get(d["item"]) == keys.get(d["item"]))
    locked.correct = correct
    locked.score_percent = int(correct * 100 // max(locked.total, 1))
    locked.passed = correct * 100 >= locked.pass_mark * locked.total
    locked.submitted_at = min(now, locked.deadline)
    locked.submitted_by = by
    db.session.flush()
    audit.record("exam.submit", "exam_sitting", locked.id, actor=locked.trainee_id if by == "trainee" else None,
                 by=by, score=locked.score_percent, passed=locked.passed)
    return locked


def finalise_if_expired(sitting: ExamSitting, *, now: datetime | None = None) -> bool:
    """Submit an open sitting whose time has run out. Returns True when it did."""
    now = now or utcnow()
    if sitting.is_open and now > sitting.deadline:
        submit_sitting(sitting, by="time_limit", now=now)
        return True
    return False


def sweep(now: datetime | None = None) -> int:
    """Submit every open sitting whose time has run out; returns how many."""
    now = now or utcnow()
    expired = list(db.session.execute(sa.select(ExamSitting).where(ExamSitting.submitted_at.is_(None),
                                                                   ExamSitting.deadline < now)).scalars())
    for s in expired:
        submit_sitting(s, by="time_limit", now=now)
    return len(expired)


def shown_items(sitting: ExamSitting) -> list[dict]:
    """What the sitting page shows: prompt and choices in the drawn order, the answer given; never the key."""
    items = {i.id: i for i in db.session.execute(
        sa.select(ExamItem).where(ExamItem.id.in_([d["item"] for d in sitting.draw]))).scalars()}
    answers = latest_answers(sitting)
    out = []
    for n, d in enumerate(sitting.draw, start=1):
        item = items[d["item"]]
        given = answers.get(item.id)
        out.append({"position": n, "prompt": item.prompt, "choices": [item.choices[i] for i in d["order"]],
                    "selected": d["order"].index(given) if given is not None else None})
    return out


# --------------------------------------------------------------------------- OSCE


@dataclass
class StationInput:
    station_id: str
    assessed_on: date
    ticked: set[str]
    global_rating: int
    comments: str = ""


def osce_of(standard_version) -> dict:
    return (standard_version.data or {}).get("osce") or {}


def station_def(standard_version, station_id: str) -> dict | None:
    return next((s for s in osce_of(standard_version).get("stations") or () if s["id"] == station_id), None)


def station_outcome(station: dict, ticked: set[str], global_rating: int) -> tuple[bool, list[str]]:
    """(passed, reasons it did not) under the station's pass rule: every critical item, the checklist share, and
    the global rating."""
    rule = station.get("pass_rule") or {}
    checklist = station.get("checklist") or []
    reasons = [f"critical item not met: {c['text'].rstrip('.')}" for c in checklist
               if c.get("critical") and c["id"] not in ticked]
    done = sum(1 for c in checklist if c["id"] in ticked)
    need = float(rule.get("min_checklist_percent") or 0)
    if checklist and done * 100 < need * len(checklist):
        reasons.append(f"checklist {done} of {len(checklist)} items, {need:g}% needed")
    if global_rating < int(rule.get("min_global_rating") or 0):
        reasons.append(f"global rating {global_rating}, at least {rule.get('min_global_rating')} needed")
    return not reasons, reasons


def assessor_problem(actor, trainee_id: int, station: dict) -> str:
    """Why ``actor`` may not grade this station for the trainee ("" when they may): the observation rules (never
    themselves, only trainees who named them), and the station's assessor professions on a verified licence."""
    from lms.assessments.operations import acts_for
    from lms.providers.operations import verified_licence

    if actor.id == trainee_id:
        return "Nobody assesses themselves."
    if not actor.has_role("instructor", "admin"):
        return "Only instructors and administrators grade OSCE stations."
    if not acts_for(actor, trainee_id):
        return "Only an instructor the trainee has named (or an admin) grades the trainee's stations."
    professions = set(station.get("assessor_professions") or ())
    if professions:
        lic = verified_licence(actor.id)
        if lic is None or lic.profession not in professions:
            from lms.eligibility.rules import join_words, profession_label

            who = join_words(sorted(profession_label(p) for p in professions)).replace(" and ", " or ")
            return (f"The {station['title']} station is graded by a {who} whose license an admin has verified; "
                    "your license on file does not show that.")
    return ""


def record_station(trainee, enrollment, standard_version, data: StationInput, *, actor,
                   amends: OsceResult | None = None, reason: str = "") -> OsceResult:
    station = station_def(standard_version, data.station_id)
    if station is None:
        raise ExamError("Choose a station of the trainee's standard.")
    problem = assessor_problem(actor, trainee.id, station)
    if problem:
        raise ExamError(problem)
    scale = {int(r["value"]) for r in osce_of(standard_version).get("global_rating_scale") or ()}
    if data.global_rating not in scale:
        raise ExamError(f"Choose a global rating from {min(scale)} to {max(scale)}.")
    if data.assessed_on > utcnow().date():
        raise ExamError("The assessment date cannot be in the future.")
    if data.assessed_on < enrollment.enrolled_on:
        raise ExamError("The assessment date is before the trainee enrolled.")
    known = {c["id"] for c in station.get("checklist") or ()}
    if data.ticked - known:
        raise ExamError("Unknown checklist items: " + ", ".join(sorted(data.ticked - known)))
    if amends is not None:
        if amends.trainee_id != trainee.id or amends.station_id != data.station_id:
            raise ExamError("An amendment must be for the same trainee and station.")
        if db.session.execute(sa.select(OsceResult.id).filter_by(amends_id=amends.id)).first():
            raise ExamError("This result has already been amended; amend the latest version instead.")
        if not reason.strip():
            raise ExamError("Say why the result is being amended.")
    passed, reasons = station_outcome(station, data.ticked, data.global_rating)
    result = OsceResult(trainee_id=trainee.id, enrollment_id=enrollment.id, standard_version_id=standard_version.id,
                        station_id=station["id"], assessor_id=actor.id, assessed_on=data.assessed_on,
                        checklist={c["id"]: c["id"] in data.ticked for c in station.get("checklist") or ()},
                        global_rating=data.global_rating, passed=passed, failed_reasons=reasons,
                        comments=(data.comments or "").strip(), amends_id=amends.id if amends else None,
                        amendment_reason=reason.strip() or None)
    db.session.add(result)
    db.session.flush()
    audit.record("osce.amend" if amends else "osce.record", "osce_result", result.id, actor=actor,
                 trainee=trainee.id, station=station["id"], passed=passed, rating=data.global_rating)
    return result
