"""Trainees apply for their certificate; an admin approves (which issues it) or declines."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from lms.auth.email_flows import require_verified
from lms.certificates.issuing import (
    NotEligible,
    current_certificate,
    issue_certificate,
    revocation_summary,
    revoked_certificate,
)
from lms.certificates.models import CertificateApplication
from lms.core import audit
from lms.core.phrases import _, join_phrases
from lms.core.timeutil import utcnow
from lms.eligibility.service import decision_for
from lms.extensions import db
from lms.notifications import notify

ALREADY_PENDING = _("Your application is already waiting for an administrator.")


class ApplicationError(ValueError):
    """Why an application cannot go ahead; a message with several points has one point per line."""


# Phrases: English in errors and logs, the reader's language on the page (the decision's next steps are phrases too).
NOT_ENROLLED = _("You are not enrolled in the program yet. Enroll first, from the Modules page.")
NOT_ELIGIBLE = _("You are not eligible yet. What to do next:")


def reasons_not_to_apply(trainee, *, program_id: str) -> list[str]:
    """Why ``trainee`` cannot apply now, each reason a sentence (an empty list: they can apply).

    The page shows these beside a disabled button; ``apply`` refuses with the same words. Not being eligible
    yields its heading followed by the decision's next steps, one item each.
    """
    try:
        require_verified(trainee, ApplicationError)
    except ApplicationError as exc:
        return [str(exc)]
    if current_certificate(trainee.id, program_id):
        return [_("You already hold a current certificate.")]
    pending = db.session.execute(sa.select(CertificateApplication.id).filter_by(
        trainee_id=trainee.id, program_id=program_id, status="pending").limit(1)).first()
    if pending:
        return [ALREADY_PENDING]
    revoked = revoked_certificate(trainee.id, program_id)
    if revoked is not None and revoked.revocation.blocks_reissue:
        return [f"Your certificate {revoked.serial} was revoked ({revoked.revocation.category_label.lower()}). "
                "You can apply again once an administrator has cleared that revocation."]
    td = decision_for(trainee, program_id)
    if td.decision is None:
        return [NOT_ENROLLED]
    if not td.decision.eligible:
        return [NOT_ELIGIBLE, *td.decision.next_steps]
    return []


def apply(trainee, *, program_id: str) -> CertificateApplication:
    reasons = reasons_not_to_apply(trainee, program_id=program_id)
    if reasons:
        raise ApplicationError(join_phrases("\n", reasons))
    app = CertificateApplication(trainee_id=trainee.id, program_id=program_id)
    try:
        # A partial unique index allows one pending application per trainee and program: when two requests race,
        # the loser's insert fails there and it gets the same answer as if it had come second.
        with db.session.begin_nested():
            db.session.add(app)
    except IntegrityError:
        raise ApplicationError(ALREADY_PENDING) from None
    audit.record("certificate.apply", "application", app.id, actor=trainee)
    return app


def decide(application: CertificateApplication, *, approve: bool, actor, note: str = ""):
    if application.status != "pending":
        raise ApplicationError("This application has already been decided.")
    if actor.id == application.trainee_id:
        raise ApplicationError("Nobody decides on their own application.")
    if approve:
        revoked = revoked_certificate(application.trainee_id, application.program_id)
        if revoked is not None and not note.strip():
            raise ApplicationError(f"{revocation_summary(revoked)}. Approving issues a replacement: give the reason "
                                   "for the reissue in the note.")
        try:
            result = issue_certificate(application.trainee, actor=actor, program_id=application.program_id,
                                       reissue_reason=note if revoked is not None else None)
        except NotEligible as exc:
            still_open = [r.title for r in exc.decision.open_requirements if r.applies] if exc.decision else [str(exc)]
            raise ApplicationError("\n".join(["The trainee is no longer eligible. Still open:", *still_open])) from exc
        application.certificate_id = result.certificate.id
    elif not note.strip():
        raise ApplicationError("Give the trainee a reason for declining.")
    application.status = "approved" if approve else "declined"
    application.note = note.strip()
    application.decided_by_id = actor.id
    application.decided_at = utcnow()
    db.session.flush()
    audit.record(f"certificate.application_{application.status}", "application", application.id, actor=actor)
    notify(application.trainee, f"application.{application.status}", application)
    return application
