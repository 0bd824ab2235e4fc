"""Demo and fixture recipes for the written exam and the OSCE, built through the exam operations.

``pass_summative`` completes a qualified trainee: a passed sitting (every answer stored, inside the time limit) and
a passed result for every OSCE station, each graded by an assessor the station admits. ``seed_failed_sitting`` gives
a trainee one sitting that did not pass, so the re-sit waiting period shows.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from lms.eligibility.facts import DENTAL_PROFESSIONS
from lms.exams import operations as ops
from lms.exams.models import ExamItem
from lms.extensions import db


def ensure_verified_licence(assessor, today: date) -> None:
    """A dental assessor grades the screening station only on a licence an admin verified: record and verify one
    (as the first enabled admin) when the assessor has none."""
    from lms.auth.models import User
    from lms.providers.operations import current_licence, decide_licence, save_profile, verified_licence

    if verified_licence(assessor.id) is not None:
        return
    admin = db.session.execute(sa.select(User).where(User.role == "admin", User.is_enabled.is_(True),
                                                     User.id != assessor.id).order_by(User.id).limit(1)).scalar_one()
    if current_licence(assessor.id) is None or current_licence(assessor.id).status != "pending":
        save_profile(assessor, {"legal_name": assessor.name, "profession": assessor.profession,
                                "license_number": f"LIC-{assessor.id:05d}", "jurisdiction": "CA-BC",
                                "license_expires_on": today + timedelta(days=400),
                                "cpr_expires_on": today + timedelta(days=300), "infection_control_ack": True})
    decide_licence(current_licence(assessor.id), decision="verified", actor=admin,
                   reference=f"Licensing body's public register, look-up of LIC-{assessor.id:05d}")


def _sit(user, enrollment, standard, start: datetime, correct: int | None) -> None:
    """One sitting started at ``start``: ``correct`` answers right (all when None), submitted 30 minutes later."""
    sitting, _ = ops.start_sitting(user, enrollment, standard, set(), now=start, rng=random.Random(user.id))
    keys = dict(db.session.execute(sa.select(ExamItem.id, ExamItem.answer)
                                   .where(ExamItem.id.in_([d["item"] for d in sitting.draw]))).all())
    for n, entry in enumerate(sitting.draw, start=1):
        right = entry["order"].index(keys[entry["item"]])
        shown = right if correct is None or n <= correct else (right + 1) % len(entry["order"])
        ops.record_answer(sitting, user, position=n, shown_choice=shown, now=start + timedelta(seconds=40 * n))
    ops.submit_sitting(sitting, by="trainee", now=start + timedelta(minutes=30))


def pass_summative(user, enrollment, standard, assessors, today: date) -> None:
    """A passed written exam and a passed result for every OSCE station."""
    if ops.exam_of(standard):
        _sit(user, enrollment, standard, datetime.combine(today - timedelta(days=12), time(9, 0)), None)
    dental = next((a for a in assessors if a.profession in DENTAL_PROFESSIONS), None)
    others = [a for a in assessors if a is not dental] or assessors
    for station in ops.osce_of(standard).get("stations") or ():
        assessor = others[0]
        if station.get("assessor_professions"):
            assessor = dental or assessor
            ensure_verified_licence(assessor, today)
        ops.record_station(user, enrollment, standard, ops.StationInput(
            station_id=station["id"], assessed_on=today - timedelta(days=8),
            ticked={c["id"] for c in station["checklist"]}, global_rating=4,
            comments="Safe and well organised."), actor=assessor)


def seed_failed_sitting(user, enrollment, standard, today: date) -> None:
    """One sitting three days ago that did not pass (12 of the items right), so the re-sit wait shows."""
    _sit(user, enrollment, standard, datetime.combine(today - timedelta(days=3), time(10, 0)), 12)
