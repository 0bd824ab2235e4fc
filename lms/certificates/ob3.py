"""Open Badges 3.0 credentials for OroCert certificates.

A pure module: no Flask, no database, no network. It builds, signs and verifies OB 3.0 credentials
(``OpenBadgeCredential``) and Bitstring Status Lists.

- Proofs are W3C Data Integrity ``DataIntegrityProof`` with the ``eddsa-rdfc-2022`` cryptosuite (W3C vc-di-eddsa).
  The document and the proof configuration are each canonicalised with RDF Dataset Canonicalization (URDNA2015 /
  RDFC-1.0) and hashed with SHA-256. Ed25519 signs ``hash(proof config) || hash(document)``. The signature is
  encoded as multibase base58btc (``z...``).
- JSON-LD contexts come only from the pinned copies in ``contexts/`` (see its README). Any other URL raises.
- Keys are Ed25519. Public keys are published as Multikey (``z6Mk...``) in a ``did:web`` DID document.
- Revocation uses the W3C Bitstring Status List v1.0: a GZIP-compressed bitstring of at least 131,072 entries,
  encoded as multibase base64url. Indexes are assigned at random.

Verification follows the 1EdTech OB 3.0 verification steps: schema, proof, status and validity period. The schema
check is a separate function (``validate_schema``). ``verify_credential`` never raises on malformed input.
"""

from __future__ import annotations

import base64
import copy
import gzip
import hashlib
import json
import re
import secrets
import uuid
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import base58
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pyld import jsonld

# --------------------------------------------------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------------------------------------------------

CREDENTIALS_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_V3_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_CREDENTIAL_CONTEXTS = (CREDENTIALS_V2_CONTEXT, OB_V3_CONTEXT)

# Credentials carry no ``credentialSchema``: its type (``1EdTechJsonSchemaValidator2019``) is defined only by
# 1EdTech's extensions context, which is not pinned here, so it would be a relative @type reference that JSON-LD safe
# mode rejects and that no signature covers. The schema is optional in OB 3.0; ``validate_schema`` still checks it.

DID_CONTEXTS = ("https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1")

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-rdfc-2022"
PROOF_PURPOSE = "assertionMethod"

# Multicodec prefix for an Ed25519 public key (varint of 0xed), as used by Multikey and did:key.
ED25519_PUB_MULTICODEC = b"\xed\x01"

# W3C Bitstring Status List v1.0: the uncompressed bitstring MUST be at least 16 KB (131,072 entries) for herd privacy.
STATUS_LIST_MIN_BITS = 131_072
# Guard against decompression bombs when decoding a status list that came from elsewhere (16 MiB = 134M entries).
STATUS_LIST_MAX_BYTES = 16 * 1024 * 1024

ENDORSEMENTS = ("extraoral", "intraoral")

_BASE64URL_RE = re.compile(r"^[A-Za-z0-9_-]+$")

_CONTEXTS_DIR = Path(__file__).resolve().parent / "contexts"

# URL -> (file name, SHA-256 of the file). The digest makes an edited context fail loudly instead of changing
# what signatures cover.
_PINNED_CONTEXTS: dict[str, tuple[str, str]] = {
    CREDENTIALS_V2_CONTEXT: (
        "credentials-v2.jsonld",
        "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734",
    ),
    OB_V3_CONTEXT: (
        "ob-v3p0-context-3.0.3.json",
        "ef2fa9c7846dce233cc166b43639027278be4ee44f00bb1d45c75de2dd0cd761",
    ),
}
_context_cache: dict[str, Any] = {}


class ContextNotPinnedError(ValueError):
    """Raised when JSON-LD processing asks for a context that is not pinned in ``contexts/``."""


class UnsafeJsonLdError(ValueError):
    """Raised when a term or a ``@type`` value is not defined by the contexts (JSON-LD "safe mode").

    Such a property is dropped by expansion, and such a type becomes a relative IRI reference: either way the
    signature would not cover it, and verifiers in safe mode (jsonld.js, Digital Bazaar's Data Integrity) reject it.
    """


# --------------------------------------------------------------------------------------------------------------------
# JSON-LD: pinned document loader and canonicalisation
# --------------------------------------------------------------------------------------------------------------------


def _load_pinned(url: str) -> Any:
    if url not in _context_cache:
        file_name, expected_sha256 = _PINNED_CONTEXTS[url]
        raw = (_CONTEXTS_DIR / file_name).read_bytes()
        digest = hashlib.sha256(raw).hexdigest()
        if digest != expected_sha256:
            raise ContextNotPinnedError(f"pinned context {file_name} has SHA-256 {digest}, expected {expected_sha256}")
        _context_cache[url] = json.loads(raw)
    return _context_cache[url]


