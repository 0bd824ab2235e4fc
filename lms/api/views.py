"""The public JSON API (version 1). Stateless: no cookies are read or set, no CSRF.

Anyone may call it, rate-limited per address. A licensing board that holds an API key sends it as
``Authorization: Bearer <key>``: its requests get the board rate limit (per key) and its checks are logged under the
board organisation. A key that is unknown or revoked is refused with 401, never silently treated as anonymous.
"""

from flask import Blueprint, current_app, g, jsonify, request
from flask_limiter.util import get_remote_address

from lms.api import keys
from lms.api.openapi import openapi_document
from lms.certificates import verification
from lms.extensions import db, limiter

bp = Blueprint("api", __name__, url_prefix="/api/v1")

_UNSET = object()


def _presented_key() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _api_key():
    """The active board API key of this request (cached), or None for anonymous and for bad keys."""
    cached = g.get("_board_api_key", _UNSET)
    if cached is _UNSET:
        presented = _presented_key()
        cached = keys.find_active(presented) if presented else None
        g._board_api_key = cached
    return cached


def _limit():
    key = "BOARD_API_RATE_LIMIT" if _api_key() is not None else "PUBLIC_API_RATE_LIMIT"
    return current_app.config[key]


def _rate_key() -> str:
    key = _api_key()
    return f"api-key:{key.id}" if key is not None else get_remote_address()


def _organisation() -> str | None:
    key = _api_key()
    return key.organisation if key is not None else None


def _error(code: int, message: str):
    return jsonify({"error": {"code": code, "message": message}}), code


@bp.before_request
def _authenticate():
    if request.headers.get("Authorization") and _api_key() is None:
        resp = jsonify({"error": {"code": 401, "message": "The API key is unknown or revoked. Send "
                                                          "'Authorization: Bearer <key>' with an active key, or "
                                                          "no Authorization header at all."}})
        resp.status_code = 401
        resp.headers["WWW-Authenticate"] = 'Bearer realm="OroCert verification API"'
        return resp
    return None


def _conditional(resp, state):
    """ETag from the certificate's state; clients and caches must revalidate, and get 304 when nothing changed."""
    resp.set_etag(state.etag)
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@bp.get("/certificates/<serial>")
@limiter.limit(_limit, key_func=_rate_key)
def certificate(serial: str):
    state = verification.check("api", serial, organisation=_organisation())
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
@limiter.limit(_limit, key_func=_rate_key)
def verify_pdf():
    upload = request.files.get("file")
    if upload is None:
        return _error(400, "Send the PDF as a multipart form field named 'file'.")
    data = upload.stream.read(10 * 1024 * 1024 + 1)
    if len(data) > 10 * 1024 * 1024:
        return _error(413, "The file is larger than 10 MB.")
    check = verification.verify_pdf(data, organisation=_organisation())
    db.session.commit()
    return jsonify({"genuine": check.genuine, "serial": check.serial, "status": check.status, "reason": check.reason,
                    "verdict": check.verdict})


@bp.post("/verify/bulk")
@limiter.limit(_limit, key_func=_rate_key)
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
    results = verification.bulk_verify(rows, method="api-bulk", organisation=_organisation())
    db.session.commit()
    if "text/csv" in request.headers.get("Accept", ""):
        return current_app.response_class(verification.results_csv(results), mimetype="text/csv")
    return jsonify({"count": len(results), "results": results})


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document(current_app.config["PUBLIC_BASE_URL"]))
