"""Whole numbers from forms and query strings, parsed so that odd input is a clear 400/404, never a 500.

``str.isdigit()`` accepts characters such as '²' that ``int()`` rejects, and an unbounded number overflows the
database's 32-bit integer columns (PostgreSQL) or SQLite's 64-bit integers. Everything here takes ASCII digits only,
with an upper bound.
"""

from __future__ import annotations

from flask import abort, request

MAX_DB_INT = 2**31 - 1  # ids and counts are 32-bit integer columns
MAX_PAGE = 100_000


def ascii_int(raw: str | None, maximum: int = MAX_DB_INT) -> int | None:
    """``raw`` as an int when it is 1–10 ASCII digits and at most ``maximum``; otherwise None."""
    raw = (raw or "").strip()
    if not raw or len(raw) > 10 or not (raw.isascii() and raw.isdigit()):
        return None
    value = int(raw)
    return value if value <= maximum else None


def page_number() -> int:
    """The ``?page=`` of a listing: 1 when absent; 404 with a message for anything that is not a page."""
    raw = request.args.get("page")
    if raw is None or raw == "":
        return 1
    page = ascii_int(raw, MAX_PAGE)
    if page is None or page < 1:
        abort(404, description=f"There is no page {raw[:20]!r}: pages are numbered 1 to {MAX_PAGE}.")
    return page
