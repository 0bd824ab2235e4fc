"""The renewal rule, as a pure function over plain facts (no Flask, no database).

A certificate renews when, inside the renewal window (from ``window_days`` before expiry to ``grace_days`` after it),
the holder has the standard's continuing-education hours for the cycle with every topic sub-minimum, a current licence
and CPR card, the attested practice sessions, and — for an intraoral endorsement held through Route N — a current
collaboration agreement. Credits count when completed inside the cycle (after the certificate was issued).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from lms.core.phrases import _, capitalise, format_date, ngettext, number
from lms.eligibility.facts import TraineeFacts
from lms.eligibility.rules import RequirementResult
from lms.eligibility.summative import lapse_result, reobservation_result

TOPIC_LABELS = {"orofacial": _("orofacial, TMD or intraoral"), "ethics": _("ethics and consent"),
                "infection_control": _("infection control"), "other": _("other")}
WINDOW_DAYS = 90


@dataclass(frozen=True)
class CertificateFact:
    issued_on: date
    expires_on: date
    endorsements: tuple[str, ...]
    first_issued_on: date | None = None  # the first certificate of the chain of renewals (default: issued_on)


@dataclass
class RenewalDecision:
    eligible: bool
    requirements: list[RequirementResult] = field(default_factory=list)
    summary: str = ""
    window_opens: date | None = None
    window_closes: date | None = None

    def to_dict(self) -> dict:
        return {"eligible": self.eligible, "summary": self.summary,
                "window_opens": self.window_opens.isoformat() if self.window_opens else None,
                "window_closes": self.window_closes.isoformat() if self.window_closes else None,
                "requirements": [{"id": r.id, "title": r.title, "met": r.met, "progress": r.progress,
                                  "reason": r.reason, "next_step": r.next_step} for r in self.requirements]}


def _req(rid, title, met, progress, reason="", next_step=""):
    return RequirementResult(id=rid, title=title, scope="renewal", met=met, progress=progress,
                             reason="" if met else reason, next_step="" if met else next_step)


def _fmt(hours: float) -> str:
    return number(round(hours, 2), f"{round(hours, 2):g}")


def evaluate_renewal(standard: dict, facts: TraineeFacts, cert: CertificateFact, *, attested_sessions: int) -> \
        RenewalDecision:
    """Decide whether ``cert`` can be renewed on ``facts.today``, explaining every requirement."""
    rule = standard.get("renewal", {})
    on = facts.today
    grace = int(rule.get("grace_days", 90))
    opens, closes = cert.expires_on - timedelta(days=WINDOW_DAYS), cert.expires_on + timedelta(days=grace)
    reqs: list[RequirementResult] = []
    in_window = opens <= on <= closes
    reqs.append(_req(
        "R-WINDOW", _("Renewal window"), in_window,
        _("Renewal is open from %(opens)s to %(closes)s", opens=format_date(opens), closes=format_date(closes)),
        reason=(_("It is too early to renew.") if on < opens else
                _("More than %(grace)s days have passed since expiry, so the certificate cannot be renewed; a lapse "
                  "of more than one cycle also needs the written exam (requirement EXAM) and the observations listed "
                  "under R-LAPSE again.", grace=grace)),
        next_step=(_("Come back on or after %(day)s.", day=format_date(opens)) if on < opens
                   else _("Contact an administrator."))))
    reobserve = reobservation_result(standard, facts, first_issued_on=cert.first_issued_on or cert.issued_on,
                                     issued_on=cert.issued_on, expires_on=cert.expires_on)
    lapse = lapse_result(standard, facts, expires_on=cert.expires_on)
    reqs += [r for r in (reobserve, lapse) if r is not None]
    credits = [c for c in facts.credits if cert.issued_on <= c.completed_on <= on]
    total = sum(c.hours for c in credits)
    need = float(rule.get("ce_hours", 0))
    reqs.append(_req("R-CE", _("Continuing education for the cycle"), total >= need,
                     ngettext("Continuing education: %(have)s of %(need)s hour",
                              "Continuing education: %(have)s of %(need)s hours", need, have=_fmt(total),
                              need=_fmt(need)),
                     reason=_("%(have)s verified hours completed since %(day)s; %(need)s needed.", have=_fmt(total),
                              day=format_date(cert.issued_on), need=_fmt(need)),
                     next_step=_("Complete and record %(more)s more hours of continuing education.",
                                 more=_fmt(need - total))))
    for topic, minimum in sorted(rule.get("sub_minimums", {}).items()):
        got = sum(c.hours for c in credits if c.topic == topic)
        label = TOPIC_LABELS.get(topic, topic)
        reqs.append(_req(f"R-CE-{topic}", _("Continuing education in %(topic)s", topic=label), got >= float(minimum),
                         ngettext("%(topic)s: %(have)s of %(need)s hour", "%(topic)s: %(have)s of %(need)s hours",
                                  float(minimum), topic=capitalise(label), have=_fmt(got), need=_fmt(float(minimum))),
                         reason=_("At least %(need)s hours must be in %(topic)s.", need=_fmt(float(minimum)),
                                  topic=label),
                         next_step=_("Record %(more)s more hours in %(topic)s.", more=_fmt(float(minimum) - got),
                                     topic=label)))
    lic_ok = bool(facts.license_number) and facts.license_expires_on is not None and facts.license_expires_on >= on
    reqs.append(_req("R-LICENSE", _("Current license"), lic_ok,
                     _("License current until %(day)s", day=format_date(facts.license_expires_on))
                     if facts.license_expires_on else _("License expiry not recorded"),
                     reason=_("Renewal needs a current license or registration."),
                     next_step=_("Update your license and its expiry date on your profile.")))
    cpr_ok = facts.cpr_expires_on is not None and facts.cpr_expires_on >= on
    reqs.append(_req("R-CPR", _("Current CPR/BLS"), cpr_ok,
                     _("CPR/BLS current until %(day)s", day=format_date(facts.cpr_expires_on))
                     if facts.cpr_expires_on else _("CPR/BLS expiry not recorded"),
                     reason=_("Renewal needs a current in-person CPR or BLS card."),
                     next_step=_("Renew your CPR/BLS card and record its expiry on your profile.")))
    sessions = int(rule.get("practice_sessions_attested", 0))
    reqs.append(_req("R-PRACTICE", _("Practice attestation"), attested_sessions >= sessions,
                     _("Sessions attested: %(have)s of %(need)s", have=attested_sessions, need=sessions),
                     reason=_("Attest at least %(need)s orofacial sessions in this cycle.", need=sessions),
                     next_step=_("Attest the number of sessions you provided in this cycle.")))
    if "intraoral" in cert.endorsements and not facts.is_dental:
        current = [a for a in facts.agreements if a.status == "verified" and a.valid_from <= on <= a.valid_until]
        reqs.append(_req("R-AGREEMENT", _("Current collaboration agreement (Route N)"), bool(current),
                         _("Agreement current") if current else _("No current verified agreement"),
                         reason=_("The intraoral endorsement through Route N needs a current agreement with a "
                                  "licensed dental professional."),
                         next_step=_("Upload a current collaboration agreement and have it verified.")))
    eligible = all(r.met for r in reqs)
    still_open = [r.title for r in reqs if not r.met]
    summary = (_("Ready to renew.") if eligible else
               ngettext("Not ready to renew: %(open)s of %(total)s requirement still open.",
                        "Not ready to renew: %(open)s of %(total)s requirements still open.", len(reqs),
                        open=len(still_open), total=len(reqs)))
    return RenewalDecision(eligible, reqs, summary, opens, closes)
