"""Open Badges 3.0 credentials: official test vector, schema, offline proofs, tampering, status lists, DIDs."""

from __future__ import annotations

import base64
import copy
import gzip
import hashlib
import json
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from lms.certificates import ob3

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ob3"

# Expected values from the 1EdTech Open Badges 3.0 Implementation Guide (Final, April 2025), chapter
# "Linked Data Proof Test Vector for Open Badges 3.0". That chapter signs the credential in
# test-vector-eddsa-rdfc-2022.json with this key pair. The private key is given as seed || public key.
VECTOR_SEED = bytes.fromhex("6241a409e6707bb640a0140a8a32bc3d193c33a661747284d6adfa4ed4180be4")
VECTOR_PUBLIC = bytes.fromhex("4bdeafde2ea8beefadd8c699b5c7e0704cf51154d52e17b20b71337ca04cc5a5")
VECTOR_MULTIKEY = "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"
VECTOR_DOCUMENT_HASH = "87f65a76d40146205e3b3e06cb0fbd153f97f9ce70372390f52566bb7f9e0773"
VECTOR_PROOF_HASH = "d34009cea0dbc1ca941e09dc01c8c9d3e3ce3c5b853f67ee44698dcea10f5d19"
VECTOR_SIGNATURE = (
    "f7a017acf7d27983267ec362657c0fb08e955549f49dac5bf36a03c4f2c3a4f1"
    "e3738a6c5ecd7ffba7135cb9cd754e6196f4b73082ea8df8e703c8ecd4333503"
)

NOW = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
HOST = "orocert.example:8443"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Fail any test that tries to open a network connection: contexts and keys must come from local data."""

    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted during an OB 3.0 test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture(scope="module")
def schema() -> dict:
    return load("ob_v3p0_achievementcredential_schema.json")


def pinned_resolver(mapping: dict[str, bytes]):
    """A resolve_key that knows only the given verification methods, as a verifier with trusted keys would."""

    def resolve(verification_method: str) -> bytes:
        return mapping[verification_method]

    return resolve


def fragment_resolver(verification_method: str) -> bytes:
    """Resolve the key that a 1EdTech fixture claims in its verificationMethod fragment (``...#z6Mk...``)."""
    return ob3.multikey_decode(verification_method.split("#", 1)[1])


# --------------------------------------------------------------------------------------------------------------------
# Official eddsa-rdfc-2022 test vector
# --------------------------------------------------------------------------------------------------------------------


def _vector_parts() -> tuple[dict, dict, str]:
    vector = load("test-vector-eddsa-rdfc-2022.json")
    proof = vector.pop("proof")
    proof_value = proof.pop("proofValue")
    proof_config = {"@context": vector["@context"], **proof}
    return vector, proof_config, proof_value


def test_vector_key_pair_matches_its_multikey():
    assert ob3.public_key_bytes(VECTOR_SEED) == VECTOR_PUBLIC
    assert ob3.multikey_public(VECTOR_PUBLIC) == VECTOR_MULTIKEY
    assert ob3.multikey_decode(VECTOR_MULTIKEY) == VECTOR_PUBLIC
    vector = load("test-vector-eddsa-rdfc-2022.json")
    assert vector["proof"]["verificationMethod"].endswith("#" + VECTOR_MULTIKEY)


def test_vector_document_and_proof_hashes_are_reproduced():
    unsecured, proof_config, _ = _vector_parts()
    data = ob3.hash_data(unsecured, proof_config)
    assert data[:32].hex() == VECTOR_PROOF_HASH
    assert data[32:].hex() == VECTOR_DOCUMENT_HASH
    assert hashlib.sha256(ob3.canonicalize(unsecured).encode()).hexdigest() == VECTOR_DOCUMENT_HASH


def test_vector_proof_value_is_the_published_signature_and_verifies():
    unsecured, proof_config, proof_value = _vector_parts()
    signature = ob3.base58.b58decode(proof_value[1:])
    assert proof_value.startswith("z")
    assert signature.hex() == VECTOR_SIGNATURE
    # Raises InvalidSignature on mismatch.
    Ed25519PublicKey.from_public_bytes(VECTOR_PUBLIC).verify(signature, ob3.hash_data(unsecured, proof_config))


def test_signing_the_vector_reproduces_its_proof_value():
    unsecured, proof_config, proof_value = _vector_parts()
    created = datetime(2010, 1, 1, 19, 23, 24, tzinfo=UTC)
    signed = ob3.sign_credential(unsecured, VECTOR_SEED, proof_config["verificationMethod"], created)
    # Ed25519 is deterministic, so the same key and data give the same signature.
    assert signed["proof"][0]["proofValue"] == proof_value


def test_vector_verifies_and_a_tampered_copy_fails():
    vector = load("test-vector-eddsa-rdfc-2022.json")
    resolve = pinned_resolver({vector["proof"]["verificationMethod"]: VECTOR_PUBLIC})
    result = ob3.verify_credential(vector, resolve, NOW)
    assert result.valid, result.errors
    assert result.checks["proof"] is True

    tampered = copy.deepcopy(vector)
    tampered["credentialSubject"]["achievement"]["name"] = "Leadership"
    result = ob3.verify_credential(tampered, resolve, NOW)
    assert not result.valid
    assert result.checks["proof"] is False


# --------------------------------------------------------------------------------------------------------------------
# Pinned contexts, offline
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://www.w3.org/2018/credentials/v1",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json",
        "https://w3id.org/security/data-integrity/v2",
        "https://evil.example/context.json",
        "file:///etc/passwd",
        "http://www.w3.org/ns/credentials/v2",
    ],
)
def test_document_loader_refuses_unpinned_urls(url):
    with pytest.raises(ob3.ContextNotPinnedError):
        ob3.document_loader(url)


