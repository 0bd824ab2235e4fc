"""Screenings and collaboration agreements (flush only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from lms.core import audit
from lms.core.timeutil import today, utcnow
from lms.extensions import db
from lms.notifications import notify
from lms.screening.checklist import ABSOLUTE_LABELS, RELATIVE_LABELS, STRUCTURES
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


def record_screening(trainee, data: ScreeningInput) -> Screening:
    """Record a pre-treatment screening. The outcome is derived: blocked, modify or clear."""
    if data.session_date > today():
        raise ScreeningError("The session date cannot be in the future.")
    if data.screened_by not in ("self", "collaborator"):
        raise ScreeningError("Say who screened: you (Route D) or your collaborating dental professional (Route N).")
    if data.screened_by == "self" and not is_dental(trainee):
        raise ScreeningError("Only dental hygienists, dentists and dental therapists screen their own patients "
                             "(Route D). Choose your collaborating dental professional's clearance (Route N).")
    agreement = None
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
        agreement = current_agreement(trainee.id, data.session_date)
        if agreement is None:
            raise ScreeningError("No verified collaboration agreement is current on the session date. Upload your "
                                 "agreement with a licensed dental professional and have it verified first.")
    unknown = [c for c in data.absolute if c not in ABSOLUTE_LABELS] + \
              [c for c in data.relative if c not in RELATIVE_LABELS]
    if unknown:
        raise ScreeningError("Unknown checklist item: " + ", ".join(unknown))
    missing = [label for key, label in STRUCTURES if not (data.findings.get(key) or "").strip()]
    if missing:
        raise ScreeningError("Record a finding for every structure (write 'normal' if nothing was found): "
                             + "; ".join(missing) + ".")
    if data.relative and not data.modifications.strip():
        raise ScreeningError("A relative contraindication was ticked: describe how the plan is modified.")
    outcome = "blocked" if data.absolute else ("modify" if data.relative else "clear")
    screening = Screening(
        trainee_id=trainee.id, session_date=data.session_date, case_code=(data.case_code or "").strip() or None,
        screened_by=data.screened_by, agreement_id=agreement.id if agreement else None,
        clearance_date=data.clearance_date if data.screened_by == "collaborator" else None,
        findings={k: (data.findings.get(k) or "").strip() for k, _ in STRUCTURES},
        absolute_contraindications=sorted(set(data.absolute)), relative_contraindications=sorted(set(data.relative)),
        modifications=data.modifications.strip(), outcome=outcome,
    )
    db.session.add(screening)
    db.session.flush()
    audit.record("screening.record", "screening", screening.id, actor=trainee, outcome=outcome,
                 route="D" if data.screened_by == "self" else "N")
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
