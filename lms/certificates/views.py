from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from lms.certificates import credential_view, keys, sharing, verification
from lms.certificates.models import CertificateApplication
from lms.certificates.queries import certificates_for
from lms.certificates.serials import normalize
from lms.core import i18n
from lms.core.cache import release_fingerprint
from lms.core.phrases import localise
from lms.core.security import role_required
from lms.extensions import db, limiter

bp = Blueprint("certificates", __name__)


@bp.app_template_filter("verify_date")
def verify_date(value) -> str:
    """An ISO date (or a date) in words, e.g. "26 November 2026", as the verification pages show dates."""
    if not value:
        return ""
    from lms.core.formatting import format_date

    return format_date(value, "long")


def _public_limit():
    return current_app.config["PUBLIC_API_RATE_LIMIT"]


def _board_user():
    return current_user if current_user.is_authenticated and current_user.has_role("board", "admin") else None


@bp.get("/certificates")
@role_required("trainee")
def mine():
    return _mine_page()


def _mine_page(status: int = 200):
    from lms.certificates.applications import reasons_not_to_apply
    from lms.training.models import Program

    applications = db.session.execute(
        db.select(CertificateApplication).filter_by(trainee_id=current_user.id)
        .order_by(CertificateApplication.id.desc())).scalars().all()
    certificates = certificates_for(current_user.id)
    # Held for the whole page: each program is read once, however many certificates name it.
    programs = {pid: db.session.get(Program, pid) for pid in {c.program_id for c in certificates}}
    return render_template("certificates/mine.html", certificates=certificates,
                           applications=applications, status_of=verification.status_of, form=FlaskForm(),
                           blockers=reasons_not_to_apply(current_user,
                                                         program_id=current_app.config["DEFAULT_PROGRAM"]),
                           share=lambda cert: _share(cert, programs.get(cert.program_id))), status


def _share(cert, program) -> dict:
    """What the holder needs to show a certificate elsewhere (a revoked one gets no LinkedIn link)."""
    verify_url = url_for("certificates.verify_page", serial=cert.serial, _external=True)
    badge_svg = url_for("certificates.badge_svg", serial=cert.serial, _external=True)
    issuer = current_app.config["ISSUER_NAME"]
    record = {"serial": cert.serial, "issued_on": cert.issued_on.isoformat(),
              "expires_on": cert.expires_on.isoformat(), "holder": {"name": cert.holder_name}}
    return {
        "badge_svg": badge_svg,
        "badge_png": url_for("certificates.badge_png", serial=cert.serial),
        "linkedin": None if verification.status_of(cert) == "revoked" else sharing.linkedin_url(
            record, certification_name=program.title if program else cert.program_id, organisation=issuer,
            verify_url=verify_url),
        "snippet": sharing.embed_snippet(record, verify_url=verify_url, badge_url=badge_svg, issuer=issuer),
    }


@bp.post("/certificates/apply")
@role_required("trainee")
def apply():
    from lms.certificates import applications as apps

    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        apps.apply(current_user, program_id=current_app.config["DEFAULT_PROGRAM"])
    except apps.ApplicationError as exc:
        db.session.rollback()
        flash(localise(exc), "error")
        return redirect(url_for("certificates.mine"))
    db.session.commit()
    flash(_("Your application was sent to the administrators."), "success")
    return redirect(url_for("certificates.mine"))


MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # certificates are well under 1 MB; the app refuses bodies much larger


