"""What each event says: its category, subject, plain-language lines and the page it links to.

Each builder takes the record the event is about (plus a few keyword details) and returns a ``Message``. The wording
is the product's own; the email and the in-app notification show the same text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Message:
    category: str
    subject: str
    lines: list[str]
    endpoint: str | None = None
    values: dict = field(default_factory=dict)
    action: str = "Open OroCert"

    @property
    def body(self) -> str:
        return "\n\n".join(self.lines)


def _reason(reason: str | None) -> list[str]:
    return [f"Reason given: {reason}"] if reason else []


def _hours(decision: str) -> Callable:
    verbs = {"approved": "approved", "needs_info": "returned for more information", "rejected": "rejected"}
    subjects = {"approved": "Your hours were approved", "needs_info": "Your hours need more information",
                "rejected": "Your hours were rejected"}

    def build(entry, reason: str = "", **_):
        lines = [f"Your entry of {entry.hours:g} hours ({entry.category_label.lower()}) on "
                 f"{entry.entry_date.isoformat()} was {verbs[decision]}."]
        lines += _reason(reason)
        if decision != "approved":
            lines.append("You can submit a corrected entry from your hours page.")
        return Message("hours", subjects[decision], lines, "hours.index", action="Open your hours")

    return build


def _credential(kind: str, decision: str, endpoint: str) -> Callable:
    def build(record, reason: str = "", **_):
        lines = [f"Your {kind} was {decision}."] + _reason(reason)
        if decision != "verified":
            lines.append("You can upload a corrected document at any time.")
        return Message("credentials", f"Your {kind} was {decision}", lines, endpoint)

    return build


def _licence(decision: str) -> Callable:
    def build(record=None, reason: str = "", **_):
        lines = [f"Your professional license was {decision}."] + _reason(reason)
        return Message("credentials", f"Your license was {decision}", lines, "providers.profile")

    return build


def _assessment(assessment, **_):
    result = "met the standard" if assessment.passed else "did not yet meet the standard"
    lines = [f"An assessor recorded an observation of competency {assessment.competency_id} on "
             f"{assessment.observed_on.isoformat()}: entrustment level {assessment.level}, which {result}."]
    if assessment.amends_id:
        lines.append("This record amends an earlier observation.")
    return Message("assessments", f"Assessment recorded: {assessment.competency_id}", lines,
                   "assessments.detail", {"assessment_id": assessment.id}, "See the assessment")


def _application(approved: bool) -> Callable:
    def build(application, **_):
        if approved:
            lines = ["Your certificate application was approved and your certificate has been issued."]
        else:
            lines = ["Your certificate application was declined."] + _reason(application.note)
        return Message("applications", "Your certificate application was " + ("approved" if approved else "declined"),
                       lines, "certificates.mine", action="Open your certificates")

    return build


def _renewal_request(approved: bool) -> Callable:
    def build(req, **_):
        lines = ["Your renewal request was " + ("approved; your renewed certificate is ready." if approved
                                                else "declined.")]
        if not approved:
            lines += _reason(req.note)
        return Message("applications", "Your renewal request was " + ("approved" if approved else "declined"), lines,
                       "renewal.index")

    return build


def _issued(cert, **_):
    lines = [f"Certificate {cert.serial} was issued to you on {cert.issued_on.isoformat()}. It is valid until "
             f"{cert.expires_on.isoformat()}.", "Anyone can check it on the public verification page."]
    return Message("certificates", "Your certificate was issued", lines, "certificates.mine",
                   action="Open your certificates")


def _revoked(cert, reason: str = "", **_):
    lines = [f"Certificate {cert.serial} was revoked. Verification now reports it as revoked."] + _reason(reason)
    return Message("certificates", "Your certificate was revoked", lines, "certificates.mine")


def _expiry(cert, days: int = 0, **_):
    lines = [f"Your certificate {cert.serial} expires on {cert.expires_on.isoformat()}, in {days} days.",
             "Record your continuing education and request renewal before it expires."]
    return Message("reminders", f"Your certificate expires in {days} days", lines, "renewal.index",
                   action="Open renewal")


def _renewal_window(cert, closes=None, **_):
    lines = [f"The renewal window for certificate {cert.serial} is open. It expires on "
             f"{cert.expires_on.isoformat()}."]
    return Message("reminders", "Your renewal window is open", lines, "renewal.index", action="Open renewal")


def _ce_short(cert, have: float = 0, need: float = 0, **_):
    lines = [f"You have {have:g} verified hours of continuing education for this cycle; renewal of certificate "
             f"{cert.serial} needs {need:g}.", f"Record {need - have:g} more hours before {cert.expires_on}."]
    return Message("reminders", "You are short of continuing education hours", lines, "renewal.index",
                   action="Open renewal")


def _agreement_expiring(agreement, days: int = 0, **_):
    lines = [f"Your collaboration agreement with {agreement.dentist_name} ends on "
             f"{agreement.valid_until.isoformat()}, in {days} days.",
             "Intraoral sessions after that date need a new, verified agreement."]
    return Message("reminders", "Your collaboration agreement is expiring", lines, "screening.index")


def _password_changed(user, **_):
    return Message("security", "Your OroCert password was changed",
                   ["The password of your account was changed and every other session was signed out.",
                    "If you did not do this, reset your password now and contact an administrator."],
                   "auth.forgot_password", action="Reset your password")


def _email_changed(user, old: str = "", new: str = "", **_):
    return Message("security", "Your OroCert email address was changed",
                   [f"The email address of your account was changed from {old} to {new}.",
                    "If you did not do this, contact an administrator at once."], "auth.account")


EVENTS: dict[str, Callable[..., Message]] = {
    "hours.approved": _hours("approved"),
    "hours.needs_info": _hours("needs_info"),
    "hours.rejected": _hours("rejected"),
    "omt.verified": _credential("OMT foundation credential", "verified", "providers.profile"),
    "omt.rejected": _credential("OMT foundation credential", "rejected", "providers.profile"),
    "ce.verified": _credential("continuing education credit", "verified", "renewal.index"),
    "ce.rejected": _credential("continuing education credit", "rejected", "renewal.index"),
    "agreement.verified": _credential("collaboration agreement", "verified", "screening.index"),
    "agreement.rejected": _credential("collaboration agreement", "rejected", "screening.index"),
    "agreement.revoked": _credential("collaboration agreement", "revoked", "screening.index"),
    "licence.verified": _licence("verified"),
    "licence.rejected": _licence("rejected"),
    "assessment.recorded": _assessment,
    "application.approved": _application(True),
    "application.declined": _application(False),
    "renewal.approved": _renewal_request(True),
    "renewal.declined": _renewal_request(False),
    "certificate.issued": _issued,
    "certificate.revoked": _revoked,
    "reminder.expiry": _expiry,
    "reminder.renewal_window": _renewal_window,
    "reminder.ce_short": _ce_short,
    "reminder.agreement_expiring": _agreement_expiring,
    "security.password_changed": _password_changed,
    "security.email_changed": _email_changed,
}
