"""Demo cases: three documented cases (TMD, radiation-induced trismus, post-surgical) per practicum, each with a
baseline and a follow-up and an interprofessional letter, recorded through the same operations the pages use.

The values are invented for the demo (plausible, not from any patient)."""

from __future__ import annotations

from datetime import timedelta

from lms.cases.operations import (
    CaseInput,
    LetterInput,
    MeasureInput,
    add_letter,
    case_by_code,
    measures_of,
    record_measure,
    save_case,
)

MIO_METHOD = {"assisted": "unassisted", "overlap": "overlap_included", "instrument": "ruler"}

# code, condition, age band, summary, letter recipient, {measure: (baseline, follow-up)} or items
DEMO_CASES = (
    ("C01", "tmd_myogenous", "30_44", "Jaw pain on chewing for six months; goal: eat a normal diet.", "dentist",
     {"mio_mm": (34, 42), "pain_nrs_rest": (3, 1), "pain_nrs_opening": (7, 3), "pain_nrs_clenching": (6, 3),
      "jfls8": ([5, 4, 6, 3, 4, 2, 5, 4], [2, 1, 3, 1, 2, 0, 2, 1])}),
    ("C02", "radiation_trismus", "60_74", "Restricted opening after radiotherapy; goal: dental care and eating.",
     "oncologist", {"mio_mm": (26, 33), "pain_nrs_rest": (2, 1), "pain_nrs_opening": (5, 3),
                    "pain_nrs_clenching": (4, 2), "gtq": (58, 41),
                    "eat10": ([2, 2, 3, 3, 2, 1, 2, 3, 1, 2], [1, 1, 2, 2, 1, 0, 1, 2, 1, 1])}),
    ("C03", "post_surgical", "45_59", "Stiffness and pain after jaw surgery; goal: open enough to bite a sandwich.",
     "surgeon", {"mio_mm": (30, 38), "pain_nrs_rest": (2, 2), "pain_nrs_opening": (6, 4),
                 "pain_nrs_clenching": (5, 4),
                 "ohip14": ([2, 1, 3, 3, 2, 2, 2, 1, 2, 1, 1, 2, 1, 1], [1, 0, 2, 1, 1, 1, 1, 0, 1, 0, 0, 1, 0, 0])}),
)


def _record(user, case, key, value, day, timepoint):
    items = value if isinstance(value, list) else None
    record_measure(case, MeasureInput(
        measure=key, measured_on=day, timepoint=timepoint, value=None if items else value, items=items,
        method=MIO_METHOD if key == "mio_mm" else {},
        method_note="Seated, head neutral, best of two." if key == "mio_mm" else "Self-completed form."),
        actor=user)


def document_cases(user, today) -> None:
    """Three documented cases for ``user`` (skipped for a case that already has measurements)."""
    for code, condition, age_band, summary, recipient, values in DEMO_CASES:
        existing = case_by_code(user.id, code)
        if existing is not None and measures_of([existing.id])[existing.id]:
            continue
        case = save_case(user, CaseInput(code=code, condition=condition, age_band=age_band, consent_recorded=True,
                                         consent_on=today - timedelta(days=61), summary=summary))
        for key, (baseline, followup) in values.items():
            _record(user, case, key, baseline, today - timedelta(days=60), "baseline")
            _record(user, case, key, followup, today - timedelta(days=30), "follow_up")
        add_letter(case, LetterInput(sent_on=today - timedelta(days=28), recipient=recipient,
                                     reference=f"{code} progress letter 1",
                                     summary="Baseline and follow-up measures, home program, plan to re-measure."),
                   actor=user)


def paired_reading(user, case_code: str, day, trainee_mio: float = 40) -> float:
    """The trainee's MIO of the case on ``day`` (recorded if missing) and an assessor reading 1 mm away, for a C7
    observation in the demo."""
    from lms.cases.operations import case_for_code
    from lms.cases.pairing import trainee_reading

    reading = trainee_reading(user.id, case_code, "mio_mm", day)
    if reading is None:
        case = case_for_code(user, case_code)
        reading = record_measure(case, MeasureInput(measure="mio_mm", measured_on=day, timepoint="session",
                                                    value=trainee_mio, method=MIO_METHOD), actor=user)
    return reading.value + 1
