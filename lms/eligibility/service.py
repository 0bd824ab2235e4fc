"""Builds ``TraineeFacts`` from the database and runs the engine. The only eligibility code that touches the DB.

``facts_for_users`` loads a whole cohort with a fixed number of queries (one per record kind), whatever its size.
"""

from __future__ import annotations

import json
from collections import defaultdict
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date
from functools import cache

import sqlalchemy as sa
from flask import current_app

from lms.assessments.models import Assessment
from lms.auth.models import User
from lms.core.bulk import gc_paused
from lms.core.formatting import fixed_language
from lms.core.phrases import plain_english
from lms.core.timeutil import today
from lms.eligibility.engine import Decision, Plan
from lms.eligibility.facts import (
    AgreementFact,
    CaseFact,
    CriterionFact,
    ExamSittingFact,
    HourFact,
    LicenceFact,
    ObservationFact,
    OsceFact,
    TraineeFacts,
    builder,
)
from lms.exams.models import ExamSitting, OsceResult
from lms.extensions import db
from lms.hours.ledger import superseded_ids_query
from lms.hours.models import HourEntry
from lms.providers.models import AdvancedStanding, Licence, OmtCredential, ProviderProfile
from lms.screening.models import CollaborationAgreement
from lms.standards.models import StandardVersion
from lms.training.models import Enrollment, Module, ModuleCompletion

GC_PAUSE_FROM = 500  # trainees decided at once from which the cycle collector waits (see lms.core.bulk.gc_paused)


@dataclass
class TraineeDecision:
    user: User
    enrollment: Enrollment | None
    standard: StandardVersion | None
    facts: TraineeFacts
    decision: Decision | None

    def to_dict(self) -> dict:
        """The stable JSON form (documented in the README)."""
        d = self.decision.to_dict() if self.decision else self._not_enrolled()
        lic = self.facts.licence
        licence = None if lic is None else {
            "status": lic.status, "profession": lic.profession, "jurisdiction": lic.jurisdiction,
            "expires_on": lic.expires_on.isoformat() if lic.expires_on else None,
            "verified_on": lic.verified_on.isoformat() if lic.verified_on else None,
        }
        return {
            "trainee": {"email": self.user.email, "name": self.facts.name, "profession": self.facts.profession,
                        "licence": licence},
            "program": self.enrollment.program_id if self.enrollment else current_app.config["DEFAULT_PROGRAM"],
            "standard": {"id": self.standard.standard_key, "version": self.standard.version} if self.standard else None,
            **d,
        }


    def _not_enrolled(self) -> dict:
        """The same reasons the dashboard gives for why the trainee is not enrolled yet."""
        from lms.training.models import Program
        from lms.training.operations import prerequisite_gaps

        program = db.session.get(Program, current_app.config["DEFAULT_PROGRAM"])
        gaps = prerequisite_gaps(self.user, program) if program is not None else []
        if gaps:
            summary = "Not enrolled. Enrollment is blocked: " + " ".join(g.title for g in gaps)
            steps = [g.fix for g in gaps]
        else:
            summary = "Not enrolled. Every prerequisite for enrollment is met."
            steps = ["Enroll in the program from the program page."]
        return {"eligible": False, "endorsements": [], "requirements": [], "notices": [], "next_steps": steps,
                "summary": summary}

    def counted_minutes(self) -> dict[str, int]:
        """Minutes that count per category, exactly as the decision counts them."""
        from lms.eligibility.rules import counted_hours

        out: dict[str, int] = {}
        for h in counted_hours(self.facts):
            out[h.category] = out.get(h.category, 0) + h.minutes
        return out


def _rules():
    from lms.jurisdictions.data import load_rules

    return load_rules(current_app.config["JURISDICTIONS_FILE"])


