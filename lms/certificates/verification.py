"""Verification of certificates for boards: by serial, by PDF bytes, in bulk. Every check is logged.

A check by serial costs one indexed query for the certificate's *state* (its id, expiry, whether it is current and
whether it was revoked). The public record itself is cached under a key derived from that state
(:func:`state_of`), so a revocation, an expiry or a reissue is a different key and shows at once, with no
invalidation to forget; the same key gives the response's ``ETag``. The check is logged in the verification log, apart
from the audit chain (see :mod:`lms.certificates.verification_log` for when it is written)."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload

from lms.certificates import keys
from lms.certificates import verification_log as vlog
from lms.certificates import verification_lookup as lookup
from lms.certificates.models import REVOCATION_CATEGORIES, Certificate, CertificateRevocation
from lms.certificates.serials import normalize
from lms.certificates.signing import validate_pdf
from lms.core.cache import cache_for
from lms.core.database import set_write_intent
from lms.core.i18n import N_
from lms.core.timeutil import today
from lms.extensions import db
from lms.jurisdictions.data import JURISDICTIONS
from lms.providers.operations import licence_status
from lms.providers.professions import PROFESSIONS
from lms.standards.models import StandardVersion

MAX_BULK_ROWS = 5000
# Bump when the public record gains or changes a field, so cached records of the old shape are never served.
RECORD_VERSION = "3"


def status_of(cert: Certificate, on: date | None = None) -> str:
    on = on or today()
    if cert.revocation is not None:
        return "revoked"
    if on > cert.expires_on:
        return "expired"
    return "active"


def find(serial_text: str) -> Certificate | None:
    serial = normalize(serial_text)
    if serial is None:
        return None
    return db.session.execute(
        # One statement: the revocation and the standard are at most one row each, so join them in. Only the
        # standard's name and version are shown; its full text (a large JSON document) is loaded only if asked for.
        sa.select(Certificate).options(
            joinedload(Certificate.revocation),
            joinedload(Certificate.standard_version).load_only(StandardVersion.standard_key, StandardVersion.version),
        ).filter_by(serial=serial)
    ).scalar_one_or_none()


def public_record(cert: Certificate, on: date | None = None) -> dict:
    """The facts anyone holding the serial may see (the same on the page, the API and in bulk)."""
    from lms.training.models import Program

    program = db.session.get(Program, cert.program_id)
    revocation = cert.revocation
    return _record({
        "serial": cert.serial, "holder_name": cert.holder_name, "profession": cert.profession,
        "license_number": cert.license_number, "jurisdiction": cert.jurisdiction, "endorsements": cert.endorsements,
        "program_id": cert.program_id, "program_title": program.title if program else None,
        "standard_key": cert.standard_version.standard_key, "standard_version": cert.standard_version.version,
        "issued_on": cert.issued_on, "expires_on": cert.expires_on, "evidence": cert.evidence,
        "pdf_sha256": cert.pdf_sha256, "renews": cert.renews.serial if cert.renews_id else None,
        "replaces": cert.replaces.serial if cert.replaces_id else None,
        "replaced_by": db.session.execute(
            sa.select(Certificate.serial).where(Certificate.replaces_id == cert.id).order_by(Certificate.id).limit(1)
        ).scalar_one_or_none(),
        "trainee_id": cert.trainee_id,
        "revoked_on": revocation.revoked_on if revocation else None,
        "revocation_category": revocation.category if revocation else None,
    }, status_of(cert, on), on)


def _record(facts, status: str, on: date | None = None) -> dict:
    record = {
        "serial": facts["serial"],
        "status": status,
        "holder": {
            "name": facts["holder_name"],
            "profession": facts["profession"],
            "profession_label": (PROFESSIONS[facts["profession"]].label if facts["profession"] in PROFESSIONS
                                 else facts["profession"]),
            "license": facts["license_number"],
            "jurisdiction": facts["jurisdiction"],
            "jurisdiction_label": JURISDICTIONS.get(facts["jurisdiction"], facts["jurisdiction"]),
        },
        "endorsements": list(facts["endorsements"]),
        "program": {"id": facts["program_id"], "title": facts["program_title"] or facts["program_id"]},
        "standard": {"id": facts["standard_key"], "version": facts["standard_version"]},
        "issued_on": facts["issued_on"].isoformat(),
        "expires_on": facts["expires_on"].isoformat(),
        "evidence": facts["evidence"],
        "pdf_sha256": facts["pdf_sha256"],
        "renews": facts["renews"],
        "replaces": facts["replaces"],
        "replaced_by": facts["replaced_by"],
        # The holder's licence as last verified by the registry (it can lapse while the certificate stays valid).
        "licence": facts["licence"] if "licence" in facts else licence_status(facts["trainee_id"], on or today()),
    }
    if facts["revoked_on"] is not None:
        # Only the public reason from the fixed list is published; the administrator's note stays internal.
        record["revocation"] = {"date": facts["revoked_on"].isoformat(),
                                "reason": REVOCATION_CATEGORIES.get(facts["revocation_category"],
                                                                    facts["revocation_category"]),
                                "category": facts["revocation_category"]}
    return record


def _record_statement(where=None, links=None):
    """The public record's columns; ``links`` is where the renewal and replacement links are read (the certificate
    itself unless a verification lookup reads them from their index)."""
    from lms.training.models import Program

    links = Certificate if links is None else links

    renewed = sa.orm.aliased(Certificate)
    replaced = sa.orm.aliased(Certificate)
    replacement = sa.orm.aliased(Certificate)
    replaced_by = (sa.select(replacement.serial).where(replacement.replaces_id == Certificate.id)
                   .order_by(replacement.id).limit(1).correlate(Certificate).scalar_subquery())
    stmt = (
        sa.select(Certificate.serial, Certificate.holder_name, Certificate.profession, Certificate.license_number,
                  Certificate.jurisdiction, Certificate.endorsements, Certificate.program_id,
                  Program.title.label("program_title"), StandardVersion.standard_key,
                  StandardVersion.version.label("standard_version"), Certificate.issued_on, Certificate.expires_on,
                  Certificate.evidence, Certificate.pdf_sha256, renewed.serial.label("renews"),
                  replaced.serial.label("replaces"), replaced_by.label("replaced_by"), Certificate.trainee_id,
                  CertificateRevocation.revoked_on, CertificateRevocation.category.label("revocation_category"))
        .join(StandardVersion, StandardVersion.id == Certificate.standard_version_id)
        .outerjoin(Program, Program.id == Certificate.program_id)
    )
    if links is not Certificate:
        stmt = stmt.join(links, links.serial == Certificate.serial)
    return (
        stmt.outerjoin(renewed, renewed.id == links.renews_id)
        .outerjoin(replaced, replaced.id == links.replaces_id)
        .outerjoin(CertificateRevocation, CertificateRevocation.certificate_id == Certificate.id)
        .where(Certificate.id == sa.bindparam("id") if where is None else where)
    )


def _record_for_state(state: State) -> dict:
    """The public record (a cache miss), from the facts the state's own query already read: no second query."""
    return _record(lookup.facts(db.engine, state.row), state.status)


