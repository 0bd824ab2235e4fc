"""The eligibility engine: one standard + one trainee's facts -> a decision with reasons.

Pure code: no Flask, no database. Callers build ``TraineeFacts`` from the records, load the
parsed standard and the jurisdiction rules, and call ``evaluate``. The decision is a function of
what counts (approved hours, current observations, verified agreements) and never of the order
in which records are handed over.

Decision semantics (see the standard-format brief): ``eligible`` is true when every blocking
``certificate``-scope requirement is met and the ``extraoral`` endorsement qualifies. An
endorsement qualifies when all certificate-scope requirements are met, all requirements with
that endorsement as scope are met, and every endorsement it ``requires_endorsements`` qualifies.
A requirement with ``required: false`` is reported but blocks nothing; a ``jurisdiction_rule``
requirement blocks only when enforced (see ``rules.JurisdictionRuleRule``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from lms.core.phrases import _, capitalise, join_words, ngettext, translated_data
from lms.eligibility.facts import CLINICAL_EXTRAORAL, CLINICAL_INTRAORAL, LAB_IN_PERSON, TraineeFacts
from lms.eligibility.rules import (
    INACTIVE_RULE_STATUSES,
    RULES,
    Context,
    Prepared,
    RequirementResult,
    counted_hours,
    jurisdiction_notice,
    rule_applies,
)

__all__ = ["Decision", "Plan", "RequirementResult", "evaluate", "evaluate_requirement", "hours_by_category"]

CERTIFICATE_SCOPE = "certificate"
# The endorsement every certificate carries; the decision semantics name it.
BASE_ENDORSEMENT = "extraoral"
JURISDICTION_RULE_TYPE = "jurisdiction_rule"


@dataclass(frozen=True)
class Decision:
    """The outcome of an eligibility check, with everything needed to explain it."""

    eligible: bool
    endorsements: list[str] = field(default_factory=list)  # qualifying endorsement ids, in standard order
    requirements: list[RequirementResult] = field(default_factory=list)  # in standard order
    notices: list[str] = field(default_factory=list)  # jurisdiction notices (not legal advice)
    next_steps: list[str] = field(default_factory=list)  # what to do next, most basic first
    summary: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON shape; callers add trainee, program and standard identifiers."""
        return {
            "eligible": self.eligible,
            "endorsements": list(self.endorsements),
            "requirements": [asdict(r) for r in self.requirements],
            "notices": list(self.notices),
            "next_steps": list(self.next_steps),
            "summary": self.summary,
        }

    @property
    def open_requirements(self) -> list[RequirementResult]:
        """Requirements that are not met (blocking or not), in standard order."""
        return [r for r in self.requirements if not r.met]

    @property
    def applicable(self) -> list[RequirementResult]:
        """The requirements that concern this trainee (rules of other jurisdictions and professions left out)."""
        return [r for r in self.requirements if r.applies]

    def groups(self) -> list[tuple[str, list[RequirementResult]]]:
        """Applicable requirements grouped by scope (certificate first, then endorsements in standard order).

        The certificate group's size is the count the summary speaks of, so a page shows one agreed number.
        """
        out: dict[str, list[RequirementResult]] = {}
        for r in self.applicable:
            out.setdefault(r.scope, []).append(r)
        order = [CERTIFICATE_SCOPE, *(s for s in out if s != CERTIFICATE_SCOPE)]
        return [(scope, out[scope]) for scope in order if scope in out]


def hours_by_category(facts: TraineeFacts) -> dict[str, float]:
    """Approved, non-superseded hours per category, rounded to 2 decimals.

    The three standard categories are always present (0.0 when empty); any other category that
    has counted hours is included too. Minutes are summed as integers before converting, so the
    totals do not depend on record order.
    """
    minutes = dict.fromkeys((LAB_IN_PERSON, CLINICAL_EXTRAORAL, CLINICAL_INTRAORAL), 0)
    for h in counted_hours(facts):
        minutes[h.category] = minutes.get(h.category, 0) + h.minutes
    return {category: round(total / 60, 2) for category, total in minutes.items()}


def _is_blocking(req: Mapping[str, Any]) -> bool:
    # A jurisdiction_rule result is already met whenever the rule is not enforced, so the
    # enforcement list, not ``required``, decides whether it can block.
    if req.get("type") == JURISDICTION_RULE_TYPE:
        return True
    return req.get("required", True) is not False


