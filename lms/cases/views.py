import json
from datetime import date

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.cases import fhir, operations, outcomes, pages
from lms.cases.forms import CaseForm, LetterForm, MeasureForm
from lms.cases.models import CONDITION_LABELS, Case, CaseMeasure
from lms.core.security import role_required
from lms.core.uploads import UploadError, store_upload
from lms.extensions import db
from lms.providers.operations import add_evidence

bp = Blueprint("cases", __name__, url_prefix="/cases")
outcomes_bp = Blueprint("outcomes", __name__, url_prefix="/admin/outcomes")

MAX_ID = 2**31 - 1


def _agreements():
    from lms.screening.models import CollaborationAgreement

    return list(db.session.execute(sa.select(CollaborationAgreement).filter_by(trainee_id=current_user.id)
                                   .order_by(CollaborationAgreement.valid_from.desc())).scalars())


def _visible_case(case_id: int) -> Case:
    case = db.session.get(Case, case_id)
    if case is None or not operations.can_view(current_user, case):
        abort(404)
    return case


def _own_case(case_id: int) -> Case:
    case = db.session.get(Case, case_id)
    if case is None or case.trainee_id != current_user.id:
        abort(404)
    return case


def _index_page(form, status=200):
    return render_template("cases/index.html", rows=pages.portfolio(current_user.id), form=form,
                           owner=current_user, own=True), status


@bp.get("/")
@role_required("trainee")
def index():
    return _index_page(CaseForm(agreements=_agreements()))


@bp.post("/")
@role_required("trainee")
def save():
    form = CaseForm(agreements=_agreements())
    if not form.validate_on_submit():
        return _index_page(form, 400)
    data = operations.CaseInput(code=form.code.data, condition=form.condition.data, age_band=form.age_band.data,
                                consent_recorded=bool(form.consent_recorded.data), consent_on=form.consent_on.data,
                                agreement_id=form.agreement_id.data or None, summary=form.summary.data or "")
    try:
        case = operations.save_case(current_user, data)
    except operations.CaseError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _index_page(form, 422)
    db.session.commit()
    flash(_("Case %(code)s saved.", code=case.code), "success")
    return redirect(url_for("cases.show", case_id=case.id))


@bp.get(f"/trainee/<int(max={MAX_ID}):trainee_id>")
@role_required("instructor", "admin")
def trainee(trainee_id: int):
    from lms.assessments.operations import acts_for
    from lms.auth.models import User

    owner = db.session.get(User, trainee_id)
    if owner is None or not acts_for(current_user, trainee_id):
        abort(404)
    return render_template("cases/index.html", rows=pages.portfolio(trainee_id), form=None, owner=owner, own=False)


def _case_page(case, measure_form=None, letter_form=None, case_form=None, status=200):
    measures = operations.measures_of([case.id])[case.id]
    own = current_user.id == case.trainee_id
    if own:
        if measure_form is None:
            measure_form = MeasureForm(formdata=None, measured_on=date.today())
            correct = request.args.get("correct", "")
            if correct.isascii() and correct.isdigit():
                measure_form.corrects_id.data = correct  # checked against the case when posted
        letter_form = letter_form or LetterForm(formdata=None, sent_on=date.today())
        case_form = case_form or CaseForm(formdata=None, obj=case, agreements=_agreements())
        case_form.agreement_id.data = case.agreement_id or 0
    return render_template("cases/case.html", case=case, series=pages.series_for(case, measures),
                           documented=operations.is_documented(case, measures), sessions=pages.sessions_of(case),
                           corrections=pages.corrections_of(case), own=own, measure_form=measure_form,
                           letter_form=letter_form, case_form=case_form), status


@bp.get(f"/<int(max={MAX_ID}):case_id>")
@role_required("trainee", "instructor", "admin")
def show(case_id: int):
    return _case_page(_visible_case(case_id))


def _items(raw: str) -> list | None:
    raw = (raw or "").strip()
    return [part.strip() for part in raw.split(",")] if raw else None