def begin_logged_read() -> None:
    """Call first in a GET view that logs a verification: it reads and then writes the log row.

    On SQLite a read-only request opens a deferred transaction, and a deferred transaction that later writes fails at
    once with SQLITE_BUSY_SNAPSHOT ("database is locked") whenever another writer committed in between; the busy
    timeout does not cover that upgrade. So end whatever the request opened so far (the session check may already
    have loaded the user) and let the next transaction start with BEGIN IMMEDIATE. No effect on PostgreSQL.
    """
    set_write_intent(True)
    if db.session().in_transaction():
        db.session.commit()


@dataclass(frozen=True)
class State:
    """What the public record of a certificate depends on, from one indexed query (see :func:`state_of`)."""

    id: int
    serial: str
    status: str
    key: str
    row: tuple | None = field(default=None, compare=False, repr=False)  # the public facts, read with the state

    @property
    def etag(self) -> str:
        return hashlib.sha256(self.key.encode()).hexdigest()[:32]


def state_of(serial_text: str, on: date | None = None) -> State | None:
    """The certificate's state, or None for an invalid or unknown serial.

    The cache key holds everything the public record can change with: the certificate (its id), its status as of
    today (revoked, expired or active), whether it is still the current one (a reissue or renewal ends that) and its
    revocation. Anything new shown on the record that can change after issuance must be added here.
    """
    serial = normalize(serial_text)
    if serial is None:
        return None
    found = lookup.state_row(db.engine, serial)
    if found is None:
        return None
    cert_id, serial, expires_on, is_current, revocation_id, replaced_by_id, licence_id = found[:7]
    if isinstance(expires_on, str):  # SQLite hands dates back as ISO text
        expires_on = date.fromisoformat(expires_on)
    on = on or today()
    status = "revoked" if revocation_id is not None else ("expired" if on > expires_on else "active")
    # The day is part of the key: a verified licence can lapse overnight while nothing else changes.
    key = (f"cert:{RECORD_VERSION}:{serial}:{cert_id}:{status}:{int(bool(is_current))}:{revocation_id or 0}:"
           f"{replaced_by_id or 0}:{licence_id or 0}:{on.isoformat()}")
    return State(cert_id, serial, status, key, found)


