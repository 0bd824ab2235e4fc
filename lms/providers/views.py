from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from lms.assessments.operations import acts_for, trainee_ids_for_instructor
from lms.auth.models import User
from lms.core.security import role_required
from lms.core.uploads import UploadError, download_name, open_upload, store_upload
from lms.core.views import act_and_redirect
from lms.extensions import db
from lms.providers import operations
from lms.providers.forms import DecisionForm, LicenceDecisionForm, OmtCredentialForm, ProfileForm
from lms.providers.models import EvidenceFile, Licence, OmtCredential
from lms.providers.professions import PROFESSIONS

bp = Blueprint("providers", __name__)


def _profile_page(form, cred_form, status=200):
    licence = operations.current_licence(current_user.id)
    creds = (
        db.session.execute(
            db.select(OmtCredential).filter_by(user_id=current_user.id).order_by(OmtCredential.id.desc())
        )
        .scalars()
        .all()
    )
    instructors = db.session.execute(
        db.select(User).where(User.role == "instructor", User.is_enabled.is_(True)).order_by(User.name)).scalars()
    return render_template(
        "providers/profile.html", form=form, cred_form=cred_form, credentials=creds, professions=PROFESSIONS,
        licence=licence, links=operations.instructor_links(current_user.id), instructors=list(instructors),
        link_form=FlaskForm(),
    ), status


@bp.route("/profile", methods=["GET", "POST"])
@role_required("trainee")
def profile():
    p = current_user.profile
    form = ProfileForm(obj=p, infection_control_ack=bool(p and p.infection_control_ack_at))
    if form.validate_on_submit():
        data = dict(form.data)
        upload = form.licence_evidence.data
        if upload and getattr(upload, "filename", ""):
            try:
                stored = store_upload(upload.stream, upload.filename, current_app.config["INSTANCE_PATH"],
                                      current_app.config["UPLOAD_MAX_BYTES"])
            except UploadError as exc:
                form.licence_evidence.errors = [str(exc)]
                return _profile_page(form, OmtCredentialForm(), 400)
            data["licence_evidence"] = operations.add_evidence(current_user, "licence", stored)
        else:
            data["licence_evidence"] = None
        before = operations.current_licence(current_user.id)
        operations.save_profile(current_user, data)
        after = operations.current_licence(current_user.id)
        db.session.commit()
        if after is not None and (before is None or after.id != before.id):
            flash(_("Your profile was saved. Your license details are new or changed, so an administrator will verify "
                    "them with the licensing body; until then, requirements that depend on your license are not met."),
                  "info")
        else:
            flash(_("Your profile was saved."), "success")
        return redirect(url_for("providers.profile"))
    return _profile_page(form, OmtCredentialForm(), 400 if request.method == "POST" else 200)


@bp.post("/profile/omt-credential")
@role_required("trainee")
def submit_credential():
    cred_form = OmtCredentialForm()
    if not cred_form.validate_on_submit():
        return _profile_page(ProfileForm(obj=current_user.profile), cred_form, 400)
    if operations.has_pending_credential(current_user.id):  # checked before the file is stored
        flash(operations.PENDING_CREDENTIAL, "error")
        return _profile_page(ProfileForm(obj=current_user.profile), cred_form, 409)
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
    try:
        operations.submit_omt_credential(
            current_user,
            provider_name=cred_form.provider_name.data,
            course_hours=cred_form.course_hours.data,
            completed_on=cred_form.completed_on.data,
            evidence=evidence,
        )
    except operations.DecisionError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _profile_page(ProfileForm(obj=current_user.profile), cred_form, 409)
    db.session.commit()
    flash(_("Your OMT credential was submitted. An instructor or administrator will verify it."), "success")
    return redirect(url_for("providers.profile"))


@bp.get("/evidence/<int:file_id>")
@role_required("trainee", "instructor", "admin")
def evidence(file_id: int):
    ev = db.get_or_404(EvidenceFile, file_id)
    if ev.owner_id != current_user.id and not acts_for(current_user, ev.owner_id):
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
    resp.headers["Cache-Control"] = "no-store"  # private evidence: no copy in any cache, the browser's included
    return resp


@bp.get("/credentials")
@role_required("instructor", "admin")
def credential_queue():
    stmt = db.select(OmtCredential).filter_by(status="pending").order_by(OmtCredential.created_at)
    if not current_user.has_role("admin"):
        stmt = stmt.where(OmtCredential.user_id.in_(trainee_ids_for_instructor(current_user.id)))
    pending = db.session.execute(stmt).scalars().all()
    return render_template("providers/credential_queue.html", pending=pending, form=DecisionForm())


