from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from lms.auth import operations as accounts
from lms.auth.forms import CreateUserForm
from lms.auth.models import User
from lms.certificates import applications as apps
from lms.certificates import issuing, verification
from lms.certificates.models import REVOCATION_CATEGORIES, Certificate, CertificateApplication
from lms.core.params import ascii_int, page_number
from lms.core.security import role_required
from lms.core.views import act_and_redirect
from lms.eligibility.service import decision_for, decisions_for
from lms.extensions import db
from lms.standards import operations as standard_ops
from lms.standards.models import StandardMove, StandardVersion
from lms.standards.queries import all_versions
from lms.training.models import Enrollment

bp = Blueprint("admin", __name__, url_prefix="/admin")
PAGE_SIZE = 50


@bp.get("/trainees")
@role_required("admin")
def trainees():
    page = page_number()
    q = request.args.get("q", "").strip()[:100]
    stmt = db.select(User.id).where(User.role == "trainee")
    if q:
        stmt = stmt.where(db.or_(User.name.ilike(f"%{q}%"), User.email.ilike(f"%{q}%")))
    total = db.session.execute(db.select(db.func.count()).select_from(stmt.subquery())).scalar_one()
    ids = list(db.session.execute(stmt.order_by(User.name).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).scalars())
    pending_apps = (
        db.session.execute(
            # The list shows each applicant's name: load them together, not one query per application.
            db.select(CertificateApplication).filter_by(status="pending").order_by(CertificateApplication.id)
            .options(db.selectinload(CertificateApplication.trainee))
        )
        .scalars()
        .all()
    )
    revoked = issuing.revoked_holders(current_app.config["DEFAULT_PROGRAM"]) if pending_apps else {}
    return render_template(
        "admin/trainees.html",
        revoked={a.trainee_id: revoked[a.trainee_id] for a in pending_apps if a.trainee_id in revoked},
        decisions=decisions_for(ids),
        page=page,
        total=total,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        q=q,
        applications=pending_apps,
        form=FlaskForm(),
    )


@bp.get("/trainees/<int:trainee_id>")
@role_required("admin")
def trainee(trainee_id: int):
    t = db.get_or_404(User, trainee_id)
    if t.role != "trainee":
        abort(404)
    td = decision_for(t)
    certs = (
        db.session.execute(db.select(Certificate).filter_by(trainee_id=t.id).order_by(Certificate.id.desc()))
        .scalars()
        .all()
    )
    moves = []
    if td.enrollment:
        moves = (
            db.session.execute(
                db.select(StandardMove).filter_by(enrollment_id=td.enrollment.id).order_by(StandardMove.id)
            )
            .scalars()
            .all()
        )
    from lms.providers.models import AdvancedStanding, Licence

    licences = db.session.execute(db.select(Licence).filter_by(trainee_id=t.id).order_by(Licence.id.desc())).scalars()
    standings = db.session.execute(
        db.select(AdvancedStanding).filter_by(trainee_id=t.id).order_by(AdvancedStanding.id.desc())).scalars()
    revoked = issuing.revoked_certificate(t.id, td.enrollment.program_id if td.enrollment else
                                          current_app.config["DEFAULT_PROGRAM"])
    return render_template(
        "admin/trainee.html",
        trainee=t,
        td=td,
        licences=list(licences),
        standings=list(standings),
        revoked=revoked,
        categories=REVOCATION_CATEGORIES,
        certificates=certs,
        form=FlaskForm(),
        versions=all_versions(td.enrollment.program_id) if td.enrollment else [],
        moves=moves,
        status_of=verification.status_of,
    )


@bp.post("/trainees/<int:trainee_id>/issue")
@role_required("admin")
def issue(trainee_id: int):
    t = db.get_or_404(User, trainee_id)
    if t.role != "trainee" or not FlaskForm().validate_on_submit():
        abort(404 if t.role != "trainee" else 400)
    reason = request.form.get("reissue_reason", "")[:2000].strip() or None
    try:
        result = issuing.issue_certificate(t, actor=current_user, reissue_reason=reason)
    except issuing.NotEligible as exc:
        db.session.rollback()
        reasons = [f"{r.title}: {r.reason}" for r in exc.decision.requirements if not r.met] if exc.decision else []
        flash("Not issued. " + str(exc) + (" Unmet: " + "; ".join(reasons[:6]) if reasons else ""), "error")
        return redirect(url_for("admin.trainee", trainee_id=t.id))
    db.session.commit()
    if result.created:
        flash(f"Certificate {result.certificate.serial} issued.", "success")
    else:
        flash(f"{t.name} already holds current certificate {result.certificate.serial}.", "info")
    return redirect(url_for("admin.trainee", trainee_id=t.id))