def document_loader(url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return a pinned JSON-LD context in the shape pyld expects, or raise ``ContextNotPinnedError``.

    Only the contexts in ``contexts/`` are served. Nothing is ever fetched over the network. ``options`` is accepted
    because pyld passes it; it is ignored.
    """
    if not isinstance(url, str) or url not in _PINNED_CONTEXTS:
        raise ContextNotPinnedError(f"JSON-LD context is not pinned (refusing to fetch): {url!r}")
    return {
        "contextUrl": None,
        "documentUrl": url,
        # A deep copy, so no caller can alter the cached context.
        "document": copy.deepcopy(_load_pinned(url)),
        "contentType": "application/ld+json",
        # Pinned contexts never change: pyld may keep the context it resolved (and processed) from this document for
        # later documents instead of loading and processing it again for every credential (the JSON-LD loaders'
        # "static" tag, as jsonld.js has it).
        "tag": "static",
    }


def pinned_contexts() -> dict[str, Any]:
    """Every pinned context, by URL (for handing to another verifier's offline document loader)."""
    return {url: copy.deepcopy(_load_pinned(url)) for url in _PINNED_CONTEXTS}


def _jsonld_options() -> dict[str, Any]:
    # W3C Data Integrity requires a null base IRI. pyld 3.x otherwise resolves relative IRIs (such as the
    # credentialSchema type "1EdTechJsonSchemaValidator2019") against "http://example.org/base/", which gives a
    # canonical form that other implementations (jsonld.js) do not produce, so signatures would not interoperate.
    return {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": document_loader, "base": None}


def _raise_root_cause(exc: Exception) -> None:
    """Re-raise our own error when pyld wrapped it, so callers see "not pinned" rather than a generic message."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ContextNotPinnedError | UnsafeJsonLdError):
            raise cause from exc
        cause = cause.__cause__ or cause.__context__
    raise exc


_ABSOLUTE_IRI_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def _relative_references(expanded: Any) -> list[str]:
    """The ``@type`` values and typed ``@id`` references in an expanded document that are not absolute IRIs."""
    found: list[str] = []
    stack = [expanded]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            types = node.get("@type", [])
            for value in types if isinstance(types, list) else [types]:
                # A @type on a value object (e.g. xsd:dateTime) is also an IRI and must be absolute.
                if isinstance(value, str) and not _ABSOLUTE_IRI_RE.match(value) and value != "@json":
                    found.append(f"@type {value!r}")
            ident = node.get("@id")
            if isinstance(ident, str) and not ident.startswith("_:") and not _ABSOLUTE_IRI_RE.match(ident):
                found.append(f"@id {ident!r}")
            stack.extend(v for k, v in node.items() if k not in ("@type", "@id", "@value"))
    return found


def _assert_safe_mode(document: Mapping[str, Any]) -> Any:
    """Expand ``document`` in "safe mode": raise if any property would be dropped or any reference is relative.

    JSON-LD silently ignores properties that no context defines, and turns an undefined ``@type`` value into a relative
    IRI reference that canonicalisation drops (the base IRI is null). Neither would be covered by the signature, so
    W3C Data Integrity asks processors to treat both as errors, as jsonld.js does in safe mode.
    """
    dropped: list[str] = []

    def on_dropped(term: str | None) -> None:
        dropped.append(str(term))

    try:
        expanded = jsonld.expand(dict(document), {"documentLoader": document_loader, "base": None},
                                 on_property_dropped=on_dropped)
    except jsonld.JsonLdError as exc:
        _raise_root_cause(exc)
    if dropped:
        raise UnsafeJsonLdError(f"properties not defined by the JSON-LD context: {', '.join(sorted(set(dropped)))}")
    relative = _relative_references(expanded)
    if relative:
        raise UnsafeJsonLdError(f"relative references not defined by the JSON-LD context: "
                                f"{', '.join(sorted(set(relative)))}")
    return expanded


def canonicalize(document: Mapping[str, Any]) -> str:
    """Return the RDF Dataset Canonicalization (URDNA2015) of a JSON-LD document as N-Quads.

    Uses only pinned contexts. Raises ``UnsafeJsonLdError`` if a term or a type is undefined by the contexts.
    """
    key = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    found = _canonical_cache.get(key)
    if found is not None:
        return found
    # The safe-mode check expands the document; canonicalising that expanded form gives the same dataset
    # (expansion is idempotent) without processing the contexts a second time.
    expanded = _assert_safe_mode(document)
    try:
        canonical = jsonld.normalize(dict(document) if expanded is None else expanded, _jsonld_options())
    except jsonld.JsonLdError as exc:
        _raise_root_cause(exc)
        raise  # unreachable: _raise_root_cause always raises
    if expanded is not None:  # only a document that passed the safe-mode check is remembered
        if len(_canonical_cache) >= _CANONICAL_CACHE_SIZE:
            _canonical_cache.pop(next(iter(_canonical_cache)))
        _canonical_cache[key] = canonical
    return canonical


# Canonical forms of recent documents, by their JSON text. The proof configuration is the same for every credential
# signed on one day with one key (its ``created`` is the day of issue), so a cohort canonicalises it once. A pure
# function of the document and the pinned contexts, so the cached form is always the one computed afresh; only
# documents that passed the safe-mode check are kept, so a hit never skips that check.
_CANONICAL_CACHE_SIZE = 32
_canonical_cache: dict[str, str] = {}


def hash_data(unsecured_document: Mapping[str, Any], proof_config: Mapping[str, Any]) -> bytes:
    """Return the 64 bytes that eddsa-rdfc-2022 signs: SHA-256(canonical proof config) || SHA-256(canonical document).

    ``proof_config`` is the proof without ``proofValue``. It must carry the document's ``@context``.
    """
    proof_hash = hashlib.sha256(canonicalize(proof_config).encode("utf-8")).digest()
    document_hash = hashlib.sha256(canonicalize(unsecured_document).encode("utf-8")).digest()
    return proof_hash + document_hash


# --------------------------------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------------------------------


def generate_issuer_key() -> bytes:
    """Generate a new Ed25519 issuer key and return its raw 32-byte private seed."""
    return Ed25519PrivateKey.generate().private_bytes_raw()


def issuer_key_to_pem(private_key_seed: bytes, password: bytes | None = None) -> bytes:
    """Serialise a 32-byte Ed25519 seed as a PKCS#8 PEM, encrypted when ``password`` is given."""
    key = Ed25519PrivateKey.from_private_bytes(private_key_seed)
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def load_issuer_key_pem(pem: bytes | str, password: bytes | None = None) -> bytes:
    """Load an Ed25519 private key from PEM and return its raw 32-byte seed. Raises ``ValueError`` for other keys."""
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    key = serialization.load_pem_private_key(data, password=password)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("issuer key must be an Ed25519 private key")
    return key.private_bytes_raw()


def public_key_bytes(private_key_seed: bytes) -> bytes:
    """Return the raw 32-byte Ed25519 public key for a private seed."""
    return Ed25519PrivateKey.from_private_bytes(private_key_seed).public_key().public_bytes_raw()


def multikey_public(pub: bytes) -> str:
    """Encode a raw 32-byte Ed25519 public key as Multikey: ``z`` + base58btc(0xed01 || key), i.e. ``z6Mk...``."""
    if not isinstance(pub, bytes | bytearray) or len(pub) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return "z" + base58.b58encode(ED25519_PUB_MULTICODEC + bytes(pub)).decode("ascii")


def multikey_decode(public_key_multibase: str) -> bytes:
    """Decode a ``z6Mk...`` Multikey to the raw 32-byte Ed25519 public key. Raises ``ValueError`` if malformed."""
    if not isinstance(public_key_multibase, str) or not public_key_multibase.startswith("z"):
        raise ValueError("Multikey must be multibase base58btc (leading 'z')")
    raw = base58.b58decode(public_key_multibase[1:])
    if len(raw) != 34 or raw[:2] != ED25519_PUB_MULTICODEC:
        raise ValueError("Multikey is not an Ed25519 public key (0xed01 prefix, 32 bytes)")
    return raw[2:]


# --------------------------------------------------------------------------------------------------------------------
# DIDs
# --------------------------------------------------------------------------------------------------------------------

_HOST_RE = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


def did_web_for_host(host: str) -> str:
    """Return the ``did:web`` for an app host, e.g. ``localhost:5000`` -> ``did:web:localhost%3A5000``.

    The did:web method percent-encodes the port colon because ``:`` separates path segments in the DID.
    """
    host = (host or "").strip().lower()
    if not _HOST_RE.match(host):
        raise ValueError(f"not a bare host[:port]: {host!r}")
    return "did:web:" + host.replace(":", "%3A")


def did_web_document_url(did: str) -> str:
    """Return the HTTPS URL of a ``did:web`` DID document (``/.well-known/did.json`` for a bare host)."""
    if not did.startswith("did:web:"):
        raise ValueError("not a did:web DID")
    parts = did[len("did:web:") :].split(":")
    host = unquote(parts[0])
    path = "/".join(quote(unquote(p), safe="") for p in parts[1:])
    return f"https://{host}/{path}/did.json" if path else f"https://{host}/.well-known/did.json"


def did_web_document(did: str, public_key_multibase: str) -> dict[str, Any]:
    """Return the DID document for the issuer: one Multikey ``did#key-1`` for assertionMethod and authentication."""
    key_id = f"{did}#key-1"
    return {
        "@context": list(DID_CONTEXTS),
        "id": did,
        "verificationMethod": [
            {"id": key_id, "type": "Multikey", "controller": did, "publicKeyMultibase": public_key_multibase}
        ],
        "assertionMethod": [key_id],
        "authentication": [key_id],
    }


def resolver_from_did_document(did_document: Mapping[str, Any]) -> Callable[[str], bytes]:
    """Return a ``resolve_key`` callable that serves keys from one DID document (for example, the app's own).

    It resolves only Multikey verification methods that the document lists under ``assertionMethod`` and whose
    controller is the DID. Anything else raises ``KeyError``.
    """
    did = did_document.get("id")
    allowed = {
        (f"{did}{ref}" if isinstance(ref, str) and ref.startswith("#") else ref)
        for ref in did_document.get("assertionMethod", [])
        if isinstance(ref, str)
    }
    keys: dict[str, bytes] = {}
    for vm in did_document.get("verificationMethod", []):
        if not isinstance(vm, Mapping) or vm.get("type") != "Multikey" or vm.get("controller") != did:
            continue
        vm_id = vm.get("id")
        if isinstance(vm_id, str) and vm_id.startswith("#"):
            vm_id = f"{did}{vm_id}"
        if vm_id in allowed:
            keys[vm_id] = multikey_decode(vm.get("publicKeyMultibase", ""))

    def resolve(verification_method: str) -> bytes:
        return keys[verification_method]

    return resolve


# --------------------------------------------------------------------------------------------------------------------
# Building credentials
# --------------------------------------------------------------------------------------------------------------------


def _utc(dt: datetime) -> datetime:
    # Naive datetimes are taken as UTC: the database stores UTC without a zone.
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def format_datetime(dt: datetime) -> str:
    """Format a datetime as an XML Schema dateTimeStamp in UTC with whole seconds, e.g. ``2026-03-01T09:30:00Z``."""
    return _utc(dt).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_datetime(value: Any) -> datetime:
    """Parse a dateTimeStamp string into an aware datetime. Raises ``ValueError`` when it has no time zone."""
    if not isinstance(value, str):
        raise ValueError("date-time must be a string")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"date-time has no time zone: {value!r}")
    return parsed


def holder_urn(issuer_did: str, holder_id: Any) -> str:
    """Return a stable subject id for a holder.

    A value that is already a URI (``urn:uuid:...``, ``did:...``) is kept. Anything else, such as a database key, is
    mapped to a name-based ``urn:uuid`` under the issuer. It is stable per holder and does not reveal the raw key.
    The best input is a random UUID stored on the trainee.
    """
    text = str(holder_id).strip()
    if not text:
        raise ValueError("holder_id is required")
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$", text):
        return text
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"{issuer_did}/holders")
    return f"urn:uuid:{uuid.uuid5(namespace, text)}"


def build_credential(data: Mapping[str, Any]) -> dict[str, Any]:
    """Build an unsigned OB 3.0 ``OpenBadgeCredential`` for one certificate.

    ``data`` keys: serial, credential_url, issuer_did, issuer_name, issuer_url, holder_name, holder_id,
    achievement_id, achievement_name, achievement_description, criteria_narrative, endorsements (iterable of
    ``extraoral``/``intraoral``), valid_from (datetime), valid_until (datetime or None), status_list_url,
    status_index (int).

    - The holder is identified twice. ``credentialSubject.id`` is a stable ``urn:uuid``. ``identifier`` holds an
      unhashed ``IdentityObject`` of type ``name``, so the signed credential shows the holder's name.
    - Scope endorsements become ``result`` entries that point to a ``ResultDescription`` on the achievement.
    - Revocation uses a ``BitstringStatusListEntry``.
    """
    required = (
        "serial",
        "credential_url",
        "issuer_did",
        "issuer_name",
        "issuer_url",
        "holder_name",
        "holder_id",
        "achievement_id",
        "achievement_name",
        "achievement_description",
        "criteria_narrative",
        "valid_from",
        "status_list_url",
        "status_index",
    )
    missing = [key for key in required if data.get(key) in (None, "")]
    if missing:
        raise ValueError(f"missing credential data: {', '.join(missing)}")

    endorsements = list(dict.fromkeys(data.get("endorsements") or ()))
    unknown = [e for e in endorsements if e not in ENDORSEMENTS]
    if unknown:
        raise ValueError(f"unknown endorsements: {unknown}")

    status_index = int(data["status_index"])
    if status_index < 0:
        raise ValueError("status_index must be >= 0")

    valid_from: datetime = data["valid_from"]
    valid_until: datetime | None = data.get("valid_until")
    if valid_until is not None and _utc(valid_until) < _utc(valid_from):
        raise ValueError("valid_until is before valid_from")

    issuer_did = str(data["issuer_did"])
    achievement_id = str(data["achievement_id"])
    endorsement_description_id = f"{achievement_id}#scope-endorsement"

    achievement: dict[str, Any] = {
        "id": achievement_id,
        "type": ["Achievement"],
        "achievementType": "Certificate",
        "name": str(data["achievement_name"]),
        "description": str(data["achievement_description"]),
        "criteria": {"narrative": str(data["criteria_narrative"])},
        "creator": {"id": issuer_did, "type": ["Profile"], "name": str(data["issuer_name"])},
    }
    subject: dict[str, Any] = {
        "id": holder_urn(issuer_did, data["holder_id"]),
        "type": ["AchievementSubject"],
        "identifier": [
            {
                "type": "IdentityObject",
                "identityHash": str(data["holder_name"]),
                "identityType": "name",
                "hashed": False,
            }
        ],
        "achievement": achievement,
    }
    if endorsements:
        achievement["resultDescription"] = [
            {
                "id": endorsement_description_id,
                "type": ["ResultDescription"],
                "name": "Scope endorsement",
                "resultType": "Result",
                "allowedValue": list(ENDORSEMENTS),
            }
        ]
        subject["result"] = [
            {"type": ["Result"], "resultDescription": endorsement_description_id, "value": endorsement}
            for endorsement in endorsements
        ]

    status_list_url = str(data["status_list_url"])
    credential: dict[str, Any] = {
        "@context": list(OB_CREDENTIAL_CONTEXTS),
        "id": str(data["credential_url"]),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {
            "id": issuer_did,
            "type": ["Profile"],
            "name": str(data["issuer_name"]),
            "url": str(data["issuer_url"]),
        },
        "name": str(data["achievement_name"]),
        "description": f"Certificate {data['serial']}: {data['achievement_name']}, awarded to {data['holder_name']}.",
        "validFrom": format_datetime(valid_from),
        "credentialSubject": subject,
        "credentialStatus": {
            "id": f"{status_list_url}#{status_index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(status_index),
            "statusListCredential": status_list_url,
        },
    }
    if valid_until is not None:
        credential["validUntil"] = format_datetime(valid_until)
    return credential


# --------------------------------------------------------------------------------------------------------------------
# Signing and proof verification (W3C vc-di-eddsa, eddsa-rdfc-2022)
# --------------------------------------------------------------------------------------------------------------------


def _proofs_of(document: Mapping[str, Any]) -> list[Any]:
    proof = document.get("proof")
    if proof is None:
        return []
    return list(proof) if isinstance(proof, list) else [proof]


def sign_credential(
    credential: Mapping[str, Any], private_key_seed: bytes, verification_method: str, created: datetime
) -> dict[str, Any]:
    """Return a copy of ``credential`` with an added ``DataIntegrityProof`` (``eddsa-rdfc-2022``).

    Follows W3C vc-di-eddsa: the proof config (the proof options plus the document's ``@context``) and the document
    without any proof are each canonicalised and hashed, and Ed25519 signs the two hashes. Existing proofs are kept.
    The new proof signs the document without them (a proof set). ``proof`` is always a list, as the OB schema
    requires. Raises ``UnsafeJsonLdError`` if a property is not defined by the contexts, since it would go unsigned.
    """
    unsecured = {k: copy.deepcopy(v) for k, v in credential.items() if k != "proof"}
    existing = _proofs_of(credential)
    proof_options: dict[str, Any] = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": format_datetime(created),
        "verificationMethod": verification_method,
        "proofPurpose": PROOF_PURPOSE,
    }
    proof_config = {"@context": copy.deepcopy(unsecured["@context"]), **proof_options}
    data = hash_data(unsecured, proof_config)
    signature = Ed25519PrivateKey.from_private_bytes(private_key_seed).sign(data)
    proof = {**proof_options, "proofValue": "z" + base58.b58encode(signature).decode("ascii")}
    return {**unsecured, "proof": [*copy.deepcopy(existing), proof]}