def _unknown_type(req: Mapping[str, Any]) -> RequirementResult:
    return RequirementResult(
        id=str(req["id"]),
        title=translated_data(str(req.get("title") or req["id"]), {"fr": req.get("title_fr")}),
        scope=str(req.get("scope") or CERTIFICATE_SCOPE),
        met=False,
        progress=_("Unknown requirement type"),
        reason=_("This standard uses a requirement type the system does not know (%(type)s).",
                 type=repr(req.get('type'))),
        next_step=_("Ask an admin to correct the standard."),
    )


def evaluate_requirement(req: Mapping[str, Any], ctx: Context) -> RequirementResult:
    """Evaluate one requirement with its registered rule type.

    An unknown rule type yields an unmet result instead of an exception: the decision fails
    closed and says why, and the page that shows it still renders.
    """
    rule_cls = RULES.get(str(req.get("type")))
    if rule_cls is None:
        return _unknown_type(req)
    return rule_cls().evaluate(req, ctx)


class Plan:
    """A standard and the jurisdiction rules, prepared once to decide many trainees.

    Everything that depends on the standard alone is worked out here, once per cohort: the requirements with their
    rule types and whether they block, the endorsements, the lookup tables of competencies and jurisdiction rules, the
    jurisdiction notices in order, and (in ``prepared``) what each rule derives from its requirement. Only the
    trainee's own facts are looked at per trainee. ``Plan(standard, rules).evaluate(facts)`` is ``evaluate(standard,
    facts, rules)``. A plan lives for one batch of decisions in one request (dates in its text follow the reader's
    language), and reads the standard and the rules without changing them.
    """

    def __init__(self, standard: Mapping[str, Any], jurisdiction_rules: Sequence[Mapping[str, Any]] = ()) -> None:
        jurisdiction_rules = tuple(jurisdiction_rules)  # read twice below; a generator would be spent
        self.standard = standard
        self.prepared = Prepared(standard, jurisdiction_rules)
        self.requirements = [
            (req, RULES.get(str(req.get("type"))), _is_blocking(req)) for req in standard.get("requirements") or ()
        ]
        self.endorsement_defs = {str(e["id"]): e for e in standard.get("endorsements") or ()}
        # The rules in use, by jurisdiction, in notice order (by id): a trainee's notices are those of their own
        # jurisdiction that name their profession.
        self._notice_rules: dict[str, list[tuple[int, Mapping[str, Any]]]] = {}
        for i, rule in enumerate(sorted(jurisdiction_rules, key=lambda r: str(r.get("id")))):
            place = rule.get("jurisdiction")
            if isinstance(place, str) and str(rule.get("status") or "").lower() not in INACTIVE_RULE_STATUSES:
                self._notice_rules.setdefault(place, []).append((i, rule))
        self._notice_text: dict[tuple[int, Any], str] = {}

    def notices(self, facts: TraineeFacts) -> list[str]:
        """The jurisdiction notices for the trainee, as ``rule_applies`` and ``jurisdiction_notice`` give them (each
        text worked out once per rule and profession)."""
        if not facts.jurisdiction:
            return []
        out = []
        for i, rule in self._notice_rules.get(facts.jurisdiction, ()):
            if rule_applies(rule, facts):
                key = (i, facts.profession)
                text = self._notice_text.get(key)
                if text is None:
                    text = self._notice_text[key] = jurisdiction_notice(rule, facts)
                out.append(text)
        return out

    def evaluate(self, facts: TraineeFacts, attestations: Iterable[str] = frozenset()) -> Decision:
        """Decide one trainee's eligibility (see :func:`evaluate`)."""
        ctx = Context.build(self.standard, facts, attestations=frozenset(attestations), prepared=self.prepared)
        results = []
        open_by_scope: dict[str, list[RequirementResult]] = {}
        blocking = []
        for req, rule_cls, blocks in self.requirements:
            r = _unknown_type(req) if rule_cls is None else rule_cls().evaluate(req, ctx)
            results.append(r)
            if blocks:
                blocking.append(r)
                if not r.met:
                    open_by_scope.setdefault(r.scope, []).append(r)
        endorsement_defs = self.endorsement_defs
        certificate_ok = not open_by_scope.get(CERTIFICATE_SCOPE)

        def qualifies(endorsement_id: str, seen: frozenset[str] = frozenset()) -> bool:
            if endorsement_id in seen or endorsement_id not in endorsement_defs:
                return False  # an unknown or circular prerequisite never qualifies
            required = endorsement_defs[endorsement_id].get("requires_endorsements") or ()
            return (
                certificate_ok
                and not open_by_scope.get(endorsement_id)
                and all(qualifies(str(e), seen | {endorsement_id}) for e in required)
            )

        eligible = certificate_ok and (BASE_ENDORSEMENT not in endorsement_defs or qualifies(BASE_ENDORSEMENT))
        endorsements = [e for e in endorsement_defs if qualifies(e)] if eligible else []
        return Decision(
            eligible=eligible,
            endorsements=endorsements,
            requirements=results,
            notices=self.notices(facts),
            next_steps=_next_steps(open_by_scope, list(endorsement_defs)),
            summary=_summary(eligible, endorsements, endorsement_defs, open_by_scope, blocking),
        )


