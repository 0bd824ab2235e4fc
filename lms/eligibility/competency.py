"""Sign-off logic for one competency, over plain observation facts.

A competency definition comes from the standard file (``competencies:``). An observation
*passes* when its entrustment level reaches the required level, no critical failure was
recorded, and every criterion the standard marks as critical was met. Whether a criterion is
critical is read from the standard, never from the observation, so an assessor cannot
downgrade a critical item by typing.

A competency is signed off when the most recent ``observations`` counted observations all pass
(a trailing run of passes at least that long), and that run also covers enough distinct
assessors and cases and, where the standard asks for it, a dental-professional assessor.

Assessors, cases and the dental-assessor rule are counted over the whole trailing run of passes,
not only over its last N entries. Counting over the last N would let one more *passing*
observation push an earlier assessor out of the window and undo a sign-off, which would be
unfair to the trainee and surprising to a board.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from lms.core.phrases import _, join_phrases, ngettext, translated_data
from lms.eligibility.facts import ObservationFact, builder

DENTAL_ASSESSOR_ALWAYS = "always"
DENTAL_ASSESSOR_ROUTE_N = "route_n"
DENTAL_ASSESSOR_NEVER = "never"

DEFAULT_REQUIRED_LEVEL = 4


@dataclass(frozen=True)
class CompetencyStatus:
    """Where a trainee stands on one competency."""

    competency_id: str
    title: str
    signed_off: bool
    passing: int  # length of the trailing run of passes, capped at ``required``
    required: int  # N: passing observations in a row needed
    required_level: int
    assessors: int  # distinct assessors in the trailing run of passes
    min_assessors: int
    cases: int  # distinct case codes in the trailing run of passes
    min_cases: int  # 0 = no case rule
    dental_assessor_needed: bool
    dental_assessor_present: bool
    breaking_observation: ObservationFact | None  # latest counted observation that did not pass
    breaking_reasons: tuple[str, ...]  # why it did not pass, in plain words
    reset_by: ObservationFact | None  # the critical failure that reset the count, if any
    progress: str

    @cached_property
    def label(self) -> str:
        """Competency id and title, e.g. ``"C6 Intraoral massage technique"``."""
        if not self.title:
            return self.competency_id
        return _("%(id)s %(title)s", id=self.competency_id, title=self.title)

    @property
    def assessors_short(self) -> int:
        """How many more distinct assessors the trailing run needs (a one-assessor rule never falls short
        on its own: any passing observation brings its assessor)."""
        return max(0, self.min_assessors - self.assessors) if self.min_assessors > 1 else 0

    @property
    def cases_short(self) -> int:
        """How many more distinct cases the trailing run needs."""
        return max(0, self.min_cases - self.cases) if self.min_cases > 0 else 0


_make_status = builder(CompetencyStatus)  # a cohort works out ten per trainee


def _int(definition: Mapping[str, Any], key: str, default: int) -> int:
    value = definition.get(key)
    return default if value is None else int(value)


def required_level(competency_def: Mapping[str, Any]) -> int:
    """Entrustment level an observation must reach (1-5)."""
    return _int(competency_def, "required_level", DEFAULT_REQUIRED_LEVEL)


def critical_criteria(competency_def: Mapping[str, Any]) -> list[str]:
    """Ids of the criteria the standard marks as critical, in standard order."""
    return [str(c["id"]) for c in competency_def.get("criteria") or () if c.get("critical")]


def failure_reasons(competency_def: Mapping[str, Any], obs: ObservationFact) -> list[str]:
    """Plain-language reasons why an observation does not pass; empty when it passes.

    A critical criterion with no recorded result counts as not met: a missing tick must not
    let a safety item through.
    """
    return failure_reasons_at(obs, required_level(competency_def), critical_criteria(competency_def))


def failure_reasons_at(obs: ObservationFact, level: int, critical: Sequence[str]) -> list[str]:
    """:func:`failure_reasons` with the definition's required level and critical criteria worked out once."""
    reasons: list[str] = []
    if obs.level < level:
        reasons.append(_("level %(level)s, below the required %(required)s", level=obs.level, required=level))
    if obs.critical_failure:
        reasons.append(_("a critical failure was recorded"))
    if not critical:
        return reasons
    recorded: dict[str, bool] = {}
    for criterion in obs.criteria:
        # If a criterion is recorded twice, any "not met" wins.
        recorded[criterion.id] = recorded.get(criterion.id, True) and criterion.met
    for criterion_id in critical:
        if criterion_id not in recorded:
            reasons.append(_("critical criterion %(id)s not recorded", id=criterion_id))
        elif not recorded[criterion_id]:
            reasons.append(_("critical criterion %(id)s not met", id=criterion_id))
    return reasons


