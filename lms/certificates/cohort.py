"""Issuing certificates to a whole cohort: ``flask --app lms certificates issue-cohort PROGRAM``.

The cohort is cut into batches of trainees, and each batch is one job on the job queue (:mod:`lms.jobs`): with
``REDIS_URL`` set, every queue worker (``flask --app lms worker``, on any machine sharing the database) takes batches,
so issuance scales with the workers; without it the command runs the same batch jobs in its own process, one after
another. A batch job (:func:`issue_batch`):

1. evaluates its trainees with a constant number of queries, and for each eligible one fixes the serial, the dates and
   a free status-list index and builds the plain-data PDF context, with no write transaction open;
2. renders, signs and builds the signed credential (CPU work, still no transaction open);
3. stores the results a few at a time. Inside each write transaction it takes the per-trainee issuance lock,
   re-evaluates eligibility and re-reads the holder's details, and stores a certificate only when the trainee is still
   eligible for the same endorsements under the same standard, the printed details are unchanged and no current
   certificate exists. The partial unique index still guarantees one current certificate per trainee if an
   administrator issues one at the same moment. Anything that changed is skipped and reported; running the command
   again picks it up.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from lms.certificates import keys, ob3
from lms.certificates.issuing import (
    add_months,
    build_pdf_context,
    build_signed_credential,
    certificate_language,
    evidence_snapshot,
    render_and_sign,
    revoked_holders,
)
from lms.certificates.models import Certificate
from lms.certificates.serials import new_serial
from lms.core import audit
from lms.core.database import advisory_lock, set_write_intent
from lms.core.timeutil import today
from lms.eligibility.service import TraineeDecision, decisions_for
from lms.extensions import db
from lms.notifications import notify
from lms.training.models import Enrollment, Program

EVALUATE_BATCH = 200  # trainees evaluated per round of queries when picking the first N eligible (--limit)
JOB_BATCH = 20  # trainees per queued job: small enough to spread over the workers, large enough to amortise queries
WRITE_BATCH = 10  # certificates stored per write transaction (keeps SQLite's write lock short)


@dataclass
class CohortResult:
    issued: list[str] = field(default_factory=list)  # serials
    not_eligible: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (trainee id, why)
    workers: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        rate = len(self.issued) / self.seconds if self.seconds else 0.0
        where = f"{self.workers} queue worker(s)" if self.workers != 1 else "1 worker"
        return (f"issued {len(self.issued)} certificates in {self.seconds:.1f} s with {where} "
                f"({rate:.1f}/s); {self.not_eligible} not eligible; {len(self.skipped)} skipped")


@dataclass(frozen=True)
class _Job:
    trainee_id: int
    standard_version_id: int
    endorsements: tuple[str, ...]
    holder: tuple[str, str, str, str]  # legal name, profession, licence number, jurisdiction
    context: dict
    design: str
    credential_args: dict


def _render_job(job: _Job) -> tuple[_Job, bytes, dict]:
    credential = build_signed_credential(**job.credential_args)
    pdf = render_and_sign(job.context, job.design, credential)
    return job, pdf, credential


def _free_status_indexes(count: int) -> list[int]:
    """``count`` distinct free status-list indexes, drawn at random (one query per draw of candidates).

    Two workers drawing the same free index at the same moment is caught by the unique index when storing: that
    trainee is then skipped and reported, and picked up by the next run."""
    chosen: list[int] = []
    while len(chosen) < count:
        candidates = list({secrets.randbelow(ob3.STATUS_LIST_MIN_BITS) for _ in range(2 * (count - len(chosen)) + 4)}
                          - set(chosen))
        taken = set(db.session.execute(sa.select(Certificate.status_index)
                                       .where(Certificate.status_index.in_(candidates))).scalars())
        chosen += [i for i in candidates if i not in taken][:count - len(chosen)]
    return chosen


def candidate_ids(program_id: str) -> list[int]:
    """Enrolled trainees of ``program_id`` without a current certificate, in id order."""
    current = sa.select(Certificate.trainee_id).where(Certificate.program_id == program_id,
                                                      Certificate.is_current.is_(True))
    return list(db.session.execute(
        sa.select(Enrollment.user_id).where(Enrollment.program_id == program_id, Enrollment.user_id.not_in(current))
        .order_by(Enrollment.user_id)).scalars())


def _holder(td: TraineeDecision) -> tuple[str, str, str, str] | None:
    # The facts already carry the profile's printed details (no extra query per trainee).
    f = td.facts
    if not (f.profession and f.license_number and f.jurisdiction):
        return None
    return (f.name, f.profession, f.license_number, f.jurisdiction)


def _jobs(ids: list[int], program: Program, on: date, result: CohortResult) -> Iterator[_Job]:
    """The batch's eligible trainees as render jobs (evaluated with a constant number of queries)."""
    design = current_app.config["CERTIFICATE_DESIGN"]
    set_write_intent(False)  # evaluation only reads: do not hold SQLite's write lock meanwhile
    db.session.commit()
    eligible = []
    for td in decisions_for(ids, program.id, on):
        holder = _holder(td)
        if td.decision is None or not td.decision.eligible or holder is None:
            result.not_eligible += 1
            continue
        eligible.append((td, holder))
    indexes = _free_status_indexes(len(eligible))
    for (td, holder), status_index in zip(eligible, indexes, strict=True):
        standard = td.standard.data
        serial = new_serial()
        expires_on = add_months(on, int(standard.get("validity", {}).get("months", 24)))
        endorsements = list(td.decision.endorsements)
        context = build_pdf_context(
            serial=serial, holder_name=holder[0], profession=holder[1], license_number=holder[2],
            jurisdiction=holder[3], program_title=program.title, endorsements=endorsements, standard=standard,
            notices=[str(n) for n in td.decision.notices][:4], issued_on=on, expires_on=expires_on,
            locale=certificate_language(td.user))
        credential_args = dict(serial=serial, holder_name=holder[0], holder_id=td.user.id,
                               program_title=program.title, standard=standard, endorsements=endorsements,
                               issued_on=on, expires_on=expires_on, status_index=status_index)
        yield _Job(td.user.id, td.standard.id, tuple(endorsements), holder, context, design, credential_args)
    db.session.commit()  # end the read transaction before rendering


