"""Generic error pages (HTML) and JSON errors for the API. Never a traceback."""

from __future__ import annotations

import logging

from flask import jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger("lms.errors")

MESSAGES = {
    400: "The request could not be understood. Please check what you sent and try again.",
    401: "Please sign in to continue.",
    403: "You do not have permission to see this page.",
    404: "We could not find that page.",
    405: "That action is not allowed here.",
    413: "That file is too large. Files may be at most 5 MB.",
    422: "Some of what you sent could not be used.",
    429: "Too many attempts. Please wait a few minutes and try again.",
    500: "Something went wrong on our side. Nothing was saved. Please try again.",
}


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def error_response(code: int, message: str | None = None):
    message = message or MESSAGES.get(code, "Error")
    if wants_json():
        resp = jsonify({"error": {"code": code, "message": message}})
        resp.status_code = code
        return resp
    return render_template("errors/error.html", code=code, message=message), code


def _retry_after_seconds() -> int:
    """Seconds until the breached rate limit's window resets (at least 1)."""
    import time

    from lms.extensions import limiter

    limit = limiter.current_limit
    if limit is None:
        return 60
    return max(1, int(limit.reset_at - time.time()) + 1)


def register(app) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(exc):
        return error_response(400, "Your form expired or was sent from elsewhere. "
                                   "Please reload the page and try again.")

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        # A description given at abort() (not the class default) is a message written for the user: show it.
        custom = exc.description if exc.code != 429 and exc.description != type(exc).description else None
        resp = error_response(exc.code or 500, custom)
        if isinstance(resp, tuple):
            resp = app.make_response(resp)
        # Keep the headers the exception carries: Allow on 405, WWW-Authenticate on 401.
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                resp.headers[name] = value
        if exc.code == 429 and "Retry-After" not in resp.headers:
            resp.headers["Retry-After"] = str(_retry_after_seconds())
        return resp

    @app.errorhandler(Exception)
    def _unhandled(exc: Exception):
        from lms.extensions import db

        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path.replace("\n", "\\n"))
        return error_response(500)

    @app.errorhandler(InternalServerError)
    def _500(exc):
        return error_response(500)
