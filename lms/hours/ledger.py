"""The hours ledger.

Entries move submitted → approved / needs_info / rejected. Only the named supervisor or an admin decides, and never on
their own hours. Entry content is never edited: a correction is a new entry that points at the one it corrects. An
entry is *superseded* once a correction of it is approved, or — when the original never counted (needs_info or
rejected) — as soon as the correction is submitted. Only approved, non-superseded entries count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased, joinedload, selectinload

from lms.core import audit
from lms.core.database import advisory_lock
from lms.core.timeutil import today
from lms.extensions import db
from lms.hours.models import CATEGORY_LABELS, AttendanceSession, HourDecision, HourEntry
from lms.notifications import notify
from lms.screening.operations import normalize_case_code

MAX_ENTRY_MINUTES = 24 * 60
PAST_LIMIT_DAYS = 366 * 3


class LedgerError(ValueError):
    """A submission or decision that cannot be accepted; the message says why and what to do."""


@dataclass
class EntryInput:
    entry_date: date
    minutes: int
    category: str
    supervisor_id: int
    setting: str
    notes: str = ""
    case_code: str | None = None
    screening_id: int | None = None
    intraoral_lab: bool = False  # a lab session that included intraoral work on a lab partner


def needs_screening(data) -> bool:
    """Clinical intraoral sessions, and lab practice that included intraoral work, need a same-day screening."""
    return data.category == "clinical_intraoral" or (data.category == "lab_in_person" and data.intraoral_lab)


def superseded_ids_query(trainee_id: int | None = None):
    """Ids of entries replaced by a correction (see module docstring)."""
    original = aliased(HourEntry)
    q = (
        sa.select(HourEntry.corrects_id)
        .join(original, original.id == HourEntry.corrects_id)
        .where(sa.or_(HourEntry.status == "approved", original.status.in_(("needs_info", "rejected"))))
    )
    if trainee_id is not None:
        q = q.where(HourEntry.trainee_id == trainee_id)
    return q


def minutes_logged_on(trainee_id: int, day: date, except_id: int | None = None) -> int:
    """The daily cap counts every entry of that day that may still count (not rejected, not superseded)."""
    return db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(HourEntry.minutes), 0)).where(
            HourEntry.trainee_id == trainee_id,
            HourEntry.entry_date == day,
            HourEntry.status.in_(("submitted", "approved", "needs_info")),
            HourEntry.id.not_in(superseded_ids_query(trainee_id)),
            *([HourEntry.id != except_id] if except_id is not None else []),
        )
    ).scalar_one()


def validate_entry(trainee, data: EntryInput, *, daily_cap_hours: float, corrects: HourEntry | None = None) -> None:
    from lms.auth.models import User

    if data.category not in CATEGORY_LABELS:
        raise LedgerError("Choose a category: lab in person, clinical extraoral or clinical intraoral.")
    if data.entry_date > today():
        raise LedgerError("The date cannot be in the future. Log sessions after they happen.")
    if data.entry_date < today() - timedelta(days=PAST_LIMIT_DAYS):
        raise LedgerError("The date is more than three years ago. Ask an administrator to record older hours.")
    if data.minutes <= 0:
        raise LedgerError("The duration must be more than zero minutes.")
    if data.minutes > MAX_ENTRY_MINUTES:
        raise LedgerError("One entry cannot be longer than 24 hours.")
    supervisor = db.session.get(User, data.supervisor_id)
    if supervisor is None or not supervisor.has_role("instructor", "admin") or not supervisor.is_enabled:
        raise LedgerError("Choose a supervising instructor from the list.")
    if supervisor.id == trainee.id:
        raise LedgerError("You cannot supervise your own hours.")
    if not data.setting.strip():
        raise LedgerError("Describe the setting (for example, 'University teaching clinic').")
    logged = minutes_logged_on(trainee.id, data.entry_date, except_id=corrects.id if corrects else None)
    cap = int(daily_cap_hours * 60)
    if logged + data.minutes > cap:
        left = max(cap - logged, 0)
        raise LedgerError(f"That would take {data.entry_date.isoformat()} past the daily cap of {daily_cap_hours:g} "
                          f"hours ({left} minutes left that day).")
    if needs_screening(data):
        from lms.screening.gate import check_screening_for_entry

        problem = check_screening_for_entry(trainee, data.screening_id, data.entry_date, data.case_code)
        if problem:
            raise LedgerError(problem)


def submit_entry(trainee, enrollment, data: EntryInput, *, daily_cap_hours: float,
                 corrects: HourEntry | None = None) -> HourEntry:
    """Validate and add an entry (a correction when ``corrects`` is given)."""
    advisory_lock(db.session, f"ledger:{trainee.id}")  # the daily cap reads, then writes
    if corrects is not None:
        if corrects.trainee_id != trainee.id:
            raise LedgerError("You can only correct your own entries.")
        if corrects.id in set(db.session.execute(superseded_ids_query(trainee.id)).scalars()):
            raise LedgerError("That entry has already been corrected.")
        pending = db.session.execute(
            sa.select(HourEntry.id).filter_by(corrects_id=corrects.id, status="submitted")).first()
        if pending:
            raise LedgerError("A correction of that entry is already waiting for a decision.")
    validate_entry(trainee, data, daily_cap_hours=daily_cap_hours, corrects=corrects)
    case = None
    if data.category.startswith("clinical_") and data.case_code:
        from lms.cases.operations import case_for_code

        case = case_for_code(trainee, data.case_code)  # a clinical session belongs to its case (patient)
    entry = HourEntry(
        trainee_id=trainee.id, enrollment_id=enrollment.id, entry_date=data.entry_date, minutes=data.minutes,
        category=data.category, supervisor_id=data.supervisor_id, setting=data.setting.strip(),
        notes=(data.notes or "").strip(), case_code=normalize_case_code(data.case_code) or None,
        case_id=case.id if case is not None else None,
        screening_id=data.screening_id if needs_screening(data) else None,
        intraoral_lab=bool(data.category == "lab_in_person" and data.intraoral_lab),
        corrects_id=corrects.id if corrects else None, status="submitted",
    )
    db.session.add(entry)
    db.session.flush()
    audit.record("hours.submit", "hour_entry", entry.id, actor=trainee, minutes=entry.minutes,
                 category=entry.category, corrects=entry.corrects_id, case=entry.case_code,
                 screening=entry.screening_id)
    return entry


def decide(entry: HourEntry, decision: str, *, actor, reason: str = "") -> HourDecision:
    """Record a decision on a submitted entry."""
    if decision not in ("approved", "needs_info", "rejected"):
        raise LedgerError("Unknown decision.")
    if actor.id == entry.trainee_id:
        raise LedgerError("Nobody approves their own hours.")
    if not (actor.has_role("admin") or (actor.has_role("instructor") and actor.id == entry.supervisor_id)):
        raise LedgerError("Only the named supervisor or an administrator can decide on this entry.")
    if entry.status != "submitted":
        raise LedgerError(f"This entry is already {entry.status_label.lower()}; only submitted entries are decided.")
    if decision in ("needs_info", "rejected") and not reason.strip():
        raise LedgerError("Tell the trainee why: a reason is required.")
    # Guard against two decisions racing: only the first update from 'submitted' wins.
    updated = db.session.execute(
        sa.update(HourEntry).where(HourEntry.id == entry.id, HourEntry.status == "submitted")
        .values(status=decision).execution_options(synchronize_session=False)
    ).rowcount
    if updated != 1:
        raise LedgerError("Another decision was recorded on this entry a moment ago.")
    db.session.refresh(entry)
    record = HourDecision(entry_id=entry.id, decision=decision, reason=reason.strip(), actor_id=actor.id)
    db.session.add(record)
    db.session.flush()
    audit.record(f"hours.{decision}", "hour_entry", entry.id, actor=actor, reason=reason.strip())
    notify(entry.trainee, f"hours.{decision}", entry, reason=reason.strip())
    return record


def counted_minutes_by_category(trainee_id: int, since: date | None = None) -> dict[str, int]:
    """Approved, non-superseded minutes per category, dated ``since`` or later when given (the eligibility
    decision counts hours from the enrollment, or from an earlier date recognised as advanced standing)."""
    rows = db.session.execute(
        sa.select(HourEntry.category, sa.func.sum(HourEntry.minutes))
        .where(HourEntry.trainee_id == trainee_id, HourEntry.status == "approved",
               HourEntry.id.not_in(superseded_ids_query(trainee_id)),
               *([HourEntry.entry_date >= since] if since is not None else []))
        .group_by(HourEntry.category)
    ).all()
    return {cat: int(total) for cat, total in rows}


def _entries_query(trainee_id: int):
    # The pages show each entry's supervisor and decisions (with who decided): load them in batches, not per row.
    return (sa.select(HourEntry).filter_by(trainee_id=trainee_id)
            .options(selectinload(HourEntry.supervisor),
                     joinedload(HourEntry.attendance).joinedload(AttendanceSession.module),
                     selectinload(HourEntry.decisions).selectinload(HourDecision.actor))
            .order_by(HourEntry.entry_date.desc(), HourEntry.id.desc()))


def entries_for(trainee_id: int) -> list[HourEntry]:
    """A trainee's whole ledger, newest first."""
    return list(db.session.execute(_entries_query(trainee_id)).scalars())


