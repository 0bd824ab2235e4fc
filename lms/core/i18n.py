"""Languages of the interface (English and French) and locale-aware dates and numbers.

The language of a request is, in this order: the signed-in user's own setting, ``?lang=fr|en`` (remembered in the
session, so a visitor who switched keeps the language on the next page), the best match of ``Accept-Language``, and
English. Pages answer with ``Vary: Accept-Language`` so a shared cache never serves one language for the other.
"""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlencode

from flask import Flask, has_request_context, request, session
from flask_babel import Babel, get_locale, gettext, lazy_gettext
from flask_babel import format_date as _babel_format_date
from flask_babel import format_datetime as _babel_format_datetime
from flask_babel import format_decimal as _babel_format_decimal
from flask_login import current_user

DEFAULT = "en"
# Each language named in itself: that is how a reader looks for their own.
LANGUAGES = {"en": "English", "fr": "Français"}
SUPPORTED = tuple(LANGUAGES)
__all__ = ["N_", "gettext", "format_date", "format_datetime", "format_number", "select_locale"]
SESSION_KEY = "lang"
QUERY_ARG = "lang"

babel = Babel()


def N_(text: str) -> str:
    """Marks text for the catalogue without translating it here (a constant translated where it is shown)."""
    return text


def _supported(value) -> str | None:
    return value if isinstance(value, str) and value in LANGUAGES else None


def select_locale() -> str:
    """The language of this request (see the module's docstring for the order)."""
    if not has_request_context():
        return DEFAULT
    if current_user.is_authenticated and _supported(getattr(current_user, "locale", None)):
        return current_user.locale
    return (_supported(request.args.get(QUERY_ARG)) or _supported(session.get(SESSION_KEY))
            or request.accept_languages.best_match(SUPPORTED) or DEFAULT)


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT


def _remember_asked_language() -> None:
    asked = _supported(request.args.get(QUERY_ARG))
    if asked and session.get(SESSION_KEY) != asked and not request.path.startswith("/api/"):
        session[SESSION_KEY] = asked


def _vary_on_language(response):
    if response.mimetype == "text/html":
        response.vary.add("Accept-Language")
    return response


def localized_etag(etag: str) -> str:
    """A page's ETag for the language it was rendered in: one language's copy never answers for the other."""
    return f"{etag}-{current_language()}"


def set_user_locale(user, value: str | None) -> None:
    """Save a user's language: ``en``, ``fr``, or None to follow the browser. Anything else is refused."""
    if value in (None, ""):
        user.locale = None
        return
    if not _supported(value):
        raise ValueError(lazy_gettext("Choose English or French."))
    user.locale = value


def switch_targets() -> list[dict]:
    """The languages a reader can switch to from this page: code, name, and the same page's URL in that language."""
    here = current_language()
    args = request.args.to_dict(flat=True) if has_request_context() else {}
    path = request.script_root + request.path if has_request_context() else "/"
    return [{"code": code, "name": name, "url": f"{path}?{urlencode({**args, QUERY_ARG: code})}"}
            for code, name in LANGUAGES.items() if code != here]


# Locale-aware formatting. ``style`` is Babel's: "short", "medium", "long" or "full", or a CLDR pattern.
# In English "long" reads "November 29, 2026"; in French "29 novembre 2026".


def format_date(value: date | datetime | None, style: str = "long") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.date()
    return _babel_format_date(value, style)


def format_datetime(value: datetime | None, style: str = "medium") -> str:
    if value is None:
        return ""
    return _babel_format_datetime(value, style)


def format_number(value, digits: int | None = None) -> str:
    """A number with the locale's separators ("1,234.5" in English, "1 234,5" in French)."""
    if value is None:
        return ""
    if digits is not None:
        return _babel_format_decimal(value, format="#,##0." + "0" * digits if digits else "#,##0")
    return _babel_format_decimal(value)


def translated_label(text: str | None) -> str:
    """A label from data (a profession, a jurisdiction, a program title) in the reader's language when the catalogue
    has it, else as written. Returns plain text, so the template escapes it like any other value."""
    return str(gettext(text)) if text else (text or "")


def english_text(value) -> str:
    """Data that exists only in English (course text, a rule's summary): on a page in another language it is marked
    ``lang="en"`` so a screen reader reads it with an English voice. Not for attributes (it may carry markup)."""
    from lms.core.phrases import english_only

    return english_only(str(value)) if value not in (None, "") else ""


def standard_title(item) -> str:
    """An entry of a standard (a requirement, competency or OSCE station) by its title in the reader's language: the
    standard's ``title_fr`` on a French page when it gives one, else the English title. Plain text."""
    from lms.core.phrases import localise, translated_data

    return localise(translated_data(item.get("title") or item.get("id") or "", {"fr": item.get("title_fr")}))


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")  # lms/translations
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.policies["ext.i18n.trimmed"] = True  # as babel.cfg extracts them
    app.before_request(_remember_asked_language)
    app.after_request(_vary_on_language)
    app.jinja_env.globals.update(current_language=current_language, language_switch=switch_targets,
                                 language_names=LANGUAGES)
    app.jinja_env.filters.update(locale_date=format_date, locale_datetime=format_datetime,
                                 locale_number=format_number, translated_label=translated_label,
                                 english=english_text, standard_title=standard_title)