@cache
def _reads() -> dict[str, sa.Select]:
    """The statements that read a cohort's facts, built once per process (building one costs more than running it
    for a single trainee, and certificates, dashboards and pages decide one trainee at a time). Their parameters are
    ``ids`` (the trainees, expanding) and ``program_id``."""
    from sqlalchemy.orm import aliased

    from lms.cases.models import Case, CaseLetter, CaseMeasure

    ids, program_id = sa.bindparam("ids", expanding=True), sa.bindparam("program_id")
    # The assessors' newest licence records (assessor-qualification rules read them), among the assessors of these
    # trainees only: one trainee's decision does not aggregate the whole licence table.
    assessors = sa.select(Assessment.assessor_id).where(Assessment.trainee_id.in_(ids))
    newest = (sa.select(Licence.trainee_id, sa.func.max(Licence.id).label("licence_id"))
              .where(Licence.trainee_id.in_(assessors)).group_by(Licence.trainee_id).subquery())
    assessor_licence = aliased(Licence)
    base, follow = aliased(CaseMeasure), aliased(CaseMeasure)
    fix_base, fix_follow = aliased(CaseMeasure), aliased(CaseMeasure)
    paired = sa.exists().where(
        base.case_id == Case.id, base.timepoint == "baseline", follow.case_id == Case.id,
        follow.measure == base.measure, follow.timepoint == "follow_up",
        ~sa.exists().where(fix_base.corrects_id == base.id), ~sa.exists().where(fix_follow.corrects_id == follow.id))
    letters = sa.select(sa.func.count(CaseLetter.id)).where(CaseLetter.case_id == Case.id).scalar_subquery()
    return {
        "users": sa.select(User).where(User.id.in_(ids)),
        "profiles": sa.select(ProviderProfile.user_id, ProviderProfile.legal_name, ProviderProfile.cpr_expires_on,
                              ProviderProfile.infection_control_ack_at).where(ProviderProfile.user_id.in_(ids)),
        "credentials": sa.select(OmtCredential.user_id, OmtCredential.status, OmtCredential.course_hours,
                                 OmtCredential.completed_on)
        .where(OmtCredential.user_id.in_(ids)).order_by(OmtCredential.id),
        "modules": sa.select(Enrollment.user_id, Module.module_key)
        .join(ModuleCompletion, ModuleCompletion.enrollment_id == Enrollment.id)
        .join(Module, Module.id == ModuleCompletion.module_id)
        .where(Enrollment.user_id.in_(ids), Enrollment.program_id == program_id),
        "superseded": superseded_ids_query().where(HourEntry.trainee_id.in_(ids)),
        "hours": sa.select(HourEntry.trainee_id, HourEntry.id, HourEntry.category, HourEntry.minutes,
                           HourEntry.status, HourEntry.entry_date, HourEntry.case_code, HourEntry.screening_id)
        .where(HourEntry.trainee_id.in_(ids)),
        "amended": sa.select(Assessment.amends_id)
        .where(Assessment.amends_id.is_not(None), Assessment.trainee_id.in_(ids)),
        "observations": sa.select(
            Assessment.trainee_id, Assessment.id, Assessment.competency_id, Assessment.level,
            Assessment.critical_failure, sa.cast(Assessment.criteria, sa.Text), Assessment.assessor_id,
            Assessment.assessor_is_dental, Assessment.observed_on, Assessment.case_code, Assessment.simulated,
            assessor_licence.profession, assessor_licence.status)
        .outerjoin(newest, newest.c.trainee_id == Assessment.assessor_id)
        .outerjoin(assessor_licence, assessor_licence.id == newest.c.licence_id)
        .where(Assessment.trainee_id.in_(ids)),
        "sittings": sa.select(ExamSitting.id, ExamSitting.trainee_id, ExamSitting.attempt_no, ExamSitting.started_at,
                              ExamSitting.submitted_at, ExamSitting.score_percent, ExamSitting.pass_mark,
                              ExamSitting.passed)
        .join(Enrollment, Enrollment.id == ExamSitting.enrollment_id)
        .where(ExamSitting.trainee_id.in_(ids), Enrollment.program_id == program_id),
        "osce": sa.select(OsceResult.id, OsceResult.trainee_id, OsceResult.station_id, OsceResult.assessed_on,
                          OsceResult.passed, OsceResult.global_rating, OsceResult.failed_reasons,
                          OsceResult.amends_id).where(OsceResult.trainee_id.in_(ids)),
        "agreements": sa.select(CollaborationAgreement.trainee_id, CollaborationAgreement.id,
                                CollaborationAgreement.status, CollaborationAgreement.valid_from,
                                CollaborationAgreement.valid_until, CollaborationAgreement.dentist_profession,
                                CollaborationAgreement.dentist_name)
        .where(CollaborationAgreement.trainee_id.in_(ids)),
        "licences": sa.select(Licence.trainee_id, Licence.status, Licence.profession, Licence.jurisdiction,
                              Licence.number, Licence.expires_on, Licence.endorsements, Licence.decided_at,
                              Licence.submitted_at, Licence.decision_reason)
        .where(Licence.trainee_id.in_(ids)).order_by(Licence.trainee_id, Licence.id),
        "cases": sa.select(Case.trainee_id, Case.code, paired.label("baseline_and_followup"),
                           letters.label("letters")).where(Case.trainee_id.in_(ids)),
        "enrolled": sa.select(Enrollment.user_id, Enrollment.enrolled_on)
        .where(Enrollment.user_id.in_(ids), Enrollment.program_id == program_id),
        "standing": sa.select(AdvancedStanding.trainee_id, AdvancedStanding.kind, AdvancedStanding.hours_from)
        .where(AdvancedStanding.trainee_id.in_(ids), AdvancedStanding.program_id == program_id),
        "enrollments": sa.select(Enrollment).where(Enrollment.user_id.in_(ids), Enrollment.program_id == program_id),
        "versions": sa.select(StandardVersion).where(StandardVersion.id.in_(ids)),
    }


