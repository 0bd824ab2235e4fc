from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from lms.core.security import role_required
from lms.extensions import db, limiter
from lms.training import operations
from lms.training.content import render_markdown
from lms.training.models import Module, Program, QuizAttempt

bp = Blueprint("training", __name__)


def _program() -> Program:
    program = db.session.get(Program, current_app.config["DEFAULT_PROGRAM"])
    if program is None:
        abort(404)
    return program


@bp.get("/program")
@role_required("trainee")
def program():
    prog = _program()
    enrollment = operations.get_enrollment(current_user.id, prog.id)
    gaps = [] if enrollment else operations.prerequisite_gaps(current_user, prog)
    progress = operations.progress(enrollment) if enrollment else None
    modules = progress["modules"] if progress else [m for m in prog.modules if m.is_active]
    return render_template("training/program.html", program=prog, enrollment=enrollment, gaps=gaps,
                           progress=progress, modules=modules, form=FlaskForm())


@bp.post("/program/enroll")
@role_required("trainee")
def enroll():
    prog = _program()
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        operations.enroll(current_user, prog)
    except operations.EnrollmentError as exc:
        db.session.rollback()
        flash("You cannot enroll yet. " + " ".join(g.title for g in exc.gaps), "error")
        return redirect(url_for("training.program"))
    db.session.commit()
    flash(f"You are enrolled in {prog.title}.", "success")
    return redirect(url_for("training.program"))


def _module_or_404(prog: Program, slug: str) -> Module:
    module = db.session.execute(db.select(Module).filter_by(program_id=prog.id, slug=slug, is_active=True)).scalar()
    if module is None:
        abort(404)
    return module


def _enrollment_or_redirect(prog):
    enrollment = operations.get_enrollment(current_user.id, prog.id)
    if enrollment is None:
        flash("Enroll in the program to read its modules.", "info")
    return enrollment


@bp.get("/modules/<slug>")
@role_required("trainee")
def module(slug: str):
    prog = _program()
    enrollment = _enrollment_or_redirect(prog)
    if enrollment is None:
        return redirect(url_for("training.program"))
    mod = _module_or_404(prog, slug)
    attempts = db.session.execute(
        db.select(QuizAttempt).filter_by(enrollment_id=enrollment.id, module_id=mod.id).order_by(QuizAttempt.id.desc())
    ).scalars().all()
    completion = operations.completion_for(enrollment.id, mod.id)
    return render_template("training/module.html", program=prog, module=mod, body=render_markdown(mod.body_md),
                           attempts=attempts, completion=completion, form=FlaskForm(), result=None)


def _knowledge_check_limit():
    return current_app.config["KNOWLEDGE_CHECK_RATE_LIMIT"]


def _per_trainee():
    # The limit is checked before the role check, so an anonymous request is keyed by its address.
    who = current_user.id if current_user.is_authenticated else request.remote_addr
    return f"knowledge-check:{who}"


@bp.post("/modules/<slug>/check")
@role_required("trainee")
@limiter.limit(_knowledge_check_limit, key_func=_per_trainee,
               error_message="You have submitted many knowledge checks in a short time. Please review the module "
                             "and try again later.")
def knowledge_check(slug: str):
    prog = _program()
    enrollment = _enrollment_or_redirect(prog)
    if enrollment is None:
        return redirect(url_for("training.program"))
    mod = _module_or_404(prog, slug)
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    answers: dict[str, int | None] = {}
    missing = []
    for i, q in enumerate(mod.questions, start=1):
        raw = request.form.get(f"q-{q['id']}", "")
        # ASCII digits only: str.isdigit() also accepts characters such as '²' that int() rejects.
        if raw.isascii() and raw.isdigit() and int(raw) < len(q["choices"]):
            answers[q["id"]] = int(raw)
        else:
            answers[q["id"]] = None
            missing.append(i)
    if missing:
        flash("Answer every question before submitting (missing: " + ", ".join(map(str, missing)) + ").", "error")
        attempts = db.session.execute(
            db.select(QuizAttempt).filter_by(enrollment_id=enrollment.id, module_id=mod.id)
            .order_by(QuizAttempt.id.desc())).scalars().all()
        return render_template("training/module.html", program=prog, module=mod, body=render_markdown(mod.body_md),
                               attempts=attempts, completion=operations.completion_for(enrollment.id, mod.id),
                               form=form, result=None, chosen=answers), 400
    attempt, credited = operations.submit_knowledge_check(enrollment, mod, answers, actor=current_user)
    db.session.commit()
    if attempt.passed:
        msg = f"You passed with {attempt.score_percent}%."
        msg += f" {float(mod.didactic_hours):g} didactic hours were credited." if credited else \
            " The module's hours were already credited."
        flash(msg, "success")
    else:
        flash(f"You scored {attempt.score_percent}%; the pass mark is {prog.pass_mark}%. Review the module and "
              "try again.", "error")
    return redirect(url_for("training.module", slug=slug, _anchor="check"))
