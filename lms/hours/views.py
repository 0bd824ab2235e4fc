from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm

from lms.auth.models import User
from lms.core.params import ascii_int, page_number
from lms.core.security import role_required
from lms.core.views import act_and_redirect
from lms.extensions import db
from lms.hours import attendance, ledger
from lms.hours.forms import AttendanceForm, HourDecisionForm, HourEntryForm
from lms.hours.models import CATEGORY_LABELS, STATUS_LABELS, HourEntry
from lms.screening.models import Screening
from lms.training.models import Program
from lms.training.operations import get_enrollment, online_credits

bp = Blueprint("hours", __name__, url_prefix="/hours")


def _supervisors():
    return (
        db.session.execute(
            db.select(User).where(User.role == "instructor", User.is_enabled.is_(True)).order_by(User.name)
        )
        .scalars()
        .all()
    )


def _screenings(trainee_id):
    return (
        db.session.execute(
            db.select(Screening).filter_by(trainee_id=trainee_id).order_by(Screening.session_date.desc()).limit(50)
        )
        .scalars()
        .all()
    )


MAX_ID = 2**31 - 1  # ids are 32-bit integers; a larger number would make the database raise, not miss


def _own_entry(raw: str) -> HourEntry | None:
    """The signed-in trainee's entry named by ``raw``; None when ``raw`` is empty, 404 for anything else."""
    if not raw:
        return None
    # ASCII digits only: str.isdigit() also accepts characters such as '²' that int() rejects.
    if not (raw.isascii() and raw.isdigit()) or int(raw) > MAX_ID:
        abort(404)
    entry = db.session.get(HourEntry, int(raw))
    if entry is None or entry.trainee_id != current_user.id:
        abort(404)
    return entry


def _context():
    program = db.session.get(Program, current_app.config["DEFAULT_PROGRAM"])
    enrollment = get_enrollment(current_user.id, program.id) if program else None
    return program, enrollment


def _page(form, corrects=None, status=200):
    from lms.eligibility.service import hours_count_from
    from lms.standards.queries import hour_targets_for_user

    program, enrollment = _context()
    page = page_number()
    entries, has_next = ledger.entries_page(current_user.id, page)
    # The same hours the decision counts: approved, not superseded, dated from the enrollment (or advanced standing).
    minutes = ledger.counted_minutes_by_category(
        current_user.id, hours_count_from(current_user.id, program.id, enrollment.enrolled_on)) if enrollment else {}
    return render_template(
        "hours/index.html",
        hour_targets=hour_targets_for_user(current_user.id, program) if program else {},
        form=form,
        program=program,
        enrollment=enrollment,
        entries=entries,
        page=page,
        has_next=has_next,
        superseded=ledger.superseded_ids(current_user.id),
        minutes=minutes,
        corrects=corrects,
        online=online_credits(enrollment) if enrollment else [],
    ), status


def _form(**kwargs):
    return HourEntryForm(supervisors=_supervisors(), screenings=_screenings(current_user.id), **kwargs)


@bp.get("/")
@role_required("trainee")
def index():
    corrects = _own_entry(request.args.get("correct", ""))
    form = _form(obj=corrects) if corrects else _form()
    if corrects:
        form.set_duration(corrects.minutes)
    return _page(form, corrects)


@bp.post("/")
@role_required("trainee")
def submit():
    program, enrollment = _context()
    if enrollment is None:
        flash(_("Enroll in the program before logging hours."), "error")
        return redirect(url_for("training.program"))
    form = _form()
    corrects = _own_entry(request.form.get("corrects_id", ""))
    if not form.validate_on_submit():
        return _page(form, corrects, 400)
    data = ledger.EntryInput(
        entry_date=form.entry_date.data,
        minutes=form.total_minutes,
        category=form.category.data,
        supervisor_id=form.supervisor_id.data,
        setting=form.setting.data,
        notes=form.notes.data or "",
        case_code=form.case_code.data,
        screening_id=form.screening_id.data or None,
        intraoral_lab=bool(form.intraoral_lab.data),
    )
    try:
        ledger.submit_entry(current_user, enrollment, data, daily_cap_hours=program.daily_cap_hours, corrects=corrects)
    except ledger.LedgerError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _page(form, corrects, 422)
    db.session.commit()
    flash(
        "Your hours were submitted to your supervisor."
        if not corrects
        else "Your correction was submitted. The original entry stays in your history.",
        "success",
    )
    return redirect(url_for("hours.index"))


