"""Registry of requirement rule types.

Every requirement in a standard names a ``type``; the class registered under that type turns the
requirement's ``params`` and the trainee's facts into a ``RequirementResult`` with plain-language
progress, a reason when unmet, and the next step to take. Requirement parameters are data (the
standard file), never code.

Adding a rule type means writing one small ``Rule`` subclass decorated with ``@register`` and its
tests; the engine picks it up from ``RULES``.

All text here is read by trainees and boards, so it says what is missing in everyday words and
never depends on the order records arrive in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from operator import attrgetter
from typing import Any, ClassVar

from lms.core.phrases import _, capitalise, format_date, join_phrases, join_words, label, ngettext, number, with_article
from lms.core.phrases import english_only as _english_only
from lms.core.phrases import translated_data as _translated_data
from lms.eligibility.competency import CompetencySpec, CompetencyStatus, sign_off_current
from lms.eligibility.facts import (
    CLINICAL_EXTRAORAL,
    CLINICAL_INTRAORAL,
    DENTAL_PROFESSIONS,
    HOUR_APPROVED,
    LAB_IN_PERSON,
    AgreementFact,
    HourFact,
    ObservationFact,
    TraineeFacts,
    builder,
)

CATEGORY_LABELS = {
    LAB_IN_PERSON: _("in-person lab"),
    CLINICAL_EXTRAORAL: _("clinical extraoral"),
    CLINICAL_INTRAORAL: _("clinical intraoral"),
}

JURISDICTION_NAMES = {
    "US-WA": _("Washington"),
    "US-OR": _("Oregon"),
    "US-NC": _("North Carolina"),
    "US-OH": _("Ohio"),
    "CA-BC": _("British Columbia"),
    "CA-ON": _("Ontario"),
    "CA-MB": _("Manitoba"),
    "CA-NB": _("New Brunswick"),
    "CA-AB": _("Alberta"),
    "OTHER": _("Other jurisdiction"),
}

# Jurisdiction-rule statuses that take a rule out of use (no notice, never applies).
INACTIVE_RULE_STATUSES = frozenset({"retired", "withdrawn", "superseded", "inactive"})
# Statuses meaning the rule's wording was cited but not read at the source.
UNCONFIRMED_RULE_STATUSES = frozenset({"v", "s/v", "unverified"})

AGREEMENT_VERIFIED = "verified"

ASK_ADMIN_STEP = _("Ask an admin to correct the standard")
PROFILE_PROFESSION_STEP = _("Record your regulated health profession in your profile")


# --------------------------------------------------------------------------- results and context


@dataclass(frozen=True)
class RequirementResult:
    """The outcome of one requirement, in words a trainee or board can follow."""

    id: str
    title: str
    scope: str  # certificate | <endorsement id>
    met: bool
    progress: str  # e.g. "Clinical intraoral hours: 12.5 of 20"
    reason: str = ""  # why it is unmet; empty when met
    next_step: str = ""  # what to do next; empty when met

    @property
    def applies(self) -> bool:
        """False for a rule of another jurisdiction or profession: it is met by not concerning the trainee, and pages
        leave it out (a Washington trainee never reads an Ohio rule)."""
        return not self.progress.startswith(NOT_APPLICABLE)


_make_result = builder(RequirementResult)  # a decision holds about thirty; a cohort's, hundreds of thousands

# The progress text of a met jurisdiction rule that does not concern the trainee.
NOT_APPLICABLE = _("not applicable")


def _approved(facts: TraineeFacts) -> list[HourFact]:
    return [h for h in facts.hours if h.status == HOUR_APPROVED and not h.superseded]


def counted_hours(facts: TraineeFacts) -> tuple[HourFact, ...]:
    """Hour entries that count: approved, not superseded, and dated on or after the day hours start to count (the
    enrollment, or an earlier date an admin recognised as advanced standing), ordered by (entry_date, id)."""
    return _split_hours(facts)[0]


def early_minutes_by_category(facts: TraineeFacts) -> dict[str, int]:
    """Approved minutes dated before the day hours start to count, per category (shown, never counted)."""
    return _split_hours(facts)[1]


_BY_DATE_AND_ID = attrgetter("entry_date", "id")
_OBSERVATION_ORDER = attrgetter("observed_on", "recorded_seq", "id")


def _split_hours(facts: TraineeFacts) -> tuple[tuple[HourFact, ...], dict[str, int]]:
    """:func:`counted_hours` and :func:`early_minutes_by_category` in one pass over the ledger."""
    start = facts.hours_count_from
    approved = _approved(facts)
    early: dict[str, int] = {}
    if start is not None:
        counted = []
        for h in approved:
            if h.entry_date >= start:
                counted.append(h)
            else:
                early[h.category] = early.get(h.category, 0) + h.minutes
        approved = counted
    return tuple(sorted(approved, key=_BY_DATE_AND_ID)), early


class Prepared:
    """What every evaluation under one standard and one set of jurisdiction rules shares, worked out once.

    The lookup tables of competencies and jurisdiction rules, the enforced rule ids, and whatever a rule derives from
    the standard alone (a requirement's id, title and scope, a competency's thresholds, a category's label), kept by
    :meth:`shared` and :meth:`for_requirement`. A cohort's thousands of trainees share one (``engine.Plan``); a single
    evaluation makes its own. The standard and the rules are read, never changed, while it lives.
    """

    def __init__(self, standard: Mapping[str, Any], jurisdiction_rules: Iterable[Mapping[str, Any]] = ()) -> None:
        self.standard = standard
        self.competencies: dict[str, Mapping[str, Any]] = {
            str(c["id"]): c for c in standard.get("competencies") or ()}
        self.jurisdiction_rules: dict[str, Mapping[str, Any]] = {str(r["id"]): r for r in jurisdiction_rules}
        self.enforced_rules = frozenset(str(r) for r in standard.get("jurisdiction_rules_enforced") or ())
        self._memo: dict[Any, Any] = {}

    def shared(self, key: Any, make: Callable[[], Any]) -> Any:
        """The value kept under ``key``, made by ``make()`` the first time (it must depend on the standard and the
        jurisdiction rules only, never on a trainee)."""
        try:
            return self._memo[key]
        except KeyError:
            value = self._memo[key] = make()
            return value

    def for_requirement(self, kind: str, req: Mapping[str, Any], make: Callable[[], Any]) -> Any:
        """Like :meth:`shared` for one requirement of the standard. The requirement itself is kept with the value, so
        its identity stays unique while this lives."""
        key = (kind, id(req))
        found = self._memo.get(key)
        if found is None or found[0] is not req:
            found = self._memo[key] = (req, make())
        return found[1]


@dataclass(frozen=True, eq=False)
class Context:
    """Everything a rule may look at: the standard, the facts, and values worked out once.

    ``prepared`` holds what depends on the standard alone (shared by every trainee of a cohort); ``own`` keeps values
    worked out once for this trainee (their observations per competency).
    """

    standard: Mapping[str, Any]
    facts: TraineeFacts
    counted_hours: tuple[HourFact, ...] = ()
    minutes_by_category: Mapping[str, int] = field(default_factory=dict)
    early_minutes: Mapping[str, int] = field(default_factory=dict)
    competencies: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    jurisdiction_rules: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    enforced_rules: frozenset[str] = frozenset()
    attestations: frozenset[str] = frozenset()
    prepared: Prepared | None = None
    own: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        standard: Mapping[str, Any],
        facts: TraineeFacts,
        jurisdiction_rules: Iterable[Mapping[str, Any]] = (),
        attestations: Iterable[str] = frozenset(),
        prepared: Prepared | None = None,
    ) -> Context:
        """Build the context for one evaluation (counting hours once for all rules). ``prepared`` is the standard's
        shared part when the caller evaluates many trainees (it must be of the same standard and rules)."""
        if prepared is None:
            prepared = Prepared(standard, jurisdiction_rules)
        hours, early = _split_hours(facts)
        minutes: dict[str, int] = {}
        for h in hours:
            minutes[h.category] = minutes.get(h.category, 0) + h.minutes
        return cls(
            standard=standard,
            facts=facts,
            counted_hours=hours,
            minutes_by_category=minutes,
            early_minutes=early,
            competencies=prepared.competencies,
            jurisdiction_rules=prepared.jurisdiction_rules,
            enforced_rules=prepared.enforced_rules,
            attestations=frozenset(attestations),
            prepared=prepared,
        )

    @property
    def today(self) -> date:
        """The evaluation date (from the facts, so tests and snapshots are reproducible)."""
        return self.facts.today

    def shared(self, key: Any, make: Callable[[], Any]) -> Any:
        """A value that depends on the standard alone, worked out once (see :class:`Prepared`)."""
        if self.prepared is None:
            return make()
        return self.prepared.shared(key, make)

    def for_requirement(self, kind: str, req: Mapping[str, Any], make: Callable[[], Any]) -> Any:
        """A value that depends on one requirement of the standard alone, worked out once."""
        if self.prepared is None:
            return make()
        return self.prepared.for_requirement(kind, req, make)

    def observations_of(self, competency_id: str) -> tuple[ObservationFact, ...]:
        """The trainee's current (not superseded) observations of one competency, oldest first by (observed_on,
        recorded_seq, id). All competencies are sorted and grouped in one pass, the first time one is asked."""
        groups = self.own.get("observations")
        if groups is None:
            groups = {}
            for o in sorted((o for o in self.facts.observations if not o.superseded), key=_OBSERVATION_ORDER):
                groups.setdefault(o.competency_id, []).append(o)
            groups = self.own["observations"] = {k: tuple(v) for k, v in groups.items()}
        return groups.get(competency_id, ())


# --------------------------------------------------------------------------- wording helpers


def fmt_number(value: float) -> str:
    """A number with at most two decimals and no trailing zeros: 20 -> "20", 7.50 -> "7.5" (a decimal comma in
    French)."""
    return number(round(float(value), 2), f"{round(float(value), 2):.2f}".rstrip("0").rstrip("."))


def fmt_hours(minutes: int) -> str:
    """Minutes shown as hours, e.g. 750 -> "12.5"."""
    return fmt_number(minutes / 60)


def plural(n: float, one: str, many: str | None = None) -> str:
    """``one`` when n is exactly 1, otherwise ``many`` (default: one + "s")."""
    return one if n == 1 else (many or one + "s")


# join_words, capitalise and with_article (lms.core.phrases) keep the words translatable.


def profession_label(key: str | None) -> str:
    """``"massage_therapist"`` -> ``"massage therapist"``."""
    from lms.providers.professions import PROFESSIONS

    if key in PROFESSIONS:
        return label(PROFESSIONS[key].label, lower=True)
    return key.replace("_", " ") if key else _("unknown profession")


def jurisdiction_label(code: str | None) -> str:
    """``"US-WA"`` -> ``"Washington"``; unknown codes are shown as given."""
    return JURISDICTION_NAMES.get(code or "", code or _("no jurisdiction"))


def category_label(category: str) -> str:
    """Hour category key -> words, e.g. ``"clinical_intraoral"`` -> ``"clinical intraoral"``."""
    return CATEGORY_LABELS.get(category, category.replace("_", " "))


def rule_professions(rule: Mapping[str, Any]) -> list[str]:
    """A jurisdiction rule's profession field as a list (it may be one key or several)."""
    value = rule.get("profession")
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def rule_applies(rule: Mapping[str, Any], facts: TraineeFacts) -> bool:
    """True when a jurisdiction rule is in use and matches the trainee's jurisdiction and profession."""
    if str(rule.get("status") or "").lower() in INACTIVE_RULE_STATUSES:
        return False
    if not facts.jurisdiction or rule.get("jurisdiction") != facts.jurisdiction:
        return False
    professions = rule_professions(rule)
    return "*" in professions or "any" in professions or (facts.profession in professions)