def _read(name: str, params: dict):
    """Run one of the reads (see :func:`_reads`) on the session's connection, in its transaction: the rows come back
    as tuples without passing through the ORM's loading (a cohort reads hundreds of thousands of them). The session has
    already flushed: each read follows the cohort's ORM query of its users."""
    return db.session.connection().execute(_reads()[name], params)


def _grouped(name: str, params: dict, make) -> dict[int, list]:
    """Run a read (its first column is the trainee id) and build one fact per row with ``make(*other columns)``,
    grouped by trainee (one query). Rows stay plain tuples, fetched all at once: no mapping or ORM object per row."""
    out: dict[int, list] = defaultdict(list)
    for trainee_id, *fields in _read(name, params).all():
        out[trainee_id].append(make(*fields))
    return out


def _grouped_rows(name: str, params: dict, make) -> dict[int, list]:
    """Like ``_grouped`` for small record kinds: ``make`` gets each row as a dict of its columns (without the
    trainee id)."""
    out: dict[int, list] = defaultdict(list)
    result = _read(name, params)
    names = list(result.keys())
    at = names.index("trainee_id")
    for row in result.all():
        fields = dict(zip(names, row, strict=True))
        del fields["trainee_id"]
        out[row[at]].append(make(fields))
    return out


def _criteria_parser():
    """Parse an observation's criteria (its JSON text) into sorted ``CriterionFact`` tuples. A cohort's hundreds of
    thousands of observations share a handful of distinct criteria records, so each distinct text is parsed once."""
    seen: dict[str | None, tuple[CriterionFact, ...]] = {}

    def parse(text: str | None) -> tuple[CriterionFact, ...]:
        found = seen.get(text)
        if found is None:
            value = json.loads(text) if text else None
            found = seen[text] = tuple(CriterionFact(k, bool(v)) for k, v in sorted((value or {}).items()))
        return found

    return parse


def facts_for_users(user_ids: list[int], program_id: str, on: date | None = None) -> dict[int, TraineeFacts]:
    """Facts for many trainees at once, in a constant number of queries."""
    return _load_facts(user_ids, program_id, on)[0]


