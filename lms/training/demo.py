"""Demo additions for knowledge checks and lab attendance (called once from lms.demo.seed)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from lms.extensions import db


def seed_training_demo(instructor, hygienist, massage, slp, today) -> None:
    """Lab attendance the instructor recorded for the demo trainees, and a speech-language pathologist who failed
    the consent module's check three times today (so its page shows the wait)."""
    from lms.hours.attendance import AttendanceInput, lab_minutes, lab_modules, record_attendance
    from lms.training.models import Module, Program
    from lms.training.operations import get_enrollment, open_draw, submit_knowledge_check

    program = db.session.get(Program, "omr")
    modules = lab_modules(program.id)
    # Each lab module's lab, one session a day, on days the demo's logged practicum leaves free.
    for n, module in enumerate(modules):
        day = today - timedelta(days=5 + n)
        record_attendance(instructor, AttendanceInput(module.id, day, lab_minutes(module),
                                                      [hygienist.id, massage.id], "Supervised skills lab"),
                          program=program)
    m1 = next(m for m in modules if m.module_key == "M1")
    record_attendance(instructor, AttendanceInput(m1.id, today - timedelta(days=20), lab_minutes(m1), [slp.id],
                                                  "Supervised skills lab"), program=program)
    enrollment = get_enrollment(slp.id, program.id)
    m5 = db.session.execute(sa.select(Module).filter_by(program_id=program.id, module_key="M5")).scalar_one()
    for _ in range(3):
        draw = open_draw(enrollment, m5)
        # Right on the first two items only: below the pass mark.
        submit_knowledge_check(enrollment, m5, draw, {it["id"]: it["answer"] for it in draw.items[:2]}, actor=slp)
