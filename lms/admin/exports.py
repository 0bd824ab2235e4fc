"""Report exports built in the background and kept in the database.

An admin asks for the cohort CSV; the request only records the export (status ``queued``) and queues the job, so it
returns at once whatever the cohort's size. The job (:func:`build_export`) writes the CSV into the row itself, so any
instance can serve the download: nothing lives on one instance's disk. The admin's exports page shows each export's
status and offers the download when it is ready.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, deferred, mapped_column

from lms.core.timeutil import utcnow
from lms.extensions import db


class ReportExport(db.Model):
    __tablename__ = "report_exports"
    __table_args__ = (sa.CheckConstraint("status IN ('queued','running','ready','failed')", name="status_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40))  # cohort-csv
    program_id: Mapped[str] = mapped_column(sa.String(40))
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(10), default="queued")
    rows: Mapped[int | None]
    content: Mapped[bytes | None] = deferred(mapped_column(sa.LargeBinary))
    error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    @property
    def filename(self) -> str:
        return f"cohort-{self.program_id}-{self.created_at:%Y%m%d-%H%M}.csv"


def request_export(program_id: str, user) -> ReportExport:
    """Record an export request (the caller commits, then calls :func:`queue_export`)."""
    export = ReportExport(kind="cohort-csv", program_id=program_id, requested_by_id=user.id, status="queued")
    db.session.add(export)
    db.session.flush()
    return export


def queue_export(export_id: int):
    from lms import jobs

    return jobs.enqueue("lms.jobs.tasks.export_cohort_csv", export_id)


def build_export(export_id: int) -> dict:
    """Build the CSV of one export (the job). Marks it running, then ready with the file, or failed with why."""
    from lms.admin.reports import cohort_csv

    export = db.session.get(ReportExport, export_id)
    if export is None or export.status not in ("queued", "running"):
        return {"export": export_id, "status": getattr(export, "status", "missing")}
    program_id = export.program_id
    export.status = "running"
    db.session.commit()
    try:
        chunks = list(cohort_csv(program_id))
    except Exception as exc:
        db.session.rollback()
        export = db.session.get(ReportExport, export_id)
        export.status, export.error, export.finished_at = "failed", f"{type(exc).__name__}: {exc}"[:2000], utcnow()
        db.session.commit()
        raise
    body = "".join(chunks).encode("utf-8")
    export = db.session.get(ReportExport, export_id)  # the CSV's batches emptied the session
    export.content, export.rows = body, max(body.count(b"\n") - 1, 0)
    export.status, export.finished_at = "ready", utcnow()
    db.session.commit()
    return {"export": export_id, "status": "ready", "rows": export.rows, "bytes": len(body)}


def recent_exports(limit: int = 20) -> list[ReportExport]:
    return list(db.session.execute(sa.select(ReportExport).order_by(ReportExport.id.desc()).limit(limit)).scalars())