def short_cite(rule: Mapping[str, Any]) -> str:
    """The first citation of a rule, e.g. "WAC 246-830-490" from "WAC 246-830-490; RCW 18.108.250 ..."."""
    return str(rule.get("source_cite") or rule.get("id") or "no citation").split(";")[0].strip()


def jurisdiction_notice(rule: Mapping[str, Any], facts: TraineeFacts) -> str:
    """One line naming the place, profession, rule, citation and date last checked.

    E.g. "Washington, massage therapist: ... (WAC 246-830-490, last verified 2026-11-26; not legal advice)".
    """
    place = rule.get("jurisdiction_name") or jurisdiction_label(str(rule.get("jurisdiction") or ""))
    professions = rule_professions(rule)
    who = profession_label(facts.profession if facts.profession in professions else (professions or [None])[0])
    summary = _english_only(str(rule.get("summary") or "").strip().rstrip("."))
    verified = rule.get("verified_on")
    verified_text = format_date(verified) if verified else _("date unknown")
    extra = ""
    if str(rule.get("status") or "").lower() in UNCONFIRMED_RULE_STATUSES:
        extra = _("; wording not yet confirmed at the source")
    return _("%(place)s, %(who)s: %(summary)s (%(cite)s, last verified %(verified)s%(extra)s; not legal advice)",
             place=place, who=who, summary=summary, cite=short_cite(rule), verified=verified_text, extra=extra)


