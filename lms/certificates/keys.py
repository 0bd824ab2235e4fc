"""Issuer keys: the PAdES signing certificate for PDFs and the Ed25519 key for Open Badges proofs.

Production reads both from configured paths (a secret store or mounted volume shared by every instance). Development
generates them once into the instance folder.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from flask import current_app

from lms.certificates import ob3
from lms.certificates.signing import SigningMaterial, ensure_dev_signing_material, load_signing_material

_lock = threading.Lock()


class KeyConfigurationError(RuntimeError):
    pass


@lru_cache(maxsize=8)
def _material(cert: str | None, key: str | None, ca: str | None, passphrase: str | None, dev_dir: str | None,
              issuer: str) -> SigningMaterial:
    if cert and key and ca:
        return load_signing_material(Path(cert), Path(key), Path(ca),
                                     key_passphrase=passphrase.encode() if passphrase else None)
    if dev_dir is None:
        raise KeyConfigurationError("SIGNING_CERT_PATH, SIGNING_KEY_PATH and SIGNING_CA_PATH must be set in production")
    return ensure_dev_signing_material(Path(dev_dir), issuer)


def signing_material() -> SigningMaterial:
    cfg = current_app.config
    dev_dir = str(Path(cfg["INSTANCE_PATH"]) / "signing") if cfg.get("GENERATE_DEV_KEYS") else None
    with _lock:
        return _material(cfg.get("SIGNING_CERT_PATH"), cfg.get("SIGNING_KEY_PATH"), cfg.get("SIGNING_CA_PATH"),
                         cfg.get("SIGNING_KEY_PASSPHRASE"), dev_dir, cfg["ISSUER_NAME"])


@lru_cache(maxsize=8)
def _credential_seed(path: str, generate: bool) -> bytes:
    p = Path(path)
    if not p.exists():
        if not generate:
            raise KeyConfigurationError("CREDENTIAL_KEY_PATH must point to the issuer's Ed25519 key in production")
        p.parent.mkdir(parents=True, exist_ok=True)
        pem = ob3.issuer_key_to_pem(ob3.generate_issuer_key())
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
    return ob3.load_issuer_key_pem(p.read_bytes())


def credential_key_seed() -> bytes:
    cfg = current_app.config
    path = cfg.get("CREDENTIAL_KEY_PATH") or str(Path(cfg["INSTANCE_PATH"]) / "signing" / "credential-ed25519.pem")
    with _lock:
        try:
            return _credential_seed(path, bool(cfg.get("GENERATE_DEV_KEYS")))
        except FileExistsError:
            return _credential_seed(path, False)


def issuer_did() -> str:
    host = urlsplit(current_app.config["PUBLIC_BASE_URL"]).netloc
    return ob3.did_web_for_host(host)


def verification_method() -> str:
    return issuer_did() + "#key-1"


def did_document() -> dict:
    pub = ob3.public_key_bytes(credential_key_seed())
    return ob3.did_web_document(issuer_did(), ob3.multikey_public(pub))
