"""PAdES signing and validation of certificate PDFs with pyHanko.

Trust model: verifiers trust the issuing **CA**, never the signer certificate itself (pyHanko treats a signer used
as its own trust root as undefined behaviour). The signer certificate carries the digitalSignature and
nonRepudiation key usages, because pyHanko's default key-usage policy rejects signatures without non-repudiation.

A signature alone is not enough: bytes appended after signing leave the signature "intact and trusted" with only
``coverage`` dropping from ENTIRE_FILE to ENTIRE_REVISION. :func:`validate_pdf` therefore treats anything short of
ENTIRE_FILE as invalid; an issued certificate is never updated after it is signed.

Development deployments get a throw-away CA and signer from :func:`ensure_dev_signing_material`; production loads
its own PEM files with :func:`load_signing_material`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.metadata.model import DocumentMetadata
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.general import get_pyca_cryptography_hash
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.policy_decl import NO_REVOCATION, CertRevTrustPolicy

__all__ = [
    "SIGNATURE_FIELD",
    "PdfValidation",
    "SigningMaterial",
    "ensure_dev_signing_material",
    "load_signing_material",
    "sign_pdf",
    "validate_pdf",
]

SIGNATURE_FIELD = "OroCertSignature"

CA_FILE = "ca.pem"
SIGNER_FILE = "signer.pem"
SIGNER_KEY_FILE = "signer-key.pem"

# RSA with PKCS#1 v1.5 signs deterministically (ECDSA would not) and every PDF reader verifies it.
_RSA_BITS = 3072
_CA_LIFETIME = timedelta(days=3650)
_SIGNER_LIFETIME = timedelta(days=1825)


@dataclass(frozen=True)
class SigningMaterial:
    """A loaded signer (key and certificate) plus the CA that verifiers should trust."""

    signer: signers.SimpleSigner
    signer_cert: asn1_x509.Certificate
    ca_cert: asn1_x509.Certificate
    cert_path: Path
    key_path: Path
    ca_path: Path

    @property
    def trust_roots(self) -> list[asn1_x509.Certificate]:
        """Trust roots for :func:`validate_pdf`: the CA only."""
        return [self.ca_cert]


@dataclass(frozen=True)
class PdfValidation:
    """Outcome of :func:`validate_pdf`. ``valid`` is the only field to act on; the rest explain it."""

    valid: bool
    intact: bool
    trusted: bool
    entire_file: bool
    signer_subject: str
    reason: str
    certified: bool = False  # a certification signature whose DocMDP level permits no changes


# ---------------------------------------------------------------------------------------------------------------
# Signing material
# ---------------------------------------------------------------------------------------------------------------


def _load_pem_cert(path: Path) -> asn1_x509.Certificate:
    data = Path(path).read_bytes()
    if pem.detect(data):
        _, _, data = pem.unarmor(data)
    return asn1_x509.Certificate.load(data)


def _check_material(signer_cert: asn1_x509.Certificate, ca_cert: asn1_x509.Certificate) -> None:
    # Fail at start-up rather than issue certificates that every verifier will reject.
    if signer_cert.dump() == ca_cert.dump():
        raise ValueError("the signer certificate must not be its own trust root; configure the issuing CA")
    if signer_cert.issuer != ca_cert.subject:
        raise ValueError("the signer certificate was not issued by the configured CA")
    if not ca_cert.ca:
        raise ValueError("the configured CA certificate is not a CA (basicConstraints cA=false)")
    usages = signer_cert.key_usage_value.native if signer_cert.key_usage_value else set()
    if not {"digital_signature", "non_repudiation"} <= set(usages):
        raise ValueError("the signer certificate needs the digitalSignature and nonRepudiation key usages")


def load_signing_material(
    cert_path: Path, key_path: Path, ca_path: Path, key_passphrase: str | bytes | None = None
) -> SigningMaterial:
    """Load a signer certificate, its private key and the issuing CA from PEM (or DER) files.

    :param cert_path: The signer certificate.
    :param key_path: The signer's private key, optionally encrypted with ``key_passphrase``.
    :param ca_path: The CA that issued the signer certificate; verifiers trust this one.
    :raises ValueError: If the key cannot be loaded or the certificates do not form a usable pair (wrong issuer,
        signer used as its own root, missing nonRepudiation key usage).
    """
    cert_path, key_path, ca_path = Path(cert_path), Path(key_path), Path(ca_path)
    if isinstance(key_passphrase, str):
        key_passphrase = key_passphrase.encode("utf-8")
    signer = signers.SimpleSigner.load(
        key_file=str(key_path),
        cert_file=str(cert_path),
        ca_chain_files=(str(ca_path),),
        key_passphrase=key_passphrase,
    )
    if signer is None:
        # pyHanko logs the cause and returns None instead of raising.
        raise ValueError(f"could not load the signing key {key_path} with certificate {cert_path}")
    signer = _ParsedKeySigner(signing_cert=signer.signing_cert, signing_key=signer.signing_key,
                              cert_registry=signer.cert_registry, signature_mechanism=signer.signature_mechanism,
                              prefer_pss=signer.prefer_pss, embed_roots=signer.embed_roots)
    ca_cert = _load_pem_cert(ca_path)
    signer_cert = signer.signing_cert
    _check_material(signer_cert, ca_cert)
    return SigningMaterial(signer, signer_cert, ca_cert, cert_path, key_path, ca_path)


def _name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation[:64]),
        ]
    )


def _generate_dev_material(issuer_name: str) -> tuple[bytes, bytes, bytes]:
    """Return (ca_pem, signer_pem, signer_key_pem). The CA key is discarded: nothing else can ever be issued."""
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=_RSA_BITS)
    ca_name = _name(f"{issuer_name} Development CA", issuer_name)
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + _CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    signer_key = rsa.generate_private_key(public_exponent=65537, key_size=_RSA_BITS)
    signer_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(f"{issuer_name} Certificate Signing (development)", issuer_name))
        .issuer_name(ca_name)
        .public_key(signer_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + _SIGNER_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,  # nonRepudiation: pyHanko's default policy requires it
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(signer_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    pem_encoding = serialization.Encoding.PEM
    key_pem = signer_key.private_bytes(pem_encoding, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return ca_cert.public_bytes(pem_encoding), signer_cert.public_bytes(pem_encoding), key_pem


def _write_new_file(path: Path, data: bytes, mode: int) -> None:
    # Write beside the target, fsync, then rename: a crash never leaves a half-written PEM under the real name.
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)  # O_CREAT's mode is filtered by the umask; the key must end up 0600 regardless
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


@contextlib.contextmanager
def _directory_lock(directory: Path):
    # Several workers may start at once; only one of them may generate the material.
    lock_path = directory / ".signing.lock"
    fd = os.open(lock_path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def ensure_dev_signing_material(directory: Path, issuer_name: str) -> SigningMaterial:
    """Return development signing material in ``directory``, generating it on the first call.

    Creates a self-signed development CA (``ca.pem``, cA=true, its private key discarded) and a signer certificate it
    issued (``signer.pem``, keyUsage digitalSignature + nonRepudiation) with its unencrypted key (``signer-key.pem``,
    mode 0600). Later calls load the existing files unchanged. Not for production: use :func:`load_signing_material`.

    :raises FileExistsError: If only some of the three files exist; they are never silently replaced, since
        verifiers may already trust the CA.
    """
    directory = Path(directory)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    paths = (directory / CA_FILE, directory / SIGNER_FILE, directory / SIGNER_KEY_FILE)
    with _directory_lock(directory):
        present = [p.exists() for p in paths]
        if not any(present):
            ca_pem, signer_pem, key_pem = _generate_dev_material(issuer_name)
            # Key first, CA last: an interrupted run leaves a partial set that the check below reports.
            _write_new_file(paths[2], key_pem, 0o600)
            _write_new_file(paths[1], signer_pem, 0o644)
            _write_new_file(paths[0], ca_pem, 0o644)
        elif not all(present):
            missing = ", ".join(p.name for p, ok in zip(paths, present, strict=True) if not ok)
            raise FileExistsError(f"incomplete signing material in {directory}: missing {missing}")
    return load_signing_material(paths[1], paths[2], paths[0])


# ---------------------------------------------------------------------------------------------------------------
# Signing
# ---------------------------------------------------------------------------------------------------------------


class _ParsedKeySigner(signers.SimpleSigner):
    """A SimpleSigner that parses its private key once.

    pyHanko's SimpleSigner turns the stored key into a cryptography key object on every signature, twice per PDF, and
    cryptography checks an RSA key's consistency each time it loads one. For a 3072-bit key that check cost more than
    rendering the certificate (about 0.1 s per load). The key is checked once here, at load, and reused.
    """

    _parsed_key = None

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        if mechanism.signature_algo != "rsassa_pkcs1v15":
            return super().sign_raw(data, digest_algorithm)
        if self._parsed_key is None:
            self._parsed_key = serialization.load_der_private_key(self.signing_key.dump(), password=None)
        return self._parsed_key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))


class _FixedTimeMetadata(DocumentMetadata):
    """Document metadata whose "now" is the signing time: pyHanko stamps /ModDate with the wall clock otherwise."""

    def __setattr__(self, name, value):
        if name == "last_modified" and value == "now" and "_fixed_time" in self.__dict__:
            value = self.__dict__["_fixed_time"]
        super().__setattr__(name, value)


def _fix_modification_time(writer: IncrementalPdfFileWriter, when: datetime) -> None:
    fixed = _FixedTimeMetadata()
    fixed.__dict__.update(writer._meta.__dict__)  # noqa: SLF001 - pyHanko offers no option for the /ModDate it writes
    fixed.__dict__["_fixed_time"] = when
    writer._meta = fixed  # noqa: SLF001


class _FixedTimePdfSigner(signers.PdfSigner):
    """A PdfSigner whose signing time is given, not read from the clock, so a re-sign reproduces the same bytes."""

    def __init__(self, *args, signing_time: datetime, **kwargs):
        super().__init__(*args, **kwargs)
        self._signing_time = signing_time

    def init_signing_session(self, pdf_out, existing_fields_only=False):
        session = super().init_signing_session(pdf_out, existing_fields_only=existing_fields_only)
        # system_time feeds both the CMS signingTime attribute and the signature dictionary's /M entry.
        session.system_time = self._signing_time
        session.estimate_signature_container_size = _remembered_estimate(
            self.signer, session.md_algorithm, session.estimate_signature_container_size)
        return session


def _remembered_estimate(signer, md_algorithm: str, estimate):
    """pyHanko sizes the space it reserves for the signature by making a whole dummy signature first, on every PDF
    (a third of the signing time). With no timestamp server and a fixed key, digest and attribute set, that size is
    the same every time, so it is worked out once per signer (per key, digest and tightness) and remembered: the
    output is byte for byte what pyHanko would write."""
    remembered = signer.__dict__.setdefault("_reserved_sizes", {})

    async def cached(validation_info, tight=False):
        fixed = validation_info is None or validation_info.adobe_revinfo_attr is None
        key = (md_algorithm, bool(tight))
        if fixed and key in remembered:
            return remembered[key]
        size = await estimate(validation_info, tight=tight)
        if fixed:  # revocation info embedded in the signature would vary: never remembered
            remembered[key] = size
        return size

    return cached


def sign_pdf(
    pdf_bytes: bytes,
    material: SigningMaterial,
    *,
    reason: str,
    location: str,
    signing_time: datetime | None = None,
) -> bytes:
    """Add an invisible PAdES (ETSI.CAdES.detached, SHA-256) certification signature in field ``OroCertSignature``.

    It is a certification signature with DocMDP permission level 1 (no changes permitted).

    The signature is an incremental update, so the rendered bytes stay untouched and the signature covers the
    whole resulting file. With the same input, material and ``signing_time`` the output is byte-identical: the
    time is fixed, RSA PKCS#1 v1.5 is deterministic, and the second half of the PDF file identifier (which pyHanko
    would draw at random) is derived from the input.

    :param signing_time: Timezone-aware claimed signing time; defaults to now (UTC), which is what issuance uses. It
        is not a trusted timestamp. A fixed value is for reproducible tests.
    :raises ValueError: If ``signing_time`` is naive.
    """
    if signing_time is None:
        signing_time = datetime.now(UTC).replace(microsecond=0)
    elif signing_time.utcoffset() is None:
        raise ValueError("signing_time must be timezone-aware")

    writer = IncrementalPdfFileWriter(BytesIO(pdf_bytes), strict=True)
    first_id, _ = writer.document_id
    second_id = hashlib.sha256(pdf_bytes + signing_time.isoformat().encode()).digest()[:16]
    # pyHanko exposes no option for this; the attribute is what it writes into the new trailer's /ID.
    writer._document_id = generic.ArrayObject(  # noqa: SLF001
        [generic.ByteStringObject(first_id), generic.ByteStringObject(second_id)]
    )

    meta = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason,
        location=location,
        # A certification (author) signature with DocMDP "no changes permitted": a modification-aware verifier
        # rejects any later revision, form filling and annotations included.
        certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
    )
    _fix_modification_time(writer, signing_time)
    pdf_signer = _FixedTimePdfSigner(meta, signer=material.signer, signing_time=signing_time)
    output = pdf_signer.sign_pdf(writer)
    return output.getvalue()


# ---------------------------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------------------------


def _as_asn1_cert(value) -> asn1_x509.Certificate:
    if isinstance(value, asn1_x509.Certificate):
        return value
    if isinstance(value, x509.Certificate):
        return asn1_x509.Certificate.load(value.public_bytes(serialization.Encoding.DER))
    if isinstance(value, Path):
        return _load_pem_cert(value)
    if isinstance(value, bytes | bytearray):
        data = bytes(value)
        if pem.detect(data):
            _, _, data = pem.unarmor(data)
        return asn1_x509.Certificate.load(data)
    raise TypeError(f"unsupported trust root type {type(value).__name__}")


def _invalid(reason: str, **fields_) -> PdfValidation:
    base = {"valid": False, "intact": False, "trusted": False, "entire_file": False, "signer_subject": ""}
    return PdfValidation(**{**base, **fields_, "reason": reason})


def validate_pdf(pdf_bytes: bytes, trust_roots: list) -> PdfValidation:
    """Validate the ``OroCertSignature`` signature of a certificate PDF against ``trust_roots``, offline.

    ``valid`` is True only if pyHanko's bottom line is positive, the signed digest matches (intact), the signer
    chains to one of ``trust_roots`` with the required key usages (trusted), and the signature covers the entire
    file. Revocation is not checked and nothing is fetched. Difference analysis is skipped because a certificate
    must never carry updates after its signature, which the entire-file rule already enforces.

    :param trust_roots: CA certificates (asn1crypto or cryptography objects, PEM/DER bytes, or paths). Pass the
        CA, not the signer certificate.
    :returns: A :class:`PdfValidation`; never raises for malformed, truncated or unsigned input.
    """
    try:
        roots = [_as_asn1_cert(root) for root in trust_roots]
    except Exception as exc:  # noqa: BLE001 - report bad configuration as an invalid result, as documented
        return _invalid(f"unusable trust root: {type(exc).__name__}")
    if not roots:
        # An empty list would not mean "trust nothing" to every library; refuse explicitly.
        return _invalid("no trust roots given")
    if not all(root.ca for root in roots):
        # Trusting the signer certificate directly is undefined behaviour in pyHanko; only CAs are anchors.
        return _invalid("every trust root must be a CA certificate (trust the CA, not the signer)")

    try:
        reader = PdfFileReader(BytesIO(bytes(pdf_bytes)), strict=True)
        signatures = [s for s in reader.embedded_signatures if s.field_name == SIGNATURE_FIELD]
    except Exception as exc:  # noqa: BLE001 - any parse failure means "not a valid certificate PDF"
        return _invalid(f"not a readable PDF: {type(exc).__name__}: {str(exc)[:200]}")
    if not signatures:
        return _invalid(f"no {SIGNATURE_FIELD} signature")
    if len(signatures) > 1:
        return _invalid(f"more than one {SIGNATURE_FIELD} signature")

    try:
        context = ValidationContext(
            trust_roots=roots,
            allow_fetching=False,
            revinfo_policy=CertRevTrustPolicy(NO_REVOCATION),
        )
        status = validate_pdf_signature(signatures[0], context, skip_diff=True)
    except Exception as exc:  # noqa: BLE001 - a malformed signature is an invalid one
        return _invalid(f"signature could not be validated: {type(exc).__name__}: {str(exc)[:200]}")

    intact = bool(status.intact)
    trusted = bool(status.trusted)
    entire_file = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    subject = status.signing_cert.subject.human_friendly if status.signing_cert is not None else ""
    certified = signatures[0].docmdp_level == fields.MDPPerm.NO_CHANGES
    valid = bool(status.bottom_line) and intact and trusted and entire_file
    if valid:
        reason = "valid"
    elif not intact:
        reason = "the document was changed after signing (digest mismatch)"
    elif not trusted:
        reason = "the signer does not chain to a trusted CA with the required key usage"
    elif not entire_file:
        reason = "the signature does not cover the entire file (data was added after signing)"
    else:
        reason = f"signature rejected: {status.summary()}"
    return PdfValidation(valid, intact, trusted, entire_file, subject, reason, certified)
