"""Rule types for the summative assessments and the assessor rules, plus the renewal checks that depend on them.

Registered rule types (standard ``requirements``):

- ``written_exam`` {}: a passed sitting of the standard's ``exam``; otherwise where the trainee stands (not yet sat,
  sitting open, failed with the date a re-sit opens, or every sitting used).
- ``osce`` {}: the latest graded result of each station under ``osce``; met when ``stations_to_pass`` passed.
- ``assessor_qualification`` {competency, professions, verified_licence}: at least one passing observation of the
  competency is by an assessor of one of those professions (with a licence an admin verified, when asked).

Renewal checks (``renewal`` section; used by ``renewal.evaluate_renewal``):

- ``reobservation_result``: every ``every_cycles``-th renewal needs a passing observation of the competency at
  ``min_level`` or above inside the cycle (C6 every second cycle).
- ``lapse_result``: a certificate lapsed for longer than ``after_cycles`` cycles needs the written exam and the listed
  competencies again, each after the expiry date.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from lms.eligibility.competency import critical_criteria, failure_reasons_at, observation_passes, required_level
from lms.eligibility.facts import ExamSittingFact, ObservationFact, OsceFact, TraineeFacts
from lms.eligibility.rules import (
    ASK_ADMIN_STEP,
    Context,
    RequirementResult,
    Rule,
    join_words,
    plural,
    profession_label,
    register,
)


def long_date(d: date) -> str:
    """29 November 2026."""
    return f"{d.day} {d:%B %Y}"


def add_months(d: date, months: int) -> date:
    """The same day ``months`` later (the last day of the month when it does not exist)."""
    import calendar

    month = d.month - 1 + months
    year, month = d.year + month // 12, month % 12 + 1
    return d.replace(year=year, month=month, day=min(d.day, calendar.monthrange(year, month)[1]))


# --------------------------------------------------------------------------- written exam


def exam_standing(exam: Mapping[str, Any], sittings: tuple[ExamSittingFact, ...], today: date) -> dict[str, Any]:
    """Where a trainee stands on the written exam: the pass, the open sitting, attempts used and the next date."""
    ordered = sorted(sittings, key=lambda s: (s.attempt_no, s.id))
    passed = [s for s in ordered if s.passed]
    scored = [s for s in ordered if s.passed is not None]
    open_ = [s for s in ordered if s.passed is None]
    max_attempts = int(exam.get("max_attempts") or 1)
    wait = int(exam.get("resit_wait_days") or 0)
    last_fail = scored[-1] if scored and not scored[-1].passed else None
    next_from = last_fail.submitted_on + timedelta(days=wait) if last_fail and last_fail.submitted_on else None
    return {"passed": passed[-1] if passed else None, "open": open_[-1] if open_ else None, "used": len(ordered),
            "max_attempts": max_attempts, "last_fail": last_fail, "next_from": next_from,
            "waiting": bool(next_from and next_from > today), "exhausted": not passed and len(ordered) >= max_attempts}


@register
class WrittenExamRule(Rule):
    """``written_exam`` {}: a passed sitting of the standard's written exam."""

    type = "written_exam"

    def evaluate(self, req: Mapping[str, Any], ctx: Context) -> RequirementResult:
        exam = ctx.standard.get("exam")
        if not exam:
            reason = "This standard requires a written exam but does not define one."
            return self.unmet(req, ctx, "Written exam: not defined", reason, ASK_ADMIN_STEP)
        mark = exam.get("pass_mark_percent")
        s = exam_standing(exam, ctx.facts.exam_sittings, ctx.today)
        if s["passed"] is not None:
            p = s["passed"]
            return self.met(req, ctx, f"Written exam: passed on {long_date(p.submitted_on)}, {p.score_percent}%, "
                                      f"pass mark {p.pass_mark}%")
        size = f"{exam.get('total_items')} items in {exam.get('time_limit_minutes')} minutes"
        used = f"sitting {s['used']} of {s['max_attempts']} used"
        if s["open"] is not None:
            o = s["open"]
            reason = f"A sitting started on {long_date(o.started_on)} has not been submitted yet."
            return self.unmet(req, ctx, f"Written exam: sitting in progress ({used})", reason,
                              "Finish and submit your written exam sitting before its time runs out")
        if s["last_fail"] is not None:
            f = s["last_fail"]
            progress = (f"Written exam: not passed on {long_date(f.submitted_on)}, {f.score_percent}%, "
                        f"pass mark {f.pass_mark}% ({used})")
            if s["exhausted"]:
                reason = f"All {s['max_attempts']} sittings allowed by the standard have been used without a pass."
                return self.unmet(req, ctx, progress, reason,
                                  "Ask an admin about further study and a new enrollment before another sitting")
            reason = (f"The last sitting scored {f.score_percent}%; {mark}% is needed. A re-sit opens "
                      f"{exam.get('resit_wait_days')} days after a sitting that did not pass.")
            when = s["next_from"]
            step = (f"Re-sit the written exam on or after {long_date(when)}" if s["waiting"]
                    else "Re-sit the written exam")
            return self.unmet(req, ctx, progress, reason, step)
        reason = f"The written exam ({size}, pass mark {mark}%) has not been sat yet."
        return self.unmet(req, ctx, "Written exam: not yet sat", reason,
                          "Sit the written exam once every module is complete")


