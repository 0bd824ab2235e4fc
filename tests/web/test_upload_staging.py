"""Uploads leave no orphans: staged until the commit, removed when the request fails; the sweep; private folders."""

from __future__ import annotations

import io
import os
import shutil
import stat
import time
from datetime import date

import pytest
import sqlalchemy as sa

from lms.core.storage import S3Store
from lms.core.uploads import store_upload
from lms.extensions import db
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
        import boto3

        client = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                              aws_access_key_id="orocert-test", aws_secret_access_key="orocert-test-secret")
        for _ in range(100):
            try:
                client.create_bucket(Bucket="evidence")
                break
            except Exception:  # noqa: BLE001 - the server is still starting
                time.sleep(0.1)
        store = S3Store("evidence", client=client)
        store.stage("c" * 32 + ".pdf", PDF_BYTES)
        assert [n for n, _age in store.staged()] == ["c" * 32 + ".pdf"]
        assert not store.exists("c" * 32 + ".pdf")
        store.promote("c" * 32 + ".pdf")
        assert list(store.staged()) == []
        assert store.open("c" * 32 + ".pdf").read() == PDF_BYTES
        assert list(store.names()) == ["c" * 32 + ".pdf"]
        store.stage("d" * 32 + ".pdf", PDF_BYTES)
        store.discard("d" * 32 + ".pdf")
        assert list(store.staged()) == []
        with pytest.raises(FileNotFoundError):
            store.open("d" * 32 + ".pdf")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
