"""The transcript as a PDF or CSV file: a trainee's own, and any trainee's for an administrator."""

from flask import Blueprint, Response, abort, current_app, render_template
from flask_login import current_user

from lms.auth.models import User
from lms.core.security import role_required
from lms.core.timeutil import today
from lms.extensions import db
from lms.transcripts import builder

bp = Blueprint("transcripts", __name__)
FORMATS = ("pdf", "csv")


def _send(trainee: User, fmt: str) -> Response:
    if fmt not in FORMATS:
        abort(404)
    transcript = builder.build(trainee, current_app.config["DEFAULT_PROGRAM"], today())
    name = f"transcript-{trainee.id}-{transcript.generated_on.isoformat()}.{fmt}"
    if fmt == "csv":
        resp = Response(builder.to_csv(transcript), mimetype="text/csv")
    else:
        from lms.core.pdf import render_pdf, shared_font_config

        designs = current_app.config["CERTIFICATE_DESIGNS_DIR"]
        html = render_template("transcripts/transcript_pdf.html", t=transcript,
                               issuer=current_app.config["ISSUER_NAME"])
        resp = Response(render_pdf(html, designs, [designs / "transcript" / "theme.css"], shared_font_config()),
                        mimetype="application/pdf")
        resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp


@bp.get("/transcript.<fmt>")
@role_required("trainee")
def mine(fmt: str):
    return _send(current_user, fmt)


@bp.get("/admin/trainees/<int:trainee_id>/transcript.<fmt>")
@role_required("admin")
def for_trainee(trainee_id: int, fmt: str):
    trainee = db.get_or_404(User, trainee_id)
    if trainee.role != "trainee":
        abort(404)
    return _send(trainee, fmt)
