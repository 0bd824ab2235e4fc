"""Phrases: English text that can also say itself in the reader's language.

Code that must stay free of Flask and stable in English (the eligibility engine: its CLI output, JSON and API are
English and tests pin the wording) still has to speak French on a French page. A ``Phrase`` is a ``str`` whose value
is the English text, so comparing, hashing, ``startswith``, JSON and f-strings all see English. It also remembers how
it was made (a catalogue message and its named values), so a page can say it in the reader's language:

- in a template, ``{{ phrase }}`` renders in the request's language (Jinja escapes values through ``__html__``, the
  way Flask-Babel's lazy strings work), and text only available in English is wrapped in ``<span lang="en">`` on a
  page in another language, so a screen reader switches voice;
- in Python, ``localise(phrase)`` gives plain text in the request's language (for a flash message, say).

``_("Hours: %(have)s of %(need)s", have=..., need=...)`` and ``ngettext(singular, plural, n, **values)`` are marked
for the catalogue like Flask-Babel's (``pybabel extract`` finds them by name). Values may be phrases themselves
(a date, a number, a profession), each said in the reader's language too. Operations that build new text keep the
phrase only when they go through this module (``+`` and the helpers below); ``str`` methods and f-strings give plain
English.

A phrase is never put inside an HTML attribute: its HTML may carry a ``<span lang>``. Use ``localise`` there.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from markupsafe import Markup, escape

__all__ = ["Phrase", "_", "capitalise", "english_only", "format_date", "join_phrases", "join_words", "localise",
           "ngettext", "number", "or_words", "plain_english", "translated_data", "with_article"]

ENGLISH = "en"
_PLAIN: ContextVar[bool] = ContextVar("phrases_plain", default=False)


@contextmanager
def plain_english() -> Iterator[None]:
    """Inside, phrases are made as plain English ``str``: the same text, without what it takes to translate it. For
    bulk work whose text no reader sees in another language (cohort lists and reports, the command line)."""
    token = _PLAIN.set(True)
    try:
        yield
    finally:
        _PLAIN.reset(token)


@dataclass(frozen=True)
class Reader:
    """The language a phrase is said in, with its catalogue (anything with ``gettext`` and ``ngettext``)."""

    language: str
    translations: Any


def current_reader() -> Reader | None:
    """The request's language when it is not English; None (say it in English) outside Flask or in English."""
    from flask import has_app_context

    if not has_app_context():
        return None
    from flask_babel import get_locale, get_translations

    locale = get_locale()
    if locale is None or locale.language == ENGLISH:
        return None
    return Reader(locale.language, get_translations())


def _say(value: Any, reader: Reader, html: bool) -> Any:
    """One value of a phrase in the reader's language (escaped, for HTML)."""
    if isinstance(value, Phrase):
        return value.render(reader, html)
    if html:
        return escape(value)
    return value


class Phrase(str):
    """English text (the ``str`` value) made from a catalogue message and named values."""

    msgid: str
    params: Mapping[str, Any]

    def __new__(cls, msgid: str, /, **params: Any) -> Phrase:
        english = msgid % params if params else msgid
        if _PLAIN.get():
            return english
        obj = str.__new__(cls, english)
        obj.__dict__ = {"msgid": msgid, "params": params}
        return obj

    @classmethod
    def _make(cls, english: str, attrs: dict[str, Any]):
        """A phrase of this class whose English is ``english``, with ``attrs`` as its state (taken, not copied)."""
        obj = str.__new__(cls, english)
        obj.__dict__ = attrs
        return obj

    # A phrase is immutable: copies are itself (dataclasses.asdict deep-copies its fields).
    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        return (_rebuild, (type(self), str(self), dict(self.__dict__)))

    def _template(self, reader: Reader) -> str:
        return reader.translations.gettext(self.msgid)

    def render(self, reader: Reader, html: bool = False) -> str:
        """The phrase in ``reader``'s language: plain text, or HTML (``Markup``, every value escaped)."""
        text = self._template(reader)
        if not self.params:
            return escape(text) if html else text
        values = {k: _say(v, reader, html) for k, v in self.params.items()}
        return escape(text) % values if html else text % values

    def __html__(self) -> Markup:
        reader = current_reader()
        return escape(str(self)) if reader is None else self.render(reader, html=True)

    def __add__(self, other):
        if not isinstance(other, str):
            return NotImplemented
        return Joined._of("", (self, other))

    def __radd__(self, other):
        if not isinstance(other, str):
            return NotImplemented
        return Joined._of("", (other, self))

    def rstrip(self, chars: str | None = None) -> str:
        """Itself when there is nothing to strip (the engine strips a final full stop from next steps)."""
        stripped = str.rstrip(self, chars)
        return self if len(stripped) == len(self) else stripped


