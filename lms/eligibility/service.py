"""Builds ``TraineeFacts`` from the database and runs the engine. The only eligibility code that touches the DB.

``facts_for_users`` loads a whole cohort with a fixed number of queries (one per record kind), whatever its size.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import current_app

from lms.assessments.models import Assessment
from lms.auth.models import User
from lms.core.timeutil import today
from lms.eligibility.engine import Decision, evaluate
from lms.eligibility.facts import AgreementFact, CriterionFact, HourFact, ObservationFact, TraineeFacts
from lms.extensions import db
from lms.hours.ledger import superseded_ids_query
from lms.hours.models import HourEntry
from lms.providers.models import OmtCredential, ProviderProfile
from lms.screening.models import CollaborationAgreement
from lms.standards.models import StandardVersion
from lms.training.models import Enrollment, Module, ModuleCompletion


@dataclass
class TraineeDecision:
    user: User
    enrollment: Enrollment | None
    standard: StandardVersion | None
    facts: TraineeFacts
    decision: Decision | None

    def to_dict(self) -> dict:
        """The stable JSON form (documented in the README)."""
        d = (
            self.decision.to_dict()
            if self.decision
            else {
                "eligible": False,
                "endorsements": [],
                "requirements": [],
                "notices": [],
                "next_steps": ["Enroll in the program."],
                "summary": "Not enrolled.",
            }
        )
        return {
            "trainee": {"email": self.user.email, "name": self.facts.name, "profession": self.facts.profession},
            "program": self.enrollment.program_id if self.enrollment else current_app.config["DEFAULT_PROGRAM"],
            "standard": {"id": self.standard.standard_key, "version": self.standard.version} if self.standard else None,
            **d,
        }


def _rules():
    from lms.jurisdictions.data import load_rules

    return load_rules(current_app.config["JURISDICTIONS_FILE"])


def _grouped(stmt, make) -> dict[int, list]:
    """Run ``stmt`` and build one fact per row with ``make(columns)``, grouped by trainee (one query)."""
    out: dict[int, list] = defaultdict(list)
    for row in db.session.execute(stmt).mappings():
        fields = dict(row)
        trainee_id = fields.pop("trainee_id")
        out[trainee_id].append(make(fields))
    return out


def facts_for_users(user_ids: list[int], program_id: str, on: date | None = None) -> dict[int, TraineeFacts]:
    """Facts for many trainees at once, in a constant number of queries."""
    on = on or today()
    if not user_ids:
        return {}
    ids = list(user_ids)
    users = {u.id: u for u in db.session.execute(sa.select(User).where(User.id.in_(ids))).scalars()}
    profiles = {
        p.user_id: p
        for p in db.session.execute(sa.select(ProviderProfile).where(ProviderProfile.user_id.in_(ids))).scalars()
    }
    creds: dict[int, OmtCredential] = {}
    for c in db.session.execute(
        sa.select(OmtCredential).where(OmtCredential.user_id.in_(ids)).order_by(OmtCredential.id)
    ).scalars():
        best = creds.get(c.user_id)
        # A verified credential wins over later pending/rejected submissions; among verified, the longest course.
        if (
            best is None
            or (c.status == "verified" and (best.status != "verified" or c.course_hours >= best.course_hours))
            or (best.status != "verified" and c.status != "verified")
        ):
            creds[c.user_id] = c
    modules_done: dict[int, set[str]] = defaultdict(set)
    for uid, key in db.session.execute(
        sa.select(Enrollment.user_id, Module.module_key)
        .join(ModuleCompletion, ModuleCompletion.enrollment_id == Enrollment.id)
        .join(Module, Module.id == ModuleCompletion.module_id)
        .where(Enrollment.user_id.in_(ids), Enrollment.program_id == program_id)
    ):
        modules_done[uid].add(key)
    superseded = set(db.session.execute(superseded_ids_query().where(HourEntry.trainee_id.in_(ids))).scalars())
    hours = _grouped(
        sa.select(HourEntry.id, HourEntry.trainee_id, HourEntry.category, HourEntry.minutes, HourEntry.status,
                  HourEntry.entry_date, HourEntry.case_code, HourEntry.screening_id)
        .where(HourEntry.trainee_id.in_(ids)),
        lambda row: HourFact(**row, superseded=row["id"] in superseded))
    amended = set(
        db.session.execute(
            sa.select(Assessment.amends_id).where(Assessment.amends_id.is_not(None), Assessment.trainee_id.in_(ids))
        ).scalars()
    )
    # Plain columns, not ORM entities: a cohort has hundreds of thousands of observations and only these fields
    # feed the engine (entity loading was most of the cohort report's time).
    observations = _grouped(
        sa.select(Assessment.id, Assessment.trainee_id, Assessment.competency_id, Assessment.level,
                  Assessment.critical_failure, Assessment.criteria, Assessment.assessor_id,
                  Assessment.assessor_is_dental, Assessment.observed_on, Assessment.case_code, Assessment.simulated)
        .where(Assessment.trainee_id.in_(ids)),
        lambda row: ObservationFact(
            **{**row, "criteria": tuple(CriterionFact(k, bool(v)) for k, v in sorted((row["criteria"] or {}).items()))},
            recorded_seq=row["id"], superseded=row["id"] in amended))
    agreements = _grouped(
        sa.select(CollaborationAgreement.id, CollaborationAgreement.trainee_id, CollaborationAgreement.status,
                  CollaborationAgreement.valid_from, CollaborationAgreement.valid_until,
                  CollaborationAgreement.dentist_profession)
        .where(CollaborationAgreement.trainee_id.in_(ids)),
        lambda row: AgreementFact(**row))
    out = {}
    for uid in ids:
        u, p, c = users.get(uid), profiles.get(uid), creds.get(uid)
        if u is None:
            continue
        out[uid] = TraineeFacts(
            email=u.email,
            name=p.legal_name if p else u.name,
            profession=p.profession if p else None,
            jurisdiction=p.jurisdiction if p else None,
            license_number=p.license_number if p else None,
            license_expires_on=p.license_expires_on if p else None,
            omt_status=c.status if c else None,
            omt_hours=float(c.course_hours) if c else 0.0,
            omt_completed_on=c.completed_on if c else None,
            cpr_expires_on=p.cpr_expires_on if p else None,
            infection_control_ack=bool(p and p.infection_control_ack_at),
            completed_modules=frozenset(modules_done.get(uid, ())),
            hours=tuple(hours.get(uid, ())),
            observations=tuple(observations.get(uid, ())),
            agreements=tuple(agreements.get(uid, ())),
            today=on,
        )
    return out


def attestations_for(profile: ProviderProfile | None, rules) -> frozenset[str]:
    """Jurisdiction rules the trainee's license is recorded as satisfying (the intraoral endorsement)."""
    if not profile or not profile.has_intraoral_endorsement:
        return frozenset()
    return frozenset(
        r["id"]
        for r in rules.for_trainee(profile.profession, profile.jurisdiction)
        if r.get("requires", {}).get("endorsement")
    )


