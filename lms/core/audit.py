"""Append-only audit log with a hash chain.

Each event stores the SHA-256 of its own canonical content together with the previous event's hash, so altering or
deleting any row breaks the chain from that point on. ``verify_chain`` finds the first broken link.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from lms.core.timeutil import utcnow
from lms.extensions import db

GENESIS = "0" * 64


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(sa.String(60), index=True)
    object_type: Mapped[str] = mapped_column(sa.String(40))
    object_id: Mapped[str] = mapped_column(sa.String(64))
    details: Mapped[dict] = mapped_column(sa.JSON)
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)


def _digest(prev_hash: str, created_at: datetime, actor_id, action, object_type, object_id, details) -> str:
    payload = json.dumps(
        [prev_hash, created_at.isoformat(timespec="microseconds"), actor_id, action, object_type, str(object_id),
         details],
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _lock_chain(session) -> None:
    # Serialise writers of the chain. SQLite write transactions are already exclusive (BEGIN IMMEDIATE).
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(727001)"))


def record(action: str, obj_type: str, obj_id, *, actor=None, **details) -> AuditEvent:
    """Append one event to the chain (flushes; the caller's transaction commits)."""
    session = db.session
    _lock_chain(session)
    prev = session.execute(sa.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).scalar()
    prev = prev or GENESIS
    created_at = utcnow()
    actor_id = getattr(actor, "id", actor)
    # PostgreSQL text cannot hold NUL characters; visitors' input (a bogus serial, say) may contain them.
    clean = json.loads(json.dumps(details, default=str).replace("\\u0000", ""))
    obj_id = str(obj_id).replace("\x00", "")
    event = AuditEvent(
        created_at=created_at,
        actor_id=actor_id,
        action=action,
        object_type=obj_type,
        object_id=str(obj_id),
        details=clean,
        prev_hash=prev,
        hash=_digest(prev, created_at, actor_id, action, obj_type, obj_id, clean),
    )
    session.add(event)
    session.flush()
    return event


@dataclass
class ChainReport:
    ok: bool
    checked: int
    broken_at: int | None = None
    message: str = ""


def verify_chain(session) -> ChainReport:
    """Walk the chain in id order and report the first event whose link or content does not hold."""
    prev = GENESIS
    count = 0
    for ev in session.execute(sa.select(AuditEvent).order_by(AuditEvent.id)).scalars():
        count += 1
        if ev.prev_hash != prev:
            return ChainReport(False, count, ev.id, f"event {ev.id}: link to the previous event is broken "
                                                    "(an earlier event was altered or deleted)")
        expected = _digest(prev, ev.created_at, ev.actor_id, ev.action, ev.object_type, ev.object_id, ev.details)
        if ev.hash != expected:
            return ChainReport(False, count, ev.id, f"event {ev.id}: content does not match its hash (altered)")
        prev = ev.hash
    return ChainReport(True, count, None, f"{count} events, chain intact")
