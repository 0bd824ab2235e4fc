"""Screenings and collaboration agreements (flush only)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from lms.core import audit
from lms.core.timeutil import today, utcnow
from lms.extensions import db
from lms.notifications import notify
from lms.screening.checklist import ABSOLUTE_LABELS, CLEARANCE_EVENT_LABELS, RELATIVE_LABELS, STRUCTURES, outcome_for
from lms.screening.gate import clearance_days_for, current_agreement, is_dental
from lms.screening.models import CollaborationAgreement, Screening


class ScreeningError(ValueError):
    pass


@dataclass
class ScreeningInput:
    session_date: date
    screened_by: str
    findings: dict[str, str]
    absolute: list[str] = field(default_factory=list)
    relative: list[str] = field(default_factory=list)
    modifications: str = ""
    clearance_date: date | None = None
    case_code: str | None = None
    # Route N: the dental professional's clearance for this patient (an uploaded document or a letter reference),
    # the events since it that end it, and the trainee's attestation that none happened.
    clearance_document: object | None = None  # an EvidenceFile
    clearance_reference: str = ""
    clearance_events: list[str] = field(default_factory=list)
    attested_no_change: bool = False
    lab_practice: bool = False


def normalize_case_code(code: str | None) -> str:
    """Case codes compare without surrounding spaces and case: " c01 " and "C01" are the same case."""
    return (code or "").strip().upper()


CASE_CODE_RE = re.compile(r"^[A-Z0-9-]{1,20}$")


def case_code_problem(code: str) -> str | None:
    """Why a case code is not acceptable (None when it is). Own case numbers only, never patient identifiers."""
    if not CASE_CODE_RE.match(code):
        return ("Use your own case number, such as C07: up to 20 letters, digits and dashes. Never a patient's name, "
                "initials, date of birth or record number.")
    return None


def record_screening(trainee, data: ScreeningInput) -> Screening:
    """Record a pre-treatment screening for one case. The outcome is derived only from what was ticked."""
    if data.session_date > today():
        raise ScreeningError("The session date cannot be in the future.")
    case_code = normalize_case_code(data.case_code)
    if not case_code:
        raise ScreeningError("Enter the case number of the patient (or lab partner) this screening is for. A "
                             "screening clears sessions of that case only.")
    problem = case_code_problem(case_code)
    if problem:
        raise ScreeningError(problem)
    if data.screened_by not in ("self", "collaborator"):
        raise ScreeningError("Say who screened: you (Route D) or your collaborating dental professional (Route N).")
    if data.screened_by == "self" and not is_dental(trainee):
        raise ScreeningError("Only dental hygienists, dentists and dental therapists with a verified license screen "
                             "their own patients (Route D). Choose your collaborating dental professional's "
                             "clearance (Route N).")
    unknown = [c for c in data.absolute if c not in ABSOLUTE_LABELS] + \
              [c for c in data.relative if c not in RELATIVE_LABELS] + \
              [c for c in data.clearance_events if c not in CLEARANCE_EVENT_LABELS]
    if unknown:
        raise ScreeningError("Unknown checklist item: " + ", ".join(unknown))
    agreement = None
    events = sorted(set(data.clearance_events)) if data.screened_by == "collaborator" else []
    if data.screened_by == "collaborator":
        if data.clearance_date is None:
            raise ScreeningError("Enter the date of the dental clearance.")
        if data.clearance_date > data.session_date:
            raise ScreeningError("The dental clearance must be dated on or before the session.")
        # A clearance too old for its session could never let the session be logged; say so now, not later.
        days = clearance_days_for(trainee)
        age = (data.session_date - data.clearance_date).days
        if age > days:
            raise ScreeningError(f"The dental clearance is dated {age} days before the session; it must be dated "
                                 f"within {days} days before it. Ask your collaborating dental professional for a "
                                 "new clearance.")
        if data.clearance_document is None and not data.clearance_reference.strip():
            raise ScreeningError("Attach the dental professional's clearance for this patient, or enter the "
                                 "reference of their clearance letter.")
        if not events and not data.attested_no_change:
            raise ScreeningError("Confirm that nothing new has happened since the clearance (no new lesion or "
                                 "symptom, extraction or dental procedure, surgery or radiotherapy), or tick what "
                                 "has happened.")
        agreement = current_agreement(trainee.id, data.session_date)
        if agreement is None:
            raise ScreeningError("No verified collaboration agreement is current on the session date. Upload your "
                                 "agreement with a licensed dental professional and have it verified first.")
    missing = [label for key, label in STRUCTURES if not (data.findings.get(key) or "").strip()]
    if missing:
        raise ScreeningError("Record a finding for every structure (write 'normal' if nothing was found): "
                             + "; ".join(missing) + ".")
    if data.relative and not data.modifications.strip():
        raise ScreeningError("A relative contraindication was ticked: describe how the plan is modified.")
    outcome = outcome_for(data.absolute, data.relative, events)
    case = None
    if not data.lab_practice:
        from lms.cases.operations import case_for_code

        case = case_for_code(trainee, case_code)  # a screening belongs to its case (patient)
    screening = Screening(
        trainee_id=trainee.id, session_date=data.session_date, case_code=case_code,
        case_id=case.id if case is not None else None,
        screened_by=data.screened_by, agreement_id=agreement.id if agreement else None,
        clearance_date=data.clearance_date if data.screened_by == "collaborator" else None,
        clearance_document_id=(data.clearance_document.id if data.screened_by == "collaborator"
                               and data.clearance_document is not None else None),
        clearance_reference=(data.clearance_reference.strip()[:200] or None) if data.screened_by == "collaborator"
        else None,
        clearance_events=events, attested_no_change=bool(data.attested_no_change and not events),
        lab_practice=bool(data.lab_practice),
        findings={k: (data.findings.get(k) or "").strip() for k, _ in STRUCTURES},
        absolute_contraindications=sorted(set(data.absolute)), relative_contraindications=sorted(set(data.relative)),
        modifications=data.modifications.strip(), outcome=outcome,
    )
    db.session.add(screening)
    db.session.flush()
    audit.record("screening.record", "screening", screening.id, actor=trainee, outcome=outcome, case=case_code,
                 route="D" if data.screened_by == "self" else "N", absolute=screening.absolute_contraindications,
                 relative=screening.relative_contraindications, clearance_events=events)
    return screening


@dataclass
class AgreementInput:
    dentist_name: str
    dentist_profession: str
    dentist_license: str
    dentist_jurisdiction: str
    valid_from: date
    valid_until: date


def submit_agreement(trainee, data: AgreementInput, document) -> CollaborationAgreement:
    from lms.eligibility.facts import DENTAL_PROFESSIONS

    if data.dentist_profession not in DENTAL_PROFESSIONS:
        raise ScreeningError("The collaborating professional must be a dentist, dental hygienist or dental therapist.")
    if data.valid_until < data.valid_from:
        raise ScreeningError("The agreement's end date must be on or after its start date.")
    agreement = CollaborationAgreement(
        trainee_id=trainee.id, dentist_name=data.dentist_name.strip(), dentist_profession=data.dentist_profession,
        dentist_license=data.dentist_license.strip(), dentist_jurisdiction=data.dentist_jurisdiction,
        valid_from=data.valid_from, valid_until=data.valid_until, document_file_id=document.id)
    db.session.add(agreement)
    db.session.flush()
    audit.record("agreement.submit", "agreement", agreement.id, actor=trainee)
    return agreement


def decide_agreement(agreement: CollaborationAgreement, decision: str, *, actor, reason: str = ""):
    if actor.id == agreement.trainee_id:
        raise ScreeningError("You cannot verify your own agreement.")
    if decision == "revoked":
        if agreement.status != "verified":
            raise ScreeningError("Only a verified agreement can be revoked.")
    elif agreement.status != "pending":
        raise ScreeningError("This agreement has already been decided.")
    if decision not in ("verified", "rejected", "revoked"):
        raise ScreeningError("Unknown decision.")
    if decision in ("rejected", "revoked") and not reason.strip():
        raise ScreeningError("Give a reason.")
    agreement.status = decision
    agreement.decided_by_id = actor.id
    agreement.decided_at = utcnow()
    agreement.decision_reason = reason.strip() or None
    db.session.flush()
    audit.record(f"agreement.{decision}", "agreement", agreement.id, actor=actor, reason=reason.strip())
    notify(agreement.trainee, f"agreement.{decision}", agreement, reason=reason.strip())
    return agreement