def record_for(state: State) -> dict:
    """The public record for ``state``, from the cache when it holds it (filled on a miss)."""
    return json.loads(cached_body(state, "record", lambda record: record))


def cached_body(state: State, view: str, shape) -> bytes:
    """``shape(public record)`` as compact JSON bytes, cached under the state's key and ``view`` (one entry per way
    the record is shown, so a cache hit sends stored bytes without decoding or encoding anything)."""
    return cached_rendering(state, view,
                            lambda record: json.dumps(shape(record), separators=(",", ":")).encode())


def cached_rendering(state: State, view: str, render) -> bytes:
    """``render(public record)`` (bytes: JSON, a badge image…), cached under the state's key and ``view``: a change
    of status, revocation, reissue or licence is a new key, so nothing stale is ever served."""
    cache = cache_for(current_app)
    key = f"{view}:{state.key}"
    body = cache.get(key)
    if body is None:
        body = render(_record_for_state(state))
        cache.set(key, body, int(current_app.config.get("VERIFICATION_CACHE_SECONDS", 300)))
    return body


def check(method: str, serial_text: str, board_user=None, *, organisation=None) -> State | None:
    """Look a serial's state up and log the check; returns the state, or None for an unknown serial.

    Board and API-key checks are written and committed here; anonymous ones are buffered (see the module notes).
    """
    state = state_of(serial_text)
    log(method, serial_text if state is None else state.serial, state, state.status if state else "unknown",
        board_user, organisation=organisation)
    if _in_request_log(board_user, organisation):
        db.session.commit()
    return state


def not_modified(state: State, if_none_match) -> bool:
    """True when the client already holds this state's representation (``If-None-Match`` names its ETag)."""
    return bool(if_none_match) and if_none_match.contains(state.etag)


def lookup_and_log(method: str, serial: str, board_user=None, *, organisation=None) -> dict | None:
    """Look a serial up and log the check; returns the public record, or None for an unknown serial."""
    state = check(method, serial, board_user, organisation=organisation)
    return record_for(state) if state is not None else None


def _in_request_log(board_user, organisation) -> bool:
    return board_user is not None or organisation is not None