def test_document_loader_serves_pinned_copies():
    for url in ob3.OB_CREDENTIAL_CONTEXTS:
        remote = ob3.document_loader(url)
        assert remote["documentUrl"] == url
        assert "@context" in remote["document"]
    # A caller that edits the returned document does not change the next load.
    ob3.document_loader(ob3.CREDENTIALS_V2_CONTEXT)["document"]["@context"]["name"] = "tampered"
    assert ob3.document_loader(ob3.CREDENTIALS_V2_CONTEXT)["document"]["@context"]["name"] != "tampered"


def test_credential_with_unpinned_context_fails_without_fetching(issuer):
    signed = issuer.issue()
    signed["@context"].append("https://evil.example/context.json")
    result = ob3.verify_credential(signed, issuer.resolve_key, NOW)
    assert not result.valid
    assert result.checks["proof"] is False
    assert any("not pinned" in e for e in result.errors)


# --------------------------------------------------------------------------------------------------------------------
# Credentials built and signed here
# --------------------------------------------------------------------------------------------------------------------


class Issuer:
    def __init__(self) -> None:
        self.seed = ob3.generate_issuer_key()
        self.did = ob3.did_web_for_host(HOST)
        self.vm = f"{self.did}#key-1"
        self.did_document = ob3.did_web_document(self.did, ob3.multikey_public(ob3.public_key_bytes(self.seed)))
        self.resolve_key = ob3.resolver_from_did_document(self.did_document)
        self.status_list_url = "https://orocert.example:8443/status/1"

    def data(self, **overrides) -> dict:
        data = {
            "serial": "OC-2026-000123",
            "credential_url": "https://orocert.example:8443/credentials/OC-2026-000123",
            "issuer_did": self.did,
            "issuer_name": "OroCert",
            "issuer_url": "https://orocert.example:8443/",
            "holder_name": "Ana Pérez",
            "holder_id": "urn:uuid:2b1f0c7e-3d47-4f7a-9b1e-6c2f4b1f0a11",
            "achievement_id": "https://orocert.example:8443/programs/omr",
            "achievement_name": "Orofacial Massage & Rehabilitation",
            "achievement_description": "Certificate for the Orofacial Massage & Rehabilitation program.",
            "criteria_narrative": "Complete modules M1 to M10, the supervised hours and the final assessment.",
            "endorsements": ["extraoral"],
            "valid_from": datetime(2026, 3, 1, 9, 30, tzinfo=UTC),
            "valid_until": datetime(2029, 3, 1, 9, 30, tzinfo=UTC),
            "status_list_url": self.status_list_url,
            "status_index": 70000,
        }
        data.update(overrides)
        return data

    def issue(self, **overrides) -> dict:
        credential = ob3.build_credential(self.data(**overrides))
        return ob3.sign_credential(credential, self.seed, self.vm, datetime(2026, 3, 1, 9, 30, 5, tzinfo=UTC))

    def status_list(self, revoked: set[int]) -> dict:
        return ob3.build_status_list_credential(
            self.status_list_url,
            self.did,
            ob3.encode_status_list(revoked),
            self.seed,
            self.vm,
            datetime(2026, 3, 1, tzinfo=UTC),
        )


