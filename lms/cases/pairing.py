"""Paired measurements for sign-off (C7): the trainee's own recorded reading of a case against the assessor's.

The standard defines the rule on the competency, e.g. ``paired_measurement: {measure: mio_mm, within: 2}``: an
observation that would pass is signed only where the trainee recorded that measure for the observed case on the
observation day, and the assessor's own reading agrees within ``within`` (in the measure's unit).
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from lms.cases.measures import MEASURES
from lms.cases.models import CaseMeasure
from lms.cases.operations import case_by_code
from lms.extensions import db


def trainee_reading(trainee_id: int, case_code: str | None, measure: str, on: date) -> CaseMeasure | None:
    """The trainee's latest current reading of ``measure`` for the case on that day."""
    case = case_by_code(trainee_id, case_code)
    if case is None:
        return None
    corrected = sa.select(CaseMeasure.corrects_id).where(CaseMeasure.corrects_id.is_not(None))
    return db.session.execute(
        sa.select(CaseMeasure).where(CaseMeasure.case_id == case.id, CaseMeasure.measure == measure,
                                     CaseMeasure.measured_on == on, CaseMeasure.id.not_in(corrected))
        .order_by(CaseMeasure.id.desc()).limit(1)).scalar_one_or_none()


def pairing_problem(rule: dict, comp_id: str, trainee_id: int, case_code: str | None, on: date,
                    assessor_reading) -> tuple[str | None, dict | None]:
    """(why the observation cannot be signed off, the pair to store). The message is for the assessor."""
    measure = str(rule.get("measure") or "mio_mm")
    within = float(rule.get("within", 2))
    m = MEASURES[measure]
    what = m.label.lower()
    if not (case_code or "").strip():
        return (f"{comp_id} is signed off only on a paired measurement: enter the case number of the client you "
                f"both measured.", None)
    if assessor_reading is None or str(assessor_reading).strip() == "":
        return (f"{comp_id} is signed off only on a paired measurement: enter your own {what} reading of the same "
                f"client, in {m.unit}.", None)
    try:
        assessor = float(assessor_reading)
    except (TypeError, ValueError):
        return f"Your {what} reading must be a number in {m.unit}.", None
    if not m.lo <= assessor <= m.hi:
        return (f"Your {what} reading of {assessor:g} {m.unit} is outside the possible range of {m.lo:g} to "
                f"{m.hi:g} {m.unit}.", None)
    reading = trainee_reading(trainee_id, case_code, measure, on)
    if reading is None:
        return (f"{comp_id} is signed off only against the trainee's own recorded {what}: the trainee has no "
                f"{what} of case {case_code.strip().upper()} recorded for {on.isoformat()}. Ask the trainee to "
                "record it on the case page first, then sign this observation.", None)
    diff = abs(reading.value - assessor)
    pair = {"measure": measure, "trainee": reading.value, "assessor": assessor, "difference": round(diff, 2),
            "within": within, "trainee_measured_on": on.isoformat()}
    if diff > within:
        return (f"The trainee recorded {reading.value:g} {m.unit} and you measured {assessor:g} {m.unit}: "
                f"{diff:g} {m.unit} apart, outside the ±{within:g} {m.unit} agreement {comp_id} requires. This "
                "observation cannot sign off the competency; record it below the required level, and have the "
                "trainee review the technique and measure again on another occasion.", pair)
    return None, pair
