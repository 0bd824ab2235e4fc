"""Engine settings: SQLite in WAL mode with a busy timeout, and write transactions that start with BEGIN IMMEDIATE.

A deferred SQLite transaction that reads and then writes can fail at once with SQLITE_BUSY_SNAPSHOT, whatever the
busy timeout. Requests that may write (POST and friends) and CLI commands therefore open their transaction with
BEGIN IMMEDIATE, which waits for the write lock up front. Read-only requests keep deferred transactions so readers
never queue behind writers.
"""

from __future__ import annotations

import contextlib
import contextvars

from sqlalchemy import event

_immediate = contextvars.ContextVar("sqlite_begin_immediate", default=False)
_single_read = contextvars.ContextVar("sqlite_single_read", default=False)


def set_write_intent(value: bool) -> None:
    _immediate.set(value)


def configure_engine(engine) -> None:
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # let us emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=15000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        if _single_read.get():
            return  # one SELECT on its own: SQLite runs it in a read transaction of its own, no BEGIN needed
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _immediate.get() else "BEGIN")


@contextlib.contextmanager
def read_connection(engine):
    """A pooled connection for one read statement of its own, outside the session. On SQLite no transaction is opened
    around it (the statement is atomic by itself, and reads in a snapshot of its own), and never BEGIN IMMEDIATE
    whatever the request intends to write: a pure read never needs the write lock, and taking it here would wait on a
    lock that this very thread's session may already hold (until the busy timeout gives up). Run one statement only:
    two statements on this connection would not share a snapshot."""
    token, single = _immediate.set(False), _single_read.set(True)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        _single_read.reset(single)
        _immediate.reset(token)


def advisory_lock(session, key: str) -> None:
    """Serialise writers that read then write the same facts (e.g. one trainee's ledger) until the transaction ends.

    PostgreSQL: a transaction-scoped advisory lock on a hash of ``key``. SQLite: nothing to do, because write
    transactions already start with BEGIN IMMEDIATE and so run one at a time.
    """
    import zlib

    from sqlalchemy import text

    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": zlib.crc32(key.encode())})


@contextlib.contextmanager
def count_statements(app):
    """Collect the SQL statements ``app``'s engine sends inside the block (query budgets and benchmarks)."""
    from lms.extensions import db

    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def _count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", _count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", _count)
