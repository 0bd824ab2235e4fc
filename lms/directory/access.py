"""The access-gap report: for each jurisdiction of the regulations data, how many listed providers there are, with
each endorsement, per 100,000 people; which professions they come from; and what the jurisdiction's rules say.

Counts come from the same visibility rule as the directory (:func:`lms.directory.operations.listable_select`), at
query time, and place a provider in the jurisdiction of the city they practise in. Populations come from the cited
census counts in ``population.yaml``; a jurisdiction without a confirmed figure gets no rate ("not available").
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

import yaml

from lms.certificates.models import Certificate
from lms.directory.models import DirectoryListing
from lms.directory.operations import listable_select
from lms.extensions import db
from lms.jurisdictions.data import JURISDICTIONS, load_rules
from lms.jurisdictions.data import _cell as csv_cell  # the shared spreadsheet-formula guard
from lms.providers.professions import label as profession_label

POPULATION_FILE = Path(__file__).with_name("population.yaml")
ENDORSEMENT_KEYS = ("extraoral", "intraoral")
ACTIVITY_LABELS = {"intraoral": "intraoral massage", "tmj": "TMJ work", "omt": "orofacial myofunctional therapy",
                   "general": "practice in general"}
SORT_KEYS = ("jurisdiction", "providers", "providers_per_100k", "extraoral", "extraoral_per_100k", "intraoral",
             "intraoral_per_100k", "population")


@lru_cache(maxsize=1)
def populations() -> dict:
    data = yaml.safe_load(POPULATION_FILE.read_text(encoding="utf-8"))
    sources = data["sources"]
    return {code: {"population": int(row["population"]), "year": int(sources[row["source"]]["year"]),
                   "source": sources[row["source"]]["cite"]}
            for code, row in data["populations"].items()}


def _requirement_phrase(requires: dict) -> str:
    parts = []
    if requires.get("endorsement"):
        parts.append("needs an endorsement")
    if requires.get("min_hours"):
        parts.append(f"needs at least {requires['min_hours']:g} hours of training")
    if requires.get("supervised_in_person"):
        parts.append("training supervised in person")
    if requires.get("referral_written"):
        parts.append("needs a written referral")
    if requires.get("consent_written"):
        parts.append("needs written consent")
    if requires.get("witness_option"):
        parts.append("a witness on request")
    if requires.get("gloves"):
        parts.append("gloves")
    return ", ".join(parts) if parts else "rule on file, no specific requirement recorded"


def regulatory_status(rules: list[dict]) -> list[str]:
    """One plain line per rule, e.g. "Massage therapist, intraoral massage: needs an endorsement (read in source)"."""
    seen, lines = set(), []
    for rule in rules:
        activity = ACTIVITY_LABELS.get(rule["activity"], rule["activity"])
        checked = {"S": "read in the source", "V": "not yet checked against the rule's text",
                   "S/V": "partly checked"}.get(rule["status"], rule["status"])
        line = f"{profession_label(rule['profession'])}, {activity}: {_requirement_phrase(rule['requires'])} " \
               f"({checked})"
        if line not in seen:
            seen.add(line)
            lines.append(line)
    return lines


@dataclass
class GapRow:
    code: str
    label: str
    providers: int = 0
    endorsements: Counter = field(default_factory=Counter)
    professions: Counter = field(default_factory=Counter)
    population: int | None = None
    population_year: int | None = None
    population_source: str | None = None
    status: list[str] = field(default_factory=list)

    def per_100k(self, count: int) -> float | None:
        return round(count * 100_000 / self.population, 3) if self.population else None

    @property
    def providers_per_100k(self):
        return self.per_100k(self.providers)

    def value(self, key: str):
        if key == "jurisdiction":
            return self.label
        if key == "providers":
            return self.providers
        if key == "population":
            return self.population
        if key.endswith("_per_100k"):
            base = key[: -len("_per_100k")]
            return self.per_100k(self.providers if base == "providers" else self.endorsements[base])
        return self.endorsements[key]


def report(on: date | None = None, rules_file=None) -> list[GapRow]:
    """One row per jurisdiction of the regulations data, in the registry's jurisdiction order."""
    ruleset = load_rules(rules_file)
    by_jurisdiction: dict[str, list[dict]] = {}
    for rule in ruleset.rules:
        by_jurisdiction.setdefault(rule["jurisdiction"], []).append(rule)
    pops = populations()
    rows = {}
    for code in JURISDICTIONS:
        if code not in by_jurisdiction:
            continue
        pop = pops.get(code, {})
        rows[code] = GapRow(code, JURISDICTIONS[code], population=pop.get("population"),
                            population_year=pop.get("year"), population_source=pop.get("source"),
                            status=regulatory_status(by_jurisdiction[code]))
    columns = (DirectoryListing.jurisdiction, Certificate.endorsements, Certificate.profession)
    for jurisdiction, endorsements, profession in db.session.execute(listable_select(on, columns)):
        row = rows.get(jurisdiction)
        if row is None:
            continue
        row.providers += 1
        row.endorsements.update(e for e in (endorsements or []) if e in ENDORSEMENT_KEYS)
        row.professions[profession] += 1
    return list(rows.values())


def sort_rows(rows: list[GapRow], key: str, descending: bool) -> list[GapRow]:
    """Sort by a column; rows without a value (population not available) always go last."""
    if key not in SORT_KEYS:
        key = "jurisdiction"
    present = [r for r in rows if r.value(key) is not None]
    missing = [r for r in rows if r.value(key) is None]
    present.sort(key=lambda r: (r.value(key), r.label), reverse=descending)
    return present + missing


CSV_COLUMNS = ("jurisdiction", "jurisdiction_label", "listed_providers", "providers_per_100k", "extraoral",
               "extraoral_per_100k", "intraoral", "intraoral_per_100k", "professions", "population",
               "population_year", "population_source", "regulatory_status")


def to_csv(rows: list[GapRow]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        values = (r.code, r.label, r.providers, r.providers_per_100k, r.endorsements["extraoral"],
                  r.per_100k(r.endorsements["extraoral"]), r.endorsements["intraoral"],
                  r.per_100k(r.endorsements["intraoral"]),
                  "; ".join(f"{profession_label(k)}: {n}" for k, n in sorted(r.professions.items())),
                  r.population if r.population else "not available", r.population_year, r.population_source,
                  " | ".join(r.status))
        writer.writerow([csv_cell(v) for v in values])
    return buffer.getvalue()


@dataclass
class Bar:
    label: str
    value: float | None
    y: int
    width: float


def chart_bars(rows: list[GapRow], width: int = 300) -> tuple[list[Bar], float]:
    """Bars of listed providers per 100,000 people, scaled to ``width`` px; returns the bars and the scale's max."""
    values = [r.providers_per_100k for r in rows]
    top = max([v for v in values if v is not None] or [0]) or 1.0
    bars = [Bar(r.label, v, 10 + i * 28, (v or 0) / top * width) for i, (r, v) in enumerate(zip(rows, values,
                                                                                               strict=True))]
    return bars, top
