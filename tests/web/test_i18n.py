"""The interface language: the user's setting, then ?lang (remembered), then Accept-Language, then English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from lms.auth.models import User
from lms.core import i18n
from lms.extensions import db
from tests.factories import PASSWORD, create_user

TRANSLATIONS = Path(__file__).resolve().parents[2] / "lms" / "translations"


def _lang(resp) -> str:
    match = re.search(r'<html lang="([a-z]+)">', resp.get_data(as_text=True))
    assert match, "every page names its language"
    return match.group(1)


def _sign_in(app, client, *, locale=None, email="reader@i18n.test"):
    with app.app_context():
        user = create_user("trainee", email=email)
        user.locale = locale
        db.session.commit()
    assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302


def test_english_by_default_and_french_from_accept_language(client):
    assert _lang(client.get("/regulations")) == "en"
    resp = client.get("/regulations", headers={"Accept-Language": "fr-CA,fr;q=0.9,en;q=0.5"})
    assert _lang(resp) == "fr"
    assert "Accept-Language" in resp.headers["Vary"]
    assert _lang(client.get("/regulations", headers={"Accept-Language": "de-DE, es;q=0.8"})) == "en"


def test_lang_query_beats_accept_language_and_is_remembered(client):
    resp = client.get("/regulations?lang=fr", headers={"Accept-Language": "en-US"})
    assert _lang(resp) == "fr"
    # The next page, without ?lang, stays in French for this visitor.
    assert _lang(client.get("/verify", headers={"Accept-Language": "en-US"})) == "fr"
    assert _lang(client.get("/verify?lang=en", headers={"Accept-Language": "fr"})) == "en"
    assert _lang(client.get("/login", headers={"Accept-Language": "fr"})) == "en"


def test_unknown_lang_value_is_ignored(client):
    assert _lang(client.get("/regulations?lang=de", headers={"Accept-Language": "fr"})) == "fr"
    assert _lang(client.get("/regulations?lang=<script>")) == "en"


def test_users_setting_beats_lang_query_and_accept_language(app, client):
    _sign_in(app, client, locale="fr")
    assert _lang(client.get("/account?lang=en", headers={"Accept-Language": "en"})) == "fr"


def test_user_without_setting_follows_the_browser_and_the_language_chosen_before_sign_in(app, client):
    client.get("/login?lang=fr")
    _sign_in(app, client, locale=None)
    assert _lang(client.get("/account", headers={"Accept-Language": "en"})) == "fr"


def test_switcher_on_public_page_links_to_the_same_page_in_the_other_language(client):
    page = client.get("/regulations?jurisdiction=CA-NB").get_data(as_text=True)
    assert 'aria-label="Language"' in page
    assert re.search(r'<a href="/regulations\?jurisdiction=CA-NB&amp;lang=fr" lang="fr" hreflang="fr">Français</a>',
                     page)
    french = client.get("/regulations?lang=fr").get_data(as_text=True)
    assert 'aria-label="Langue"' in french  # French text from the catalogue
    assert 'hreflang="en">English</a>' in french


def test_signed_in_switch_saves_the_users_language(app, client):
    _sign_in(app, client)
    page = client.get("/account").get_data(as_text=True)
    assert 'action="/account/language"' in page and 'name="locale" value="fr"' in page
    resp = client.post("/account/language", data={"locale": "fr", "next": "/account?x=1"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/account?x=1")
    with app.app_context():
        assert db.session.execute(db.select(User.locale).filter_by(email="reader@i18n.test")).scalar_one() == "fr"
    page = client.get("/account", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="fr">' in page and "Enregistrer la langue" in page
    # Back to following the browser; an unknown language is refused with a message and nothing saved.
    client.post("/account/language", data={"locale": ""})
    assert _lang(client.get("/account", headers={"Accept-Language": "en"})) == "en"
    resp = client.post("/account/language", data={"locale": "xx"}, follow_redirects=True)
    assert "Choose English or French." in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(db.select(User.locale).filter_by(email="reader@i18n.test")).scalar_one() is None


def test_switching_refuses_get_and_offsite_next(app, client):
    _sign_in(app, client)
    assert client.get("/account/language").status_code == 405
    resp = client.post("/account/language", data={"locale": "fr", "next": "https://evil.example/"})
    assert resp.headers["Location"].endswith("/account")


@pytest.mark.parametrize(("lang", "expected"), [("en", "November 29, 2026"), ("fr", "29 novembre 2026")])
def test_dates_and_numbers_follow_the_locale(app, lang, expected):
    from datetime import date, datetime

    with app.test_request_context(f"/?lang={lang}"):
        assert i18n.format_date(date(2026, 11, 29)) == expected
        assert i18n.format_date(datetime(2026, 11, 29, 23, 0)) == expected
        assert i18n.format_date(None) == ""
        number = i18n.format_number(1234.5, 1)
        assert number == ("1,234.5" if lang == "en" else "1\u202f234,5")
        assert ("2026" in i18n.format_datetime(datetime(2026, 11, 29, 14, 5)))


def test_compiled_catalogues_match_their_sources(tmp_path):
    """The committed .mo files are what `make translations` would compile from the .po files."""
    from babel.messages.mofile import write_mo

    catalogues = sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))
    assert catalogues, "a French catalogue exists"
    for po_path in catalogues:
        with po_path.open("rb") as f:
            source = read_po(f)
        fresh = tmp_path / (po_path.parent.parent.name + ".mo")
        with fresh.open("wb") as f:
            write_mo(f, source)
        with fresh.open("rb") as a, po_path.with_suffix(".mo").open("rb") as b:
            expected, committed = read_mo(a), read_mo(b)
        pairs = lambda cat: {m.id if isinstance(m.id, str) else tuple(m.id): m.string for m in cat if m.id}  # noqa: E731
        assert pairs(committed) == pairs(expected), f"{po_path}: run `make translations`"
        untranslated = [m.id for m in source if m.id and not m.string]
        assert not untranslated, f"{po_path}: untranslated: {untranslated[:10]}"