# --------------------------------------------------------------------------- OSCE


def latest_station_results(results: tuple[OsceFact, ...]) -> dict[str, OsceFact]:
    """The latest current (not superseded) result per station, by (date, record id)."""
    out: dict[str, OsceFact] = {}
    for r in sorted((r for r in results if not r.superseded), key=lambda r: (r.assessed_on, r.id)):
        out[r.station_id] = r
    return out


@register
class OsceRule(Rule):
    """``osce`` {}: the latest result of every station; met when the standard's ``stations_to_pass`` passed."""

    type = "osce"

    def evaluate(self, req: Mapping[str, Any], ctx: Context) -> RequirementResult:
        osce = ctx.standard.get("osce")
        if not osce:
            return self.unmet(req, ctx, "OSCE: not defined", "This standard requires an OSCE but defines no stations.",
                              ASK_ADMIN_STEP)
        stations = list(osce.get("stations") or ())
        need = int(osce.get("stations_to_pass") or len(stations))
        latest = latest_station_results(ctx.facts.osce_results)
        passed = [s for s in stations if latest.get(s["id"]) is not None and latest[s["id"]].passed]
        progress = f"OSCE: {len(passed)} of {len(stations)} stations passed"
        if len(passed) >= need:
            last = max(latest[s["id"]].assessed_on for s in passed)
            return self.met(req, ctx, f"{progress} (last on {long_date(last)})")
        failed = [s for s in stations if latest.get(s["id"]) is not None and not latest[s["id"]].passed]
        missing = [s for s in stations if s["id"] not in latest]
        parts = [f"{need} of {len(stations)} stations must pass."]
        for s in failed:
            why = "; ".join(latest[s["id"]].failed_reasons) or "the pass rule was not met"
            parts.append(f"{s['title']} did not pass on {long_date(latest[s['id']].assessed_on)} ({why}).")
        if missing:
            parts.append(f"Not yet assessed: {join_words([s['title'] for s in missing])}.")
        todo = [s["title"] for s in failed + missing]
        step = f"Arrange the OSCE {plural(len(todo), 'station')} {join_words(todo)} with a qualified assessor"
        return self.unmet(req, ctx, progress, " ".join(parts), step)


# --------------------------------------------------------------------------- assessor qualification


def assessor_qualified(obs: ObservationFact, professions: set[str], verified_licence: bool) -> bool:
    """Whether the observation's assessor holds one of ``professions`` (on a verified licence, when asked)."""
    if obs.assessor_profession not in professions:
        return False
    return obs.assessor_licence_verified or not verified_licence


@register
class AssessorQualificationRule(Rule):
    """``assessor_qualification`` {competency, professions, verified_licence}: who may assess the competency.

    At least one current passing observation of the competency must be by a qualified assessor.
    """

    type = "assessor_qualification"

    def evaluate(self, req: Mapping[str, Any], ctx: Context) -> RequirementResult:
        params = self.params(req)
        cid = str(params.get("competency") or "")
        definition = ctx.competencies.get(cid)
        if definition is None:
            return self.unmet(req, ctx, f"Competency {cid}: not defined",
                              f"Competency {cid} is not defined in this standard.", ASK_ADMIN_STEP)
        professions = {str(p) for p in params.get("professions") or ()}
        verified = bool(params.get("verified_licence", True))
        who = join_words(sorted(profession_label(p) for p in professions)) or "no profession"
        licence = " with a verified licence" if verified else ""
        level, critical = ctx.shared(("pass-rule", cid), lambda: (required_level(definition),
                                                                  critical_criteria(definition)))
        passing = [o for o in ctx.facts.observations
                   if o.competency_id == cid and not o.superseded and not failure_reasons_at(o, level, critical)]
        qualified = [o for o in passing if assessor_qualified(o, professions, verified)]
        if qualified:
            first = min(qualified, key=lambda o: (o.observed_on, o.recorded_seq))
            label = profession_label(first.assessor_profession)
            return self.met(req, ctx, f"{cid}: assessed by a qualified assessor ({label}{licence}) on "
                                      f"{long_date(first.observed_on)}")
        reason = (f"{cid} must be assessed at least once by {with_article_plural(who)}{licence}; "
                  f"none of the {len(passing)} passing {plural(len(passing), 'observation')} was.")
        return self.unmet(req, ctx, f"{cid}: no qualified assessor yet", reason,
                          f"Arrange a {cid} observation by a dental-professional assessor{licence}"
                          if professions and professions <= DENTAL else
                          f"Arrange a {cid} observation by a qualified assessor ({who}{licence})")


