"""Shared fixtures: a migrated database per test (SQLite file copy, or truncated PostgreSQL), the app, clients.

The database under test comes from TEST_DATABASE_URL (PostgreSQL) or is a fresh SQLite file. The schema always comes
from the Alembic migrations, never from ``create_all``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from config import TestingConfig
from lms import create_app
from lms.extensions import db as _db

BASE_PG_URL = os.environ.get("TEST_DATABASE_URL")
WORKER = os.environ.get("PYTEST_XDIST_WORKER")  # set when the suite runs in parallel (pytest -n)


def _worker_url(url: str | None) -> str | None:
    """Each parallel worker gets its own PostgreSQL database next to the configured one, created on demand."""
    if not url or not WORKER:
        return url
    base = sa.engine.make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"{base.database}_{WORKER}"
    engine = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


PG_URL = _worker_url(BASE_PG_URL)
# Set by `make mutation`: mutmut starts a fresh pytest session for every mutant, so the migrated SQLite template and
# the signing material (the slow part of a session's start) are kept here and reused across those sessions.
SESSION_CACHE = Path(os.environ["OROCERT_TEST_SESSION_CACHE"]) if os.environ.get("OROCERT_TEST_SESSION_CACHE") else None


def _migrations_key() -> str:
    import hashlib

    digest = hashlib.sha256()
    for path in sorted((Path(__file__).resolve().parent.parent / "migrations").rglob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def _pg_reset(url: str) -> None:
    engine = sa.create_engine(url if "+psycopg" in url else url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("orocert-session")


@pytest.fixture(scope="session")
def signing_config(session_dir) -> dict:
    """Signing material generated once per test session (key generation is slow)."""
    from lms.certificates import ob3
    from lms.certificates.signing import ensure_dev_signing_material

    d = (SESSION_CACHE or session_dir) / "signing"
    ensure_dev_signing_material(d, "OroCert Test Registry")
    key = d / "credential-ed25519.pem"
    if SESSION_CACHE is None or not key.exists():
        fresh = d / f"credential-{os.getpid()}.tmp"
        fresh.write_bytes(ob3.issuer_key_to_pem(ob3.generate_issuer_key()))
        os.replace(fresh, key)
    return {"SIGNING_CERT_PATH": str(d / "signer.pem"), "SIGNING_KEY_PATH": str(d / "signer-key.pem"),
            "SIGNING_CA_PATH": str(d / "ca.pem"), "CREDENTIAL_KEY_PATH": str(key),
            "ISSUER_NAME": "OroCert Test Registry"}


@pytest.fixture(scope="session")
def migrated_template(session_dir, signing_config):
    """Run the migrations once: into a template SQLite file, or into the PostgreSQL test database."""
    from flask_migrate import upgrade

    if PG_URL:
        _pg_reset(PG_URL)
        app = create_app(TestingConfig, INSTANCE_PATH=session_dir / "pg-instance", SQLALCHEMY_DATABASE_URI=PG_URL,
                         **signing_config)
        with app.app_context():
            upgrade()
            _db.engine.dispose()
        return None
    cached = SESSION_CACHE / f"template-{_migrations_key()}.db" if SESSION_CACHE else None
    if cached is not None and cached.exists():
        return cached
    template = session_dir / "template.db"
    app = create_app(TestingConfig, INSTANCE_PATH=session_dir / "template-instance",
                     SQLALCHEMY_DATABASE_URI=f"sqlite:///{template}", **signing_config)
    with app.app_context():
        upgrade()
        _db.engine.dispose()
    if cached is not None:
        shutil.copyfile(template, session_dir / "template.copy")
        os.replace(session_dir / "template.copy", cached)
    return template


# Restart every sequence a test advanced, so each test sees ids from 1 as on a fresh database.
_RESTART_SEQUENCES = sa.text(
    "DO $$DECLARE s record; BEGIN "
    "FOR s IN SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema() AND last_value IS NOT NULL "
    "LOOP EXECUTE format('ALTER SEQUENCE %I RESTART', s.sequencename); END LOOP; END$$"
)


def _truncate_all(app) -> None:
    """Empty every table after a PostgreSQL test. DELETE is many times faster than TRUNCATE on tables this small
    (TRUNCATE replaces each table's files). The test role is a superuser: ``session_replication_role = replica``
    lets the reset pass the append-only triggers, which stay in force for everything the tests themselves do."""
    with app.app_context(), _db.engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
        for table in reversed(_db.metadata.sorted_tables):
            conn.execute(table.delete())
        conn.execute(_RESTART_SEQUENCES)


@pytest.fixture(autouse=True)
def _reset_write_intent():
    """CLI commands switch on BEGIN IMMEDIATE for the rest of their thread; each test starts without it."""
    from lms.core.database import set_write_intent

    set_write_intent(False)
    yield
    set_write_intent(False)


@pytest.fixture
def db_url(tmp_path, migrated_template) -> str:
    if PG_URL:
        return PG_URL
    target = tmp_path / "orocert.db"
    shutil.copyfile(migrated_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def make_app(tmp_path, db_url, signing_config):
    """Build extra app instances on the same database (several instances share one database)."""
    apps = []

    def _make(**overrides):
        cfg = {"INSTANCE_PATH": tmp_path / f"instance{len(apps)}", "SQLALCHEMY_DATABASE_URI": db_url,
               **signing_config, **overrides}
        app = create_app(TestingConfig, **cfg)
        apps.append(app)
        return app

    yield _make
    from lms.certificates import verification_log

    for app in apps:
        verification_log.close(app)  # buffered anonymous checks are written before the database is reset
        with app.app_context():
            _db.session.remove()
    if PG_URL and apps:
        _truncate_all(apps[0])
    for app in apps:
        with app.app_context():
            _db.engine.dispose()


@pytest.fixture
def app(make_app):
    app = make_app()

    @app.teardown_request
    def _forget_cached_user(_exc):
        # With `ctx` pushed, test-client requests share the test's app context and its `g`; Flask-Login caches the
        # signed-in user there, so drop it after each request or one client would act as another.
        from flask import g

        g.pop("_login_user", None)

    yield app


@pytest.fixture
def ctx(app):
    """An application context with a session, for calling domain code directly."""
    with app.test_request_context():
        yield app
        _db.session.rollback()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def program(ctx):
    """The default program and standard, loaded from courses/."""
    from lms.standards.operations import load_standard
    from lms.training.content import load_all

    loaded, errors = load_all(ctx.config["COURSES_DIR"])
    assert not errors, errors
    load_standard(ctx.config["COURSES_DIR"] / "omr" / "standard.yaml")
    _db.session.commit()
    from lms.training.models import Program

    return _db.session.get(Program, "omr")


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, email, password="correct-horse-battery"):
        return self._client.post("/login", data={"email": email, "password": password})

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)