def log(method: str, query: str, cert, result: str, board_user=None, *, organisation=None,
        serials: list[str] | None = None, results: dict | None = None) -> None:
    """Record one verification in the verification log (never in the audit chain: a verification is a read).

    ``cert`` is a Certificate, a :class:`State` or None. ``organisation`` is the board organisation of an API key (its
    id or name). Checks by a signed-in board user or with an API key are written in the caller's transaction (the
    caller commits); anonymous ones go to this worker's buffer and are written within about a second.
    """
    entry = vlog.row(method, query, certificate_id=getattr(cert, "id", None), result=result,
                     board_user_id=getattr(board_user, "id", None), organisation=organisation, serials=serials,
                     results=results)
    if _in_request_log(board_user, organisation) or not has_app_context():
        begin_logged_read()
        vlog.write_now(db.session, [entry])
    else:
        vlog.buffer_for(current_app._get_current_object()).add([entry])


# The verdict on an uploaded PDF, in the words a visitor reads (see :func:`verify_pdf`).
PDF_VERDICTS = {
    "genuine": N_("Genuine"),
    "expired": N_("Genuine, but expired"),
    "revoked": N_("Genuine, but revoked"),
    "altered": N_("Altered"),
    "not_ours": N_("Not issued by us"),
    "not_pdf": N_("Not a PDF"),
}


@dataclass
class PdfCheck:
    genuine: bool
    serial: str | None
    status: str | None
    reason: str
    # genuine | expired | revoked (the issued bytes, signature valid) | altered | not_ours | not_pdf
    verdict: str = "not_ours"

    @property
    def verdict_label(self) -> str:
        return PDF_VERDICTS[self.verdict]


def _signed_by_us(validation, material) -> bool:
    """The file's signature names our signing certificate (whether or not its digest still matches)."""
    return bool(validation.signer_subject) and (
        validation.trusted or validation.signer_subject == material.signer_cert.subject.human_friendly)


def verify_pdf(data: bytes, *, board_user=None, organisation=None) -> PdfCheck:
    """Is this file exactly an issued certificate, with its signature intact? Never raises on bad input.

    Two checks must both hold for a genuine verdict: the SHA-256 of the bytes is that of an issued certificate, and
    the PAdES signature validates against our CA and covers the whole file. Anything else is *altered* (our
    signature, but the bytes changed or data was added) or *not ours* (no signature, another signer, or our
    signature on bytes we never issued)."""
    if not data.startswith(b"%PDF-"):
        log("pdf", "-", None, "not-pdf", board_user, organisation=organisation)
        return PdfCheck(False, None, None, _("The file is not a PDF."), "not_pdf")
    digest = hashlib.sha256(data).hexdigest()
    cert = db.session.execute(sa.select(Certificate).filter_by(pdf_sha256=digest).order_by(Certificate.id).limit(1)
                              ).scalar_one_or_none()
    material = keys.signing_material()
    if cert is None or not hmac.compare_digest(cert.pdf_sha256, digest):
        validation = validate_pdf(data, material.trust_roots)
        if validation.valid:
            reason, verdict = _("The signature is ours, but these bytes are not an issued certificate."), "not_ours"
        elif validation.intact and not validation.entire_file and validation.trusted:
            reason, verdict = _("The file was changed after signing (data was added)."), "altered"
        elif not validation.intact and _signed_by_us(validation, material):
            reason, verdict = _("The file was altered after it was signed: its signature no longer matches."), "altered"
        else:
            reason, verdict = _("The file is not a certificate issued by this registry."), "not_ours"
        log("pdf", digest[:16], None, "not-genuine", board_user, organisation=organisation)
        return PdfCheck(False, None, None, reason, verdict)
    validation = validate_pdf(data, material.trust_roots)
    status = status_of(cert)
    if not validation.valid:
        log("pdf", cert.serial, cert, "bad-signature", board_user, organisation=organisation)
        return PdfCheck(False, cert.serial, status, _("The file matches an issued certificate but its signature does "
                                                      "not validate: %(reason)s", reason=validation.reason), "altered")
    log("pdf", cert.serial, cert, status, board_user, organisation=organisation)
    reason = {"active": _("Genuine and active."), "expired": _("Genuine, but the certificate has expired."),
              "revoked": _("Genuine, but the certificate was revoked.")}[status]
    return PdfCheck(True, cert.serial, status, reason, "genuine" if status == "active" else status)