def _rebuild(cls, english: str, attrs: dict) -> Phrase:
    return cls._make(english, attrs)


class Plural(Phrase):
    """A message with a singular and a plural form, chosen by ``n`` in each language."""

    def __new__(cls, singular: str, plural: str, n: float, /, **params: Any) -> Plural:
        msgid = singular if n == 1 else plural
        if _PLAIN.get():
            return msgid % params if params else msgid
        return cls._make(msgid % params if params else msgid,
                         {"msgid": singular, "plural": plural, "n": n, "params": params})

    def _template(self, reader: Reader) -> str:
        n = self.n
        # Catalogue plural rules take whole numbers: 1.5 hours reads like 2, 0.5 like 1.
        count = int(n) if float(n).is_integer() else math.ceil(n)
        return reader.translations.ngettext(self.msgid, self.plural, count)


class Joined(Phrase):
    """Pieces said one after the other with a separator (itself a phrase or plain text)."""

    @classmethod
    def _of(cls, sep: str, parts: Iterable[str]) -> Joined:
        parts = tuple(parts)
        if _PLAIN.get():
            return str(sep).join(parts)
        return cls._make(str(sep).join(parts), {"sep": sep, "parts": parts})

    def render(self, reader: Reader, html: bool = False) -> str:
        sep = _say(self.sep, reader, html)
        said = [_say(p, reader, html) for p in self.parts]
        return escape(sep).join(said) if html else str(sep).join(said)


class Capitalised(Phrase):
    """A phrase with its first letter in upper case, in every language."""

    def render(self, reader: Reader, html: bool = False) -> str:
        text = _say(self.inner, reader, html)
        return text[:1].upper() + text[1:]


class DataText(Phrase):
    """Text from data (a standard, a rule file): English, with the translations the data gives.

    In a language the data has no text for, the English is shown, marked ``lang="en"`` in HTML.
    """

    def render(self, reader: Reader, html: bool = False) -> str:
        text = self.translations.get(reader.language)
        if text:
            return escape(text) if html else text
        if html:
            return Markup('<span lang="en">%s</span>') % str(self)
        return str(self)


class Label(Phrase):
    """A label from data said through the catalogue (a profession, a place), lower-cased when asked."""

    def render(self, reader: Reader, html: bool = False) -> str:
        text = reader.translations.gettext(self.msgid)
        text = text.lower() if self.lower else text
        return escape(text) if html else text


class Noun(Phrase):
    """ "a dentist" in English; other languages say the bare noun ("en tant que dentiste", "est dentiste")."""

    def render(self, reader: Reader, html: bool = False) -> str:
        return _say(self.noun, reader, html)


class Number(Phrase):
    """A number written the English way ("12.5"), in the reader's own way elsewhere ("12,5")."""

    def render(self, reader: Reader, html: bool = False) -> str:
        from lms.core.i18n import format_number

        text = format_number(self.value)
        return escape(text) if html else text


class DateText(Phrase):
    """A date in English words ("29 Nov 2026"), in the reader's language elsewhere ("29 nov. 2026")."""

    def render(self, reader: Reader, html: bool = False) -> str:
        from lms.core.formatting import format_date as locale_date

        text = locale_date(self.value, self.style)
        return escape(text) if html else text


# --------------------------------------------------------------------------------------------------------------------
# Making phrases


