"""The licence records behind Route D and the board's view of a holder: which record counts, when a change needs
checking again, who may decide, what the holder is told, and the day a licence lapses."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from lms.core.audit import AuditEvent
from lms.extensions import db
from lms.notifications.models import Notification
from lms.providers.operations import (
    WA_INTRAORAL_ENDORSEMENT,
    DecisionError,
    current_licence,
    decide_licence,
    latest_verified_licence,
    licence_status,
    licence_summary,
    save_profile,
    verified_licence,
)
from tests.factories import create_evidence, create_trainee, create_user

TODAY = date.today()
REFERENCE = "https://register.example.test/lookup/123"


@pytest.fixture
def people(ctx, program):
    admin = create_user("admin", email="lic-admin@example.test")
    trainee = create_trainee(email="lic-trainee@example.test", profession="dental_hygienist", jurisdiction="US-WA")
    db.session.commit()
    return {"admin": admin, "trainee": trainee}


def _save(user, **changes):
    p = user.profile
    data = {"legal_name": p.legal_name, "profession": p.profession, "license_number": p.license_number,
            "license_expires_on": p.license_expires_on, "jurisdiction": p.jurisdiction,
            "cpr_expires_on": p.cpr_expires_on, "infection_control_ack": True,
            "has_intraoral_endorsement": p.has_intraoral_endorsement, **changes}
    save_profile(user, data)
    return current_licence(user.id)


def _audit(action):
    return db.session.execute(sa.select(AuditEvent).filter_by(action=action).order_by(AuditEvent.id)).scalars().all()


def test_saving_unchanged_details_keeps_the_verified_record(people):
    trainee = people["trainee"]
    verified = verified_licence(trainee.id)
    assert verified is not None and verified.status == "verified"
    assert _save(trainee, license_number=f"  {trainee.profile.license_number} ") == verified
    assert verified_licence(trainee.id) == verified


@pytest.mark.parametrize("change", [
    {"profession": "dentist"}, {"jurisdiction": "US-OR"}, {"license_number": "LIC-2"},
    {"license_expires_on": TODAY + timedelta(days=900)}, {"has_intraoral_endorsement": True},
])
def test_any_changed_detail_is_a_new_unverified_record(people, change):
    trainee = people["trainee"]
    before = current_licence(trainee.id)
    submitted = len(_audit("licence.submit"))
    new = _save(trainee, **change)
    assert new.id != before.id and new.status == "pending"
    assert verified_licence(trainee.id) is None  # the newest record counts, and it is unchecked
    assert latest_verified_licence(trainee.id) == before
    event = _audit("licence.submit")[submitted]
    assert (event.actor_id, event.object_type, event.object_id) == (trainee.id, "licence", str(new.id))
    assert event.details == {"profession": new.profession, "jurisdiction": new.jurisdiction, "replaces": before.id}
    if "has_intraoral_endorsement" in change:
        assert new.endorsements == [WA_INTRAORAL_ENDORSEMENT] and before.endorsements == []


def test_evidence_goes_to_the_pending_record_and_stays_with_it(people):
    trainee = people["trainee"]
    pending = _save(trainee, license_number="LIC-9")
    assert pending.evidence_file_id is None
    evidence = create_evidence(trainee, "licence")
    assert _save(trainee, licence_evidence=evidence) == pending and pending.evidence_file_id == evidence.id
    # A further change while pending carries the uploaded evidence over to the newer record.
    newer = _save(trainee, license_number="LIC-10")
    assert newer.id != pending.id and newer.evidence_file_id == evidence.id


def test_evidence_is_never_attached_to_a_decided_record(people):
    trainee = people["trainee"]
    verified = current_licence(trainee.id)
    evidence = create_evidence(trainee, "licence")
    assert _save(trainee, licence_evidence=evidence) == verified and verified.evidence_file_id is None
    newer = _save(trainee, license_number="LIC-11")
    assert newer.evidence_file_id is None  # nothing is carried over from a decided record


def test_only_an_admin_other_than_the_holder_decides_the_newest_pending_record(people):
    trainee, admin = people["trainee"], people["admin"]
    older = _save(trainee, license_number="LIC-3")
    newest = _save(trainee, license_number="LIC-4")
    with pytest.raises(DecisionError, match="Only administrators verify licenses"):
        decide_licence(newest, decision="verified", actor=create_user("instructor"), reference=REFERENCE)
    assert _save(trainee, license_number="LIC-4") == newest  # saved again unchanged: still the same record
    with pytest.raises(DecisionError, match="decide the newest record"):
        decide_licence(older, decision="verified", actor=admin, reference=REFERENCE)
    with pytest.raises(DecisionError, match="Record where you checked the license"):
        decide_licence(newest, decision="verified", actor=admin, reference="   ")
    with pytest.raises(DecisionError, match="Give the trainee a reason"):
        decide_licence(newest, decision="rejected", actor=admin, reason=" ")
    with pytest.raises(DecisionError, match="Unknown decision"):
        decide_licence(newest, decision="maybe", actor=admin, reference=REFERENCE, reason="x")
    assert newest.status == "pending"

    decide_licence(newest, decision="verified", actor=admin, reference=f"  {REFERENCE}  ")
    assert (newest.status, newest.decided_by_id, newest.verification_reference, newest.decision_reason) == (
        "verified", admin.id, REFERENCE, None)
    assert newest.decided_at is not None
    event = _audit("licence.verified")[-1]
    assert (event.actor_id, event.object_type, event.object_id) == (admin.id, "licence", str(newest.id))
    assert event.details == {"trainee": trainee.id, "reference": REFERENCE, "reason": None}
    assert verified_licence(trainee.id) == newest
    with pytest.raises(DecisionError, match="already been decided"):
        decide_licence(newest, decision="rejected", actor=admin, reason="Late change of mind")


def test_a_rejection_records_its_reason(people):
    trainee, admin = people["trainee"], people["admin"]
    pending = _save(trainee, license_number="LIC-5")
    decide_licence(pending, decision="rejected", actor=admin, reason="  Number not on the register. ")
    assert (pending.status, pending.decision_reason, pending.verification_reference) == (
        "rejected", "Number not on the register.", None)
    assert _audit("licence.rejected")[-1].details == {"trainee": trainee.id, "reference": None,
                                                      "reason": "Number not on the register."}
    assert verified_licence(trainee.id) is None and latest_verified_licence(trainee.id) is not None


def test_nobody_verifies_their_own_licence(people):
    admin = people["admin"]
    save_profile(admin, {"legal_name": "Ada Admin", "profession": "dentist", "license_number": "D-1",
                         "license_expires_on": TODAY + timedelta(days=30), "jurisdiction": "US-OR",
                         "infection_control_ack": True})
    with pytest.raises(DecisionError, match="cannot verify your own license"):
        decide_licence(current_licence(admin.id), decision="verified", actor=admin, reference=REFERENCE)


def test_the_board_sees_a_licence_current_on_its_expiry_day_and_expired_the_day_after(people):
    trainee, admin = people["trainee"], people["admin"]
    last = TODAY + timedelta(days=10)
    lic = _save(trainee, license_expires_on=last)
    assert licence_status(trainee.id, TODAY)["status"] == "current"  # the earlier verified record still shows
    decide_licence(lic, decision="verified", actor=admin, reference=REFERENCE)
    on_last = licence_status(trainee.id, last)
    assert on_last == {"status": "current", "expires_on": last.isoformat(),
                       "verified_on": lic.verified_on.isoformat()}
    assert licence_status(trainee.id, last + timedelta(days=1))["status"] == "expired"
    # A licence with no expiry date never lapses.
    open_ended = _save(trainee, license_expires_on=None)
    decide_licence(open_ended, decision="verified", actor=admin, reference=REFERENCE)
    assert licence_status(trainee.id, date(2100, 1, 1)) == {
        "status": "current", "expires_on": None, "verified_on": open_ended.verified_on.isoformat()}


def test_no_verified_licence_is_not_verified(ctx, program):
    newcomer = create_user("trainee")
    assert licence_status(newcomer.id, TODAY) == {"status": "not_verified", "expires_on": None, "verified_on": None}
    # Another holder's verified licence never stands for this one.
    create_trainee(email="lic-other@example.test")
    assert latest_verified_licence(newcomer.id) is None
    assert current_licence(newcomer.id) is None and verified_licence(newcomer.id) is None
    assert latest_verified_licence(newcomer.id) is None


def test_saving_an_endorsed_licence_unchanged_keeps_its_record(people):
    trainee = people["trainee"]
    endorsed = _save(trainee, has_intraoral_endorsement=True)
    assert endorsed.endorsements == [WA_INTRAORAL_ENDORSEMENT]
    assert _save(trainee) == endorsed and current_licence(trainee.id) == endorsed


@pytest.mark.parametrize("decided_first", [False, True])
def test_evidence_sent_with_changed_details_goes_to_the_new_record(people, decided_first):
    trainee = people["trainee"]
    if not decided_first:
        _save(trainee, license_number="LIC-12")  # pending, without evidence
    evidence = create_evidence(trainee, "licence")
    new = _save(trainee, license_number="LIC-13", licence_evidence=evidence)
    assert new.status == "pending" and new.evidence_file_id == evidence.id


def test_a_registry_reference_is_kept_to_its_first_500_characters(people):
    pending = _save(people["trainee"], license_number="LIC-14")
    reference = "https://register.example.test/lookup?q=" + "7" * 600
    decide_licence(pending, decision="verified", actor=people["admin"], reference=reference)
    assert pending.verification_reference == reference[:500]


def _notices(user, event):
    return db.session.execute(sa.select(Notification).filter_by(user_id=user.id, event=event)).scalars().all()


def test_the_holder_is_told_of_each_decision_and_the_reason_for_a_rejection(people):
    trainee, admin = people["trainee"], people["admin"]
    rejected = _save(trainee, license_number="LIC-15")
    decide_licence(rejected, decision="rejected", actor=admin, reason="  Number not on the register. ")
    (notice,) = _notices(trainee, "licence.rejected")
    assert "Your professional license was rejected." in notice.body
    assert "Reason given: Number not on the register." in notice.body
    verified = _save(trainee, license_number="LIC-16")
    told = len(_notices(trainee, "licence.verified"))  # the fixture's licence was verified too
    decide_licence(verified, decision="verified", actor=admin, reference=REFERENCE)
    notice = _notices(trainee, "licence.verified")[told]
    assert "Your professional license was verified." in notice.body and "Reason given" not in notice.body


def test_the_summary_of_a_verified_licence_leaves_out_a_date_it_does_not_have():
    """``licence_summary`` also serves the public verification page, from the dates a query returns: a date missing
    there reads as None, never as an error."""
    assert licence_summary(True, None, None, TODAY) == {"status": "current", "expires_on": None, "verified_on": None}
    assert licence_summary(True, TODAY, None, TODAY + timedelta(days=1)) == {
        "status": "expired", "expires_on": TODAY.isoformat(), "verified_on": None}
