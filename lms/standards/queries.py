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


HOUR_CATEGORY_ORDER = ("lab_in_person", "clinical_extraoral", "clinical_intraoral")


def hour_targets(standard_data: dict) -> dict[str, float]:
    """Hours needed per category under a standard: the largest single-category ``approved_hours`` requirement."""
    targets: dict[str, float] = {}
    for req in standard_data.get("requirements") or ():
        params = req.get("params") or {}
        cats = ([params["category"]] if params.get("category") else []) + list(params.get("categories") or ())
        if req.get("type") == "approved_hours" and len(cats) == 1:
            targets[cats[0]] = max(targets.get(cats[0], 0.0), float(params.get("min_hours") or 0))
    return {c: targets[c] for c in sorted(targets, key=lambda c: (HOUR_CATEGORY_ORDER + (c,)).index(c))}


def hour_targets_for_user(user_id: int, program) -> dict[str, float]:
    """The targets of the standard the trainee's enrollment is pinned to (the program's file only as a fallback)."""
    version = standard_for_user(user_id, program.id)
    targets = hour_targets(version.data) if version is not None else {}
    return targets or program.hour_targets
