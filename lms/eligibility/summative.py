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

from lms.core.phrases import (
    _,
    english_only,
    format_date,
    join_phrases,
    join_words,
    ngettext,
    or_words,
    translated_data,
    with_article,
)
from lms.eligibility.competency import critical_criteria, failure_reasons_at, observation_passes, required_level
from lms.eligibility.facts import ExamSittingFact, ObservationFact, OsceFact, TraineeFacts
from lms.eligibility.rules import (
    ASK_ADMIN_STEP,
    Context,
    RequirementResult,
    Rule,
    profession_label,
    register,
)


def long_date(d: date) -> str:
    """29 November 2026 (29 novembre 2026 on a French page)."""
    return format_date(d, "long")


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
            reason = _("This standard requires a written exam but does not define one.")
            return self.unmet(req, ctx, _("Written exam: not defined"), reason, ASK_ADMIN_STEP)
        mark = exam.get("pass_mark_percent")
        s = exam_standing(exam, ctx.facts.exam_sittings, ctx.today)
        if s["passed"] is not None:
            p = s["passed"]
            return self.met(req, ctx, _("Written exam: passed on %(day)s, %(score)s%%, pass mark %(mark)s%%",
                                        day=long_date(p.submitted_on), score=p.score_percent, mark=p.pass_mark))
        size = _("%(items)s items in %(minutes)s minutes", items=exam.get('total_items'),
                 minutes=exam.get('time_limit_minutes'))
        used = _("sitting %(used)s of %(max)s used", used=s['used'], max=s['max_attempts'])
        if s["open"] is not None:
            o = s["open"]
            reason = _("A sitting started on %(day)s has not been submitted yet.", day=long_date(o.started_on))
            return self.unmet(req, ctx, _("Written exam: sitting in progress (%(used)s)", used=used), reason,
                              _("Finish and submit your written exam sitting before its time runs out"))
        if s["last_fail"] is not None:
            f = s["last_fail"]
            progress = _("Written exam: not passed on %(day)s, %(score)s%%, pass mark %(mark)s%% (%(used)s)",
                         day=long_date(f.submitted_on), score=f.score_percent, mark=f.pass_mark, used=used)
            if s["exhausted"]:
                reason = _("All %(max)s sittings allowed by the standard have been used without a pass.",
                           max=s['max_attempts'])
                return self.unmet(req, ctx, progress, reason,
                                  _("Ask an admin about further study and a new enrollment before another sitting"))
            reason = _("The last sitting scored %(score)s%%; %(mark)s%% is needed. A re-sit opens %(days)s days after "
                       "a sitting that did not pass.", score=f.score_percent, mark=mark,
                       days=exam.get('resit_wait_days'))
            when = s["next_from"]
            step = (_("Re-sit the written exam on or after %(day)s", day=long_date(when)) if s["waiting"]
                    else _("Re-sit the written exam"))
            return self.unmet(req, ctx, progress, reason, step)
        reason = _("The written exam (%(size)s, pass mark %(mark)s%%) has not been sat yet.", size=size, mark=mark)
        return self.unmet(req, ctx, _("Written exam: not yet sat"), reason,
                          _("Sit the written exam once every module is complete"))


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
            return self.unmet(req, ctx, _("OSCE: not defined"),
                              _("This standard requires an OSCE but defines no stations."), ASK_ADMIN_STEP)
        stations = list(osce.get("stations") or ())
        need = int(osce.get("stations_to_pass") or len(stations))
        latest = latest_station_results(ctx.facts.osce_results)
        passed = [s for s in stations if latest.get(s["id"]) is not None and latest[s["id"]].passed]
        progress = _("OSCE: %(passed)s of %(total)s stations passed", passed=len(passed), total=len(stations))
        if len(passed) >= need:
            last = max(latest[s["id"]].assessed_on for s in passed)
            return self.met(req, ctx, _("%(progress)s (last on %(day)s)", progress=progress, day=long_date(last)))
        failed = [s for s in stations if latest.get(s["id"]) is not None and not latest[s["id"]].passed]
        missing = [s for s in stations if s["id"] not in latest]
        parts = [_("%(need)s of %(total)s stations must pass.", need=need, total=len(stations))]
        for s in failed:
            why = (join_phrases("; ", [english_only(r) for r in latest[s["id"]].failed_reasons])
                   or _("the pass rule was not met"))
            parts.append(_("%(station)s did not pass on %(day)s (%(why)s).", station=_station(s),
                           day=long_date(latest[s['id']].assessed_on), why=why))
        if missing:
            parts.append(_("Not yet assessed: %(stations)s.", stations=join_words([_station(s) for s in missing])))
        todo = [_station(s) for s in failed + missing]
        step = ngettext("Arrange the OSCE station %(stations)s with a qualified assessor",
                        "Arrange the OSCE stations %(stations)s with a qualified assessor", len(todo),
                        stations=join_words(todo))
        return self.unmet(req, ctx, progress, join_phrases(" ", parts), step)


