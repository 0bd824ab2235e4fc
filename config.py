"""Configuration classes. Values come from the environment; nothing is read at import time of the app package."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent

# Secret keys that must never run in production (the development fallback and common placeholders).
KNOWN_DEFAULT_SECRETS = frozenset({"", "dev", "development", "change-me", "changeme", "secret", "insecure-dev-key"})


def _instance_path() -> Path:
    return Path(os.environ.get("LMS_INSTANCE_PATH") or BASE_DIR / "instance").resolve()


class Config:
    """Shared defaults. Subclasses adjust for development, tests and production."""

    BASE_DIR = BASE_DIR
    COURSES_DIR = BASE_DIR / "courses"
    CERTIFICATE_DESIGNS_DIR = BASE_DIR / "certificates"
    CERTIFICATE_DESIGN = "classic"
    TEMPLATES_DIR = BASE_DIR / "templates"
    JURISDICTIONS_FILE = BASE_DIR / "lms" / "jurisdictions" / "regulations.yaml"
    DEFAULT_PROGRAM = "omr"

    SECRET_KEY = os.environ.get("SECRET_KEY", "insecure-dev-key")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL")  # filled in create_app when unset
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}

    MAX_CONTENT_LENGTH = 5 * 1024 * 1024 + 64 * 1024  # 5 MB evidence files plus form overhead
    UPLOAD_MAX_BYTES = 5 * 1024 * 1024

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = timedelta(days=14)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)  # absolute session lifetime
    SESSION_IDLE_TIMEOUT = timedelta(minutes=30)  # inactivity timeout

    PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105 - a hashing method, not a password (scrypt N=32768, r=8, p=1)
    WTF_CSRF_TIME_LIMIT = 3600
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_ENABLED = True
    LOGIN_RATE_LIMIT = "10 per 15 minutes"
    PUBLIC_API_RATE_LIMIT = "120 per minute"

    # Redis (several instances): the job queue, the shared cache of verification records. Unset: jobs run in-process
    # and the cache is per worker. See "Scaling out" in the README.
    REDIS_URL = os.environ.get("REDIS_URL") or None
    VERIFICATION_CACHE_SECONDS = 300

    # Certificate issuer identity and signing material. In development they are generated into the instance folder.
    ISSUER_NAME = os.environ.get("ISSUER_NAME", "OroCert Certification Registry")
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    SIGNING_CERT_PATH = os.environ.get("SIGNING_CERT_PATH")
    SIGNING_KEY_PATH = os.environ.get("SIGNING_KEY_PATH")
    SIGNING_CA_PATH = os.environ.get("SIGNING_CA_PATH")
    SIGNING_KEY_PASSPHRASE = os.environ.get("SIGNING_KEY_PASSPHRASE")
    CREDENTIAL_KEY_PATH = os.environ.get("CREDENTIAL_KEY_PATH")  # Ed25519 key for Open Badges proofs
    GENERATE_DEV_KEYS = True

    INSTANCE_PATH = None  # resolved in create_app

    DEBUG = False
    TESTING = False


class DevelopmentConfig(Config):
    DEBUG = False  # the Werkzeug debugger stays off even in development; errors show the generic page


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing-secret-key-not-for-production"  # noqa: S105 - tests only
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL")  # None → SQLite in the test instance folder
    PUBLIC_BASE_URL = "http://localhost"
    # Still scrypt, at a cost that keeps the suite fast; production keeps the full-cost default.
    PASSWORD_HASH_METHOD = "scrypt:1024:8:1"  # noqa: S105 - a hashing method, not a password
    JOBS_MODE = "eager"  # background jobs run at once, in the test; the queue's own tests use a real worker
    VERIFICATION_LOG_FLUSH_SECONDS = 3600  # tests write buffered checks explicitly; the buffer's own tests set less


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    GENERATE_DEV_KEYS = False
    PREFERRED_URL_SCHEME = "https"
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 20, "pool_recycle": 1800}
    PROXY_FIX_X_FOR = int(os.environ.get("PROXY_FIX_X_FOR", "1"))

    @classmethod
    def check(cls, config: dict) -> None:
        """Refuse to start with settings that are unsafe in production."""
        key = os.environ.get("SECRET_KEY", "")
        if key in KNOWN_DEFAULT_SECRETS or len(key) < 32:
            raise RuntimeError("SECRET_KEY must be set to a random value of at least 32 characters in production")
        if config.get("DEBUG"):
            raise RuntimeError("DEBUG must be off in production")


CONFIGS = {"development": DevelopmentConfig, "testing": TestingConfig, "production": ProductionConfig}


def config_from_env() -> type[Config]:
    return CONFIGS.get(os.environ.get("LMS_CONFIG", "development"), DevelopmentConfig)


def instance_path() -> Path:
    return _instance_path()