def observation_passes(competency_def: Mapping[str, Any], obs: ObservationFact) -> bool:
    """True when the observation reaches the required level, has no critical failure, and meets
    every criterion the standard marks as critical."""
    return not failure_reasons(competency_def, obs)


def _relevant(competency_def: Mapping[str, Any], observations: Iterable[ObservationFact]) -> list[ObservationFact]:
    """This competency's current observations (simulated only if allowed), oldest first."""
    competency_id = str(competency_def["id"])
    simulation_allowed = bool(competency_def.get("simulation_allowed", False))
    return sorted(
        (
            o
            for o in observations
            if o.competency_id == competency_id and not o.superseded and (simulation_allowed or not o.simulated)
        ),
        # recorded_seq breaks same-day ties; id makes the order total so input order never matters.
        key=lambda o: (o.observed_on, o.recorded_seq, o.id),
    )


def _reset_point(competency_def: Mapping[str, Any], relevant: list[ObservationFact]) -> int:
    """Index of the last critical failure when it resets the count, else -1."""
    if not competency_def.get("critical_failure_resets"):
        return -1
    return max((i for i, o in enumerate(relevant) if o.critical_failure), default=-1)


def counted_observations(
    competency_def: Mapping[str, Any], observations: Iterable[ObservationFact]
) -> list[ObservationFact]:
    """The observations that count for this competency, oldest first.

    Drops other competencies, superseded records and (unless the standard allows simulation)
    simulated ones; orders by (observed_on, recorded_seq, id) so record order never matters;
    and, when ``critical_failure_resets`` is set, keeps only those after the last critical failure.
    """
    relevant = _relevant(competency_def, observations)
    return relevant[_reset_point(competency_def, relevant) + 1 :]


def dental_assessor_needed(competency_def: Mapping[str, Any], trainee_is_dental: bool) -> bool:
    """Whether at least one assessor must be a dental professional for this trainee.

    An unknown setting is treated as ``always``: a typo in the standard should make sign-off
    stricter, never looser.
    """
    rule = str(competency_def.get("dental_assessor") or DENTAL_ASSESSOR_NEVER)
    if rule == DENTAL_ASSESSOR_NEVER:
        return False
    if rule == DENTAL_ASSESSOR_ROUTE_N:
        return not trainee_is_dental
    return True


@dataclass(frozen=True)
class CompetencySpec:
    """A competency definition's thresholds, read from the standard once (a cohort shares them)."""

    competency_id: str
    title: str
    required: int
    min_assessors: int
    min_cases: int
    required_level: int
    critical: tuple[str, ...]
    resets: bool  # a critical failure resets the count
    simulation_allowed: bool
    dental_rule: str

    @classmethod
    def of(cls, competency_def: Mapping[str, Any]) -> CompetencySpec:
        return cls(
            competency_id=str(competency_def["id"]),
            title=translated_data(str(competency_def.get("title") or ""), {"fr": competency_def.get("title_fr")}),
            required=max(1, _int(competency_def, "observations", 1)),
            min_assessors=max(1, _int(competency_def, "min_assessors", 1)),
            min_cases=max(0, _int(competency_def, "min_cases", 0)),
            required_level=required_level(competency_def),
            critical=tuple(critical_criteria(competency_def)),
            resets=bool(competency_def.get("critical_failure_resets")),
            simulation_allowed=bool(competency_def.get("simulation_allowed", False)),
            dental_rule=str(competency_def.get("dental_assessor") or DENTAL_ASSESSOR_NEVER),
        )

    def needs_dental(self, trainee_is_dental: bool) -> bool:
        """As :func:`dental_assessor_needed`."""
        if self.dental_rule == DENTAL_ASSESSOR_NEVER:
            return False
        if self.dental_rule == DENTAL_ASSESSOR_ROUTE_N:
            return not trainee_is_dental
        return True


