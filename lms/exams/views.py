"""Trainee exam pages (start or resume a sitting, save answers, submit), the admin's view of the item bank, and
OSCE grading for instructors and admins. Domain rules live in ``lms.exams.operations``."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from lms.assessments.operations import can_assess
from lms.auth.models import User
from lms.core.params import ascii_int
from lms.core.security import role_required
from lms.core.timeutil import utcnow
from lms.eligibility.service import decision_for
from lms.exams import operations as ops
from lms.exams.models import ExamItem, ExamSitting, OsceResult
from lms.extensions import db

bp = Blueprint("exams", __name__)


def _own_decision():
    td = decision_for(current_user)
    if td.enrollment is None or td.standard is None:
        return td, None
    return td, ops.exam_of(td.standard)


@bp.get("/exam")
@role_required("trainee")
def index():
    td, exam = _own_decision()
    sittings, problem, current = [], "", None
    if exam:
        now = utcnow()
        current = ops.open_sitting(td.enrollment.id)
        if current is not None and ops.finalise_if_expired(current, now=now):
            db.session.commit()
            current = None
        sittings = ops.sittings_of(td.enrollment.id)
        problem = ops.start_problem(td.enrollment, td.standard, set(td.facts.completed_modules), now)
    req = next((r for r in (td.decision.requirements if td.decision else []) if r.id == "EXAM"), None)
    return render_template("exams/index.html", td=td, exam=exam, sittings=sittings, problem=problem,
                           current=current, requirement=req, form=FlaskForm())


@bp.post("/exam/start")
@role_required("trainee")
def start():
    if not FlaskForm().validate_on_submit():
        abort(400)
    td, exam = _own_decision()
    if not exam:
        flash(_("Your standard has no written exam, or you are not enrolled yet."), "error")
        return redirect(url_for("exams.index"))
    try:
        sitting, started = ops.start_sitting(current_user, td.enrollment, td.standard,
                                             set(td.facts.completed_modules))
    except ops.ExamError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("exams.index"))
    db.session.commit()
    if not started:
        flash(_("Your open sitting was resumed; the time limit has kept running since it started."), "info")
    return redirect(url_for("exams.sitting", sitting_id=sitting.id))


def _own_sitting(sitting_id: int) -> ExamSitting:
    sitting = db.session.get(ExamSitting, sitting_id)
    if sitting is None or sitting.trainee_id != current_user.id:
        abort(404)
    return sitting


@bp.get("/exam/sittings/<int:sitting_id>")
@role_required("trainee")
def sitting(sitting_id: int):
    s = _own_sitting(sitting_id)
    now = utcnow()
    if ops.finalise_if_expired(s, now=now):
        db.session.commit()
        flash(_("Time ran out: the sitting was submitted with the answers saved in time."), "info")
    if not s.is_open:
        return render_template("exams/result.html", s=s)
    left = max(0, int((s.deadline - now).total_seconds() // 60))
    return render_template("exams/sitting.html", s=s, items=ops.shown_items(s), minutes_left=left,
                           form=FlaskForm())


@bp.post("/exam/sittings/<int:sitting_id>/answer")
@role_required("trainee")
def answer(sitting_id: int):
    """Save the answers on the page (only those that changed become new records); submit when asked."""
    s = _own_sitting(sitting_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    now = utcnow()
    shown = ops.shown_items(s) if s.is_open else []
    try:
        for item in shown:
            raw = request.form.get(f"q-{item['position']}")
            if raw is None or raw == "":
                continue
            choice = ascii_int(raw, 50)
            if choice is None or choice >= len(item["choices"]):
                raise ops.ExamError(f"Question {item['position']}: choose one of the answers shown.")
            if choice != item["selected"]:
                ops.record_answer(s, current_user, position=item["position"], shown_choice=choice, now=now)
        if not s.is_open:
            raise ops.ExamError("This sitting has been submitted; answers can no longer change.")
        if request.form.get("action") == "submit":
            ops.submit_sitting(s, by="trainee", now=now)
    except ops.ExamError as exc:
        db.session.rollback()
        late = s.is_open and now > s.deadline
        if late:  # the late answers were not stored; the sitting is still submitted with what was saved in time
            ops.finalise_if_expired(db.session.get(ExamSitting, s.id), now=now)
            db.session.commit()
        flash(str(exc), "error")
        return redirect(url_for("exams.sitting", sitting_id=s.id))
    db.session.commit()
    if not s.is_open:
        flash(_("Your sitting was submitted."), "success")
    else:
        flash(_("Your answers were saved."), "success")
    return redirect(url_for("exams.sitting", sitting_id=s.id))


@bp.get("/admin/exam/items")
@role_required("admin")
def bank():
    items = db.session.execute(sa.select(ExamItem).order_by(ExamItem.program_id, ExamItem.domain,
                                                           ExamItem.item_key)).scalars().all()
    return render_template("exams/bank.html", items=items)


# --------------------------------------------------------------------------- OSCE


def _trainee_or_404(trainee_id: int) -> User:
    trainee = db.get_or_404(User, trainee_id)
    if trainee.role != "trainee" or not can_assess(current_user, trainee.id):
        abort(404)
    return trainee


@bp.get("/trainees/<int:trainee_id>/osce")
@role_required("instructor", "admin")
def osce(trainee_id: int):
    t = _trainee_or_404(trainee_id)
    td = decision_for(t)
    stations = ops.osce_of(td.standard).get("stations", []) if td.standard else []
    scale = ops.osce_of(td.standard).get("global_rating_scale", []) if td.standard else []
    history = db.session.execute(sa.select(OsceResult).filter_by(trainee_id=t.id)
                                 .order_by(OsceResult.assessed_on.desc(), OsceResult.id.desc())).scalars().all()
    titles = {s["id"]: s["title"] for s in stations}
    return render_template("exams/osce.html", trainee=t, td=td, stations=stations, scale=scale, history=history,
                           titles=titles, form=FlaskForm(), today=date.today())


@bp.post("/trainees/<int:trainee_id>/osce")
@role_required("instructor", "admin")
def record(trainee_id: int):
    t = _trainee_or_404(trainee_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    td = decision_for(t)
    back = redirect(url_for("exams.osce", trainee_id=t.id))
    if td.enrollment is None or td.standard is None:
        flash(_("The trainee is not enrolled under a standard yet."), "error")
        return back
    try:
        assessed_on = date.fromisoformat(request.form.get("assessed_on", ""))
    except ValueError:
        flash(_("Enter the date of the station."), "error")
        return back
    rating = ascii_int(request.form.get("global_rating"), 10)
    if rating is None:
        flash(_("Choose a global rating."), "error")
        return back
    data = ops.StationInput(station_id=request.form.get("station_id", "")[:40], assessed_on=assessed_on,
                            ticked=set(request.form.getlist("checklist")), global_rating=rating,
                            comments=request.form.get("comments", "")[:4000])
    try:
        result = ops.record_station(t, td.enrollment, td.standard, data, actor=current_user)
    except ops.ExamError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return back
    db.session.commit()
    outcome = (_("Station %(station)s: passed", station=result.station_id) if result.passed
               else _("Station %(station)s: not passed", station=result.station_id))
    flash(outcome + (f" ({'; '.join(result.failed_reasons)})" if result.failed_reasons else "") + ".",
          "success" if result.passed else "info")
    return back
