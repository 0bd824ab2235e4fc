"""Admin reports: the cohort's certification status as CSV.

``GET /admin/reports/cohort.csv`` streams it for a cohort of up to ``STREAM_LIMIT`` trainees; a larger cohort is built
by a background job (:mod:`lms.admin.exports`): the admin asks for it on ``/admin/reports/exports``, the request returns
at once, and the page offers the download when the file is ready.

The CSV has one row per enrolled trainee. Rows are produced in batches of trainees taken
in id order (keyset paging, so a batch never rescans earlier rows): each batch costs the same fixed number of queries
whatever its trainees' records hold (one for the batch's ids, the cohort evaluation of
:func:`lms.eligibility.service.decisions_for`, one for current certificates), and the session is emptied after each
batch, so memory stays flat for any cohort size.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm

from lms.certificates.models import Certificate
from lms.core.security import role_required
from lms.eligibility.service import decisions_for
from lms.extensions import db
from lms.training.models import Enrollment

bp = Blueprint("reports", __name__, url_prefix="/admin/reports")

BATCH = 500
STREAM_LIMIT = 1000  # larger cohorts are exported by a background job, not inside a web request
COLUMNS = ("trainee_id", "name", "email", "profession", "jurisdiction", "standard", "eligible", "endorsements",
           "requirements_met", "requirements_total", "open_requirements", "certificate", "certificate_expires_on")


def _cell(value) -> str:
    # A leading =, +, - or @ would make a spreadsheet run the cell as a formula.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def cohort_rows(program_id: str, batch_size: int = BATCH) -> Iterator[dict]:
    """One dict per enrolled trainee of ``program_id``, in trainee id order, evaluated ``batch_size`` at a time."""
    last = 0
    while True:
        ids = list(db.session.execute(
            sa.select(Enrollment.user_id).where(Enrollment.program_id == program_id, Enrollment.user_id > last)
            .order_by(Enrollment.user_id).limit(batch_size)).scalars())
        if not ids:
            return
        certs = {c.trainee_id: c for c in db.session.execute(
            sa.select(Certificate.trainee_id, Certificate.serial, Certificate.expires_on)
            .where(Certificate.trainee_id.in_(ids), Certificate.program_id == program_id,
                   Certificate.is_current.is_(True)))}
        for td in decisions_for(ids, program_id):
            d = td.decision
            cert = certs.get(td.user.id)
            yield {
                "trainee_id": td.user.id,
                "name": td.facts.name,
                "email": td.user.email,
                "profession": td.facts.profession or "",
                "jurisdiction": td.facts.jurisdiction or "",
                "standard": td.standard.label if td.standard else "",
                "eligible": "yes" if d and d.eligible else "no",
                "endorsements": " ".join(d.endorsements) if d else "",
                "requirements_met": sum(1 for r in d.requirements if r.met) if d else 0,
                "requirements_total": len(d.requirements) if d else 0,
                "open_requirements": " ".join(r.id for r in d.open_requirements) if d else "",
                "certificate": cert.serial if cert else "",
                "certificate_expires_on": cert.expires_on.isoformat() if cert else "",
            }
        last = ids[-1]
        # End the batch: release the read snapshot and the batch's objects, so memory does not grow with the cohort.
        db.session.commit()
        db.session.expunge_all()


def cohort_csv(program_id: str, batch_size: int = BATCH) -> Iterator[str]:
    """The cohort report as CSV text chunks (a header, then one chunk per batch of rows)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for count, row in enumerate(cohort_rows(program_id, batch_size), start=1):
        writer.writerow([_cell(row[c]) for c in COLUMNS])
        if count % batch_size == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def _program_arg(source) -> str:
    program_id = source.get("program", current_app.config["DEFAULT_PROGRAM"])
    if not re.fullmatch(r"[a-z0-9_-]{1,40}", program_id):
        abort(404)
    return program_id


def enrolled_count(program_id: str) -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(Enrollment)
                              .where(Enrollment.program_id == program_id)).scalar_one()


@bp.get("/cohort.csv")
@role_required("admin")
def cohort_csv_download():
    program_id = _program_arg(request.args)
    if enrolled_count(program_id) > current_app.config.get("REPORT_STREAM_LIMIT", STREAM_LIMIT):
        flash("This cohort is large: its report is prepared in the background. Ask for it below; this page tells "
              "you when it is ready.", "info")
        return redirect(url_for("reports.exports", program=program_id))
    return Response(stream_with_context(cohort_csv(program_id)), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="cohort-{program_id}.csv"'})


@bp.get("/exports")
@role_required("admin")
def exports():
    from lms.admin.exports import recent_exports

    listed = recent_exports()
    pending = any(e.status in ("queued", "running") for e in listed)
    return render_template("admin/exports.html", exports=listed, pending=pending, form=FlaskForm(),
                           program=_program_arg(request.args))


@bp.post("/exports")
@role_required("admin")
def request_export():
    from lms.admin.exports import queue_export
    from lms.admin.exports import request_export as record_request

    if not FlaskForm().validate_on_submit():
        abort(400)
    program_id = _program_arg(request.form)
    export_id = record_request(program_id, current_user).id
    db.session.commit()
    queue_export(export_id)  # after the commit, so the worker finds the row
    flash(f"Export {export_id} is being prepared. This page shows when it is ready.", "success")
    return redirect(url_for("reports.exports"))


@bp.get("/exports/<int:export_id>.csv")
@role_required("admin")
def download_export(export_id: int):
    from lms.admin.exports import ReportExport

    export = db.get_or_404(ReportExport, export_id)
    if export.status != "ready" or export.content is None:
        abort(404)
    return Response(export.content, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{export.filename}"',
                             "Cache-Control": "no-store"})
