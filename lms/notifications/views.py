"""Notification pages: the list, preferences (signed in or through the signed link in every email), and the admin
view of mail that could not be delivered."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from lms.core.security import role_required
from lms.extensions import db
from lms.notifications import delivery
from lms.notifications import operations as ops
from lms.notifications.models import ALWAYS_ON, CATEGORIES, Notification, OutboxEmail

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.app_context_processor
def _unread():
    def unread_notifications() -> int:
        return ops.unread_count(current_user.id) if current_user.is_authenticated else 0

    return {"unread_notifications": unread_notifications}


@bp.get("")
@login_required
def index():
    return render_template("notifications/index.html", notifications=ops.recent_for(current_user.id),
                           form=FlaskForm())


@bp.post("/read")
@login_required
def read_all():
    count = ops.mark_read(current_user.id)
    db.session.commit()
    flash(f"{count} notification{'s' if count != 1 else ''} marked as read.", "success")
    return redirect(url_for("notifications.index"))


@bp.post("/<int:notification_id>/open")
@login_required
def open_one(notification_id):
    note = db.session.get(Notification, notification_id)
    if note is None or note.user_id != current_user.id:
        abort(404)
    ops.mark_read(current_user.id, note.id)
    db.session.commit()
    # Links are paths this app built itself; anything else falls back to the list.
    target = note.link if note.link and note.link.startswith("/") and not note.link.startswith("//") else None
    return redirect(target or url_for("notifications.index"))


def _choices_from_form() -> dict[str, ops.Choice]:
    return {c: ops.Choice(in_app=f"{c}-app" in request.form, email=f"{c}-email" in request.form)
            for c in CATEGORIES}


def _preferences_page(user_id: int, action: str):
    form = FlaskForm()  # CSRFProtect checks every POST; the form renders the token
    if request.method == "POST":
        ops.save_preferences(user_id, _choices_from_form())
        db.session.commit()
        flash("Your notification preferences were saved.", "success")
        return redirect(action)
    return render_template("notifications/preferences.html", form=form, action=action, categories=CATEGORIES,
                           always_on=ALWAYS_ON, prefs=ops.preferences_of(user_id))


@bp.route("/preferences", methods=["GET", "POST"])
@login_required
def preferences():
    return _preferences_page(current_user.id, url_for("notifications.preferences"))


@bp.route("/preferences/<token>", methods=["GET", "POST"])
def preferences_by_link(token):
    """The one-click link in every email: no sign-in needed, the signed token names the account."""
    user_id = ops.user_id_from_preferences_token(token)
    if user_id is None:
        abort(404)
    return _preferences_page(user_id, url_for("notifications.preferences_by_link", token=token))


@bp.get("/outbox")
@role_required("admin")
def outbox():
    counts = dict(db.session.execute(sa.select(OutboxEmail.status, sa.func.count()).group_by(OutboxEmail.status)).all())
    return render_template("notifications/outbox.html", problems=delivery.problems(), counts=counts, form=FlaskForm(),
                           uses_files=delivery.uses_files(), outbox_dir=delivery.outbox_dir())


@bp.post("/outbox/<int:email_id>/retry")
@role_required("admin")
def retry(email_id):
    row = db.session.get(OutboxEmail, email_id)
    if row is None:
        abort(404)
    delivery.retry(row)
    db.session.commit()
    report = delivery.deliver_pending()
    flash(f"Delivery attempted: {report}.", "success" if not report.failed else "error")
    return redirect(url_for("notifications.outbox"))