@bp.post("/verify")
@limiter.limit(_public_limit)
def verify_upload():
    """Is this PDF genuine? The visitor's file is checked byte for byte and its signature validated against our key."""
    if not FlaskForm().validate_on_submit():
        return render_template("certificates/verify_form.html", raw="", error=None,
                               upload_error=_("The form expired. Choose the file again and check it.")), 400
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return render_template("certificates/verify_form.html", raw="", error=None,
                               upload_error=_("Choose a PDF file to check.")), 400
    try:
        data = upload.stream.read(MAX_UPLOAD_BYTES + 1)
    finally:
        upload.close()  # a large part is spooled to a temporary file: release it now, not at garbage collection
    if len(data) > MAX_UPLOAD_BYTES:
        return render_template("certificates/verify_form.html", raw="", error=None,
                               upload_error=_("The file is larger than 5 MB. Our certificates are much smaller: "
                                              "check that you chose the certificate PDF.")), 413
    result = verification.verify_pdf(data, board_user=_board_user())
    record = verification.record_for(verification.state_of(result.serial)) if result.serial else None
    db.session.commit()
    status = 200 if result.verdict != "not_pdf" else 400
    return render_template("certificates/verify_result.html", result=result, record=record,
                           filename=upload.filename[:120]), status


@bp.get("/verify")
@limiter.limit(_public_limit)
def verify_form():
    raw = request.args.get("serial", "").strip()
    if raw:
        serial = normalize(raw)
        if serial:
            return redirect(url_for("certificates.verify_page", serial=serial))
        return render_template("certificates/verify_form.html", raw=raw[:64],
                               error=_("That is not a valid certificate serial. Check for typing errors: serials "
                                       "look like OFM-XXXXX-XXXXX-XXXXX.")), 400
    return render_template("certificates/verify_form.html", raw="", error=None)


@bp.get("/verify/<serial>")
@limiter.limit(_public_limit)
def verify_page(serial: str):
    board = _board_user()
    state = verification.check("page", serial, board)
    if state is None:
        return render_template("certificates/verify_unknown.html", serial=serial[:64]), 404
    # Visitors who are not signed in all see the same page for the same state: it can be revalidated with its ETag.
    # A signed-in user's page carries their own navigation and form token, so it is never answered with a 304.
    anonymous = not current_user.is_authenticated
    etag = i18n.localized_etag(state.etag)  # one ETag per language: the page differs by language
    if anonymous and request.if_none_match.contains(etag):
        resp = Response(status=304)
    elif anonymous and _shared_page(serial, state):
        view = f"page:{i18n.current_language()}:{release_fingerprint(current_app)}:{request.script_root}"
        resp = make_response(verification.cached_rendering(
            state, view, lambda record: render_template("certificates/verify.html", record=record).encode()))
    else:
        resp = make_response(render_template("certificates/verify.html", record=verification.record_for(state)))
    if anonymous:
        resp.set_etag(etag)
        resp.headers["Cache-Control"] = "no-cache"
        resp.vary.add("Cookie")
    return resp


def _shared_page(serial: str, state) -> bool:
    """Whether this visitor's page is the one every anonymous visitor gets for the certificate's state (and language),
    so its HTML can come from the shared cache: asked at the serial's own address, with no other query argument than
    the language (the language links repeat the address), and no message waiting to be shown to this visitor. A
    signed-in user's page carries their own navigation and form token and is always rendered."""
    return (serial == state.serial and request.args.keys() <= {i18n.QUERY_ARG}
            and not session.get("_flashes"))


def _badge(serial: str, kind: str):
    state = verification.state_of(serial)
    if state is None:
        abort(404)
    etag = f"{state.etag}-{kind}"
    issuer = current_app.config["ISSUER_NAME"]
    if request.if_none_match and request.if_none_match.contains(etag):
        resp = Response(status=304)
    elif kind == "svg":
        resp = Response(verification.cached_rendering(state, "badge-svg", lambda r: sharing.badge_svg(r, issuer)),
                        mimetype="image/svg+xml")
        # An SVG opened on its own is a document: it may run nothing and load nothing.
        resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    else:
        fonts = current_app.config["CERTIFICATE_DESIGNS_DIR"] / current_app.config["CERTIFICATE_DESIGN"] / "fonts"
        resp = Response(verification.cached_rendering(state, "badge-png",
                                                      lambda r: sharing.badge_png(r, issuer, fonts)),
                        mimetype="image/png")
        # Opened on its own, the browser shows the image in a viewer document that it styles inline; allow that
        # styling and nothing else (no script, no fetch).
        resp.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    # Like the verify page: the ETag follows the certificate's state, so a revocation shows on the next revalidation.
    resp.set_etag(etag)
    resp.headers["Cache-Control"] = "no-cache"
    # Websites embed the badge: let any origin show it (the verify page itself still may not be framed).
    resp.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return resp


