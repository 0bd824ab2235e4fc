"""Plain facts about one trainee, as the eligibility engine sees them.

The engine never touches Flask or the database: callers (views, CLI, issuing) build a
``TraineeFacts`` from the records and hand it over. Every record keeps its own status so the
engine itself decides what counts (only approved hours, only current assessments).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import date
from functools import cache

from lms.core.phrases import _, format_date

# Hour-entry states as stored by the hours ledger.
HOUR_APPROVED = "approved"
HOUR_SUBMITTED = "submitted"
HOUR_NEEDS_INFO = "needs_info"
HOUR_REJECTED = "rejected"

# Hour categories used by the default program and standard.
LAB_IN_PERSON = "lab_in_person"
CLINICAL_EXTRAORAL = "clinical_extraoral"
CLINICAL_INTRAORAL = "clinical_intraoral"

DENTAL_PROFESSIONS = frozenset({"dental_hygienist", "dentist", "dental_therapist"})


@dataclass(frozen=True)
class HourFact:
    """One entry of the hours ledger."""

    id: int
    category: str
    minutes: int
    status: str  # submitted | approved | needs_info | rejected
    entry_date: date
    superseded: bool = False  # True once a later correction replaces this entry
    case_code: str | None = None  # the trainee's own de-identified case number, never a patient identifier
    screening_id: int | None = None  # the pre-treatment screening an intraoral entry relies on


@dataclass(frozen=True)
class CriterionFact:
    id: str
    met: bool


@dataclass(frozen=True)
class ObservationFact:
    """One signed competency assessment (a direct observation)."""

    id: int
    competency_id: str  # e.g. "C6"
    level: int  # entrustment level 1-5
    critical_failure: bool
    criteria: tuple[CriterionFact, ...]
    assessor_id: int
    assessor_is_dental: bool  # assessor's profession has oral-health assessment scope
    observed_on: date
    recorded_seq: int = 0  # tie-break for observations on the same day (record id order)
    superseded: bool = False  # True once an amendment replaces this record
    case_code: str | None = None
    simulated: bool = False
    assessor_profession: str | None = None  # the assessor's profession on their newest licence record
    assessor_licence_verified: bool = False  # an admin verified that licence


@dataclass(frozen=True)
class ExamSittingFact:
    """One written-exam sitting: open (``passed`` is None) or scored."""

    id: int
    attempt_no: int
    started_on: date
    submitted_on: date | None
    score_percent: int | None
    pass_mark: int
    passed: bool | None


@dataclass(frozen=True)
class OsceFact:
    """One graded OSCE station."""

    id: int
    station_id: str
    assessed_on: date
    passed: bool
    global_rating: int
    failed_reasons: tuple[str, ...] = ()
    superseded: bool = False  # True once an amendment replaces this record


@dataclass(frozen=True)
class CaseFact:
    """One of the trainee's cases (a de-identified patient), as the documented-cases rule sees it."""

    code: str
    baseline_and_followup: bool  # a baseline and a follow-up of the same measure (current values, not corrected)
    letters: int  # interprofessional letters on the case


@dataclass(frozen=True)
class AgreementFact:
    """A collaboration agreement with a licensed dental professional (Route N)."""

    id: int
    status: str  # pending | verified | rejected | revoked
    valid_from: date
    valid_until: date
    dentist_profession: str
    dentist_name: str = ""

    @property
    def label(self) -> str:
        """How a person recognises the agreement: whom it is with and when it runs (never a database id)."""
        who = self.dentist_name or _("a dental professional")
        return _("the agreement with %(who)s (%(start)s to %(end)s)", who=who, start=format_date(self.valid_from),
                 end=format_date(self.valid_until))


@dataclass(frozen=True)
class CreditFact:
    """Continuing-education credit used for renewal."""

    topic: str  # orofacial | ethics | infection_control | other
    hours: float
    completed_on: date


@dataclass(frozen=True)
class LicenceFact:
    """The trainee's newest licence record: what was claimed, and whether an admin verified it."""

    status: str  # pending | verified | rejected
    profession: str
    jurisdiction: str
    number: str
    expires_on: date | None
    endorsements: frozenset[str] = frozenset()
    verified_on: date | None = None
    submitted_on: date | None = None
    changed_after_verification: bool = False  # an earlier record of this trainee had been verified
    decision_reason: str = ""


@dataclass(frozen=True)
class TraineeFacts:
    """``profession``, ``jurisdiction``, ``license_number`` and ``license_expires_on`` come from a licence an admin
    verified, and are None while the newest licence record is unverified: nothing rests on a typed claim."""

    email: str
    name: str
    profession: str | None  # profession key, e.g. "massage_therapist" (verified licence only)
    jurisdiction: str | None  # e.g. "US-WA", "CA-BC", "OTHER" (verified licence only)
    license_number: str | None
    license_expires_on: date | None
    omt_status: str | None  # None (nothing on file) | pending | verified | rejected
    omt_hours: float
    omt_completed_on: date | None
    cpr_expires_on: date | None
    infection_control_ack: bool
    completed_modules: frozenset[str]  # module ids, e.g. {"M1", "M2"}
    hours: tuple[HourFact, ...] = ()
    observations: tuple[ObservationFact, ...] = ()
    agreements: tuple[AgreementFact, ...] = ()
    credits: tuple[CreditFact, ...] = ()
    today: date = field(default_factory=date.today)
    licence: LicenceFact | None = None  # the newest licence record, verified or not
    enrolled_on: date | None = None
    hours_count_from: date | None = None  # entries dated earlier do not count (enrollment, or advanced standing)
    omt_practice_recognised: bool = False  # P2b: an admin recorded evidence of active OMT practice
    exam_sittings: tuple[ExamSittingFact, ...] = ()
    osce_results: tuple[OsceFact, ...] = ()
    cases: tuple[CaseFact, ...] = ()  # the trainee's clinical cases

    @property
    def is_dental(self) -> bool:
        return self.profession in DENTAL_PROFESSIONS

    @property
    def licence_verified(self) -> bool:
        return self.licence is not None and self.licence.status == "verified"


@cache
def builder(cls: type) -> Callable[..., object]:
    """A constructor for a frozen fact class that takes every field, in order, positionally.

    It makes the same object as ``cls(...)`` (equal, same hash and repr) in about half the time: the ``__init__`` that
    ``dataclass(frozen=True)`` writes sets each field through ``object.__setattr__``, which adds up over a cohort's
    hundreds of thousands of hour entries and observations. Classes with ``__post_init__`` or slots are refused."""
    if hasattr(cls, "__post_init__") or hasattr(cls, "__slots__"):
        raise TypeError(f"{cls.__name__} cannot be built without its __init__")
    names = [f.name for f in fields(cls)]
    code = (f"def make({', '.join(names)}):\n    obj = new(cls)\n    values = obj.__dict__\n"
            + "".join(f"    values[{name!r}] = {name}\n" for name in names) + "    return obj\n")
    namespace = {"new": object.__new__, "cls": cls}
    exec(code, namespace)  # noqa: S102 - the code is made from the class's own field names
    make = namespace["make"]
    make.__qualname__ = f"builder({cls.__name__})"
    return make