DENTAL = frozenset({"dental_hygienist", "dentist", "dental_therapist"})


def with_article_plural(words: str) -> str:
    """ "dentist or dental hygienist" with "a"/"an" in front."""
    return ("an " if words[:1].lower() in "aeiou" else "a ") + words.replace(" and ", " or ")


# --------------------------------------------------------------------------- renewal: re-observation and lapse


def renewal_cycle(first_issued_on: date, expires_on: date, cycle_months: int) -> int:
    """Which cycle ends at ``expires_on`` (1 = the first certificate's cycle)."""
    months = (expires_on.year - first_issued_on.year) * 12 + expires_on.month - first_issued_on.month
    return max(1, round(months / max(cycle_months, 1)))


def _req(rid: str, title: str, met: bool, progress: str, reason: str = "", next_step: str = "") -> RequirementResult:
    return RequirementResult(id=rid, title=title, scope="renewal", met=met, progress=progress,
                             reason="" if met else reason, next_step="" if met else next_step)


def reobservation_result(standard: Mapping[str, Any], facts: TraineeFacts, *, first_issued_on: date,
                         issued_on: date, expires_on: date) -> RequirementResult | None:
    """The re-observation due at this renewal, or None when this cycle has none (or the standard sets none)."""
    rule = (standard.get("renewal") or {}).get("reobservation")
    if not rule:
        return None
    cycle_months = int((standard.get("renewal") or {}).get("cycle_months") or 24)
    every, cid, level = int(rule["every_cycles"]), str(rule["competency"]), int(rule["min_level"])
    cycle = renewal_cycle(first_issued_on, expires_on, cycle_months)
    if cycle % every:
        return None
    definition = next((c for c in standard.get("competencies") or () if c.get("id") == cid), None)
    title = f"{cid} re-observation (every {every} cycles)"
    if definition is None:
        return _req("R-REOBSERVE", title, False, f"{cid}: not defined",
                    f"The standard asks for a {cid} re-observation but defines no {cid}.", ASK_ADMIN_STEP)
    found = [o for o in facts.observations
             if o.competency_id == cid and not o.superseded and issued_on <= o.observed_on <= facts.today
             and o.level >= level and observation_passes(definition, o)]
    if found:
        last = max(found, key=lambda o: (o.observed_on, o.recorded_seq))
        return _req("R-REOBSERVE", title, True,
                    f"{cid} re-observed at level {last.level} on {long_date(last.observed_on)}")
    return _req("R-REOBSERVE", title, False, f"{cid}: not re-observed in this cycle",
                f"Renewal at the end of cycle {cycle} needs a passing {cid} observation at level {level} or above "
                f"since {long_date(issued_on)}.",
                f"Arrange a {cid} observation at level {level}+ with an assessor")


def lapse_result(standard: Mapping[str, Any], facts: TraineeFacts, *, expires_on: date) -> RequirementResult | None:
    """Reassessment after a lapse longer than the standard allows, or None when the lapse is shorter."""
    renewal = standard.get("renewal") or {}
    rule = renewal.get("lapse_reassessment")
    if not rule:
        return None
    cycles = int(rule["after_cycles"])
    limit = add_months(expires_on, int(renewal.get("cycle_months") or 24) * cycles)
    if facts.today <= limit:
        return None
    title = "Reassessment after a lapse"
    missing = []
    exam = [s for s in facts.exam_sittings if s.passed and s.submitted_on and s.submitted_on > expires_on]
    if not exam:
        missing.append("the written exam")
    competencies = {str(c.get("id")): c for c in standard.get("competencies") or ()}
    for cid in rule.get("competencies") or ():
        definition = competencies.get(str(cid))
        ok = definition is not None and any(
            o.competency_id == cid and not o.superseded and o.observed_on > expires_on
            and observation_passes(definition, o) for o in facts.observations)
        if not ok:
            missing.append(f"a passing {cid} observation")
    progress = f"Lapsed since {long_date(expires_on)}, more than {cycles} {plural(cycles, 'cycle')}"
    if not missing:
        return _req("R-LAPSE", title, True, progress + ": written exam and observations repeated")
    return _req("R-LAPSE", title, False, progress,
                f"A certificate lapsed for more than {cycles} {plural(cycles, 'cycle')} needs the written exam "
                f"(requirement EXAM) and the {join_words([str(c) for c in rule.get('competencies') or ()])} "
                f"observations again, each after {long_date(expires_on)}. Still needed: {join_words(missing)}.",
                f"Pass {join_words(missing)} again")