def evaluate(
    standard: Mapping[str, Any],
    facts: TraineeFacts,
    jurisdiction_rules: Sequence[Mapping[str, Any]] = (),
    attestations: Iterable[str] = frozenset(),
) -> Decision:
    """Decide a trainee's eligibility under a parsed standard.

    ``standard`` is the parsed standard file (a dict). ``jurisdiction_rules`` are plain dicts
    (id, jurisdiction, profession, activity, summary, requires, source_cite, verified_on, status);
    every one that matches the trainee's jurisdiction and profession becomes a notice.

    ``attestations`` is the set of jurisdiction-rule ids that the trainee's licence is recorded as
    satisfying (for example, an admin has checked that a Washington licence carries the intraoral
    endorsement). The engine cannot see licence endorsements itself, so an enforced, applicable
    ``jurisdiction_rule`` requirement is met only when its rule id is in this set. It does not
    depend on ``TraineeFacts`` so callers can supply it from wherever licence checks are kept.

    To decide many trainees under one standard, prepare it once with :class:`Plan`.
    """
    return Plan(standard, jurisdiction_rules).evaluate(facts, attestations)


def _next_steps(open_by_scope: Mapping[str, list[RequirementResult]], endorsement_ids: list[str]) -> list[str]:
    # Certificate steps first, then each endorsement in standard order, then any other scope.
    scopes = [CERTIFICATE_SCOPE, *endorsement_ids]
    scopes += sorted(s for s in open_by_scope if s not in scopes)
    steps: list[str] = []
    for scope in scopes:
        for r in open_by_scope.get(scope, ()):
            step = (r.next_step if scope == CERTIFICATE_SCOPE else
                    _("%(endorsement)s endorsement: %(step)s", endorsement=capitalise(scope), step=r.next_step))
            if r.next_step and step not in steps:
                steps.append(step)
    return steps


def _summary(
    eligible: bool,
    endorsements: list[str],
    endorsement_defs: Mapping[str, Mapping[str, Any]],
    open_by_scope: Mapping[str, list[RequirementResult]],
    blocking: Sequence[RequirementResult],
) -> str:
    if not eligible:
        open_cert = open_by_scope.get(CERTIFICATE_SCOPE, [])
        if open_cert:
            total = sum(1 for r in blocking if r.scope == CERTIFICATE_SCOPE and r.applies)
            return ngettext("Not yet eligible: %(open)s of %(total)s certificate requirement still open.",
                            "Not yet eligible: %(open)s of %(total)s certificate requirements still open.", total,
                            open=len(open_cert), total=total)
        open_base = open_by_scope.get(BASE_ENDORSEMENT, [])
        if not open_base:
            return _("Not yet eligible: the endorsements the %(endorsement)s endorsement depends on are not met.",
                     endorsement=BASE_ENDORSEMENT)
        return ngettext("Not yet eligible: the %(endorsement)s endorsement has %(n)s requirement still open.",
                        "Not yet eligible: the %(endorsement)s endorsement has %(n)s requirements still open.",
                        len(open_base), endorsement=BASE_ENDORSEMENT, n=len(open_base))
    text = ngettext("Eligible for certification with the %(endorsements)s endorsement.",
                    "Eligible for certification with the %(endorsements)s endorsements.", len(endorsements),
                    endorsements=join_words(endorsements))
    if not endorsements:
        text = _("Eligible for certification.")
    for endorsement_id in endorsement_defs:
        if endorsement_id in endorsements:
            continue
        open_own = open_by_scope.get(endorsement_id, [])
        if open_own:
            text += ngettext(" The %(endorsement)s endorsement is not yet met: %(n)s requirement still open.",
                             " The %(endorsement)s endorsement is not yet met: %(n)s requirements still open.",
                             len(open_own), endorsement=endorsement_id, n=len(open_own))
        else:
            needs = [str(e) for e in endorsement_defs[endorsement_id].get("requires_endorsements") or ()]
            text += _(" The %(endorsement)s endorsement also needs the %(needs)s endorsement first.",
                      endorsement=endorsement_id, needs=join_words(needs))
    return text
