"""The public JSON API (version 1). Stateless: no cookies, no CSRF; rate-limited per address."""

from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user

from lms.api.openapi import openapi_document
from lms.certificates import verification
from lms.extensions import db, limiter

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _limit():
    return current_app.config["PUBLIC_API_RATE_LIMIT"]


def _error(code: int, message: str):
    return jsonify({"error": {"code": code, "message": message}}), code


def _board():
    return current_user if current_user.is_authenticated and current_user.has_role("board", "admin") else None


def _conditional(resp, state):
    """ETag from the certificate's state; clients and caches must revalidate, and get 304 when nothing changed."""
    resp.set_etag(state.etag)
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@bp.get("/certificates/<serial>")
@limiter.limit(_limit)
def certificate(serial: str):
    state = verification.check("api", serial, _board())
    if state is None:
        return _error(404, "No certificate with this serial.")
    if verification.not_modified(state, request.if_none_match):
        return _conditional(current_app.response_class(status=304), state)
    body = verification.cached_body(state, "api", _api_record)
    return _conditional(current_app.response_class(body, mimetype="application/json"), state)


def _api_record(record: dict) -> dict:
    """The API's shape of the public record: the holder without labels, the program by id."""
    record["holder"] = {k: record["holder"][k] for k in ("name", "profession", "license", "jurisdiction")}
    record["program"] = record["program"]["id"]
    return record


@bp.post("/verify")
@limiter.limit(_limit)
def verify_pdf():
    upload = request.files.get("file")
    if upload is None:
        return _error(400, "Send the PDF as a multipart form field named 'file'.")
    data = upload.stream.read(10 * 1024 * 1024 + 1)
    if len(data) > 10 * 1024 * 1024:
        return _error(413, "The file is larger than 10 MB.")
    check = verification.verify_pdf(data, board_user=_board())
    db.session.commit()
    return jsonify({"genuine": check.genuine, "serial": check.serial, "status": check.status, "reason": check.reason})


@bp.post("/verify/bulk")
@limiter.limit(_limit)
def verify_bulk():
    if request.is_json:
        payload = request.get_json(silent=True)
        items = payload.get("serials") if isinstance(payload, dict) else None
        if not isinstance(items, list):
            return _error(400, 'Send JSON {"serials": ["OFM-…", …]} or a CSV file in the field "file".')
        rows = []
        for item in items:
            if isinstance(item, str):
                rows.append((item[:64], ""))
            elif isinstance(item, dict) and isinstance(item.get("serial"), str):
                rows.append((item["serial"][:64], str(item.get("last_name", ""))[:200]))
            else:
                return _error(400, "Each entry must be a serial string or {serial, last_name}.")
        if not rows:
            return _error(400, "No serials were sent.")
        if len(rows) > verification.MAX_BULK_ROWS:
            return _error(400, f"At most {verification.MAX_BULK_ROWS} serials per request.")
    else:
        upload = request.files.get("file")
        text = upload.stream.read(2 * 1024 * 1024).decode("utf-8-sig", errors="replace") if upload else \
            request.get_data(as_text=True)[: 2 * 1024 * 1024]
        try:
            rows = verification.parse_bulk_csv(text)
        except verification.BulkError as exc:
            return _error(400, str(exc))
    results = verification.bulk_verify(rows, board_user=_board(), method="api-bulk")
    db.session.commit()
    if "text/csv" in request.headers.get("Accept", ""):
        return current_app.response_class(verification.results_csv(results), mimetype="text/csv")
    return jsonify({"count": len(results), "results": results})


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document(current_app.config["PUBLIC_BASE_URL"]))
