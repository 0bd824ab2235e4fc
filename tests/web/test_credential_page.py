"""The credential page: an Open Badges credential in words, checked when shown, with the JSON one click away."""

from __future__ import annotations

from tests.factories import page_text
from tests.web.test_certificates import admin_user, issue, qualified_trainee, refresh


def test_credential_page_reads_the_credential_and_links_the_json(ctx, program, client):
    cert = issue(qualified_trainee())
    resp = client.get(f"/certificates/{cert.serial}/credential")
    assert resp.status_code == 200
    text = page_text(resp)
    credential = cert.credential
    subject = credential["credentialSubject"]
    assert "Verified" in text
    assert "Harper Quinn Hygienist" in text  # holder
    assert subject["achievement"]["name"] in text  # achievement
    assert subject["achievement"]["criteria"]["narrative"][:60] in text  # criteria
    assert credential["issuer"]["name"] in text and credential["issuer"]["id"] in text  # issuer
    assert "DataIntegrityProof" in text and "eddsa-rdfc-2022" in text  # proof
    assert "not revoked" in text  # status
    assert f'href="/certificates/{cert.serial}/credential.json"'.encode() in resp.data
    # The record page and the holder's own page lead here.
    assert f"/certificates/{cert.serial}/credential\"".encode() in client.get(f"/verify/{cert.serial}").data


def test_credential_page_shows_a_revoked_credential_as_revoked(ctx, program, client):
    from lms.certificates.issuing import revoke

    cert = issue(qualified_trainee())
    revoke(cert, actor=admin_user(), reason="Issued in error")
    refresh()
    text = page_text(client.get(f"/certificates/{cert.serial}/credential"))
    assert "Revoked" in text
    assert "Verified" not in text


def test_credential_page_for_an_unknown_serial_is_404(ctx, client):
    resp = client.get("/certificates/OFM-00000-00000-00000/credential")
    assert resp.status_code == 404
    assert "No certificate found" in page_text(resp)