def licence_unverified(facts: TraineeFacts) -> tuple[str, str, str] | None:
    """(progress, reason, next step) when the newest license record is not verified; None otherwise."""
    lic = facts.licence
    if lic is None or lic.status == "verified":
        return None
    claimed = _("%(profession)s, %(place)s, number %(number)s", profession=profession_label(lic.profession),
                place=jurisdiction_label(lic.jurisdiction), number=lic.number)
    if lic.status == "rejected":
        why = _(": %(reason)s", reason=lic.decision_reason) if lic.decision_reason else ""
        reason = _("Your license details (%(claimed)s) were not accepted at verification%(why)s.", claimed=claimed,
                   why=why)
        return (_("License: not accepted"), reason,
                _("Correct your license details on your profile and attach evidence of the license"))
    if lic.changed_after_verification:
        when = _(" on %(day)s", day=format_date(lic.submitted_on)) if lic.submitted_on else ""
        reason = _("Your license details changed%(when)s (%(claimed)s), so the license needs verification again. "
                   "Until an admin has checked it with the licensing body, requirements that depend on your "
                   "profession, license or jurisdiction are not met.", when=when, claimed=claimed)
    else:
        reason = _("Your license (%(claimed)s) needs verification: an admin checks it with the licensing body "
                   "before anything rests on it.", claimed=claimed)
    return (_("License: waiting for verification"), reason,
            _("Wait for an admin to verify your license (attach evidence of it on your profile to speed this up)"))


def not_regulated_rule(ctx: Context, facts: TraineeFacts) -> Mapping[str, Any] | None:
    """The jurisdiction rule saying the trainee's profession is not regulated where they practise, if any."""
    candidates = ctx.shared("not-regulated", lambda: [
        rule for rule in ctx.jurisdiction_rules.values() if rule.get("profession_regulated") is False])
    for rule in candidates:
        if rule_applies(rule, facts):
            return rule
    return None


# --------------------------------------------------------------------------- registry


RULES: dict[str, type[Rule]] = {}


def register(cls: type[Rule]) -> type[Rule]:
    """Class decorator: make a rule type available to standards under ``cls.type``."""
    if not getattr(cls, "type", None):
        raise ValueError(f"{cls.__name__} has no rule type")
    if cls.type in RULES and RULES[cls.type] is not cls:
        raise ValueError(f"rule type {cls.type!r} is already registered by {RULES[cls.type].__name__}")
    RULES[cls.type] = cls
    return cls


class Rule:
    """Base class of a requirement rule type.

    Subclasses set ``type`` and implement ``evaluate``. ``req`` is one entry of the standard's
    ``requirements`` list (``id``, ``type``, ``scope``, ``title``, ``params``).
    """

    type: ClassVar[str] = ""

    def evaluate(self, req: Mapping[str, Any], ctx: Context) -> RequirementResult:
        """Evaluate one requirement for the trainee in ``ctx``."""
        raise NotImplementedError

    @staticmethod
    def params(req: Mapping[str, Any]) -> Mapping[str, Any]:
        """The requirement's parameters (an empty mapping when there are none)."""
        return req.get("params") or {}

    def title(self, req: Mapping[str, Any], ctx: Context) -> str:
        """The requirement's title from the standard (with its French title, when the standard gives one), or a
        sensible default. It depends on the standard alone (never on the trainee): it is worked out once per
        standard."""
        return _translated_data(str(req.get("title") or req["id"]), {"fr": req.get("title_fr")})

    def result(
        self, req: Mapping[str, Any], ctx: Context, met: bool, progress: str, reason: str = "", next_step: str = ""
    ) -> RequirementResult:
        """Wrap an outcome with the requirement's id, title and scope (reason and next step only when unmet)."""
        rid, title, scope = ctx.for_requirement("head", req, lambda: (
            str(req["id"]), self.title(req, ctx), str(req.get("scope") or "certificate")))
        if met:
            return _make_result(rid, title, scope, met, progress, "", "")
        # Next steps read as short imperatives in a list, without a closing full stop.
        return _make_result(rid, title, scope, met, progress, reason, next_step.rstrip("."))

    def met(self, req: Mapping[str, Any], ctx: Context, progress: str) -> RequirementResult:
        """A met result."""
        return self.result(req, ctx, True, progress)

    def unmet(
        self, req: Mapping[str, Any], ctx: Context, progress: str, reason: str, next_step: str
    ) -> RequirementResult:
        """An unmet result with why and what to do next."""
        return self.result(req, ctx, False, progress, reason, next_step)


