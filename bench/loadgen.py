"""Fallback load generator when wrk is not installed: ``python -m bench.loadgen URL SERIALS_FILE SECONDS THREADS``.

Runs in its own process (so it does not share the server's interpreter) and prints one ``WRK_JSON {...}`` line with
the same fields as bench/verify.lua. Python threads generate less load than wrk; the app and the floor are driven by
the same generator, so their ratio still compares like with like.
"""

from __future__ import annotations

import http.client
import json
import random
import sys
import threading
import time
from urllib.parse import urlsplit


def main() -> None:
    url, serials_file, seconds, threads = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    with open(serials_file, encoding="ascii") as fh:
        serials = [s.strip() for s in fh if s.strip()]
    parts = urlsplit(url)
    latencies: list[float] = []
    errors = {"connect": 0, "read": 0, "status": 0}
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        local, local_errors = [], {"connect": 0, "read": 0, "status": 0}
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            try:
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
                conn.request("GET", f"/api/v1/certificates/{rng.choice(serials)}")
                resp = conn.getresponse()
                resp.read()
                conn.close()
            except ConnectionError:
                local_errors["connect"] += 1
                continue
            except OSError:
                local_errors["read"] += 1
                continue
            if resp.status >= 400:
                local_errors["status"] += 1
            local.append(time.perf_counter() - start)
        with lock:
            latencies.extend(local)
            for k, v in local_errors.items():
                errors[k] += v

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    duration = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> int:
        return int(latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1e6) if latencies else 0

    out = {"requests": len(latencies) + errors["status"], "duration_us": int(duration * 1e6), "p50_us": pct(50),
           "p99_us": pct(99), "mean_us": sum(latencies) / len(latencies) * 1e6 if latencies else 0,
           "connect_errors": errors["connect"], "read_errors": errors["read"], "write_errors": 0,
           "status_errors": errors["status"], "timeouts": 0}
    print("WRK_JSON " + json.dumps(out))


if __name__ == "__main__":
    main()