@pytest.fixture
def issuer() -> Issuer:
    return Issuer()


def test_built_credential_has_the_ob3_shape(issuer):
    credential = issuer.issue(endorsements=["extraoral", "intraoral"])
    assert credential["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["issuer"]["id"] == "did:web:orocert.example%3A8443"
    assert credential["validFrom"] == "2026-03-01T09:30:00Z"
    assert credential["validUntil"] == "2029-03-01T09:30:00Z"
    subject = credential["credentialSubject"]
    assert subject["id"] == "urn:uuid:2b1f0c7e-3d47-4f7a-9b1e-6c2f4b1f0a11"
    assert subject["identifier"][0] == {
        "type": "IdentityObject",
        "identityHash": "Ana Pérez",
        "identityType": "name",
        "hashed": False,
    }
    assert subject["achievement"]["achievementType"] == "Certificate"
    assert [r["value"] for r in subject["result"]] == ["extraoral", "intraoral"]
    # No credentialSchema: its type is defined by no pinned context, so safe-mode verifiers would reject it.
    assert "credentialSchema" not in credential
    assert credential["credentialStatus"] == {
        "id": "https://orocert.example:8443/status/1#70000",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "70000",
        "statusListCredential": "https://orocert.example:8443/status/1",
    }
    (proof,) = credential["proof"]
    assert proof["type"] == "DataIntegrityProof"
    assert proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["proofPurpose"] == "assertionMethod"
    assert proof["verificationMethod"] == "did:web:orocert.example%3A8443#key-1"
    assert proof["created"] == "2026-03-01T09:30:05Z"
    assert proof["proofValue"].startswith("z")


def test_built_credential_passes_the_official_schema(issuer, schema):
    assert ob3.validate_schema(issuer.issue(), schema) == []
    assert ob3.validate_schema(issuer.issue(endorsements=[], valid_until=None), schema) == []


def test_built_credential_verifies_offline(issuer):
    result = ob3.verify_credential(issuer.issue(), issuer.resolve_key, NOW)
    assert result.valid, result.errors
    assert result.checks == {
        "structure": True,
        "proof": True,
        "valid_from": True,
        "valid_until": True,
        "status": None,
    }
    assert result.errors == []


def test_canonical_form_signs_every_field_and_uses_no_made_up_base(issuer):
    credential = issuer.issue(endorsements=["extraoral", "intraoral"])
    nquads = ob3.canonicalize({k: v for k, v in credential.items() if k != "proof"})
    # The holder's name, the endorsements and the status entry are all covered by the signature.
    for text in ('"Ana Pérez"', '"extraoral"', '"intraoral"', '"70000"', '"Certificate"', "#validUntil"):
        assert text in nquads
    # A relative @type must be dropped (null base, as W3C Data Integrity requires), not resolved to a fake base.
    assert "example.org/base" not in nquads


def test_pinned_contexts_are_loaded_once_and_the_canonical_form_does_not_change(issuer, monkeypatch):
    """The loader marks pinned contexts as static, so pyld keeps what it resolved from them for later documents: the
    canonical form is the same with the contexts loaded afresh or kept, and each context is loaded once."""
    from pyld import jsonld

    documents = [{k: v for k, v in issuer.issue(endorsements=e).items() if k != "proof"}
                 for e in (["extraoral"], ["extraoral", "intraoral"], [])]
    loaded: list[str] = []
    real = ob3.document_loader

    def counting(url, options=None):
        loaded.append(url)
        return real(url, options)

    monkeypatch.setattr(ob3, "document_loader", counting)
    forms = []
    for _ in range(2):
        jsonld._resolved_context_cache.clear()  # noqa: SLF001 - start cold, as a new worker does
        for document in documents:
            ob3._canonical_cache.clear()  # noqa: SLF001
            forms.append(ob3.canonicalize(document))
        ob3._canonical_cache.clear()  # noqa: SLF001
        forms.append(ob3.canonicalize(documents[0]))
    assert forms[:4] == forms[4:] and forms[0] == forms[3] and len(set(forms[:3])) == 3
    assert sorted(loaded) == sorted(2 * list(documents[0]["@context"]))  # once per context, per cold start


@pytest.mark.parametrize(
    "tamper",
    [
        lambda c: c["credentialSubject"]["identifier"][0].update(identityHash="Someone Else"),
        lambda c: c.update(validUntil="2099-01-01T00:00:00Z"),
        lambda c: c["credentialSubject"].update(
            result=[*c["credentialSubject"]["result"], {**c["credentialSubject"]["result"][0], "value": "intraoral"}]
        ),
        lambda c: c["credentialSubject"].update(id="urn:uuid:00000000-0000-0000-0000-000000000000"),
        lambda c: c["credentialStatus"].update(statusListIndex="3"),
        lambda c: c["proof"][0].update(created="2030-01-01T00:00:00Z"),
    ],
    ids=["holder-name", "validUntil", "add-endorsement", "subject-id", "status-index", "proof-created"],
)
def test_tampered_credential_fails(issuer, tamper):
    credential = issuer.issue()
    tamper(credential)
    result = ob3.verify_credential(credential, issuer.resolve_key, NOW)
    assert not result.valid
    assert result.checks["proof"] is False


def test_expired_credential_fails_on_valid_until_only(issuer):
    credential = issuer.issue()
    result = ob3.verify_credential(credential, issuer.resolve_key, datetime(2029, 3, 1, 9, 30, 1, tzinfo=UTC))
    assert not result.valid
    assert result.checks["proof"] is True
    assert result.checks["valid_until"] is False
    assert any("expired" in e for e in result.errors)


def test_not_yet_valid_credential_fails_on_valid_from(issuer):
    result = ob3.verify_credential(issuer.issue(), issuer.resolve_key, datetime(2026, 1, 1, tzinfo=UTC))
    assert not result.valid
    assert result.checks["valid_from"] is False


def test_signature_by_another_key_fails(issuer):
    impostor = Issuer()  # same host and DID, different key
    forged = impostor.issue()
    result = ob3.verify_credential(forged, issuer.resolve_key, NOW)
    assert not result.valid
    assert result.checks["proof"] is False


def test_key_of_another_issuer_is_rejected(issuer):
    other_vm = "did:web:elsewhere.example#key-1"
    credential = ob3.sign_credential(
        ob3.build_credential(issuer.data()), issuer.seed, other_vm, datetime(2026, 3, 1, tzinfo=UTC)
    )
    # Even a resolver that would hand out the right key must not make a foreign verification method acceptable.
    resolve = pinned_resolver({other_vm: ob3.public_key_bytes(issuer.seed)})
    result = ob3.verify_credential(credential, resolve, NOW)
    assert not result.valid
    assert any("not controlled by the issuer" in e for e in result.errors)


def test_undefined_property_is_refused_when_signing_and_when_verifying(issuer):
    credential = ob3.build_credential(issuer.data())
    credential["credentialSubject"]["favouriteColour"] = "blue"
    with pytest.raises(ob3.UnsafeJsonLdError):
        ob3.sign_credential(credential, issuer.seed, issuer.vm, NOW)

    # An undefined property added after signing would not be covered by the proof, so verification fails.
    signed = issuer.issue()
    signed["credentialSubject"]["licenseStatus"] = "active"
    result = ob3.verify_credential(signed, issuer.resolve_key, NOW)
    assert not result.valid
    assert any("not defined by the JSON-LD context" in e for e in result.errors)


@pytest.mark.parametrize(
    "bad",
    [
        None,
        "a string",
        [],
        {},
        {"@context": "https://www.w3.org/ns/credentials/v2"},
        {"@context": [ob3.CREDENTIALS_V2_CONTEXT], "type": ["VerifiableCredential"], "issuer": "x", "proof": 5},
    ],
)
def test_malformed_input_never_raises(bad, issuer):
    result = ob3.verify_credential(bad, issuer.resolve_key, NOW)
    assert result.valid is False
    assert result.errors


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p: p.update(proofValue="not-multibase"),
        lambda p: p.update(proofValue="z0OIl"),  # characters outside the base58 alphabet
        lambda p: p.update(proofValue="z" + "1" * 10),
        lambda p: p.update(cryptosuite="eddsa-2022"),
        lambda p: p.update(proofPurpose="authentication"),
        lambda p: p.update(created="yesterday"),
        lambda p: p.pop("verificationMethod"),
        lambda p: p.update(verificationMethod="did:web:orocert.example%3A8443#key-2"),
    ],
)
def test_malformed_proof_fails_without_raising(issuer, tamper):
    credential = issuer.issue()
    tamper(credential["proof"][0])
    result = ob3.verify_credential(credential, issuer.resolve_key, NOW)
    assert not result.valid
    assert result.checks["proof"] is False


