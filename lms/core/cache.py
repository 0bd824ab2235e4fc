"""A small byte cache for what boards read: Redis when ``REDIS_URL`` is set (shared by every worker and instance),
otherwise a bounded in-process LRU.

Keys are derived from the state of what is cached (see :func:`lms.certificates.verification.state_of`), so an entry
never has to be invalidated: a change of state is a new key, and the old entry simply ages out. The cache is an
optimisation only: when Redis cannot be reached, a read is a miss and a write is dropped, and the request is answered
from the database as if nothing were cached.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from pathlib import Path

log = logging.getLogger(__name__)

PREFIX = "orocert:cache:"


class MemoryCache:
    """Least-recently-used, bounded by entry count, with a time to live; safe across threads."""

    def __init__(self, max_entries: int = 20_000) -> None:
        self.max_entries = max_entries
        self._data: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return None
            expires, value = item
            if expires < time.monotonic():
                del self._data[key]
                return None
            self._data.move_to_end(key)
            return value

    def set(self, key: str, value: bytes, ttl: int) -> None:
        with self._lock:
            self._data[key] = (time.monotonic() + ttl, value)
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


class RedisCache:
    def __init__(self, url: str, prefix: str = PREFIX) -> None:
        import redis

        self.prefix = prefix
        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)

    def get(self, key: str) -> bytes | None:
        try:
            return self._redis.get(self.prefix + key)
        except Exception as exc:  # an unreachable cache is a miss, never an error page
            log.warning("cache read failed: %s", exc)
            return None

    def set(self, key: str, value: bytes, ttl: int) -> None:
        try:
            self._redis.set(self.prefix + key, value, ex=ttl)
        except Exception as exc:
            log.warning("cache write failed: %s", exc)

    def clear(self) -> None:
        try:
            keys = list(self._redis.scan_iter(self.prefix + "*", count=1000))
            if keys:
                self._redis.delete(*keys)
        except Exception as exc:
            log.warning("cache clear failed: %s", exc)


def cache_for(app):
    """The app's cache, made on first use (after gunicorn forks its workers, so no connection is shared)."""
    cache = app.extensions.get("orocert_cache")
    if cache is None:
        url = app.config.get("CACHE_REDIS_URL") or app.config.get("REDIS_URL")
        cache = RedisCache(url, app.config.get("CACHE_KEY_PREFIX", PREFIX)) if url else MemoryCache()
        app.extensions["orocert_cache"] = cache
    return cache


def release_fingerprint(app) -> str:
    """A short fingerprint of the templates and compiled translations this instance renders pages with.

    Cached HTML is keyed by it as well as by the state it shows, so after a release that changes a template or a
    translation, instances sharing the cache (Redis) never serve one another the old wording. Worked out once per
    process."""
    found = app.extensions.get("orocert_release")
    if found is None:
        digest = hashlib.sha256()
        folders = [Path(app.root_path, app.template_folder or "templates"),
                   Path(app.root_path, app.config.get("BABEL_TRANSLATION_DIRECTORIES", "translations"))]
        for folder in folders:
            for path in sorted(folder.rglob("*")):
                if path.suffix in (".html", ".mo") and path.is_file():
                    digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
        found = app.extensions["orocert_release"] = digest.hexdigest()[:12]
    return found
