from flask import Blueprint, current_app, redirect, render_template, url_for
from flask_login import current_user, login_required

from lms.extensions import db
from lms.hours import ledger
from lms.standards.queries import hour_targets_for_user
from lms.training.models import Program

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    program = db.session.get(Program, current_app.config["DEFAULT_PROGRAM"])
    return render_template("main/index.html", program=program)


@bp.get("/dashboard")
@login_required
def dashboard():
    role = current_user.role
    if role == "trainee":
        return _trainee_dashboard()
    if role == "instructor":
        return redirect(url_for("hours.queue"))
    if role == "admin":
        return redirect(url_for("admin.trainees"))
    return redirect(url_for("certificates.bulk"))


def _trainee_dashboard():
    from lms.certificates.queries import certificates_for
    from lms.eligibility.service import decision_for
    from lms.training import operations as training

    program = db.session.get(Program, current_app.config["DEFAULT_PROGRAM"])
    enrollment = training.get_enrollment(current_user.id, program.id) if program else None
    progress = training.progress(enrollment) if enrollment else None
    gaps = training.prerequisite_gaps(current_user, program) if program and not enrollment else []
    entries, pending = ledger.recent_and_open(current_user.id)
    td = decision_for(current_user) if enrollment else None
    minutes = td.counted_minutes() if td else {}
    return render_template("main/trainee_dashboard.html", program=program, enrollment=enrollment, progress=progress,
                           gaps=gaps, entries=entries, minutes=minutes, pending=pending, td=td,
                           hour_targets=hour_targets_for_user(current_user.id, program) if program else {},
                           certificates=certificates_for(current_user.id))
