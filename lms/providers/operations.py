"""Provider profile and OMT credential operations (flush only; the request commits)."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from lms.core import audit
from lms.core.timeutil import utcnow
from lms.core.uploads import StoredUpload
from lms.extensions import db
from lms.notifications import notify
from lms.providers.models import (
    AdvancedStanding,
    EvidenceFile,
    InstructorLink,
    Licence,
    OmtCredential,
    ProviderProfile,
)

WA_INTRAORAL_ENDORSEMENT = "intraoral_massage"
ENDORSEMENT_LABELS = {WA_INTRAORAL_ENDORSEMENT: "intraoral massage endorsement"}


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
    sync_licence(user, profile, evidence=data.get("licence_evidence"))
    return profile


def _licence_details(profile: ProviderProfile) -> tuple:
    endorsements = [WA_INTRAORAL_ENDORSEMENT] if profile.has_intraoral_endorsement else []
    return (profile.profession, profile.jurisdiction, profile.license_number.strip(), profile.license_expires_on,
            endorsements)


def current_licence(user_id: int) -> Licence | None:
    """The trainee's newest licence record (the one that counts, whatever its status)."""
    return db.session.execute(
        sa.select(Licence).filter_by(trainee_id=user_id).order_by(Licence.id.desc()).limit(1)
    ).scalar_one_or_none()


def verified_licence(user_id: int) -> Licence | None:
    """The newest licence record when an admin has verified it; None while it is unverified or rejected."""
    lic = current_licence(user_id)
    return lic if lic is not None and lic.status == "verified" else None


def latest_verified_licence(user_id: int) -> Licence | None:
    """The most recent licence record an admin verified (it may have been followed by unverified changes)."""
    return db.session.execute(
        sa.select(Licence).filter_by(trainee_id=user_id, status="verified").order_by(Licence.id.desc()).limit(1)
    ).scalar_one_or_none()


def licence_status(user_id: int, on) -> dict:
    """The holder's licence as a board sees it: ``status`` current | expired | not_verified, with the dates."""
    lic = latest_verified_licence(user_id)
    return licence_summary(lic is not None, lic.expires_on if lic else None, lic.verified_on if lic else None, on)


def licence_summary(verified: bool, expires_on, verified_on, on) -> dict:
    """:func:`licence_status` from the latest verified licence's dates (``verified``: there is one)."""
    if not verified:
        return {"status": "not_verified", "expires_on": None, "verified_on": None}
    expired = expires_on is not None and expires_on < on
    return {"status": "expired" if expired else "current",
            "expires_on": expires_on.isoformat() if expires_on else None,
            "verified_on": verified_on.isoformat() if verified_on else None}


def sync_licence(user, profile: ProviderProfile, *, evidence: EvidenceFile | None = None) -> Licence:
    """Make the newest licence record match the profile. Changed details are a new, unverified record: a change
    of profession, jurisdiction, number, expiry or endorsement is never trusted until an admin checks it."""
    profession, jurisdiction, number, expires_on, endorsements = _licence_details(profile)
    lic = current_licence(user.id)
    same = lic is not None and (lic.profession, lic.jurisdiction, lic.number, lic.expires_on,
                                sorted(lic.endorsements or [])) == (profession, jurisdiction, number, expires_on,
                                                                     sorted(endorsements))
    if same:
        if evidence is not None and lic.status == "pending":
            lic.evidence_file_id = evidence.id
            db.session.flush()
        return lic
    new = Licence(trainee_id=user.id, profession=profession, jurisdiction=jurisdiction, number=number,
                  expires_on=expires_on, endorsements=endorsements,
                  evidence_file_id=evidence.id if evidence is not None else
                  (lic.evidence_file_id if lic is not None and lic.status == "pending" else None),
                  status="pending")
    db.session.add(new)
    db.session.flush()
    audit.record("licence.submit", "licence", new.id, actor=user, profession=profession, jurisdiction=jurisdiction,
                 replaces=lic.id if lic is not None else None)
    return new


