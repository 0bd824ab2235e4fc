"""Uploads leave no orphans: staged until the commit, removed when the request fails; the sweep; private folders."""

from __future__ import annotations

import io
import os
import secrets
import shutil
import stat
import time
from datetime import date

import pytest
import sqlalchemy as sa

from lms.core.storage import S3Store
from lms.core.uploads import store_upload
from lms.extensions import db
from lms.providers.models import EvidenceFile
from lms.renewal.models import ContinuingEducation
from tests.factories import PDF_BYTES, create_evidence, create_trainee, signed_in_client


def _files(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _ce(hours="2", token=None) -> dict:
    data = {"title": "Ethics", "provider": "P", "topic": "ethics", "hours": hours,
            "completed_on": date.today().isoformat(), "evidence": (io.BytesIO(PDF_BYTES), "ce.pdf")}
    if token:
        data["submission_token"] = token
    return data


@pytest.fixture
def trainee(ctx, program):
    create_trainee(email="uploader@example.test")
    db.session.commit()
    return signed_in_client(ctx, "uploader@example.test")


def test_rejected_ce_credit_leaves_no_file(ctx, trainee):
    uploads, staging = ctx.config["INSTANCE_PATH"] / "uploads", ctx.config["INSTANCE_PATH"] / "uploads.staging"
    before = _files(uploads)
    resp = trainee.post("/renewal/ce", data=_ce(hours="500"), content_type="multipart/form-data")
    assert resp.status_code == 422
    assert _files(uploads) == before
    assert _files(staging) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ContinuingEducation)) == 0


def test_accepted_upload_is_moved_into_place_after_commit_and_is_private(ctx, trainee):
    uploads, staging = ctx.config["INSTANCE_PATH"] / "uploads", ctx.config["INSTANCE_PATH"] / "uploads.staging"
    before = set(_files(uploads))
    resp = trainee.post("/renewal/ce", data=_ce(token="ce-form-token-0001"), content_type="multipart/form-data")
    assert resp.status_code == 302
    [new] = set(_files(uploads)) - before
    assert _files(staging) == []
    assert stat.S_IMODE((uploads / new).stat().st_mode) == 0o600
    assert stat.S_IMODE(uploads.stat().st_mode) == 0o700
    assert stat.S_IMODE(ctx.config["INSTANCE_PATH"].stat().st_mode) == 0o700

    # The same form sent again (the reply was lost): one credit, one file.
    again = trainee.post("/renewal/ce", data=_ce(token="ce-form-token-0001"), content_type="multipart/form-data")
    assert again.status_code == 302 and again.headers["Idempotent-Replayed"] == "true"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ContinuingEducation)) == 1
    assert set(_files(uploads)) - before == {new}
    assert _files(staging) == []


def test_a_failed_commit_removes_the_staged_file(ctx):
    db.session.execute(sa.select(1))  # a transaction is open, as in every request
    stored = store_upload(io.BytesIO(PDF_BYTES), "x.pdf", ctx.config["INSTANCE_PATH"], ctx.config["UPLOAD_MAX_BYTES"])
    staging = ctx.config["INSTANCE_PATH"] / "uploads.staging"
    assert _files(staging) == [stored.stored_name]
    assert not (ctx.config["INSTANCE_PATH"] / "uploads" / stored.stored_name).exists()
    db.session.rollback()
    assert _files(staging) == []
    assert not (ctx.config["INSTANCE_PATH"] / "uploads" / stored.stored_name).exists()


def test_sqlite_database_file_is_private(ctx):
    uri = ctx.config["SQLALCHEMY_DATABASE_URI"]
    if not uri.startswith("sqlite:///"):
        pytest.skip("PostgreSQL keeps its own files")
    assert stat.S_IMODE(os.stat(uri.removeprefix("sqlite:///")).st_mode) == 0o600


def test_sweep_removes_old_staged_files_and_reports_orphans(ctx, program, runner):
    user = create_trainee(email="sweep@example.test", enrolled=False)
    kept = create_evidence(user)
    lost = create_evidence(user)
    db.session.commit()
    inst = ctx.config["INSTANCE_PATH"]
    (inst / "uploads" / lost.stored_name).unlink()  # a row with no file
    orphan = inst / "uploads" / ("f" * 32 + ".pdf")
    orphan.write_bytes(PDF_BYTES)  # a file with no row
    staging = inst / "uploads.staging"
    staging.mkdir(exist_ok=True)
    old, fresh = staging / ("a" * 32 + ".pdf"), staging / ("b" * 32 + ".pdf")
    old.write_bytes(PDF_BYTES)
    fresh.write_bytes(PDF_BYTES)
    two_days_ago = time.time() - 2 * 86400
    os.utime(old, (two_days_ago, two_days_ago))

    result = runner.invoke(args=["uploads", "sweep"])
    assert result.exit_code == 0, result.output
    assert "removed 1 staged file(s)" in result.output
    assert f"file with no row: {orphan.name}" in result.output
    assert f"row with no file: {lost.stored_name}" in result.output
    assert kept.stored_name not in result.output
    assert not old.exists() and fresh.exists() and orphan.exists()  # orphans are reported, never deleted