# --------------------------------------------------------------------------- credentials and profile


@register
class ProfessionRule(Rule):
    """``profession`` {professions: [keys]}: the trainee's regulated profession is one of those listed."""

    type = "profession"

    def evaluate(self, req: Mapping[str, Any], ctx: Context) -> RequirementResult:
        allowed = [str(p) for p in self.params(req).get("professions") or ()]
        profession = ctx.facts.profession
        if not profession:
            unverified = licence_unverified(ctx.facts)
            if unverified:
                return self.unmet(req, ctx, unverified[0], unverified[1], unverified[2])
            reason = _("No regulated health profession is recorded on your profile.")
            return self.unmet(req, ctx, _("Profession: not recorded"), reason, PROFILE_PROFESSION_STEP)
        label = profession_label(profession)
        if profession not in allowed:
            accepted = join_words([profession_label(p) for p in allowed]) or _("none listed")
            reason = _("%(profession)s is not one of the professions this standard accepts (%(accepted)s).",
                       profession=capitalise(label), accepted=accepted)
            step = _("Contact an admin if you also hold a profession this standard accepts")
            return self.unmet(req, ctx, _("Profession: %(profession)s", profession=label), reason, step)
        unregulated = not_regulated_rule(ctx, ctx.facts)
        if unregulated is not None:
            place = jurisdiction_label(ctx.facts.jurisdiction)
            reason = _(
                "Certification is for regulated health professionals, and %(who)s is not a regulated health "
                "profession in %(place)s (%(cite)s, last verified %(verified)s; not legal advice).",
                who=with_article(label), place=place, cite=short_cite(unregulated),
                verified=unregulated.get('verified_on') or _("date unknown"),
            )
            step = _("Contact an admin if you hold a regulated health profession in another jurisdiction")
            return self.unmet(req, ctx, _("Profession: %(profession)s, not regulated in %(place)s", profession=label,
                                          place=place), reason, step)
        return self.met(req, ctx, _("Profession: %(profession)s (verified license)", profession=label))


@register
class LicenseCurrentRule(Rule):
    """``license_current`` {}: a license number is on file and its expiry date is today or later."""

    type = "license_current"

    def evaluate(self, req: Mapping[str, Any], ctx: Context) -> RequirementResult:
        number, expires = ctx.facts.license_number, ctx.facts.license_expires_on
        unverified = licence_unverified(ctx.facts)
        if not number and unverified:
            return self.unmet(req, ctx, unverified[0], unverified[1], unverified[2])
        if not number:
            reason = _("No license or registration number is recorded.")
            step = _("Add your license or registration number and its expiry date to your profile")
            return self.unmet(req, ctx, _("License: not on file"), reason, step)
        if expires is None:
            reason = _("The license expiry date is not recorded, so the license cannot be shown to be current.")
            step = _("Add your license expiry date to your profile")
            return self.unmet(req, ctx, _("License: expiry date not recorded"), reason, step)
        if expires < ctx.today:
            reason = _("Your license expired on %(day)s.", day=format_date(expires))
            step = _("Renew your license and update its expiry date in your profile")
            return self.unmet(req, ctx, _("License: expired on %(day)s", day=format_date(expires)), reason, step)
        return self.met(req, ctx, _("License: verified, current until %(day)s", day=format_date(expires)))


@register
class OmtCredentialRule(Rule):
    """``omt_credential`` {min_hours}: a verified OMT foundation course of at least ``min_hours``."""

    type = "omt_credential"

    def evaluate(self, req: Mapping[str, Any], ctx: Context) -> RequirementResult:
        status, hours = ctx.facts.omt_status, ctx.facts.omt_hours
        min_hours = float(self.params(req).get("min_hours") or 0)
        need = fmt_number(min_hours)
        upload = _("Upload the certificate of an OMT foundation course of at least %(need)s hours", need=need)
        if status is None:
            return self.unmet(req, ctx, _("OMT foundation course: not on file"),
                              _("No OMT foundation course certificate is on file."), upload)
        if status == "pending":
            reason = _("Your OMT course certificate has not been verified yet.")
            step = _("Wait for an admin to verify your OMT course certificate")
            return self.unmet(req, ctx, _("OMT foundation course: waiting for verification"), reason, step)
        if status != "verified":
            reason = _("Your OMT course certificate was not accepted.")
            return self.unmet(req, ctx, _("OMT foundation course: not accepted"), reason, upload)
        have = fmt_number(hours)
        if hours < min_hours:
            reason = _("The verified OMT course has %(have)s hours; at least %(need)s are needed.", have=have,
                       need=need)
            return self.unmet(req, ctx, _("OMT foundation course: %(have)s of %(need)s hours", have=have, need=need),
                              reason, upload)
        return self.met(req, ctx, _("OMT foundation course: verified, %(have)s hours", have=have))


