"""Open Badges 3.0 credentials as a verifier outside the registry sees them: fetched over HTTP, checked against the
official schema, the proof verified offline with the key from the published DID document, and the status read from
the published status list."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from lms.certificates import ob3
from lms.extensions import db
from tests.web.test_certificates import admin_user, client_for, issue, qualified_trainee

SCHEMA = Path(__file__).resolve().parent.parent / "fixtures" / "ob3" / "ob_v3p0_achievementcredential_schema.json"


class Verifier:
    """Everything a board's verifier needs, fetched from the registry's public URLs through the test client."""

    def __init__(self, app):
        self.client = client_for(app)
        self.base = urlsplit(app.config["PUBLIC_BASE_URL"])
        self.fetched: list[str] = []

    def get_json(self, url: str) -> dict:
        parts = urlsplit(url)
        # Only the registry's own host is fetched; anything else would be a network call in a real verifier.
        assert (parts.scheme, parts.netloc) == (self.base.scheme, self.base.netloc), url
        self.fetched.append(parts.path)
        resp = self.client.get(parts.path)
        assert resp.status_code == 200, (url, resp.status_code)
        return resp.json

    def credential(self, serial: str) -> dict:
        resp = self.client.get(f"/certificates/{serial}/credential.json")
        assert resp.status_code == 200
        assert resp.mimetype == "application/vc+ld+json"
        return json.loads(resp.data)

    def resolver(self):
        did_doc = self.client.get("/.well-known/did.json")
        assert did_doc.status_code == 200
        return ob3.resolver_from_did_document(json.loads(did_doc.data))

    def verify(self, credential: dict) -> ob3.VerificationResult:
        return ob3.verify_credential(credential, self.resolver(), datetime.now(UTC), status_list_loader=self.get_json)


@pytest.fixture
def schema() -> dict:
    return json.loads(SCHEMA.read_text(encoding="utf-8"))


@pytest.fixture
def issued(ctx, program):
    return issue(qualified_trainee())


def test_credential_passes_the_official_schema(ctx, issued, schema):
    credential = Verifier(ctx).credential(issued.serial)
    assert ob3.validate_schema(credential, schema) == []
    # The fetched credential is the stored one, and it says what the certificate says.
    assert credential == issued.credential
    assert "OpenBadgeCredential" in credential["type"]
    subject = credential["credentialSubject"]
    assert subject["achievement"]["name"] == "Orofacial Massage & Rehabilitation"
    assert subject["identifier"][0]["identityHash"] == issued.holder_name
    assert [r["value"] for r in subject["result"]] == issued.endorsements
    assert credential["id"].endswith(f"/certificates/{issued.serial}/credential.json")
    assert credential["validFrom"].startswith(issued.issued_on.isoformat())
    assert credential["validUntil"].startswith(issued.expires_on.isoformat())
    assert credential["credentialStatus"]["statusListIndex"] == str(issued.status_index)


def test_schema_check_is_not_vacuous(ctx, issued, schema):
    credential = Verifier(ctx).credential(issued.serial)
    broken = copy.deepcopy(credential)
    del broken["credentialSubject"]["achievement"]
    assert ob3.validate_schema(broken, schema)


def test_proof_verifies_offline_with_the_published_key_and_status(ctx, issued):
    verifier = Verifier(ctx)
    result = verifier.verify(verifier.credential(issued.serial))
    assert result.valid, result.errors
    assert result.checks == {"structure": True, "proof": True, "valid_from": True, "valid_until": True,
                             "status": True}
    assert "/credentials/status/1" in verifier.fetched


@pytest.mark.parametrize("tamper", ["name", "valid_until", "endorsement", "status_index"])
def test_tampered_copy_fails(ctx, issued, tamper):
    verifier = Verifier(ctx)
    credential = verifier.credential(issued.serial)
    forged = copy.deepcopy(credential)
    if tamper == "name":
        forged["credentialSubject"]["identifier"][0]["identityHash"] = "Mallory Forger"
    elif tamper == "valid_until":
        forged["validUntil"] = "2099-12-31T23:59:59Z"
    elif tamper == "endorsement":
        forged["credentialSubject"]["result"][-1]["value"] = "intraoral-instructor"
    else:
        forged["credentialStatus"]["statusListIndex"] = str((issued.status_index + 1) % 131072)
    assert forged != credential
    result = verifier.verify(forged)
    assert not result.valid
    assert result.checks["proof"] is False


def test_unknown_serial_has_no_credential(ctx, issued):
    resp = client_for(ctx).get("/certificates/OFM-00000-00000-00000/credential.json")
    assert resp.status_code == 404
    assert resp.json["error"]["code"] == 404


def test_revocation_shows_in_the_status_list_and_fails_verification(ctx, issued, program):
    from lms.certificates.issuing import revoke

    other = issue(qualified_trainee(email="other@example.test", name="Olive Other"))
    verifier = Verifier(ctx)
    credential = verifier.credential(issued.serial)
    other_credential = verifier.credential(other.serial)
    index = int(credential["credentialStatus"]["statusListIndex"])
    status_url = credential["credentialStatus"]["statusListCredential"]

    assert ob3.is_revoked(verifier.get_json(status_url)["credentialSubject"]["encodedList"], index) is False
    assert verifier.verify(credential).valid

    revoke(issued, actor=admin_user(), reason="Issued in error")
    db.session.commit()

    status_list = verifier.get_json(status_url)
    encoded = status_list["credentialSubject"]["encodedList"]
    assert ob3.is_revoked(encoded, index) is True
    assert ob3.is_revoked(encoded, int(other_credential["credentialStatus"]["statusListIndex"])) is False
    assert len(ob3.decode_status_list(encoded)) * 8 >= 131072  # herd privacy: the list is at least 16 KB

    result = verifier.verify(credential)
    assert not result.valid
    assert result.checks["proof"] is True and result.checks["status"] is False
    assert any("revoked" in e for e in result.errors)
    assert verifier.verify(other_credential).valid  # revoking one certificate leaves the others valid


def test_a_status_list_from_elsewhere_is_not_trusted(ctx, issued):
    verifier = Verifier(ctx)
    credential = verifier.credential(issued.serial)
    forged_list = copy.deepcopy(verifier.get_json(credential["credentialStatus"]["statusListCredential"]))
    forged_list["credentialSubject"]["encodedList"] = ob3.encode_status_list([])
    forged_list["validFrom"] = "2020-01-01T00:00:00Z"  # any change breaks the list's own proof
    result = ob3.verify_credential(credential, verifier.resolver(), datetime.now(UTC),
                                   status_list_loader=lambda url: forged_list)
    assert not result.valid and result.checks["status"] is False
