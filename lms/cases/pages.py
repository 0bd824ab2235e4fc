"""What the case, portfolio and outcomes pages show (plain data for the templates)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from lms.cases.charts import Point, line_chart
from lms.cases.measures import MEASURES, TIMEPOINTS, Change, MeasureDef
from lms.cases.models import Case, CaseMeasure
from lms.cases.operations import changes, is_documented, measures_of
from lms.extensions import db


@dataclass
class MeasureSeries:
    measure: MeasureDef
    rows: list[CaseMeasure]
    change: Change | None
    chart: str


def _band(m: MeasureDef, change_rows: list[CaseMeasure]) -> tuple[float, float] | None:
    base = next((r for r in change_rows if r.timepoint == "baseline"), None)
    if base is None or m.error is None:
        return None
    return (base.value - m.error, base.value + m.error)


def series_for(case: Case, measures: list[CaseMeasure]) -> list[MeasureSeries]:
    found = changes(measures)
    out = []
    for key, m in MEASURES.items():
        rows = [r for r in measures if r.measure == key]
        if not rows:
            continue
        points = [Point(r.measured_on.isoformat(), r.value, TIMEPOINTS.get(r.timepoint, r.timepoint)) for r in rows]
        chart = line_chart(f"chart-{key}", f"{m.label} over time, case {case.code}", m.unit, points, lo=m.lo,
                           hi=m.hi, band=_band(m, rows))
        out.append(MeasureSeries(m, rows, found.get(key), chart))
    return out


def sessions_of(case: Case):
    from lms.hours.models import HourEntry

    return list(db.session.execute(sa.select(HourEntry).filter_by(case_id=case.id)
                                   .order_by(HourEntry.entry_date, HourEntry.id)).scalars())


def corrections_of(case: Case) -> list[CaseMeasure]:
    corrected = sa.select(CaseMeasure.corrects_id).where(CaseMeasure.corrects_id.is_not(None))
    return list(db.session.execute(sa.select(CaseMeasure).where(CaseMeasure.case_id == case.id,
                                                                CaseMeasure.id.in_(corrected))
                                   .order_by(CaseMeasure.id)).scalars())


@dataclass
class PortfolioRow:
    case: Case
    changes: dict[str, Change]
    documented: bool
    measures: int


def portfolio(trainee_id: int) -> list[PortfolioRow]:
    from sqlalchemy.orm import selectinload

    cases = list(db.session.execute(sa.select(Case).filter_by(trainee_id=trainee_id)
                                    .options(selectinload(Case.letters)).order_by(Case.code)).scalars())
    per_case = measures_of([c.id for c in cases])
    return [PortfolioRow(c, changes(per_case[c.id]), is_documented(c, per_case[c.id]), len(per_case[c.id]))
            for c in cases]


def outcome_charts(report: dict) -> list[tuple[str, dict, str]]:
    """One bar-like line chart per measure: the baseline mean and the follow-up mean."""
    out = []
    for key, row in report["measures"].items():
        m = MEASURES[key]
        points = [Point("Baseline mean", row["baseline_mean"]), Point("Follow-up mean", row["followup_mean"])]
        out.append((key, row, line_chart(f"outcome-{key}", f"{m.label}: mean at baseline and follow-up "
                                         f"({row['cases']} cases)", m.unit, points, lo=m.lo, hi=m.hi)))
    return out
