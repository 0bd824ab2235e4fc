"""The job queue: real RQ workers (``flask --app lms worker``) against the machine's Redis, and the in-process modes
that the embedded default uses. Each test uses its own queue name on Redis database 4, so nothing is shared with
other runs."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from lms.extensions import db
from tests.factories import PASSWORD, create_user

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/4")


def redis_or_skip() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is required in CI: {exc}")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: {exc}")


@pytest.fixture
def queue_name():
    redis_or_skip()
    name = f"orocert-test-{uuid.uuid4().hex[:10]}"
    yield name
    import redis

    conn = redis.Redis.from_url(REDIS_URL)
    for key in conn.scan_iter(f"rq:*{name}*"):
        conn.delete(key)


@pytest.fixture
def queued_app(make_app, queue_name):
    """An app whose jobs go on a real Redis queue (nothing runs them until a worker starts)."""
    return make_app(REDIS_URL=REDIS_URL, JOBS_MODE="rq", JOBS_QUEUE=queue_name,
                    CACHE_KEY_PREFIX=f"orocert-test:{queue_name}:")


def _worker_env(app, queue_name: str, signing_config: dict) -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT), "LMS_CONFIG": "development",
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "REDIS_URL": REDIS_URL, "JOBS_QUEUE": queue_name,
            "LMS_INSTANCE_PATH": str(app.config["INSTANCE_PATH"]), "PUBLIC_BASE_URL": app.config["PUBLIC_BASE_URL"],
            **signing_config}


def _worker(app, queue_name, signing_config, *args):
    return [sys.executable, "-m", "flask", "--app", "lms", "worker", *args], _worker_env(app, queue_name,
                                                                                          signing_config)


def _run_burst_worker(app, queue_name, signing_config) -> str:
    cmd, env = _worker(app, queue_name, signing_config, "--burst")
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


def _cohort(app, size: int = 12):
    from lms.scale import build_population
    from lms.standards.operations import load_standard
    from lms.training.content import load_all

    with app.test_request_context():
        _loaded, errors = load_all(app.config["COURSES_DIR"])
        assert not errors, errors
        load_standard(app.config["COURSES_DIR"] / "omr" / "standard.yaml")
        build_population(size, seed=size)
        create_user("admin", email="exports@example.test")
        db.session.commit()


def _admin(app):
    client = app.test_client()
    assert client.post("/login", data={"email": "exports@example.test", "password": PASSWORD}).status_code == 302
    return client


def test_cohort_export_is_queued_then_built_by_a_real_worker(queued_app, queue_name, signing_config):
    from lms.admin.exports import ReportExport
    from lms.admin.reports import cohort_rows

    app = queued_app
    _cohort(app)
    admin = _admin(app)
    resp = admin.post("/admin/reports/exports", data={"program": "omr"})
    assert resp.status_code == 302
    with app.app_context():
        export = db.session.execute(sa.select(ReportExport)).scalar_one()
        assert export.status == "queued" and export.content is None  # the request only queued the work
        export_id = export.id
    page = admin.get("/admin/reports/exports").get_data(as_text=True)
    assert "Waiting to start" in page and 'http-equiv="refresh"' in page
    assert admin.get(f"/admin/reports/exports/{export_id}.csv").status_code == 404  # not ready yet

    out = _run_burst_worker(app, queue_name, signing_config)
    assert "listening on queue" in out

    with app.app_context():
        export = db.session.get(ReportExport, export_id)
        assert export.status == "ready", export.error
    page = admin.get("/admin/reports/exports").get_data(as_text=True)
    assert "Ready" in page and 'http-equiv="refresh"' not in page
    download = admin.get(f"/admin/reports/exports/{export_id}.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(download.get_data(as_text=True))))
    with app.test_request_context():
        expected = [r["trainee_id"] for r in cohort_rows("omr")]
    assert [int(r["trainee_id"]) for r in rows] == expected and rows
    assert export.rows == len(rows)


def test_cohort_issuance_runs_on_queue_workers(queued_app, queue_name, signing_config):
    from lms.certificates import keys
    from lms.certificates.cohort import candidate_ids
    from lms.certificates.models import Certificate
    from lms.certificates.signing import validate_pdf
    from lms.eligibility.service import decisions_for

    app = queued_app
    _cohort(app, 14)
    with app.test_request_context():
        eligible = {td.user.id for td in decisions_for(candidate_ids("omr")) if td.decision.eligible}
    assert len(eligible) >= 2
    cmd, env = _worker(app, queue_name, signing_config)
    workers = [subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
               for _ in range(2)]
    try:
        result = app.test_cli_runner().invoke(args=["certificates", "issue-cohort", "omr", "--batch-size", "2"])
    finally:
        for w in workers:
            w.terminate()
        logs = [w.communicate(timeout=60)[0] for w in workers]
    assert result.exit_code == 0, result.output + "\n".join(logs)
    assert f"issued {len(eligible)} certificates" in result.output
    assert "queued" in result.output
    with app.app_context():
        new = db.session.execute(sa.select(Certificate).where(Certificate.trainee_id.in_(eligible))).scalars().all()
        assert {c.trainee_id for c in new} == eligible
        roots = keys.signing_material().trust_roots
        assert all(validate_pdf(c.pdf_bytes, roots).valid for c in new)
    # Both workers stopped cleanly on SIGTERM.
    assert all("stopped" in log for log in logs), logs


def test_enqueue_runs_any_job_by_its_path_on_a_worker(queued_app, queue_name, signing_config):
    from lms import jobs

    app = queued_app
    with app.app_context():
        ref = jobs.enqueue("lms.jobs.tasks.refresh_status_list")
        assert ref.mode == "rq"
        with pytest.raises(ImportError):
            jobs.enqueue("lms.jobs.tasks.no_such_job")
    _run_burst_worker(app, queue_name, signing_config)
    with app.app_context():
        out = ref.wait(timeout=10)
    assert out["revoked"] == 0 and out["valid_from"]


def test_worker_schedules_the_nightly_status_list_refresh_once(queued_app, queue_name, signing_config):
    from rq.registry import ScheduledJobRegistry

    from lms import jobs

    _run_burst_worker(queued_app, queue_name, signing_config)
    _run_burst_worker(queued_app, queue_name, signing_config)
    with queued_app.app_context():
        scheduled = ScheduledJobRegistry(queue=jobs.queue_for(queued_app)).get_job_ids()
    assert len(scheduled) == 1 and scheduled[0].startswith(f"{queue_name}-status-list-refresh-")


def test_worker_needs_redis(app):
    result = app.test_cli_runner().invoke(args=["worker", "--burst"])
    assert result.exit_code != 0 and "REDIS_URL" in result.output


def test_without_redis_jobs_run_in_a_background_thread(make_app):
    """The embedded default: the request returns at once and the export is built in this process."""
    from lms.admin.exports import ReportExport, queue_export, request_export

    app = make_app(JOBS_MODE=None)
    _cohort(app, 6)
    from lms import jobs

    with app.app_context():
        assert jobs.mode(app) == "thread"
        admin = db.session.execute(sa.select(db.metadata.tables["users"].c.id)
                                   .where(db.metadata.tables["users"].c.email == "exports@example.test")).scalar_one()
        from lms.auth.models import User

        export_id = request_export("omr", db.session.get(User, admin)).id
        db.session.commit()
        ref = queue_export(export_id)
        assert ref.mode == "thread"
        assert ref.wait(timeout=120)["status"] == "ready"
        assert db.session.get(ReportExport, export_id).rows > 0


def _requested_export(program_id: str):
    from lms.admin.exports import request_export
    from lms.auth.models import User

    user = create_user("admin", email="exports@example.test")
    db.session.commit()
    export_id = request_export(program_id, db.session.get(User, user.id)).id
    db.session.commit()  # ends the transaction: the job writes in its own
    return export_id


def test_a_failing_export_is_marked_failed_with_the_reason(make_app, monkeypatch):
    from lms.admin import reports
    from lms.admin.exports import ReportExport, queue_export

    def broken(_program_id, batch_size=500):
        yield "trainee_id\n"
        raise RuntimeError("the database went away")

    monkeypatch.setattr(reports, "cohort_csv", broken)
    app = make_app()
    with app.app_context():
        export_id = _requested_export("omr")
        with pytest.raises(RuntimeError):
            queue_export(export_id)  # eager in tests: runs here, and the job's error reaches the caller
        failed = db.session.get(ReportExport, export_id)
        assert failed.status == "failed" and "the database went away" in failed.error
        assert failed.content is None  # nothing half-written


def test_an_empty_cohort_is_an_empty_report(make_app):
    from lms.admin.exports import ReportExport, queue_export

    app = make_app()
    with app.app_context():
        export_id = _requested_export("no-such-program")
        ref = queue_export(export_id)
        assert ref.result["status"] == "ready" and ref.result["rows"] == 0
        assert db.session.get(ReportExport, export_id).content.startswith(b"trainee_id,")


def test_refresh_status_list_command(app, runner):
    result = runner.invoke(args=["jobs", "refresh-status-list"])
    assert result.exit_code == 0, result.output
    assert "status list refreshed: 0 revoked" in result.output


def test_large_cohort_csv_goes_to_the_background(make_app):
    app = make_app(REPORT_STREAM_LIMIT=5)
    _cohort(app, 12)
    admin = _admin(app)
    resp = admin.get("/admin/reports/cohort.csv")
    assert resp.status_code == 302 and "/admin/reports/exports" in resp.headers["Location"]
    assert "prepared in the background" in admin.get(resp.headers["Location"]).get_data(as_text=True)