def _load_facts(user_ids: list[int], program_id: str, on: date | None = None
                ) -> tuple[dict[int, TraineeFacts], dict[int, User]]:
    """The facts of many trainees, and their user records, in a constant number of queries.

    Only the users are ORM entities (callers hand them on); every other record is read as plain columns, because a
    cohort has hundreds of thousands of hour entries and observations and only a few fields of each feed the engine.
    """
    on = on or today()
    if not user_ids:
        return {}, {}
    ids = list(user_ids)
    params = {"ids": ids, "program_id": program_id}
    users = {u.id: u for u in db.session.execute(_reads()["users"], params).scalars()}
    profiles = {
        uid: (legal_name, cpr_expires_on, ack_at)
        for uid, legal_name, cpr_expires_on, ack_at in _read("profiles", params).all()
    }
    creds: dict[int, tuple] = {}
    for uid, status, course_hours, completed_on in _read("credentials", params).all():
        best = creds.get(uid)
        # A verified credential wins over later pending/rejected submissions; among verified, the longest course.
        if (
            best is None
            or (status == "verified" and (best[0] != "verified" or course_hours >= best[1]))
            or (best[0] != "verified" and status != "verified")
        ):
            creds[uid] = (status, course_hours, completed_on)
    modules_done: dict[int, set[str]] = defaultdict(set)
    for uid, key in _read("modules", params).all():
        modules_done[uid].add(key)
    make_hour = builder(HourFact)
    superseded = set(_read("superseded", params).scalars())
    hours = _grouped(
        "hours", params,
        lambda id_, category, minutes, status, entry_date, case_code, screening_id: make_hour(
            id_, category, minutes, status, entry_date, id_ in superseded, case_code, screening_id))
    amended = set(_read("amended", params).scalars())
    # Plain columns, not ORM entities: a cohort has hundreds of thousands of observations and only these fields
    # feed the engine. The assessor's newest licence record comes in the same query.
    criteria = _criteria_parser()
    make_observation = builder(ObservationFact)
    observations = _grouped(
        "observations", params,
        lambda id_, competency_id, level, critical_failure, criteria_text, assessor_id, assessor_is_dental,
        observed_on, case_code, simulated, assessor_profession, licence_status: make_observation(
            id_, competency_id, level, critical_failure, criteria(criteria_text), assessor_id, assessor_is_dental,
            observed_on, id_, id_ in amended, case_code, simulated, assessor_profession,
            licence_status == "verified"))
    sittings = _grouped_rows(
        "sittings", params,
        lambda row: ExamSittingFact(
            id=row["id"], attempt_no=row["attempt_no"], started_on=row["started_at"].date(),
            submitted_on=row["submitted_at"].date() if row["submitted_at"] else None,
            score_percent=row["score_percent"], pass_mark=row["pass_mark"], passed=row["passed"]))
    osce = {uid: _osce_facts(rows) for uid, rows in _grouped_rows("osce", params, dict).items()}
    agreements = _grouped("agreements", params, AgreementFact)
    licences = licence_facts(ids)
    cases = case_facts(ids)
    enrolled = dict(_read("enrolled", params).all())
    prior_from: dict[int, date] = {}
    omt_practice: set[int] = set()
    for uid, kind, hours_from in _read("standing", params).all():
        if kind == "omt_practice":
            omt_practice.add(uid)
        elif hours_from is not None:
            prior_from[uid] = min(hours_from, prior_from.get(uid, hours_from))
    out = {}
    no_modules: frozenset[str] = frozenset()
    for uid in ids:
        u = users.get(uid)
        if u is None:
            continue
        p, c = profiles.get(uid), creds.get(uid)
        lic = licences.get(uid)
        ok = lic is not None and lic.status == "verified"
        start = enrolled.get(uid)
        if start is not None and uid in prior_from:
            start = min(start, prior_from[uid])
        done = modules_done.get(uid)
        out[uid] = TraineeFacts(
            email=u.email,
            name=p[0] if p else u.name,
            profession=lic.profession if ok else None,
            jurisdiction=lic.jurisdiction if ok else None,
            license_number=lic.number if ok else None,
            license_expires_on=lic.expires_on if ok else None,
            licence=lic,
            enrolled_on=enrolled.get(uid),
            hours_count_from=start,
            omt_practice_recognised=uid in omt_practice,
            omt_status=c[0] if c else None,
            omt_hours=float(c[1]) if c else 0.0,
            omt_completed_on=c[2] if c else None,
            cpr_expires_on=p[1] if p else None,
            infection_control_ack=bool(p and p[2]),
            completed_modules=frozenset(done) if done else no_modules,
            hours=tuple(hours.get(uid, ())),
            observations=tuple(observations.get(uid, ())),
            agreements=tuple(agreements.get(uid, ())),
            exam_sittings=tuple(sittings.get(uid, ())),
            osce_results=tuple(osce.get(uid, ())),
            cases=tuple(cases.get(uid, ())),
            today=on,
        )
    return out, users


def case_facts(ids: list[int]) -> dict[int, list[CaseFact]]:
    """Each trainee's cases with whether they hold a baseline and a follow-up of one measure, and their letters
    (one query)."""
    return _grouped_rows("cases", {"ids": ids},
                         lambda row: CaseFact(code=row["code"],
                                              baseline_and_followup=bool(row["baseline_and_followup"]),
                                              letters=int(row["letters"] or 0)))


def _osce_facts(rows: list[dict]) -> list[OsceFact]:
    """One trainee's station results; a result that a later record amends is superseded."""
    amended = {r["amends_id"] for r in rows if r["amends_id"]}
    return [OsceFact(id=r["id"], station_id=r["station_id"], assessed_on=r["assessed_on"], passed=r["passed"],
                     global_rating=r["global_rating"], failed_reasons=tuple(r["failed_reasons"] or ()),
                     superseded=r["id"] in amended) for r in rows]