def _store(rendered: list[tuple[_Job, bytes, dict]], program_id: str, actor_id: int, on: date,
           result: CohortResult) -> None:
    """Re-check and store one group of rendered certificates in one transaction."""
    set_write_intent(True)  # SQLite: BEGIN IMMEDIATE, so the re-check and the insert see the same state
    db.session.commit()
    ids = [job.trainee_id for job, _pdf, _cred in rendered]
    for trainee_id in sorted(ids):  # a fixed order, so two issuers never wait on each other's locks
        advisory_lock(db.session, f"cert:{trainee_id}")
    holding = set(db.session.execute(
        sa.select(Certificate.trainee_id).where(Certificate.trainee_id.in_(ids), Certificate.program_id == program_id,
                                                Certificate.is_current.is_(True))).scalars())
    now = {td.user.id: td for td in decisions_for(ids, program_id, on)}
    for job, pdf, credential in rendered:
        td = now.get(job.trainee_id)
        why = None
        if job.trainee_id in holding:
            why = "already holds a current certificate"
        elif td is None or td.decision is None or not td.decision.eligible:
            why = "no longer eligible"
        elif td.standard.id != job.standard_version_id or tuple(td.decision.endorsements) != job.endorsements:
            why = "standard or endorsements changed while rendering"
        elif _holder(td) != job.holder:
            why = "profile changed while rendering"
        if why:
            result.skipped.append((job.trainee_id, why))
            continue
        serial = job.context["serial"]
        cert = Certificate(
            serial=serial, trainee_id=job.trainee_id, program_id=program_id, standard_version_id=td.standard.id,
            is_current=True, holder_name=job.holder[0], profession=job.holder[1], license_number=job.holder[2],
            jurisdiction=job.holder[3], endorsements=list(job.endorsements), issued_on=on,
            expires_on=job.context["expires_on"], evidence=evidence_snapshot(td), design=job.design,
            pdf_sha256=hashlib.sha256(pdf).hexdigest(), pdf_bytes=pdf, credential=credential,
            status_index=job.credential_args["status_index"], issued_by_id=actor_id)
        try:
            with db.session.begin_nested():
                db.session.add(cert)
        except IntegrityError:
            # Another issuer won the trainee (partial unique index) or the status index: nothing stored.
            result.skipped.append((job.trainee_id, "issued elsewhere at the same moment"))
            continue
        audit.record("certificate.issue", "certificate", serial, actor=actor_id, trainee=job.trainee_id,
                     endorsements=list(job.endorsements), sha256=cert.pdf_sha256, renews=None, cohort=True)
        notify(td.user, "certificate.issued", cert)
        result.issued.append(serial)
    db.session.commit()
    db.session.expunge_all()