@register
class OmtRecencyRule(Rule):
    """``omt_recency`` {max_years}: the OMT course was completed within ``max_years`` before the enrollment (or
    today, before enrolling), or an admin recorded evidence of active OMT practice (P2b)."""

    type = "omt_recency"

    def evaluate(self, req: Mapping[str, Any], ctx: Context) -> RequirementResult:
        years = int(self.params(req).get("max_years") or 5)
        facts = ctx.facts
        if facts.omt_practice_recognised:
            return self.met(req, ctx, _("OMT course recency: active OMT practice recognised by an admin"))
        completed = facts.omt_completed_on
        if completed is None or facts.omt_status != "verified":
            reason = _("No verified OMT course completion date is on file, so its recency cannot be checked.")
            step = _("Have your OMT course certificate verified")
            return self.unmet(req, ctx, _("OMT course recency: no verified course date"), reason, step)
        ref = facts.enrolled_on or ctx.today
        try:
            earliest = ref.replace(year=ref.year - years)
        except ValueError:  # 29 February
            earliest = ref.replace(year=ref.year - years, day=28)
        when = _("enrollment") if facts.enrolled_on else _("today")
        if completed >= earliest:
            return self.met(req, ctx, _("OMT course recency: completed %(day)s, within %(years)s years of %(when)s",
                                        day=format_date(completed), years=years, when=when))
        reason = _("Your OMT course was completed on %(day)s, more than %(years)s years before %(when)s (%(ref)s). "
                   "The course must be recent, or you must show active OMT practice.",
                   day=format_date(completed), years=years, when=when, ref=format_date(ref))
        step = _("Send evidence of active OMT practice (such as a practice attestation signed by your employer or "
                 "regulator) for an admin to record, or complete a new OMT foundation course")
        return self.unmet(req, ctx, _("OMT course recency: completed %(day)s", day=format_date(completed)), reason,
                          step)


@register
class CprCurrentRule(Rule):
    """``cpr_current`` {}: a CPR/BLS card that expires today or later."""

    type = "cpr_current"

    def evaluate(self, req: Mapping[str, Any], ctx: Context) -> RequirementResult:
        expires = ctx.facts.cpr_expires_on
        step = _("Complete an in-person CPR/BLS course and upload the card with its expiry date")
        if expires is None:
            return self.unmet(req, ctx, _("CPR/BLS: not on file"), _("No CPR/BLS card is on file."), step)
        if expires < ctx.today:
            reason = _("Your CPR/BLS card expired on %(day)s.", day=format_date(expires))
            return self.unmet(req, ctx, _("CPR/BLS: expired on %(day)s", day=format_date(expires)), reason, step)
        return self.met(req, ctx, _("CPR/BLS: current until %(day)s", day=format_date(expires)))


@register
class InfectionControlAckRule(Rule):
    """``infection_control_ack`` {}: the infection-control and glove protocol was acknowledged."""

    type = "infection_control_ack"

    def evaluate(self, req: Mapping[str, Any], ctx: Context) -> RequirementResult:
        if ctx.facts.infection_control_ack:
            return self.met(req, ctx, _("Infection-control and glove protocol: acknowledged"))
        reason = _("You have not yet acknowledged the infection-control and glove protocol.")
        step = _("Read and acknowledge the infection-control and glove protocol")
        return self.unmet(req, ctx, _("Infection-control and glove protocol: not acknowledged"), reason, step)


# --------------------------------------------------------------------------- training and hours


@register
class ModulesCompletedRule(Rule):
    """``modules_completed`` {modules: [ids]}: every listed module is completed.

    A module is completed when its knowledge check is passed, which credits its online hours. Its in-person lab
    hours are not part of this: they count toward the lab-hours requirement once an instructor records attendance.
    """

    type = "modules_completed"

    def evaluate(self, req: Mapping[str, Any], ctx: Context) -> RequirementResult:
        modules = [str(m) for m in self.params(req).get("modules") or ()]
        missing = [m for m in modules if m not in ctx.facts.completed_modules]
        progress = _("Modules: %(done)s of %(total)s completed", done=len(modules) - len(missing), total=len(modules))
        if not missing:
            return self.met(req, ctx, progress)
        reason = _("Not yet completed: %(missing)s. A module is completed when its knowledge check is passed; its "
                   "in-person lab hours count toward the lab-hours requirement once an instructor records your "
                   "attendance at a lab session.", missing=', '.join(missing))
        step = ngettext("Complete module %(modules)s", "Complete modules %(modules)s", len(missing),
                        modules=join_words(missing))
        return self.unmet(req, ctx, progress, reason, step)


def _categories(params: Mapping[str, Any]) -> list[str]:
    """``category`` and/or ``categories`` from a requirement's params, without repeats."""
    found: list[str] = []
    single = params.get("category")
    for c in ([single] if single else []) + list(params.get("categories") or ()):
        if str(c) not in found:
            found.append(str(c))
    return found


@register
class ApprovedHoursRule(Rule):
    """``approved_hours`` {category | categories, min_hours}: approved hours in those categories.

    Only approved, non-superseded entries count; submitted, needs-info and rejected entries never do.
    """

    type = "approved_hours"

    def _target(self, req: Mapping[str, Any]) -> tuple[list[str], int, str, str]:
        """The categories, the hours needed (also in whole minutes, so sums never suffer float drift) and their
        words: the standard's part, the same for every trainee."""
        params = self.params(req)
        categories = _categories(params)
        min_hours = float(params.get("min_hours") or 0)
        label = join_words([category_label(c) for c in categories]) or _("no category")
        return categories, round(min_hours * 60), label, fmt_number(min_hours)

    def evaluate(self, req: Mapping[str, Any], ctx: Context) -> RequirementResult:
        categories, need_minutes, label, need = ctx.for_requirement(
            "approved_hours", req, lambda: self._target(req))
        have_minutes = sum(ctx.minutes_by_category.get(c, 0) for c in categories)
        have = fmt_hours(have_minutes)
        progress = _("%(label)s hours: %(have)s of %(need)s", label=capitalise(label), have=have, need=need)
        early = sum(ctx.early_minutes.get(c, 0) for c in categories)
        if early:
            progress += _(" (%(early)s h before enrollment, not counted)", early=fmt_hours(early))
        if not categories:
            reason = _("This requirement names no hour category, so no hours can count toward it.")
            return self.unmet(req, ctx, progress, reason, ASK_ADMIN_STEP)
        short = max(0, need_minutes - have_minutes)
        if not short:
            return self.met(req, ctx, progress)
        reason = ngettext(
            "%(have)s approved %(label)s hour so far; %(need)s needed. Only hours an instructor has approved count.",
            "%(have)s approved %(label)s hours so far; %(need)s needed. Only hours an instructor has approved count.",
            have_minutes / 60, have=have, label=label, need=need)
        if LAB_IN_PERSON in categories:
            reason += _(" Module lab sessions count once the instructor who ran them records your attendance.")
        step = ngettext("Log and get approval for %(short)s more %(label)s hour",
                        "Log and get approval for %(short)s more %(label)s hours", short / 60,
                        short=fmt_hours(short), label=label)
        if early:
            start = format_date(ctx.facts.hours_count_from) if ctx.facts.hours_count_from else _("your enrollment")
            reason += ngettext(" %(early)s approved hour dated before %(start)s (before enrollment) do not count.",
                               " %(early)s approved hours dated before %(start)s (before enrollment) do not count.",
                               early / 60, early=fmt_hours(early), start=start)
            step += _(", or, if the earlier hours belong to this program's training, ask an admin to record advanced "
                      "standing with evidence so that they count")
        return self.unmet(req, ctx, progress, reason, step)


