from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError

from lms.core.security import role_required
from lms.extensions import db, limiter
from lms.training import operations
from lms.training.content import render_markdown
from lms.training.models import Module, Program, QuizDraw

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
        flash(_("You cannot enroll yet.") + " " + " ".join(g.title for g in exc.gaps), "error")
        return redirect(url_for("training.program"))
    db.session.commit()
    flash(_("You are enrolled in %(program)s.", program=prog.title), "success")
    return redirect(url_for("training.program"))


def _module_or_404(prog: Program, slug: str) -> Module:
    module = db.session.execute(db.select(Module).filter_by(program_id=prog.id, slug=slug, is_active=True)).scalar()
    if module is None:
        abort(404)
    return module


def _enrollment_or_redirect(prog):
    enrollment = operations.get_enrollment(current_user.id, prog.id)
    if enrollment is None:
        flash(_("Enroll in the program to read its modules."), "info")
    return enrollment


def _check_context(enrollment, mod, *, result_id: int | None = None) -> dict:
    """What the knowledge-check section shows: the open form (a stored draw), or the wait; and the result of an
    attempt with its wrong items marked, explanations only once the module is passed or the attempts are used up."""
    attempts = operations.attempts_for(enrollment.id, mod.id)
    completion = operations.completion_for(enrollment.id, mod.id)
    until = operations.wait_until(mod, attempts)
    result = next((a for a in attempts if a.id == result_id), None) if result_id else None
    explanations = completion is not None or until is not None
    draw = None if until is not None or result is not None else operations.open_draw(enrollment, mod)
    return {"attempts": attempts, "completion": completion, "wait_until": until, "result": result,
            "review": operations.review(result, mod, explanations=explanations) if result else [],
            "explanations_open": explanations, "draw": draw,
            "items": operations.shown_items(draw, mod) if draw else [],
            "settings": operations.check_settings(mod), "online_hours": operations.online_hours(mod),
            "lab_hours": operations.lab_hours(mod)}


def _render_module(prog, mod, enrollment, form, *, status=200, chosen=None, result_id=None):
    context = _check_context(enrollment, mod, result_id=result_id)
    db.session.commit()  # a new draw is kept, so reopening the page shows the same questions
    return render_template("training/module.html", program=prog, module=mod, body=render_markdown(mod.body_md),
                           form=form, chosen=chosen or {}, **context), status


@bp.get("/modules/<slug>")
@role_required("trainee")
def module(slug: str):
    prog = _program()
    enrollment = _enrollment_or_redirect(prog)
    if enrollment is None:
        return redirect(url_for("training.program"))
    mod = _module_or_404(prog, slug)
    result_id = request.args.get("result", "")
    result_id = int(result_id) if result_id.isascii() and result_id.isdigit() and len(result_id) < 12 else None
    return _render_module(prog, mod, enrollment, FlaskForm(), result_id=result_id)


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
    draw_id = request.form.get("draw", "")
    draw = db.session.get(QuizDraw, int(draw_id)) if draw_id.isascii() and draw_id.isdigit() and \
        len(draw_id) < 12 else None
    if draw is None or draw.enrollment_id != enrollment.id or draw.module_id != mod.id:
        flash(_("That form does not match your knowledge check. Answer the questions shown below."), "error")
        return redirect(url_for("training.module", slug=slug, _anchor="check"))
    try:
        answers, missing = operations.read_responses(draw, request.form)
        if missing:
            flash(_("Answer every question before submitting (missing: %(numbers)s).",
                    numbers=", ".join(map(str, missing))), "error")
            chosen = {it["id"]: it["order"].index(answers[it["id"]]) for it in draw.items
                      if answers[it["id"]] is not None}
            return _render_module(prog, mod, enrollment, form, status=400, chosen=chosen)
        attempt, credited = operations.submit_knowledge_check(enrollment, mod, draw, answers, actor=current_user)
        db.session.commit()
    except operations.QuizError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("training.module", slug=slug, _anchor="check"))
    except IntegrityError:  # a parallel submission took the same attempt number or draw
        db.session.rollback()
        flash(_("Another submission of this check was being recorded at the same moment. Your attempts are listed "
                "below."), "error")
        return redirect(url_for("training.module", slug=slug, _anchor="check"))
    if attempt.passed:
        msg = _("You passed with %(percent)s%%.", percent=attempt.score_percent) + " "
        msg += _("%(hours)s online hours were credited.", hours=f"{float(operations.online_hours(mod)):g}") \
            if credited else _("The module's online hours were already credited.")
        flash(msg, "success")
    else:
        flash(_("You scored %(percent)s%%; the pass mark is %(mark)s%%. Review the module and try again.",
                percent=attempt.score_percent, mark=prog.pass_mark), "error")
    return redirect(url_for("training.module", slug=slug, result=attempt.id, _anchor="result"))