def sign_off(
    competency_def: Mapping[str, Any],
    observations: Iterable[ObservationFact],
    *,
    trainee_is_dental: bool,
) -> CompetencyStatus:
    """Evaluate one competency for one trainee.

    ``observations`` may hold every observation of the trainee, in any order; only those for this
    competency that count are used (see ``counted_observations``).
    """
    spec = CompetencySpec.of(competency_def)
    return sign_off_current(spec, _relevant(competency_def, observations), trainee_is_dental=trainee_is_dental)


def sign_off_current(
    spec: CompetencySpec, current: Sequence[ObservationFact], *, trainee_is_dental: bool
) -> CompetencyStatus:
    """:func:`sign_off` from the competency's thresholds and the trainee's current (not superseded) observations of
    it, oldest first by (observed_on, recorded_seq, id); simulated ones are left out here unless the standard
    allows them."""
    relevant = current if spec.simulation_allowed else [o for o in current if not o.simulated]
    reset_at = -1
    if spec.resets:
        reset_at = max((i for i, o in enumerate(relevant) if o.critical_failure), default=-1)
    counted = relevant[reset_at + 1 :] if reset_at >= 0 else relevant
    required, min_assessors, min_cases = spec.required, spec.min_assessors, spec.min_cases
    needs_dental = spec.needs_dental(trainee_is_dental)
    run: list[ObservationFact] = []
    breaking: ObservationFact | None = None
    level, critical = spec.required_level, spec.critical
    breaking_reasons: list[str] = []
    for obs in reversed(counted):
        reasons = failure_reasons_at(obs, level, critical)
        if not reasons:
            run.append(obs)
        else:
            breaking, breaking_reasons = obs, reasons
            break

    assessors = len({o.assessor_id for o in run})
    cases = len({o.case_code for o in run if o.case_code})
    dental_present = any(o.assessor_is_dental for o in run)
    passing = min(len(run), required)
    signed_off = (
        len(run) >= required
        and assessors >= min_assessors
        and (min_cases == 0 or cases >= min_cases)
        and (dental_present or not needs_dental)
    )

    parts = [ngettext("%(passing)s of %(n)s passing observation", "%(passing)s of %(n)s passing observations", required,
                      passing=passing, n=required)]
    if min_assessors > 1:
        parts.append(_("%(have)s of %(n)s assessors", have=min(assessors, min_assessors), n=min_assessors))
    if min_cases > 0:
        parts.append(ngettext("%(have)s of %(n)s case", "%(have)s of %(n)s cases", min_cases,
                              have=min(cases, min_cases), n=min_cases))
    if needs_dental:
        parts.append(_("dental-professional assessor: yes") if dental_present
                     else _("dental-professional assessor: not yet"))

    return _make_status(
        competency_id=spec.competency_id,
        title=spec.title,
        signed_off=signed_off,
        passing=passing,
        required=required,
        required_level=level,
        assessors=assessors,
        min_assessors=min_assessors,
        cases=cases,
        min_cases=min_cases,
        dental_assessor_needed=needs_dental,
        dental_assessor_present=dental_present,
        breaking_observation=breaking,
        breaking_reasons=tuple(breaking_reasons),
        reset_by=relevant[reset_at] if reset_at >= 0 else None,
        progress=join_phrases(", ", parts),
    )