@register
class ClinicalSessionsRule(Rule):
    """``clinical_sessions`` {categories, min_sessions, min_cases}: approved sessions and distinct cases.

    Each approved, non-superseded hour entry in the categories is one session; cases are the
    distinct de-identified case codes among them.
    """

    type = "clinical_sessions"

    def evaluate(self, req: Mapping[str, Any], ctx: Context) -> RequirementResult:
        params = self.params(req)
        categories = set(_categories(params))
        min_sessions = int(params.get("min_sessions") or 0)
        min_cases = int(params.get("min_cases") or 0)
        entries = [h for h in ctx.counted_hours if h.category in categories]
        sessions = len(entries)
        cases = len({h.case_code for h in entries if h.case_code})
        progress = _("Approved clinical sessions: %(sessions)s of %(min)s", sessions=sessions, min=min_sessions)
        if min_cases > 0:
            progress += _(", distinct cases: %(cases)s of %(min)s", cases=cases, min=min_cases)
        sessions_short = max(0, min_sessions - sessions)
        cases_short = max(0, min_cases - cases)
        if not (sessions_short or cases_short):
            return self.met(req, ctx, progress)
        reasons = []
        if sessions_short:
            reasons.append(ngettext("%(n)s approved session so far; %(min)s needed.",
                                    "%(n)s approved sessions so far; %(min)s needed.", sessions,
                                    n=sessions, min=min_sessions))
        if cases_short:
            reasons.append(ngettext("They cover %(n)s distinct case; %(min)s needed.",
                                    "They cover %(n)s distinct cases; %(min)s needed.", cases, n=cases, min=min_cases))
        more = max(sessions_short, cases_short)  # each new session can add one new case
        step = ngettext("Log and get approval for %(n)s more clinical session",
                        "Log and get approval for %(n)s more clinical sessions", more, n=more)
        if cases_short:
            step += ngettext(", covering %(n)s more distinct case (your own case numbers)",
                             ", covering %(n)s more distinct cases (your own case numbers)", cases_short, n=cases_short)
        return self.unmet(req, ctx, progress, join_phrases(" ", reasons), step)


# --------------------------------------------------------------------------- competencies


@register
class CompetencyRule(Rule):
    """``competency`` {competency: id}: sign-off per the competency's definition in the standard."""

    type = "competency"

    def _definition(self, req: Mapping[str, Any], ctx: Context) -> Mapping[str, Any] | None:
        return ctx.competencies.get(str(self.params(req).get("competency") or ""))

    def title(self, req: Mapping[str, Any], ctx: Context) -> str:
        definition = self._definition(req, ctx)
        if req.get("title") or definition is None:
            return super().title(req, ctx)
        return _translated_data(f"{definition['id']} {definition.get('title') or ''}".strip(),
                                {"fr": definition.get("title_fr") and f"{definition['id']} {definition['title_fr']}"})

    def _spec(self, req: Mapping[str, Any], ctx: Context) -> CompetencySpec | None:
        definition = self._definition(req, ctx)
        return None if definition is None else CompetencySpec.of(definition)

    def evaluate(self, req: Mapping[str, Any], ctx: Context) -> RequirementResult:
        spec = ctx.for_requirement("competency", req, lambda: self._spec(req, ctx))
        if spec is None:
            missing = self.params(req).get("competency")
            reason = _("Competency %(id)s is not defined in this standard.", id=missing)
            return self.unmet(req, ctx, _("Competency %(id)s: not defined", id=missing), reason, ASK_ADMIN_STEP)
        status = sign_off_current(spec, ctx.observations_of(spec.competency_id), trainee_is_dental=ctx.facts.is_dental)
        progress = _("%(competency)s: %(progress)s", competency=status.label, progress=status.progress)
        if status.signed_off:
            return self.met(req, ctx, progress)
        return self.unmet(req, ctx, progress, self._reason(status), self._next_step(status))

    @staticmethod
    def _reason(s: CompetencyStatus) -> str:
        parts = []
        if s.passing < s.required:
            in_a_row = _(" in a row") if s.required > 1 else ""
            parts.append(ngettext(
                "Sign-off needs %(n)s passing observation%(in_a_row)s (level %(level)s or above, no critical failure, "
                "every critical criterion met); %(passing)s so far.",
                "Sign-off needs %(n)s passing observations%(in_a_row)s (level %(level)s or above, no critical "
                "failure, every critical criterion met); %(passing)s so far.",
                s.required, n=s.required, in_a_row=in_a_row, level=s.required_level, passing=s.passing))
        if s.breaking_observation is not None:
            day, why = format_date(s.breaking_observation.observed_on), join_phrases("; ", s.breaking_reasons)
            parts.append(_("The observation on %(day)s did not pass (%(why)s), so observations before it no longer "
                           "count.", day=day, why=why))
        elif s.reset_by is not None and s.passing < s.required:
            day = format_date(s.reset_by.observed_on)
            parts.append(_("A critical failure on %(day)s reset the count; only observations after it count.",
                           day=day))
        if s.passing == 0:
            return join_phrases(" ", parts)  # with nothing passed yet, the next step lists the other conditions
        if s.assessors_short:
            parts.append(ngettext(
                "The passing observations are by %(n)s assessor; %(min)s different assessors are needed.",
                "The passing observations are by %(n)s assessors; %(min)s different assessors are needed.",
                s.assessors, n=s.assessors, min=s.min_assessors))
        if s.cases_short:
            parts.append(ngettext("They cover %(n)s distinct case; %(min)s needed.",
                                  "They cover %(n)s distinct cases; %(min)s needed.", s.cases, n=s.cases,
                                  min=s.min_cases))
        if s.dental_assessor_needed and not s.dental_assessor_present:
            parts.append(_("At least one of them must be by a dental-professional assessor."))
        return join_phrases(" ", parts)

    @staticmethod
    def _next_step(s: CompetencyStatus) -> str:
        dental_short = 1 if s.dental_assessor_needed and not s.dental_assessor_present else 0
        # One new passing observation adds at most one assessor, one case and one dental assessor.
        more = max(s.required - s.passing, s.assessors_short, s.cases_short, dental_short, 1)
        step = ngettext("Arrange %(n)s more passing observation of %(competency)s at level %(level)s+",
                        "Arrange %(n)s more passing observations of %(competency)s at level %(level)s+", more,
                        n=more, competency=s.label, level=s.required_level)
        if s.assessors_short:
            step += ngettext(", by at least %(n)s more assessor", ", by at least %(n)s more assessors",
                             s.assessors_short, n=s.assessors_short)
        if s.cases_short:
            step += ngettext(", on %(n)s more distinct case", ", on %(n)s more distinct cases", s.cases_short,
                             n=s.cases_short)
        if dental_short:
            step += _(", including one by a dental-professional assessor")
        return step


