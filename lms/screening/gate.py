"""The intraoral screening gate: what a screening must hold before an intraoral session may be logged.

Route D (dental hygienists, dentists, dental therapists) screen their own patients. Route N trainees rely on the
collaborating dental professional's clearance, which must fall within the standard's validity window and come under
a verified, current collaboration agreement.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from lms.eligibility.facts import DENTAL_PROFESSIONS
from lms.extensions import db
from lms.screening.checklist import CLEARANCE_EVENT_LABELS, actions_for
from lms.screening.models import CollaborationAgreement, Screening

DEFAULT_CLEARANCE_DAYS = 183


def is_dental(trainee) -> bool:
    """Route D: only a dental profession on a licence an admin has verified (never a profession typed on a profile)."""
    from lms.providers.operations import verified_licence

    licence = verified_licence(trainee.id)
    return bool(licence and licence.profession in DENTAL_PROFESSIONS)


def clearance_days_for(trainee) -> int:
    from lms.standards.queries import standard_for_user

    standard = standard_for_user(trainee.id)
    if standard:
        return int(standard.data.get("screening", {}).get("clearance_valid_days", DEFAULT_CLEARANCE_DAYS))
    return DEFAULT_CLEARANCE_DAYS


def agreement_current(agreement: CollaborationAgreement | None, on: date) -> bool:
    return bool(agreement and agreement.status == "verified" and agreement.valid_from <= on <= agreement.valid_until)


def current_agreement(trainee_id: int, on: date) -> CollaborationAgreement | None:
    return db.session.execute(
        sa.select(CollaborationAgreement).where(
            CollaborationAgreement.trainee_id == trainee_id, CollaborationAgreement.status == "verified",
            CollaborationAgreement.valid_from <= on, CollaborationAgreement.valid_until >= on,
        ).order_by(CollaborationAgreement.valid_until.desc()).limit(1)
    ).scalar_one_or_none()


def screening_problem(trainee, screening: Screening, session_date: date, case_code: str | None = None) -> str | None:
    """Why this screening does not allow an intraoral session of ``case_code`` on ``session_date`` (None when it
    does)."""
    from lms.screening.operations import normalize_case_code

    if screening.trainee_id != trainee.id:
        return "Choose one of your own screenings."
    if screening.session_date != session_date:
        return (f"The screening is for {screening.session_date.isoformat()}, but the session is on "
                f"{session_date.isoformat()}. Every intraoral session needs its own pre-treatment screening.")
    entry_case = normalize_case_code(case_code)
    if not entry_case:
        return ("Enter the case number of this session. It must be the case the screening was made for "
                f"({screening.case_code or 'no case number'}).")
    if normalize_case_code(screening.case_code) != entry_case:
        return (f"The screening is for case {screening.case_code or '(none)'}, but this session is for case "
                f"{entry_case}. A screening clears sessions of its own patient only: screen case {entry_case} "
                "first.")
    if screening.absolute_contraindications:
        actions = " ".join(actions_for(screening.absolute_contraindications))
        return (f"The screening found an absolute contraindication. Do not treat intraorally. {actions} A new "
                "screening must be clear before intraoral work.")
    if screening.clearance_events:
        events = ", ".join(CLEARANCE_EVENT_LABELS.get(e, e).lower() for e in screening.clearance_events)
        return (f"The dental clearance ended when something new happened ({events}). Ask your collaborating dental "
                "professional for a new clearance of this patient, then record a new screening.")
    if screening.relative_contraindications and not screening.modifications.strip():
        return "The screening found a relative contraindication but no modification of the plan was noted."
    if screening.screened_by == "collaborator":
        if not agreement_current(screening.agreement, session_date):
            return ("The dental clearance is not covered by a verified collaboration agreement that is current on the "
                    "session date. Upload or renew your agreement (Route N).")
        days = clearance_days_for(trainee)
        if screening.clearance_date is None or not 0 <= (session_date - screening.clearance_date).days <= days:
            return (f"The dental clearance must be dated within {days} days before the session. Ask your "
                    "collaborating dental professional for a new clearance.")
        if screening.clearance_document_id is None and not screening.clearance_reference:
            return ("The screening has no clearance document or letter reference from the dental professional. "
                    "Record a new screening with the clearance attached.")
    elif not is_dental(trainee):
        return ("Only dental hygienists, dentists and dental therapists with a verified license screen their own "
                "patients (Route D). Record the clearance of your collaborating dental professional instead "
                "(Route N).")
    return None


def check_screening_for_entry(trainee, screening_id: int | None, session_date: date,
                              case_code: str | None = None) -> str | None:
    if not screening_id:
        return ("Intraoral work needs a pre-treatment intraoral screening of that patient (or lab partner) on the "
                "day of the session. Record the screening first, then choose it here.")
    screening = db.session.get(Screening, screening_id)
    if screening is None:
        return "Choose one of your own screenings."
    return screening_problem(trainee, screening, session_date, case_code)
