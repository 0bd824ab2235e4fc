"""Issuing certificates to a whole cohort, on every core: ``flask --app lms certificates issue-cohort PROGRAM``.

Rendering and signing a certificate is CPU work (WeasyPrint layout, the PAdES signature, the Open Badges proof); the
database work around it is small. So the parent process does everything that touches the database and worker
processes do only the CPU work:

1. The parent finds the enrolled trainees without a current certificate, evaluates them in batches (a constant number
   of queries per batch) and, for each eligible one, fixes the serial, the dates and the status-list index and builds
   the plain-data PDF context.
2. Worker processes (one per core by default) render, sign and build the signed credential. They never open a
   database connection; each has a minimal app context holding only the issuer configuration.
3. The parent writes the results a few at a time. Inside each write transaction it takes the per-trainee issuance
   lock, re-evaluates eligibility and re-reads the holder's details, and stores a certificate only when the trainee
   is still eligible for the same endorsements under the same standard, the printed details are unchanged and no
   current certificate exists. The partial unique index still guarantees one current certificate per trainee if an
   administrator issues one at the same moment. Anything that changed is skipped and reported; running the command
   again picks it up.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.exc import IntegrityError

from lms.certificates import keys, ob3
from lms.certificates.issuing import (
    add_months,
    build_pdf_context,
    build_signed_credential,
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

# Config keys a worker needs to render and sign (no database, no secrets beyond the key paths).
WORKER_CONFIG_KEYS = (
    "CERTIFICATE_DESIGNS_DIR", "CERTIFICATE_DESIGN", "ISSUER_NAME", "PUBLIC_BASE_URL", "INSTANCE_PATH",
    "GENERATE_DEV_KEYS", "SIGNING_CERT_PATH", "SIGNING_KEY_PATH", "SIGNING_CA_PATH", "SIGNING_KEY_PASSPHRASE",
    "CREDENTIAL_KEY_PATH",
)
EVALUATE_BATCH = 200  # trainees evaluated per round of queries
IN_FLIGHT_PER_WORKER = 16  # rendered-but-not-stored certificates allowed per worker (a few MB at most)
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
        return (f"issued {len(self.issued)} certificates in {self.seconds:.1f} s with {self.workers} worker "
                f"process(es) ({rate:.1f}/s); {self.not_eligible} not eligible; {len(self.skipped)} skipped")


@dataclass(frozen=True)
class _Job:
    trainee_id: int
    standard_version_id: int
    endorsements: tuple[str, ...]
    holder: tuple[str, str, str, str]  # legal name, profession, licence number, jurisdiction
    context: dict
    design: str
    credential_args: dict


# --------------------------------------------------------------------------- worker side (no database)

_worker_app: Flask | None = None


def _init_worker(config: dict) -> None:
    """Give the worker a minimal app context carrying only the issuer configuration."""
    global _worker_app
    _worker_app = Flask("lms-cohort-worker")
    _worker_app.config.update(config)
    _worker_app.app_context().push()


def _render_job(job: _Job) -> tuple[_Job, bytes, dict]:
    credential = build_signed_credential(**job.credential_args)
    pdf = render_and_sign(job.context, job.design, credential)
    return job, pdf, credential


# --------------------------------------------------------------------------- parent side


def _pool_context():
    """Fork when nothing else runs in this process (workers start at once, sharing the imported modules; they never
    use the inherited database connections); otherwise spawn fresh interpreters, which is always safe."""
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


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


def _jobs(ids: list[int], program: Program, on: date, taken: set[int], result: CohortResult,
          limit: int | None) -> Iterator[list[_Job]]:
    """Eligible trainees as render jobs, one list per evaluation batch (evaluated in the parent)."""
    design = current_app.config["CERTIFICATE_DESIGN"]
    planned = 0
    for start in range(0, len(ids), EVALUATE_BATCH):
        set_write_intent(False)  # evaluation only reads: do not hold SQLite's write lock meanwhile
        db.session.commit()
        batch = []
        for td in decisions_for(ids[start:start + EVALUATE_BATCH], program.id, on):
            if limit is not None and planned >= limit:
                break
            holder = _holder(td)
            if td.decision is None or not td.decision.eligible or holder is None:
                result.not_eligible += 1
                continue
            standard = td.standard.data
            serial = new_serial()
            expires_on = add_months(on, int(standard.get("validity", {}).get("months", 24)))
            endorsements = list(td.decision.endorsements)
            status_index = ob3.random_status_index(taken)
            taken.add(status_index)
            context = build_pdf_context(
                serial=serial, holder_name=holder[0], profession=holder[1], license_number=holder[2],
                jurisdiction=holder[3], program_title=program.title, endorsements=endorsements, standard=standard,
                notices=list(td.decision.notices)[:4], issued_on=on, expires_on=expires_on)
            credential_args = dict(serial=serial, holder_name=holder[0], holder_id=td.user.id,
                                   program_title=program.title, standard=standard, endorsements=endorsements,
                                   issued_on=on, expires_on=expires_on, status_index=status_index)
            batch.append(_Job(td.user.id, td.standard.id, tuple(endorsements), holder, context, design,
                              credential_args))
            planned += 1
        db.session.expunge_all()  # the batch's facts are no longer needed; keep the parent's memory flat
        if batch:
            yield batch
        if limit is not None and planned >= limit:
            return


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


def issue_cohort(program_id: str, *, actor, workers: int | None = None, limit: int | None = None,
                 on: date | None = None, echo: Callable[[str], None] | None = None) -> CohortResult:
    """Issue a certificate to every eligible trainee of ``program_id`` who has no current one (at most ``limit``).

    Renders and signs in ``workers`` processes (default: one per core); commits as it goes. Returns the serials
    issued, how many were not eligible and what was skipped (with why).
    """
    started = time.perf_counter()
    program = db.session.get(Program, program_id)
    if program is None:
        raise ValueError(f"No program {program_id!r}. Load the courses first.")
    on = on or today()
    echo = echo or (lambda _m: None)
    actor_id = actor.id
    result = CohortResult(workers=max(1, workers or os.cpu_count() or 1))
    # Generate development keys here, once, so two workers never race to create them.
    keys.signing_material()
    keys.credential_key_seed()
    config = {k: current_app.config.get(k) for k in WORKER_CONFIG_KEYS}
    ids = candidate_ids(program_id)
    revoked = revoked_holders(program_id)  # revocation is sticky: reissue only explicitly, with a reason
    result.skipped.extend((tid, why) for tid, why in revoked.items() if tid in set(ids))
    ids = [i for i in ids if i not in revoked]
    taken = set(db.session.execute(sa.select(Certificate.status_index)).scalars())
    db.session.commit()  # end the read transaction before the long render phase
    echo(f"{len(ids)} trainees without a current certificate in {program_id}")
    done: queue.Queue = queue.Queue()
    with _pool_context().Pool(result.workers, initializer=_init_worker, initargs=(config,)) as pool:
        jobs = (job for batch in _jobs(ids, program, on, taken, result, limit) for job in batch)
        in_flight, exhausted, group = 0, False, []
        while True:
            # Keep the workers fed while this process evaluates the next batch and stores finished certificates.
            while not exhausted and in_flight < IN_FLIGHT_PER_WORKER * result.workers:
                job = next(jobs, None)
                if job is None:
                    exhausted = True
                    break
                pool.apply_async(_render_job, (job,), callback=done.put, error_callback=done.put)
                in_flight += 1
            if in_flight == 0:
                break
            item = done.get()
            in_flight -= 1
            if isinstance(item, BaseException):
                raise item
            group.append(item)
            if len(group) >= WRITE_BATCH or (exhausted and in_flight == 0):
                _store(group, program_id, actor_id, on, result)
                group = []
                if len(result.issued) % 100 < WRITE_BATCH:
                    echo(f"  {len(result.issued)} issued after {time.perf_counter() - started:.1f} s")
        if group:
            _store(group, program_id, actor_id, on, result)
    result.seconds = time.perf_counter() - started
    return result
