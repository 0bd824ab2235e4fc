"""Configuration classes. Values come from the environment; nothing is read at import time of the app package."""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent

# Secret keys that must never run in production (the development fallback and common placeholders).
KNOWN_DEFAULT_SECRETS = frozenset({"", "dev", "development", "change-me", "changeme", "secret", "insecure-dev-key"})
MIN_SECRET_KEY_LENGTH = 32
# An estimate of the key's entropy (length × Shannon entropy of its characters) must reach this many bits. A key made
# by `python -c "import secrets; print(secrets.token_urlsafe(32))"` has about 230; "a" * 40 or 40 spaces have 0.
MIN_SECRET_KEY_BITS = 128


def secret_key_problem(key: str | None) -> str | None:
    """Why ``key`` is not a usable production SECRET_KEY, or None when it is."""
    key = key or ""
    if key in KNOWN_DEFAULT_SECRETS or key.strip() in KNOWN_DEFAULT_SECRETS:
        return "it is unset or a published placeholder"
    if len(key.strip()) < MIN_SECRET_KEY_LENGTH:
        return f"it is shorter than {MIN_SECRET_KEY_LENGTH} characters"
    counts = Counter(key)
    per_char = -sum(n / len(key) * math.log2(n / len(key)) for n in counts.values())
    if per_char * len(key) < MIN_SECRET_KEY_BITS or len(counts) < 16:
        return "it has too little entropy (repeated or too few distinct characters)"
    return None


# The shipped contact address: a placeholder on a reserved domain (RFC 2606), so a development copy never shows a real
# person's address and never delivers. Production refuses to start with it.
PLACEHOLDER_CONTACT_EMAIL = "registry@orocert.invalid"
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


def contact_email_problem(address: str | None) -> str | None:
    """Why ``address`` cannot be the registry's published contact address in production, or None when it can."""
    address = (address or "").strip()
    if not address or address == PLACEHOLDER_CONTACT_EMAIL:
        return "it is unset or the shipped placeholder"
    if not _EMAIL.fullmatch(address):
        return "it is not an email address"
    if address.lower().endswith(".invalid"):
        return "its domain (.invalid) never receives mail"
    return None


def debug_requested_by_environment() -> bool:
    """FLASK_DEBUG=1, or `flask --debug`, which sets it before the app is created."""
    return os.environ.get("FLASK_DEBUG", "").strip().lower() not in ("", "0", "false", "no")


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
    # Failed sign-ins per address (successes do not count): room for a class behind one clinic network. Guessing at
    # one account is slowed per account instead (lms.auth.throttle).
    LOGIN_RATE_LIMIT = "60 per 15 minutes"
    REGISTER_RATE_LIMIT = "10 per hour"  # new accounts per address
    KNOWLEDGE_CHECK_RATE_LIMIT = "20 per hour"  # knowledge-check submissions per trainee
    PUBLIC_API_RATE_LIMIT = "120 per minute"
    BOARD_API_RATE_LIMIT = os.environ.get("BOARD_API_RATE_LIMIT", "1200 per minute")  # per board API key

    # Directory map tiles: a URL template such as "https://tile.openstreetmap.org/{z}/{x}/{y}.png". Empty (the
    # default) shows no map, only the list; when set, the directory page's CSP allows images from that host only.
    DIRECTORY_TILE_URL = os.environ.get("DIRECTORY_TILE_URL", "")
    DIRECTORY_TILE_ATTRIBUTION = os.environ.get("DIRECTORY_TILE_ATTRIBUTION", "")

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

    # Outgoing email (Flask-Mailman). Without MAIL_SERVER, messages are written as .eml files under instance/outbox/.
    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = int(os.environ.get("MAIL_PORT") or 25)
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "").lower() in ("1", "true", "yes", "on")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "OroCert <no-reply@orocert.invalid>")
    # Where people write with questions, and ask about their personal data (shown on the contact, privacy and terms
    # pages). Required in production; the default is a placeholder that never delivers.
    CONTACT_EMAIL = os.environ.get("CONTACT_EMAIL", PLACEHOLDER_CONTACT_EMAIL)
    MAIL_TIMEOUT = 10
    MAIL_MAX_ATTEMPTS = 8  # then the message is marked failed and waits on the admin page for a manual retry

    INSTANCE_PATH = None  # resolved in create_app

    PRODUCTION = False  # True only in ProductionConfig: demo data and debug are refused there
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
    MAIL_SERVER = None  # tests start their own SMTP server and pass its address explicitly
    JOBS_MODE = "eager"  # background jobs run at once, in the test; the queue's own tests use a real worker
    VERIFICATION_LOG_FLUSH_SECONDS = 3600  # tests write buffered checks explicitly; the buffer's own tests set less


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    GENERATE_DEV_KEYS = False
    PREFERRED_URL_SCHEME = "https"
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 20, "pool_recycle": 1800}
    # How many reverse proxies in front of the app may set X-Forwarded-For / -Proto / -Host. None unless configured:
    # trusting a header that a client can send itself would let anyone pick the address the rate limits count.
    PROXY_FIX_X_FOR = int(os.environ.get("PROXY_FIX_X_FOR", "0"))
    PRODUCTION = True

    @classmethod
    def check(cls, config: dict) -> None:
        """Refuse to start with settings that are unsafe in production."""
        problem = secret_key_problem(os.environ.get("SECRET_KEY", ""))
        if problem:
            raise RuntimeError(f"SECRET_KEY is not usable in production: {problem}. Set it to a random value, e.g. "
                               "python -c 'import secrets; print(secrets.token_urlsafe(32))'")
        if config.get("DEBUG") or debug_requested_by_environment():
            # The Werkzeug debugger runs arbitrary code for whoever reaches it: never in production, whatever
            # asks for it (the DEBUG setting, FLASK_DEBUG=1 or `flask --debug run`).
            raise RuntimeError("DEBUG must be off in production (unset FLASK_DEBUG and do not pass --debug)")
        problem = contact_email_problem(config.get("CONTACT_EMAIL"))
        if problem:
            # The privacy page sends requests about personal data to this address: it has to reach someone.
            raise RuntimeError(f"CONTACT_EMAIL is not usable in production: {problem}. Set it to the address where the "
                               "registry answers questions and personal-data requests, e.g. registry@your-domain")


CONFIGS = {"development": DevelopmentConfig, "testing": TestingConfig, "production": ProductionConfig}


def config_from_env() -> type[Config]:
    """The configuration LMS_CONFIG names (development when unset). Any other value is an error: a typo such as
    "Production" or "prod" must not silently start the development configuration with its insecure key."""
    name = os.environ.get("LMS_CONFIG", "development")
    if name not in CONFIGS:
        raise RuntimeError(f"LMS_CONFIG={name!r} is not a known configuration; use one of: {', '.join(CONFIGS)}")
    return CONFIGS[name]


def instance_path() -> Path:
    return _instance_path()
