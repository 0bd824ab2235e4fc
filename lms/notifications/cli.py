"""``flask --app lms notifications ...``: reminders for cron or the job queue, and outbox delivery."""

from __future__ import annotations

from datetime import date

import click
from flask.cli import AppGroup

from lms.core.database import set_write_intent
from lms.extensions import db

notifications_cli = AppGroup("notifications", help="Reminders and email delivery.")


@notifications_cli.command("send-due")
@click.option("--on", "on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Send what is due as of this date (YYYY-MM-DD; default: today, UTC).")
def send_due_cmd(on):
    """Send the time-based reminders due on a date, once each, then deliver the outbox."""
    from lms.core.timeutil import today
    from lms.notifications.delivery import deliver_pending
    from lms.notifications.reminders import send_due

    set_write_intent(True)
    day: date = on.date() if on else today()
    sent = send_due(day)
    db.session.commit()
    detail = ", ".join(f"{kind}: {n}" for kind, n in sorted(sent.items()))
    click.echo(f"{day.isoformat()}: {sum(sent.values())} reminder(s) sent" + (f" ({detail})" if detail else ""))
    click.echo(f"email: {deliver_pending()}")


@notifications_cli.command("deliver")
def deliver_cmd():
    """Send every queued email that is due (retries included)."""
    from lms.notifications.delivery import deliver_pending

    set_write_intent(True)
    click.echo(f"email: {deliver_pending()}")
