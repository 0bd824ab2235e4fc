"""The jobs themselves. Each takes plain arguments and runs in an app context (see :mod:`lms.jobs`)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

log = logging.getLogger(__name__)

NIGHTLY_HOUR_UTC = 2  # the status-list refresh runs at 02:00 UTC


def export_cohort_csv(export_id: int) -> dict:
    """Write the cohort CSV of a requested export into the database (every instance can then serve it)."""
    from lms.admin.exports import build_export

    return build_export(export_id)


def refresh_status_list(schedule_next: bool = False) -> dict:
    """Sign today's revocation status list and put it in the shared cache, so no visitor waits for the signature."""
    from flask import current_app

    from lms.certificates.status_list import document

    now = datetime.now(UTC)
    _body, _etag, revoked = document(now)
    if schedule_next:
        schedule_nightly(current_app._get_current_object(), after=now)
    return {"revoked": revoked, "valid_from": now.date().isoformat()}


def next_nightly(after: datetime) -> datetime:
    run = after.replace(hour=NIGHTLY_HOUR_UTC, minute=0, second=0, microsecond=0)
    return run if run > after else run + timedelta(days=1)


def schedule_nightly(app, after: datetime | None = None) -> str | None:
    """Put the next nightly refresh on the queue's schedule (RQ's scheduler runs it). Idempotent: the job id names
    the night, so several workers starting at once schedule it once."""
    from lms import jobs

    if jobs.mode(app) != "rq":
        return None
    from rq import Retry
    from rq.job import Job
    from rq.registry import ScheduledJobRegistry

    when = next_nightly(after or datetime.now(UTC))
    queue = jobs.queue_for(app)
    job_id = f"{queue.name}-status-list-refresh-{when:%Y%m%d}"
    if job_id in ScheduledJobRegistry(queue=queue).get_job_ids():
        return job_id
    try:
        Job.fetch(job_id, connection=jobs.redis_connection(app))
        return job_id  # already queued, running or done
    except Exception:  # noqa: S110 - not there yet: schedule it below
        pass
    queue.enqueue_at(when, jobs.run, "lms.jobs.tasks.refresh_status_list", True, job_id=job_id,
                     retry=Retry(max=3, interval=[60, 300, 900]), result_ttl=jobs.RESULT_TTL)
    return job_id
