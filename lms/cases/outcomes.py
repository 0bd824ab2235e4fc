"""Program-wide outcomes: per measure, the cases with both a baseline and a follow-up, and their mean change."""

from __future__ import annotations

import csv
import io

import sqlalchemy as sa

from lms.auth.models import User
from lms.cases.deident import code_problem, text_problem
from lms.cases.measures import MEASURES
from lms.cases.models import Case
from lms.cases.operations import changes, measures_of
from lms.extensions import db

CSV_COLUMNS = ("measure", "label", "unit", "cases", "baseline_mean", "followup_mean", "change_mean",
               "improved_mcid", "mcid")


def _deidentified(case: Case) -> bool:
    """Only cases whose code and free text pass the identifier check count (older rows predate the check)."""
    return code_problem(case.code) is None and text_problem(case.summary, "summary") is None


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def profession_column():
    """The trainee's profession as on their profile (else as on their account)."""
    from lms.providers.models import ProviderProfile

    return sa.func.coalesce(ProviderProfile.profession, User.profession)


def cases_query():
    from lms.providers.models import ProviderProfile

    return (sa.select(Case).join(User, User.id == Case.trainee_id)
            .outerjoin(ProviderProfile, ProviderProfile.user_id == Case.trainee_id))


def aggregate(condition: str | None = None, profession: str | None = None) -> dict:
    """``{"measures": {key: {cases, baseline_mean, followup_mean, change_mean, improved_mcid, ...}}}``."""
    q = cases_query()
    if condition:
        q = q.where(Case.condition == condition)
    if profession:
        q = q.where(profession_column() == profession)
    cases = [c for c in db.session.execute(q.order_by(Case.id)).scalars() if _deidentified(c)]
    per_case = measures_of([c.id for c in cases])
    collected: dict[str, list] = {k: [] for k in MEASURES}
    for c in cases:
        for key, change in changes(per_case[c.id]).items():
            collected[key].append(change)
    out = {}
    for key, rows in collected.items():
        if not rows:
            continue
        m = MEASURES[key]
        out[key] = {
            "label": m.label,
            "unit": m.unit,
            "cases": len(rows),
            "baseline_mean": _mean([r.baseline for r in rows]),
            "followup_mean": _mean([r.followup for r in rows]),
            "change_mean": _mean([r.delta for r in rows]),
            "improved_mcid": (sum(1 for r in rows if r.reaches_mcid) if m.mcid is not None else None),
            "mcid": m.mcid,
            "within_measurement_error": (sum(1 for r in rows if r.within_error) if m.error is not None else None),
        }
    return {"measures": out}


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_csv(report: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for key, row in report["measures"].items():
        # Changes are signed numbers: keep the minus sign (a number is never read as a formula when quoted as one).
        writer.writerow([key] + [_cell(row.get(c)) if c in ("label", "unit") else
                                 ("" if row.get(c) is None else row.get(c)) for c in CSV_COLUMNS[1:]])
    return out.getvalue()
