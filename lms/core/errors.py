"""Generic error pages (HTML) and JSON errors for the API. Never a traceback.

A database that cannot be reached (refused, starting up, connection closed mid-request) is a 503 with
``Retry-After``: the request may or may not have been committed before the connection went, so the message says so
honestly. Error pages never touch the database: the signed-in user is not reloaded to draw the menu.
"""

from __future__ import annotations

import logging
import os
import sys

import click
from flask import g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException, InternalServerError

from lms.core.i18n import N_

log = logging.getLogger("lms.errors")

UNAVAILABLE = N_("The registry's database is not answering right now. We could not confirm whether your last change "
                 "was saved; check before trying again.")

MESSAGES = {
    400: N_("The request could not be understood. Please check what you sent and try again."),
    401: N_("Please sign in to continue."),
    403: N_("You do not have permission to see this page."),
    404: N_("We could not find that page."),
    405: N_("That action is not allowed here."),
    413: N_("That file is too large. Files may be at most 5 MB."),
    422: N_("Some of what you sent could not be used."),
    429: N_("Too many attempts. Please wait a few minutes and try again."),
    500: N_("Something went wrong on our side. Please check whether your last change was saved before trying again."),
    503: UNAVAILABLE,
}

# Errors that mean "the database could not be reached or dropped the connection", not "the request was wrong".
UNAVAILABLE_ERRORS = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError,
                      sa_exc.TimeoutError, sa_exc.PendingRollbackError)


def is_database_unavailable(exc: BaseException) -> bool:
    while exc is not None:
        if isinstance(exc, UNAVAILABLE_ERRORS):
            return True
        if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _first_line(exc: BaseException) -> str:
    """The driver's own first line of the error (e.g. "connection refused"), without SQL or parameters."""
    while exc is not None and not isinstance(exc, sa_exc.DBAPIError) and exc.__cause__ is not None:
        exc = exc.__cause__
    text = str(getattr(exc, "orig", None) or exc).strip()
    return (text.splitlines() or [type(exc).__name__])[0]


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _forget_user() -> None:
    """Draw the page for an anonymous visitor: reloading the signed-in user would query the database again."""
    from lms.extensions import login_manager

    g._login_user = login_manager.anonymous_user()


def _user_is_safe() -> bool:
    """Load the signed-in user for the menu if the database allows; otherwise fall back to anonymous."""
    from flask_login import current_user

    try:
        current_user.is_authenticated  # noqa: B018 - loads the user, which may query the database
        getattr(current_user, "role", None)
        return True
    except Exception:  # noqa: BLE001 - any failure here means "draw the page without the user"
        _rollback()
        _forget_user()
        return False


def _rollback() -> None:
    from lms.extensions import db

    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection may already be gone; the pool discards it
        log.debug("rollback after a failed request also failed", exc_info=True)


PLAIN_PAGE = ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Error {code}</title></head>"
              "<body><main><h1>{code}</h1><p>{message}</p><p><a href=\"/\">Return to the home page</a></p>"
              "</main></body></html>")


def _translated(message: str) -> str:
    """The message in the page's language when the catalogue has it (messages given at abort() stay as written)."""
    from flask_babel import gettext

    return gettext(message)


def error_response(code: int, message: str | None = None):
    message = message or MESSAGES.get(code, "Error")
    if wants_json():
        resp = jsonify({"error": {"code": code, "message": message}})
        resp.status_code = code
        return resp
    if code >= 500:
        _user_is_safe()
    try:
        message = _translated(message)
        return render_template("errors/error.html", code=code, message=message), code
    except Exception:  # noqa: BLE001 - the error page itself must never fail
        log.exception("error page could not be rendered")
        _forget_user()
        return PLAIN_PAGE.format(code=code, message=escape(message)), code, {"Content-Type": "text/html; charset=utf-8"}


def unavailable_response(retry_after: int):
    _rollback()
    _forget_user()
    resp = error_response(503, UNAVAILABLE)
    if isinstance(resp, tuple):
        from flask import make_response

        resp = make_response(resp)
    resp.headers["Retry-After"] = str(retry_after)
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _retry_after_seconds() -> int:
    """Seconds until the breached rate limit's window resets (at least 1)."""
    import time

    from lms.extensions import limiter

    limit = limiter.current_limit
    if limit is None:
        return 60
    return max(1, int(limit.reset_at - time.time()) + 1)


def register(app) -> None:
    app.config.setdefault("DATABASE_RETRY_AFTER", 5)

    @app.errorhandler(CSRFError)
    def _csrf(exc):
        return error_response(400, N_("Your form expired or was sent from elsewhere. "
                                      "Please reload the page and try again."))

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
        if is_database_unavailable(exc):
            log.warning("database unavailable on %s %s: %s", request.method, request.path.replace("\n", "\\n"),
                        _first_line(exc))
            return unavailable_response(app.config["DATABASE_RETRY_AFTER"])
        _rollback()
        log.exception("unhandled error on %s %s", request.method, request.path.replace("\n", "\\n"))
        return error_response(500)

    @app.errorhandler(InternalServerError)
    def _500(exc):
        original = getattr(exc, "original_exception", None)
        if original is not None and is_database_unavailable(original):
            return unavailable_response(app.config["DATABASE_RETRY_AFTER"])
        return error_response(500)

    guard_cli(app)


def guard_cli(app) -> None:
    """CLI commands end with one clear line and exit status 1 on a database outage or an unexpected error.

    ``flask --app lms COMMAND`` looks commands up through ``app.cli.get_command``; each command found is wrapped once.
    """
    lookup = app.cli.get_command

    def get_command(ctx, name):
        cmd = lookup(ctx, name)
        if cmd is not None and not getattr(cmd, "_lms_guarded", False):
            cmd.invoke = _guarded(cmd.invoke)
            cmd._lms_guarded = True
        return cmd

    app.cli.get_command = get_command


def _guarded(invoke):
    def wrapped(ctx):
        try:
            return invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - turned into one line and a non-zero exit below
            if os.environ.get("LMS_TRACEBACK"):
                raise
            if is_database_unavailable(exc):
                line = (f"Error: the database could not be reached ({_first_line(exc)}). "
                        "We could not confirm whether its last change was saved; check before running it again.")
            else:
                log.debug("command failed", exc_info=True)
                line = f"Error: {type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0]}"
            click.echo(line, err=True)
            ctx.exit(1)
            sys.exit(1)  # not reached: ctx.exit raises

    return wrapped
