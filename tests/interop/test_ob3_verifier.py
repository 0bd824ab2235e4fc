"""Open Badges 3.0 credentials signed by OroCert, verified by Digital Bazaar's verifier (node, default safe mode)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from lms.certificates import ob3

NOW = "2026-06-01T12:00:00Z"
HOST = "orocert.example:8443"
STATUS_URL = "https://orocert.example:8443/credentials/status/1"
INDEX = 70000


class Issuer:
    def __init__(self) -> None:
        self.seed = ob3.generate_issuer_key()
        self.did = ob3.did_web_for_host(HOST)
        self.vm = f"{self.did}#key-1"
        self.did_document = ob3.did_web_document(self.did, ob3.multikey_public(ob3.public_key_bytes(self.seed)))

    def unsigned(self) -> dict:
        return ob3.build_credential({
            "serial": "OFM-7K3MQ-9XP2D-4CAB8",
            "credential_url": "https://orocert.example:8443/certificates/OFM-7K3MQ-9XP2D-4CAB8/credential.json",
            "issuer_did": self.did, "issuer_name": "OroCert", "issuer_url": "https://orocert.example:8443/",
            "holder_name": "Ana Pérez", "holder_id": 42,
            "achievement_id": "https://orocert.example:8443/standards/omr/1",
            "achievement_name": "Orofacial Massage & Rehabilitation",
            "achievement_description": "Orofacial massage and rehabilitation standard",
            "criteria_narrative": "Meets every requirement of omr version 1.",
            "endorsements": ["extraoral", "intraoral"],
            "valid_from": datetime(2026, 3, 1, tzinfo=UTC), "valid_until": datetime(2028, 3, 1, tzinfo=UTC),
            "status_list_url": STATUS_URL, "status_index": INDEX,
        })

    def issue(self) -> dict:
        return ob3.sign_credential(self.unsigned(), self.seed, self.vm, datetime(2026, 3, 1, 9, 0, tzinfo=UTC))

    def status_list(self, revoked: set[int]) -> dict:
        return ob3.build_status_list_credential(STATUS_URL, self.did, ob3.encode_status_list(revoked), self.seed,
                                                self.vm, datetime(2026, 3, 1, tzinfo=UTC))


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    return Issuer()


@pytest.fixture
def verify(node_verifier, issuer):
    def run(credential, revoked: set[int] | None = None, status_list: dict | None = None):
        lists = {STATUS_URL: status_list or issuer.status_list(revoked or set())}
        return node_verifier(credential, did_document=issuer.did_document, contexts=ob3.pinned_contexts(),
                             status_lists=lists, now=NOW)
    return run


def test_genuine_credential_verifies_with_its_status_checked(verify, issuer):
    verdict = verify(issuer.issue())
    assert verdict["errors"] == []
    assert verdict["verified"] is True
    assert verdict["statusVerified"] is True  # the status list credential was fetched and its own proof verified
    assert verdict["revoked"] is False
    assert verdict["valid"] is True


def test_revoked_credential_is_reported_revoked(verify, issuer):
    verdict = verify(issuer.issue(), revoked={5, INDEX})
    assert verdict["verified"] is True  # the proof holds…
    assert verdict["revoked"] is True  # …but the status list says revoked
    assert verdict["valid"] is False


@pytest.mark.parametrize("tamper", [
    lambda c: c["credentialSubject"]["identifier"][0].update(identityHash="Someone Else"),
    lambda c: c.update(validUntil="2099-01-01T00:00:00Z"),
    lambda c: c["credentialSubject"]["result"].pop(),
    lambda c: c["credentialStatus"].update(statusListIndex="3"),
    lambda c: c["credentialSubject"]["achievement"].update(name="Dental Surgery"),
], ids=["holder-name", "valid-until", "drop-endorsement", "status-index", "achievement-name"])
def test_tampered_credential_fails(verify, issuer, tamper):
    credential = issuer.issue()
    tamper(credential)
    verdict = verify(credential)
    assert verdict["verified"] is False
    assert verdict["valid"] is False
    assert verdict["errors"]


def test_forged_status_list_fails_the_status_check(verify, issuer):
    # A status list that claims "not revoked" but was not signed by the issuer must not clear a revoked credential.
    forged = issuer.status_list(set())
    forged["credentialSubject"]["encodedList"] = ob3.encode_status_list({1})
    verdict = verify(issuer.issue(), status_list=forged)
    assert verdict["valid"] is False
    assert verdict["statusVerified"] is False


def test_a_type_the_contexts_do_not_define_is_refused_by_both_sides(verify, issuer):
    """The 1EdTech schema validator type is defined by no pinned context: a relative @type reference.

    Signing refuses it (safe mode). A credential that still carries it (signed before the check existed, here by
    bypassing the check) is rejected by the independent verifier's default safe mode.
    """
    unsigned = issuer.unsigned()
    unsigned["credentialSchema"] = [{
        "id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json",
        "type": "1EdTechJsonSchemaValidator2019"}]
    with pytest.raises(ob3.UnsafeJsonLdError, match="relative references"):
        ob3.sign_credential(unsigned, issuer.seed, issuer.vm, datetime(2026, 3, 1, tzinfo=UTC))

    check = ob3._assert_safe_mode
    try:
        ob3._assert_safe_mode = lambda document: None  # what signing did before safe mode covered types
        legacy = ob3.sign_credential(copy.deepcopy(unsigned), issuer.seed, issuer.vm, datetime(2026, 3, 1, tzinfo=UTC))
    finally:
        ob3._assert_safe_mode = check
    verdict = verify(legacy)
    assert verdict["verified"] is False
    assert any("relative @type reference" in e for e in verdict["errors"]), verdict["errors"]
    # And our own verifier agrees.
    assert not ob3.verify_credential(legacy, ob3.resolver_from_did_document(issuer.did_document),
                                     datetime(2026, 6, 1, tzinfo=UTC)).valid


def test_undefined_property_is_refused_when_signing(issuer):
    unsigned = issuer.unsigned()
    unsigned["credentialSubject"]["licenseStatus"] = "active"
    with pytest.raises(ob3.UnsafeJsonLdError, match="not defined"):
        ob3.sign_credential(unsigned, issuer.seed, issuer.vm, datetime(2026, 3, 1, tzinfo=UTC))