# _(msgid, **values): a catalogue message with named values (``%(name)s``), English now and translatable on display.
# ngettext(singular, plural, n, **values): a message whose form depends on n (English: singular only when n is 1).
# Plain aliases of the classes (the engine makes hundreds of phrases per decision; a wrapper call would double that).
_ = Phrase
ngettext = Plural


def join_phrases(sep: str, parts: Iterable[str]) -> Phrase:
    """``sep.join(parts)`` that stays translatable."""
    return Joined._of(sep, parts)


_AND = "%(items)s and %(last)s"  # join_words's message (or_words recognises it)


def join_words(words: Iterable[str]) -> str:
    """["a"] -> "a"; ["a", "b"] -> "a and b"; ["a", "b", "c"] -> "a, b and c" ("et" in French)."""
    words = list(words)
    if len(words) <= 1:
        return words[0] if words else ""
    return _("%(items)s and %(last)s", items=join_phrases(", ", words[:-1]), last=words[-1])


def or_words(words: str) -> str:
    """ "a, b and c" (from ``join_words``) -> "a, b or c"."""
    if isinstance(words, Phrase) and getattr(words, "msgid", None) == _AND:
        return _("%(items)s or %(last)s", **words.params)
    return words.replace(" and ", " or ") if " and " in words else words


def capitalise(text: str) -> str:
    """Upper-case the first letter only (keeps "OMT", "in-person" and the like intact)."""
    english = text[:1].upper() + text[1:]
    return Capitalised._make(english, {"inner": text}) if isinstance(text, Phrase) else english


def with_article(noun: str) -> str:
    """ "dentist" -> "a dentist"; "occupational therapist" -> "an occupational therapist"."""
    english = ("an " if noun[:1].lower() in "aeiou" else "a ") + noun
    return english if _PLAIN.get() else Noun._make(english, {"noun": noun})


def translated_data(english: str, translations: Mapping[str, Any] | None = None) -> Phrase:
    """Text from data with its translations by language code (``{"fr": "..."}``); missing ones fall back to
    English, marked as English on the page."""
    if _PLAIN.get():
        return str(english)
    if not translations:
        return _data_text(str(english), ())
    return _data_text(str(english), tuple((lang, str(text)) for lang, text in translations.items() if text))


@lru_cache(maxsize=4096)
def _data_text(english: str, given: tuple[tuple[str, str], ...]) -> Phrase:
    # Phrases are immutable, so one object serves every decision that shows this title (standards repeat them).
    return DataText._make(english, {"translations": dict(given)})


def english_only(text: str) -> Phrase:
    """Data that exists only in English (a rule summary, a reason typed by an assessor)."""
    return translated_data(text)


def label(text: str, *, lower: bool = False) -> Phrase:
    """A data label the catalogue translates (its msgid is ``text`` as written)."""
    return (text.lower() if lower else text) if _PLAIN.get() else _label(text, lower)


@lru_cache(maxsize=1024)
def _label(text: str, lower: bool) -> Phrase:
    return Label._make(text.lower() if lower else text, {"msgid": text, "lower": lower})


def number(value: float, english: str) -> Phrase:
    """``value`` shown as ``english`` in English and with the reader's decimal separator elsewhere."""
    return english if _PLAIN.get() else Number._make(english, {"value": value})


def format_date(value: date | datetime | str | None, style: str = "medium") -> str:
    """``lms.core.formatting.format_date`` that always reads English as text and the reader's language on a page."""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.date()
    if _PLAIN.get():
        from lms.core.formatting import english_date

        return english_date(value, style)
    return _date_text(value, style)


@lru_cache(maxsize=4096)
def _date_text(value: date, style: str) -> Phrase:
    from lms.core.formatting import english_date

    return DateText._make(english_date(value, style), {"value": value, "style": style})


def localise(value: Any) -> str:
    """Plain text in the request's language: a phrase said in it, anything else as ``str``. An exception gives its
    message (a phrase when it was raised with one)."""
    if isinstance(value, BaseException) and len(value.args) == 1:
        value = value.args[0]
    reader = current_reader()
    if reader is not None and isinstance(value, Phrase):
        return str(value.render(reader))
    return str(value)
