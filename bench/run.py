# ruff: noqa: S603, S607 - the bench starts its own tools (flask, gunicorn, wrk, ps, apt-get) with fixed arguments
"""Run every benchmark against a freshly seeded 10,000-trainee database and write ``bench/results.json``.

Every figure is set against a floor measured in the same run on the same machine, because these machines are noisy:

- verify: the app's ``GET /api/v1/certificates/<serial>`` under gunicorn (2 workers) against a bare Flask +
  Flask-SQLAlchemy lookup (``bench/floor_app.py``) served the same way, load from wrk (or ``bench/loadgen.py``);
- issue: issuing 200 certificates end to end against WeasyPrint rendering the same HTML alone;
- eligibility: one heavy trainee, the cohort evaluation at 1k and 10k trainees (time and SQL statements), the admin's
  cohort CSV export;
- pages: server time of the trainee dashboard, the instructor queue and the admin cohort page against a static file;
- memory: one worker's RSS across repeated renders.

- queue: cohort issuance on RQ queue workers (``flask --app lms worker``) and the queued cohort CSV export (the
  admin's request, then the job), when Redis is reachable;
- size: the database's size per 10,000 trainees.

Every section runs on SQLite (a temporary folder) and then, when a PostgreSQL server is reachable, again on
PostgreSQL with ``pg.``-prefixed keys. The server is ``BENCH_DATABASE_URL`` (default
``postgresql://postgres@127.0.0.1:5432/postgres``; the bench creates and drops its own database: the one the URL
names, or ``bench_orocert`` when it names ``postgres``; ``BENCH_DATABASE_URL=none`` skips it). Redis is
``BENCH_REDIS_URL`` (default ``redis://127.0.0.1:6379/4``; the bench uses a queue and key prefix of its own).
``BENCH_TRAINEES`` changes the population size and ``BENCH_RESULTS`` where the figures are written.
``python -m bench --smoke`` (or ``BENCH_SMOKE=1``) runs every section at tiny sizes in seconds, into a temporary
results file: the test suite runs it, so the bench cannot break unnoticed.
These are measurements, not tests: nothing here asserts a timing.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
PY = sys.executable
SMOKE = os.environ.get("BENCH_SMOKE") == "1" or "--smoke" in sys.argv
_SIZES = {  # name: (full run, smoke run)
    "BENCH_TRAINEES": (10000, 24), "BENCH_ISSUE": (200, 2), "BENCH_COHORT_ISSUE": (200, 2),
    "BENCH_QUEUE_ISSUE": (200, 3), "BENCH_LOAD_SECONDS": (12, 1), "BENCH_MEMORY_RENDERS": (100, 2),
    "BENCH_HEAVY_ENTRIES": (2000, 60), "BENCH_PAGE_RUNS": (15, 2),
}


def _size(name: str) -> int:
    return int(os.environ.get(name) or _SIZES[name][1 if SMOKE else 0])


RESULTS = Path(os.environ.get("BENCH_RESULTS") or (Path(tempfile.gettempdir()) / "orocert-bench-smoke.json" if SMOKE
                                                   else BENCH / "results.json"))
TRAINEES = _size("BENCH_TRAINEES")
ISSUE_COUNT = _size("BENCH_ISSUE")
COHORT_ISSUE_COUNT = _size("BENCH_COHORT_ISSUE")
QUEUE_ISSUE_COUNT = _size("BENCH_QUEUE_ISSUE")
LOAD_SECONDS = _size("BENCH_LOAD_SECONDS")
MEMORY_RENDERS = _size("BENCH_MEMORY_RENDERS")
HEAVY_ENTRIES = _size("BENCH_HEAVY_ENTRIES")
PAGE_RUNS = _size("BENCH_PAGE_RUNS")
QUEUE_WORKERS = 2
PG_DATABASE = "bench_orocert"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/4")


class Bench:
    """Where the run lives (work folder, database, environment) and the figures gathered so far."""

    def __init__(self, results: dict[str, float], notes: list[str], pg_server: str | None = None) -> None:
        self.started = time.perf_counter()
        self.work = Path(tempfile.mkdtemp(prefix="orocert-bench-"))
        self.instance = self.work / "instance"
        self.instance.mkdir()
        self.results = results
        self.notes = notes
        self.pg_server = pg_server
        self.postgres = bool(pg_server)
        self.prefix = "pg." if pg_server else ""
        self.url = _create_pg_database(pg_server) if pg_server else f"sqlite:///{self.instance / 'orocert.db'}"
        self.redis = REDIS if _redis_reachable(REDIS) else None
        self.env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "JOBS_QUEUE")}
        self.env.update({"PYTHONPATH": str(ROOT), "LMS_INSTANCE_PATH": str(self.instance),
                         "DATABASE_URL": self.url, "BENCH_DB_URL": self.url, "LMS_CONFIG": "development",
                         "FLASK_APP": "lms"})
        self.queue = f"bench-{os.getpid()}-{'pg' if pg_server else 'sqlite'}"
        self._app = None

    @property
    def label(self) -> str:
        return "PostgreSQL" if self.postgres else "SQLite"

    def put(self, key: str, value: float, unit: str = "") -> None:
        if not key.startswith("meta."):
            key = self.prefix + key
        self.results[key] = round(float(value), 3)
        print(f"  {key:<45} {self.results[key]:>12,.3f} {unit}", flush=True)

    def flask(self, *args: str, timeout: int = 600) -> str:
        proc = subprocess.run([PY, "-m", "flask", "--app", "lms", *args], cwd=ROOT, env=self.env, text=True,
                              capture_output=True, timeout=timeout)
        if proc.returncode:
            raise RuntimeError(f"flask {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc.stdout

    @property
    def app(self):
        """The app in this process (for in-process measurements), built once the database exists."""
        if self._app is None:
            os.environ.update({k: v for k, v in self.env.items() if k in ("LMS_INSTANCE_PATH", "LMS_CONFIG")})
            sys.path.insert(0, str(ROOT))
            from config import DevelopmentConfig
            from lms import create_app

            # Rate limits and CSRF off: the bench signs in and requests pages thousands of times from one client.
            self._app = create_app(DevelopmentConfig, SQLALCHEMY_DATABASE_URI=self.url, INSTANCE_PATH=self.instance,
                                   RATELIMIT_ENABLED=False, WTF_CSRF_ENABLED=False, REDIS_URL=None,
                                   JOBS_MODE="eager")
        return self._app

    def close(self) -> None:
        if self._app is not None:
            from lms.certificates import verification_log
            from lms.extensions import db

            # Write the checks the in-process requests buffered and stop the writer, before the database goes.
            verification_log.close(self._app)
            with self._app.app_context():
                db.session.remove()
                db.engine.dispose()
            self._app = None
        if self.postgres:
            _drop_pg_database(self.pg_server)
        shutil.rmtree(self.work, ignore_errors=True)


def _pg_admin_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    u = make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    return u.set(database="postgres").render_as_string(hide_password=False)


def _pg_database(url: str) -> str:
    """The database the run creates and drops: the one ``BENCH_DATABASE_URL`` names, or ``bench_orocert`` when it
    names the server's ``postgres`` database (or none)."""
    import re

    from sqlalchemy.engine import make_url

    name = make_url(url.replace("postgresql+psycopg://", "postgresql://", 1)).database
    name = name if name and name != "postgres" else PG_DATABASE
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise ValueError(f"not a plain database name: {name!r}")
    return name


