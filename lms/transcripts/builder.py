"""A trainee's transcript: one plain-data document built from the records, shown as a PDF and as CSV.

The transcript is a list of sections, each made by a small builder registered in :data:`SECTIONS` (modules, hours,
competency assessments, certificates). A new kind of result (a written exam, an OSCE) is one more builder: a
function taking the :class:`Subject` and returning a :class:`Section` (or None when there is nothing to show),
registered with :func:`section`. Builders read the records; they never write. Every value in a section is already
text or a number, so the PDF template and the CSV writer need no knowledge of the models.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from lms.extensions import db


@dataclass(frozen=True)
class Row:
    item: str
    result: str = ""
    hours: str = ""
    on: str = ""  # ISO date, or empty
    notes: str = ""


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    rows: list[Row]
    # The headings of the columns this section fills, by Row field (the others are left out of the PDF table).
    columns: dict[str, str] = field(default_factory=lambda: {"item": "Item", "result": "Result", "on": "Date"})
    note: str = ""


@dataclass(frozen=True)
class Subject:
    """Whose transcript, in which program (the builders' input)."""

    trainee_id: int
    name: str
    email: str
    program_id: str
    program_title: str
    enrollment_id: int | None
    enrolled_on: date | None
    standard: dict


@dataclass(frozen=True)
class Transcript:
    subject: Subject
    generated_on: date
    sections: list[Section]


SECTIONS: list[Callable[[Subject], Section | None]] = []


def section(builder: Callable[[Subject], Section | None]):
    """Register a section builder; sections appear in the order they were registered."""
    SECTIONS.append(builder)
    return builder


def _hours(value) -> str:
    return f"{Decimal(value).quantize(Decimal('0.01')).normalize():f}"


@section
def modules(subject: Subject) -> Section | None:
    from lms.training.models import Module, ModuleCompletion, QuizAttempt

    mods = db.session.execute(sa.select(Module).filter_by(program_id=subject.program_id, is_active=True)
                              .order_by(Module.position)).scalars().all()
    if not mods:
        return None
    done, best = {}, {}
    if subject.enrollment_id is not None:
        for c in db.session.execute(sa.select(ModuleCompletion).filter_by(enrollment_id=subject.enrollment_id)
                                    ).scalars():
            done[c.module_id] = c
        for module_id, score in db.session.execute(
                sa.select(QuizAttempt.module_id, sa.func.max(QuizAttempt.score_percent))
                .where(QuizAttempt.enrollment_id == subject.enrollment_id).group_by(QuizAttempt.module_id)):
            best[module_id] = score
    rows = []
    for m in mods:
        c = done.get(m.id)
        score = f"; best knowledge check {best[m.id]}%" if m.id in best else ""
        rows.append(Row(item=f"{m.module_key} {m.title}", result=("Completed" if c else "Not completed") + score,
                        hours=_hours(c.hours_credited) if c else "", on=c.completed_at.date().isoformat() if c else ""))
    return Section("modules", "Modules", rows, {"item": "Module", "result": "Result", "hours": "Hours credited",
                                                 "on": "Completed"},
                   note=f"{len(done)} of {len(mods)} modules completed.")


@section
def hours(subject: Subject) -> Section | None:
    from lms.hours.ledger import counted_minutes_by_category
    from lms.hours.models import CATEGORY_LABELS
    from lms.standards.queries import hour_targets
    from lms.training.models import ModuleCompletion

    counted = counted_minutes_by_category(subject.trainee_id)
    targets = hour_targets(subject.standard)
    rows = []
    if subject.enrollment_id is not None:
        didactic = db.session.execute(sa.select(sa.func.coalesce(sa.func.sum(ModuleCompletion.hours_credited), 0))
                                      .where(ModuleCompletion.enrollment_id == subject.enrollment_id)).scalar_one()
        rows.append(Row(item="Online (knowledge checks passed)", hours=_hours(didactic)))
    for key, label in CATEGORY_LABELS.items():
        target = targets.get(key)
        rows.append(Row(item=label, hours=_hours(Decimal(counted.get(key, 0)) / 60),
                        notes=f"{_hours(target)} required" if target else ""))
    return Section("hours", "Hours by category", rows, {"item": "Category", "hours": "Approved hours",
                                                        "notes": "Notes"},
                   note="Supervised hours count once an instructor approves them; corrected entries count once.")


@section
def assessments(subject: Subject) -> Section | None:
    from lms.assessments.models import Assessment

    amended = sa.select(Assessment.amends_id).where(Assessment.trainee_id == subject.trainee_id,
                                                    Assessment.amends_id.is_not(None))
    found = db.session.execute(
        sa.select(Assessment).where(Assessment.trainee_id == subject.trainee_id, Assessment.id.not_in(amended))
        .order_by(Assessment.competency_id, Assessment.observed_on, Assessment.id)).scalars().all()
    titles = {c["id"]: c.get("title", c["id"]) for c in subject.standard.get("competencies", [])}
    rows = [Row(item=f"{a.competency_id} {titles.get(a.competency_id, '')}".strip(),
                result=f"Level {a.level} of 5, {'passed' if a.passed else 'not passed'}"
                       + (", critical failure" if a.critical_failure else ""),
                on=a.observed_on.isoformat(), notes="simulated" if a.simulated else "")
            for a in found]
    return Section("assessments", "Competency assessments", rows,
                   {"item": "Competency", "result": "Observation", "on": "Observed", "notes": "Notes"},
                   note="Direct observations on the 1–5 entrustment scale; an amended observation shows its latest "
                        "version." if rows else "No observations recorded yet.")


@section
def written_exam(subject: Subject) -> Section | None:
    from lms.exams.models import ExamSitting

    sittings = db.session.execute(sa.select(ExamSitting).filter_by(trainee_id=subject.trainee_id)
                                  .order_by(ExamSitting.attempt_no, ExamSitting.id)).scalars().all()
    if not sittings:
        return None
    rows = []
    for s in sittings:
        if s.submitted_at is None:
            result = "In progress"
        else:
            result = (f"{'Passed' if s.passed else 'Not passed'}, {s.score_percent}% "
                      f"({s.correct} of {s.total}; pass mark {s.pass_mark}%)")
        notes = "submitted when the time ran out" if s.submitted_by == "time_limit" else ""
        rows.append(Row(item=f"Sitting {s.attempt_no}", result=result,
                        on=(s.submitted_at or s.started_at).date().isoformat(), notes=notes))
    return Section("written_exam", "Written exam", rows,
                   {"item": "Sitting", "result": "Result", "on": "Date", "notes": "Notes"},
                   note="Every sitting is listed, passed or not.")


@section
def osce(subject: Subject) -> Section | None:
    from lms.exams.models import OsceResult

    results = db.session.execute(sa.select(OsceResult).filter_by(trainee_id=subject.trainee_id)
                                 .order_by(OsceResult.assessed_on, OsceResult.id)).scalars().all()
    if not results:
        return None
    amended = {r.amends_id for r in results if r.amends_id}
    titles = {st["id"]: st.get("title", st["id"]) for st in subject.standard.get("osce", {}).get("stations", [])}
    rows = [Row(item=titles.get(r.station_id, r.station_id),
                result=f"{'Passed' if r.passed else 'Not passed'}, global rating {r.global_rating} of 5",
                on=r.assessed_on.isoformat(),
                notes="; ".join(r.failed_reasons or []) + (" (amended)" if r.amends_id else ""))
            for r in results if r.id not in amended]
    return Section("osce", "OSCE stations", rows,
                   {"item": "Station", "result": "Result", "on": "Assessed", "notes": "Notes"},
                   note="An amended station result shows its latest version.")


@section
def certificates(subject: Subject) -> Section | None:
    from lms.certificates.models import Certificate
    from lms.certificates.sharing import long_date, status_word
    from lms.certificates.verification import status_of

    certs = db.session.execute(sa.select(Certificate).filter_by(trainee_id=subject.trainee_id,
                                                                program_id=subject.program_id)
                               .order_by(Certificate.issued_on, Certificate.id)).scalars().all()
    if not certs:
        return None
    rows = [Row(item=c.serial, result=status_word(status_of(c)), on=c.issued_on.isoformat(),
                notes=f"valid until {long_date(c.expires_on)}; " + ", ".join(c.endorsements)) for c in certs]
    return Section("certificates", "Certificates", rows, {"item": "Serial", "result": "Status", "on": "Issued",
                                                          "notes": "Notes"})


def build(trainee, program_id: str, on: date) -> Transcript:
    """The transcript of ``trainee`` in ``program_id`` as of ``on``: every registered section that has content."""
    from lms.standards.queries import standard_for_user
    from lms.training.models import Enrollment, Program

    program = db.session.get(Program, program_id)
    enrollment = db.session.execute(sa.select(Enrollment).filter_by(user_id=trainee.id, program_id=program_id)
                                    ).scalar_one_or_none()
    version = standard_for_user(trainee.id, program_id)
    subject = Subject(trainee.id, trainee.name, trainee.email, program_id, program.title if program else program_id,
                      enrollment.id if enrollment else None, enrollment.enrolled_on if enrollment else None,
                      version.data if version is not None else {})
    return Transcript(subject, on, [s for s in (b(subject) for b in SECTIONS) if s is not None])


CSV_COLUMNS = ["section", "item", "result", "hours", "date", "notes"]


def to_csv(transcript: Transcript) -> str:
    """One row per line of every section (section, item, result, hours, date, notes), formula-safe."""
    from lms.certificates.verification import _safe_cell

    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(CSV_COLUMNS)
    for s in transcript.sections:
        for r in s.rows:
            w.writerow([_safe_cell(v) for v in (s.title, r.item, r.result, r.hours, r.on, r.notes)])
    return out.getvalue()