def _verify_one_proof(
    document: Mapping[str, Any], proof: Any, resolve_key: Callable[[str], Any], issuer_id: str | None
) -> None:
    """Verify one proof and raise ``ValueError`` with the reason on failure."""
    if not isinstance(proof, Mapping):
        raise ValueError("proof is not an object")
    if proof.get("type") != PROOF_TYPE:
        raise ValueError(f"unsupported proof type {proof.get('type')!r}")
    if proof.get("cryptosuite") != CRYPTOSUITE:
        raise ValueError(f"unsupported cryptosuite {proof.get('cryptosuite')!r}")
    if proof.get("proofPurpose") != PROOF_PURPOSE:
        raise ValueError(f"proofPurpose must be {PROOF_PURPOSE!r}")
    if "created" in proof:
        parse_datetime(proof["created"])
    verification_method = proof.get("verificationMethod")
    if not isinstance(verification_method, str) or not verification_method:
        raise ValueError("proof has no verificationMethod")
    # The signing key must belong to the issuer, otherwise anyone could sign a credential naming our issuer.
    if issuer_id is None or verification_method.split("#", 1)[0] != issuer_id:
        raise ValueError("verificationMethod is not controlled by the issuer")

    proof_value = proof.get("proofValue")
    if not isinstance(proof_value, str) or not proof_value.startswith("z"):
        raise ValueError("proofValue must be multibase base58btc")
    signature = base58.b58decode(proof_value[1:])
    if len(signature) != 64:
        raise ValueError("proofValue is not a 64-byte Ed25519 signature")

    options = {k: copy.deepcopy(v) for k, v in proof.items() if k != "proofValue"}
    unsecured = {k: copy.deepcopy(v) for k, v in document.items() if k != "proof"}
    if "@context" in options:
        # vc-di-eddsa: a proof's own @context must be a prefix of the document's @context.
        doc_ctx = unsecured.get("@context")
        doc_list = doc_ctx if isinstance(doc_ctx, list) else [doc_ctx]
        opt_list = options["@context"] if isinstance(options["@context"], list) else [options["@context"]]
        if doc_list[: len(opt_list)] != opt_list:
            raise ValueError("proof @context does not match the document @context")
        unsecured["@context"] = options["@context"]
    options["@context"] = copy.deepcopy(unsecured.get("@context"))

    key = resolve_key(verification_method)
    if isinstance(key, str):
        key = multikey_decode(key)
    public_key = Ed25519PublicKey.from_public_bytes(bytes(key))
    try:
        public_key.verify(signature, hash_data(unsecured, options))
    except InvalidSignature:
        raise ValueError("signature does not match the credential") from None


