"""Reads of standard versions."""

from __future__ import annotations

import sqlalchemy as sa

from lms.extensions import db
from lms.standards.models import StandardVersion


def standard_for_user(user_id: int, program_id: str | None = None) -> StandardVersion | None:
    """The standard version the user's enrollment is pinned to (or the program's current one)."""
    from flask import current_app

    from lms.training.models import Enrollment

    program_id = program_id or current_app.config["DEFAULT_PROGRAM"]
    version = db.session.execute(
        sa.select(StandardVersion).join(Enrollment, Enrollment.standard_version_id == StandardVersion.id)
        .where(Enrollment.user_id == user_id, Enrollment.program_id == program_id)
    ).scalar_one_or_none()
    return version or current_version(program_id)


def current_version(program_id: str) -> StandardVersion | None:
    return db.session.execute(
        sa.select(StandardVersion).filter_by(program_id=program_id).order_by(StandardVersion.id.desc()).limit(1)
    ).scalar_one_or_none()


def all_versions(program_id: str | None = None) -> list[StandardVersion]:
    q = sa.select(StandardVersion).order_by(StandardVersion.id.desc())
    if program_id:
        q = q.where(StandardVersion.program_id == program_id)
    return list(db.session.execute(q).scalars())
