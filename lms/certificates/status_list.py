"""The public revocation status list (``/credentials/status/1``), signed once per day and per set of revocations.

Signing the list (a JSON-LD canonicalisation and an Ed25519 proof) costs far more than reading which certificates are
revoked. So the signed document is cached under a key derived from the day and the revoked indexes: a revocation is a
new key and shows at once; otherwise every request of the day is served the same signed bytes, from Redis when
configured. The nightly job (:func:`lms.jobs.tasks.refresh_status_list`) signs the new day's list ahead of the first
request.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from flask import current_app

from lms.certificates import keys, ob3
from lms.certificates.queries import status_list_indexes_revoked
from lms.core.cache import cache_for

CACHE_SECONDS = 2 * 86400


def _url() -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + "/credentials/status/1"


def document(now: datetime | None = None) -> tuple[bytes, str, int]:
    """The signed status-list credential as JSON bytes, its ETag and how many certificates it lists as revoked."""
    now = now or datetime.now(UTC)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    revoked = sorted(status_list_indexes_revoked())
    state = hashlib.sha256(f"{_url()}|{keys.issuer_did()}|{day.date()}|{revoked}".encode()).hexdigest()[:32]
    cache = cache_for(current_app)
    key = f"status-list:1:{state}"
    body = cache.get(key)
    if body is None:
        encoded = ob3.encode_status_list(revoked)
        cred = ob3.build_status_list_credential(_url(), keys.issuer_did(), encoded, keys.credential_key_seed(),
                                                keys.verification_method(), day)
        body = json.dumps(cred, separators=(",", ":")).encode()
        cache.set(key, body, CACHE_SECONDS)
    return body, state, len(revoked)
