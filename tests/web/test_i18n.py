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
        from lms.core.formatting import format_hours

        assert format_hours(1.5) == ("1.5 hours" if lang == "en" else "1,5 heure")
        assert format_hours(12) == ("12 hours" if lang == "en" else "12 heures")


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


# --------------------------------------------------------------------------------------------------------------------
# Public pages, sign-in and registration in French
# --------------------------------------------------------------------------------------------------------------------


def test_sign_in_and_registration_in_french(client):
    page = client.get("/login?lang=fr").get_data(as_text=True)
    assert "<h1>Se connecter</h1>" in page and "Mot de passe oublié?" in page and "Créez un compte" in page
    assert '<label for="password">Mot de passe</label>' in page
    assert "Courriel" in page and "Sign in" not in page
    resp = client.post("/login", data={"email": "nobody@example.test", "password": "not-the-password"})
    assert "Ce courriel et ce mot de passe ne correspondent à aucun compte actif." in resp.get_data(as_text=True)

    page = client.get("/register").get_data(as_text=True)  # still French: remembered for the visit
    assert "<h1>Créer un compte de stagiaire</h1>" in page and "Nom complet" in page
    resp = client.post("/register", data={"name": "Élise", "email": "elise@example.test", "password": "short",
                                          "confirm": "other"})
    text = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "Utilisez au moins 12 caractères." in text and "Les mots de passe ne sont pas identiques." in text
    assert "Please correct the highlighted fields." not in text


def test_error_pages_and_regulations_in_french(client):
    resp = client.get("/no-such-page?lang=fr")
    assert resp.status_code == 404
    assert "Nous n’avons pas trouvé cette page." in resp.get_data(as_text=True)
    page = client.get("/regulations?lang=fr").get_data(as_text=True)
    assert "<h1>Règles du massage orofacial par territoire de compétence</h1>" in page
    assert "Ceci n’est pas un avis juridique." in page and "Se connecter" in page  # page text and shared header


def _issued_certificate(locale=None):
    from tests.web.test_certificates import issue, qualified_trainee

    trainee = qualified_trainee()
    trainee.locale = locale
    return issue(trainee)


def test_verify_page_in_french(ctx, program):
    from tests.web.test_certificates import client_for

    cert = _issued_certificate()
    client = client_for(ctx)
    english = client.get(f"/verify/{cert.serial}")
    french = client.get(f"/verify/{cert.serial}?lang=fr")
    text = french.get_data(as_text=True)
    assert french.status_code == 200 and '<html lang="fr">' in text
    assert f'<h1 class="verify-serial">Certificat {cert.serial}</h1>' in text
    banner = re.search(r'<div class="status-banner[^"]*" id="status-banner".*?</div>', text, re.S).group(0)
    assert "Valide" in banner and "est valide jusqu’au" in banner
    assert "Titulaire" in text and "Preuves à la délivrance" in text and "Valide jusqu’au" in text
    assert "Hygiéniste dentaire" in text and "Colombie-Britannique" in text  # labels from data, in French too
    assert "Active" not in text and "Holder" not in text
    # Each language has its own ETag, so a browser's English copy never answers for the French page.
    assert english.headers["ETag"] != french.headers["ETag"]
    again = client.get(f"/verify/{cert.serial}", headers={"If-None-Match": english.headers["ETag"]})
    assert again.status_code == 200 and '<html lang="fr">' in again.get_data(as_text=True)
    unknown = client.get("/verify/OFM-00000-00000-00000")
    assert unknown.status_code == 404 and "Aucun certificat trouvé" in unknown.get_data(as_text=True)


def test_bulk_and_pdf_check_messages_follow_the_language(ctx, program):
    from flask_babel import refresh

    from lms.certificates import verification

    cert = _issued_certificate()
    with ctx.test_request_context("/?lang=fr"):
        refresh()  # the test's requests share one application context, where Flask-Babel keeps the locale
        assert verification.verify_pdf(b"not a pdf").reason == "Le fichier n’est pas un PDF."
        assert verification.verify_pdf(cert.pdf_bytes).reason == "Authentique et valide."
    with ctx.test_request_context("/"):
        refresh()
        assert verification.verify_pdf(cert.pdf_bytes).reason == "Genuine and active."


