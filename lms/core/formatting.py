"""How dates, times and durations read on pages: one format per locale, times in the reader's zone.

Templates never call ``isoformat()``: they use the ``date``, ``datetime`` and ``hours`` filters
registered here. Every filter goes through ``format_date`` / ``format_time`` so a locale-aware
implementation (Babel's ``format_date``) can replace them in one place.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DEFAULT_ZONE = "UTC"

# English (North American product, international readers): day, abbreviated month, year.
_DATE_STYLES = {"medium": "{d} {b} {Y}", "long": "{d} {B} {Y}"}


def format_date(value: date | datetime | str | None, style: str = "medium") -> str:
    """A calendar date in words, e.g. ``29 Nov 2026`` (medium) or ``29 November 2026`` (long).

    An ISO date string (as data files hold them) is read first; any other string is returned as it is.
    """
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        value = value.date()
    fixed = _FIXED.get()
    if fixed is not None:
        key = (value, style)
        text = fixed[1].get(key)
        if text is None:
            text = fixed[1][key] = _format(value, style, fixed[0])
        return text
    return _format(value, style, _french())


def _format(value: date, style: str, french: bool) -> str:
    if french:
        from lms.core import i18n

        return i18n.format_date(value, style if style in ("medium", "long") else "medium")
    return english_date(value, style)


def english_date(value: date, style: str = "medium") -> str:
    """A date in English words whatever the reader's language (``29 Nov 2026``; ``29 November 2026`` long)."""
    pattern = _DATE_STYLES.get(style, _DATE_STYLES["medium"])
    return pattern.format(d=value.day, b=value.strftime("%b"), B=value.strftime("%B"), Y=value.year)


# Inside ``fixed_language()``: whether dates are French, and the dates already formatted (by value and style).
_FIXED: ContextVar[tuple[bool, dict] | None] = ContextVar("formatting_fixed_language", default=None)


@contextmanager
def fixed_language() -> Iterator[None]:
    """Within the block, dates follow the language of this moment without asking the request each time, and each
    distinct date is formatted once: a cohort's decisions show tens of thousands of dates in one request."""
    token = _FIXED.set((_french(), {}))
    try:
        yield
    finally:
        _FIXED.reset(token)


def _french() -> bool:
    """True inside a request whose reader chose French (dates then follow the French locale)."""
    fixed = _FIXED.get()
    if fixed is not None:
        return fixed[0]
    from flask import has_request_context

    if not has_request_context():
        return False
    from lms.core.i18n import current_language

    return current_language() == "fr"


def format_time(value: datetime) -> str:
    """A wall-clock time, 24-hour, e.g. ``14:05``."""
    return value.strftime("%H:%M")


@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    """Every IANA time-zone name this system knows, sorted."""
    return tuple(sorted(available_timezones()))


def valid_zone(name: str | None) -> bool:
    """True when ``name`` is an IANA time-zone name this system knows."""
    if not name or name not in zone_names():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def zone(name: str | None) -> ZoneInfo:
    """The ZoneInfo for ``name``, or UTC when it is missing or unknown."""
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def to_zone(value: datetime, zone_name: str | None) -> datetime:
    """A stored timestamp (naive UTC, or aware) in the named zone."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone(zone_name))


def format_datetime(value: datetime | None, zone_name: str | None = None, style: str = "medium") -> str:
    """A timestamp in the reader's zone with the zone labelled, e.g. ``29 Nov 2026, 09:05 EST``."""
    if value is None:
        return ""
    local = to_zone(value, zone_name)
    return f"{format_date(local, style)}, {format_time(local)} {local.tzname() or zone_name}"


def format_hours(hours: float | int | None) -> str:
    """A duration in hours, singular or plural: ``1 hour``, ``0 hours``, ``1.5 hours``."""
    value = float(hours or 0)
    text = f"{round(value, 2):g}"
    if _french():  # French: a decimal comma, and the singular below two ("1,5 heure", "2 heures")
        return f"{text.replace('.', ',')} heure" if value < 2 else f"{text.replace('.', ',')} heures"
    return f"{text} hour" if value == 1 else f"{text} hours"


def format_minutes(minutes: int | None) -> str:
    """Minutes as hours and minutes: ``1 h 30 min``, ``45 min``, ``2 h``."""
    total = int(minutes or 0)
    h, m = divmod(total, 60)
    if h and m:
        return f"{h} h {m} min"
    return f"{h} h" if h else f"{m} min"


def plural(count: float | int, singular: str, many: str | None = None) -> str:
    """``singular`` when count is exactly 1, otherwise ``many`` (default: singular + "s")."""
    return singular if count == 1 else (many or singular + "s")


def _reader_zone() -> str:
    from flask_login import current_user

    return getattr(current_user, "time_zone", None) or DEFAULT_ZONE


def register(app) -> None:
    """Install the filters; ``datetime`` shows times in the signed-in reader's zone (UTC otherwise)."""
    app.add_template_filter(format_date, "date")
    app.add_template_filter(lambda value, style="medium": format_datetime(value, _reader_zone(), style), "datetime")
    app.add_template_filter(format_hours, "hours")
    app.add_template_filter(format_minutes, "minutes")
    app.add_template_global(plural, "plural")
    app.add_template_global(_reader_zone, "reader_zone")
    app.add_template_global(zone_names, "zone_names")