@dataclass
class VerificationResult:
    """Outcome of ``verify_credential``.

    ``checks`` maps each check to True (passed), False (failed) or None (not applicable or not checked). The
    checks are ``structure``, ``proof``, ``valid_from``, ``valid_until`` and ``status``. ``valid`` is True only when
    ``structure`` and ``proof`` passed and no check failed. ``errors`` lists the reasons for each failure.
    """

    valid: bool
    checks: dict[str, bool | None] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def _issuer_id(credential: Mapping[str, Any]) -> str | None:
    issuer = credential.get("issuer")
    if isinstance(issuer, str):
        return issuer
    if isinstance(issuer, Mapping) and isinstance(issuer.get("id"), str):
        return issuer["id"]
    return None


def _check_structure(credential: Any, errors: list[str]) -> bool:
    if not isinstance(credential, Mapping):
        errors.append("structure: credential is not a JSON object")
        return False
    ok = True
    ctx = credential.get("@context")
    if not isinstance(ctx, list) or not ctx or ctx[0] != CREDENTIALS_V2_CONTEXT:
        errors.append(f"structure: @context must be a list starting with {CREDENTIALS_V2_CONTEXT}")
        ok = False
    types = credential.get("type")
    if not isinstance(types, list) or "VerifiableCredential" not in types:
        errors.append("structure: type must include VerifiableCredential")
        ok = False
    if _issuer_id(credential) is None:
        errors.append("structure: issuer must be a URL or an object with an id")
        ok = False
    if "credentialSubject" not in credential:
        errors.append("structure: credentialSubject is missing")
        ok = False
    return ok


