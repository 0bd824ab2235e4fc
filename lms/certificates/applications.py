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
from lms.core.timeutil import utcnow
from lms.eligibility.service import decision_for
from lms.extensions import db
from lms.notifications import notify

ALREADY_PENDING = "Your application is already waiting for an administrator."


class ApplicationError(ValueError):
    pass


def apply(trainee, *, program_id: str) -> CertificateApplication:
    require_verified(trainee, ApplicationError)
    if current_certificate(trainee.id, program_id):
        raise ApplicationError("You already hold a current certificate.")
    pending = db.session.execute(sa.select(CertificateApplication.id).filter_by(
        trainee_id=trainee.id, program_id=program_id, status="pending").limit(1)).first()
    if pending:
        raise ApplicationError(ALREADY_PENDING)
    revoked = revoked_certificate(trainee.id, program_id)
    if revoked is not None and revoked.revocation.blocks_reissue:
        raise ApplicationError(f"Your certificate {revoked.serial} was revoked "
                               f"({revoked.revocation.category_label.lower()}). You can apply again once an "
                               "administrator has cleared that revocation.")
    td = decision_for(trainee, program_id)
    if td.decision is None or not td.decision.eligible:
        steps = " ".join(td.decision.next_steps[:3]) if td.decision else "Enroll in the program first."
        raise ApplicationError("You are not eligible yet. " + steps)
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
            raise ApplicationError("The trainee is no longer eligible: " + str(exc)) from exc
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
