"""In-app notifications, email through an outbox, and time-based reminders.

Domain code calls ``notify(user, event, ...)`` right after the state change it reports; the notification and its
email are written in the same transaction. Mail leaves only after that transaction commits (``deliver_pending``).
"""

from lms.notifications.operations import muted, notify  # noqa: F401