NAME, OTHER = "c" * 32 + ".pdf", "d" * 32 + ".pdf"


def _exercise(store) -> None:
    """Stage, promote, read, list and discard through the store's interface."""
    store.stage(NAME, PDF_BYTES)
    assert [n for n, _age in store.staged()] == [NAME]
    assert not store.exists(NAME)
    store.promote(NAME)
    assert list(store.staged()) == []
    assert store.open(NAME).read() == PDF_BYTES
    assert list(store.names()) == [NAME]
    store.stage(OTHER, PDF_BYTES)
    store.discard(OTHER)
    assert list(store.staged()) == []
    with pytest.raises(FileNotFoundError):
        store.open(OTHER)


def _s3_client(endpoint: str, key: str = "orocert-test", secret: str = "orocert-test-secret"):
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key,
                        aws_secret_access_key=secret)


@pytest.fixture
def s3_server():
    """moto's standalone S3 server, over HTTP on a free port (an S3 implementation this project did not write)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    bucket = f"orocert-evidence-{secrets.token_hex(4)}"  # moto keeps buckets per process: a fresh one per test
    _s3_client(endpoint).create_bucket(Bucket=bucket)
    yield endpoint, bucket
    server.stop()


def test_s3_store_against_an_s3_server(s3_server):
    endpoint, bucket = s3_server
    _exercise(S3Store(bucket, client=_s3_client(endpoint)))


def test_web_uploads_go_to_the_s3_store_only_after_commit(make_app, program, s3_server):
    endpoint, bucket_name = s3_server
    app = make_app(EVIDENCE_STORE="s3", S3_BUCKET=bucket_name, S3_ENDPOINT_URL=endpoint,
                   S3_ACCESS_KEY_ID="orocert-test", S3_SECRET_ACCESS_KEY="orocert-test-secret")
    bucket = _s3_client(endpoint)
    with app.app_context():
        create_trainee(email="s3@example.test")
        db.session.commit()
    client = signed_in_client(app, "s3@example.test")

    def keys():
        return sorted(o["Key"] for o in bucket.list_objects_v2(Bucket=bucket_name).get("Contents", []))

    before = keys()  # the trainee's OMT credential evidence, stored when the fixture committed
    assert [k.split("/")[0] for k in before] == ["evidence"]
    assert client.post("/renewal/ce", data=_ce(hours="500"), content_type="multipart/form-data").status_code == 422
    assert keys() == before  # the rejected upload left nothing, staged or stored
    assert client.post("/renewal/ce", data=_ce(), content_type="multipart/form-data").status_code == 302
    [key] = set(keys()) - set(before)
    assert key.startswith("evidence/")
    with app.app_context():
        name = key.removeprefix("evidence/")
        ev_id = db.session.execute(sa.select(EvidenceFile.id).filter_by(stored_name=name)).scalar_one()
    download = client.get(f"/evidence/{ev_id}")
    assert download.status_code == 200 and download.data == PDF_BYTES


def _minio():
    binary = os.environ.get("MINIO_BINARY") or shutil.which("minio")
    if not binary:
        pytest.skip("no MinIO server binary (set MINIO_BINARY or put `minio` on PATH): PyPI, Debian and npm, the only "
                    "registries this machine reaches, do not ship the MinIO server")
    return binary


def test_s3_store_against_a_real_minio_server(tmp_path):
    import socket
    import subprocess

    binary = _minio()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "MINIO_ROOT_USER": "orocert-test", "MINIO_ROOT_PASSWORD": "orocert-test-secret"}
    proc = subprocess.Popen([binary, "server", str(tmp_path / "data"), "--address", f"127.0.0.1:{port}"],  # noqa: S603
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = _s3_client(f"http://127.0.0.1:{port}")
        for _ in range(100):
            try:
                client.create_bucket(Bucket="orocert-evidence")
                break
            except Exception:  # noqa: BLE001 - the server is still starting
                time.sleep(0.1)
        _exercise(S3Store("orocert-evidence", client=client))
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_seeded_population_has_a_file_for_every_evidence_row(ctx, runner, program):
    result = runner.invoke(args=["seed-scale", "--trainees", "20"])
    assert result.exit_code == 0, result.output
    sweep = runner.invoke(args=["uploads", "sweep", "--dry-run"])
    assert sweep.exit_code == 0, sweep.output
    assert "would remove 0 staged file(s)" in sweep.output
    assert "0 file(s) with no row, 0 row(s) with no file" in sweep.output
    assert _files(ctx.config["INSTANCE_PATH"] / "uploads.staging") == []
