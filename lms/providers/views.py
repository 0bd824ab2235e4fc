from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from lms.core.security import role_required
from lms.core.uploads import UploadError, download_name, open_upload, store_upload
from lms.core.views import act_and_redirect
from lms.extensions import db
from lms.providers import operations
from lms.providers.forms import DecisionForm, OmtCredentialForm, ProfileForm
from lms.providers.models import EvidenceFile, OmtCredential
from lms.providers.professions import PROFESSIONS

bp = Blueprint("providers", __name__)


def _profile_page(form, cred_form, status=200):
    creds = (
        db.session.execute(
            db.select(OmtCredential).filter_by(user_id=current_user.id).order_by(OmtCredential.id.desc())
        )
        .scalars()
        .all()
    )
    return render_template(
        "providers/profile.html", form=form, cred_form=cred_form, credentials=creds, professions=PROFESSIONS
    ), status


@bp.route("/profile", methods=["GET", "POST"])
@role_required("trainee")
def profile():
    p = current_user.profile
    form = ProfileForm(obj=p, infection_control_ack=bool(p and p.infection_control_ack_at))
    if form.validate_on_submit():
        operations.save_profile(current_user, form.data)
        db.session.commit()
        flash("Your profile was saved.", "success")
        return redirect(url_for("providers.profile"))
    return _profile_page(form, OmtCredentialForm(), 400 if request.method == "POST" else 200)


@bp.post("/profile/omt-credential")
@role_required("trainee")
def submit_credential():
    cred_form = OmtCredentialForm()
    if not cred_form.validate_on_submit():
        return _profile_page(ProfileForm(obj=current_user.profile), cred_form, 400)
    try:
        stored = store_upload(
            cred_form.evidence.data.stream,
            cred_form.evidence.data.filename,
            current_app.config["INSTANCE_PATH"],
            current_app.config["UPLOAD_MAX_BYTES"],
        )
    except UploadError as exc:
        cred_form.evidence.errors = [str(exc)]
        return _profile_page(ProfileForm(obj=current_user.profile), cred_form, 400)
    evidence = operations.add_evidence(current_user, "omt_credential", stored)
    operations.submit_omt_credential(
        current_user,
        provider_name=cred_form.provider_name.data,
        course_hours=cred_form.course_hours.data,
        completed_on=cred_form.completed_on.data,
        evidence=evidence,
    )
    db.session.commit()
    flash("Your OMT credential was submitted. An instructor or administrator will verify it.", "success")
    return redirect(url_for("providers.profile"))


@bp.get("/evidence/<int:file_id>")
@role_required("trainee", "instructor", "admin")
def evidence(file_id: int):
    ev = db.get_or_404(EvidenceFile, file_id)
    if current_user.role == "trainee" and ev.owner_id != current_user.id:
        abort(404)
    try:
        stored = open_upload(ev.stored_name)
    except (UploadError, FileNotFoundError):
        abort(404)
    resp = send_file(
        stored,
        mimetype=ev.content_type,
        as_attachment=True,
        download_name=download_name(ev.original_name, ev.content_type),
    )
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return resp


@bp.get("/credentials")
@role_required("instructor", "admin")
def credential_queue():
    pending = (
        db.session.execute(db.select(OmtCredential).filter_by(status="pending").order_by(OmtCredential.created_at))
        .scalars()
        .all()
    )
    return render_template("providers/credential_queue.html", pending=pending, form=DecisionForm())


@bp.post("/credentials/<int:cred_id>/decide")
@role_required("instructor", "admin")
def decide_credential(cred_id: int):
    cred = db.get_or_404(OmtCredential, cred_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        for errs in form.errors.values():
            for e in errs:
                flash(e, "error")
        return redirect(url_for("providers.credential_queue")), 303
    return act_and_redirect(
        lambda: operations.decide_omt_credential(
            cred, decision=form.decision.data, reason=form.reason.data or "", actor=current_user
        ),
        target=url_for("providers.credential_queue"),
        success=lambda _: f"Credential of {cred.user.name} {cred.status}.",
    )