@bp.post(f"/<int(max={MAX_ID}):case_id>/measures")
@role_required("trainee")
def record(case_id: int):
    case = _own_case(case_id)
    form = MeasureForm()
    if not form.validate_on_submit():
        return _case_page(case, measure_form=form, status=400)
    corrects = None
    if form.corrects_id.data:
        raw = form.corrects_id.data
        corrects = db.session.get(CaseMeasure, int(raw)) if raw.isascii() and raw.isdigit() and \
            int(raw) <= MAX_ID else None
        if corrects is None or corrects.case_id != case.id:
            abort(404)
    data = operations.MeasureInput(
        measure=form.measure.data, measured_on=form.measured_on.data, timepoint=form.timepoint.data,
        value=form.value.data, items=_items(form.items.data),
        method={"assisted": form.assisted.data, "overlap": form.overlap.data, "instrument": form.instrument.data},
        method_note=form.method_note.data or "")
    try:
        row = operations.record_measure(case, data, actor=current_user, corrects=corrects,
                                        reason=form.reason.data or "")
    except operations.CaseError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _case_page(case, measure_form=form, status=422)
    db.session.commit()
    flash(_("Recorded: %(value)s.", value=f"{row.value:g}"), "success")
    return redirect(url_for("cases.show", case_id=case.id))


@bp.post(f"/<int(max={MAX_ID}):case_id>/letters")
@role_required("trainee")
def submit(case_id: int):
    case = _own_case(case_id)
    form = LetterForm()
    if not form.validate_on_submit():
        return _case_page(case, letter_form=form, status=400)
    upload = request.files.get("document")
    try:
        document = None
        if upload is not None and upload.filename:
            stored = store_upload(upload.stream, upload.filename, current_app.config["INSTANCE_PATH"],
                                  current_app.config["UPLOAD_MAX_BYTES"])
            document = add_evidence(current_user, "case_letter", stored)
        operations.add_letter(case, operations.LetterInput(
            sent_on=form.sent_on.data, recipient=form.recipient.data, reference=form.reference.data or "",
            summary=form.summary.data or ""), actor=current_user, document=document)
    except (operations.CaseError, UploadError) as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _case_page(case, letter_form=form, status=422)
    db.session.commit()
    flash(_("Letter added to the case."), "success")
    return redirect(url_for("cases.show", case_id=case.id))


@bp.get(f"/<int(max={MAX_ID}):case_id>/fhir.json")
@role_required("trainee", "instructor", "admin")
def fhir_bundle(case_id: int):
    case = _visible_case(case_id)
    measures = operations.measures_of([case.id])[case.id]
    body = fhir.bundle(case, measures, [s.entry_date for s in pages.sessions_of(case)])
    return Response(json.dumps(body, indent=1), mimetype="application/fhir+json")


# --------------------------------------------------------------------------- admin outcomes


def _filters():
    condition = request.args.get("condition", "")
    profession = request.args.get("profession", "")
    return (condition if condition in CONDITION_LABELS else None), (profession[:40] or None)


@outcomes_bp.get("/")
@role_required("admin")
def report():
    condition, profession = _filters()
    data = outcomes.aggregate(condition=condition, profession=profession)
    professions = sorted(p for p in db.session.execute(
        outcomes.cases_query().with_only_columns(outcomes.profession_column()).distinct()).scalars() if p)
    return render_template("cases/outcomes.html", report=data, charts=pages.outcome_charts(data),
                           conditions=CONDITION_LABELS, professions=professions, condition=condition or "",
                           profession=profession or "")


@outcomes_bp.get("/outcomes.csv")
@role_required("admin")
def csv_download():
    condition, profession = _filters()
    return Response(outcomes.to_csv(outcomes.aggregate(condition=condition, profession=profession)),
                    mimetype="text/csv", headers={"Content-Disposition": 'attachment; filename="outcomes.csv"'})
