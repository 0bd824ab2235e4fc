"""Commands: ``flask --app lms worker`` (the queue worker) and ``flask --app lms jobs ...`` (scheduled work).

The worker is RQ's ``SimpleWorker`` inside one app context: it runs each job in its own process (no fork per job, so
the imported app, the fonts and the signing keys stay loaded), with a fresh database session per job
(:func:`lms.jobs.run`). Run as many as the machines have cores to spare; each takes one job at a time. It also runs
RQ's scheduler, which starts the nightly status-list refresh (:func:`lms.jobs.tasks.refresh_status_list`).
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from lms import jobs


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty (tests, one-off runs).")
@click.option("--name", default=None, help="Worker name (default: host and process id).")
@with_appcontext
def worker(burst: bool, name: str | None):
    """Run a job-queue worker (needs REDIS_URL): cohort issuance, exports, emails, the nightly refresh."""
    from rq import SimpleWorker

    from lms.extensions import db

    app = current_app._get_current_object()
    if not app.config.get("REDIS_URL"):
        raise click.ClickException("REDIS_URL is not set: without it jobs run in the app's own process and no "
                                   "worker is needed.")
    db.session.remove()
    db.engine.dispose()  # connections are opened by the jobs, in this process
    queue = jobs.queue_for(app)
    from lms.jobs.tasks import schedule_nightly

    schedule_nightly(app)
    w = SimpleWorker([queue], connection=jobs.redis_connection(app), name=name)
    click.echo(f"worker {w.name} listening on queue {queue.name!r}" + (" (burst)" if burst else ""))
    w.work(burst=burst, with_scheduler=True, logging_level="WARNING")
    click.echo(f"worker {w.name} stopped")


jobs_cli = click.Group("jobs", help="Background jobs run now (cron without a queue) or queued.")


@jobs_cli.command("refresh-status-list")
@with_appcontext
def refresh_status_list_cmd():
    """Re-sign the public revocation status list for today and put it in the cache."""
    out = jobs.run("lms.jobs.tasks.refresh_status_list")  # the same function the nightly job runs
    click.echo(f"status list refreshed: {out['revoked']} revoked, valid from {out['valid_from']}")


def register(app) -> None:
    app.cli.add_command(worker)
    app.cli.add_command(jobs_cli)
