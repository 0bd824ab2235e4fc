from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict

from lms.assessments.operations import acts_for, trainee_ids_for_instructor
from lms.core.security import role_required
from lms.core.uploads import UploadError, store_upload
from lms.core.views import act_and_redirect
from lms.extensions import db
from lms.jurisdictions.data import JURISDICTIONS
from lms.providers.operations import add_evidence
from lms.screening import operations
from lms.screening.checklist import (
    ABSOLUTE,
    ABSOLUTE_LABELS,
    CLEARANCE_EVENT_LABELS,
    CLEARANCE_EVENTS,
    ITEMS,
    RELATIVE,
    RELATIVE_LABELS,
    STRUCTURES,
    actions_for,
)
from lms.screening.gate import clearance_days_for, is_dental
from lms.screening.models import CollaborationAgreement, Screening

bp = Blueprint("screening", __name__)


def _parse_date(name: str) -> date | None:
    try:
        return date.fromisoformat(request.form.get(name, ""))
    except ValueError:
        return None


def _page(status=200, form_values=None):
    screenings = (
        db.session.execute(
            db.select(Screening)
            .filter_by(trainee_id=current_user.id)
            .order_by(Screening.session_date.desc(), Screening.id.desc())
        )
        .scalars()
        .all()
    )
    agreements = (
        db.session.execute(
            db.select(CollaborationAgreement)
            .filter_by(trainee_id=current_user.id)
            .order_by(CollaborationAgreement.id.desc())
        )
        .scalars()
        .all()
    )
    return render_template(
        "screening/index.html",
        screenings=screenings,
        agreements=agreements,
        dental=is_dental(current_user),
        structures=STRUCTURES,
        absolute=ABSOLUTE,
        relative=RELATIVE,
        absolute_labels=ABSOLUTE_LABELS,
        relative_labels=RELATIVE_LABELS,
        jurisdictions=JURISDICTIONS,
        form=FlaskForm(),
        clearance_days=clearance_days_for(current_user),
        values=form_values if form_values is not None else MultiDict(),
        today=date.today(),
        items=ITEMS,
        clearance_events=CLEARANCE_EVENTS,
        clearance_event_labels=CLEARANCE_EVENT_LABELS,
    ), status


@bp.get("/screenings")
@role_required("trainee")
def index():
    return _page()


@bp.post("/screenings")
@role_required("trainee")
def record():
    if not FlaskForm().validate_on_submit():
        abort(400)
    # Every error below re-renders the page with what was sent, ticks included: a contraindication that was ticked
    # must never be lost, because the outcome is derived from the ticks alone.
    session_date = _parse_date("session_date")
    if session_date is None:
        flash(_("Enter the session date."), "error")
        return _page(400, request.form)
    screened_by = request.form.get("screened_by", "")
    upload = request.files.get("clearance_document")
    document = None
    try:
        if screened_by == "collaborator" and upload is not None and upload.filename:
            stored = store_upload(upload.stream, upload.filename, current_app.config["INSTANCE_PATH"],
                                  current_app.config["UPLOAD_MAX_BYTES"])
            document = add_evidence(current_user, "clearance", stored)
        data = operations.ScreeningInput(
            session_date=session_date,
            screened_by=screened_by,
            findings={k: request.form.get(f"finding-{k}", "")[:2000] for k, _ in STRUCTURES},
            absolute=request.form.getlist("absolute"),
            relative=request.form.getlist("relative"),
            modifications=request.form.get("modifications", "")[:2000],
            clearance_date=_parse_date("clearance_date"),
            case_code=request.form.get("case_code", "")[:40],
            clearance_document=document,
            clearance_reference=request.form.get("clearance_reference", "")[:200],
            clearance_events=request.form.getlist("clearance_event"),
            attested_no_change=request.form.get("attest_no_change") == "yes",
            lab_practice=request.form.get("lab_practice") == "yes",
        )
        screening = operations.record_screening(current_user, data)
    except (UploadError, operations.ScreeningError) as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _page(422, request.form)
    db.session.commit()
    if screening.outcome == "blocked":
        actions = actions_for(screening.absolute_contraindications)
        if screening.clearance_events:
            actions.append(_("The dental clearance has ended: ask your collaborating dental professional for a new "
                             "clearance of this patient."))
        flash(_("Screening recorded for case %(case)s. Do not treat intraorally.", case=screening.case_code) + " "
              + " ".join(actions), "error")
    elif screening.outcome == "modify":
        flash(_("Screening recorded for case %(case)s with a modified plan. You can now log that case's intraoral "
                "session of the same day against it.", case=screening.case_code), "success")
    else:
        flash(_("Screening recorded for case %(case)s: no contraindication found. You can now log that case's "
                "intraoral session of the same day against it.", case=screening.case_code), "success")
    return redirect(url_for("screening.index"))


