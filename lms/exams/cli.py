"""``flask exams sweep``: submit every sitting whose time has run out (run it from cron or the job queue)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from lms.core.database import set_write_intent
from lms.extensions import db

exams_cli = AppGroup("exams", help="The written exam.")


def sweep_job() -> int:
    """Job entry point: submit expired sittings and commit; returns how many were submitted."""
    from lms.exams.operations import sweep

    count = sweep()
    db.session.commit()
    return count


@exams_cli.command("sweep")
def sweep_cmd():
    """Submit every open sitting whose time limit has passed, scoring the answers saved in time."""
    set_write_intent(True)
    count = sweep_job()
    click.echo(f"submitted {count} expired {'sitting' if count == 1 else 'sittings'}")
