"""Verification of certificates for boards: by serial, by PDF bytes, in bulk. Every check is logged."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from lms.certificates import keys
from lms.certificates.models import Certificate, VerificationEvent
from lms.certificates.serials import normalize
from lms.certificates.signing import validate_pdf
from lms.core import audit
from lms.core.database import set_write_intent
from lms.core.timeutil import today
from lms.extensions import db
from lms.jurisdictions.data import JURISDICTIONS
from lms.providers.operations import licence_status
from lms.providers.professions import PROFESSIONS
from lms.standards.models import StandardVersion

MAX_BULK_ROWS = 5000


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

    status = status_of(cert, on)
    program = db.session.get(Program, cert.program_id)
    record = {
        "serial": cert.serial,
        "status": status,
        "holder": {
            "name": cert.holder_name,
            "profession": cert.profession,
            "profession_label": (PROFESSIONS[cert.profession].label if cert.profession in PROFESSIONS
                                 else cert.profession),
            "license": cert.license_number,
            "jurisdiction": cert.jurisdiction,
            "jurisdiction_label": JURISDICTIONS.get(cert.jurisdiction, cert.jurisdiction),
        },
        "endorsements": list(cert.endorsements),
        "program": {"id": cert.program_id, "title": program.title if program else cert.program_id},
        "standard": {"id": cert.standard_version.standard_key, "version": cert.standard_version.version},
        "issued_on": cert.issued_on.isoformat(),
        "expires_on": cert.expires_on.isoformat(),
        "evidence": cert.evidence,
        "pdf_sha256": cert.pdf_sha256,
        "renews": cert.renews.serial if cert.renews_id else None,
        "replaces": cert.replaces.serial if cert.replaces_id else None,
        "replaced_by": db.session.execute(
            sa.select(Certificate.serial).where(Certificate.replaces_id == cert.id).order_by(Certificate.id).limit(1)
        ).scalar_one_or_none(),
        "licence": licence_status(cert.trainee_id, on or today()),
    }
    if cert.revocation is not None:
        record["revocation"] = {"date": cert.revocation.revoked_on.isoformat(), "reason": cert.revocation.reason,
                                "category": cert.revocation.category}
    return record


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


def lookup_and_log(method: str, serial: str, board_user=None, organisation: str | None = None) -> dict | None:
    """Look a serial up and log the check (commits); returns the public record, or None for an unknown serial.

    The lookup runs in a read transaction of its own and the log is written afterwards in a short write transaction,
    so concurrent verifications hold the write lock (SQLite) or the audit chain's lock (PostgreSQL) only for the log
    inserts, never for the lookup.
    """
    cert = find(serial)
    record = public_record(cert) if cert is not None else None
    if cert is not None:
        db.session.expunge(cert)  # its loaded values stay readable once the read transaction ends
    begin_logged_read()
    log(method, serial, cert, record["status"] if record else "unknown", board_user, organisation)
    db.session.commit()
    return record


def log(method: str, query: str, cert: Certificate | None, result: str, board_user=None,
        organisation: str | None = None) -> None:
    """Record a verification in the verification log and in the audit chain.

    ``organisation`` is the board organisation whose API key made the request (None for anyone else).
    """
    query = (query or "").replace("\x00", "")
    db.session.add(VerificationEvent(method=method, query=query[:64], certificate_id=cert.id if cert else None,
                                     result=result, board_user_id=getattr(board_user, "id", None),
                                     organisation=organisation))
    audit.record("certificate.verify", "certificate", cert.serial if cert else (query or "-")[:64],
                 actor=board_user, method=method, result=result,
                 **({"organisation": organisation} if organisation else {}))


@dataclass
class PdfCheck:
    genuine: bool
    serial: str | None
    status: str | None
    reason: str


def verify_pdf(data: bytes, *, board_user=None, organisation: str | None = None) -> PdfCheck:
    """Is this file exactly an issued certificate, with its signature intact? Never raises on bad input."""
    if not data.startswith(b"%PDF-"):
        check = PdfCheck(False, None, None, "The file is not a PDF.")
        log("pdf", "-", None, "not-pdf", board_user, organisation)
        return check
    digest = hashlib.sha256(data).hexdigest()
    cert = db.session.execute(sa.select(Certificate).filter_by(pdf_sha256=digest).order_by(Certificate.id).limit(1)
                              ).scalar_one_or_none()
    if cert is None or not hmac.compare_digest(cert.pdf_sha256, digest):
        validation = validate_pdf(data, keys.signing_material().trust_roots)
        if validation.valid:
            reason = "The signature is ours, but these bytes are not an issued certificate."
        elif validation.intact and not validation.entire_file:
            reason = "The file was changed after signing (data was added)."
        elif not validation.intact and validation.signer_subject:
            reason = "The file was altered after it was signed: its signature no longer matches."
        else:
            reason = "The file is not a certificate issued by this registry."
        log("pdf", digest[:16], None, "not-genuine", board_user, organisation)
        return PdfCheck(False, None, None, reason)
    validation = validate_pdf(data, keys.signing_material().trust_roots)
    status = status_of(cert)
    if not validation.valid:
        log("pdf", cert.serial, cert, "bad-signature", board_user, organisation)
        return PdfCheck(False, cert.serial, status, "The file matches an issued certificate but its signature does "
                                                    f"not validate: {validation.reason}")
    log("pdf", cert.serial, cert, status, board_user, organisation)
    reason = {"active": "Genuine and active.", "expired": "Genuine, but the certificate has expired.",
              "revoked": "Genuine, but the certificate was revoked."}[status]
    return PdfCheck(True, cert.serial, status, reason)


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
                organisation: str | None = None) -> list[dict]:
    """Verify many serials with one query. Each result has serial, status, holder name, match and message."""
    wanted = {normalize(s) for s, _ in rows} - {None}
    certs = {}
    if wanted:
        for c in db.session.execute(
            sa.select(Certificate).options(selectinload(Certificate.revocation),
                                           selectinload(Certificate.standard_version))
            .where(Certificate.serial.in_(wanted))
        ).scalars():
            certs[c.serial] = c
    results, events = [], []
    on = today()
    for raw, last_name in rows:
        serial = normalize(raw)
        cert = certs.get(serial) if serial else None
        if cert is None:
            results.append({"input": raw, "serial": serial or "", "status": "unknown", "holder_name": "",
                            "endorsements": "", "expires_on": "", "name_match": "",
                            "message": "Not a valid serial." if serial is None else "No certificate with this serial."})
            events.append(dict(method=method, query=raw.replace("\x00", "")[:64], certificate_id=None, result="unknown",
                               board_user_id=getattr(board_user, "id", None), organisation=organisation))
            continue
        status = status_of(cert, on)
        match = ""
        if last_name:
            match = "yes" if cert.holder_name.strip().lower().split()[-1] == last_name.strip().lower() else "no"
        message = {"active": "Active.", "expired": f"Expired on {cert.expires_on.isoformat()}.",
                   "revoked": f"Revoked on {cert.revocation.revoked_on.isoformat()}: {cert.revocation.reason}"
                   if cert.revocation else ""}[status]
        if match == "no":
            message += " The last name does not match the holder."
        results.append({"input": raw, "serial": cert.serial, "status": status, "holder_name": cert.holder_name,
                        "endorsements": " ".join(cert.endorsements), "expires_on": cert.expires_on.isoformat(),
                        "name_match": match, "message": message})
        events.append(dict(method=method, query=cert.serial, certificate_id=cert.id, result=status,
                           board_user_id=getattr(board_user, "id", None), organisation=organisation))
    # One multi-row INSERT for the whole batch (ORM objects would cost one INSERT ... RETURNING per row).
    if events:
        # render_nulls: rows with and without a certificate go in the same statement instead of one per shape.
        db.session.execute(sa.insert(VerificationEvent).execution_options(render_nulls=True), events)
    counts: dict[str, int] = {}
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    audit.record("certificate.verify_bulk", "verification_batch", len(results), actor=board_user, method=method,
                 results=counts, **({"organisation": organisation} if organisation else {}))
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
