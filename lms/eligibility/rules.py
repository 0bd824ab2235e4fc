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

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from operator import attrgetter
from typing import Any, ClassVar

from lms.core.formatting import format_date
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
    LAB_IN_PERSON: "in-person lab",
    CLINICAL_EXTRAORAL: "clinical extraoral",
    CLINICAL_INTRAORAL: "clinical intraoral",
}

JURISDICTION_NAMES = {
    "US-WA": "Washington",
    "US-OR": "Oregon",
    "US-NC": "North Carolina",
    "US-OH": "Ohio",
    "CA-BC": "British Columbia",
    "CA-ON": "Ontario",
    "CA-MB": "Manitoba",
    "CA-NB": "New Brunswick",
    "CA-AB": "Alberta",
    "OTHER": "Other jurisdiction",
}

# Jurisdiction-rule statuses that take a rule out of use (no notice, never applies).
INACTIVE_RULE_STATUSES = frozenset({"retired", "withdrawn", "superseded", "inactive"})
# Statuses meaning the rule's wording was cited but not read at the source.
UNCONFIRMED_RULE_STATUSES = frozenset({"v", "s/v", "unverified"})

AGREEMENT_VERIFIED = "verified"

ASK_ADMIN_STEP = "Ask an admin to correct the standard"
PROFILE_PROFESSION_STEP = "Record your regulated health profession in your profile"


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
NOT_APPLICABLE = "not applicable"


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
    """A number with at most two decimals and no trailing zeros: 20 -> "20", 7.50 -> "7.5"."""
    return f"{round(float(value), 2):.2f}".rstrip("0").rstrip(".")


def fmt_hours(minutes: int) -> str:
    """Minutes shown as hours, e.g. 750 -> "12.5"."""
    return fmt_number(minutes / 60)


def plural(n: float, one: str, many: str | None = None) -> str:
    """``one`` when n is exactly 1, otherwise ``many`` (default: one + "s")."""
    return one if n == 1 else (many or one + "s")


def join_words(words: Sequence[str]) -> str:
    """["a"] -> "a"; ["a", "b"] -> "a and b"; ["a", "b", "c"] -> "a, b and c"."""
    words = list(words)
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def capitalise(text: str) -> str:
    """Upper-case the first letter only (keeps "OMT", "in-person" and the like intact)."""
    return text[:1].upper() + text[1:]


def profession_label(key: str | None) -> str:
    """``"massage_therapist"`` -> ``"massage therapist"``."""
    from lms.providers.professions import PROFESSIONS

    if key in PROFESSIONS:
        return PROFESSIONS[key].label.lower()
    return (key or "unknown profession").replace("_", " ")


def with_article(noun: str) -> str:
    """ "dentist" -> "a dentist"; "occupational therapist" -> "an occupational therapist"."""
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def jurisdiction_label(code: str | None) -> str:
    """``"US-WA"`` -> ``"Washington"``; unknown codes are shown as given."""
    return JURISDICTION_NAMES.get(code or "", code or "no jurisdiction")


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
    summary = str(rule.get("summary") or "").strip().rstrip(".")
    verified = rule.get("verified_on")
    verified_text = format_date(verified) if verified else "date unknown"
    extra = ""
    if str(rule.get("status") or "").lower() in UNCONFIRMED_RULE_STATUSES:
        extra = "; wording not yet confirmed at the source"
    return f"{place}, {who}: {summary} ({short_cite(rule)}, last verified {verified_text}{extra}; not legal advice)"