@bp.post("/agreements")
@role_required("trainee")
def submit_agreement():
    if not FlaskForm().validate_on_submit():
        abort(400)
    valid_from, valid_until = _parse_date("valid_from"), _parse_date("valid_until")
    name = request.form.get("dentist_name", "").strip()[:200]
    license_no = request.form.get("dentist_license", "").strip()[:60]
    jurisdiction = request.form.get("dentist_jurisdiction", "")
    upload = request.files.get("document")
    problems = []
    if not name:
        problems.append("Enter the dental professional's name.")
    if not license_no:
        problems.append("Enter their license number.")
    if jurisdiction not in JURISDICTIONS:
        problems.append("Choose the jurisdiction of their license.")
    if not valid_from or not valid_until:
        problems.append("Enter the agreement's start and end dates.")
    if upload is None or not upload.filename:
        problems.append("Attach the signed agreement (PDF, PNG or JPEG).")
    if problems:
        for p in problems:
            flash(p, "error")
        return _page(400, request.form)
    try:
        stored = store_upload(
            upload.stream, upload.filename, current_app.config["INSTANCE_PATH"], current_app.config["UPLOAD_MAX_BYTES"]
        )
        document = add_evidence(current_user, "agreement", stored)
        operations.submit_agreement(
            current_user,
            operations.AgreementInput(
                dentist_name=name,
                dentist_profession=request.form.get("dentist_profession", ""),
                dentist_license=license_no,
                dentist_jurisdiction=jurisdiction,
                valid_from=valid_from,
                valid_until=valid_until,
            ),
            document,
        )
    except (UploadError, operations.ScreeningError) as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _page(422, request.form)
    db.session.commit()
    flash(_("Your collaboration agreement was submitted for verification."), "success")
    return redirect(url_for("screening.index"))


@bp.get("/agreements/review")
@role_required("instructor", "admin")
def agreement_queue():
    stmt = (db.select(CollaborationAgreement)
            .where(CollaborationAgreement.status.in_(("pending", "verified")))
            .order_by(CollaborationAgreement.status, CollaborationAgreement.created_at))
    if not current_user.has_role("admin"):
        stmt = stmt.where(CollaborationAgreement.trainee_id.in_(trainee_ids_for_instructor(current_user.id)))
    agreements = db.session.execute(stmt).scalars().all()
    return render_template(
        "screening/agreement_queue.html", agreements=agreements, form=FlaskForm(), jurisdictions=JURISDICTIONS
    )


@bp.post("/agreements/<int:agreement_id>/decide")
@role_required("instructor", "admin")
def decide_agreement(agreement_id: int):
    agreement = db.get_or_404(CollaborationAgreement, agreement_id)
    # Nobody acts for themselves: the operation says so in words; anyone else must act for the trainee.
    if agreement.trainee_id != current_user.id and not acts_for(current_user, agreement.trainee_id):
        abort(404)
    if not FlaskForm().validate_on_submit():
        abort(400)
    return act_and_redirect(
        lambda: operations.decide_agreement(
            agreement,
            request.form.get("decision", ""),
            actor=current_user,
            reason=request.form.get("reason", "")[:2000],
        ),
        target=url_for("screening.agreement_queue"),
        success=lambda _: f"Agreement {agreement.id} is now {agreement.status}.",
    )
