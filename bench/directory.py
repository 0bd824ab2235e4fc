"""``python -m bench.directory [N ...]``: how directory searches scale with the number of listed providers.

For each N (default 200, 2,000 and 10,000) a fresh SQLite database is migrated and filled with N listed providers
spread over the larger US and Canadian cities, each with a current certificate. Then, in the same run, it times:

* the baseline: one indexed count of the listings (the floor any search pays);
* a search near a city with a 50 km and a 250 km radius, and a search with no place (every listing, by name);
* the JSON API for the 250 km search, through the app's test client (rendering and serialisation included).

Figures are medians of several runs, in milliseconds, printed as a table. Set DATABASE_URL-style
``BENCH_DIRECTORY_DB`` to a PostgreSQL URL to run against PostgreSQL instead of SQLite.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

RUNS = 7


def _median_ms(fn, runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _fill(app, n: int, seed: int = 7) -> None:
    """N users, profiles, current certificates and listed listings, inserted in bulk."""
    from lms.auth.models import User
    from lms.certificates.models import Certificate
    from lms.directory.geography import gazetteer
    from lms.directory.models import DirectoryListing
    from lms.extensions import db
    from lms.providers.models import ProviderProfile
    from lms.standards.models import StandardVersion
    from lms.training.models import Program

    rng = random.Random(seed)
    cities = [p for p in gazetteer().all_cities() if p.country in ("US", "CA") and p.population >= 50_000]
    with app.app_context():
        db.session.add(Program(id="omr", title="Bench program", version="1", pass_mark=80, manifest={},
                               content_digest="0" * 64))
        db.session.flush()
        sv = StandardVersion(program_id="omr", standard_key="bench", version="1", title="Bench", digest="0" * 64,
                             data={}, source_path="-")
        db.session.add(sv)
        # "!" is no valid hash: bench accounts can never sign in.
        admin = User(email="admin@bench.test", name="Admin", role="admin", password_hash="!")  # noqa: S106
        db.session.add(admin)
        db.session.flush()
        today = date.today()
        users = [{"email": f"p{i}@bench.test", "name": f"Provider {i}", "role": "trainee", "password_hash": "!",
                  "session_token": f"t{i}"} for i in range(n)]
        db.session.execute(sa.insert(User), users)
        ids = db.session.execute(sa.select(User.id).where(User.role == "trainee").order_by(User.id)).scalars().all()
        db.session.execute(sa.insert(ProviderProfile), [
            {"user_id": uid, "legal_name": f"Provider {i}", "profession": "dental_hygienist", "license_number": "L",
             "jurisdiction": "OTHER", "license_expires_on": today + timedelta(days=300)} for i, uid in enumerate(ids)])
        db.session.execute(sa.insert(Certificate), [
            {"serial": f"OFM-B{i:05d}-00000-00000", "trainee_id": uid, "program_id": "omr",
             "standard_version_id": sv.id, "is_current": True, "holder_name": f"Provider {i}",
             "profession": "dental_hygienist", "license_number": "L", "jurisdiction": "OTHER",
             "endorsements": ["extraoral"], "issued_on": today, "expires_on": today + timedelta(days=700),
             "evidence": {}, "design": "classic", "pdf_sha256": "0" * 64, "pdf_bytes": b"", "status_index": i,
             "issued_by_id": admin.id} for i, uid in enumerate(ids)])
        listings = []
        for uid in ids:
            c = rng.choice(cities)
            listings.append({"user_id": uid, "listed": True, "practice_name": "", "city": c.name,
                             "region_code": c.region_code, "region_name": c.region_name, "country": c.country,
                             "jurisdiction": c.jurisdiction, "latitude": c.latitude, "longitude": c.longitude,
                             "show_profession": True, "show_endorsements": True, "conditions": ["tmd"],
                             "languages": ["en"], "accepts_referrals": True, "telehealth_followup": False,
                             "website": "", "phone": ""})
        db.session.execute(sa.insert(DirectoryListing), listings)
        db.session.commit()


def measure(n: int, db_url: str | None = None, runs: int = RUNS) -> dict:
    from flask_migrate import upgrade

    from config import TestingConfig
    from lms import create_app
    from lms.directory import operations
    from lms.directory.models import DirectoryListing
    from lms.extensions import db

    with tempfile.TemporaryDirectory() as tmp:
        url = db_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        app = create_app(TestingConfig, INSTANCE_PATH=Path(tmp) / "instance", SQLALCHEMY_DATABASE_URI=url)
        with app.app_context():
            if db_url:
                db.drop_all()
                db.session.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
                db.session.commit()
            upgrade()
        _fill(app, n)
        figures = {"n": n}
        with app.app_context():
            def count():
                db.session.execute(sa.select(sa.func.count()).select_from(DirectoryListing)).scalar_one()

            def search(**kw):
                def run():
                    operations.search(operations.parse_params(kw))
                    db.session.rollback()
                return run

            figures["baseline_count_ms"] = _median_ms(count, runs)
            figures["near_50km_ms"] = _median_ms(search(near="Seattle, WA", radius_km="50"), runs)
            figures["near_250km_ms"] = _median_ms(search(near="Seattle, WA", radius_km="250"), runs)
            figures["everyone_ms"] = _median_ms(search(), runs)
            figures["matches_250km"] = operations.search(
                operations.parse_params({"near": "Seattle, WA", "radius_km": "250"})).total
        client = app.test_client()
        figures["api_250km_ms"] = _median_ms(
            lambda: client.get("/api/v1/directory?near=Seattle,%20WA&radius_km=250").close(), runs)
        with app.app_context():
            db.session.remove()
            if db_url:
                db.drop_all()
            db.engine.dispose()
    return figures


def main(argv: list[str]) -> list[dict]:
    sizes = [int(a) for a in argv] or [200, 2000, 10000]
    db_url = os.environ.get("BENCH_DIRECTORY_DB")
    rows = [measure(n, db_url) for n in sizes]
    cols = ("n", "baseline_count_ms", "near_50km_ms", "near_250km_ms", "everyone_ms", "api_250km_ms",
            "matches_250km")
    print(f"Directory search, median ms of {RUNS} runs ({'PostgreSQL' if db_url else 'SQLite'})")
    print("  ".join(f"{c:>17}" for c in cols))
    for r in rows:
        print("  ".join(f"{r[c]:>17.2f}" if isinstance(r[c], float) else f"{r[c]:>17}" for c in cols))
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