def _check_proofs(credential: Mapping[str, Any], resolve_key: Callable[[str], Any], errors: list[str]) -> bool:
    proofs = _proofs_of(credential)
    if not proofs:
        errors.append("proof: credential has no proof")
        return False
    reasons = []
    issuer_id = _issuer_id(credential)
    for number, proof in enumerate(proofs):
        try:
            _verify_one_proof(credential, proof, resolve_key, issuer_id)
            return True  # OB 3.0: when several proofs are present, any one valid proof is accepted.
        except Exception as exc:  # a malformed proof or an unknown key is a failed check, never a crash
            reasons.append(f"proof[{number}]: {type(exc).__name__}: {exc}")
    errors.extend(f"proof: {reason}" for reason in reasons)
    return False


def _check_dates(credential: Mapping[str, Any], now: datetime, checks: dict, errors: list[str]) -> None:
    now = _utc(now)
    start = end = None
    for key, check in (("validFrom", "valid_from"), ("validUntil", "valid_until")):
        if key not in credential:
            checks[check] = None
            continue
        try:
            value = parse_datetime(credential[key])
        except (ValueError, TypeError) as exc:
            checks[check] = False
            errors.append(f"{check}: {key} is not a valid date-time ({exc})")
            continue
        if key == "validFrom":
            start = value
            checks[check] = value <= now
            if value > now:
                errors.append(f"valid_from: credential is not valid before {credential[key]}")
        else:
            end = value
            checks[check] = now <= value
            if now > value:
                errors.append(f"valid_until: credential expired at {credential[key]}")
    if start is not None and end is not None and end < start:
        checks["valid_until"] = False
        errors.append("valid_until: validUntil is before validFrom")


