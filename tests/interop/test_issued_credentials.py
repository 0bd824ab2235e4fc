"""Credentials as the app issues and publishes them, checked by Digital Bazaar's verifier.

The credential, the status list and the DID document are fetched from the running app (test client), exactly as a
verifier would read them, and handed to the independent verifier's offline document loader.
"""

from __future__ import annotations

from lms.certificates import ob3
from tests.web.test_certificates import admin_user, issue, qualified_trainee, refresh


def _published(client, serial: str) -> tuple[dict, dict, dict]:
    credential = client.get(f"/certificates/{serial}/credential.json")
    status_list = client.get("/credentials/status/1")
    did = client.get("/.well-known/did.json")
    assert credential.status_code == status_list.status_code == did.status_code == 200
    return credential.get_json(), status_list.get_json(), did.get_json()


def test_issued_credential_verifies_and_then_reads_revoked(ctx, program, client, node_verifier):
    from lms.certificates.issuing import revoke

    cert = issue(qualified_trainee())
    credential, status_list, did = _published(client, cert.serial)
    verdict = node_verifier(credential, did_document=did, contexts=ob3.pinned_contexts(),
                            status_lists={credential["credentialStatus"]["statusListCredential"]: status_list})
    assert verdict["errors"] == []
    assert verdict["valid"] is True and verdict["statusVerified"] is True and verdict["revoked"] is False

    tampered = {**credential, "validUntil": "2099-12-31T23:59:59Z"}
    verdict = node_verifier(tampered, did_document=did, contexts=ob3.pinned_contexts(),
                            status_lists={credential["credentialStatus"]["statusListCredential"]: status_list})
    assert verdict["verified"] is False

    revoke(cert, actor=admin_user(), reason="Licence suspended by the board")
    refresh()
    credential, status_list, did = _published(client, cert.serial)
    verdict = node_verifier(credential, did_document=did, contexts=ob3.pinned_contexts(),
                            status_lists={credential["credentialStatus"]["statusListCredential"]: status_list})
    assert verdict["verified"] is True
    assert verdict["revoked"] is True
    assert verdict["valid"] is False
