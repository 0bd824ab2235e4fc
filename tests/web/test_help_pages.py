"""The public help, FAQ, contact, privacy and terms pages, their footer links, and the favicon."""

import re

import pytest

PAGES = {"/help": "Help", "/help/faq": "Frequently asked questions", "/contact": "Contact", "/privacy": "Privacy",
         "/terms": "Terms of use"}


@pytest.mark.parametrize(("path", "heading"), PAGES.items())
def test_each_page_is_public_and_linked_from_every_footer(client, path, heading):
    resp = client.get(path)
    assert resp.status_code == 200
    text = resp.get_data(as_text=True)
    assert re.search(rf"<h1>{re.escape(heading)}</h1>", text)
    footer = client.get("/").get_data(as_text=True).split('<footer class="site-footer">')[1]
    assert f'href="{path}"' in footer


def test_privacy_says_what_is_held_and_what_is_public(client):
    text = client.get("/privacy").get_data(as_text=True)
    for held in ("email address", "license or registration number", "supervised hours", "audit log",
                 "verification checks", "case code"):
        assert held in text, held
    assert "internal notes are never published" in text


def test_terms_carry_the_not_legal_advice_note(client):
    text = client.get("/terms").get_data(as_text=True)
    assert 'id="not-legal-advice"' in text and "not legal advice" in text


def test_contact_gives_the_configured_address(make_app):
    app = make_app(CONTACT_EMAIL="desk@registry.example")
    client = app.test_client()
    for path in ("/contact", "/privacy", "/contact?lang=fr"):
        text = client.get(path).get_data(as_text=True)
        assert 'href="mailto:desk@registry.example"' in text, path
        assert "orocert.invalid" not in text, path


def test_contact_address_defaults_to_a_placeholder_that_never_delivers(client):
    """Unconfigured (development, tests), the pages show the documented placeholder on a reserved domain."""
    from config import PLACEHOLDER_CONTACT_EMAIL

    assert PLACEHOLDER_CONTACT_EMAIL.endswith(".invalid")
    assert f'href="mailto:{PLACEHOLDER_CONTACT_EMAIL}"' in client.get("/contact").get_data(as_text=True)


def test_favicon_is_served_and_linked(client):
    ico = client.get("/favicon.ico")
    assert ico.status_code == 200 and ico.mimetype == "image/vnd.microsoft.icon"
    assert ico.data[:4] == b"\x00\x00\x01\x00"  # the ICO header
    ico.close()
    page = client.get("/").get_data(as_text=True)
    assert 'rel="icon" href="/static/favicon.svg"' in page
    svg = client.get("/static/favicon.svg")
    assert svg.status_code == 200 and b"<svg" in svg.data
    svg.close()
