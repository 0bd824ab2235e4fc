"""Board API keys: issue (shown once), look up by the presented key, revoke. Operations flush; the caller commits."""

from __future__ import annotations

import hashlib
import hmac
import secrets

import sqlalchemy as sa

from lms.api.models import BoardApiKey
from lms.core import audit
from lms.core.timeutil import utcnow
from lms.extensions import db

KEY_PREFIX = "ocb_"
MAX_ORGANISATION_LENGTH = 200


class ApiKeyError(ValueError):
    pass


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def issue(organisation: str, *, actor) -> tuple[BoardApiKey, str]:
    """Issue a key to ``organisation``; returns the record and the key, which is never stored or shown again."""
    organisation = " ".join((organisation or "").split())
    if not organisation:
        raise ApiKeyError("Name the board organisation the key is for.")
    if len(organisation) > MAX_ORGANISATION_LENGTH:
        raise ApiKeyError(f"Use at most {MAX_ORGANISATION_LENGTH} characters for the organisation.")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    record = BoardApiKey(organisation=organisation, prefix=key[:12], key_sha256=_digest(key), created_by_id=actor.id)
    db.session.add(record)
    db.session.flush()
    audit.record("api_key.issue", "api_key", record.id, actor=actor, organisation=organisation, prefix=record.prefix)
    return record, key


def find_active(presented: str) -> BoardApiKey | None:
    """The active key matching ``presented``, or None (unknown, malformed or revoked)."""
    if not presented or not presented.startswith(KEY_PREFIX) or len(presented) > 100:
        return None
    digest = _digest(presented)
    record = db.session.execute(sa.select(BoardApiKey).filter_by(key_sha256=digest)).scalar_one_or_none()
    if record is None or not hmac.compare_digest(record.key_sha256, digest) or not record.is_active:
        return None
    return record


def revoke(record: BoardApiKey, *, actor) -> None:
    if not record.is_active:
        raise ApiKeyError("This key is already revoked.")
    record.revoked_at = utcnow()
    record.revoked_by_id = actor.id
    db.session.flush()
    audit.record("api_key.revoke", "api_key", record.id, actor=actor, organisation=record.organisation)


def all_keys() -> list[BoardApiKey]:
    return list(db.session.execute(sa.select(BoardApiKey).order_by(BoardApiKey.revoked_at.is_not(None),
                                                                   BoardApiKey.organisation, BoardApiKey.id)).scalars())
