"""The renewal rule, as a pure function over plain facts (no Flask, no database).

A certificate renews when, inside the renewal window (from ``window_days`` before expiry to ``grace_days`` after it),
the holder has the standard's continuing-education hours for the cycle with every topic sub-minimum, a current licence
and CPR card, the attested practice sessions, and — for an intraoral endorsement held through Route N — a current
collaboration agreement. Credits count when completed inside the cycle (after the certificate was issued).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from lms.core.formatting import format_date
from lms.eligibility.facts import TraineeFacts
from lms.eligibility.rules import RequirementResult, capitalise, plural
from lms.eligibility.summative import lapse_result, reobservation_result

TOPIC_LABELS = {"orofacial": "orofacial, TMD or intraoral", "ethics": "ethics and consent",
                "infection_control": "infection control", "other": "other"}
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
    return f"{round(hours, 2):g}"


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
        "R-WINDOW", "Renewal window", in_window,
        f"Renewal is open from {format_date(opens)} to {format_date(closes)}",
        reason=("It is too early to renew." if on < opens else
                f"More than {grace} days have passed since expiry, so the certificate cannot be renewed; a lapse of "
                "more than one cycle also needs the written exam (requirement EXAM) and the observations listed "
                "under R-LAPSE again."),
        next_step=f"Come back on or after {format_date(opens)}." if on < opens else "Contact an administrator."))
    reobserve = reobservation_result(standard, facts, first_issued_on=cert.first_issued_on or cert.issued_on,
                                     issued_on=cert.issued_on, expires_on=cert.expires_on)
    lapse = lapse_result(standard, facts, expires_on=cert.expires_on)
    reqs += [r for r in (reobserve, lapse) if r is not None]
    credits = [c for c in facts.credits if cert.issued_on <= c.completed_on <= on]
    total = sum(c.hours for c in credits)
    need = float(rule.get("ce_hours", 0))
    reqs.append(_req("R-CE", "Continuing education for the cycle", total >= need,
                     f"Continuing education: {_fmt(total)} of {_fmt(need)} {plural(need, 'hour')}",
                     reason=f"{_fmt(total)} verified hours completed since {format_date(cert.issued_on)}; "
                            f"{_fmt(need)} needed.",
                     next_step=f"Complete and record {_fmt(need - total)} more hours of continuing education."))
    for topic, minimum in sorted(rule.get("sub_minimums", {}).items()):
        got = sum(c.hours for c in credits if c.topic == topic)
        label = TOPIC_LABELS.get(topic, topic)
        reqs.append(_req(f"R-CE-{topic}", f"Continuing education in {label}", got >= float(minimum),
                         f"{capitalise(label)}: {_fmt(got)} of {_fmt(float(minimum))} {plural(float(minimum), 'hour')}",
                         reason=f"At least {_fmt(float(minimum))} hours must be in {label}.",
                         next_step=f"Record {_fmt(float(minimum) - got)} more hours in {label}."))
    lic_ok = bool(facts.license_number) and facts.license_expires_on is not None and facts.license_expires_on >= on
    reqs.append(_req("R-LICENSE", "Current license", lic_ok,
                     f"License current until {format_date(facts.license_expires_on)}" if facts.license_expires_on
                     else "License expiry not recorded",
                     reason="Renewal needs a current license or registration.",
                     next_step="Update your license and its expiry date on your profile."))
    cpr_ok = facts.cpr_expires_on is not None and facts.cpr_expires_on >= on
    reqs.append(_req("R-CPR", "Current CPR/BLS", cpr_ok,
                     f"CPR/BLS current until {format_date(facts.cpr_expires_on)}" if facts.cpr_expires_on
                     else "CPR/BLS expiry not recorded",
                     reason="Renewal needs a current in-person CPR or BLS card.",
                     next_step="Renew your CPR/BLS card and record its expiry on your profile."))
    sessions = int(rule.get("practice_sessions_attested", 0))
    reqs.append(_req("R-PRACTICE", "Practice attestation", attested_sessions >= sessions,
                     f"Sessions attested: {attested_sessions} of {sessions}",
                     reason=f"Attest at least {sessions} orofacial sessions in this cycle.",
                     next_step="Attest the number of sessions you provided in this cycle."))
    if "intraoral" in cert.endorsements and not facts.is_dental:
        current = [a for a in facts.agreements if a.status == "verified" and a.valid_from <= on <= a.valid_until]
        reqs.append(_req("R-AGREEMENT", "Current collaboration agreement (Route N)", bool(current),
                         "Agreement current" if current else "No current verified agreement",
                         reason="The intraoral endorsement through Route N needs a current agreement with a licensed "
                                "dental professional.",
                         next_step="Upload a current collaboration agreement and have it verified."))
    eligible = all(r.met for r in reqs)
    still_open = [r.title for r in reqs if not r.met]
    summary = ("Ready to renew." if eligible else
               f"Not ready to renew: {len(still_open)} of {len(reqs)} {plural(len(reqs), 'requirement')} still open.")
    return RenewalDecision(eligible, reqs, summary, opens, closes)