@bp.post("/enrollments/<int:enrollment_id>/standard")
@role_required("admin")
def move_standard(enrollment_id: int):
    enrollment = db.get_or_404(Enrollment, enrollment_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    version = db.session.get(StandardVersion, ascii_int(request.form.get("version_id")) or 0)
    if version is None:
        flash("Choose a standard version.", "error")
        return redirect(url_for("admin.trainee", trainee_id=enrollment.user_id))
    return act_and_redirect(
        lambda: standard_ops.move_enrollment(
            enrollment, version, actor=current_user, reason=request.form.get("reason", "")[:2000]
        ),
        target=url_for("admin.trainee", trainee_id=enrollment.user_id),
        success=lambda _: f"Enrollment moved to {version.label}.",
    )


@bp.post("/applications/<int:application_id>")
@role_required("admin")
def decide_application(application_id: int):
    application = db.get_or_404(CertificateApplication, application_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    return act_and_redirect(
        lambda: apps.decide(
            application,
            approve=request.form.get("decision") == "approve",
            actor=current_user,
            note=request.form.get("note", "")[:2000],
        ),
        target=url_for("admin.trainees"),
        success=lambda _: f"Application {application.id} {application.status}.",
    )


@bp.get("/certificates")
@role_required("admin")
def certificates():
    from lms.certificates.queries import search_certificates

    page = page_number()
    q = request.args.get("q", "").strip()[:200]
    certs, has_next = search_certificates(q, page=page, per_page=PAGE_SIZE)
    return render_template(
        "admin/certificates.html", certificates=certs, status_of=verification.status_of, form=FlaskForm(), page=page,
        categories=REVOCATION_CATEGORIES, q=q, has_next=has_next,
    )


def _posted_certificate(serial: str) -> Certificate:
    """The certificate an admin form acts on: 404 for an unknown serial, 400 without a valid CSRF token."""
    cert = verification.find(serial)
    if cert is None:
        abort(404)
    if not FlaskForm().validate_on_submit():
        abort(400)
    return cert


@bp.get("/certificates/<serial>/revoke")
@role_required("admin")
def revoke_form(serial: str):
    cert = verification.find(serial)
    if cert is None:
        abort(404)
    return render_template("admin/revoke.html", cert=cert, categories=REVOCATION_CATEGORIES, form=FlaskForm(),
                           status=verification.status_of(cert), category="", note="", problem=None)


@bp.post("/certificates/<serial>/revoke")
@role_required("admin")
def revoke(serial: str):
    """Two steps: the first POST shows what will happen (nothing is written); the second, confirmed, revokes."""
    cert = _posted_certificate(serial)
    category = request.form.get("category", "")
    note = request.form.get("reason", "")[:2000]
    problem = issuing.revocation_problem(cert, reason=note, category=category)
    if problem or request.form.get("confirm") != "yes":
        return render_template("admin/revoke.html", cert=cert, categories=REVOCATION_CATEGORIES, form=FlaskForm(),
                               status=verification.status_of(cert), category=category, note=note, problem=problem,
                               confirming=problem is None), 400 if problem else 200
    return act_and_redirect(
        lambda: issuing.revoke(cert, actor=current_user, reason=note, category=category),
        target=url_for("admin.certificates"),
        success=lambda _: f"Certificate {cert.serial} revoked ({REVOCATION_CATEGORIES[category].lower()}).",
    )


@bp.post("/certificates/<serial>/clear-revocation")
@role_required("admin")
def clear_revocation(serial: str):
    cert = _posted_certificate(serial)
    return act_and_redirect(
        lambda: issuing.clear_revocation(cert, actor=current_user, reason=request.form.get("reason", "")[:2000]),
        target=url_for("admin.trainee", trainee_id=cert.trainee_id),
        success=lambda _: f"The revocation of {cert.serial} no longer blocks a reissue.",
    )


@bp.route("/users", methods=["GET", "POST"])
@role_required("admin")
def users():
    form = CreateUserForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(
                email=form.email.data,
                name=form.name.data,
                role=form.role.data,
                password=form.password.data,
                profession=form.profession.data or None,
                actor=current_user,
            )
        except accounts.AccountError as exc:
            db.session.rollback()
            form.email.errors.append(str(exc))
        else:
            db.session.commit()
            flash(f"Account {user.email} ({user.role}) created.", "success")
            return redirect(url_for("admin.users"))
    all_users = (
        db.session.execute(db.select(User).where(User.role != "trainee").order_by(User.role, User.name)).scalars().all()
    )
    return render_template(
        "admin/users.html", form=form, users=all_users, toggle=FlaskForm()
    ), 400 if request.method == "POST" else 200


@bp.post("/users/<int:user_id>/enabled")
@role_required("admin")
def set_enabled(user_id: int):
    user = db.get_or_404(User, user_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    if user.id == current_user.id:
        flash("You cannot disable your own account.", "error")
        return redirect(url_for("admin.users"))
    accounts.set_enabled(user, request.form.get("enabled") == "1", actor=current_user)
    db.session.commit()
    flash(f"{user.email} is now {'enabled' if user.is_enabled else 'disabled'}; their sessions were ended.", "success")
    return redirect(url_for("admin.users"))


@bp.get("/standards")
@role_required("admin")
def standards():
    return render_template(
        "admin/standards.html", versions=all_versions(), program=current_app.config["DEFAULT_PROGRAM"]
    )


@bp.get("/items")
@role_required("admin")
def items():
    from lms.training.item_analysis import FEW_ATTEMPTS, TOO_EASY, TOO_HARD, program_item_analysis

    program_id = current_app.config["DEFAULT_PROGRAM"]
    return render_template("admin/items.html", modules=program_item_analysis(program_id), few=FEW_ATTEMPTS,
                           too_easy=TOO_EASY, too_hard=TOO_HARD)