def licence_unverified(facts: TraineeFacts) -> tuple[str, str, str] | None:
    """(progress, reason, next step) when the newest license record is not verified; None otherwise."""
    lic = facts.licence
    if lic is None or lic.status == "verified":
        return None
    claimed = f"{profession_label(lic.profession)}, {jurisdiction_label(lic.jurisdiction)}, number {lic.number}"
    if lic.status == "rejected":
        why = f": {lic.decision_reason}" if lic.decision_reason else ""
        reason = f"Your license details ({claimed}) were not accepted at verification{why}."
        return ("License: not accepted", reason,
                "Correct your license details on your profile and attach evidence of the license")
    if lic.changed_after_verification:
        when = f" on {format_date(lic.submitted_on)}" if lic.submitted_on else ""
        reason = (f"Your license details changed{when} ({claimed}), so the license needs verification again. "
                  "Until an admin has checked it with the licensing body, requirements that depend on your "
                  "profession, license or jurisdiction are not met.")
    else:
        reason = (f"Your license ({claimed}) needs verification: an admin checks it with the licensing body "
                  "before anything rests on it.")
    return ("License: waiting for verification", reason,
            "Wait for an admin to verify your license (attach evidence of it on your profile to speed this up)")


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
        """The requirement's title from the standard, or a sensible default. It depends on the standard alone (never
        on the trainee): it is worked out once per standard."""
        return str(req.get("title") or req["id"])

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
            reason = "No regulated health profession is recorded on your profile."
            return self.unmet(req, ctx, "Profession: not recorded", reason, PROFILE_PROFESSION_STEP)
        label = profession_label(profession)
        if profession not in allowed:
            accepted = join_words([profession_label(p) for p in allowed]) or "none listed"
            reason = f"{capitalise(label)} is not one of the professions this standard accepts ({accepted})."
            step = "Contact an admin if you also hold a profession this standard accepts"
            return self.unmet(req, ctx, f"Profession: {label}", reason, step)
        unregulated = not_regulated_rule(ctx, ctx.facts)
        if unregulated is not None:
            place = jurisdiction_label(ctx.facts.jurisdiction)
            reason = (
                f"Certification is for regulated health professionals, and {with_article(label)} is not a regulated "
                f"health profession in {place} ({short_cite(unregulated)}, last verified "
                f"{unregulated.get('verified_on') or 'date unknown'}; not legal advice)."
            )
            step = "Contact an admin if you hold a regulated health profession in another jurisdiction"
            return self.unmet(req, ctx, f"Profession: {label}, not regulated in {place}", reason, step)
        return self.met(req, ctx, f"Profession: {label} (verified license)")


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
            reason = "No license or registration number is recorded."
            step = "Add your license or registration number and its expiry date to your profile"
            return self.unmet(req, ctx, "License: not on file", reason, step)
        if expires is None:
            reason = "The license expiry date is not recorded, so the license cannot be shown to be current."
            step = "Add your license expiry date to your profile"
            return self.unmet(req, ctx, "License: expiry date not recorded", reason, step)
        if expires < ctx.today:
            reason = f"Your license expired on {format_date(expires)}."
            step = "Renew your license and update its expiry date in your profile"
            return self.unmet(req, ctx, f"License: expired on {format_date(expires)}", reason, step)
        return self.met(req, ctx, f"License: verified, current until {format_date(expires)}")


@register
class OmtCredentialRule(Rule):
    """``omt_credential`` {min_hours}: a verified OMT foundation course of at least ``min_hours``."""

    type = "omt_credential"

    def evaluate(self, req: Mapping[str, Any], ctx: Context) -> RequirementResult:
        status, hours = ctx.facts.omt_status, ctx.facts.omt_hours
        min_hours = float(self.params(req).get("min_hours") or 0)
        need = fmt_number(min_hours)
        upload = f"Upload the certificate of an OMT foundation course of at least {need} hours"
        label = "OMT foundation course"
        if status is None:
            return self.unmet(req, ctx, f"{label}: not on file", f"No {label} certificate is on file.", upload)
        if status == "pending":
            reason = "Your OMT course certificate has not been verified yet."
            step = "Wait for an admin to verify your OMT course certificate"
            return self.unmet(req, ctx, f"{label}: waiting for verification", reason, step)
        if status != "verified":
            reason = "Your OMT course certificate was not accepted."
            return self.unmet(req, ctx, f"{label}: not accepted", reason, upload)
        have = fmt_number(hours)
        if hours < min_hours:
            reason = f"The verified OMT course has {have} hours; at least {need} are needed."
            return self.unmet(req, ctx, f"{label}: {have} of {need} hours", reason, upload)
        return self.met(req, ctx, f"{label}: verified, {have} hours")