def _station(station: Mapping[str, Any]) -> str:
    """An OSCE station's title from the standard (with its French title, when the standard gives one)."""
    return translated_data(station["title"], {"fr": station.get("title_fr")})


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
            return self.unmet(req, ctx, _("Competency %(id)s: not defined", id=cid),
                              _("Competency %(id)s is not defined in this standard.", id=cid), ASK_ADMIN_STEP)
        professions = {str(p) for p in params.get("professions") or ()}
        verified = bool(params.get("verified_licence", True))
        who = join_words(sorted(profession_label(p) for p in professions)) or _("no profession")
        licence = _(" with a verified license") if verified else ""
        level, critical = ctx.shared(("pass-rule", cid), lambda: (required_level(definition),
                                                                  critical_criteria(definition)))
        passing = [o for o in ctx.facts.observations
                   if o.competency_id == cid and not o.superseded and not failure_reasons_at(o, level, critical)]
        qualified = [o for o in passing if assessor_qualified(o, professions, verified)]
        if qualified:
            first = min(qualified, key=lambda o: (o.observed_on, o.recorded_seq))
            label = profession_label(first.assessor_profession)
            return self.met(req, ctx, _("%(id)s: assessed by a qualified assessor (%(profession)s%(licence)s) on "
                                        "%(day)s", id=cid, profession=label, licence=licence,
                                        day=long_date(first.observed_on)))
        reason = ngettext("%(id)s must be assessed at least once by %(who)s%(licence)s; none of the %(n)s passing "
                          "observation was.",
                          "%(id)s must be assessed at least once by %(who)s%(licence)s; none of the %(n)s passing "
                          "observations was.", len(passing), id=cid, who=with_article_plural(who), licence=licence,
                          n=len(passing))
        return self.unmet(req, ctx, _("%(id)s: no qualified assessor yet", id=cid), reason,
                          _("Arrange a %(id)s observation by a dental-professional assessor%(licence)s", id=cid,
                            licence=licence)
                          if professions and professions <= DENTAL else
                          _("Arrange a %(id)s observation by a qualified assessor (%(who)s%(licence)s)", id=cid,
                            who=who, licence=licence))


DENTAL = frozenset({"dental_hygienist", "dentist", "dental_therapist"})


def with_article_plural(words: str) -> str:
    """ "dentist or dental hygienist" with "a"/"an" in front."""
    return with_article(or_words(words))


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
    title = _("%(id)s re-observation (every %(every)s cycles)", id=cid, every=every)
    if definition is None:
        return _req("R-REOBSERVE", title, False, _("%(id)s: not defined", id=cid),
                    _("The standard asks for a %(id)s re-observation but defines no %(id)s.", id=cid), ASK_ADMIN_STEP)
    found = [o for o in facts.observations
             if o.competency_id == cid and not o.superseded and issued_on <= o.observed_on <= facts.today
             and o.level >= level and observation_passes(definition, o)]
    if found:
        last = max(found, key=lambda o: (o.observed_on, o.recorded_seq))
        return _req("R-REOBSERVE", title, True, _("%(id)s re-observed at level %(level)s on %(day)s", id=cid,
                                                  level=last.level, day=long_date(last.observed_on)))
    return _req("R-REOBSERVE", title, False, _("%(id)s: not re-observed in this cycle", id=cid),
                _("Renewal at the end of cycle %(cycle)s needs a passing %(id)s observation at level %(level)s or "
                  "above since %(day)s.", cycle=cycle, id=cid, level=level, day=long_date(issued_on)),
                _("Arrange a %(id)s observation at level %(level)s+ with an assessor", id=cid, level=level))


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
    title = _("Reassessment after a lapse")
    missing = []
    exam = [s for s in facts.exam_sittings if s.passed and s.submitted_on and s.submitted_on > expires_on]
    if not exam:
        missing.append(_("the written exam"))
    competencies = {str(c.get("id")): c for c in standard.get("competencies") or ()}
    for cid in rule.get("competencies") or ():
        definition = competencies.get(str(cid))
        ok = definition is not None and any(
            o.competency_id == cid and not o.superseded and o.observed_on > expires_on
            and observation_passes(definition, o) for o in facts.observations)
        if not ok:
            missing.append(_("a passing %(id)s observation", id=cid))
    progress = ngettext("Lapsed since %(day)s, more than %(n)s cycle", "Lapsed since %(day)s, more than %(n)s cycles",
                        cycles, day=long_date(expires_on), n=cycles)
    if not missing:
        return _req("R-LAPSE", title, True, progress + _(": written exam and observations repeated"))
    return _req("R-LAPSE", title, False, progress,
                ngettext("A certificate lapsed for more than %(n)s cycle needs the written exam (requirement EXAM) "
                         "and the %(competencies)s observations again, each after %(day)s. Still needed: "
                         "%(missing)s.",
                         "A certificate lapsed for more than %(n)s cycles needs the written exam (requirement EXAM) "
                         "and the %(competencies)s observations again, each after %(day)s. Still needed: "
                         "%(missing)s.", cycles, n=cycles,
                         competencies=join_words([str(c) for c in rule.get('competencies') or ()]),
                         day=long_date(expires_on), missing=join_words(missing)),
                _("Pass %(missing)s again", missing=join_words(missing)))
