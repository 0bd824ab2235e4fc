"""Sending the outbox.

``deliver_pending()`` is the whole delivery step: it reads committed outbox rows that are due, sends each one, and
records the outcome row by row. It runs after a request that queued mail (once the response is out), from
``flask notifications deliver`` (cron) and from ``send-due``; a job queue can call it as it is.

A failed attempt never loses the message: the row stays pending with the error, the attempt count and the time of the
next attempt (exponential backoff). After ``MAIL_MAX_ATTEMPTS`` it is marked failed and waits on the admin page.
Without ``MAIL_SERVER`` (development) each message is written as an .eml file under ``instance/outbox/``.
"""

from __future__ import annotations

import contextlib
import functools
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, current_app, g
from flask_mailman import EmailMultiAlternatives, Mail

from lms.core.timeutil import utcnow
from lms.extensions import db
from lms.notifications.models import OutboxEmail

mail = Mail()
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=6)


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return f"{self.sent} sent, {self.failed} failed"


def outbox_dir(app: Flask | None = None) -> Path:
    app = app or current_app
    return Path(app.config["INSTANCE_PATH"]) / "outbox"


def uses_files(app: Flask | None = None) -> bool:
    return not (app or current_app).config.get("MAIL_SERVER")


def backoff(attempts: int) -> timedelta:
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def build_message(row: OutboxEmail, connection=None) -> EmailMultiAlternatives:
    headers = {"Auto-Submitted": "auto-generated"}
    if row.preferences_url:
        headers["List-Unsubscribe"] = f"<{row.preferences_url}>"
    msg = EmailMultiAlternatives(subject=row.subject, body=row.text_body,
                                 from_email=current_app.config["MAIL_DEFAULT_SENDER"], to=[row.to_address],
                                 headers=headers, connection=connection)
    msg.attach_alternative(row.html_body, "text/html")
    return msg


def _write_file(row: OutboxEmail) -> None:
    folder = outbox_dir()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{row.created_at:%Y%m%d-%H%M%S}-{row.id:06d}.eml"
    (folder / name).write_bytes(build_message(row).message().as_bytes())


def _claim(row_id: int, now: datetime) -> OutboxEmail | None:
    """Lock one due row; another instance delivering at the same moment skips it (PostgreSQL SKIP LOCKED)."""
    stmt = sa.select(OutboxEmail).where(OutboxEmail.id == row_id, OutboxEmail.status == "pending",
                                        OutboxEmail.next_attempt_at <= now)
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return db.session.execute(stmt).scalar_one_or_none()


def deliver_pending(*, limit: int = 200, now: datetime | None = None) -> DeliveryReport:
    """Send every due message (committing after each one) and report how many left and how many failed."""
    now = now or utcnow()
    report = DeliveryReport()
    ids = list(db.session.execute(
        sa.select(OutboxEmail.id).where(OutboxEmail.status == "pending", OutboxEmail.next_attempt_at <= now)
        .order_by(OutboxEmail.id).limit(limit)).scalars())
    db.session.commit()
    if not ids:
        return report
    connection = None if uses_files() else mail.get_connection(fail_silently=False)
    try:
        for row_id in ids:
            row = _claim(row_id, now)
            if row is None:
                db.session.commit()
                continue
            # Take a lease before sending: the row is not due again until the backoff has passed, so a crash or a
            # concurrent deliverer cannot send it twice in the meantime.
            row.attempts += 1
            row.last_attempt_at = utcnow()
            row.next_attempt_at = now + backoff(row.attempts)
            db.session.commit()
            try:
                if connection is None:
                    _write_file(row)
                else:
                    build_message(row, connection).send()
            except (OSError, smtplib.SMTPException) as exc:
                _record_failure(row, exc)
                report.failed += 1
                connection = _reset(connection)
            else:
                row.status, row.sent_at, row.last_error = "sent", utcnow(), None
                report.sent += 1
            db.session.commit()
    finally:
        _reset(connection)
    return report


def _record_failure(row: OutboxEmail, exc: Exception) -> None:
    row.last_error = f"{type(exc).__name__}: {exc}"[:1000]
    if row.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        row.status = "failed"


def _reset(connection):
    """Close a connection after an error so the next message opens a fresh one."""
    if connection is not None:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            connection.close()
    return connection


def retry(row: OutboxEmail) -> None:
    """Make a failed or waiting message due now (admin action)."""
    if row.status == "sent":
        return
    row.status, row.next_attempt_at = "pending", utcnow()
    if row.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        row.attempts = current_app.config["MAIL_MAX_ATTEMPTS"] - 1
    db.session.flush()


def problems(limit: int = 200) -> list[OutboxEmail]:
    """Messages that failed at least once and have not left yet, oldest first."""
    return list(db.session.execute(
        sa.select(OutboxEmail).where(OutboxEmail.status != "sent", OutboxEmail.last_error.is_not(None))
        .order_by(OutboxEmail.id).limit(limit)).scalars())


def _deliver_in_context(app: Flask) -> None:
    from flask import has_app_context

    from lms.core.database import set_write_intent

    if has_app_context():
        # The request's own session may still hold a transaction (SQLite: the write lock) until its teardown, which
        # would roll it back anyway; end it now, or the delivery below would wait for a lock held by this thread.
        db.session.rollback()
    set_write_intent(True)  # SQLite: claim rows with BEGIN IMMEDIATE, like every other writer
    with app.app_context():
        try:
            deliver_pending()
        except Exception:  # noqa: BLE001 - delivery must never break the request that queued the mail
            app.logger.exception("email delivery after the request failed; the messages stay in the outbox")
            db.session.rollback()
        finally:
            set_write_intent(False)


def init_app(app: Flask) -> None:
    """Bind Flask-Mailman and deliver queued mail once a response that queued some has been sent."""
    app.config.setdefault("MAIL_DEFAULT_SENDER", "OroCert <no-reply@orocert.invalid>")
    app.config.setdefault("MAIL_MAX_ATTEMPTS", 8)
    app.config.setdefault("MAIL_TIMEOUT", 10)
    app.config.setdefault("MAIL_DELIVER_AFTER_REQUEST", True)
    app.config["MAIL_BACKEND"] = "smtp"
    mail.init_app(app)

    @app.after_request
    def _deliver_after_response(response):
        if g.pop("outbox_queued", False) and app.config["MAIL_DELIVER_AFTER_REQUEST"]:
            # Runs after the response is sent, in its own app context: the request's transaction has committed.
            response.call_on_close(functools.partial(_deliver_in_context, app))
        return response
