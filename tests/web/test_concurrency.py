"""Issuance under concurrency: ten callers at once get one certificate, never a duplicate or "database is locked".

Runs against the test database: a file-backed SQLite database in WAL mode (write transactions BEGIN IMMEDIATE), or
PostgreSQL when TEST_DATABASE_URL is set. Each thread works in its own application context, so it has its own
session and connection, as separate requests or processes would.
"""

from __future__ import annotations

import re
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from lms.extensions import db
from tests.web.test_certificates import SERIAL_RE, admin_user, client_for, issue, qualified_trainee, refresh

THREADS = 10


def run_together(fn, count=THREADS):
    """Call ``fn(i)`` from ``count`` threads released at the same moment; return (results, formatted errors)."""
    barrier = threading.Barrier(count)

    def call(i):
        barrier.wait(timeout=60)
        try:
            return fn(i), None
        except BaseException:  # every failure is reported, including "database is locked"
            return None, traceback.format_exc()

    with ThreadPoolExecutor(max_workers=count) as pool:
        outcomes = list(pool.map(call, range(count)))
    return [r for r, _ in outcomes], [e for _, e in outcomes if e]


def certificate_count() -> int:
    from lms.certificates.models import Certificate

    refresh()
    return db.session.execute(sa.select(sa.func.count(Certificate.id))).scalar_one()


def assert_audit_chain_intact():
    from lms.core.audit import verify_chain

    refresh()
    report = verify_chain(db.session)
    assert report.ok, report.message


def test_ten_threads_issuing_at_once_get_one_certificate(ctx, make_app, program):
    from lms.auth.models import User
    from lms.certificates.issuing import issue_certificate
    from lms.core.database import set_write_intent

    trainee_id = qualified_trainee().id
    admin_id = admin_user().id
    db.session.commit()
    # Half the threads use a second app instance (its own engine and pool), like a second server process.
    apps = [ctx, make_app()]

    def issue_in_thread(i):
        with apps[i % 2].app_context():
            set_write_intent(True)  # a context variable: each thread sets its own before its first query
            try:
                trainee = db.session.get(User, trainee_id)
                result = issue_certificate(trainee, actor=db.session.get(User, admin_id))
                db.session.commit()
                return result.certificate.serial, result.created
            finally:
                db.session.rollback()

    results, errors = run_together(issue_in_thread)
    assert not errors, "\n".join(errors)
    serials = {serial for serial, _ in results}
    assert len(serials) == 1 and SERIAL_RE.match(serials.pop())
    assert sum(created for _, created in results) == 1
    assert certificate_count() == 1
    assert_audit_chain_intact()


def test_ten_admin_clicks_at_once_issue_one_certificate(ctx, program):
    trainee_id = qualified_trainee().id
    admin_user()
    db.session.commit()
    clients = [client_for(ctx, "admin@example.test") for _ in range(THREADS)]

    def click(i):
        resp = clients[i].post(f"/admin/trainees/{trainee_id}/issue", follow_redirects=True)
        assert resp.status_code == 200, resp.status_code
        text = resp.get_data(as_text=True)
        issued = re.findall(r"Certificate (OFM-[0-9A-Z-]+) issued\.", text)
        existing = re.findall(r"already holds current certificate (OFM-[0-9A-Z-]+)\.", text)
        assert len(issued) + len(existing) == 1, text[-2000:]
        return (issued or existing)[0], bool(issued)

    results, errors = run_together(click)
    assert not errors, "\n".join(errors)
    assert len({serial for serial, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert certificate_count() == 1
    assert_audit_chain_intact()


def test_verifications_under_load_all_succeed_and_are_all_logged(ctx, program):
    """Every verification reads and then writes its log row; concurrent ones must neither fail nor be lost."""
    from lms.certificates.models import VerificationEvent
    from tests.factories import create_user

    serial = issue(qualified_trainee()).serial
    create_user("board", email="board@example.test")
    db.session.commit()
    per_thread = 4
    clients = [client_for(ctx, "board@example.test" if i % 2 else None) for i in range(THREADS)]

    def verify(i):
        statuses = []
        for n in range(per_thread):
            if n % 2:
                statuses.append(clients[i].get(f"/api/v1/certificates/{serial}").status_code)
            else:
                statuses.append(clients[i].get(f"/verify/{serial}").status_code)
        return statuses

    results, errors = run_together(verify)
    assert not errors, "\n".join(errors)
    assert all(code == 200 for statuses in results for code in statuses), results
    from lms.certificates import verification_log

    verification_log.flush(ctx)  # anonymous checks are buffered by the app and written in batches
    refresh()
    logged = db.session.execute(sa.select(sa.func.count(VerificationEvent.id))).scalar_one()
    assert logged == THREADS * per_thread
    assert_audit_chain_intact()
