"""Where evidence files live: one interface, a local folder (default) or an S3-compatible object store.

Files are first *staged*, then *promoted* into place once the database transaction that refers to them has
committed (see lms.core.uploads). Staged files that were never promoted (a crash between the two) are removed by
``flask --app lms uploads sweep`` after a day.

Local folders are private to the app: folders 0700, files 0600.
"""

from __future__ import annotations

import io
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) readable by the app's user only."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    os.chmod(path, PRIVATE_DIR)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, as a file only the app's user can read."""
    tmp = path.with_name(path.name + ".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class EvidenceStore(ABC):
    """Stage, promote, read and list evidence files by their generated names."""

    @abstractmethod
    def stage(self, name: str, data: bytes) -> None: ...

    @abstractmethod
    def promote(self, name: str) -> None: ...

    @abstractmethod
    def discard(self, name: str) -> None:
        """Remove a staged file (missing is fine)."""

    @abstractmethod
    def open(self, name: str) -> BinaryIO:
        """The stored file for reading; FileNotFoundError when there is none."""

    @abstractmethod
    def names(self) -> Iterator[str]:
        """Names of every stored (promoted) file."""

    @abstractmethod
    def staged(self) -> Iterator[tuple[str, float]]:
        """(name, age in seconds) of every staged file."""

    def exists(self, name: str) -> bool:
        try:
            self.open(name).close()
        except FileNotFoundError:
            return False
        return True


class LocalStore(EvidenceStore):
    def __init__(self, instance_path: Path):
        self.root = Path(instance_path) / "uploads"
        self.staging = Path(instance_path) / "uploads.staging"

    def path(self, name: str) -> Path:
        from lms.core.uploads import UploadError

        base = private_dir(self.root).resolve()
        path = (base / name).resolve()
        if path.parent != base or name.startswith("."):
            raise UploadError("invalid file name")
        return path

    def stage(self, name: str, data: bytes) -> None:
        write_private(private_dir(self.staging) / name, data)

    def promote(self, name: str) -> None:
        os.replace(self.staging / name, self.path(name))

    def discard(self, name: str) -> None:
        (self.staging / name).unlink(missing_ok=True)

    def open(self, name: str) -> BinaryIO:
        return open(self.path(name), "rb")  # noqa: SIM115 - the caller closes it

    def names(self) -> Iterator[str]:
        if self.root.exists():
            yield from (p.name for p in self.root.iterdir() if p.is_file() and not p.name.endswith(".part"))

    def staged(self) -> Iterator[tuple[str, float]]:
        if self.staging.exists():
            now = time.time()
            for p in self.staging.iterdir():
                if p.is_file():
                    yield p.name, now - p.stat().st_mtime


class S3Store(EvidenceStore):
    """An S3-compatible bucket (AWS S3, MinIO, Ceph…): ``evidence/NAME`` when stored, ``staging/NAME`` before."""

    def __init__(self, bucket: str, *, endpoint_url: str | None = None, region: str | None = None,
                 access_key: str | None = None, secret_key: str | None = None, client=None):
        import boto3

        self.bucket = bucket
        self.client = client or boto3.client("s3", endpoint_url=endpoint_url, region_name=region or "us-east-1",
                                             aws_access_key_id=access_key, aws_secret_access_key=secret_key)

    def _missing(self, exc) -> bool:
        return exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound")

    def stage(self, name: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=f"staging/{name}", Body=data)

    def promote(self, name: str) -> None:
        self.client.copy_object(Bucket=self.bucket, Key=f"evidence/{name}",
                                CopySource={"Bucket": self.bucket, "Key": f"staging/{name}"})
        self.client.delete_object(Bucket=self.bucket, Key=f"staging/{name}")

    def discard(self, name: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=f"staging/{name}")

    def open(self, name: str) -> BinaryIO:
        from botocore.exceptions import ClientError

        try:
            obj = self.client.get_object(Bucket=self.bucket, Key=f"evidence/{name}")
        except ClientError as exc:
            if self._missing(exc):
                raise FileNotFoundError(name) from exc
            raise
        return io.BytesIO(obj["Body"].read())

    def _list(self, prefix: str):
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            yield from page.get("Contents", [])

    def names(self) -> Iterator[str]:
        for obj in self._list("evidence/"):
            yield obj["Key"].removeprefix("evidence/")

    def staged(self) -> Iterator[tuple[str, float]]:
        now = time.time()
        for obj in self._list("staging/"):
            yield obj["Key"].removeprefix("staging/"), now - obj["LastModified"].timestamp()


def store_for(app) -> EvidenceStore:
    """The app's evidence store, from EVIDENCE_STORE ("local", the default, or "s3" with the S3_* settings)."""
    store = app.extensions.get("evidence_store")
    if store is None:
        cfg = app.config
        if cfg.get("EVIDENCE_STORE", "local") == "s3":
            store = S3Store(cfg["S3_BUCKET"], endpoint_url=cfg.get("S3_ENDPOINT_URL"), region=cfg.get("S3_REGION"),
                            access_key=cfg.get("S3_ACCESS_KEY_ID"), secret_key=cfg.get("S3_SECRET_ACCESS_KEY"))
        else:
            store = LocalStore(cfg["INSTANCE_PATH"])
        app.extensions["evidence_store"] = store
    return store