@bp.get("/queue")
@role_required("instructor", "admin")
def queue():
    status = request.args.get("status", "submitted")
    if status not in STATUS_LABELS:
        status = "submitted"
    category = request.args.get("category") or None
    if category not in CATEGORY_LABELS:
        category = None
    trainee_id = ascii_int(request.args.get("trainee"))
    page = page_number()
    entries, has_next = ledger.queue_for(current_user, status=status, trainee_id=trainee_id, category=category,
                                         page=page)
    filters = {"status": status, "category": category or "", "trainee": trainee_id or ""}
    return render_template(
        "hours/queue.html", entries=entries, form=HourDecisionForm(), page=page, has_next=has_next, filters=filters,
        trainees=ledger.queue_trainees(current_user), categories=CATEGORY_LABELS, statuses=STATUS_LABELS,
        is_filtered=bool(category or trainee_id or status != "submitted"))


@bp.post("/queue/approve")
@role_required("instructor", "admin")
def approve_selected():
    if not FlaskForm().validate_on_submit():
        abort(400)
    ids = [i for i in (ascii_int(raw, MAX_ID) for raw in request.form.getlist("entry_id")[:100]) if i]
    if not ids:
        flash(_("Tick the entries to approve first."), "error")
        return redirect(url_for("hours.queue"))
    approved, refused = ledger.approve_many(ids, actor=current_user)
    db.session.commit()
    if approved:
        flash(ngettext("%(num)d entry approved.", "%(num)d entries approved.", len(approved)), "success")
    if refused:
        flash("\n".join([_("Not approved:"), *(_("Entry %(id)s: %(why)s", id=i, why=why) for i, why in refused)]),
              "error")
    return redirect(url_for("hours.queue"))


@bp.post(f"/<int(max={MAX_ID}):entry_id>/decide")
@role_required("instructor", "admin")
def decide(entry_id: int):
    entry = db.get_or_404(HourEntry, entry_id)
    if not current_user.has_role("admin") and entry.supervisor_id != current_user.id:
        abort(404)
    form = HourDecisionForm()
    if not form.validate_on_submit():
        flash(_("Choose a decision."), "error")
        return redirect(url_for("hours.queue"))
    return act_and_redirect(
        lambda: ledger.decide(entry, form.decision.data, actor=current_user, reason=form.reason.data or ""),
        target=url_for("hours.queue"),
        success=lambda _: f"Entry {entry.id} of {entry.trainee.name}: {entry.status_label.lower()}.",
    )


def _attendance_page(form, status=200):
    program = db.session.get(Program, current_app.config["DEFAULT_PROGRAM"])
    return render_template("hours/attendance.html", form=form, sessions=attendance.sessions_by(current_user),
                           program=program), status


def _attendance_form():
    program_id = current_app.config["DEFAULT_PROGRAM"]
    return AttendanceForm(modules=attendance.lab_modules(program_id),
                          trainees=attendance.attendees_for(current_user, program_id))


@bp.get("/attendance")
@role_required("instructor", "admin")
def attendance_index():
    return _attendance_page(_attendance_form())


@bp.post("/attendance")
@role_required("instructor", "admin")
def attendance_record():
    program = db.session.get(Program, current_app.config["DEFAULT_PROGRAM"])
    form = _attendance_form()
    if program is None or not form.validate_on_submit():
        return _attendance_page(form, 400)
    data = attendance.AttendanceInput(module_id=form.module_id.data, session_date=form.session_date.data,
                                      minutes=form.minutes.data, attendee_ids=list(form.attendees.data or []),
                                      setting=form.setting.data)
    try:
        session = attendance.record_attendance(current_user, data, program=program)
    except ledger.LedgerError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _attendance_page(form, 422)
    db.session.commit()
    flash(_("Attendance recorded: %(count)s attendee(s) credited %(minutes)s lab minutes of %(module)s.",
            count=len(session.credits), minutes=session.minutes, module=session.module.module_key), "success")
    return redirect(url_for("hours.attendance_index"))