@register
class OmtRecencyRule(Rule):
    """``omt_recency`` {max_years}: the OMT course was completed within ``max_years`` before the enrollment (or
    today, before enrolling), or an admin recorded evidence of active OMT practice (P2b)."""

    type = "omt_recency"

    def evaluate(self, req: Mapping[str, Any], ctx: Context) -> RequirementResult:
        years = int(self.params(req).get("max_years") or 5)
        facts = ctx.facts
        label = "OMT course recency"
        if facts.omt_practice_recognised:
            return self.met(req, ctx, f"{label}: active OMT practice recognised by an admin")
        completed = facts.omt_completed_on
        if completed is None or facts.omt_status != "verified":
            reason = "No verified OMT course completion date is on file, so its recency cannot be checked."
            step = "Have your OMT course certificate verified"
            return self.unmet(req, ctx, f"{label}: no verified course date", reason, step)
        ref = facts.enrolled_on or ctx.today
        try:
            earliest = ref.replace(year=ref.year - years)
        except ValueError:  # 29 February
            earliest = ref.replace(year=ref.year - years, day=28)
        when = "enrollment" if facts.enrolled_on else "today"
        if completed >= earliest:
            return self.met(req, ctx, f"{label}: completed {format_date(completed)}, within {years} years of {when}")
        reason = (f"Your OMT course was completed on {format_date(completed)}, more than {years} years before "
                  f"{when} ({format_date(ref)}). The course must be recent, or you must show active OMT practice.")
        step = ("Send evidence of active OMT practice (such as a practice attestation signed by your employer or "
                "regulator) for an admin to record, or complete a new OMT foundation course")
        return self.unmet(req, ctx, f"{label}: completed {format_date(completed)}", reason, step)


@register
class CprCurrentRule(Rule):
    """``cpr_current`` {}: a CPR/BLS card that expires today or later."""

    type = "cpr_current"

    def evaluate(self, req: Mapping[str, Any], ctx: Context) -> RequirementResult:
        expires = ctx.facts.cpr_expires_on
        step = "Complete an in-person CPR/BLS course and upload the card with its expiry date"
        if expires is None:
            return self.unmet(req, ctx, "CPR/BLS: not on file", "No CPR/BLS card is on file.", step)
        if expires < ctx.today:
            reason = f"Your CPR/BLS card expired on {format_date(expires)}."
            return self.unmet(req, ctx, f"CPR/BLS: expired on {format_date(expires)}", reason, step)
        return self.met(req, ctx, f"CPR/BLS: current until {format_date(expires)}")


