"""Programs, modules, enrollments and knowledge checks."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.timeutil import utcnow
from lms.extensions import db


class Program(db.Model):
    __tablename__ = "programs"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    version: Mapped[str] = mapped_column(sa.String(40))
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    pass_mark: Mapped[int]
    manifest: Mapped[dict] = mapped_column(sa.JSON)  # prerequisites, hour targets, daily cap
    content_digest: Mapped[str] = mapped_column(sa.String(64))
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    modules = relationship("Module", order_by="Module.position", back_populates="program")

    @property
    def omt_min_hours(self) -> float:
        return float(self.manifest.get("prerequisites", {}).get("omt_min_hours", 28))

    @property
    def eligible_professions(self) -> list[str]:
        return list(self.manifest.get("prerequisites", {}).get("professions", []))

    @property
    def hour_targets(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.manifest.get("hour_targets", {}).items()}

    @property
    def daily_cap_hours(self) -> float:
        return float(self.manifest.get("daily_cap_hours", 10))


class Module(db.Model):
    __tablename__ = "modules"
    __table_args__ = (sa.UniqueConstraint("program_id", "module_key"), sa.UniqueConstraint("program_id", "slug"))

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[str] = mapped_column(sa.ForeignKey("programs.id"))
    module_key: Mapped[str] = mapped_column(sa.String(10))  # M1..M10
    slug: Mapped[str] = mapped_column(sa.String(80))
    position: Mapped[int]
    title: Mapped[str] = mapped_column(sa.String(200))
    objectives: Mapped[list] = mapped_column(sa.JSON)
    didactic_hours: Mapped[Decimal] = mapped_column(sa.Numeric(5, 2))
    delivery: Mapped[str] = mapped_column(sa.String(20))
    body_md: Mapped[str] = mapped_column(sa.Text)
    questions: Mapped[list] = mapped_column(sa.JSON)
    sources: Mapped[list] = mapped_column(sa.JSON)
    is_active: Mapped[bool] = mapped_column(default=True)  # a module dropped from the manifest is retired, not deleted

    program = relationship("Program", back_populates="modules")


class Enrollment(db.Model):
    __tablename__ = "enrollments"
    __table_args__ = (sa.UniqueConstraint("user_id", "program_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    program_id: Mapped[str] = mapped_column(sa.ForeignKey("programs.id"))
    program_version: Mapped[str] = mapped_column(sa.String(40))
    standard_version_id: Mapped[int | None] = mapped_column(sa.ForeignKey("standard_versions.id"))
    enrolled_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user = relationship("User", backref="enrollments")
    program = relationship("Program")
    standard_version = relationship("StandardVersion")


class QuizDraw(db.Model):
    """The items one knowledge-check form shows, drawn from the module's bank when the trainee opens the check.

    ``items`` lists, in display order, ``{"id", "order", "answer"}``: the bank item, the bank indices of its choices
    in the order shown, and the bank index of the correct choice (kept on the server only). A draw is answered at
    most once (the unique ``draw_id`` of an attempt); opening the check again after that makes a new draw.
    """

    __tablename__ = "quiz_draws"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrollments.id"), index=True)
    module_id: Mapped[int] = mapped_column(sa.ForeignKey("modules.id"))
    items: Mapped[list] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class QuizAttempt(db.Model):
    """Every knowledge-check attempt is kept. ``number`` counts a trainee's attempts at one module from 1; the unique
    key makes two submissions racing for the same number fail rather than both count."""

    __tablename__ = "quiz_attempts"
    __table_args__ = (sa.UniqueConstraint("enrollment_id", "module_id", "number", name="uq_quiz_attempt_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrollments.id"), index=True)
    module_id: Mapped[int] = mapped_column(sa.ForeignKey("modules.id"))
    draw_id: Mapped[int | None] = mapped_column(sa.ForeignKey("quiz_draws.id"), unique=True)
    number: Mapped[int | None]
    answers: Mapped[dict] = mapped_column(sa.JSON)  # item id -> bank index of the chosen choice
    results: Mapped[dict | None] = mapped_column(sa.JSON)  # item id -> 1 (right) or 0 (wrong); item analysis
    correct: Mapped[int]
    total: Mapped[int]
    score_percent: Mapped[int]
    passed: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    draw = relationship("QuizDraw")

    @property
    def wrong_ids(self) -> list[str]:
        return [k for k, v in (self.results or {}).items() if not v]


class ModuleCompletion(db.Model):
    """A passed module; the unique key makes the credit of its online hours (reading and activities) happen once.

    Lab hours are not credited here: they are credited when an instructor records the trainee's attendance."""

    __tablename__ = "module_completions"
    __table_args__ = (sa.UniqueConstraint("enrollment_id", "module_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrollments.id"), index=True)
    module_id: Mapped[int] = mapped_column(sa.ForeignKey("modules.id"))
    attempt_id: Mapped[int] = mapped_column(sa.ForeignKey("quiz_attempts.id"))
    hours_credited: Mapped[Decimal] = mapped_column(sa.Numeric(5, 2))
    completed_at: Mapped[datetime] = mapped_column(default=utcnow)

    module = relationship("Module")