def decide_licence(lic: Licence, *, decision: str, actor, reference: str = "", reason: str = "") -> Licence:
    """An admin verifies a licence against the primary source (recording where) or rejects it with a reason."""
    if not actor.has_role("admin"):
        raise DecisionError("Only administrators verify licenses.")
    if actor.id == lic.trainee_id:
        raise DecisionError("You cannot verify your own license.")
    if lic.status != "pending":
        raise DecisionError("This license record has already been decided.")
    newest = current_licence(lic.trainee_id)
    if newest is not None and newest.id != lic.id:
        raise DecisionError("The trainee has changed these license details since; decide the newest record.")
    if decision == "verified":
        if not reference.strip():
            raise DecisionError("Record where you checked the license: the registry URL or the look-up reference.")
    elif decision == "rejected":
        if not reason.strip():
            raise DecisionError("Give the trainee a reason for the rejection.")
    else:
        raise DecisionError("Unknown decision.")
    lic.status = decision
    lic.decided_by_id = actor.id
    lic.decided_at = utcnow()
    lic.verification_reference = reference.strip()[:500] or None
    lic.decision_reason = reason.strip() or None
    db.session.flush()
    audit.record(f"licence.{decision}", "licence", lic.id, actor=actor, trainee=lic.trainee_id,
                 reference=lic.verification_reference, reason=lic.decision_reason)
    notify(lic.trainee, f"licence.{decision}", lic, reason=reason.strip())
    return lic


def record_advanced_standing(trainee, *, program_id: str, kind: str, reason: str, evidence: EvidenceFile, actor,
                             hours_from=None, credential: str = "") -> AdvancedStanding:
    """P2a (recognise hours from before the enrollment) or P2b (active OMT practice), with evidence and a reason."""
    if not actor.has_role("admin"):
        raise DecisionError("Only administrators record advanced standing.")
    if actor.id == trainee.id:
        raise DecisionError("You cannot record advanced standing for yourself.")
    if kind not in ("prior_hours", "omt_practice"):
        raise DecisionError("Choose what is recognised: earlier hours or active OMT practice.")
    if not reason.strip():
        raise DecisionError("Give the reason for recognising it.")
    if kind == "prior_hours" and hours_from is None:
        raise DecisionError("Enter the date from which earlier hours count.")
    standing = AdvancedStanding(trainee_id=trainee.id, program_id=program_id, kind=kind,
                                hours_from=hours_from if kind == "prior_hours" else None,
                                credential=credential.strip()[:200], reason=reason.strip(),
                                evidence_file_id=evidence.id, recorded_by_id=actor.id)
    db.session.add(standing)
    db.session.flush()
    audit.record("standing.record", "advanced_standing", standing.id, actor=actor, trainee=trainee.id, kind=kind,
                 hours_from=hours_from.isoformat() if hours_from else None, reason=reason.strip())
    return standing


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
    notify(cred.user, f"omt.{decision}", cred, reason=reason.strip())
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


def instructor_links(trainee_id: int) -> list[InstructorLink]:
    return list(db.session.execute(
        sa.select(InstructorLink).filter_by(trainee_id=trainee_id, ended_at=None).order_by(InstructorLink.id)
    ).scalars())


def name_instructor(trainee, instructor) -> InstructorLink:
    """The trainee names an instructor who may act for them."""
    if instructor is None or not instructor.has_role("instructor") or not instructor.is_enabled:
        raise DecisionError("Choose an instructor from the list.")
    if instructor.id == trainee.id:
        raise DecisionError("You cannot name yourself.")
    if any(link.instructor_id == instructor.id for link in instructor_links(trainee.id)):
        raise DecisionError(f"{instructor.name} is already one of your instructors.")
    link = InstructorLink(trainee_id=trainee.id, instructor_id=instructor.id)
    db.session.add(link)
    db.session.flush()
    audit.record("instructor.named", "user", trainee.id, actor=trainee, instructor=instructor.id)
    return link


def end_instructor_link(trainee, link: InstructorLink) -> InstructorLink:
    if link.trainee_id != trainee.id or link.ended_at is not None:
        raise DecisionError("That instructor is not on your list.")
    link.ended_at = utcnow()
    db.session.flush()
    audit.record("instructor.unnamed", "user", trainee.id, actor=trainee, instructor=link.instructor_id)
    return link