@bp.post("/credentials/<int:cred_id>/decide")
@role_required("instructor", "admin")
def decide_credential(cred_id: int):
    cred = db.get_or_404(OmtCredential, cred_id)
    # Nobody acts for themselves: the operation says so in words; anyone else must act for the trainee.
    if cred.user_id != current_user.id and not acts_for(current_user, cred.user_id):
        abort(404)
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


@bp.get("/licences")
@role_required("admin")
def licence_queue():
    pending = (
        db.session.execute(
            db.select(Licence).filter_by(status="pending").order_by(Licence.submitted_at)
            .options(db.selectinload(Licence.trainee))
        ).scalars().all()
    )
    # Only the newest record of a trainee is decided; older pending ones were replaced by a later change.
    newest = {}
    for lic in pending:
        newest[lic.trainee_id] = lic
    return render_template("providers/licence_queue.html", licences=list(newest.values()), form=LicenceDecisionForm())


@bp.post("/licences/<int:licence_id>/decide")
@role_required("admin")
def decide_licence(licence_id: int):
    lic = db.get_or_404(Licence, licence_id)
    form = LicenceDecisionForm()
    if not form.validate_on_submit():
        for errs in form.errors.values():
            for e in errs:
                flash(e, "error")
        return redirect(url_for("providers.licence_queue")), 303
    return act_and_redirect(
        lambda: operations.decide_licence(lic, decision=form.decision.data, actor=current_user,
                                          reference=form.reference.data or "", reason=form.reason.data or ""),
        target=url_for("providers.licence_queue"),
        success=lambda _: f"License of {lic.trainee.name}: {lic.status}.",
    )


@bp.post("/admin/trainees/<int:trainee_id>/standing")
@role_required("admin")
def record_standing(trainee_id: int):
    from datetime import date

    trainee = db.get_or_404(User, trainee_id)
    if trainee.role != "trainee":
        abort(404)
    if not FlaskForm().validate_on_submit():
        abort(400)
    target = url_for("admin.trainee", trainee_id=trainee.id)
    upload = request.files.get("evidence")
    if upload is None or not upload.filename:
        flash(_("Attach the evidence for the advanced standing."), "error")
        return redirect(target), 303
    try:
        hours_from = date.fromisoformat(request.form.get("hours_from", "")) if request.form.get("hours_from") else None
    except ValueError:
        flash(_("Enter the date from which earlier hours count."), "error")
        return redirect(target), 303

    def act():
        stored = store_upload(upload.stream, upload.filename, current_app.config["INSTANCE_PATH"],
                              current_app.config["UPLOAD_MAX_BYTES"])
        evidence = operations.add_evidence(trainee, "advanced_standing", stored)
        return operations.record_advanced_standing(
            trainee, program_id=current_app.config["DEFAULT_PROGRAM"], kind=request.form.get("kind", ""),
            reason=request.form.get("reason", "")[:2000], evidence=evidence, actor=current_user,
            hours_from=hours_from, credential=request.form.get("credential", "")[:200])

    return act_and_redirect(act, target=target, success=lambda _: "Advanced standing recorded.")


@bp.post("/profile/instructors")
@role_required("trainee")
def name_instructor():
    if not FlaskForm().validate_on_submit():
        abort(400)
    raw = request.form.get("instructor_id", "")
    instructor = db.session.get(User, int(raw)) if raw.isascii() and raw.isdigit() and int(raw) < 2**31 else None
    return act_and_redirect(lambda: operations.name_instructor(current_user, instructor),
                            target=url_for("providers.profile"),
                            success=lambda link: f"{link.instructor.name} can now act for you.")


@bp.post("/profile/instructors/<int:link_id>/end")
@role_required("trainee")
def end_instructor(link_id: int):
    from lms.providers.models import InstructorLink

    link = db.get_or_404(InstructorLink, link_id)
    if link.trainee_id != current_user.id:
        abort(404)
    if not FlaskForm().validate_on_submit():
        abort(400)
    return act_and_redirect(lambda: operations.end_instructor_link(current_user, link),
                            target=url_for("providers.profile"),
                            success=lambda lk: f"{lk.instructor.name} no longer acts for you.")
