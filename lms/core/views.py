"""The shape most decision views share: run one domain operation, then commit and confirm, or roll back and explain."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect

from lms.extensions import db


def act_and_redirect(
    action: Callable[[], object],
    *,
    target: str,
    success: Callable[[object], str] | str,
    errors: tuple[type[Exception], ...] = (ValueError,),
):
    """Call ``action``; on a domain error roll back and flash its message, else commit once and flash ``success``.

    Domain errors are ValueError subclasses whose messages are written for the person acting.
    """
    try:
        result = action()
    except errors as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(target)
    db.session.commit()
    flash(success(result) if callable(success) else success, "success")
    return redirect(target)
