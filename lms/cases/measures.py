"""Outcome measures: what each one records, its valid range and unit, how it is scored, and how change is read.

Pure functions, no database. Sources (only what was confirmed with a source; the README's "Clinical cases" section
says the same):

- MIO in millimetres, and the ±2 mm agreement rule the program teaches for C7 (courses/omr/modules/08-outcomes.md).
  No minimal clinically important difference for MIO is established in the program's evidence; a change within
  ±2 mm is flagged as within measurement error.
- Pain on a 0-10 numeric rating scale. A fall of about 2 points (or about 30%) matched patients rating themselves
  much improved: Farrar et al. 2001, Pain 94(2):149-158 (EVIDENCE.md §7). The program uses 2 points.
- JFLS-8: eight items, each 0 (no limitation) to 10 (severe limitation) (Ohrbach et al. 2008). The score is the
  mean of the items answered (at least 6 of 8 here). No MCID is cited.
- EAT-10: ten items 0-4, total = sum (0-40), a total of 3 or more is abnormal (Belafsky et al. 2008).
- OHIP-14: fourteen items 0 (never) to 4 (very often); the additive score is the sum (0-56) (Slade 1997).
- GTQ 2: the scoring manual is not public (the developers share it on request), so the app records the total the
  trainee scored on the form, on its 0-100 scale, and does not compute it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import isfinite


class MeasureError(ValueError):
    """A value that cannot be stored; the message says what is wrong and what is allowed."""


@dataclass(frozen=True)
class MeasureDef:
    key: str
    label: str
    unit: str
    lo: float
    hi: float
    higher_is_better: bool
    items: int = 0  # questionnaires: the number of items; 0 for a single value
    item_lo: int = 0
    item_hi: int = 0
    mcid: float | None = None  # minimal clinically important difference, where one is cited
    mcid_source: str = ""
    error: float | None = None  # measurement error: a smaller change is flagged
    error_source: str = ""
    scoring: str = ""
    loinc: tuple[str, str] | None = None  # (code, display), only where confirmed
    methods: dict[str, tuple[str, ...]] = field(default_factory=dict)
    conditions: tuple[str, ...] = ()  # conditions the measure is meant for (empty: any)
    decimals: int = 0


PAIN_MCID_SOURCE = "Farrar et al. 2001, Pain 94(2):149-158: a fall of about 2 points on the 0-10 scale"
PAIN_LOINC = ("72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported")
MIO_ERROR_SOURCE = "the program's ±2 mm rule for repeated MIO measurements (module M8, competency C7)"


def _pain(key: str, where: str) -> MeasureDef:
    return MeasureDef(key=key, label=f"Pain {where} (NRS 0-10)", unit="points", lo=0, hi=10, higher_is_better=False,
                      mcid=2, mcid_source=PAIN_MCID_SOURCE, loinc=PAIN_LOINC,
                      scoring="One whole number from 0 (no pain) to 10 (worst pain imaginable).")


MEASURES: dict[str, MeasureDef] = {m.key: m for m in (
    MeasureDef(key="mio_mm", label="Maximal interincisal opening", unit="mm", lo=0, hi=90, higher_is_better=True,
               error=2, error_source=MIO_ERROR_SOURCE, decimals=0,
               scoring="Millimetres between the incisal edges at maximal opening, by ruler or calipers.",
               methods={"assisted": ("unassisted", "assisted"),
                        "overlap": ("overlap_included", "overlap_not_included"),
                        "instrument": ("ruler", "calipers")}),
    _pain("pain_nrs_rest", "at rest"),
    _pain("pain_nrs_opening", "on opening"),
    _pain("pain_nrs_clenching", "on clenching"),
    MeasureDef(key="jfls8", label="JFLS-8 jaw function limitation", unit="mean item score", lo=0, hi=10,
               higher_is_better=False, items=8, item_lo=0, item_hi=10, decimals=2,
               scoring="Mean of the items answered (each 0-10); at least 6 of the 8 items must be answered."),
    MeasureDef(key="gtq", label="Gothenburg Trismus Questionnaire (GTQ 2) total", unit="score 0-100", lo=0, hi=100,
               higher_is_better=False, decimals=1, conditions=("radiation_trismus", "post_surgical"),
               scoring="The total scored on the GTQ 2 form (0-100); its scoring manual is not public, so the "
                       "app records the total and does not compute it."),
    MeasureDef(key="ohip14", label="OHIP-14 oral health impact", unit="points (0-56)", lo=0, hi=56,
               higher_is_better=False, items=14, item_lo=0, item_hi=4,
               scoring="Sum of the 14 items, each 0 (never) to 4 (very often): 0-56."),
    MeasureDef(key="eat10", label="EAT-10 swallowing screen", unit="points (0-40)", lo=0, hi=40,
               higher_is_better=False, items=10, item_lo=0, item_hi=4,
               scoring="Sum of the 10 items, each 0 (no problem) to 4 (severe problem): 0-40; 3 or more is "
                       "abnormal."),
)}

EAT10_ABNORMAL = 3
JFLS8_MIN_ANSWERED = 6
TIMEPOINTS = {"baseline": "Baseline", "session": "Session", "follow_up": "Follow-up"}


def measure_def(key: str) -> MeasureDef:
    m = MEASURES.get(key)
    if m is None:
        raise MeasureError("Choose a measure from the list: " + ", ".join(d.label for d in MEASURES.values()) + ".")
    return m


def _number(raw, what: str) -> float:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise MeasureError(f"Enter {what}.")
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise MeasureError(f"{what[0].upper()}{what[1:]} must be a number.") from None
    if not isfinite(value):
        raise MeasureError(f"{what[0].upper()}{what[1:]} must be a number.")
    return value


def score_items(m: MeasureDef, items: list) -> float:
    """Score a questionnaire from its item responses (None = not answered). Raises MeasureError with a reason."""
    if len(items) != m.items:
        raise MeasureError(f"{m.label} has {m.items} items; {len(items)} were given.")
    answered: list[int] = []
    for i, raw in enumerate(items, start=1):
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        value = _number(raw, f"{m.label} item {i}")
        if value != int(value) or not m.item_lo <= value <= m.item_hi:
            raise MeasureError(f"{m.label} item {i} is {raw}; each item is a whole number from {m.item_lo} to "
                               f"{m.item_hi}.")
        answered.append(int(value))
    if m.key == "jfls8":
        if len(answered) < JFLS8_MIN_ANSWERED:
            raise MeasureError(f"Only {len(answered)} of the 8 JFLS-8 items were answered; at least "
                               f"{JFLS8_MIN_ANSWERED} are needed for a score.")
        return round(sum(answered) / len(answered), 2)
    if len(answered) != m.items:
        raise MeasureError(f"Answer all {m.items} items of the {m.label}; {m.items - len(answered)} "
                           f"{'is' if m.items - len(answered) == 1 else 'are'} blank.")
    return float(sum(answered))


def validate_value(m: MeasureDef, raw) -> float:
    """A single value in its range and unit."""
    value = _number(raw, f"the {m.label.lower()} in {m.unit}")
    if not m.lo <= value <= m.hi:
        raise MeasureError(f"{m.label}: {value:g} {m.unit} is outside the possible range of {m.lo:g} to {m.hi:g} "
                           f"{m.unit}. Check the reading and the unit; nothing was saved.")
    if m.key.startswith("pain_nrs") and value != int(value):
        raise MeasureError(f"{m.label}: the numeric rating scale takes whole numbers from 0 to 10.")
    return round(value, m.decimals)


def validate_method(m: MeasureDef, method: dict) -> dict:
    """The method fields the measure requires (MIO: assisted or not, overlap included or not, instrument)."""
    out = {}
    for name, allowed in m.methods.items():
        chosen = (method or {}).get(name)
        if chosen not in allowed:
            raise MeasureError(f"Say how the {m.label.lower()} was measured: {name} must be one of "
                               f"{', '.join(a.replace('_', ' ') for a in allowed)}.")
        out[name] = chosen
    return out


def interpret_eat10(total: float) -> str:
    return "abnormal (3 or more)" if total >= EAT10_ABNORMAL else "within normal limits (below 3)"


@dataclass(frozen=True)
class Change:
    measure: MeasureDef
    baseline: float
    followup: float

    @property
    def delta(self) -> float:
        return round(self.followup - self.baseline, 2)

    @property
    def improvement(self) -> float:
        """Positive when the patient got better, whatever the measure's direction."""
        return self.delta if self.measure.higher_is_better else -self.delta

    @property
    def direction(self) -> str:
        if self.within_error or self.delta == 0:
            return "no change"
        return "improved" if self.improvement > 0 else "worse"

    @property
    def within_error(self) -> bool:
        return self.measure.error is not None and abs(self.delta) < self.measure.error

    @property
    def reaches_mcid(self) -> bool | None:
        if self.measure.mcid is None:
            return None
        return self.improvement >= self.measure.mcid

    def summary(self) -> str:
        m = self.measure
        text = f"{self.delta:+g} {m.unit} ({self.direction})"
        if self.within_error:
            text += f"; smaller than the measurement error of ±{m.error:g} {m.unit}"
        if m.mcid is not None:
            text += (f"; reaches the minimal clinically important difference of {m.mcid:g} {m.unit}"
                     if self.reaches_mcid else f"; below the minimal clinically important difference of "
                     f"{m.mcid:g} {m.unit}")
        return text
