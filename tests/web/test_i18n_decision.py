"""The certification decision in the reader's language: French requirement titles from the standard, French progress
and next steps from the rules, English data marked lang="en"; the CLI, JSON and stored text stay English."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest

from lms.extensions import db
from tests.factories import create_trainee, page_text


def _french_trainee(email="decision-fr@i18n.test", locale="fr"):
    trainee = create_trainee(email=email)  # a massage therapist in Oregon, enrolled, nothing done yet
    trainee.locale = locale
    db.session.commit()
    return trainee


def test_dashboard_decision_in_french(ctx, program):
    from tests.web.test_certificates import client_for

    _french_trainee()
    raw = client_for(ctx, "decision-fr@i18n.test").get("/dashboard").get_data(as_text=True)
    page = page_text_of(raw)
    # Titles from the standard's title_fr, progress and steps from the catalogue.
    assert "Cours de base en TMO" in page and "Laboratoire en personne sous supervision directe" in page
    assert "Pas encore admissible : " in page and "exigences du certificat encore à remplir." in page
    assert "Modules : 0 sur 11 terminés" in page
    assert "Terminez les modules M1, M2, M3, M4, M5, M6, M7, M8, M9, M10 et M11" in page
    assert "Laboratoire en personne : 0 h sur 16 h" in page
    assert "Mentions obtenues :" in page and 'data-label="Progression"' in raw
    for english in ("Not yet eligible", "Complete modules", "In-person lab under direct supervision",
                    "OMT foundation course", "Endorsements qualified", 'data-label="Progress"'):
        assert english not in page, english
    # The Oregon rule's summary exists only in English: it is marked so a screen reader switches voice.
    notice = re.search(r"<h3>Avis pour votre profession et votre territoire</h3>\s*<ul><li>(.*?)</li>",
                       raw, re.S)
    assert notice, raw[:2000]
    assert notice.group(1).startswith("Oregon, massothérapeute : <span lang=\"en\">")
    assert "ceci n’est pas un avis juridique)" in notice.group(1)


def page_text_of(raw: str) -> str:
    import html

    return html.unescape(raw)


def test_the_same_decision_in_english_for_an_english_reader(ctx, program):
    from tests.web.test_certificates import client_for

    _french_trainee(email="decision-en@i18n.test", locale="en")
    raw = client_for(ctx, "decision-en@i18n.test").get("/dashboard").get_data(as_text=True)
    page = page_text_of(raw)
    assert "Not yet eligible: " in page and "Complete modules M1, M2" in page
    assert "In-person lab under direct supervision" in page and "In-person lab hours: 0 of 16" in page
    assert "Pas encore admissible" not in page and '<span lang="en">' not in raw  # the page is English already


def test_apply_page_says_why_not_in_french(ctx, program):
    from tests.web.test_certificates import client_for

    _french_trainee()
    page = page_text(client_for(ctx, "decision-fr@i18n.test").get("/certificates"))
    why = re.search(r'<div id="apply-why" class="notice">(.*?)</div>', page, re.S).group(1)
    assert "Vous n’êtes pas encore admissible. Prochaines étapes :" in why
    assert "Téléversez une entente de collaboration" in why and "You are not eligible" not in why


def test_renewal_page_in_french(ctx, program):
    from lms.certificates.issuing import add_months, issue_certificate
    from lms.demo import log_practicum, pass_modules, record_observations
    from lms.standards.queries import current_version
    from tests.factories import create_user, enrollment_of
    from tests.web.test_certificates import client_for

    admin, instructor = create_user("admin"), create_user("instructor")
    dentist = create_user("instructor", profession="dentist")
    trainee = create_trainee(profession="dental_hygienist", jurisdiction="CA-BC", email="renew-fr@i18n.test",
                             days_ago=900)
    trainee.locale = "fr"
    enrollment, today = enrollment_of(trainee), date.today()
    pass_modules(trainee, enrollment, program)
    log_practicum(trainee, enrollment, program, instructor, today, "D")
    record_observations(trainee, enrollment, current_version("omr"), [instructor, dentist], today)
    issue_certificate(trainee, actor=admin, on=add_months(today, -23))
    db.session.commit()
    page = page_text(client_for(ctx, "renew-fr@i18n.test").get("/renewal"))
    assert "Pas encore prêt pour le renouvellement : " in page and "Période de renouvellement" in page
    assert "Formation continue : 0 sur 24 heures" in page and "Séances attestées : 0 sur 20" in page
    assert "Formation continue : éthique et consentement" in page
    assert "Le renouvellement est ouvert du " in page
    for english in ("Not ready to renew", "Renewal window", "Continuing education:", "Sessions attested"):
        assert english not in page, english


def test_cli_json_and_stored_text_stay_english(ctx, program, runner):
    """The engine's text is English whatever the request's language; a page says it in French."""
    from flask_babel import refresh

    from lms.core.phrases import localise
    from lms.eligibility.service import decision_for

    trainee = _french_trainee()
    with ctx.test_request_context("/?lang=fr"):
        refresh()
        td = decision_for(trainee)
        payload = json.loads(json.dumps(td.to_dict()))
        assert payload["summary"].startswith("Not yet eligible: ")
        assert all(not r["title"].startswith("Cours") for r in payload["requirements"])
        cpr = next(r for r in td.decision.requirements if r.id == "P4")
        assert str(cpr.progress).startswith("CPR/BLS: current until ")
        expires = trainee.profile.cpr_expires_on
        assert re.search(rf"\b{expires.day} [A-Z][a-z]{{2}} {expires.year}$", cpr.progress)  # an English date
        assert localise(cpr.progress).startswith("RCR/SIR : à jour jusqu’au ")
        assert localise(td.decision.summary).startswith("Pas encore admissible : ")
    result = runner.invoke(args=["eligibility", "decision-fr@i18n.test", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["summary"].startswith("Not yet eligible: ")


@pytest.mark.parametrize("days", [-10, 10])
def test_french_dates_inside_french_text(ctx, program, days):
    """A date inside a rule's text follows the reader's language, as the rest of the page does."""
    from flask_babel import refresh

    from lms.core.phrases import localise
    from lms.eligibility.service import decision_for

    trainee = _french_trainee()
    trainee.profile.cpr_expires_on = date.today() + timedelta(days=days)
    db.session.commit()
    with ctx.test_request_context("/?lang=fr"):
        refresh()
        cpr = next(r for r in decision_for(trainee).decision.requirements if r.id == "P4")
        text = localise(cpr.progress)
    months = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc.")
    day = trainee.profile.cpr_expires_on
    assert text.endswith(f"{day.day} {months[day.month - 1]} {day.year}"), text


# --------------------------------------------------------------------------------------------------------------------
# English-only content on French pages


def test_module_page_in_french_marks_the_english_text(ctx, program):
    from tests.web.test_certificates import client_for

    _french_trainee()
    client = client_for(ctx, "decision-fr@i18n.test")
    raw = client.get("/modules/01-anatomy").get_data(as_text=True)
    assert '<p class="notice" id="english-only">Le texte de ce module est offert en anglais seulement.</p>' in raw
    assert '<article class="module-body" lang="en">' in raw
    assert re.search(r'<h1>M1\. <span lang="en">[^<]+</span></h1>', raw)
    assert re.search(r'<legend>1\. <span lang="en">', raw)  # knowledge-check questions are English too
    # The interface around the text stays French; the same page in English has neither the notice nor the marks.
    assert "Contrôle des connaissances" in raw
    _french_trainee(email="decision-en@i18n.test", locale="en")
    raw = client_for(ctx, "decision-en@i18n.test").get("/modules/01-anatomy").get_data(as_text=True)
    assert 'id="english-only"' not in raw and 'lang="en"' not in raw.split("<body", 1)[1]


def test_program_page_and_jurisdiction_summaries_marked_english(ctx, program):
    from tests.web.test_certificates import client_for

    _french_trainee()
    raw = client_for(ctx, "decision-fr@i18n.test").get("/program").get_data(as_text=True)
    assert "<h1>Massage et réadaptation orofaciale</h1>" in raw  # the program's name has a French form
    assert "Le contenu du cours (titres et texte des modules) est offert en anglais seulement." in raw
    assert re.search(r'<a href="/modules/01-anatomy"><span lang="en">[^<]+</span></a>', raw)
    rules = client_for(ctx).get("/regulations?lang=fr&jurisdiction=US-OR").get_data(as_text=True)
    assert '<td data-label="Règle"><span lang="en">Oregon treats the mouth and nose as internal cavities.' in rules
    assert 'data-label="Rule"' not in rules and "vérifiée seulement dans des sources secondaires" in rules


def test_lists_get_plain_english_with_the_same_words(ctx, program):
    """decisions_for (lists, reports, the command line) makes plain English; decision_for makes phrases; both read
    the same, word for word."""
    from lms.core.phrases import Phrase
    from lms.eligibility.service import decision_for, decisions_for

    trainee = _french_trainee()
    listed, single = decisions_for([trainee.id])[0], decision_for(trainee)
    assert json.dumps(listed.to_dict(), sort_keys=True) == json.dumps(single.to_dict(), sort_keys=True)
    assert type(listed.decision.summary) is str and isinstance(single.decision.summary, Phrase)
    assert all(type(r.title) is str for r in listed.decision.requirements)
