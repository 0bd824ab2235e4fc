from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from lms.assessments import operations
from lms.assessments.models import Assessment
from lms.auth.models import User
from lms.core.params import ascii_int
from lms.core.security import role_required
from lms.eligibility.service import decision_for, decisions_for
from lms.extensions import db
from lms.training.models import Enrollment

bp = Blueprint("assessments", __name__)
GRADEBOOK_PAGE_SIZE = 50


def _trainee_or_404(trainee_id: int) -> User:
    trainee = db.get_or_404(User, trainee_id)
    if trainee.role != "trainee" or not operations.can_assess(current_user, trainee.id):
        abort(404)
    return trainee


@bp.get("/gradebook")
@role_required("instructor", "admin")
def gradebook():
    # One page of trainees at a time: the same queries for 1,000 trainees as for 10,000.
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    if current_user.has_role("admin"):
        stmt = db.select(Enrollment.user_id).distinct()
        total = db.session.execute(db.select(db.func.count()).select_from(stmt.subquery())).scalar_one()
        ids = list(db.session.execute(stmt.order_by(Enrollment.user_id).limit(GRADEBOOK_PAGE_SIZE)
                                      .offset((page - 1) * GRADEBOOK_PAGE_SIZE)).scalars())
    else:
        mine = sorted(operations.trainee_ids_for_instructor(current_user.id))
        total = len(mine)
        ids = mine[(page - 1) * GRADEBOOK_PAGE_SIZE:page * GRADEBOOK_PAGE_SIZE]
    decisions = decisions_for(ids) if ids else []
    return render_template("assessments/gradebook.html", decisions=decisions, page=page, total=total,
                           pages=max((total + GRADEBOOK_PAGE_SIZE - 1) // GRADEBOOK_PAGE_SIZE, 1))


@bp.get("/trainees/<int:trainee_id>")
@role_required("instructor", "admin")
def trainee(trainee_id: int):
    t = _trainee_or_404(trainee_id)
    td = decision_for(t)
    history = db.session.execute(
        db.select(Assessment).filter_by(trainee_id=t.id).order_by(Assessment.observed_on.desc(), Assessment.id.desc())
    ).scalars().all()
    amended = {a.amends_id for a in history if a.amends_id}
    return render_template("assessments/trainee.html", trainee=t, td=td, history=history, amended=amended,
                           form=FlaskForm(), today=date.today())


def _parse_observation(comp_ids: set[str]) -> tuple[operations.ObservationInput | None, list[str]]:
    errors = []
    comp = request.form.get("competency_id", "")
    if comp not in comp_ids:
        errors.append("Choose a competency.")
    try:
        observed_on = date.fromisoformat(request.form.get("observed_on", ""))
    except ValueError:
        observed_on = None
        errors.append("Enter the observation date.")
    level_raw = request.form.get("level", "")
    level = ascii_int(level_raw, 5) or 0
    if not 1 <= level <= 5:
        errors.append("Choose an entrustment level from 1 to 5.")
    comments = request.form.get("comments", "")[:4000]
    case_code = request.form.get("case_code", "")[:20]
    if errors:
        return None, errors
    return operations.ObservationInput(
        competency_id=comp, observed_on=observed_on, criteria_met=set(request.form.getlist("criteria")),
        critical_failure=request.form.get("critical_failure") == "y", level=level, comments=comments,
        case_code=case_code, simulated=request.form.get("simulated") == "y",
        assessor_reading=request.form.get("assessor_reading", "")[:20] or None), []


@bp.post("/trainees/<int:trainee_id>/assessments")
@role_required("instructor", "admin")
def record(trainee_id: int):
    t = _trainee_or_404(trainee_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    td = decision_for(t)
    if td.enrollment is None or td.standard is None:
        flash("The trainee is not enrolled under a standard yet.", "error")
        return redirect(url_for("assessments.trainee", trainee_id=t.id))
    comp_ids = {c["id"] for c in td.standard.data.get("competencies", [])}
    data, errors = _parse_observation(comp_ids)
    amends = None
    if request.form.get("amends_id", ""):
        amends_id = ascii_int(request.form["amends_id"])
        amends = db.session.get(Assessment, amends_id) if amends_id is not None else None
        if amends is None or amends.trainee_id != t.id:
            abort(404, description="The observation to amend does not exist for this trainee.")
    if errors:
        for e in errors:
            flash(e, "error")
        return redirect(url_for("assessments.trainee", trainee_id=t.id))
    try:
        a = operations.record_observation(t, td.enrollment, td.standard, data, actor=current_user, amends=amends,
                                          reason=request.form.get("amendment_reason", ""))
    except operations.AssessmentError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("assessments.trainee", trainee_id=t.id))
    db.session.commit()
    flash(f"{a.competency_id} observation signed: {'passes' if a.passed else 'does not pass'} "
          f"(level {a.level}).", "success")
    return redirect(url_for("assessments.trainee", trainee_id=t.id))


@bp.get("/assessments/<int:assessment_id>")
@role_required("trainee", "instructor", "admin")
def detail(assessment_id: int):
    a = db.get_or_404(Assessment, assessment_id)
    if current_user.role == "trainee" and a.trainee_id != current_user.id:
        abort(404)
    if current_user.role == "instructor" and not operations.can_assess(current_user, a.trainee_id):
        abort(404)
    amendment = db.session.execute(db.select(Assessment).filter_by(amends_id=a.id)).scalar_one_or_none()
    diff = operations.amendment_diff(a.amends, a) if a.amends else []
    return render_template("assessments/detail.html", a=a, amendment=amendment, diff=diff)
