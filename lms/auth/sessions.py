"""Inactivity and absolute session timeouts."""

from __future__ import annotations

import time

from flask import current_app, flash, session
from flask_login import current_user, logout_user


def start_session() -> None:
    now = int(time.time())
    session["started_at"] = now
    session["seen_at"] = now
    session.permanent = True


def enforce_session_timeouts():
    if not current_user.is_authenticated:
        return None
    now = int(time.time())
    idle = current_app.config["SESSION_IDLE_TIMEOUT"].total_seconds()
    absolute = current_app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
    started = session.get("started_at", 0)
    seen = session.get("seen_at", 0)
    if now - seen > idle or now - started > absolute:
        logout_user()
        session.clear()
        flash("Your session timed out. Please sign in again.", "info")
        return None
    session["seen_at"] = now
    return None
