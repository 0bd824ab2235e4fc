from datetime import date
from decimal import Decimal, InvalidOperation

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from lms.assessments.operations import acts_for, trainee_ids_for_instructor
from lms.certificates.issuing import current_certificate
from lms.core.params import ascii_int
from lms.core.phrases import localise
from lms.core.security import role_required
from lms.core.uploads import UploadError, store_upload
from lms.core.views import act_and_redirect
from lms.extensions import db
from lms.providers.operations import add_evidence
from lms.renewal import operations
from lms.renewal.models import CE_TOPICS, ContinuingEducation, RenewalRequest

bp = Blueprint("renewal", __name__)


def _attested(cert) -> int:
    """The sessions the holder attested for ``cert``: their newest kept attestation (0 when none)."""
    record = operations.latest_attestation(cert) if cert else None
    return record.sessions if record else 0


def _page(status=200):
    cert = current_certificate(current_user.id, current_app.config["DEFAULT_PROGRAM"])
    credits = (
        db.session.execute(
            db.select(ContinuingEducation)
            .filter_by(trainee_id=current_user.id)
            .order_by(ContinuingEducation.completed_on.desc())
        )
        .scalars()
        .all()
    )
    requests = (
        db.session.execute(
            db.select(RenewalRequest).filter_by(trainee_id=current_user.id).order_by(RenewalRequest.id.desc())
        )
        .scalars()
        .all()
    )
    attestation = operations.latest_attestation(cert) if cert else None
    attested = attestation.sessions if attestation else 0
    decision = operations.renewal_decision(cert, attested_sessions=attested) if cert else None
    return render_template(
        "renewal/index.html",
        cert=cert,
        credits=credits,
        requests=requests,
        decision=decision,
        topics=CE_TOPICS,
        form=FlaskForm(),
        attested=attested,
        attestation=attestation,
        today=date.today(),
    ), status


@bp.get("/renewal")
@role_required("trainee")
def index():
    return _page()


@bp.post("/renewal/ce")
@role_required("trainee")
def record_ce():
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        completed_on = date.fromisoformat(request.form.get("completed_on", ""))
        hours = Decimal(request.form.get("hours", ""))
    except (ValueError, InvalidOperation):
        flash(_("Enter the completion date and the hours as a number."), "error")
        return _page(400)
    upload = request.files.get("evidence")
    if upload is None or not upload.filename:
        flash(_("Attach the certificate of completion (PDF, PNG or JPEG)."), "error")
        return _page(400)
    try:
        stored = store_upload(
            upload.stream, upload.filename, current_app.config["INSTANCE_PATH"], current_app.config["UPLOAD_MAX_BYTES"]
        )
        evidence = add_evidence(current_user, "ce_credit", stored)
        operations.record_ce(
            current_user,
            title=request.form.get("title", "")[:200],
            provider=request.form.get("provider", "")[:200],
            topic=request.form.get("topic", ""),
            hours=hours,
            completed_on=completed_on,
            evidence=evidence,
        )
    except (UploadError, operations.RenewalError) as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _page(422)
    db.session.commit()
    flash(_("Continuing-education credit recorded. It counts once an instructor or administrator verifies it."),
          "success")
    return redirect(url_for("renewal.index"))


def _sessions(raw: str | None) -> int:
    value = ascii_int((raw or "").strip(), operations.MAX_SESSIONS)
    if value is None:
        raise operations.RenewalError(f"Enter a whole number of sessions from 0 to {operations.MAX_SESSIONS}.")
    return value


def _certificate_to_renew():
    """The signed-in holder's current certificate for a renewal form (400 without a valid form token)."""
    if not FlaskForm().validate_on_submit():
        abort(400)
    cert = current_certificate(current_user.id, current_app.config["DEFAULT_PROGRAM"])
    if cert is None:
        flash(_("You have no current certificate to renew."), "error")
        abort(redirect(url_for("renewal.index")))
    return cert


@bp.post("/renewal/attestation")
@role_required("trainee")
def attest():
    cert = _certificate_to_renew()
    raw = request.form.get("attested_sessions")
    return act_and_redirect(
        lambda: operations.attest_practice(current_user, cert, sessions=_sessions(raw)),
        target=url_for("renewal.index"),
        success=lambda record: _("Attestation saved: %(n)s sessions in this cycle.", n=record.sessions),
    )


@bp.post("/renewal/request")
@role_required("trainee")
def request_renewal():
    cert = _certificate_to_renew()
    try:
        sent = request.form.get("attested_sessions")
        if sent is not None:  # a figure sent with the request is kept as the holder's attestation first
            operations.attest_practice(current_user, cert, sessions=_sessions(sent))
        operations.request_renewal(current_user, cert, attested_sessions=_attested(cert))
    except operations.RenewalError as exc:
        db.session.rollback()
        flash(localise(exc), "error")
        return redirect(url_for("renewal.index"))
    db.session.commit()
    flash(_("Your renewal request was sent to the administrators."), "success")
    return redirect(url_for("renewal.index"))


@bp.get("/renewal/review")
@role_required("instructor", "admin")
def review():
    stmt = db.select(ContinuingEducation).filter_by(status="pending").order_by(ContinuingEducation.created_at)
    if not current_user.has_role("admin"):
        stmt = stmt.where(ContinuingEducation.trainee_id.in_(trainee_ids_for_instructor(current_user.id)))
    credits = db.session.execute(stmt).scalars().all()
    requests = (
        db.session.execute(db.select(RenewalRequest).filter_by(status="pending").order_by(RenewalRequest.created_at))
        .scalars()
        .all()
        if current_user.has_role("admin")
        else []
    )
    return render_template(
        "renewal/review.html", credits=credits, requests=requests, topics=CE_TOPICS, form=FlaskForm()
    )


@bp.post("/renewal/ce/<int:credit_id>/decide")
@role_required("instructor", "admin")
def decide_ce(credit_id: int):
    credit = db.get_or_404(ContinuingEducation, credit_id)
    # Nobody acts for themselves: the operation says so in words; anyone else must act for the trainee.
    if credit.trainee_id != current_user.id and not acts_for(current_user, credit.trainee_id):
        abort(404)
    if not FlaskForm().validate_on_submit():
        abort(400)
    return act_and_redirect(
        lambda: operations.decide_ce(
            credit, request.form.get("decision", ""), actor=current_user, reason=request.form.get("reason", "")[:2000]
        ),
        target=url_for("renewal.review"),
        success=lambda _: f"Credit {credit.id} {credit.status}.",
    )


@bp.post("/renewal/requests/<int:request_id>/decide")
@role_required("admin")
def decide_request(request_id: int):
    req = db.get_or_404(RenewalRequest, request_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    return act_and_redirect(
        lambda: operations.decide_renewal(
            req,
            approve=request.form.get("decision") == "approve",
            actor=current_user,
            note=request.form.get("note", "")[:2000],
        ),
        target=url_for("renewal.review"),
        success=lambda _: f"Renewal request {req.id} {req.status}.",
    )
