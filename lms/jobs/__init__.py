"""Background jobs: RQ over Redis when ``REDIS_URL`` is set, the same jobs in-process otherwise.

A job is a plain function named by its dotted path (``"lms.jobs.tasks.export_cohort_csv"``) taking plain arguments
(ids, strings, numbers), so it can be queued by one instance and run by a worker on another. Call :func:`enqueue`
*after* the transaction that asked for the work has committed, so the worker sees what the request wrote.

Where the job runs, by ``JOBS_MODE`` (default: ``"rq"`` when ``REDIS_URL`` is set, ``"thread"`` otherwise):

- ``"rq"``: on the Redis queue ``orocert``, run by ``flask --app lms worker`` on any machine that shares the database;
- ``"thread"``: in a background thread of this process, one job at a time (the embedded default: ``make run`` needs
  nothing else);
- ``"eager"``: at once, in the caller (tests, and CLI commands that wait for the result anyway).

Every job runs inside an app context with a fresh database session, which is removed when the job ends; a job that
raises leaves nothing half-written, because it commits only what it finished.
"""

from __future__ import annotations

import contextvars
import logging
import os
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from flask import Flask, current_app
from werkzeug.utils import import_string

log = logging.getLogger(__name__)

QUEUE_NAME = "orocert"
DEFAULT_TIMEOUT = 3600  # seconds a job may run before the worker stops it
RESULT_TTL = 86400  # seconds a finished job's result is kept in Redis


@dataclass
class JobRef:
    id: str
    mode: str
    future: Future | None = None  # thread mode
    result: object = None  # eager mode

    def wait(self, timeout: float | None = None, app: Flask | None = None) -> object:
        """Wait for the job and return its result (raises what the job raised)."""
        if self.mode == "eager":
            return self.result
        if self.mode == "thread":
            return self.future.result(timeout)
        return wait_rq(app or current_app, self.id, timeout)


def mode(app: Flask) -> str:
    chosen = app.config.get("JOBS_MODE")
    if chosen:
        return chosen
    return "rq" if app.config.get("REDIS_URL") else "thread"


def redis_connection(app: Flask):
    conn = app.extensions.get("orocert_redis")
    if conn is None:
        import redis

        conn = app.extensions["orocert_redis"] = redis.Redis.from_url(app.config["REDIS_URL"])
    return conn


def queue_for(app: Flask):
    from rq import Queue

    name = app.config.get("JOBS_QUEUE") or os.environ.get("JOBS_QUEUE") or QUEUE_NAME
    return Queue(name, connection=redis_connection(app), default_timeout=DEFAULT_TIMEOUT)


def run(func_path: str, *args, **kwargs):
    """Run one job in the current app context with a clean session (what the worker and the thread both call)."""
    from lms.core.database import set_write_intent
    from lms.extensions import db

    func = import_string(func_path)
    set_write_intent(True)  # jobs write: SQLite transactions start with BEGIN IMMEDIATE
    try:
        return func(*args, **kwargs)
    except BaseException:
        db.session.rollback()
        raise
    finally:
        db.session.remove()
        set_write_intent(False)


def enqueue(func_path: str, *args, retries: int = 0, timeout: int = DEFAULT_TIMEOUT, **kwargs) -> JobRef:
    """Queue ``func_path(*args, **kwargs)``; returns a :class:`JobRef`.

    ``retries``: how many times a failed job is tried again (RQ waits 10 s, 60 s, then 5 min between tries; the
    in-process modes try again at once). Notifications, exports and issuance all queue their work through here.
    """
    import_string(func_path)  # a typo fails here, in the caller, not later in a worker
    app = current_app._get_current_object()
    chosen = mode(app)
    if chosen == "rq":
        from rq import Retry

        retry = Retry(max=retries, interval=[10, 60, 300][:retries] or 10) if retries else None
        job = queue_for(app).enqueue(run, func_path, *args, **kwargs, job_timeout=timeout, result_ttl=RESULT_TTL,
                                     failure_ttl=7 * 86400, retry=retry)
        return JobRef(job.id, chosen)
    if chosen == "eager":
        # Its own app context (so its own database session) and its own copy of the context variables, so the job
        # neither ends nor changes the caller's transaction.
        result = contextvars.copy_context().run(_with_retries, app, retries, func_path, args, kwargs)
        return JobRef(uuid.uuid4().hex, chosen, result=result)
    return JobRef(uuid.uuid4().hex, chosen,
                  future=_executor(app).submit(_with_retries, app, retries, func_path, args, kwargs))


def _with_retries(app: Flask, retries: int, func_path: str, args, kwargs):
    for attempt in range(retries + 1):
        try:
            with app.app_context():
                return run(func_path, *args, **kwargs)
        except Exception:
            log.exception("job %s failed (attempt %d of %d)", func_path, attempt + 1, retries + 1)
            if attempt == retries:
                raise
    return None


_executor_lock = threading.Lock()


def _executor(app: Flask) -> ThreadPoolExecutor:
    with _executor_lock:
        pool = app.extensions.get("orocert_jobs")
        if pool is None:
            pool = app.extensions["orocert_jobs"] = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jobs")
        return pool


def wait_rq(app: Flask, job_id: str, timeout: float | None = None):
    """Wait for a queued job to finish; return its result, or raise RuntimeError if it failed."""
    import time

    from rq.job import Job, JobStatus

    job = Job.fetch(job_id, connection=redis_connection(app))
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        status = job.get_status(refresh=True)
        if status == JobStatus.FINISHED:
            return job.return_value()
        if status in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED):
            info = job.latest_result()
            raise RuntimeError(f"job {job_id} {status}: {info.exc_string if info else ''}".strip())
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} still {status} after {timeout} s")
        time.sleep(0.1)


def worker_count(app: Flask) -> int:
    """How many queue workers are listening on the app's queue right now (at least 1, for messages)."""
    from rq import Worker

    return max(1, Worker.count(queue=queue_for(app)))