def hours_count_from(user_id: int, program_id: str, enrolled_on: date | None = None) -> date | None:
    """The first day whose hours count for the trainee: the enrollment, or an earlier date an admin recognised as
    advanced standing (P2a). None when the trainee is not enrolled. ``enrolled_on`` saves a query when the caller
    already holds the enrollment."""
    enrolled = enrolled_on or db.session.execute(sa.select(Enrollment.enrolled_on).filter_by(
        user_id=user_id, program_id=program_id)).scalar_one_or_none()
    if enrolled is None:
        return None
    earliest = db.session.execute(sa.select(sa.func.min(AdvancedStanding.hours_from)).where(
        AdvancedStanding.trainee_id == user_id, AdvancedStanding.program_id == program_id,
        AdvancedStanding.kind == "prior_hours")).scalar_one_or_none()
    return min(enrolled, earliest) if earliest is not None else enrolled


def licence_facts(ids: list[int]) -> dict[int, LicenceFact]:
    """Each trainee's newest licence record (one query), noting whether an earlier record had been verified."""
    out: dict[int, LicenceFact] = {}
    verified_before: set[int] = set()
    rows = _read("licences", {"ids": ids}).all()
    for uid, status, profession, jurisdiction, number, expires_on, endorsements, decided_at, submitted_at, why in rows:
        out[uid] = LicenceFact(
            status=status, profession=profession, jurisdiction=jurisdiction, number=number,
            expires_on=expires_on, endorsements=frozenset(endorsements or ()),
            # as Licence.verified_on: the day of the decision, for a verified record
            verified_on=decided_at.date() if status == "verified" and decided_at else None,
            submitted_on=submitted_at.date() if submitted_at else None,
            changed_after_verification=uid in verified_before, decision_reason=why or "")
        if status == "verified":
            verified_before.add(uid)
    return out


def attestations_for(facts: TraineeFacts, rules) -> frozenset[str]:
    """Jurisdiction rules the trainee's verified licence satisfies (its intraoral endorsement, checked by an admin
    with the licensing body). A typed claim never counts."""
    from lms.providers.operations import WA_INTRAORAL_ENDORSEMENT

    lic = facts.licence
    if lic is None or lic.status != "verified" or WA_INTRAORAL_ENDORSEMENT not in lic.endorsements:
        return frozenset()
    return frozenset(
        r["id"]
        for r in rules.for_trainee(lic.profession, lic.jurisdiction)
        if r.get("requires", {}).get("endorsement")
    )


def decisions_for(user_ids: list[int], program_id: str | None = None, on: date | None = None, *,
                  translatable: bool = False) -> list[TraineeDecision]:
    """Decisions for many trainees; each evaluated against the standard version its enrollment is pinned to.

    Each standard version is prepared once for the whole batch (``engine.Plan``): only the trainees' own facts are
    looked at per trainee. Their text is plain English, the cheapest to make (lists, reports and the command line show
    counts or English); with ``translatable`` it is made of phrases that a page says in its reader's language, as
    ``decision_for`` does."""
    program_id = program_id or current_app.config["DEFAULT_PROGRAM"]
    # A page's or a batch job's few trainees leave the collector alone; a cohort's records would keep it busy.
    with (gc_paused() if len(user_ids) >= GC_PAUSE_FROM else nullcontext(), fixed_language(),
          nullcontext() if translatable else plain_english()):
        facts, users = _load_facts(user_ids, program_id, on)
        enrollments = {e.user_id: e for e in db.session.execute(
            _reads()["enrollments"], {"ids": list(user_ids), "program_id": program_id}).scalars()}
        version_ids = sorted({e.standard_version_id for e in enrollments.values() if e.standard_version_id})
        versions = ({v.id: v for v in db.session.execute(_reads()["versions"], {"ids": version_ids}).scalars()}
                    if version_ids else {})
        rules = _rules()
        plans: dict[int, Plan] = {}
        out = []
        for uid in user_ids:
            if uid not in facts:
                continue
            enrollment = enrollments.get(uid)
            standard = versions.get(enrollment.standard_version_id) if enrollment else None
            decision = None
            if standard is not None:
                plan = plans.get(standard.id)
                if plan is None:
                    plan = plans[standard.id] = Plan(standard.data, rules.rules)
                decision = plan.evaluate(facts[uid], attestations=attestations_for(facts[uid], rules))
            out.append(TraineeDecision(users[uid], enrollment, standard, facts[uid], decision))
    return out


def decision_for(user: User, program_id: str | None = None, on: date | None = None) -> TraineeDecision:
    """One trainee's decision, its text in phrases: a page shows it in the reader's language."""
    return decisions_for([user.id], program_id, on, translatable=True)[0]