def test_holder_who_chose_french_gets_a_french_certificate(ctx, program, tmp_path):
    from tests.web.test_certificates import pdftotext

    cert = _issued_certificate(locale="fr")
    path = tmp_path / "fr.pdf"
    path.write_bytes(cert.pdf_bytes)
    flat = " ".join(pdftotext(path).split())
    assert "Certificat" in flat and "Nous attestons que" in flat and "Harper Quinn Hygienist" in flat
    assert "Hygiéniste dentaire" in flat and "Permis d’exercer" in flat and "Colombie-Britannique" in flat
    lower = flat.lower()  # the design sets some labels in capitals
    assert "massage orofacial intrabuccal" in lower and "délivré le" in lower and "vérifier ce certificat" in lower
    months = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
              "novembre", "décembre"]
    issued = cert.issued_on
    day = "1er" if issued.day == 1 else str(issued.day)
    assert f"{day} {months[issued.month - 1]} {issued.year}" in flat
    assert "This certifies" not in flat and "Valid until" not in flat
    # Still one genuine, signed certificate: the uploaded French PDF is recognised byte for byte.
    from lms.certificates import verification

    assert verification.verify_pdf(cert.pdf_bytes).genuine


def test_certificate_language_is_checked():
    from lms.certificates import wording

    with pytest.raises(ValueError, match="certificate language"):
        wording.check_locale("de")
    from datetime import date

    assert wording.long_date(date(2026, 11, 29)) == "29 November 2026"
    assert wording.long_date(date(2026, 11, 29), "fr") == "29 novembre 2026"
    assert wording.long_date(date(2026, 12, 1), "fr") == "1er décembre 2026"


def test_trainee_who_chose_french_sees_french_pages(ctx, program):
    from tests.factories import create_trainee
    from tests.web.test_certificates import client_for

    trainee = create_trainee(email="francine@i18n.test", program=program)
    trainee.locale = "fr"
    db.session.commit()
    client = client_for(ctx, "francine@i18n.test")
    page = client.get("/dashboard", headers={"Accept-Language": "en-US"}).get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert "Bienvenue, " in page and "Heures de stage (approuvées)" in page and "Tableau de bord" in page
    assert "Se déconnecter" in page and "Welcome" not in page and "Sign out" not in page
    for url, heading in [("/hours/", "Heures de stage et de laboratoire"), ("/screenings", "Dépistages intrabuccaux"),
                         ("/renewal", "Formation continue et renouvellement"), ("/profile", "Profil du praticien")]:
        resp = client.get(url)
        assert resp.status_code == 200, url
        assert f"<h1>{heading}</h1>" in resp.get_data(as_text=True), url


def test_verify_page_of_a_revoked_certificate_in_french(ctx, program):
    from lms.certificates.issuing import revoke
    from tests.web.test_certificates import admin_user, client_for, refresh

    cert = _issued_certificate()
    refresh()
    revoke(db.session.merge(cert), actor=admin_user(), reason="internal note, never shown", category="issued_in_error")
    db.session.commit()
    text = client_for(ctx).get(f"/verify/{cert.serial}?lang=fr").get_data(as_text=True)
    banner = re.search(r'<div class="status-banner[^"]*" id="status-banner".*?</div>', text, re.S).group(0)
    assert "status-banner-revoked" in banner and "Révoqué" in banner
    assert "a été révoqué le" in banner and "Motif : Délivré par erreur." in banner and "n’est pas valide" in banner
    assert "Valide" not in banner and "Revoked" not in text and "Issued in error" not in text
    assert "internal note" not in text


def test_help_pages_and_the_pdf_check_in_french(client):
    page = client.get("/help?lang=fr").get_data(as_text=True)
    assert "<h1>Aide</h1>" in page and "<h2>Stagiaires</h2>" in page
    assert "Ordres professionnels, employeurs et public" in page and "Find your role below" not in page
    faq = client.get("/help/faq").get_data(as_text=True)  # the language is remembered for the visit
    assert "<h1>Foire aux questions</h1>" in faq and "Comment savoir si un certificat est authentique?" in faq
    assert "Frequently asked questions" not in faq
    form = client.get("/verify").get_data(as_text=True)
    assert "<h2>Ce PDF est-il authentique?</h2>" in form and "PDF du certificat (5 Mo au maximum)" in form
    assert "Vérifier le PDF</button>" in form and "Is this PDF genuine?" not in form
    resp = client.post("/verify", data={"file": (__import__("io").BytesIO(b"not a pdf"), "note.txt")},
                       content_type="multipart/form-data")
    verdict = resp.get_data(as_text=True)
    assert "Pas un PDF" in verdict and "Le fichier choisi n’est pas un PDF." in verdict and "Not a PDF" not in verdict


def test_trainee_who_chose_french_sees_the_knowledge_check_in_french(ctx, program):
    from tests.factories import create_trainee
    from tests.web.test_certificates import client_for

    trainee = create_trainee(email="kc-fr@i18n.test", program=program)
    trainee.locale = "fr"
    db.session.commit()
    client = client_for(ctx, "kc-fr@i18n.test")
    page = client.get("/modules/01-anatomy").get_data(as_text=True)
    assert '<html lang="fr">' in page and "Contrôle des connaissances" in page
    assert "questions tirées de la banque du module" in page and "Note de passage" in page
    assert "Each attempt shows" not in page and "A pass credits" not in page
