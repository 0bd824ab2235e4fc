"""Provider profile and OMT credential operations (flush only; the request commits)."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from lms.core import audit
from lms.core.timeutil import utcnow
from lms.core.uploads import StoredUpload
from lms.extensions import db
from lms.providers.models import EvidenceFile, OmtCredential, ProviderProfile


class DecisionError(ValueError):
    pass


def save_profile(user, data: dict) -> ProviderProfile:
    profile = user.profile or ProviderProfile(user=user)
    profile.legal_name = data["legal_name"].strip()
    profile.profession = data["profession"]
    profile.license_number = data["license_number"].strip()
    profile.license_expires_on = data.get("license_expires_on")
    profile.jurisdiction = data["jurisdiction"]
    profile.cpr_expires_on = data.get("cpr_expires_on")
    profile.has_intraoral_endorsement = bool(data.get("has_intraoral_endorsement"))
    if data.get("infection_control_ack") and not profile.infection_control_ack_at:
        profile.infection_control_ack_at = utcnow()
    elif not data.get("infection_control_ack"):
        profile.infection_control_ack_at = None
    db.session.add(profile)
    db.session.flush()
    audit.record("profile.save", "user", user.id, actor=user, profession=profile.profession,
                 jurisdiction=profile.jurisdiction)
    return profile


def add_evidence(owner, kind: str, stored: StoredUpload) -> EvidenceFile:
    ev = EvidenceFile(owner_id=owner.id, kind=kind, stored_name=stored.stored_name,
                      original_name=stored.original_name, content_type=stored.content_type,
                      size_bytes=stored.size_bytes, sha256=stored.sha256)
    db.session.add(ev)
    db.session.flush()
    return ev


PENDING_CREDENTIAL = ("Your OMT credential is already waiting for a decision. You can submit another once an "
                      "instructor or administrator has decided on it.")


def has_pending_credential(user_id: int) -> bool:
    return db.session.execute(sa.select(OmtCredential.id).filter_by(user_id=user_id, status="pending")
                              .limit(1)).first() is not None


def submit_omt_credential(user, *, provider_name: str, course_hours: Decimal, completed_on, evidence: EvidenceFile):
    """Submit a credential for verification. One pending credential at a time (a partial unique index enforces it
    when two submissions race); raises DecisionError when one is already waiting."""
    if has_pending_credential(user.id):
        raise DecisionError(PENDING_CREDENTIAL)
    cred = OmtCredential(user_id=user.id, provider_name=provider_name.strip(), course_hours=course_hours,
                         completed_on=completed_on, evidence_file_id=evidence.id)
    try:
        with db.session.begin_nested():
            db.session.add(cred)
    except IntegrityError:
        raise DecisionError(PENDING_CREDENTIAL) from None
    audit.record("omt.submit", "omt_credential", cred.id, actor=user, hours=str(course_hours))
    return cred


def decide_omt_credential(cred: OmtCredential, *, decision: str, reason: str, actor) -> OmtCredential:
    """Verify or reject a pending credential. A decided credential stays as decided; resubmission is a new record."""
    if actor.id == cred.user_id:
        raise DecisionError("You cannot verify your own credential.")
    if not actor.has_role("instructor", "admin"):
        raise DecisionError("Only instructors and administrators verify credentials.")
    if cred.status != "pending":
        raise DecisionError("This credential has already been decided.")
    if decision not in ("verified", "rejected"):
        raise DecisionError("Unknown decision.")
    if decision == "rejected" and not reason.strip():
        raise DecisionError("Give a reason for the rejection.")
    cred.status = decision
    cred.decided_by_id = actor.id
    cred.decided_at = utcnow()
    cred.decision_reason = reason.strip() or None
    db.session.flush()
    audit.record(f"omt.{decision}", "omt_credential", cred.id, actor=actor, reason=reason.strip())
    return cred


def latest_credential(user_id: int) -> OmtCredential | None:
    return db.session.execute(
        sa.select(OmtCredential).filter_by(user_id=user_id).order_by(OmtCredential.id.desc()).limit(1)
    ).scalar_one_or_none()


def verified_credential(user_id: int) -> OmtCredential | None:
    return db.session.execute(
        sa.select(OmtCredential).filter_by(user_id=user_id, status="verified")
        .order_by(OmtCredential.course_hours.desc(), OmtCredential.id.desc()).limit(1)
    ).scalar_one_or_none()
