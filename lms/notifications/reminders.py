"""Time-based reminders: expiry at 90, 60 and 30 days, renewal window opening, CE hours short of the renewal rule,
collaboration agreements about to end.

``send_due(on)`` looks at the facts as of ``on`` and notifies each holder once per reminder key (user, event,
threshold). The keys are stored in ``sent_reminders`` under a unique constraint, so a second run, or two runs at the
same moment on different instances, never send the same reminder twice. A reminder muted by the holder's
preferences still counts as handled.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from lms.extensions import db
from lms.notifications.models import SentReminder
from lms.notifications.operations import notify

EXPIRY_THRESHOLDS = (90, 60, 30)
AGREEMENT_THRESHOLDS = (30,)


def threshold_for(days_left: int, thresholds=EXPIRY_THRESHOLDS) -> int | None:
    """The tightest threshold ``days_left`` has reached (30 before 60 before 90), or None when none applies."""
    reached = [t for t in thresholds if 0 < days_left <= t]
    return min(reached) if reached else None


def _once(key: str, user, on: date, event: str, record, **details) -> bool:
    """Notify unless ``key`` was handled before; records the key in the same transaction."""
    if db.session.execute(sa.select(SentReminder.id).filter_by(key=key)).first():
        return False
    try:
        with db.session.begin_nested():
            db.session.add(SentReminder(key=key, user_id=user.id, due_on=on))
    except IntegrityError:
        return False  # another run recorded it a moment ago
    notify(user, event, record, **details)
    return True


def _verified_ce_hours(trainee_id: int, since: date, until: date) -> float:
    from lms.renewal.models import ContinuingEducation

    total = db.session.execute(sa.select(sa.func.coalesce(sa.func.sum(ContinuingEducation.hours), 0)).where(
        ContinuingEducation.trainee_id == trainee_id, ContinuingEducation.status == "verified",
        ContinuingEducation.completed_on >= since, ContinuingEducation.completed_on <= until)).scalar_one()
    return float(total)


def _certificate_reminders(on: date, sent: Counter) -> None:
    from lms.certificates.models import Certificate, CertificateRevocation
    from lms.eligibility.renewal import WINDOW_DAYS

    horizon = on + timedelta(days=max(EXPIRY_THRESHOLDS[0], WINDOW_DAYS))
    certs = db.session.execute(
        sa.select(Certificate)
        .outerjoin(CertificateRevocation, CertificateRevocation.certificate_id == Certificate.id)
        .where(Certificate.is_current.is_(True), CertificateRevocation.id.is_(None),
               Certificate.expires_on > on, Certificate.expires_on <= horizon)
        .options(selectinload(Certificate.trainee), selectinload(Certificate.standard_version))
        .order_by(Certificate.id)).scalars()
    for cert in certs:
        holder = cert.trainee
        if not holder.is_enabled:
            continue
        days = (cert.expires_on - on).days
        threshold = threshold_for(days)
        if threshold is not None and _once(f"expiry:{cert.id}:{threshold}", holder, on, "reminder.expiry", cert,
                                           days=days):
            sent["expiry"] += 1
        if days <= WINDOW_DAYS and _once(f"renewal-window:{cert.id}", holder, on, "reminder.renewal_window", cert):
            sent["renewal window"] += 1
        need = float(cert.standard_version.data.get("renewal", {}).get("ce_hours", 0))
        if threshold is not None and need:
            have = _verified_ce_hours(holder.id, cert.issued_on, on)
            if have < need and _once(f"ce-short:{cert.id}:{threshold}", holder, on, "reminder.ce_short", cert,
                                     have=have, need=need):
                sent["CE short"] += 1


def _agreement_reminders(on: date, sent: Counter) -> None:
    from lms.screening.models import CollaborationAgreement

    horizon = on + timedelta(days=max(AGREEMENT_THRESHOLDS))
    agreements = db.session.execute(
        sa.select(CollaborationAgreement)
        .where(CollaborationAgreement.status == "verified", CollaborationAgreement.valid_until >= on,
               CollaborationAgreement.valid_until <= horizon)
        .options(selectinload(CollaborationAgreement.trainee)).order_by(CollaborationAgreement.id)).scalars()
    for agreement in agreements:
        days = (agreement.valid_until - on).days
        threshold = threshold_for(max(days, 1), AGREEMENT_THRESHOLDS)  # an agreement ending today still counts
        if threshold is None or not agreement.trainee.is_enabled:
            continue
        if _once(f"agreement:{agreement.id}:{threshold}", agreement.trainee, on, "reminder.agreement_expiring",
                 agreement, days=days):
            sent["agreement expiring"] += 1


def send_due(on: date) -> Counter:
    """Record and notify every reminder due on ``on`` (flushes; the caller commits). Returns counts per kind."""
    sent: Counter = Counter()
    _certificate_reminders(on, sent)
    _agreement_reminders(on, sent)
    return sent
