"""Issuing certificates.

Issuance re-evaluates eligibility inside the issuing transaction and refuses with the decision's reasons when anything
is unmet. The PDF, its digest and the Open Badges credential are written in the same row, in the same transaction, so
a certificate is either wholly issued or not at all. A partial unique index allows one current certificate per
trainee and program; when two requests race, the loser's insert fails on that index and it returns the winner's row.
"""

from __future__ import annotations

import calendar
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from lms.certificates import keys, ob3, wording
from lms.certificates.models import (
    BLOCKING_CATEGORIES,
    REVOCATION_CATEGORIES,
    Certificate,
    CertificateRevocation,
    RevocationClearance,
)
from lms.certificates.rendering import render_certificate
from lms.certificates.serials import new_serial
from lms.certificates.signing import sign_pdf
from lms.core import audit
from lms.core.database import advisory_lock
from lms.core.pdf import shared_font_config
from lms.core.timeutil import today
from lms.eligibility.engine import Decision, hours_by_category
from lms.eligibility.service import TraineeDecision, decision_for
from lms.extensions import db
from lms.jurisdictions.data import JURISDICTIONS
from lms.notifications import notify
from lms.providers.professions import PROFESSIONS


class NotEligible(Exception):
    def __init__(self, decision: Decision | None, message: str = ""):
        super().__init__(message or (decision.summary if decision else "The trainee is not enrolled."))
        self.decision = decision


class RevocationError(ValueError):
    pass


class ReissueRefused(NotEligible):
    """The trainee's newest certificate in the program was revoked: a new one is only an explicit reissue."""

    def __init__(self, message: str):
        super().__init__(None, message)


def newest_certificate(trainee_id: int, program_id: str) -> Certificate | None:
    return db.session.execute(
        sa.select(Certificate).filter_by(trainee_id=trainee_id, program_id=program_id)
        .order_by(Certificate.id.desc()).limit(1)
    ).scalar_one_or_none()


def revoked_certificate(trainee_id: int, program_id: str) -> Certificate | None:
    """The trainee's newest certificate in the program when it was revoked (so any new one is a reissue)."""
    newest = newest_certificate(trainee_id, program_id)
    return newest if newest is not None and newest.revocation is not None else None


def revocation_summary(cert: Certificate) -> str:
    rev = cert.revocation
    return (f"{cert.serial} was revoked on {rev.revoked_on.isoformat()} ({rev.category_label.lower()}: "
            f"{rev.reason})")


def reissue_problem(revoked: Certificate, reason: str | None) -> str | None:
    """Why a reissue after ``revoked`` cannot go ahead (None when it can)."""
    if revoked.revocation.blocks_reissue:
        return (f"{revocation_summary(revoked)}. A revocation for {revoked.revocation.category_label.lower()} blocks "
                "any reissue until an administrator clears it with a reason.")
    if reason is None or not reason.strip():
        return (f"{revocation_summary(revoked)}. A new certificate is issued only as an explicit reissue, with a "
                "reason.")
    return None


def revoked_holders(program_id: str) -> dict[int, str]:
    """Trainees whose newest certificate in the program is revoked, with why they get no new one automatically."""
    newest = (sa.select(sa.func.max(Certificate.id)).where(Certificate.program_id == program_id)
              .group_by(Certificate.trainee_id))
    rows = db.session.execute(
        sa.select(Certificate).join(CertificateRevocation, CertificateRevocation.certificate_id == Certificate.id)
        .where(Certificate.id.in_(newest))).scalars()
    return {c.trainee_id: revocation_summary(c) + "; reissue explicitly with a reason" for c in rows}


@dataclass
class IssueResult:
    certificate: Certificate
    created: bool


def add_months(d: date, months: int) -> date:
    month = d.month - 1 + months
    year = d.year + month // 12
    month = month % 12 + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def current_certificate(trainee_id: int, program_id: str) -> Certificate | None:
    return db.session.execute(
        sa.select(Certificate).filter_by(trainee_id=trainee_id, program_id=program_id, is_current=True)
    ).scalar_one_or_none()


