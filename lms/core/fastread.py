"""One-statement reads on the hot path, without the ORM session.

A public verification answers thousands of anonymous requests a second with one indexed read. Going through the
session costs several times the query itself (its transaction bookkeeping, the ORM's result processing and, for a
Core statement, building the statement's cache key on every call). :class:`FastRead` compiles a Core ``SELECT`` once
per dialect, runs it as plain driver SQL on a pooled connection of its own (:func:`read_connection`, whose
transaction ends at once) and hands the row back as a tuple. Column values are converted to Python types (dates on
SQLite, JSON) only when asked for, with :meth:`FastRead.values`, using the same type processors SQLAlchemy would use.
"""

from __future__ import annotations

from typing import Any

from lms.core.database import read_connection


class FastRead:
    def __init__(self, statement, rewrite: dict | None = None) -> None:
        """``rewrite`` maps a dialect name to a function that adjusts the compiled SQL text for that dialect (an
        index hint that SQLAlchemy cannot express, say)."""
        self.statement = statement
        self.names = list(statement.selected_columns.keys())
        self._rewrite = rewrite or {}
        self._compiled: dict[str, tuple] = {}

    def _for(self, dialect) -> tuple:
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self.statement.compile(dialect=dialect)
            sql = self._rewrite.get(dialect.name, lambda text: text)(compiled.string)
            processors = [c.type.dialect_impl(dialect).result_processor(dialect, None)
                          for c in self.statement.selected_columns]
            found = self._compiled[dialect.name] = (compiled, sql, processors)
        return found

    def first(self, engine, **params: Any) -> tuple | None:
        """The first row for ``params`` as a raw tuple (driver values), or None."""
        compiled, sql, _ = self._for(engine.dialect)
        bound = compiled.construct_params(params)
        args = tuple(bound[name] for name in compiled.positiontup) if compiled.positional else bound
        with read_connection(engine) as conn:
            row = conn.exec_driver_sql(sql, args).first()
        return tuple(row) if row is not None else None

    def values(self, engine, row: tuple) -> dict[str, Any]:
        """A raw row as ``{column name: Python value}``, converted as the ORM would convert it."""
        _, _, processors = self._for(engine.dialect)
        return {name: (proc(value) if proc is not None else value)
                for name, proc, value in zip(self.names, processors, row, strict=True)}
