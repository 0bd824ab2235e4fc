"""A readable account of an Open Badges 3.0 credential: who holds it, for what, by whom, and whether it verifies.

Plain data for the credential page. The proof and the status are checked here with the registry's own key and its
current status list, the same way an outside verifier would check them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import current_app

from lms.certificates import keys, ob3
from lms.certificates.queries import status_list_indexes_revoked

STATUS_LIST_PATH = "/credentials/status/1"


def status_list_credential() -> dict:
    """The signed Bitstring Status List credential, as published at ``STATUS_LIST_PATH`` (built from the database)."""
    encoded = ob3.encode_status_list(status_list_indexes_revoked())
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    now = datetime.now(UTC).replace(microsecond=0, second=0)
    return ob3.build_status_list_credential(f"{base}{STATUS_LIST_PATH}", keys.issuer_did(), encoded,
                                            keys.credential_key_seed(), keys.verification_method(), now)


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def describe(credential: dict) -> dict:
    """The facts a person reads on the credential page, and the outcome of verifying the credential now."""
    subject = credential.get("credentialSubject") or {}
    achievement = subject.get("achievement") or {}
    identifier = _first(subject.get("identifier")) or {}
    issuer = credential.get("issuer") or {}
    proof = _first(credential.get("proof")) or {}
    status_entry = credential.get("credentialStatus") or {}
    own_list_url = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + STATUS_LIST_PATH

    def load_status_list(url: str) -> dict:
        if url != own_list_url:
            raise ValueError(f"not this registry's status list: {url}")
        return status_list_credential()

    result = ob3.verify_credential(credential, ob3.resolver_from_did_document(keys.did_document()),
                                   datetime.now(UTC), status_list_loader=load_status_list)
    return {
        "name": credential.get("name", ""),
        "holder": {"name": identifier.get("identityHash", ""), "id": subject.get("id", "")},
        "achievement": {
            "name": achievement.get("name", ""),
            "type": achievement.get("achievementType", ""),
            "description": achievement.get("description", ""),
            "criteria": (achievement.get("criteria") or {}).get("narrative", ""),
            "id": achievement.get("id", ""),
        },
        "results": [r.get("value", "") for r in subject.get("result", []) if isinstance(r, dict)],
        "issuer": {"name": issuer.get("name", ""), "id": issuer.get("id", ""), "url": issuer.get("url", "")},
        "valid_from": credential.get("validFrom", ""),
        "valid_until": credential.get("validUntil", ""),
        "proof": {key: proof.get(key, "") for key in ("type", "cryptosuite", "created", "verificationMethod",
                                                       "proofPurpose")},
        "status": {"purpose": status_entry.get("statusPurpose", ""), "index": status_entry.get("statusListIndex", ""),
                   "list": status_entry.get("statusListCredential", "")},
        "checks": result.checks,
        "valid": result.valid,
        "errors": result.errors,
    }
