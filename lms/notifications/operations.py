"""Recording notifications and queueing their emails (flush only; the caller's transaction commits)."""

from __future__ import annotations

import contextlib
import contextvars
import functools
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app, g, has_request_context
from itsdangerous import BadSignature, URLSafeSerializer

from lms.core.timeutil import utcnow
from lms.extensions import db
from lms.notifications.events import EVENTS, Message
from lms.notifications.models import ALWAYS_ON, CATEGORIES, Notification, NotificationPreference, OutboxEmail

_muted = contextvars.ContextVar("notifications_muted", default=False)


@contextlib.contextmanager
def muting():
    token = _muted.set(True)
    try:
        yield
    finally:
        _muted.reset(token)


def muted(func):
    """Decorator: nothing the function does notifies anyone (demo and scale data describe past events)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with muting():
            return func(*args, **kwargs)

    return wrapper


# ---------------------------------------------------------------- preferences

@dataclass(frozen=True)
class Choice:
    in_app: bool = True
    email: bool = True


def preferences_of(user_id: int) -> dict[str, Choice]:
    rows = db.session.execute(sa.select(NotificationPreference).filter_by(user_id=user_id)).scalars()
    stored = {r.category: Choice(r.in_app, r.email) for r in rows}
    return {c: (Choice() if c in ALWAYS_ON else stored.get(c, Choice())) for c in CATEGORIES}


def save_preferences(user_id: int, choices: dict[str, Choice]) -> None:
    """Store the user's choices; security notices stay on whatever is submitted."""
    existing = {r.category: r for r in db.session.execute(
        sa.select(NotificationPreference).filter_by(user_id=user_id)).scalars()}
    for category in CATEGORIES:
        if category in ALWAYS_ON:
            continue
        choice = choices.get(category, Choice(False, False))
        row = existing.get(category) or NotificationPreference(user_id=user_id, category=category)
        row.in_app, row.email = choice.in_app, choice.email
        db.session.add(row)
    db.session.flush()


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="notification-preferences")


def preferences_token(user_id: int) -> str:
    return _serializer().dumps({"u": user_id})


def user_id_from_preferences_token(token: str) -> int | None:
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    return data.get("u") if isinstance(data, dict) and isinstance(data.get("u"), int) else None


# ---------------------------------------------------------------- links and rendering

def path_for(endpoint: str | None, **values) -> str | None:
    """A URL path for ``endpoint`` that works in requests and in CLI commands alike."""
    if endpoint is None:
        return None
    return current_app.url_map.bind("localhost").build(endpoint, values)


def absolute(path: str) -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def render_email(subject: str, lines: list[str], *, action_url: str | None, action: str,
                 preferences_url: str | None) -> tuple[str, str]:
    """The plain-text and HTML parts of one message."""
    env = current_app.jinja_env
    ctx = {"subject": subject, "lines": lines, "action_url": action_url, "action": action,
           "preferences_url": preferences_url, "issuer_name": current_app.config["ISSUER_NAME"]}
    return env.get_template("email/message.txt").render(ctx), env.get_template("email/message.html").render(ctx)


def queue_email(*, to: str, subject: str, lines: list[str], category: str, event: str, user=None,
                action_url: str | None = None, action: str = "Open OroCert") -> OutboxEmail:
    """Write one email to the outbox. It leaves after the transaction commits (``delivery.deliver_pending``)."""
    prefs_url = absolute(path_for("notifications.preferences_by_link", token=preferences_token(user.id))) \
        if user is not None else None
    text, html = render_email(subject, lines, action_url=action_url, action=action, preferences_url=prefs_url)
    email = OutboxEmail(user_id=user.id if user is not None else None, to_address=to, category=category, event=event,
                        subject=subject[:200], text_body=text, html_body=html, preferences_url=prefs_url,
                        next_attempt_at=utcnow())
    db.session.add(email)
    db.session.flush()
    if has_request_context():
        g.outbox_queued = True  # the request hook delivers once the response is out
    return email


# ---------------------------------------------------------------- notify

def notify(user, event: str, record=None, **details) -> Notification | None:
    """Tell ``user`` about ``event`` in the app and by email, as their preferences say. Flushes only."""
    if _muted.get() or user is None:
        return None
    message: Message = EVENTS[event](record, **details)
    choice = preferences_of(user.id)[message.category]
    link = path_for(message.endpoint, **message.values)
    note = None
    if choice.in_app:
        note = Notification(user_id=user.id, category=message.category, event=event, subject=message.subject,
                            body=message.body, link=link)
        db.session.add(note)
    if choice.email and user.is_enabled:
        queue_email(to=user.email, subject=message.subject, lines=message.lines, category=message.category,
                    event=event, user=user, action_url=absolute(link) if link else None, action=message.action)
    db.session.flush()
    return note


def notify_user_id(user_id: int, event: str, record=None, **details) -> Notification | None:
    from lms.auth.models import User

    return notify(db.session.get(User, user_id), event, record, **details)


# ---------------------------------------------------------------- in-app list

def unread_count(user_id: int) -> int:
    return db.session.execute(sa.select(sa.func.count(Notification.id)).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))).scalar_one()


def recent_for(user_id: int, limit: int = 100) -> list[Notification]:
    return list(db.session.execute(sa.select(Notification).filter_by(user_id=user_id)
                                   .order_by(Notification.id.desc()).limit(limit)).scalars())


def mark_read(user_id: int, notification_id: int | None = None) -> int:
    """Mark one (or every) unread notification of the user as read; returns how many changed."""
    stmt = sa.update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if notification_id is not None:
        stmt = stmt.where(Notification.id == notification_id)
    return db.session.execute(stmt.values(read_at=utcnow()).execution_options(synchronize_session=False)).rowcount