def test_resolver_errors_are_reported_not_raised(issuer):
    def broken(verification_method: str) -> bytes:
        raise RuntimeError("key store unavailable")

    result = ob3.verify_credential(issuer.issue(), broken, NOW)
    assert not result.valid
    assert any("key store unavailable" in e for e in result.errors)


def test_any_valid_proof_in_a_proof_set_is_accepted(issuer):
    signed = issuer.issue()
    other = Issuer()
    both = ob3.sign_credential(signed, other.seed, issuer.vm, datetime(2026, 3, 2, tzinfo=UTC))
    assert len(both["proof"]) == 2
    assert ob3.verify_credential(both, issuer.resolve_key, NOW).valid


def test_build_credential_rejects_bad_data(issuer):
    with pytest.raises(ValueError, match="missing"):
        ob3.build_credential(issuer.data(holder_name=""))
    with pytest.raises(ValueError, match="endorsements"):
        ob3.build_credential(issuer.data(endorsements=["extraoral", "sublingual"]))
    with pytest.raises(ValueError, match="valid_until"):
        ob3.build_credential(issuer.data(valid_until=datetime(2020, 1, 1, tzinfo=UTC)))


def test_holder_urn_is_stable_and_keeps_uris():
    did = ob3.did_web_for_host(HOST)
    assert ob3.holder_urn(did, 42) == ob3.holder_urn(did, "42")
    assert ob3.holder_urn(did, 42).startswith("urn:uuid:")
    assert ob3.holder_urn(did, 42) != ob3.holder_urn(did, 43)
    assert ob3.holder_urn(did, "urn:uuid:2b1f0c7e-3d47-4f7a-9b1e-6c2f4b1f0a11").endswith("6c2f4b1f0a11")


