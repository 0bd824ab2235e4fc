"""A database outage is a 503 with Retry-After on every page, and the app serves again once the database is back.

These tests run their own PostgreSQL server (tests/pgserver.py) and crash it mid-request, never the shared one.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from flask import g

from config import TestingConfig
from lms import create_app
from lms.extensions import db
from tests.factories import create_user, page_text, signed_in_client
from tests.pgserver import ThrowawayPostgres

SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options",
                    "Cross-Origin-Opener-Policy", "Permissions-Policy")
HONEST = "could not confirm whether your last change was saved"

pytestmark = pytest.mark.postgres

# A well-formed serial that no certificate has: looking it up needs the database (a malformed one does not).
from lms.certificates.serials import new_serial as _new_serial  # noqa: E402

UNKNOWN = _new_serial()


@pytest.fixture
def pg():
    server = ThrowawayPostgres()
    server.start()
    yield server
    server.destroy()


@pytest.fixture
def outage_app(pg, tmp_path, signing_config):
    from flask_migrate import upgrade

    app = create_app(TestingConfig, INSTANCE_PATH=tmp_path / "instance", SQLALCHEMY_DATABASE_URI=pg.url,
                     **signing_config)
    app.crash_database_mid_request = False

    @app.before_request
    def _crash_after_user_loaded():
        # Runs after the session-timeout hook has loaded the signed-in user: the request holds a live connection.
        if app.crash_database_mid_request:
            app.crash_database_mid_request = False
            pg.stop()

    @app.teardown_request
    def _forget_cached_user(_exc):
        g.pop("_login_user", None)

    with app.app_context():
        upgrade()
        create_user("trainee", email="outage@example.test")
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _assert_unavailable(resp, *, json_expected: bool):
    assert resp.status_code == 503, resp.data[:300]
    assert int(resp.headers["Retry-After"]) > 0
    for header in SECURITY_HEADERS:
        assert header in resp.headers, header
    assert resp.headers["Cache-Control"] == "no-store"
    if json_expected:
        assert resp.is_json
        assert resp.get_json()["error"]["code"] == 503
        assert HONEST in resp.get_json()["error"]["message"]
    else:
        assert resp.mimetype == "text/html"
        text = page_text(resp)
        assert HONEST in text
        assert "Nothing was saved" not in text
        assert "Traceback" not in text


def test_database_crash_mid_request_is_503_and_the_app_recovers(outage_app, pg):
    trainee = signed_in_client(outage_app, "outage@example.test")
    anonymous = outage_app.test_client()
    assert trainee.get("/dashboard").status_code == 200

    # The server dies while a signed-in request is being served (its connection is cut under it).
    outage_app.crash_database_mid_request = True
    resp = trainee.get("/dashboard")
    _assert_unavailable(resp, json_expected=False)
    assert "Sign out" not in page_text(resp)  # the error page did not reload the user from the dead database

    # While it is down: signed-in pages and form posts, anonymous pages, and the JSON API.
    _assert_unavailable(trainee.get("/certificates"), json_expected=False)
    _assert_unavailable(trainee.post("/certificates/apply"), json_expected=False)
    _assert_unavailable(anonymous.get(f"/verify/{UNKNOWN}"), json_expected=False)
    _assert_unavailable(anonymous.get(f"/api/v1/certificates/{UNKNOWN}"), json_expected=True)
    _assert_unavailable(anonymous.get(f"/verify/{UNKNOWN}", headers={"Accept": "application/json"}),
                        json_expected=True)

    # The database comes back: the same app serves again, and the signed-in session still works.
    pg.start()
    assert trainee.get("/dashboard").status_code == 200
    assert anonymous.get(f"/api/v1/certificates/{UNKNOWN}").status_code == 404


def test_cli_command_on_an_unreachable_database_is_one_line_and_exit_1(tmp_path):
    with_dead_db = {**os.environ, "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none",
                    "LMS_INSTANCE_PATH": str(tmp_path / "instance")}
    with_dead_db.pop("LMS_TRACEBACK", None)
    proc = subprocess.run([sys.executable, "-m", "flask", "--app", "lms", "certificates", "list"],  # noqa: S603
                          capture_output=True, text=True, env=with_dead_db, timeout=120)
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("Error: the database could not be reached")
