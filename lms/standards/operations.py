"""Loading standard files as versions, and moving enrollments between versions."""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa

from lms.core import audit
from lms.extensions import db
from lms.standards.models import StandardMove, StandardVersion
from lms.standards.validation import check_standard_file, standard_digest


class StandardLoadError(ValueError):
    def __init__(self, errors):
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


def module_ids_for(program_id: str) -> set[str] | None:
    from lms.training.models import Module

    ids = set(db.session.execute(
        sa.select(Module.module_key).filter_by(program_id=program_id, is_active=True)).scalars())
    return ids or None


@lru_cache(maxsize=32)
def _checked(path: str, mtime_ns: int, size: int, module_ids: frozenset | None):
    return check_standard_file(path, module_ids=set(module_ids) if module_ids is not None else None)


def check_cached(path: Path, module_ids: set[str] | None = None):
    """``check_standard_file``, remembered while the file is unchanged (validation is the slow part of a load)."""
    st = Path(path).stat()
    data, errors = _checked(str(path), st.st_mtime_ns, st.st_size,
                            frozenset(module_ids) if module_ids is not None else None)
    return copy.deepcopy(data), errors


def load_standard(path: Path, *, actor=None) -> tuple[StandardVersion, bool]:
    """Load a standard file. A changed file creates a new version (old versions stay); an unchanged one is a no-op.

    Returns (version, created). Raises StandardLoadError with ``path:line`` errors.
    """
    from lms.training.models import Program

    data, errors = check_cached(path)
    if errors:
        raise StandardLoadError(errors)
    program_id = data["program"]
    if db.session.get(Program, program_id) is None:
        raise StandardLoadError([f"{path}:1: program '{program_id}' is not loaded; run 'flask courses load' first"])
    module_ids = module_ids_for(program_id)
    data, errors = check_cached(path, module_ids=module_ids)
    if errors:
        raise StandardLoadError(errors)
    _load_exam_bank(path, program_id, data)
    digest = standard_digest(data)
    existing = db.session.execute(sa.select(StandardVersion).filter_by(digest=digest)).scalar_one_or_none()
    if existing:
        return existing, False
    clash = db.session.execute(
        sa.select(StandardVersion).filter_by(standard_key=data["id"], version=str(data["version"]))
    ).scalar_one_or_none()
    if clash:
        raise StandardLoadError([f"{path}:1: the file changed but its version is still {data['version']}; "
                                 "give the changed standard a new version"])
    version = StandardVersion(standard_key=data["id"], version=str(data["version"]), program_id=program_id,
                              title=data["title"], digest=digest, data=data, source_path=str(path))
    db.session.add(version)
    db.session.flush()
    audit.record("standard.load", "standard_version", version.id, actor=actor, standard=data["id"],
                 version=str(data["version"]), digest=digest)
    return version, True


def _load_exam_bank(path: Path, program_id: str, data: dict) -> None:
    """The exam item bank next to the standard (``exam/``), checked against the standard's blueprint. A standard
    file elsewhere (an admin's variant) without its own bank leaves the loaded bank as it is."""
    from lms.exams.bank import EXAM_DIR, check_bank, sync_bank

    if not data.get("exam") or not (Path(path).parent / EXAM_DIR).is_dir():
        return
    items, errors = check_bank(Path(path).parent, data)
    if errors:
        raise StandardLoadError(errors)
    sync_bank(program_id, items)


def move_enrollment(enrollment, to_version: StandardVersion, *, actor, reason: str) -> StandardMove:
    """Explicitly move an enrollment to another version of its program's standard; the move is recorded."""
    if to_version.program_id != enrollment.program_id:
        raise ValueError("That standard belongs to another program.")
    if enrollment.standard_version_id == to_version.id:
        raise ValueError("The enrollment already follows that version.")
    if not reason.strip():
        raise ValueError("Give a reason for the move.")
    move = StandardMove(enrollment_id=enrollment.id, from_version_id=enrollment.standard_version_id,
                        to_version_id=to_version.id, actor_id=actor.id, reason=reason.strip())
    enrollment.standard_version_id = to_version.id
    db.session.add(move)
    db.session.flush()
    audit.record("standard.move", "enrollment", enrollment.id, actor=actor, to=to_version.id,
                 frm=move.from_version_id, reason=reason.strip())
    return move