def test_naive_datetimes_are_taken_as_utc(issuer):
    credential = ob3.build_credential(issuer.data(valid_from=datetime(2026, 3, 1, 9, 30)))
    assert credential["validFrom"] == "2026-03-01T09:30:00Z"


# --------------------------------------------------------------------------------------------------------------------
# 1EdTech validator fixtures
# --------------------------------------------------------------------------------------------------------------------


def test_1edtech_simple_fixture_passes_schema_and_verifies(schema):
    credential = load("simple.json")
    assert ob3.validate_schema(credential, schema) == []
    result = ob3.verify_credential(credential, fragment_resolver, NOW)
    assert result.valid, result.errors


def test_1edtech_expired_fixture_passes_schema_but_fails_verification(schema):
    credential = load("simple-err-expired.json")
    assert ob3.validate_schema(credential, schema) == []
    result = ob3.verify_credential(credential, fragment_resolver, NOW)
    assert not result.valid
    assert result.checks["proof"] is True
    assert result.checks["valid_until"] is False


def test_1edtech_bad_proof_value_fixture_passes_schema_but_fails_verification(schema):
    credential = load("simple-err-proof-value.json")
    assert ob3.validate_schema(credential, schema) == []
    result = ob3.verify_credential(credential, fragment_resolver, NOW)
    assert not result.valid
    assert result.checks["proof"] is False