@bp.get("/verify/<serial>/badge.svg")
@limiter.limit(_public_limit)
def badge_svg(serial: str):
    return _badge(serial, "svg")


@bp.get("/verify/<serial>/badge.png")
@limiter.limit(_public_limit)
def badge_png(serial: str):
    return _badge(serial, "png")


@bp.get("/certificates/<serial>.pdf")
@limiter.limit(_public_limit)
def pdf(serial: str):
    cert = verification.find(serial)
    if cert is None:
        abort(404)
    resp = Response(cert.pdf_bytes, mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f'attachment; filename="{cert.serial}.pdf"'
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    resp.headers["ETag"] = cert.pdf_sha256
    return resp


@bp.get("/certificates/<serial>/credential.json")
@limiter.limit(_public_limit)
def credential(serial: str):
    cert = verification.find(serial)
    if cert is None or not cert.credential:
        return jsonify({"error": {"code": 404, "message": "No certificate with this serial."}}), 404
    resp = jsonify(cert.credential)
    resp.mimetype = "application/vc+ld+json"
    return resp


@bp.get("/certificates/<serial>/credential")
@limiter.limit(_public_limit)
def credential_page(serial: str):
    """The credential in words (holder, achievement, criteria, issuer, proof, status); the JSON is one click away."""
    cert = verification.find(serial)
    if cert is None or not cert.credential:
        return render_template("certificates/verify_unknown.html", serial=serial[:64]), 404
    return render_template("certificates/credential.html", serial=cert.serial,
                           view=credential_view.describe(cert.credential))


@bp.get("/credentials/status/1")
@limiter.limit(_public_limit)
def status_list():
    from lms.certificates.status_list import document

    body, etag, _revoked = document()
    resp = Response(body, mimetype="application/vc+ld+json")
    resp.set_etag(etag)
    resp.headers["Cache-Control"] = "public, max-age=60"
    return resp.make_conditional(request)


@bp.get("/.well-known/did.json")
def did_document():
    resp = jsonify(keys.did_document())
    resp.mimetype = "application/did+json"
    return resp


@bp.route("/board/bulk", methods=["GET", "POST"])
@role_required("board", "admin")
def bulk():
    if request.method == "GET":
        return render_template("certificates/bulk.html", results=None, form=FlaskForm())
    if not FlaskForm().validate_on_submit():
        abort(400)
    upload = request.files.get("file")
    text = request.form.get("serials", "")
    if upload and upload.filename:
        raw = upload.stream.read(2 * 1024 * 1024 + 1)
        if len(raw) > 2 * 1024 * 1024:
            flash(_("The file is larger than 2 MB."), "error")
            return render_template("certificates/bulk.html", results=None, form=FlaskForm()), 413
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            flash(_("The file is not a UTF-8 CSV file."), "error")
            return render_template("certificates/bulk.html", results=None, form=FlaskForm()), 400
    try:
        rows = verification.parse_bulk_csv(text)
    except verification.BulkError as exc:
        flash(str(exc), "error")
        return render_template("certificates/bulk.html", results=None, form=FlaskForm()), 400
    results = verification.bulk_verify(rows, board_user=current_user)
    db.session.commit()
    if request.form.get("format") == "csv":
        return Response(verification.results_csv(results), mimetype="text/csv",
                        headers={"Content-Disposition": "attachment; filename=verification-results.csv"})
    return render_template("certificates/bulk.html", results=results, form=FlaskForm(), text=text)