@register
class InfectionControlAckRule(Rule):
    """``infection_control_ack`` {}: the infection-control and glove protocol was acknowledged."""

    type = "infection_control_ack"

    def evaluate(self, req: Mapping[str, Any], ctx: Context) -> RequirementResult:
        label = "Infection-control and glove protocol"
        if ctx.facts.infection_control_ack:
            return self.met(req, ctx, f"{label}: acknowledged")
        reason = "You have not yet acknowledged the infection-control and glove protocol."
        step = "Read and acknowledge the infection-control and glove protocol"
        return self.unmet(req, ctx, f"{label}: not acknowledged", reason, step)


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
        progress = f"Modules: {len(modules) - len(missing)} of {len(modules)} completed"
        if not missing:
            return self.met(req, ctx, progress)
        reason = (f"Not yet completed: {', '.join(missing)}. A module is completed when its knowledge check is passed; "
                  "its in-person lab hours count toward the lab-hours requirement once an instructor records your "
                  "attendance at a lab session.")
        step = f"Complete {plural(len(missing), 'module')} {join_words(missing)}"
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
        label = join_words([category_label(c) for c in categories]) or "no category"
        return categories, round(min_hours * 60), label, fmt_number(min_hours)

    def evaluate(self, req: Mapping[str, Any], ctx: Context) -> RequirementResult:
        categories, need_minutes, label, need = ctx.for_requirement(
            "approved_hours", req, lambda: self._target(req))
        have_minutes = sum(ctx.minutes_by_category.get(c, 0) for c in categories)
        have = fmt_hours(have_minutes)
        progress = f"{capitalise(label)} hours: {have} of {need}"
        early = sum(ctx.early_minutes.get(c, 0) for c in categories)
        if early:
            progress += f" ({fmt_hours(early)} h before enrollment, not counted)"
        if not categories:
            reason = "This requirement names no hour category, so no hours can count toward it."
            return self.unmet(req, ctx, progress, reason, ASK_ADMIN_STEP)
        short = max(0, need_minutes - have_minutes)
        if not short:
            return self.met(req, ctx, progress)
        reason = (
            f"{have} approved {label} {plural(have_minutes / 60, 'hour')} so far; {need} needed. "
            "Only hours an instructor has approved count."
        )
        if LAB_IN_PERSON in categories:
            reason += " Module lab sessions count once the instructor who ran them records your attendance."
        step = f"Log and get approval for {fmt_hours(short)} more {label} {plural(short / 60, 'hour')}"
        if early:
            start = format_date(ctx.facts.hours_count_from) if ctx.facts.hours_count_from else "your enrollment"
            reason += (f" {fmt_hours(early)} approved {plural(early / 60, 'hour')} dated before {start} "
                       "(before enrollment) do not count.")
            step += (", or, if the earlier hours belong to this program's training, ask an admin to record advanced "
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
        progress = f"Approved clinical sessions: {sessions} of {min_sessions}"
        if min_cases > 0:
            progress += f", distinct cases: {cases} of {min_cases}"
        sessions_short = max(0, min_sessions - sessions)
        cases_short = max(0, min_cases - cases)
        if not (sessions_short or cases_short):
            return self.met(req, ctx, progress)
        reasons = []
        if sessions_short:
            reasons.append(f"{sessions} approved {plural(sessions, 'session')} so far; {min_sessions} needed.")
        if cases_short:
            reasons.append(f"They cover {cases} distinct {plural(cases, 'case')}; {min_cases} needed.")
        more = max(sessions_short, cases_short)  # each new session can add one new case
        step = f"Log and get approval for {more} more clinical {plural(more, 'session')}"
        if cases_short:
            step += f", covering {cases_short} more distinct {plural(cases_short, 'case')} (your own case numbers)"
        return self.unmet(req, ctx, progress, " ".join(reasons), step)


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
        return f"{definition['id']} {definition.get('title') or ''}".strip()

    def _spec(self, req: Mapping[str, Any], ctx: Context) -> CompetencySpec | None:
        definition = self._definition(req, ctx)
        return None if definition is None else CompetencySpec.of(definition)

    def evaluate(self, req: Mapping[str, Any], ctx: Context) -> RequirementResult:
        spec = ctx.for_requirement("competency", req, lambda: self._spec(req, ctx))
        if spec is None:
            missing = self.params(req).get("competency")
            reason = f"Competency {missing} is not defined in this standard."
            return self.unmet(req, ctx, f"Competency {missing}: not defined", reason, ASK_ADMIN_STEP)
        status = sign_off_current(spec, ctx.observations_of(spec.competency_id), trainee_is_dental=ctx.facts.is_dental)
        progress = f"{status.label}: {status.progress}"
        if status.signed_off:
            return self.met(req, ctx, progress)
        return self.unmet(req, ctx, progress, self._reason(status), self._next_step(status))

    @staticmethod
    def _reason(s: CompetencyStatus) -> str:
        parts = []
        if s.passing < s.required:
            in_a_row = " in a row" if s.required > 1 else ""
            parts.append(
                f"Sign-off needs {s.required} passing {plural(s.required, 'observation')}{in_a_row} "
                f"(level {s.required_level} or above, no critical failure, every critical criterion met); "
                f"{s.passing} so far."
            )
        if s.breaking_observation is not None:
            day, why = format_date(s.breaking_observation.observed_on), "; ".join(s.breaking_reasons)
            parts.append(f"The observation on {day} did not pass ({why}), so observations before it no longer count.")
        elif s.reset_by is not None and s.passing < s.required:
            day = format_date(s.reset_by.observed_on)
            parts.append(f"A critical failure on {day} reset the count; only observations after it count.")
        if s.passing == 0:
            return " ".join(parts)  # with nothing passed yet, the next step lists the other conditions
        if s.assessors_short:
            parts.append(
                f"The passing observations are by {s.assessors} {plural(s.assessors, 'assessor')}; "
                f"{s.min_assessors} different assessors are needed."
            )
        if s.cases_short:
            parts.append(f"They cover {s.cases} distinct {plural(s.cases, 'case')}; {s.min_cases} needed.")
        if s.dental_assessor_needed and not s.dental_assessor_present:
            parts.append("At least one of them must be by a dental-professional assessor.")
        return " ".join(parts)

    @staticmethod
    def _next_step(s: CompetencyStatus) -> str:
        dental_short = 1 if s.dental_assessor_needed and not s.dental_assessor_present else 0
        # One new passing observation adds at most one assessor, one case and one dental assessor.
        more = max(s.required - s.passing, s.assessors_short, s.cases_short, dental_short, 1)
        step = f"Arrange {more} more passing {plural(more, 'observation')} of {s.label} at level {s.required_level}+"
        if s.assessors_short:
            step += f", by at least {s.assessors_short} more {plural(s.assessors_short, 'assessor')}"
        if s.cases_short:
            step += f", on {s.cases_short} more distinct {plural(s.cases_short, 'case')}"
        if dental_short:
            step += ", including one by a dental-professional assessor"
        return step


# --------------------------------------------------------------------------- screening and jurisdiction


def agreement_problem(agreement: AgreementFact, today: date) -> str:
    """Why a collaboration agreement does not count for Route N today, or "" when it does."""
    ref = agreement.label
    if agreement.status == "revoked":
        return f"{ref} was revoked"
    if agreement.status == "rejected":
        return f"{ref} was rejected at review"
    if agreement.status == "pending":
        return f"{ref} is waiting for verification"
    if agreement.status != AGREEMENT_VERIFIED:
        return f"{ref} has status {agreement.status!r}, which does not count"
    if agreement.dentist_profession not in DENTAL_PROFESSIONS:
        return (
            f"{ref} is with {with_article(profession_label(agreement.dentist_profession))}, not a dental professional"
        )
    if agreement.valid_until < today:
        return f"{ref} expired on {format_date(agreement.valid_until)}"
    if agreement.valid_from > today:
        return f"{ref} only takes effect on {format_date(agreement.valid_from)}"
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
            return self.met(req, ctx, f"Route D: met through your verified {label} license")
        lic = facts.licence
        if lic is not None and lic.status != "verified" and lic.profession in DENTAL_PROFESSIONS:
            who = with_article(profession_label(lic.profession))
            reason = (f"Route D needs a verified dental license. Your license as {who} has not been verified, so "
                      "it cannot stand for oral-health screening yet.")
            step = "Wait for an admin to verify your license, or use Route N with a collaborating dental professional"
            return self.unmet(req, ctx, "Route D: license waiting for verification", reason, step)
        agreements = sorted(facts.agreements, key=lambda a: (a.valid_from, a.valid_until, a.dentist_name, a.status))
        valid = [a for a in agreements if not agreement_problem(a, ctx.today)]
        if valid:
            best = max(valid, key=lambda a: (a.valid_until, a.id))
            who, until = profession_label(best.dentist_profession), format_date(best.valid_until)
            name = best.dentist_name or with_article(who)
            return self.met(
                req,
                ctx,
                f"Route N: verified collaboration agreement with {name} ({who}), until {until}",
            )
        upload = "Upload a collaboration agreement with a licensed dental professional (Route N)"
        if not agreements:
            who = profession_label(facts.profession) if facts.profession else "not recorded"
            reason = (
                f"Intraoral work needs Route D or Route N screening. Your profession ({who}) is not a dental one "
                "(Route D), and no collaboration agreement with a licensed dental professional is on file (Route N)."
            )
            step = f"{upload}, or, if you hold a dental license, record your dental profession (Route D)"
            return self.unmet(req, ctx, "Route N: no collaboration agreement on file", reason, step)
        problems = "; ".join(agreement_problem(a, ctx.today) for a in agreements)
        reason = (
            "Route N needs a verified, current collaboration agreement with a licensed dental professional, "
            f"and none on file counts: {problems}."
        )
        pending = [a for a in agreements if a.status == "pending"]
        step = f"{upload}, or wait for an admin to verify {pending[-1].label}" if pending else upload
        return self.unmet(req, ctx, "Route N: no current verified collaboration agreement", reason, step)


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
        return str(req.get("title") or f"Jurisdiction rule {self.params(req).get('rule')}")

    def evaluate(self, req: Mapping[str, Any], ctx: Context) -> RequirementResult:
        rule_id = str(self.params(req).get("rule") or "")
        enforced = rule_id in ctx.enforced_rules
        rule = ctx.jurisdiction_rules.get(rule_id)
        if rule is None and not enforced:
            return self.met(req, ctx, f"{NOT_APPLICABLE} (rule not in the jurisdiction data)")
        if rule is None:
            # Enforced but unknown: fail closed, the standard relies on a rule nobody can check.
            reason = f"The standard enforces jurisdiction rule {rule_id}, but it is not in the jurisdiction data."
            return self.unmet(req, ctx, "Jurisdiction rule not found", reason, ASK_ADMIN_STEP)
        if not rule_applies(rule, ctx.facts):
            return self.met(req, ctx, NOT_APPLICABLE)
        cite = short_cite(rule)
        if not enforced:
            return self.met(req, ctx, f"Notice only: {cite} applies to you but this standard does not enforce it")
        if rule_id in ctx.attestations:
            return self.met(req, ctx, f"{cite}: your license is recorded as meeting it")
        who = profession_label(ctx.facts.profession)
        summary = str(rule.get("summary") or "").strip().rstrip(".")
        reason = (
            f"{cite} applies to you as {with_article(who)} in {jurisdiction_label(ctx.facts.jurisdiction)}: {summary}. "
            "Your license is not recorded as meeting it."
        )
        step = f"Send evidence that your license meets {cite} (such as the endorsement on it) for an admin to record"
        return self.unmet(req, ctx, f"{cite}: not recorded on your license", reason, step)


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
        progress = f"Documented cases: {len(documented)} of {needed}"
        if documented:
            progress += f" ({', '.join(c.code for c in documented)})"
        if len(documented) >= needed:
            return self.met(req, ctx, progress)
        short = needed - len(documented)
        no_pair = [c.code for c in cases if not c.baseline_and_followup]
        no_letter = [c.code for c in cases if c.baseline_and_followup and c.letters < letters]
        reason = (f"{len(documented)} documented {plural(len(documented), 'case')}; {needed} needed. A documented case "
                  f"has a baseline and a follow-up of the same measure and {letters} interprofessional "
                  f"{plural(letters, 'letter')}.")
        if no_letter:
            reason += f" {join_words(no_letter)} {'needs' if len(no_letter) == 1 else 'need'} a letter."
        if no_pair:
            shown = no_pair[:5]
            reason += (f" {join_words(shown)}{' and others' if len(no_pair) > 5 else ''} "
                       f"{'has' if len(shown) == 1 and len(no_pair) == 1 else 'have'} no baseline and follow-up "
                       "pair yet.")
        step = (f"Document {short} more {plural(short, 'case')}: record a baseline and a follow-up measurement and add "
                "the interprofessional letter on the case page")
        return self.unmet(req, ctx, progress, reason, step)


from lms.eligibility import summative as _summative  # noqa: E402,F401  (registers the summative rule types)