def test_schema_reports_errors_and_the_subject_identity_rule(issuer, schema):
    credential = issuer.issue()
    del credential["validFrom"]
    credential["credentialSubject"]["achievement"]["achievementType"] = "Diplomat"
    del credential["credentialSubject"]["id"]
    del credential["credentialSubject"]["identifier"]
    errors = ob3.validate_schema(credential, schema)
    assert any("validFrom" in e for e in errors)
    assert any("achievementType" in e for e in errors)
    assert any("id and/or an identifier" in e for e in errors)


# --------------------------------------------------------------------------------------------------------------------
# Bitstring Status List
# --------------------------------------------------------------------------------------------------------------------


def test_status_list_marks_exactly_the_revoked_indexes():
    encoded = ob3.encode_status_list({3, 70000})
    assert ob3.is_revoked(encoded, 3)
    assert ob3.is_revoked(encoded, 70000)
    for index in (0, 1, 2, 4, 7, 8, 69999, 70001, 131071):
        assert not ob3.is_revoked(encoded, index)
    bits = ob3.decode_status_list(encoded)
    assert len(bits) == 16384  # 131,072 bits = 16 KB before compression
    assert sum(bin(b).count("1") for b in bits) == 2


def test_status_list_encoding_is_multibase_base64url_gzip():
    encoded = ob3.encode_status_list({3, 70000})
    assert encoded.startswith("u")
    assert "=" not in encoded and "+" not in encoded and "/" not in encoded
    body = encoded[1:]
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    assert raw[:2] == b"\x1f\x8b"  # GZIP magic number
    assert len(gzip.decompress(raw)) == 16384


def test_status_list_bit_order_is_left_most_first():
    assert ob3.decode_status_list(ob3.encode_status_list({0}))[0] == 0x80
    assert ob3.decode_status_list(ob3.encode_status_list({7}))[0] == 0x01
    assert ob3.decode_status_list(ob3.encode_status_list({8}))[:2] == b"\x00\x80"


def test_status_list_rejects_bad_sizes_and_indexes():
    with pytest.raises(ValueError):
        ob3.encode_status_list({1}, size=1024)  # below the 16 KB herd-privacy minimum
    with pytest.raises(ValueError):
        ob3.encode_status_list({131072})
    with pytest.raises(ValueError):
        ob3.is_revoked(ob3.encode_status_list(set()), 131072)
    with pytest.raises(ValueError):
        ob3.decode_status_list("u!!!")
    with pytest.raises(ValueError):
        ob3.decode_status_list(ob3.encode_status_list({1})[:40])  # truncated GZIP stream


def test_status_list_decoding_is_bounded():
    bomb = gzip.compress(bytes(ob3.STATUS_LIST_MAX_BYTES + 1024), mtime=0)
    encoded = "u" + base64.urlsafe_b64encode(bomb).rstrip(b"=").decode()
    with pytest.raises(ValueError, match="larger than allowed"):
        ob3.decode_status_list(encoded)


def test_random_status_index_avoids_taken_indexes():
    taken = {1, 2, 3}
    for _ in range(50):
        index = ob3.random_status_index(taken, 131072)
        assert 0 <= index < 131072 and index not in taken
    nearly_full = set(range(131072)) - {4242}
    assert ob3.random_status_index(nearly_full, 131072) == 4242
    with pytest.raises(ValueError):
        ob3.random_status_index(set(range(131072)), 131072)