class BulkError(ValueError):
    pass


def parse_bulk_csv(text: str, max_rows: int = MAX_BULK_ROWS) -> list[tuple[str, str]]:
    """Rows of (serial, last name). A header row is optional; the last-name column is optional."""
    rows = []
    try:
        parsed = list(csv.reader(io.StringIO(text.replace("\r\n", "\n").replace("\r", "\n"))))
    except csv.Error as exc:
        raise BulkError(f"The file is not valid CSV ({exc}). Put one serial per line.") from exc
    for i, row in enumerate(parsed):
        if not row or not any(c.strip() for c in row):
            continue
        first = row[0].strip()
        if i == 0 and first.lower() in ("serial", "certificate", "certificate serial"):
            continue
        rows.append((first[:64], (row[1].strip()[:200] if len(row) > 1 else "")))
        if len(rows) > max_rows:
            raise BulkError(f"At most {max_rows} rows per request.")
    if not rows:
        raise BulkError("The file has no serials. Put one serial per line (optionally followed by a last name).")
    return rows


def bulk_verify(rows: list[tuple[str, str]], *, board_user=None, method: str = "bulk",
                organisation=None) -> list[dict]:
    """Verify many serials with one query. Each result has serial, status, holder name, match and message.

    The whole request is one row of the verification log, listing every serial asked (normalised where valid, as
    typed otherwise) and how many of each status were found."""
    wanted = {normalize(s) for s, _ in rows} - {None}
    certs = {}
    if wanted:
        for c in db.session.execute(
            sa.select(Certificate).options(selectinload(Certificate.revocation),
                                           selectinload(Certificate.standard_version))
            .where(Certificate.serial.in_(wanted))
        ).scalars():
            certs[c.serial] = c
    results, asked = [], []
    on = today()
    for raw, last_name in rows:
        serial = normalize(raw)
        cert = certs.get(serial) if serial else None
        if cert is None:
            results.append({"input": raw, "serial": serial or "", "status": "unknown", "holder_name": "",
                            "endorsements": "", "expires_on": "", "name_match": "",
                            "message": _("Not a valid serial.") if serial is None
                            else _("No certificate with this serial.")})
            asked.append(serial or raw)
            continue
        status = status_of(cert, on)
        match = ""
        if last_name:
            match = "yes" if cert.holder_name.strip().lower().split()[-1] == last_name.strip().lower() else "no"
        message = {"active": _("Active."), "expired": _("Expired on %(date)s.", date=cert.expires_on.isoformat()),
                   "revoked": _("Revoked on %(date)s: %(reason)s.", date=cert.revocation.revoked_on.isoformat(),
                                reason=cert.revocation.category_label) if cert.revocation else ""}[status]
        if match == "no":
            message += " " + _("The last name does not match the holder.")
        results.append({"input": raw, "serial": cert.serial, "status": status, "holder_name": cert.holder_name,
                        "endorsements": " ".join(cert.endorsements), "expires_on": cert.expires_on.isoformat(),
                        "name_match": match, "message": message})
        asked.append(cert.serial)
    counts: dict[str, int] = {}
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    log(method, f"{len(results)} serials", None, "bulk", board_user, organisation=organisation, serials=asked,
        results=counts)
    return results


def results_csv(results: list[dict]) -> str:
    out = io.StringIO()
    cols = ["input", "serial", "status", "holder_name", "endorsements", "expires_on", "name_match", "message"]
    w = csv.DictWriter(out, fieldnames=cols, extrasaction="ignore")
    w.writeheader()
    for r in results:
        w.writerow({k: _safe_cell(str(r.get(k, ""))) for k in cols})
    return out.getvalue()


def _safe_cell(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