def _lock_trainee(trainee_id: int) -> None:
    # Serialise issuance per trainee so the eligibility check and the insert see the same state.
    advisory_lock(db.session, f"cert:{trainee_id}")


STATUS_INDEX_PROBES = 32


def _status_index() -> int:
    """A free status-list index, drawn uniformly at random.

    Probing random indexes costs one indexed lookup each, and while the list is far from full the first probe almost
    always succeeds; loading every index in use instead would cost more with every certificate the registry holds.
    """
    for _ in range(STATUS_INDEX_PROBES):
        index = secrets.randbelow(ob3.STATUS_LIST_MIN_BITS)
        if db.session.execute(sa.select(Certificate.id).filter_by(status_index=index).limit(1)).first() is None:
            return index
    taken = set(db.session.execute(sa.select(Certificate.status_index)).scalars())
    return ob3.random_status_index(taken)


def evidence_snapshot(td: TraineeDecision) -> dict:
    """What the certificate rests on, frozen at issuance (shown to boards next to the live status)."""
    std = td.standard.data
    comps = {c["id"]: c["title"] for c in std.get("competencies", [])}
    signed_off = [r.id for r in td.decision.requirements if r.id in comps and r.met]
    route = ("D (dental professional)" if td.facts.is_dental
             else "N (collaboration agreement with a dental professional)")
    return {
        "hours_by_category": hours_by_category(td.facts),
        "modules_completed": sorted(td.facts.completed_modules, key=lambda m: int(m[1:]) if m[1:].isdigit() else 0),
        "competencies_signed_off": [{"id": c, "title": comps[c]} for c in signed_off],
        "screening_route": route if "intraoral" in td.decision.endorsements else None,
        "requirements_met": len([r for r in td.decision.requirements if r.met]),
        "requirements_total": len(td.decision.requirements),
    }


def _verify_url(serial: str) -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + f"/verify/{serial}"


def build_pdf_context(*, serial: str, holder_name: str, profession: str, license_number: str, jurisdiction: str,
                      program_title: str, endorsements: list[str], standard: dict, notices: list[str],
                      issued_on: date, expires_on: date, locale: str = "en") -> dict:
    """Plain data for the certificate design (no ORM objects), its words in the holder's language ``locale``."""
    by_id = {e["id"]: e for e in standard.get("endorsements", [])}

    def tr(text: str) -> str:
        return wording.translate(text, locale)

    return {
        "locale": wording.check_locale(locale),
        "holder_name": holder_name,
        "profession_label": tr(PROFESSIONS[profession].label) if profession in PROFESSIONS else profession,
        "license_number": license_number,
        "jurisdiction_label": tr(JURISDICTIONS.get(jurisdiction, jurisdiction)),
        "program_title": tr(program_title),
        "endorsements": [{"id": e, "title": tr(by_id.get(e, {}).get("title", e)),
                          "scope_statement": tr(by_id.get(e, {}).get("scope_statement", ""))} for e in endorsements],
        "notices": notices,
        "standard_id": standard["id"],
        "standard_version": str(standard["version"]),
        "issued_on": issued_on,
        "expires_on": expires_on,
        "serial": serial,
        "verify_url": _verify_url(serial),
        "issuer_name": current_app.config["ISSUER_NAME"],
    }


def certificate_language(holder) -> str:
    """The language the holder chose for their account (Account → Language); English when they chose none."""
    return holder.locale if holder.locale in wording.LANGUAGES else "en"


def render_and_sign(context: dict, design: str, credential: dict | None = None) -> bytes:
    """Render the certificate (PDF/A-3b, the credential embedded) and sign it now: the claimed signing time is the
    real time of signing, so a validator checking the signer at that moment finds it valid."""
    pdf = render_certificate(context, design, current_app.config["CERTIFICATE_DESIGNS_DIR"],
                             font_config=shared_font_config(), credential=credential)
    return sign_pdf(pdf, keys.signing_material(), reason=f"Certificate {context['serial']}",
                    location=current_app.config["ISSUER_NAME"])