def test_status_list_credential_is_signed_and_verifies(issuer):
    status_list = issuer.status_list({3})
    assert status_list["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert status_list["credentialSubject"]["type"] == "BitstringStatusList"
    assert status_list["credentialSubject"]["statusPurpose"] == "revocation"
    assert status_list["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"
    assert ob3.verify_credential(status_list, issuer.resolve_key, NOW).valid


def test_verification_with_status_detects_revocation(issuer):
    credential = issuer.issue(status_index=70000)
    lists = {issuer.status_list_url: issuer.status_list({3})}
    result = ob3.verify_credential(credential, issuer.resolve_key, NOW, status_list_loader=lists.__getitem__)
    assert result.valid, result.errors
    assert result.checks["status"] is True

    lists[issuer.status_list_url] = issuer.status_list({3, 70000})
    result = ob3.verify_credential(credential, issuer.resolve_key, NOW, status_list_loader=lists.__getitem__)
    assert not result.valid
    assert result.checks["status"] is False
    assert result.checks["proof"] is True
    assert any("revoked" in e for e in result.errors)


def test_status_fails_closed(issuer):
    credential = issuer.issue(status_index=70000)

    def unavailable(url: str) -> dict:
        raise ConnectionError("status list unavailable")

    result = ob3.verify_credential(credential, issuer.resolve_key, NOW, status_list_loader=unavailable)
    assert not result.valid
    assert result.checks["status"] is False

    # A status list whose bit was cleared after signing no longer verifies, so it cannot un-revoke a credential.
    forged = issuer.status_list({70000})
    forged["credentialSubject"]["encodedList"] = ob3.encode_status_list(set())
    result = ob3.verify_credential(credential, issuer.resolve_key, NOW, status_list_loader=lambda url: forged)
    assert not result.valid
    assert result.checks["status"] is False


# --------------------------------------------------------------------------------------------------------------------
# Keys and DIDs
# --------------------------------------------------------------------------------------------------------------------


def test_generated_key_is_a_raw_seed_and_round_trips_through_pem():
    seed = ob3.generate_issuer_key()
    assert isinstance(seed, bytes) and len(seed) == 32
    assert ob3.load_issuer_key_pem(ob3.issuer_key_to_pem(seed)) == seed
    encrypted = ob3.issuer_key_to_pem(seed, password=b"correct horse")
    assert b"ENCRYPTED" in encrypted
    assert ob3.load_issuer_key_pem(encrypted.decode(), password=b"correct horse") == seed


def test_non_ed25519_pem_is_refused():
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(ValueError, match="Ed25519"):
        ob3.load_issuer_key_pem(pem)


def test_multikey_format():
    multikey = ob3.multikey_public(ob3.public_key_bytes(ob3.generate_issuer_key()))
    assert multikey.startswith("z6Mk")
    with pytest.raises(ValueError):
        ob3.multikey_public(b"short")
    with pytest.raises(ValueError):
        ob3.multikey_decode("z" + ob3.base58.b58encode(b"\x12\x00" + bytes(32)).decode())


def test_did_web_for_host():
    assert ob3.did_web_for_host("orocert.example") == "did:web:orocert.example"
    assert ob3.did_web_for_host("localhost:5000") == "did:web:localhost%3A5000"
    assert ob3.did_web_document_url("did:web:localhost%3A5000") == "https://localhost:5000/.well-known/did.json"
    for bad in ("https://orocert.example", "orocert.example/path", "", "host:port"):
        with pytest.raises(ValueError):
            ob3.did_web_for_host(bad)


def test_did_web_document_and_resolver(issuer):
    doc = issuer.did_document
    key_id = "did:web:orocert.example%3A8443#key-1"
    assert doc["@context"] == ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]
    assert doc["id"] == "did:web:orocert.example%3A8443"
    assert doc["verificationMethod"] == [
        {
            "id": key_id,
            "type": "Multikey",
            "controller": doc["id"],
            "publicKeyMultibase": ob3.multikey_public(ob3.public_key_bytes(issuer.seed)),
        }
    ]
    assert doc["assertionMethod"] == [key_id]
    assert doc["authentication"] == [key_id]
    assert issuer.resolve_key(key_id) == ob3.public_key_bytes(issuer.seed)
    with pytest.raises(KeyError):
        issuer.resolve_key(doc["id"] + "#key-2")

    # A key listed only for authentication is not accepted for assertions.
    auth_only = {**doc, "assertionMethod": []}
    with pytest.raises(KeyError):
        ob3.resolver_from_did_document(auth_only)(key_id)
