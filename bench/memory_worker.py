"""One long-lived worker rendering and signing the same certificate over and over, reporting its memory:
``python -m bench.memory_worker RENDERS`` prints ``MEM_JSON {...}`` (RSS after warm-up, after every render, peak).

Run in a fresh process so the figures are this worker's alone. Uses the app's real path (``render_and_sign`` with the
process-wide FontConfiguration), which is what a gunicorn worker does when it issues certificates.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import date

WARMUP = 10


def _status(field: str) -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # kB -> MB
    return 0.0


def main() -> None:
    renders = int(sys.argv[1])
    from config import DevelopmentConfig
    from lms import create_app
    from lms.certificates.issuing import add_months, build_pdf_context, render_and_sign

    app = create_app(DevelopmentConfig, SQLALCHEMY_DATABASE_URI=os.environ["BENCH_DB_URL"],
                     INSTANCE_PATH=os.environ["LMS_INSTANCE_PATH"])
    with app.app_context():
        from lms.standards.queries import current_version

        standard = current_version(app.config["DEFAULT_PROGRAM"]).data
        on = date(2026, 1, 15)
        rss = []
        for i in range(WARMUP + renders):
            context = build_pdf_context(
                serial="OFM-7K3MQ-9XP2D-4CAB8", holder_name=f"Memory Check {i % 7}", profession="dentist",
                license_number=f"LIC-{i:06d}", jurisdiction="US-OR", program_title="Orofacial Massage & Rehabilitation",
                endorsements=["extraoral", "intraoral"], standard=standard, notices=[], issued_on=on,
                expires_on=add_months(on, 24))
            render_and_sign(context, app.config["CERTIFICATE_DESIGN"])
            if i >= WARMUP - 1:
                rss.append(_status("VmRSS"))
    print("MEM_JSON " + json.dumps({"after_warmup_mb": rss[0], "middle_mb": rss[len(rss) // 2], "final_mb": rss[-1],
                                    "max_mb": max(rss),
                                    "peak_mb": _status("VmHWM"), "renders": renders,
                                    "series_mb": [round(x, 1) for x in rss[:: max(1, len(rss) // 20)]]}))


if __name__ == "__main__":
    main()
