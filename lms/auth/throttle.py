"""Slowing down password guessing on one account without locking its owner out.

Failed sign-ins are counted per email address (known or not, so the answer says nothing about whether an account
exists), in the rate-limit storage that every instance shares (Redis in production). From the fifth failure on, the
next attempt for that address has to wait 2, 4, 8… seconds, at most ``MAX_DELAY``; a correct password after the wait
signs in at once, so an attacker gets about one guess a minute while the owner waits a minute at most. A successful
sign-in clears the count and tells the owner how many attempts failed in between.
"""

from __future__ import annotations

import time

from flask import current_app

from lms.auth.operations import normalize_email
from lms.extensions import limiter

FREE_FAILURES = 4  # failures before any delay (typos happen)
MAX_DELAY = 60  # seconds
WINDOW = 24 * 3600  # a run of failures is forgotten a day after it started


def _storage():
    if not current_app.config.get("RATELIMIT_ENABLED"):
        return None
    return limiter.storage


def _keys(email: str) -> tuple[str, str]:
    address = normalize_email(email)
    return f"orocert/signin-failures/{address}", f"orocert/signin-wait/{address}"


def seconds_to_wait(email: str) -> int:
    """Seconds until this address may try again (0: now)."""
    storage = _storage()
    if storage is None:
        return 0
    _failures, wait = _keys(email)
    if storage.get(wait) <= 0:
        return 0
    return max(1, int(storage.get_expiry(wait) - time.time() + 0.999))


def record_failure(email: str) -> int:
    """Count a failed sign-in for this address and start its delay; returns the number of failures so far."""
    storage = _storage()
    if storage is None:
        return 0
    failures_key, wait_key = _keys(email)
    failures = storage.incr(failures_key, WINDOW)
    if failures > FREE_FAILURES:
        storage.incr(wait_key, min(2 ** (failures - FREE_FAILURES), MAX_DELAY))
    return failures


def clear(email: str) -> int:
    """A successful sign-in: forget the failures; returns how many there were (for the notice to the owner)."""
    storage = _storage()
    if storage is None:
        return 0
    failures_key, wait_key = _keys(email)
    failures = storage.get(failures_key)
    storage.clear(failures_key)
    storage.clear(wait_key)
    return failures