def build_signed_credential(*, serial, holder_name, holder_id, program_title, standard, endorsements, issued_on,
                            expires_on, status_index) -> dict:
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    narrative = "; ".join(f"{r.get('title', r['id'])}" for r in standard.get("requirements", []))
    credential = ob3.build_credential({
        "serial": serial,
        "credential_url": f"{base}/certificates/{serial}/credential.json",
        "issuer_did": keys.issuer_did(),
        "issuer_name": current_app.config["ISSUER_NAME"],
        "issuer_url": base + "/",
        "holder_name": holder_name,
        "holder_id": holder_id,
        "achievement_id": f"{base}/standards/{standard['id']}/{standard['version']}",
        "achievement_name": program_title,
        "achievement_description": standard.get("title", program_title),
        "criteria_narrative": f"Meets every requirement of {standard['id']} version {standard['version']}: "
                              + narrative,
        "endorsements": endorsements,
        "valid_from": datetime.combine(issued_on, time(0, 0), tzinfo=UTC),
        "valid_until": datetime.combine(expires_on, time(23, 59, 59), tzinfo=UTC),
        "status_list_url": f"{base}/credentials/status/1",
        "status_index": status_index,
    })
    return ob3.sign_credential(credential, keys.credential_key_seed(), keys.verification_method(),
                               datetime.combine(issued_on, time(0, 0), tzinfo=UTC))


def issue_certificate(trainee, *, actor, program_id: str | None = None, on: date | None = None,
                      renews: Certificate | None = None, reissue_reason: str | None = None) -> IssueResult:
    """Issue the trainee's certificate (flushes; the caller commits). Idempotent: an existing current certificate
    is returned with ``created=False``. Raises NotEligible with the decision when any requirement is unmet.

    Revocation is sticky: when the trainee's newest certificate in the program was revoked, a new one is issued only
    with ``reissue_reason`` (an explicit reissue, which records ``replaces``), and never while a revocation for
    misconduct or unmet requirements has not been cleared by an administrator."""
    from lms.training.models import Program

    program_id = program_id or current_app.config["DEFAULT_PROGRAM"]
    on = on or today()
    _lock_trainee(trainee.id)
    existing = current_certificate(trainee.id, program_id)
    if existing is not None and renews is None:
        return IssueResult(existing, False)
    replaces = revoked_certificate(trainee.id, program_id) if renews is None else None
    if replaces is not None:
        problem = reissue_problem(replaces, reissue_reason)
        if problem:
            raise ReissueRefused(problem)
    td = decision_for(trainee, program_id, on)
    if td.decision is None or not td.decision.eligible:
        raise NotEligible(td.decision)
    program = db.session.get(Program, program_id)
    profile = trainee.profile
    facts = td.facts  # the licence as verified, never as typed
    standard = td.standard.data
    serial = new_serial()
    expires_on = add_months(on, int(standard.get("validity", {}).get("months", 24)))
    endorsements = list(td.decision.endorsements)
    notices = [str(n) for n in td.decision.notices][:4]  # plain English text, as printed so far
    context = build_pdf_context(serial=serial, holder_name=profile.legal_name, profession=facts.profession,
                                license_number=facts.license_number, jurisdiction=facts.jurisdiction,
                                program_title=program.title, endorsements=endorsements, standard=standard,
                                notices=notices, issued_on=on, expires_on=expires_on,
                                locale=certificate_language(trainee))
    status_index = _status_index()
    credential = build_signed_credential(serial=serial, holder_name=profile.legal_name, holder_id=trainee.id,
                                         program_title=program.title, standard=standard, endorsements=endorsements,
                                         issued_on=on, expires_on=expires_on, status_index=status_index)
    pdf = render_and_sign(context, current_app.config["CERTIFICATE_DESIGN"], credential)
    if renews is not None:
        renews.is_current = False
        db.session.flush()
    cert = Certificate(
        serial=serial, trainee_id=trainee.id, program_id=program_id, standard_version_id=td.standard.id,
        is_current=True, holder_name=profile.legal_name, profession=facts.profession,
        license_number=facts.license_number, jurisdiction=facts.jurisdiction, endorsements=endorsements,
        issued_on=on, expires_on=expires_on, evidence=evidence_snapshot(td), design=current_app.config[
            "CERTIFICATE_DESIGN"], pdf_sha256=hashlib.sha256(pdf).hexdigest(), pdf_bytes=pdf,
        credential=credential, status_index=status_index, renews_id=renews.id if renews else None,
        replaces_id=replaces.id if replaces else None, issued_by_id=actor.id)
    try:
        with db.session.begin_nested():
            db.session.add(cert)
    except IntegrityError:
        winner = current_certificate(trainee.id, program_id)
        if winner is None:
            raise
        return IssueResult(winner, False)
    audit.record("certificate.issue", "certificate", cert.serial, actor=actor, trainee=trainee.id,
                 endorsements=endorsements, sha256=cert.pdf_sha256, renews=renews.serial if renews else None,
                 replaces=replaces.serial if replaces else None,
                 reissue_reason=reissue_reason.strip() if replaces is not None and reissue_reason else None)
    notify(trainee, "certificate.issued", cert)
    return IssueResult(cert, True)