PAGE_SIZE = 20


def entries_page(trainee_id: int, page: int, per_page: int = PAGE_SIZE) -> tuple[list[HourEntry], bool]:
    """One page of a trainee's ledger, newest first, and whether a later page exists (one query: a row more)."""
    rows = list(db.session.execute(_entries_query(trainee_id).limit(per_page + 1)
                                   .offset((page - 1) * per_page)).scalars())
    return rows[:per_page], len(rows) > per_page


OPEN_STATES = ("submitted", "needs_info")


def recent_and_open(trainee_id: int, recent: int = 10) -> tuple[list[HourEntry], list[HourEntry]]:
    """The latest ``recent`` entries and every entry still waiting on a decision or on the trainee, in one query."""
    latest = (sa.select(HourEntry.id).filter_by(trainee_id=trainee_id)
              .order_by(HourEntry.entry_date.desc(), HourEntry.id.desc()).limit(recent))
    rows = list(db.session.execute(_entries_query(trainee_id).where(
        sa.or_(HourEntry.status.in_(OPEN_STATES), HourEntry.id.in_(latest.scalar_subquery())))).scalars())
    # Rows come in ledger order and include the latest `recent` entries, so those are exactly the first `recent` rows.
    return rows[:recent], [r for r in rows if r.status in OPEN_STATES]