def _create_pg_database(url: str) -> str:
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    name = _pg_database(url)
    engine = sa.create_engine(_pg_admin_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    engine.dispose()
    u = make_url(url.replace("postgresql+psycopg://", "postgresql://", 1)).set(database=name)
    return u.render_as_string(hide_password=False)


def _drop_pg_database(url: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(_pg_admin_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {_pg_database(url)} WITH (FORCE)"))
    engine.dispose()


def _loadavg() -> float:
    return os.getloadavg()[0]


def _redis_reachable(url: str) -> bool:
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception:
        return False
    return True


def _pg_reachable(url: str) -> bool:
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(_pg_admin_url(url), connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception:
        return False
    return True


# --------------------------------------------------------------------------- setup


def setup(b: Bench) -> None:
    print(f"== setup: {b.label} database, {TRAINEES:,} trainees", flush=True)
    b.flask("db", "upgrade")
    b.flask("courses", "load")
    started = time.perf_counter()
    out = b.flask("seed-scale", "--trainees", str(TRAINEES))
    b.put("scale.seed_s", time.perf_counter() - started, "s (seed-scale, whole command)")
    reported = [line for line in out.splitlines() if line.startswith("seed-scale:")]
    print("  " + (reported[0] if reported else out.strip().splitlines()[-1]), flush=True)
    if reported:
        b.put("scale.seed_reported_s", float(reported[0].split(" in ")[1].split(" s")[0]), "s (as printed)")
    b.put("scale.trainees", TRAINEES)
    import sqlalchemy as sa

    from lms.certificates.models import Certificate
    from lms.extensions import db

    if b.postgres:
        # A registry that has been running has planner statistics (autovacuum gathers them); a server with autovacuum
        # off, as test servers often are, has none for the freshly seeded tables, and PostgreSQL then plans one
        # trainee's case lookup as a scan of every case measurement per case (minutes instead of milliseconds).
        started = time.perf_counter()
        with b.app.app_context():
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
        b.put("scale.analyze_s", time.perf_counter() - started, "s (ANALYZE after seeding)")
    with b.app.app_context():
        b.put("scale.certificates", db.session.query(Certificate).count())
    size_mb = _database_mb(b)
    b.put("scale.db_mb", size_mb, "MB (the whole database after seeding)")
    b.put("scale.db_mb_per_10k_trainees", size_mb * 10000 / max(TRAINEES, 1), "MB per 10,000 trainees")


def _database_mb(b: Bench) -> float:
    import sqlalchemy as sa

    from lms.extensions import db

    with b.app.app_context():
        if b.postgres:
            return db.session.execute(sa.text("SELECT pg_database_size(current_database())")).scalar_one() / 2**20
        db.session.execute(sa.text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.session.commit()
    return sum(p.stat().st_size for p in b.instance.glob("orocert.db*")) / 2**20


# --------------------------------------------------------------------------- verification throughput


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker_pids(master: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@contextmanager
def gunicorn(b: Bench, target: str, extra_env: dict | None = None):
    port = _free_port()
    log = open(b.work / f"gunicorn-{target.split(':')[0].replace('.', '-')}.log", "w")  # noqa: SIM115
    proc = subprocess.Popen([PY, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
                             "--chdir", str(ROOT), "--log-level", "warning", target],
                            cwd=ROOT, env={**b.env, **(extra_env or {})}, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/certificates/OFM-00000-00000-00000", timeout=5)
            except urllib.error.HTTPError:
                break  # 404: up and answering
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"gunicorn {target} did not start; see {log.name}") from None
                time.sleep(0.3)
            else:
                break
        yield port, proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def _ensure_wrk() -> str | None:
    wrk = shutil.which("wrk")
    if wrk or os.geteuid() != 0:
        return wrk
    print("  installing wrk (apt-get)", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env, capture_output=True).returncode:
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env, capture_output=True)
    return shutil.which("wrk")


def _drive(b: Bench, port: int, serials: Path, wrk: str | None, seconds: int) -> dict:
    url = f"http://127.0.0.1:{port}"
    if wrk:
        cmd = [wrk, "-t2", "-c8", f"-d{seconds}s", "--timeout", "10s", "-s", str(BENCH / "verify.lua"), url, "--",
               str(serials)]
    else:
        cmd = [PY, "-m", "bench.loadgen", url, str(serials), str(seconds), "8"]
    out = subprocess.run(cmd, cwd=ROOT, env=b.env, capture_output=True, text=True, timeout=seconds + 60).stdout
    line = next((x for x in out.splitlines() if x.startswith("WRK_JSON ")), None)
    if line is None:
        raise RuntimeError(f"no result from the load generator:\n{out}")
    data = json.loads(line[len("WRK_JSON "):])
    data["rps"] = data["requests"] / (data["duration_us"] / 1e6)
    return data


def verify(b: Bench) -> None:
    print("== verification throughput (gunicorn, 2 workers)", flush=True)
    import sqlalchemy as sa

    from lms.certificates.models import Certificate
    from lms.extensions import db

    with b.app.app_context():
        serials = list(db.session.execute(sa.select(Certificate.serial)).scalars())
    path = b.work / "serials.txt"
    path.write_text("\n".join(serials) + "\n")
    b.put("verify.certificates", len(serials))
    wrk = _ensure_wrk()
    b.put("verify.used_wrk", 1 if wrk else 0)
    figures = {}
    # Floor first, then the app, then the floor again: the floor's figure is the better of its two runs, so a noisy
    # moment cannot flatter the app's ratio.
    # The app runs with its cache in each worker's memory (the embedded default) and, when Redis is reachable, with
    # the shared Redis cache that several instances use.
    runs = [("floor", "bench.floor_app:app", {}), ("app", "bench.wsgi:app", {})]
    if b.redis:
        runs.append(("app_redis", "bench.wsgi:app", {"REDIS_URL": b.redis, "BENCH_CACHE_PREFIX": b.queue + ":"}))
    if not SMOKE:
        runs.append(("floor2", "bench.floor_app:app", {}))
    for name, target, extra in runs:
        with gunicorn(b, target, extra) as (port, proc):
            if not SMOKE:
                _drive(b, port, path, wrk, 2)  # warm-up: workers import, connect, fill caches
            data = _drive(b, port, path, wrk, LOAD_SECONDS)
            data["peak_rss_mb"] = max((_peak_rss_mb(p) for p in _worker_pids(proc.pid)), default=0.0)
        figures[name] = data
        errors = sum(data[k] for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts"))
        print(f"  {name}: {data['rps']:.0f} req/s, p50 {data['p50_us'] / 1000:.1f} ms, "
              f"p99 {data['p99_us'] / 1000:.1f} ms, {errors} errors", flush=True)
    floor = max((figures[k] for k in ("floor", "floor2") if k in figures), key=lambda d: d["rps"])
    app = figures["app"]
    b.put("verify.app_rps", app["rps"], "req/s")
    b.put("verify.floor_rps", floor["rps"], "req/s")
    b.put("verify.rps_ratio", app["rps"] / floor["rps"], "(goal >= 0.8)")
    b.put("verify.app_p50_ms", app["p50_us"] / 1000, "ms")
    b.put("verify.floor_p50_ms", floor["p50_us"] / 1000, "ms")
    b.put("verify.app_p99_ms", app["p99_us"] / 1000, "ms")
    b.put("verify.floor_p99_ms", floor["p99_us"] / 1000, "ms")
    b.put("verify.p99_ratio", app["p99_us"] / floor["p99_us"], "(goal <= 2)")
    b.put("verify.app_errors", sum(app[k] for k in ("connect_errors", "read_errors", "write_errors", "status_errors",
                                                    "timeouts")))
    b.put("verify.app_worker_peak_rss_mb", app["peak_rss_mb"], "MB")
    b.put("verify.floor_worker_peak_rss_mb", floor["peak_rss_mb"], "MB")
    b.put("verify.app_rps_per_worker", app["rps"] / 2, "req/s per gunicorn worker (2 workers, 2 cores)")
    if "app_redis" in figures:
        shared = figures["app_redis"]
        b.put("verify.app_redis_rps", shared["rps"], "req/s (shared Redis cache)")
        b.put("verify.app_redis_rps_ratio", shared["rps"] / floor["rps"], "(Redis cache; goal >= 0.8)")
        b.put("verify.app_redis_p99_ratio", shared["p99_us"] / floor["p99_us"], "(Redis cache; goal <= 2)")


# --------------------------------------------------------------------------- issuance


def _eligible_uncertified(app, limit: int) -> list[int]:
    from lms.certificates.cohort import candidate_ids
    from lms.eligibility.service import decisions_for

    found: list[int] = []
    ids = candidate_ids(app.config["DEFAULT_PROGRAM"])
    for start in range(0, len(ids), 500):
        found += [td.user.id for td in decisions_for(ids[start:start + 500]) if td.decision.eligible]
        if len(found) >= limit:
            break
    return found[:limit]


def issuance(b: Bench) -> None:
    print(f"== issuance: {ISSUE_COUNT} certificates end to end vs. WeasyPrint render-only", flush=True)
    import sqlalchemy as sa
    from weasyprint import CSS, HTML

    from lms.auth.models import User
    from lms.certificates.issuing import build_pdf_context, issue_certificate
    from lms.certificates.rendering import build_html
    from lms.core.database import set_write_intent
    from lms.core.pdf import FontConfiguration
    from lms.extensions import db

    app = b.app
    design_dir = Path(app.config["CERTIFICATE_DESIGNS_DIR"]) / app.config["CERTIFICATE_DESIGN"]
    font_config = FontConfiguration()  # the floor's own shared configuration
    issue_ms, render_ms = [], []
    with app.test_request_context():
        admin_id = db.session.execute(sa.select(User.id).filter_by(role="admin").order_by(User.id).limit(1)
                                      ).scalar_one()
        ids = _eligible_uncertified(app, ISSUE_COUNT)
        db.session.commit()
        if len(ids) < ISSUE_COUNT:
            b.notes.append(f"only {len(ids)} eligible trainees without a certificate were available for issuance")
        for trainee_id in ids:
            set_write_intent(True)
            trainee, admin = db.session.get(User, trainee_id), db.session.get(User, admin_id)
            started = time.perf_counter()
            result = issue_certificate(trainee, actor=admin)
            db.session.commit()
            issue_ms.append((time.perf_counter() - started) * 1000)
            cert = result.certificate
            # The floor renders the very same certificate's HTML with WeasyPrint alone (HTML built outside the timing).
            context = build_pdf_context(
                serial=cert.serial, holder_name=cert.holder_name, profession=cert.profession,
                license_number=cert.license_number, jurisdiction=cert.jurisdiction,
                program_title="Orofacial Massage & Rehabilitation", endorsements=list(cert.endorsements),
                standard=cert.standard_version.data, notices=[], issued_on=cert.issued_on, expires_on=cert.expires_on)
            html = build_html(context, app.config["CERTIFICATE_DESIGN"], app.config["CERTIFICATE_DESIGNS_DIR"])
            started = time.perf_counter()
            HTML(string=html, base_url=design_dir.as_uri() + "/").write_pdf(
                stylesheets=[CSS(filename=str(design_dir / "theme.css"), font_config=font_config)],
                font_config=font_config)
            render_ms.append((time.perf_counter() - started) * 1000)
            db.session.expunge_all()
    set_write_intent(False)
    b.put("issue.count", len(issue_ms))
    b.put("issue.app_ms", statistics.median(issue_ms), "ms per certificate (median)")
    b.put("issue.render_ms", statistics.median(render_ms), "ms per certificate (median)")
    b.put("issue.ratio", statistics.median(issue_ms) / statistics.median(render_ms), "(goal <= 1.5)")
    b.put("issue.app_p90_ms", statistics.quantiles(issue_ms, n=10)[-1], "ms")

    # The cohort command on both cores, as an operator runs it.
    started = time.perf_counter()
    out = b.flask("certificates", "issue-cohort", app.config["DEFAULT_PROGRAM"], "--limit", str(COHORT_ISSUE_COUNT))
    wall = time.perf_counter() - started
    summary = out.strip().splitlines()[-1]
    print("  " + summary, flush=True)
    issued = int(summary.split()[1])
    seconds = float(summary.split(" in ")[1].split(" s ")[0])  # the command's own issuing time
    b.put("issue.cohort_count", issued)
    b.put("issue.cohort_wall_s", wall, "s (whole command, incl. interpreter start-up)")
    b.put("issue.cohort_s", seconds, "s (evaluating, rendering, signing, storing)")
    b.put("issue.cohort_ms_per_cert", seconds * 1000 / max(issued, 1), "ms per certificate")
    b.put("issue.cohort_speedup", statistics.median(issue_ms) / (seconds * 1000 / max(issued, 1)),
          "x vs. one-at-a-time median")


# --------------------------------------------------------------------------- eligibility


def _heavy_trainee(app, entries: int, assessments: int) -> int:
    """A certified trainee topped up to ``entries`` approved hour entries and ``assessments`` observations (bulk)."""
    import random
    from datetime import timedelta

    import sqlalchemy as sa

    from lms.assessments.models import Assessment
    from lms.certificates.models import Certificate
    from lms.core.database import set_write_intent
    from lms.extensions import db
    from lms.hours.models import HourDecision, HourEntry

    rng = random.Random(11)
    set_write_intent(True)
    trainee_id = db.session.execute(sa.select(Certificate.trainee_id).where(Certificate.is_current.is_(True))
                                    .order_by(Certificate.id.desc()).limit(1)).scalar_one()
    have = db.session.execute(sa.select(HourEntry).filter_by(trainee_id=trainee_id).limit(1)).scalar_one()
    count = db.session.execute(sa.select(sa.func.count()).select_from(HourEntry)
                               .filter_by(trainee_id=trainee_id)).scalar_one()
    next_entry = (db.session.execute(sa.select(sa.func.max(HourEntry.id))).scalar() or 0) + 1
    rows, decisions = [], []
    for i in range(entries - count):
        rows.append({"id": next_entry + i, "trainee_id": trainee_id, "enrollment_id": have.enrollment_id,
                     "entry_date": have.entry_date - timedelta(days=1 + i // 3), "minutes": 30,
                     "category": rng.choice(("lab_in_person", "clinical_extraoral")),
                     "supervisor_id": have.supervisor_id,
                     "setting": "Supervised skills lab", "case_code": f"C{i % 40 + 1:02d}", "notes": "",
                     "status": "approved"})
        decisions.append({"entry_id": next_entry + i, "decision": "approved", "reason": "",
                          "actor_id": have.supervisor_id})
    db.session.execute(sa.insert(HourEntry), rows)
    db.session.execute(sa.insert(HourDecision), decisions)
    existing = db.session.execute(sa.select(Assessment).filter_by(trainee_id=trainee_id)).scalars().all()
    extra = []
    for i in range(assessments - len(existing)):
        a = existing[i % len(existing)]
        extra.append({c: getattr(a, c) for c in ("enrollment_id", "standard_version_id", "assessor_id",
                                                   "assessor_is_dental", "competency_id", "criteria",
                                                   "critical_failure", "level", "passed", "comments", "simulated")}
                     | {"trainee_id": trainee_id, "observed_on": a.observed_on - timedelta(days=30 + i),
                        "case_code": f"C{i % 30 + 1:02d}"})
    db.session.execute(sa.insert(Assessment), extra)
    db.session.commit()
    set_write_intent(False)
    return trainee_id


def eligibility(b: Bench) -> None:
    print("== eligibility at scale", flush=True)
    import sqlalchemy as sa

    from lms.admin.reports import cohort_rows
    from lms.core.database import count_statements
    from lms.eligibility.service import decision_for, decisions_for
    from lms.extensions import db
    from lms.hours.models import HourEntry
    from lms.training.models import Enrollment

    app = b.app
    with app.test_request_context():
        heavy = _heavy_trainee(app, HEAVY_ENTRIES, 100)
        entries = db.session.execute(sa.select(sa.func.count()).select_from(HourEntry)
                                     .filter_by(trainee_id=heavy)).scalar_one()
        b.put("eligibility.one_trainee_entries", entries)
        from lms.auth.models import User

        def fresh():
            # Every measurement starts a new transaction with an empty session, so counts compare like with like.
            db.session.commit()
            db.session.expunge_all()

        times = []
        for _ in range(7):
            fresh()
            user = db.session.get(User, heavy)
            started = time.perf_counter()
            with count_statements(app) as statements:
                td = decision_for(user)
            times.append((time.perf_counter() - started) * 1000)
        b.put("eligibility.one_trainee_ms", statistics.median(times),
              f"ms ({HEAVY_ENTRIES:,} entries, 100 assessments)")
        b.put("eligibility.one_trainee_queries", len(statements))
        b.put("eligibility.one_trainee_eligible", 1 if td.decision.eligible else 0)
        light = db.session.execute(sa.select(Enrollment.user_id).order_by(Enrollment.user_id).limit(1)).scalar_one()
        fresh()
        user = db.session.get(User, light)
        with count_statements(app) as statements:
            decision_for(user)
        b.put("eligibility.light_trainee_queries", len(statements))
        fresh()

        # The cohort is every trainee account (the not-yet-enrolled ones get the "enroll first" answer).
        ids = list(db.session.execute(sa.select(User.id).filter_by(role="trainee").order_by(User.id)).scalars())
        for label, n in (("1k", 1000), ("10k", 10000)):
            chosen = ids[:n]
            fresh()
            started, cpu = time.perf_counter(), time.process_time()
            with count_statements(app) as statements:
                decided = decisions_for(chosen)
            b.put(f"eligibility.cohort_{label}_s", time.perf_counter() - started, f"s ({len(decided):,} trainees)")
            b.put(f"eligibility.cohort_{label}_cpu_s", time.process_time() - cpu, "s CPU")
            b.put(f"eligibility.cohort_queries_{label}", len(statements), "SQL statements")
            if label == "10k":
                b.put("eligibility.cohort_10k_trainees", len(decided))
                b.put("eligibility.cohort_10k_enrolled", sum(1 for d in decided if d.enrollment is not None))
                b.put("eligibility.cohort_10k_eligible", sum(1 for d in decided if d.decision and d.decision.eligible))
            del decided

        # The admin's CSV export, batch by batch, as the route streams it.
        fresh()
        started = time.perf_counter()
        with count_statements(app) as statements:
            rows = sum(1 for _ in cohort_rows(app.config["DEFAULT_PROGRAM"]))
        b.put("eligibility.csv_rows", rows)
        b.put("eligibility.csv_10k_s", time.perf_counter() - started, "s (rows evaluated and formatted)")
        b.put("eligibility.csv_queries", len(statements), "SQL statements")
        from lms.admin.reports import BATCH

        batches = -(-rows // BATCH)
        b.put("eligibility.csv_queries_per_batch", (len(statements) - 1) / batches, f"(batches of {BATCH})")


# --------------------------------------------------------------------------- pages


def _login(app, email: str, password: str):
    client = app.test_client()
    resp = client.post("/login", data={"email": email, "password": password})
    if resp.status_code != 302:
        raise RuntimeError(f"could not sign in as {email}: {resp.status_code}")
    return client


def _time_page(client, url: str, runs: int) -> tuple[float, int]:
    client.get(url).close()  # warm-up
    times, status = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        resp = client.get(url)
        resp.get_data()
        times.append((time.perf_counter() - started) * 1000)
        status = resp.status_code
        resp.close()
    return statistics.median(times), status


def pages(b: Bench) -> None:
    print("== pages at scale (server time, in-process) vs. a static file", flush=True)
    import sqlalchemy as sa

    from lms.auth.models import User
    from lms.certificates.models import Certificate
    from lms.extensions import db
    from lms.hours.models import HourEntry
    from lms.scale import SCALE_PASSWORD

    app = b.app
    with app.app_context():
        # A typical certified trainee (about 40 entries), and the heavy one of the eligibility benchmark.
        certified = sa.select(User.email).join(Certificate, Certificate.trainee_id == User.id).where(
            Certificate.is_current.is_(True), User.email.like("trainee%"))
        trainee = db.session.execute(certified.order_by(User.id).limit(1)).scalar_one()
        heavy = db.session.execute(certified.order_by(Certificate.id.desc()).limit(1)).scalar_one()
        instructor = db.session.execute(
            sa.select(User.email).join(HourEntry, HourEntry.supervisor_id == User.id)
            .where(HourEntry.status == "submitted", User.email.like("%@scale.orocert.test"))
            .group_by(User.email).order_by(sa.func.count().desc()).limit(1)).scalar_one()
        queue = db.session.execute(sa.select(sa.func.count()).select_from(HourEntry).join(
            User, User.id == HourEntry.supervisor_id).where(User.email == instructor,
                                                            HourEntry.status == "submitted")).scalar_one()
        admin = db.session.execute(sa.select(User.email).filter_by(role="admin").order_by(User.id).limit(1)
                                   ).scalar_one()
    anonymous = app.test_client()
    static_ms, _ = _time_page(anonymous, "/static/app.css", 30)
    b.put("pages.static_ms", static_ms, "ms (floor: /static/app.css)")
    for key, email, url in (("trainee_dashboard", trainee, "/dashboard"), ("instructor_queue", instructor,
                                                                           "/hours/queue"),
                            ("admin_cohort", admin, "/admin/trainees"), ("admin_gradebook", admin, "/gradebook")):
        client = _login(app, email, SCALE_PASSWORD)
        ms, status = _time_page(client, url, PAGE_RUNS)
        if status != 200:
            raise RuntimeError(f"{url} answered {status}")
        b.put(f"pages.{key}_ms", ms, "ms")
        b.put(f"pages.{key}_ratio", ms / static_ms, "x static")
    b.put("pages.instructor_queue_entries", queue)
    # The public verification page an anonymous visitor opens: from the cache (the same state seen before), and
    # rendered (the cache emptied before each request, as for a certificate nobody has looked at yet).
    from lms.core.cache import cache_for

    with app.app_context():
        serial = db.session.execute(sa.select(Certificate.serial).order_by(Certificate.id).limit(1)).scalar_one()
    ms, status = _time_page(anonymous, f"/verify/{serial}", max(PAGE_RUNS, 30))
    if status != 200:
        raise RuntimeError(f"/verify/{serial} answered {status}")
    b.put("pages.verify_page_ms", ms, "ms (anonymous, from the shared cache)")
    times = []
    for _ in range(max(PAGE_RUNS, 30)):
        cache_for(app).clear()
        started = time.perf_counter()
        anonymous.get(f"/verify/{serial}").get_data()
        times.append((time.perf_counter() - started) * 1000)
    b.put("pages.verify_page_rendered_ms", statistics.median(times), "ms (anonymous, rendered: cache empty)")
    client = _login(app, heavy, SCALE_PASSWORD)
    ms, _status = _time_page(client, "/dashboard", max(PAGE_RUNS // 3, 1))
    b.put("pages.heavy_trainee_dashboard_ms", ms, f"ms (the trainee with {HEAVY_ENTRIES:,} hour entries)")
    b.put("pages.heavy_trainee_dashboard_ratio", ms / static_ms, "x static")


# --------------------------------------------------------------------------- queue


@contextmanager
def queue_workers(b: Bench, count: int):
    """``count`` real queue workers (``flask --app lms worker``) on the bench's own Redis queue."""
    env = {**b.env, "REDIS_URL": b.redis, "JOBS_QUEUE": b.queue}
    logs, procs = [], []
    for i in range(count):
        log = open(b.work / f"worker-{i}.log", "w")  # noqa: SIM115
        logs.append(log)
        procs.append(subprocess.Popen([PY, "-m", "flask", "--app", "lms", "worker", "--name", f"{b.queue}-{i}"],
                                      cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                      start_new_session=True))
    try:
        yield env
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        for log in logs:
            log.close()


def queue(b: Bench) -> None:
    if not b.redis:
        b.notes.append(f"Redis is not reachable at {REDIS}: no queue figures")
        return
    print(f"== job queue: {QUEUE_WORKERS} RQ workers, cohort issuance and the cohort CSV export", flush=True)
    import sqlalchemy as sa

    from config import DevelopmentConfig
    from lms import create_app
    from lms.admin.exports import ReportExport
    from lms.auth.models import User
    from lms.extensions import db
    from lms.scale import SCALE_PASSWORD

    with queue_workers(b, QUEUE_WORKERS) as env:
        time.sleep(1 if SMOKE else 3)  # the workers import the app and register with Redis
        started = time.perf_counter()
        proc = subprocess.run([PY, "-m", "flask", "--app", "lms", "certificates", "issue-cohort",
                               b.app.config["DEFAULT_PROGRAM"], "--limit", str(QUEUE_ISSUE_COUNT)],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
        if proc.returncode:
            raise RuntimeError(f"queued issue-cohort failed:\n{proc.stdout}\n{proc.stderr}")
        wall = time.perf_counter() - started
        summary = proc.stdout.strip().splitlines()[-1]
        print("  " + summary, flush=True)
        issued = int(summary.split()[1])
        seconds = float(summary.split(" in ")[1].split(" s ")[0])
        b.put("queue.cohort_count", issued)
        b.put("queue.cohort_s", seconds, f"s ({QUEUE_WORKERS} queue workers)")
        b.put("queue.cohort_wall_s", wall, "s (whole command)")
        per_minute = issued * 60 / max(seconds, 1e-9)
        b.put("queue.certs_per_minute", per_minute, f"certificates per minute ({QUEUE_WORKERS} workers)")
        b.put("queue.certs_per_minute_per_worker", per_minute / QUEUE_WORKERS, "certificates per minute per worker")

        # The admin asks for the cohort CSV: the request only queues it; a worker builds it.
        app = create_app(DevelopmentConfig, SQLALCHEMY_DATABASE_URI=b.url, INSTANCE_PATH=b.instance,
                         RATELIMIT_ENABLED=False, WTF_CSRF_ENABLED=False, REDIS_URL=b.redis, JOBS_MODE="rq",
                         JOBS_QUEUE=b.queue)
        with app.app_context():
            admin = db.session.execute(sa.select(User.email).filter_by(role="admin").order_by(User.id).limit(1)
                                       ).scalar_one()
        client = _login(app, admin, SCALE_PASSWORD)
        client.get("/admin/reports/exports").close()  # warm-up
        started = time.perf_counter()
        resp = client.post("/admin/reports/exports", data={"program": app.config["DEFAULT_PROGRAM"]})
        request_ms = (time.perf_counter() - started) * 1000
        if resp.status_code != 302:
            raise RuntimeError(f"export request answered {resp.status_code}")
        with app.app_context():
            export_id = db.session.execute(sa.select(sa.func.max(ReportExport.id))).scalar_one()
        deadline = time.time() + 1800
        while True:
            with app.app_context():
                export = db.session.get(ReportExport, export_id)
                status, rows = export.status, export.rows
                took = (export.finished_at - export.created_at).total_seconds() if export.finished_at else None
                db.session.remove()
            if status in ("ready", "failed") or time.time() > deadline:
                break
            time.sleep(0.2)
        if status != "ready":
            raise RuntimeError(f"the queued export ended {status}")
        b.put("export.request_ms", request_ms, "ms (the admin's request: records and queues; goal < 200)")
        b.put("export.rows", rows)
        b.put("export.job_s", took, "s (queued to ready, on a worker)")
        with app.app_context():
            db.engine.dispose()


# --------------------------------------------------------------------------- memory


def memory(b: Bench) -> None:
    print(f"== memory: one worker, {MEMORY_RENDERS} renders and signatures", flush=True)
    out = subprocess.run([PY, "-m", "bench.memory_worker", str(MEMORY_RENDERS)], cwd=ROOT, env=b.env,
                         capture_output=True, text=True, timeout=900)
    line = next((x for x in out.stdout.splitlines() if x.startswith("MEM_JSON ")), None)
    if line is None:
        raise RuntimeError(f"memory worker failed:\n{out.stdout}\n{out.stderr}")
    data = json.loads(line[len("MEM_JSON "):])
    b.put("memory.renders", data["renders"])
    b.put("memory.worker_rss_after_warmup_mb", data["after_warmup_mb"], "MB")
    b.put("memory.worker_rss_final_mb", data["final_mb"], "MB")
    b.put("memory.worker_rss_growth_mb", data["final_mb"] - data["after_warmup_mb"], "MB (goal: about 0)")
    b.put("memory.worker_rss_growth_second_half_mb", data["final_mb"] - data["middle_mb"],
          "MB (after the caches have filled: a leak would show here)")
    b.put("memory.worker_peak_rss_mb", data["peak_mb"], "MB")
    print(f"  RSS series (MB): {data['series_mb']}", flush=True)


# --------------------------------------------------------------------------- profiles


def profiles(b: Bench) -> None:
    """pyinstrument profiles of the slowest paths, saved as text next to the results."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        b.notes.append("pyinstrument is not installed; no profiles written")
        return
    print("== profiles (pyinstrument)", flush=True)
    out_dir = b.work if SMOKE else BENCH
    import sqlalchemy as sa

    from lms.admin.reports import cohort_rows
    from lms.auth.models import User
    from lms.certificates.issuing import issue_certificate
    from lms.certificates.models import Certificate
    from lms.core.database import set_write_intent
    from lms.extensions import db

    app = b.app
    with app.test_request_context():
        profiler = Profiler()
        profiler.start()
        rows = sum(1 for _ in cohort_rows(app.config["DEFAULT_PROGRAM"]))
        profiler.stop()
        (out_dir / "profile-cohort-csv.txt").write_text(
            f"# Cohort CSV export of {rows} trainees ({b.label})\n"
            + profiler.output_text(unicode=False, color=False))
        admin = db.session.execute(sa.select(User).filter_by(role="admin").order_by(User.id).limit(1)).scalar_one()
        ids = _eligible_uncertified(app, 10)
        db.session.commit()
        profiler = Profiler()
        profiler.start()
        for trainee_id in ids:
            set_write_intent(True)
            issue_certificate(db.session.get(User, trainee_id), actor=admin)
            db.session.commit()
        profiler.stop()
        set_write_intent(False)
        (out_dir / "profile-issue.txt").write_text(
            f"# Issuing {len(ids)} certificates one at a time ({b.label})\n"
            + profiler.output_text(unicode=False, color=False))
        serials = list(db.session.execute(sa.select(Certificate.serial).order_by(Certificate.id).limit(200)).scalars())
        db.session.commit()
    client = app.test_client()
    for serial in serials[:20]:
        client.get(f"/api/v1/certificates/{serial}").close()  # warm-up
    profiler = Profiler(interval=0.0002)
    profiler.start()
    for serial in serials:
        client.get(f"/api/v1/certificates/{serial}").close()
    profiler.stop()
    (out_dir / "profile-verify.txt").write_text(
        f"# {len(serials)} requests to GET /api/v1/certificates/<serial>, in-process "
        f"({b.label})\n" + profiler.output_text(unicode=False, color=False))
    print(f"  wrote {out_dir}/profile-cohort-csv.txt, profile-issue.txt and profile-verify.txt", flush=True)


# --------------------------------------------------------------------------- main


def run_all(b: Bench) -> None:
    print(f"==== {b.label}", flush=True)
    only = {name for name in os.environ.get("BENCH_ONLY", "").split(",") if name}  # e.g. BENCH_ONLY=verify,queue
    sections = [eligibility, pages, verify, issuance, queue]
    if not b.postgres:  # one worker's memory does not depend on the database; profiles are of the SQLite run
        sections += [memory, profiles]
    try:
        setup(b)
        for section in sections:
            if not only or section.__name__ in only:
                section(b)
    finally:
        b.close()


def main() -> None:
    started = time.perf_counter()
    results: dict[str, float] = {}
    notes: list[str] = []
    b = Bench(results, notes)
    b.put("meta.cpu_count", os.cpu_count() or 0)
    b.put("meta.smoke", 1 if SMOKE else 0)
    b.put("meta.loadavg_start", _loadavg())
    pg = os.environ.get("BENCH_DATABASE_URL", "" if SMOKE else DEFAULT_PG)
    try:
        run_all(b)
        if pg and pg != "none" and _pg_reachable(pg):
            run_all(Bench(results, notes, pg))
            b.put("meta.postgresql", 1)
        else:
            b.put("meta.postgresql", 0)
            if not SMOKE:
                notes.append(f"PostgreSQL is not reachable at {pg or '(none given)'}: no pg. figures")
    finally:
        b.put("meta.loadavg_end", _loadavg())
        b.put("meta.total_s", time.perf_counter() - started, "s")
        RESULTS.write_text(json.dumps(dict(sorted(results.items())), indent=2) + "\n")
        print(f"wrote {RESULTS} ({len(results)} figures) on {platform.node()}", flush=True)
        for note in notes:
            print("note: " + note, flush=True)