def issue_batch(program_id: str, trainee_ids: list[int], actor_id: int, on_iso: str) -> dict:
    """The queued job: evaluate, render, sign and store certificates for one batch of trainees.

    Returns plain data (serials issued, how many were not eligible, what was skipped and why) for the caller."""
    program = db.session.get(Program, program_id)
    if program is None:
        raise ValueError(f"No program {program_id!r}.")
    on = date.fromisoformat(on_iso)
    result = CohortResult(workers=1)
    group: list[tuple[_Job, bytes, dict]] = []
    for job in list(_jobs(trainee_ids, program, on, result)):
        group.append(_render_job(job))
        if len(group) >= WRITE_BATCH:
            _store(group, program_id, actor_id, on, result)
            group = []
    if group:
        _store(group, program_id, actor_id, on, result)
    return {"issued": result.issued, "not_eligible": result.not_eligible, "skipped": result.skipped}


def _first_eligible(ids: list[int], program_id: str, on: date, limit: int) -> tuple[list[int], int]:
    """The first ``limit`` eligible trainees among ``ids`` (and how many were looked at and found not eligible)."""
    found: list[int] = []
    not_eligible = 0
    for start in range(0, len(ids), EVALUATE_BATCH):
        for td in decisions_for(ids[start:start + EVALUATE_BATCH], program_id, on):
            if td.decision is not None and td.decision.eligible and _holder(td) is not None:
                found.append(td.user.id)
                if len(found) >= limit:
                    return found, not_eligible
            else:
                not_eligible += 1
        db.session.commit()
        db.session.expunge_all()
    return found, not_eligible


def issue_cohort(program_id: str, *, actor, limit: int | None = None, on: date | None = None,
                 echo: Callable[[str], None] | None = None, batch_size: int = JOB_BATCH) -> CohortResult:
    """Issue a certificate to every eligible trainee of ``program_id`` who has no current one (at most ``limit``).

    Queues one job per ``batch_size`` trainees and waits for them (with ``REDIS_URL``: on the queue workers; without:
    here, one after another). Commits as it goes. Returns the serials issued, how many were not eligible and what
    was skipped (with why).
    """
    from lms import jobs

    started = time.perf_counter()
    actor_id = actor.id  # the session is emptied between batches
    program = db.session.get(Program, program_id)
    if program is None:
        raise ValueError(f"No program {program_id!r}. Load the courses first.")
    on = on or today()
    echo = echo or (lambda _m: None)
    result = CohortResult()
    # Generate development keys here, once, so two jobs never race to create them.
    keys.signing_material()
    keys.credential_key_seed()
    ids = candidate_ids(program_id)
    revoked = revoked_holders(program_id)  # revocation is sticky: reissue only explicitly, with a reason
    result.skipped.extend((tid, why) for tid, why in revoked.items() if tid in set(ids))
    ids = [i for i in ids if i not in revoked]
    echo(f"{len(ids)} trainees without a current certificate in {program_id}")
    if limit is not None:
        ids, result.not_eligible = _first_eligible(ids, program_id, on, limit)
    db.session.commit()  # end the read transaction before the long render phase
    queued = jobs.mode(current_app) == "rq"
    result.workers = jobs.worker_count(current_app) if queued else 1
    batches = [ids[i:i + batch_size] for i in range(0, len(ids), batch_size)]
    if queued:
        refs = [jobs.enqueue("lms.certificates.cohort.issue_batch", program_id, batch, actor_id, on.isoformat())
                for batch in batches]
        echo(f"queued {len(refs)} batch job(s) for {result.workers} queue worker(s)")
        outcomes = (ref.wait() for ref in refs)
    else:
        outcomes = (issue_batch(program_id, batch, actor_id, on.isoformat()) for batch in batches)
    for done, outcome in enumerate(outcomes, start=1):
        result.issued += outcome["issued"]
        result.not_eligible += outcome["not_eligible"]
        result.skipped += [tuple(s) for s in outcome["skipped"]]
        if done % 5 == 0 or done == len(batches):
            echo(f"  {len(result.issued)} issued after {time.perf_counter() - started:.1f} s")
    result.seconds = time.perf_counter() - started
    return result