# --------------------------------------------------------------------------- screening and jurisdiction


def agreement_problem(agreement: AgreementFact, today: date) -> str:
    """Why a collaboration agreement does not count for Route N today, or "" when it does."""
    ref = agreement.label
    if agreement.status == "revoked":
        return _("%(agreement)s was revoked", agreement=ref)
    if agreement.status == "rejected":
        return _("%(agreement)s was rejected at review", agreement=ref)
    if agreement.status == "pending":
        return _("%(agreement)s is waiting for verification", agreement=ref)
    if agreement.status != AGREEMENT_VERIFIED:
        return _("%(agreement)s has status %(status)s, which does not count", agreement=ref,
                 status=repr(agreement.status))
    if agreement.dentist_profession not in DENTAL_PROFESSIONS:
        return _("%(agreement)s is with %(who)s, not a dental professional", agreement=ref,
                 who=with_article(profession_label(agreement.dentist_profession)))
    if agreement.valid_until < today:
        return _("%(agreement)s expired on %(day)s", agreement=ref, day=format_date(agreement.valid_until))
    if agreement.valid_from > today:
        return _("%(agreement)s only takes effect on %(day)s", agreement=ref, day=format_date(agreement.valid_from))
    return ""


@register
class ScreeningRouteRule(Rule):
    """``screening_route`` {}: Route D or Route N for intraoral screening (prerequisite P3).

    Route D: the trainee's profession is a dental one, so the license covers oral-health screening.
    Route N: anyone else needs a verified, current, unrevoked collaboration agreement with a licensed
    dental professional. Pending, rejected, revoked, expired and not-yet-valid agreements do not count,
    and the reason names each one and why.
    """

    type = "screening_route"

    def evaluate(self, req: Mapping[str, Any], ctx: Context) -> RequirementResult:
        facts = ctx.facts
        if facts.is_dental:
            label = profession_label(facts.profession)
            return self.met(req, ctx, _("Route D: met through your verified %(profession)s license", profession=label))
        lic = facts.licence
        if lic is not None and lic.status != "verified" and lic.profession in DENTAL_PROFESSIONS:
            who = with_article(profession_label(lic.profession))
            reason = _("Route D needs a verified dental license. Your license as %(who)s has not been verified, so it "
                       "cannot stand for oral-health screening yet.", who=who)
            step = _("Wait for an admin to verify your license, or use Route N with a collaborating dental "
                     "professional")
            return self.unmet(req, ctx, _("Route D: license waiting for verification"), reason, step)
        agreements = sorted(facts.agreements, key=lambda a: (a.valid_from, a.valid_until, a.dentist_name, a.status))
        valid = [a for a in agreements if not agreement_problem(a, ctx.today)]
        if valid:
            best = max(valid, key=lambda a: (a.valid_until, a.id))
            who, until = profession_label(best.dentist_profession), format_date(best.valid_until)
            name = best.dentist_name or with_article(who)
            return self.met(
                req,
                ctx,
                _("Route N: verified collaboration agreement with %(name)s (%(who)s), until %(until)s", name=name,
                  who=who, until=until),
            )
        upload = _("Upload a collaboration agreement with a licensed dental professional (Route N)")
        if not agreements:
            who = profession_label(facts.profession) if facts.profession else _("not recorded")
            reason = _(
                "Intraoral work needs Route D or Route N screening. Your profession (%(who)s) is not a dental one "
                "(Route D), and no collaboration agreement with a licensed dental professional is on file (Route N).",
                who=who,
            )
            step = _("%(upload)s, or, if you hold a dental license, record your dental profession (Route D)",
                     upload=upload)
            return self.unmet(req, ctx, _("Route N: no collaboration agreement on file"), reason, step)
        problems = join_phrases("; ", (agreement_problem(a, ctx.today) for a in agreements))
        reason = _(
            "Route N needs a verified, current collaboration agreement with a licensed dental professional, "
            "and none on file counts: %(problems)s.", problems=problems
        )
        pending = [a for a in agreements if a.status == "pending"]
        step = (_("%(upload)s, or wait for an admin to verify %(agreement)s", upload=upload,
                  agreement=pending[-1].label) if pending else upload)
        return self.unmet(req, ctx, _("Route N: no current verified collaboration agreement"), reason, step)


