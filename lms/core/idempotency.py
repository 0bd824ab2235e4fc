"""One result per submission: one-time form tokens and the API's ``Idempotency-Key``.

Every state-changing form carries a hidden ``submission_token`` (``submission_field()`` in templates); a JSON API
client may send an ``Idempotency-Key`` header. Before the view runs, the key is claimed by inserting a row in
``submission_records`` inside the request's own transaction, so the claim is committed together with whatever the
view writes. After the view, the response (a redirect, or a small JSON body) is stored against the key.

A second request with the same key (a double click, or a retry after the response was lost on its way back) never
reaches the view: it gets the stored response. If the first request committed but its response could not be stored
(the process died in between), the retry gets a 409 that says the submission was already received. The records live
in the shared database, so every instance sees them. Keys are scoped to the signed-in user (or to anonymous API
clients as a group, where a key is also bound to the exact request body).
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import time
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm
from flask import Response, flash, g, has_request_context, request
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm import Mapped, mapped_column

from lms.core.timeutil import utcnow
from lms.extensions import db

log = logging.getLogger("lms.idempotency")

FORM_FIELD = "submission_token"
HEADER = "Idempotency-Key"
KEY_PATTERN = re.compile(r"^[A-Za-z0-9._:~+/=-]{8,200}$")
STORED_BODY_LIMIT = 64 * 1024
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
WAIT_FOR_FIRST = 3.0  # seconds a duplicate waits for the first request's result (a double click)


class SubmissionRecord(db.Model):
    """The first result of one submission, keyed by its one-time token or idempotency key."""

    __tablename__ = "submission_records"
    __table_args__ = (sa.UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(sa.String(40))
    key: Mapped[str] = mapped_column(sa.String(200))
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    status_code: Mapped[int | None]
    location: Mapped[str | None] = mapped_column(sa.String(2000))
    content_type: Mapped[str | None] = mapped_column(sa.String(100))
    body: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


def submission_field() -> Markup:
    """A hidden field with a fresh one-time token, for every state-changing form."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(FORM_FIELD, secrets.token_urlsafe(24))


def _key_and_scope() -> tuple[str | None, str | None]:
    key = request.headers.get(HEADER)
    if key is None and not request.path.startswith("/api/") and current_user.is_authenticated:
        key = request.form.get(FORM_FIELD)
    if key is None:
        return None, None
    scope = f"user:{current_user.id}" if current_user.is_authenticated else "anonymous"
    return key, scope


def _fingerprint(scope: str) -> str:
    h = hashlib.sha256()
    h.update(f"{request.method} {request.path}\n".encode())
    if request.headers.get(HEADER) is not None:
        h.update(request.get_data(cache=True))  # a key names one exact request (the form is parsed from the cache)
    return h.hexdigest()


def _claim():
    if request.method not in UNSAFE:
        return None
    key, scope = _key_and_scope()
    if key is None:
        return None
    from lms.core.errors import error_response

    if not KEY_PATTERN.match(key):
        return error_response(400, f"The {HEADER} or form token is not valid: "
                                   "use 8 to 200 letters, digits or -._:~+/=.")
    record = SubmissionRecord(scope=scope, key=key, fingerprint=_fingerprint(scope))
    try:
        with db.session.begin_nested():
            db.session.add(record)
    except sa.exc.IntegrityError:
        return _replay(scope, key, record.fingerprint)
    g.submission_record = record
    return None


def _replay(scope: str, key: str, fingerprint: str):
    from lms.core.database import set_write_intent
    from lms.core.errors import error_response

    db.session.rollback()
    set_write_intent(False)  # poll with plain reads, holding no write lock the first request needs
    deadline = time.monotonic() + WAIT_FOR_FIRST
    columns = (SubmissionRecord.fingerprint, SubmissionRecord.status_code, SubmissionRecord.location,
               SubmissionRecord.content_type, SubmissionRecord.body)
    while True:
        stored = db.session.execute(sa.select(*columns).filter_by(scope=scope, key=key)).first()
        db.session.rollback()
        if stored is None or stored.fingerprint != fingerprint or stored.status_code is not None:
            break
        if time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    if stored is not None and stored.fingerprint != fingerprint:
        return error_response(422, "This key was already used for a different request. Use a new key.")
    if stored is None or stored.status_code is None:
        return error_response(409, "This submission was already received. Check the page before sending it again.")
    if stored.location and not request.path.startswith("/api/"):
        flash("That form had already been sent; this page shows its result. Nothing was saved twice.", "info")
    resp = Response(stored.body or b"", status=stored.status_code, content_type=stored.content_type)
    if stored.location:
        resp.headers["Location"] = stored.location
    resp.headers["Idempotent-Replayed"] = "true"
    return resp


def _remember(response):
    record = g.pop("submission_record", None)
    committed = g.pop("submission_committed", False)
    if record is None:
        return response
    code = response.status_code
    kept = 300 <= code < 400 or (request.path.startswith("/api/") and 200 <= code < 300)
    if not committed and not kept:
        return response  # a re-rendered form or an error before any write: the claim is rolled back with the rest
    record.status_code = code
    record.location = response.headers.get("Location")
    record.content_type = response.content_type
    size = None if response.is_streamed else response.content_length
    if size is not None and size <= STORED_BODY_LIMIT:
        record.body = response.get_data()
    elif not record.location:
        record.status_code = None  # too large to keep: a retry is told the submission was received
    try:
        db.session.add(record)
        db.session.commit()
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        log.warning("could not store the result of %s %s for replay", request.method, request.path, exc_info=True)
    return response


@sa.event.listens_for(sa.orm.Session, "after_commit")
def _note_commit(_session):
    if has_request_context() and "submission_record" in g:
        g.submission_committed = True


def init_app(app) -> None:
    """Register after the hooks that load the signed-in user."""
    app.before_request(_claim)
    app.after_request(_remember)
    app.jinja_env.globals["submission_field"] = submission_field
