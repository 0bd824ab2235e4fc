"""Continuing education and renewal (flush only; the request commits)."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from lms.certificates.issuing import NotEligible, issue_certificate
from lms.certificates.models import Certificate
from lms.core import audit
from lms.core.phrases import join_phrases
from lms.core.timeutil import today, utcnow
from lms.eligibility.facts import CreditFact
from lms.eligibility.renewal import CertificateFact, RenewalDecision, evaluate_renewal
from lms.eligibility.service import facts_for_users
from lms.extensions import db
from lms.notifications import notify
from lms.renewal.models import CE_TOPICS, ContinuingEducation, PracticeAttestation, RenewalRequest


class RenewalError(ValueError):
    pass


def record_ce(trainee, *, title: str, provider: str, topic: str, hours: Decimal, completed_on: date, evidence):
    if topic not in CE_TOPICS:
        raise RenewalError("Choose a topic.")
    if not title.strip() or not provider.strip():
        raise RenewalError("Enter the course title and provider.")
    if hours is None or not Decimal("0.25") <= hours <= Decimal(100):
        raise RenewalError("Enter the course hours (0.25 to 100).")
    if completed_on > today():
        raise RenewalError("The completion date cannot be in the future.")
    credit = ContinuingEducation(trainee_id=trainee.id, title=title.strip(), provider=provider.strip(), topic=topic,
                                 hours=hours, completed_on=completed_on, evidence_file_id=evidence.id)
    db.session.add(credit)
    db.session.flush()
    audit.record("ce.submit", "ce_credit", credit.id, actor=trainee, hours=str(hours), topic=topic)
    return credit


def decide_ce(credit: ContinuingEducation, decision: str, *, actor, reason: str = ""):
    if actor.id == credit.trainee_id:
        raise RenewalError("You cannot verify your own credits.")
    if credit.status != "pending":
        raise RenewalError("This credit has already been decided.")
    if decision not in ("verified", "rejected"):
        raise RenewalError("Unknown decision.")
    if decision == "rejected" and not reason.strip():
        raise RenewalError("Give a reason for the rejection.")
    credit.status, credit.decided_by_id, credit.decided_at = decision, actor.id, utcnow()
    credit.decision_reason = reason.strip() or None
    db.session.flush()
    audit.record(f"ce.{decision}", "ce_credit", credit.id, actor=actor, reason=reason.strip())
    notify(credit.trainee, f"ce.{decision}", credit, reason=reason.strip())
    return credit


MAX_SESSIONS = 99_999


def attest_practice(trainee, cert: Certificate, *, sessions: int) -> PracticeAttestation:
    """Keep the holder's statement of the orofacial sessions they provided in ``cert``'s cycle as a new record."""
    if cert.trainee_id != trainee.id:
        raise RenewalError("That is not your certificate.")
    if not 0 <= sessions <= MAX_SESSIONS:
        raise RenewalError(f"Enter a whole number of sessions from 0 to {MAX_SESSIONS}.")
    record = PracticeAttestation(trainee_id=trainee.id, certificate_id=cert.id, sessions=sessions)
    db.session.add(record)
    db.session.flush()
    audit.record("renewal.attest_practice", "practice_attestation", record.id, actor=trainee,
                 certificate=cert.serial, sessions=sessions)
    return record


def latest_attestation(cert: Certificate) -> PracticeAttestation | None:
    """The newest practice attestation kept for ``cert`` (the one that counts), or None."""
    return db.session.execute(
        sa.select(PracticeAttestation).filter_by(certificate_id=cert.id).order_by(PracticeAttestation.id.desc()).limit(1)
    ).scalar_one_or_none()


def renewal_decision(cert: Certificate, *, attested_sessions: int, on: date | None = None) -> RenewalDecision:
    """The renewal rule of the certificate's standard, over the holder's verified credits and current facts."""
    on = on or today()
    facts = facts_for_users([cert.trainee_id], cert.program_id, on)[cert.trainee_id]
    credits = tuple(CreditFact(topic=c.topic, hours=float(c.hours), completed_on=c.completed_on)
                    for c in db.session.execute(sa.select(ContinuingEducation).filter_by(
                        trainee_id=cert.trainee_id, status="verified")).scalars())
    facts = dataclasses.replace(facts, credits=credits)
    first = cert
    while first.renews is not None:  # the chain of renewals back to the first certificate
        first = first.renews
    return evaluate_renewal(cert.standard_version.data, facts,
                            CertificateFact(cert.issued_on, cert.expires_on, tuple(cert.endorsements),
                                            first_issued_on=first.issued_on),
                            attested_sessions=attested_sessions)


def request_renewal(trainee, cert: Certificate, *, attested_sessions: int) -> RenewalRequest:
    if cert.trainee_id != trainee.id:
        raise RenewalError("That is not your certificate.")
    if not cert.is_current or cert.revocation is not None:
        raise RenewalError("Only your current certificate can be renewed.")
    if db.session.execute(sa.select(RenewalRequest.id).filter_by(certificate_id=cert.id, status="pending")).first():
        raise RenewalError("A renewal request for this certificate is already waiting.")
    decision = renewal_decision(cert, attested_sessions=attested_sessions)
    if not decision.eligible:
        raise RenewalError(join_phrases("\n", [decision.summary,
                                                *(r.next_step for r in decision.requirements if not r.met)]))
    req = RenewalRequest(certificate_id=cert.id, trainee_id=trainee.id, attested_sessions=attested_sessions)
    db.session.add(req)
    db.session.flush()
    audit.record("renewal.request", "renewal_request", req.id, actor=trainee, certificate=cert.serial,
                 attested_sessions=attested_sessions)
    return req


def renew(cert: Certificate, *, actor, attested_sessions: int, on: date | None = None) -> Certificate:
    """Issue the renewed certificate, linked to ``cert``, after checking the renewal rule again."""
    decision = renewal_decision(cert, attested_sessions=attested_sessions, on=on)
    if not decision.eligible:
        raise RenewalError(decision.summary)
    if not cert.is_current or cert.revocation is not None:
        raise RenewalError("Only a current, unrevoked certificate can be renewed.")
    try:
        result = issue_certificate(cert.trainee, actor=actor, program_id=cert.program_id, on=on, renews=cert)
    except NotEligible as exc:
        raise RenewalError("The holder no longer meets the standard: " + str(exc)) from exc
    audit.record("certificate.renew", "certificate", result.certificate.serial, actor=actor, renews=cert.serial)
    return result.certificate


def decide_renewal(req: RenewalRequest, *, approve: bool, actor, note: str = "") -> RenewalRequest:
    if req.status != "pending":
        raise RenewalError("This request has already been decided.")
    if actor.id == req.trainee_id:
        raise RenewalError("Nobody decides on their own renewal.")
    if approve:
        new = renew(req.certificate, actor=actor, attested_sessions=req.attested_sessions)
        req.new_certificate_id = new.id
    elif not note.strip():
        raise RenewalError("Give the holder a reason for declining.")
    req.status, req.note, req.decided_by_id, req.decided_at = ("approved" if approve else "declined"), note.strip(), \
        actor.id, utcnow()
    db.session.flush()
    audit.record(f"renewal.{req.status}", "renewal_request", req.id, actor=actor)
    notify(req.trainee, f"renewal.{req.status}", req)
    return req