@register
class JurisdictionRuleRule(Rule):
    """``jurisdiction_rule`` {rule: id}: a rule of the trainee's jurisdiction, enforced only on request.

    It blocks only when the standard lists the rule id in ``jurisdiction_rules_enforced`` and the rule
    applies to the trainee (same jurisdiction and profession). The engine cannot see a license's
    endorsements, so an enforced, applicable rule is met only when its id is among the attestations
    (rules the trainee's license is recorded as satisfying). Otherwise it is met and reported as
    "not applicable" or "notice only"; the engine adds the notice text itself.
    """

    type = "jurisdiction_rule"

    def title(self, req: Mapping[str, Any], ctx: Context) -> str:
        if req.get("title"):
            return super().title(req, ctx)
        return _("Jurisdiction rule %(rule)s", rule=self.params(req).get('rule'))

    def evaluate(self, req: Mapping[str, Any], ctx: Context) -> RequirementResult:
        rule_id = str(self.params(req).get("rule") or "")
        enforced = rule_id in ctx.enforced_rules
        rule = ctx.jurisdiction_rules.get(rule_id)
        if rule is None and not enforced:
            return self.met(req, ctx, _("%(not_applicable)s (rule not in the jurisdiction data)",
                                        not_applicable=NOT_APPLICABLE))
        if rule is None:
            # Enforced but unknown: fail closed, the standard relies on a rule nobody can check.
            reason = _("The standard enforces jurisdiction rule %(rule)s, but it is not in the jurisdiction data.",
                       rule=rule_id)
            return self.unmet(req, ctx, _("Jurisdiction rule not found"), reason, ASK_ADMIN_STEP)
        if not rule_applies(rule, ctx.facts):
            return self.met(req, ctx, NOT_APPLICABLE)
        cite = short_cite(rule)
        if not enforced:
            return self.met(req, ctx, _("Notice only: %(cite)s applies to you but this standard does not enforce it",
                                        cite=cite))
        if rule_id in ctx.attestations:
            return self.met(req, ctx, _("%(cite)s: your license is recorded as meeting it", cite=cite))
        who = profession_label(ctx.facts.profession)
        summary = _english_only(str(rule.get("summary") or "").strip().rstrip("."))
        reason = _(
            "%(cite)s applies to you as %(who)s in %(place)s: %(summary)s. Your license is not recorded as meeting it.",
            cite=cite, who=with_article(who), place=jurisdiction_label(ctx.facts.jurisdiction), summary=summary,
        )
        step = _("Send evidence that your license meets %(cite)s (such as the endorsement on it) for an admin to "
                 "record", cite=cite)
        return self.unmet(req, ctx, _("%(cite)s: not recorded on your license", cite=cite), reason, step)


# --------------------------------------------------------------------------- documented cases


@register
class DocumentedCasesRule(Rule):
    """``documented_cases`` {min_cases, letters_per_case}: cases with a baseline and a follow-up of the same outcome
    measure and at least ``letters_per_case`` interprofessional letters (DOMAIN §1.3)."""

    type = "documented_cases"

    def evaluate(self, req: Mapping[str, Any], ctx: Context) -> RequirementResult:
        params = self.params(req)
        needed = int(params.get("min_cases") or 3)
        letters = int(params.get("letters_per_case") or 1)
        cases = sorted(ctx.facts.cases, key=lambda c: c.code)
        documented = [c for c in cases if c.baseline_and_followup and c.letters >= letters]
        progress = _("Documented cases: %(done)s of %(needed)s", done=len(documented), needed=needed)
        if documented:
            progress += f" ({', '.join(c.code for c in documented)})"
        if len(documented) >= needed:
            return self.met(req, ctx, progress)
        short = needed - len(documented)
        no_pair = [c.code for c in cases if not c.baseline_and_followup]
        no_letter = [c.code for c in cases if c.baseline_and_followup and c.letters < letters]
        reason = ngettext("%(done)s documented case; %(needed)s needed.",
                          "%(done)s documented cases; %(needed)s needed.", len(documented), done=len(documented),
                          needed=needed)
        reason += ngettext(" A documented case has a baseline and a follow-up of the same measure and %(n)s "
                           "interprofessional letter.",
                           " A documented case has a baseline and a follow-up of the same measure and %(n)s "
                           "interprofessional letters.", letters, n=letters)
        if no_letter:
            reason += ngettext(" %(cases)s needs a letter.", " %(cases)s need a letter.", len(no_letter),
                               cases=join_words(no_letter))
        if no_pair:
            shown = no_pair[:5]
            reason += ngettext(" %(cases)s%(others)s has no baseline and follow-up pair yet.",
                               " %(cases)s%(others)s have no baseline and follow-up pair yet.",
                               1 if len(shown) == 1 and len(no_pair) == 1 else 2,
                               cases=join_words(shown), others=_(" and others") if len(no_pair) > 5 else "")
        step = ngettext("Document %(n)s more case: record a baseline and a follow-up measurement and add the "
                        "interprofessional letter on the case page",
                        "Document %(n)s more cases: record a baseline and a follow-up measurement and add the "
                        "interprofessional letter on the case page", short, n=short)
        return self.unmet(req, ctx, progress, reason, step)


from lms.eligibility import summative as _summative  # noqa: E402,F401  (registers the summative rule types)
