"""Writing the verification log off the request path.

A public verification is a read: the audit hash chain records state changes (issue, revoke, decide, approve), and
verifications go to their own append-only table, ``verification_log``. How a check is written depends on who made it:

- a check by a signed-in board user, or made with an API key (an ``organisation``), is written in the request's own
  transaction, as part of the answer;
- an anonymous check is put in this worker's buffer and written with others in one multi-row INSERT, by a background
  thread, at most ``VERIFICATION_LOG_FLUSH_SECONDS`` (1 s) after it was buffered, or at once when
  ``VERIFICATION_LOG_BATCH`` (200) checks are waiting. Each row keeps the time of the check itself.

At risk on a crash: the anonymous checks of the last second or so (at most one batch, a few hundred rows) of a worker
that is killed outright (``kill -9``, out of memory, power loss). A worker that stops normally (gunicorn's graceful
shutdown, Ctrl-C, the end of a CLI command) writes its buffer before it exits. Board and API-key checks are never
buffered, so a board's own record of what it checked is complete.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import threading
import weakref

import sqlalchemy as sa

from lms.core.timeutil import utcnow

log = logging.getLogger(__name__)

DEFAULT_FLUSH_SECONDS = 1.0
DEFAULT_BATCH = 200


def _clean(text: str | None, size: int) -> str:
    # PostgreSQL text cannot hold NUL characters; visitors' input (a bogus serial, say) may contain them.
    return (text or "").replace("\x00", "")[:size]


def row(method: str, query: str, *, certificate_id: int | None, result: str, board_user_id: int | None = None,
        organisation=None, serials: list[str] | None = None, results: dict | None = None) -> dict:
    """One log row as plain values (the time of the check is taken now)."""
    return {"method": method, "query": _clean(query, 64), "certificate_id": certificate_id, "result": result[:20],
            "board_user_id": board_user_id, "organisation": _clean(str(organisation), 200) if organisation else None,
            "serials": [_clean(s, 64) for s in serials] if serials is not None else None, "results": results,
            "created_at": utcnow()}


def _insert(connection, rows: list[dict]) -> None:
    from lms.certificates.models import VerificationEvent

    # render_nulls: rows with and without a certificate go in one statement instead of one per shape.
    connection.execute(sa.insert(VerificationEvent).execution_options(render_nulls=True), rows)


def write_now(session, rows: list[dict]) -> None:
    """Write rows in the caller's transaction (board and API-key checks; the caller commits)."""
    if rows:
        _insert(session.connection(), rows)


class Buffer:
    """One app's buffer of anonymous checks in this process, and the thread that writes it."""

    def __init__(self, app) -> None:
        self._app = weakref.ref(app)
        self.flush_seconds = float(app.config.get("VERIFICATION_LOG_FLUSH_SECONDS", DEFAULT_FLUSH_SECONDS))
        self.batch = int(app.config.get("VERIFICATION_LOG_BATCH", DEFAULT_BATCH))
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._rows: list[dict] = []
        self._pid = os.getpid()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.written = 0
        self.failed = 0

    def add(self, rows: list[dict]) -> None:
        with self._lock:
            if self._pid != os.getpid():  # a forked worker starts with an empty buffer and a thread of its own
                self._rows, self._thread, self._pid = [], None, os.getpid()
            self._rows.extend(rows)
            waiting = len(self._rows)
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._run, name="verification-log", daemon=True)
                self._thread.start()
        if waiting >= self.batch:
            self._wake.set()

    def pending(self) -> int:
        with self._lock:
            return len(self._rows)

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self.flush_seconds)
            self._wake.clear()
            self.flush()

    def flush(self) -> int:
        """Write every buffered row now (one INSERT per batch); returns how many were written."""
        with self._lock:
            rows, self._rows = self._rows, []
        app = self._app()
        if not rows or app is None:
            return 0
        from lms.extensions import db

        done = 0
        try:
            with app.app_context():
                engine = db.engine
                for start in range(0, len(rows), max(self.batch, 1)):
                    chunk = rows[start:start + self.batch]
                    with engine.begin() as connection:
                        _insert(connection, chunk)
                    done += len(chunk)
        except Exception:  # the log must never take a worker down; what could not be written is reported
            self.failed += len(rows) - done
            log.exception("could not write %d verification log rows", len(rows) - done)
        self.written += done
        return done

    def close(self) -> None:
        """Write what is left and stop the thread (normal shutdown)."""
        self._closed = True
        self._wake.set()
        self.flush()


_buffers: weakref.WeakSet[Buffer] = weakref.WeakSet()


def buffer_for(app) -> Buffer:
    buf = app.extensions.get("verification_log")
    if buf is None:
        buf = app.extensions["verification_log"] = Buffer(app)
        _buffers.add(buf)
    return buf


def flush(app) -> int:
    """Write the app's buffered anonymous checks now (tests, CLI commands, shutdown)."""
    buf = app.extensions.get("verification_log")
    return buf.flush() if buf is not None else 0


def close(app) -> None:
    """Write the app's buffered checks and stop its writer thread (an app that is being discarded)."""
    buf = app.extensions.get("verification_log")
    if buf is not None:
        buf.close()


@atexit.register
def _flush_all_at_exit() -> None:
    for buf in list(_buffers):
        with contextlib.suppress(Exception):  # nothing more can be done at interpreter exit
            buf.close()