def revoke(cert: Certificate, *, actor, reason: str, on: date | None = None,
           category: str = "issued_in_error") -> CertificateRevocation:
    """Revoke a certificate: a linked revocation record; the certificate itself stays, reported as revoked.

    ``category`` is the public reason, one of :data:`REVOCATION_CATEGORIES`: the verify page, the API and the holder
    see only its label. ``reason`` is the administrator's internal note (stored in the revocation's ``reason`` column
    and the audit log); it is never published, nor sent to the holder.
    """
    problem = revocation_problem(cert, reason=reason, category=category)
    if problem:
        raise RevocationError(problem)
    rev = CertificateRevocation(certificate_id=cert.id, category=category, reason=reason.strip(),
                                revoked_on=on or today(), actor_id=actor.id)
    cert.is_current = False
    db.session.add(rev)
    db.session.flush()
    audit.record("certificate.revoke", "certificate", cert.serial, actor=actor, reason=reason.strip(),
                 category=category)
    notify(cert.trainee, "certificate.revoked", cert, reason=REVOCATION_CATEGORIES[category])
    return rev


def revocation_problem(cert: Certificate, *, reason: str, category: str) -> str | None:
    """Why a revocation with these inputs would be refused (None when it can go ahead), without writing anything:
    the confirmation page shows this before the administrator confirms."""
    if cert.revocation is not None:
        return "This certificate is already revoked."
    if category not in REVOCATION_CATEGORIES:
        return ("Choose the public reason for the revocation: "
                + ", ".join(v.lower() for v in REVOCATION_CATEGORIES.values()) + ".")
    if not reason.strip():
        return "Write an internal note on why the certificate is revoked (only administrators see it)."
    return None


def clear_revocation(cert: Certificate, *, actor, reason: str) -> RevocationClearance:
    """An administrator lifts a blocking revocation's bar on reissue (the revocation itself stays)."""
    if not actor.has_role("admin"):
        raise RevocationError("Only administrators clear a revocation for reissue.")
    rev = cert.revocation
    if rev is None:
        raise RevocationError("This certificate is not revoked.")
    if rev.category not in BLOCKING_CATEGORIES:
        raise RevocationError("This revocation does not block a reissue; nothing to clear.")
    if rev.clearance is not None:
        raise RevocationError("This revocation has already been cleared for reissue.")
    if not reason.strip():
        raise RevocationError("Give the reason the holder may be certified again.")
    clearance = RevocationClearance(revocation_id=rev.id, reason=reason.strip(), actor_id=actor.id)
    db.session.add(clearance)
    db.session.flush()
    db.session.refresh(rev)
    audit.record("certificate.revocation_cleared", "certificate", cert.serial, actor=actor, reason=reason.strip())
    return clearance