def decisions_for(user_ids: list[int], program_id: str | None = None, on: date | None = None) -> list[TraineeDecision]:
    """Decisions for many trainees; each evaluated against the standard version its enrollment is pinned to."""
    program_id = program_id or current_app.config["DEFAULT_PROGRAM"]
    facts = facts_for_users(user_ids, program_id, on)
    enrollments = {
        e.user_id: e
        for e in db.session.execute(
            sa.select(Enrollment).where(Enrollment.user_id.in_(list(user_ids)), Enrollment.program_id == program_id)
        ).scalars()
    }
    version_ids = {e.standard_version_id for e in enrollments.values() if e.standard_version_id}
    versions = (
        {
            v.id: v
            for v in db.session.execute(sa.select(StandardVersion).where(StandardVersion.id.in_(version_ids))).scalars()
        }
        if version_ids
        else {}
    )
    users = {u.id: u for u in db.session.execute(sa.select(User).where(User.id.in_(list(user_ids)))).scalars()}
    profiles = {
        p.user_id: p
        for p in db.session.execute(
            sa.select(ProviderProfile).where(ProviderProfile.user_id.in_(list(user_ids)))
        ).scalars()
    }
    rules = _rules()
    out = []
    for uid in user_ids:
        if uid not in facts:
            continue
        enrollment = enrollments.get(uid)
        standard = versions.get(enrollment.standard_version_id) if enrollment else None
        decision = None
        if standard is not None:
            decision = evaluate(
                standard.data, facts[uid], rules.rules, attestations=attestations_for(profiles.get(uid), rules)
            )
        out.append(TraineeDecision(users[uid], enrollment, standard, facts[uid], decision))
    return out


def decision_for(user: User, program_id: str | None = None, on: date | None = None) -> TraineeDecision:
    return decisions_for([user.id], program_id, on)[0]
