"""Cases, letters and outcome measures (flush only; the view commits)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from lms.cases.deident import code_problem, text_problem
from lms.cases.measures import (
    MEASURES,
    TIMEPOINTS,
    Change,
    MeasureError,
    measure_def,
    score_items,
    validate_method,
    validate_value,
)
from lms.cases.models import AGE_BANDS, CONDITION_LABELS, Case, CaseLetter, CaseMeasure
from lms.core import audit
from lms.core.database import advisory_lock
from lms.core.timeutil import today
from lms.extensions import db
from lms.screening.operations import normalize_case_code

LETTER_RECIPIENTS = {
    "dentist": "Dentist", "dental_hygienist": "Dental hygienist", "physician": "Physician",
    "oncologist": "Oncology team", "surgeon": "Surgeon", "speech_language_pathologist": "Speech-language pathologist",
    "physical_therapist": "Physical therapist", "other": "Other health professional",
}


class CaseError(ValueError):
    """A case, letter or measure that cannot be stored; the message says why."""


# --------------------------------------------------------------------------- access


def can_view(actor, case: Case) -> bool:
    """The trainee who owns the case, their instructors, and admins."""
    from lms.assessments.operations import acts_for

    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    return actor.id == case.trainee_id or acts_for(actor, case.trainee_id)


# --------------------------------------------------------------------------- cases


@dataclass
class CaseInput:
    code: str
    condition: str = "unspecified"
    age_band: str = "unknown"
    consent_recorded: bool = False
    consent_on: date | None = None
    agreement_id: int | None = None
    summary: str = ""


def case_by_code(trainee_id: int, code: str | None) -> Case | None:
    normalized = normalize_case_code(code)
    if not normalized:
        return None
    return db.session.execute(sa.select(Case).filter_by(trainee_id=trainee_id, code=normalized)).scalar_one_or_none()


def case_for_code(trainee, code: str | None) -> Case | None:
    """The trainee's case with this code, created (details to be completed) the first time a session or screening
    names it. None when the code is empty or not an acceptable case number."""
    normalized = normalize_case_code(code)
    if not normalized or code_problem(normalized):
        return None
    advisory_lock(db.session, f"cases:{trainee.id}")
    case = case_by_code(trainee.id, normalized)
    if case is None:
        case = Case(trainee_id=trainee.id, code=normalized)
        db.session.add(case)
        db.session.flush()
        audit.record("case.create", "case", case.id, actor=trainee, code=normalized, implicit=True)
    return case


def _check_details(trainee, data: CaseInput) -> None:
    if data.condition not in CONDITION_LABELS:
        raise CaseError("Choose the condition category from the list.")
    if data.age_band not in AGE_BANDS:
        raise CaseError("Choose an age band from the list.")
    if data.consent_recorded and data.consent_on is None:
        raise CaseError("Enter the date consent was recorded.")
    if data.consent_on is not None and data.consent_on > today():
        raise CaseError("The consent date cannot be in the future.")
    if data.agreement_id is not None:
        from lms.screening.models import CollaborationAgreement

        agreement = db.session.get(CollaborationAgreement, data.agreement_id)
        if agreement is None or agreement.trainee_id != trainee.id:
            raise CaseError("Choose one of your own collaboration agreements as the dental collaborator.")
    problem = text_problem(data.summary, "The case summary")
    if problem:
        raise CaseError(problem)


def save_case(trainee, data: CaseInput) -> Case:
    """Open a case, or complete the details of the case with this code (a code a session already created)."""
    problem = code_problem(data.code)
    if problem:
        raise CaseError(problem)
    _check_details(trainee, data)
    advisory_lock(db.session, f"cases:{trainee.id}")
    code = normalize_case_code(data.code)
    case = case_by_code(trainee.id, code)
    created = case is None
    if created:
        case = Case(trainee_id=trainee.id, code=code)
        db.session.add(case)
    case.condition = data.condition
    case.age_band = data.age_band
    case.consent_recorded = bool(data.consent_recorded)
    case.consent_on = data.consent_on if data.consent_recorded else None
    case.agreement_id = data.agreement_id
    case.summary = (data.summary or "").strip()
    db.session.flush()
    audit.record("case.create" if created else "case.update", "case", case.id, actor=trainee, code=code,
                 condition=case.condition)
    return case


def cases_for(trainee_id: int) -> list[Case]:
    return list(db.session.execute(sa.select(Case).filter_by(trainee_id=trainee_id).order_by(Case.code)).scalars())


# --------------------------------------------------------------------------- letters


@dataclass
class LetterInput:
    sent_on: date
    recipient: str
    reference: str = ""
    summary: str = ""


def add_letter(case: Case, data: LetterInput, *, actor, document=None) -> CaseLetter:
    if actor.id != case.trainee_id:
        raise CaseError("Only the trainee who treats the case adds its letters.")
    if data.recipient not in LETTER_RECIPIENTS:
        raise CaseError("Choose who the letter was sent to (their profession, never their name).")
    if data.sent_on > today():
        raise CaseError("The letter date cannot be in the future.")
    if document is None and not data.reference.strip():
        raise CaseError("Attach the letter (PDF, PNG or JPEG) or enter its reference.")
    for text, name in ((data.reference, "The letter reference"), (data.summary, "The letter summary")):
        problem = text_problem(text, name)
        if problem:
            raise CaseError(problem)
    letter = CaseLetter(case_id=case.id, sent_on=data.sent_on, recipient=data.recipient,
                        reference=data.reference.strip()[:200], summary=data.summary.strip(),
                        document_file_id=document.id if document is not None else None)
    db.session.add(letter)
    db.session.flush()
    audit.record("case.letter", "case", case.id, actor=actor, letter=letter.id, recipient=data.recipient)
    return letter


# --------------------------------------------------------------------------- measures


@dataclass
class MeasureInput:
    measure: str
    measured_on: date
    timepoint: str
    value: object = None  # single-value measures
    items: list | None = None  # questionnaires
    method: dict = field(default_factory=dict)
    method_note: str = ""
    hour_entry_id: int | None = None


def _check_measure(case: Case, data: MeasureInput) -> tuple[float, list | None, dict]:
    try:
        m = measure_def(data.measure)
        if data.timepoint not in TIMEPOINTS:
            raise MeasureError("Say whether this is the baseline, a session or the follow-up measurement.")
        if data.measured_on > today():
            raise MeasureError("The measurement date cannot be in the future.")
        method = validate_method(m, data.method)
        if m.items and data.items is not None:
            value = score_items(m, list(data.items))
            items = [None if (v is None or str(v).strip() == "") else int(float(v)) for v in data.items]
        else:
            value, items = validate_value(m, data.value), None
    except MeasureError as exc:
        raise CaseError(str(exc)) from None
    problem = text_problem(data.method_note, "The method note")
    if problem:
        raise CaseError(problem)
    if data.hour_entry_id is not None:
        from lms.hours.models import HourEntry

        entry = db.session.get(HourEntry, data.hour_entry_id)
        if entry is None or entry.trainee_id != case.trainee_id or entry.case_id != case.id:
            raise CaseError("Choose a session of this case.")
    return value, items, method


def record_measure(case: Case, data: MeasureInput, *, actor, corrects: CaseMeasure | None = None,
                   reason: str = "") -> CaseMeasure:
    """Store one measurement (or a correction of one, as a new linked record)."""
    if actor.id != case.trainee_id:
        raise CaseError("Only the trainee who treats the case records its measurements.")
    value, items, method = _check_measure(case, data)
    if corrects is not None:
        if corrects.case_id != case.id or corrects.measure != data.measure:
            raise CaseError("A correction must be of the same measure of the same case.")
        if db.session.execute(sa.select(CaseMeasure.id).filter_by(corrects_id=corrects.id)).first():
            raise CaseError("This measurement has already been corrected; correct the latest version.")
        if not reason.strip():
            raise CaseError("Say why the measurement is being corrected.")
        problem = text_problem(reason, "The correction reason")
        if problem:
            raise CaseError(problem)
    row = CaseMeasure(case_id=case.id, measured_on=data.measured_on, timepoint=data.timepoint,
                      measure=data.measure, value=value, items=items, method=method,
                      method_note=(data.method_note or "").strip(), hour_entry_id=data.hour_entry_id,
                      corrects_id=corrects.id if corrects else None,
                      correction_reason=reason.strip() or None, recorded_by_id=actor.id)
    db.session.add(row)
    db.session.flush()
    audit.record("case.measure", "case", case.id, actor=actor, measure=data.measure, value=value,
                 timepoint=data.timepoint, corrects=corrects.id if corrects else None)
    return row


def measures_of(case_ids: list[int]) -> dict[int, list[CaseMeasure]]:
    """Current (not corrected) measurements per case, oldest first, in one query."""
    if not case_ids:
        return {}
    corrected = sa.select(CaseMeasure.corrects_id).where(CaseMeasure.corrects_id.is_not(None))
    rows = db.session.execute(
        sa.select(CaseMeasure).where(CaseMeasure.case_id.in_(case_ids), CaseMeasure.id.not_in(corrected))
        .order_by(CaseMeasure.measured_on, CaseMeasure.id)).scalars()
    out: dict[int, list[CaseMeasure]] = {cid: [] for cid in case_ids}
    for r in rows:
        out[r.case_id].append(r)
    return out


def changes(measures: list[CaseMeasure]) -> dict[str, Change]:
    """Change from baseline per measure: the first baseline against the latest follow-up."""
    out: dict[str, Change] = {}
    for key, m in MEASURES.items():
        rows = [r for r in measures if r.measure == key]
        base = next((r for r in rows if r.timepoint == "baseline"), None)
        follow = [r for r in rows if r.timepoint == "follow_up"]
        if base is not None and follow:
            out[key] = Change(m, base.value, follow[-1].value)
    return out


def is_documented(case: Case, measures: list[CaseMeasure]) -> bool:
    """A documented case: a baseline and a follow-up measurement, and at least one letter."""
    return bool(changes(measures)) and bool(case.letters)
