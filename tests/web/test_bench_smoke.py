"""``make bench`` at tiny sizes: every section runs end to end (the app under gunicorn against the floor, issuance,
eligibility, pages, the job queue, memory, profiles) and writes every figure the README and the issue quote. Timings
are not checked: this only keeps the benchmark from breaking unnoticed."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KEYS = ("verify.rps_ratio", "verify.p99_ratio", "issue.ratio", "eligibility.cohort_10k_s",
        "eligibility.cohort_queries_1k", "eligibility.cohort_queries_10k", "memory.worker_rss_growth_mb",
        "scale.db_mb_per_10k_trainees", "pages.admin_gradebook_ms", "verify.app_rps_per_worker", "pages.verify_page_ms",
        "pages.verify_page_rendered_ms")


def test_bench_smoke_run_writes_every_figure(tmp_path):
    results = tmp_path / "results.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BENCH_", "REDIS_URL", "JOBS_"))}
    env.update({"BENCH_RESULTS": str(results), "BENCH_DATABASE_URL": "none"})
    proc = subprocess.run([sys.executable, "-m", "bench", "--smoke"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    figures = json.loads(results.read_text())
    missing = [k for k in KEYS if k not in figures]
    assert not missing, missing
    assert figures["meta.smoke"] == 1
    assert figures["verify.app_errors"] == 0 and figures["verify.app_rps"] > 0
    assert figures["eligibility.cohort_queries_1k"] == figures["eligibility.cohort_queries_10k"]
    # The smoke run writes where it was told (never over the committed results of the full run).
    assert f"wrote {results} (" in proc.stdout
    if figures.get("queue.cohort_count") is not None:
        assert figures["export.rows"] > 0