def superseded_ids(trainee_id: int) -> set[int]:
    return set(db.session.execute(superseded_ids_query(trainee_id)).scalars())


def _supervised(actor):
    q = sa.select(HourEntry)
    return q if actor.has_role("admin") else q.where(HourEntry.supervisor_id == actor.id)


def queue_for(actor, *, status: str = "submitted", trainee_id: int | None = None, category: str | None = None,
              page: int = 1, per_page: int = PAGE_SIZE) -> tuple[list[HourEntry], bool]:
    """Entries ``actor`` supervises (an admin: every entry), filtered, oldest submission first; and whether a later
    page exists."""
    q = _supervised(actor).where(HourEntry.status == status)
    if trainee_id is not None:
        q = q.where(HourEntry.trainee_id == trainee_id)
    if category is not None:
        q = q.where(HourEntry.category == category)
    q = q.options(selectinload(HourEntry.trainee), selectinload(HourEntry.supervisor),
                  selectinload(HourEntry.screening))
    rows = list(db.session.execute(q.order_by(HourEntry.submitted_at, HourEntry.id)
                                   .limit(per_page + 1).offset((page - 1) * per_page)).scalars())
    return rows[:per_page], len(rows) > per_page


def queue_trainees(actor) -> list[tuple[int, str]]:
    """(id, display name) of the trainees whose entries ``actor`` supervises, for the queue's filter."""
    from lms.auth.models import User

    ids = _supervised(actor).with_only_columns(HourEntry.trainee_id).distinct().scalar_subquery()
    return [(i, n) for i, n in db.session.execute(
        sa.select(User.id, User.name).where(User.id.in_(ids)).order_by(User.name, User.id).limit(500))]


def approve_many(entry_ids: list[int], *, actor) -> tuple[list[HourEntry], list[tuple[int, str]]]:
    """Approve several entries, each through ``decide`` (the same checks, audit record and notice as one by one).

    Each approval runs in its own savepoint, so one refused entry leaves the others approved. Returns the approved
    entries and (id, reason) for the refused ones; an entry the actor does not supervise reads as not found.
    """
    approved: list[HourEntry] = []
    refused: list[tuple[int, str]] = []
    for entry_id in dict.fromkeys(entry_ids):
        entry = db.session.get(HourEntry, entry_id)
        if entry is None or not (actor.has_role("admin") or entry.supervisor_id == actor.id):
            refused.append((entry_id, "No such entry in your queue."))
            continue
        try:
            with db.session.begin_nested():
                decide(entry, "approved", actor=actor)
        except LedgerError as exc:
            refused.append((entry_id, str(exc)))
            continue
        approved.append(entry)
    return approved, refused


def pending_for(actor) -> list[HourEntry]:
    q = sa.select(HourEntry).where(HourEntry.status == "submitted")
    if not actor.has_role("admin"):
        q = q.where(HourEntry.supervisor_id == actor.id)
    # The queue shows each entry's trainee, supervisor and screening: load them in batches, not per row.
    q = q.options(selectinload(HourEntry.trainee), selectinload(HourEntry.supervisor),
                  selectinload(HourEntry.screening))
    return list(db.session.execute(q.order_by(HourEntry.submitted_at)).scalars())
