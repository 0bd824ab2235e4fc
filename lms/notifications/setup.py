"""Wire notifications into the app: mail, the after-request delivery hook, the blueprint and the commands."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from lms.notifications import delivery
    from lms.notifications.cli import notifications_cli
    from lms.notifications.views import bp

    delivery.init_app(app)
    app.register_blueprint(bp)
    app.cli.add_command(notifications_cli)
