"""A real SMTP server for the email tests: aiosmtpd on 127.0.0.1, on a free port, collecting what it receives."""

from __future__ import annotations

import email
import email.policy
import re
import socket
from dataclasses import dataclass

import pytest
from aiosmtpd.controller import Controller


@dataclass
class Received:
    rcpt: list[str]
    message: email.message.EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def part(self, content_type: str) -> str:
        body = self.message.get_body(preferencelist=(content_type.split("/")[1],))
        assert body is not None and body.get_content_type() == content_type, f"no {content_type} part"
        return body.get_content()

    @property
    def text(self) -> str:
        return self.part("text/plain")

    @property
    def html(self) -> str:
        return self.part("text/html")

    def link(self, path_fragment: str) -> str:
        """The first absolute link in the plain-text part whose path contains ``path_fragment``."""
        for url in re.findall(r"https?://\S+", self.text):
            if path_fragment in url:
                return url
        raise AssertionError(f"no link with {path_fragment!r} in:\n{self.text}")


class _Handler:
    def __init__(self):
        self.received: list[Received] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append(Received(list(envelope.rcpt_tos), msg))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpSink:
    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self._handler = _Handler()
        self._controller = Controller(self._handler, hostname="127.0.0.1", port=self.port)

    def start(self) -> SmtpSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    @property
    def messages(self) -> list[Received]:
        return self._handler.received

    def to(self, address: str) -> list[Received]:
        return [m for m in self.messages if address in m.rcpt]

    def clear(self) -> None:
        self._handler.received.clear()


@pytest.fixture
def smtp():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


def forget_cached_user(app) -> None:
    @app.teardown_request
    def _forget_cached_user(_exc):
        from flask import g

        g.pop("_login_user", None)


@pytest.fixture
def mail_app(make_app, smtp):
    """The app, sending through the test SMTP server (plain SMTP, as with MAIL_USE_TLS unset). Test modules use it as
    their ``app`` so that ``ctx``, ``client`` and ``program`` work unchanged."""
    # Tests that share the request's app context deliver explicitly; the after-request hook has a test of its own.
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, MAIL_DELIVER_AFTER_REQUEST=False)
    forget_cached_user(app)
    return app