def _check_status(
    credential: Mapping[str, Any],
    resolve_key: Callable[[str], Any],
    now: datetime,
    status_list_loader: Callable[[str], Mapping[str, Any]],
    errors: list[str],
) -> bool:
    entries = credential.get("credentialStatus")
    entries = entries if isinstance(entries, list) else [entries]
    ok = True
    for entry in entries:
        try:
            if not isinstance(entry, Mapping) or entry.get("type") != "BitstringStatusListEntry":
                raise ValueError("unsupported credentialStatus type")
            purpose = entry.get("statusPurpose")
            if purpose not in ("revocation", "suspension"):
                raise ValueError(f"unsupported statusPurpose {purpose!r}")
            raw_index = entry.get("statusListIndex")
            if not isinstance(raw_index, str) or not raw_index.isdigit():
                raise ValueError("statusListIndex must be a base-10 string")
            list_url = entry.get("statusListCredential")
            if not isinstance(list_url, str):
                raise ValueError("statusListCredential is missing")
            list_credential = status_list_loader(list_url)
            # The status list is itself a credential: its proof and validity period must hold.
            list_result = _verify(list_credential, resolve_key, now, None)
            if not list_result.valid:
                raise ValueError("status list credential failed verification: " + "; ".join(list_result.errors))
            if "BitstringStatusListCredential" not in list_credential.get("type", []):
                raise ValueError("status list credential has the wrong type")
            if list_credential.get("id") != list_url:
                raise ValueError("status list credential id does not match statusListCredential")
            if _issuer_id(list_credential) != _issuer_id(credential):
                raise ValueError("status list has a different issuer")
            subject = list_credential.get("credentialSubject") or {}
            if subject.get("type") != "BitstringStatusList" or subject.get("statusPurpose") != purpose:
                raise ValueError("status list subject type or purpose does not match")
            if is_revoked(subject.get("encodedList"), int(raw_index)):
                ok = False
                errors.append(f"status: credential is {'revoked' if purpose == 'revocation' else 'suspended'}")
        except Exception as exc:  # fail closed: a status that cannot be established counts as a failure
            ok = False
            errors.append(f"status: could not be established ({type(exc).__name__}: {exc})")
    return ok


