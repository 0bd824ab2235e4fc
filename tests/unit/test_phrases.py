"""Phrases: English by value (comparisons, JSON, copies), the reader's language on display, values escaped."""

from __future__ import annotations

import copy
import json
import pickle
from datetime import date

from markupsafe import Markup, escape

from lms.core.phrases import (
    Reader,
    _,
    capitalise,
    english_only,
    format_date,
    join_phrases,
    join_words,
    localise,
    ngettext,
    number,
    or_words,
    translated_data,
    with_article,
)

FRENCH = {
    "%(n)s of %(total)s done": "%(n)s sur %(total)s terminés",
    "%(items)s and %(last)s": "%(items)s et %(last)s",
    "%(items)s or %(last)s": "%(items)s ou %(last)s",
    "Hours: %(have)s": "Heures : %(have)s",
    "Rule %(summary)s": "Règle %(summary)s",
    "in-person lab": "laboratoire en personne",
    "Note: %(note)s": "Remarque : %(note)s",
}
FRENCH_PLURALS = {"%(n)s session": ("%(n)s séance", "%(n)s séances")}


class Catalogue:
    """A French catalogue in miniature (gettext and ngettext with French plural rules)."""

    def gettext(self, msgid):
        return FRENCH.get(msgid, msgid)

    def ngettext(self, singular, plural, n):
        forms = FRENCH_PLURALS.get(singular, (singular, plural))
        return forms[1] if n > 1 else forms[0]


FR = Reader("fr", Catalogue())


def test_value_is_english_and_behaves_as_str():
    phrase = _("%(n)s of %(total)s done", n=3, total=5)
    assert phrase == "3 of 5 done" and phrase.startswith("3 of") and hash(phrase) == hash("3 of 5 done")
    assert json.dumps({"p": phrase}) == '{"p": "3 of 5 done"}'
    assert f"{phrase}!" == "3 of 5 done!" and type(f"{phrase}") is str
    assert phrase.render(FR) == "3 sur 5 terminés"


def test_copies_and_pickles_keep_the_phrase():
    phrase = _("%(n)s of %(total)s done", n=3, total=5) + "."
    for twin in (copy.deepcopy(phrase), pickle.loads(pickle.dumps(phrase))):  # noqa: S301 - our own bytes
        assert twin == "3 of 5 done." and twin.render(FR) == "3 sur 5 terminés."


def test_plural_forms_follow_each_language():
    assert ngettext("%(n)s session", "%(n)s sessions", 1, n=1) == "1 session"
    assert ngettext("%(n)s session", "%(n)s sessions", 0, n=0) == "0 sessions"
    assert ngettext("%(n)s session", "%(n)s sessions", 0, n=0).render(FR) == "0 séance"  # French: 0 is singular
    assert ngettext("%(n)s session", "%(n)s sessions", 2, n=2).render(FR) == "2 séances"
    assert ngettext("%(n)s session", "%(n)s sessions", 1.5, n=1.5).render(FR) == "1.5 séances"  # no float warning


def test_words_joined_capitalised_and_with_articles():
    lab = _("in-person lab")
    joined = join_words(["M1", "M2", lab])
    assert joined == "M1, M2 and in-person lab" and joined.render(FR) == "M1, M2 et laboratoire en personne"
    assert join_words(["M1"]) == "M1" and join_words([]) == ""
    assert join_words([lab]) is lab
    assert or_words(joined) == "M1, M2 or in-person lab"
    assert or_words(joined).render(FR) == "M1, M2 ou laboratoire en personne"
    assert capitalise(lab) == "In-person lab" and capitalise(lab).render(FR) == "Laboratoire en personne"
    assert with_article("occupational therapist") == "an occupational therapist"
    assert with_article(lab).render(FR) == "laboratoire en personne"  # French: "en tant que massothérapeute"
    assert join_phrases("; ", [lab, "x"]).render(FR) == "laboratoire en personne; x"


def test_numbers_and_dates_english_by_value():
    assert number(12.5, "12.5") == "12.5"
    assert format_date(date(2026, 11, 29)) == "29 Nov 2026" and format_date(date(2026, 11, 29), "long") == \
        "29 November 2026"
    assert format_date("2026-11-29") == "29 Nov 2026" and format_date("soon") == "soon" and format_date(None) == ""


def test_html_escapes_every_value_and_marks_english_only_data():
    summary = english_only("Gloves <required> & consent")
    rule = _("Rule %(summary)s", summary=summary)
    html = rule.render(FR, html=True)
    assert isinstance(html, Markup)
    assert html == 'Règle <span lang="en">Gloves &lt;required&gt; &amp; consent</span>'
    assert rule.render(FR) == "Règle Gloves <required> & consent"  # plain text: no markup
    note = _("Note: %(note)s", note="<script>alert(1)</script>")
    assert note.render(FR, html=True) == "Remarque : &lt;script&gt;alert(1)&lt;/script&gt;"
    # Outside a request, and on an English page, the English text, escaped.
    assert note.__html__() == escape("Note: <script>alert(1)</script>")
    assert localise(note) == "Note: <script>alert(1)</script>"


def test_data_with_a_translation_uses_it():
    title = translated_data("Written exam", {"fr": "Examen écrit", "de": None})
    assert title == "Written exam" and title.render(FR) == "Examen écrit"
    assert title.render(FR, html=True) == "Examen écrit"  # no lang mark: it is French
    assert translated_data("Written exam").render(FR, html=True) == '<span lang="en">Written exam</span>'


def test_rstrip_keeps_the_phrase_when_nothing_is_stripped():
    step = _("in-person lab")
    assert step.rstrip(".") is step
    assert type(_("Done.").rstrip(".")) is str


def test_plain_english_makes_plain_strings_with_the_same_words():
    from lms.core.phrases import Phrase, plain_english

    def make():
        return [_("%(n)s of %(total)s done", n=3, total=5), ngettext("%(n)s session", "%(n)s sessions", 2, n=2),
                join_words(["M1", "M2"]), with_article("dentist"), translated_data("Exam", {"fr": "Examen"}),
                number(7.5, "7.5"), format_date(date(2026, 11, 29)), join_phrases("; ", ["a", "b"])]

    phrases = make()
    with plain_english():
        plain = make()
    assert plain == phrases and all(isinstance(p, Phrase) for p in phrases)
    assert all(type(p) is str for p in plain)
    assert isinstance(_("x"), Phrase)  # back to phrases after the block