def _verify(
    credential: Any,
    resolve_key: Callable[[str], Any],
    now: datetime,
    status_list_loader: Callable[[str], Mapping[str, Any]] | None,
) -> VerificationResult:
    checks: dict[str, bool | None] = {
        "structure": None,
        "proof": None,
        "valid_from": None,
        "valid_until": None,
        "status": None,
    }
    errors: list[str] = []
    try:
        checks["structure"] = _check_structure(credential, errors)
        if isinstance(credential, Mapping):
            checks["proof"] = _check_proofs(credential, resolve_key, errors)
            _check_dates(credential, now, checks, errors)
            if status_list_loader is not None and "credentialStatus" in credential:
                checks["status"] = _check_status(credential, resolve_key, now, status_list_loader, errors)
    except Exception as exc:  # belt and braces: verification reports, it never raises
        errors.append(f"verification error: {type(exc).__name__}: {exc}")
        return VerificationResult(valid=False, checks=checks, errors=errors)
    valid = checks["structure"] is True and checks["proof"] is True and all(v is not False for v in checks.values())
    return VerificationResult(valid=valid, checks=checks, errors=errors)


def verify_credential(
    credential: Any,
    resolve_key: Callable[[str], bytes],
    now: datetime,
    *,
    status_list_loader: Callable[[str], Mapping[str, Any]] | None = None,
) -> VerificationResult:
    """Verify a credential's structure, Data Integrity proof, validity period and, optionally, its status.

    ``resolve_key(verification_method)`` returns the raw 32-byte Ed25519 public key (a ``z6Mk`` Multikey string
    is also accepted). It should raise for keys the caller does not trust. The method must belong to the issuer:
    the part before ``#`` equals ``issuer.id``.

    Status is checked only when ``status_list_loader(url)`` is given. It returns the status-list credential for a
    URL, for example from the database. The list's own proof is verified. A status that cannot be established
    counts as a failure (fail closed). Without a loader, ``checks["status"]`` is None.

    The JSON Schema is checked separately by ``validate_schema``. Never raises: problems are reported in
    ``errors``.
    """
    return _verify(credential, resolve_key, now, status_list_loader)


# --------------------------------------------------------------------------------------------------------------------
# JSON Schema (1EdTechJsonSchemaValidator2019)
# --------------------------------------------------------------------------------------------------------------------


def validate_schema(credential: Any, schema: Mapping[str, Any]) -> list[str]:
    """Validate a credential against an OB 3.0 JSON Schema and return error messages (empty when valid).

    Also applies the OB 3.0 conformance rule the schema cannot express: ``credentialSubject`` must have an ``id``
    and/or an ``identifier``.
    """
    import jsonschema  # imported here so that modules that only sign do not pay for it

    validator_cls = jsonschema.validators.validator_for(schema)
    validator = validator_cls(schema, format_checker=validator_cls.FORMAT_CHECKER)
    errors = [
        f"{'/'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}"
        for error in sorted(validator.iter_errors(credential), key=lambda e: [str(p) for p in e.absolute_path])
    ]
    subject = credential.get("credentialSubject") if isinstance(credential, Mapping) else None
    if isinstance(subject, Mapping) and not subject.get("id") and not subject.get("identifier"):
        errors.append("credentialSubject: must have an id and/or an identifier")
    return errors


# --------------------------------------------------------------------------------------------------------------------
# Bitstring Status List (W3C Bitstring Status List v1.0)
# --------------------------------------------------------------------------------------------------------------------


def encode_status_list(revoked_indexes: Iterable[int], size: int = STATUS_LIST_MIN_BITS) -> str:
    """Encode a revocation bitstring: GZIP, then multibase base64url without padding (``u`` prefix).

    Index 0 is the left-most (most significant) bit of the first byte. ``size`` is in bits: at least 131,072
    and a multiple of 8.
    """
    if size < STATUS_LIST_MIN_BITS or size % 8:
        raise ValueError(f"status list size must be >= {STATUS_LIST_MIN_BITS} bits and a multiple of 8")
    bits = bytearray(size // 8)
    for index in revoked_indexes:
        if not 0 <= index < size:
            raise ValueError(f"status index {index} outside 0..{size - 1}")
        bits[index // 8] |= 0x80 >> (index % 8)
    # mtime=0 makes the encoding deterministic, so an unchanged list gives an identical credential.
    compressed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")


def decode_status_list(encoded: str) -> bytes:
    """Decode an ``encodedList`` back to the uncompressed bitstring. Raises ``ValueError`` if malformed or too large."""
    if not isinstance(encoded, str) or not encoded:
        raise ValueError("encodedList must be a non-empty string")
    # The 'u' multibase prefix is required by v1.0. Older StatusList2021 lists omit it; base64 of GZIP starts "H4sI".
    body = encoded[1:] if encoded.startswith("u") else encoded
    # The base64 decoder silently skips characters outside the alphabet, so check the alphabet first.
    if not _BASE64URL_RE.match(body):
        raise ValueError("encodedList is not base64url without padding")
    compressed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    decompressor = zlib.decompressobj(wbits=31)  # 31 = GZIP container
    try:
        bits = decompressor.decompress(compressed, STATUS_LIST_MAX_BYTES)
    except zlib.error as exc:
        raise ValueError("encodedList is not GZIP data") from exc
    if decompressor.unconsumed_tail:
        raise ValueError("status list is larger than allowed")
    if not decompressor.eof or not bits:
        raise ValueError("encodedList is truncated or empty")
    return bits


def is_revoked(encoded: str, index: int) -> bool:
    """Return whether the bit at ``index`` is set (index 0 = left-most bit of the first byte).

    Raises ``ValueError`` when the index is outside the list (STATUS_RANGE_ERROR in the spec).
    """
    bits = decode_status_list(encoded)
    if not 0 <= index < len(bits) * 8:
        raise ValueError(f"status index {index} outside the list")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def random_status_index(taken: set[int], size: int = STATUS_LIST_MIN_BITS) -> int:
    """Pick an unused status index at random with ``secrets``, as the spec advises, so indexes say nothing."""
    if len(taken) >= size:
        raise ValueError("status list is full")
    if len(taken) < size // 2:
        while True:
            index = secrets.randbelow(size)
            if index not in taken:
                return index
    free = [i for i in range(size) if i not in taken]
    return free[secrets.randbelow(len(free))]


def build_status_list_credential(
    status_list_url: str,
    issuer_did: str,
    encoded_list: str,
    private_key_seed: bytes,
    verification_method: str,
    created: datetime,
    valid_until: datetime | None = None,
    status_purpose: str = "revocation",
) -> dict[str, Any]:
    """Build and sign a ``BitstringStatusListCredential`` published at ``status_list_url``.

    ``validFrom`` is ``created``. The proof is the same ``eddsa-rdfc-2022`` Data Integrity proof as for certificates.
    """
    credential: dict[str, Any] = {
        "@context": [CREDENTIALS_V2_CONTEXT],
        "id": status_list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_did,
        "validFrom": format_datetime(created),
        "credentialSubject": {
            "id": f"{status_list_url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": status_purpose,
            "encodedList": encoded_list,
        },
    }
    if valid_until is not None:
        credential["validUntil"] = format_datetime(valid_until)
    return sign_credential(credential, private_key_seed, verification_method, created)
