"""Table-driven tests for the summative rule types: written exam, OSCE, assessor qualification, and the renewal
re-observation and lapse checks."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from lms.eligibility.facts import ExamSittingFact, OsceFact
from lms.eligibility.renewal import CertificateFact, evaluate_renewal
from lms.eligibility.rules import Context
from lms.eligibility.summative import (
    AssessorQualificationRule,
    OsceRule,
    WrittenExamRule,
    lapse_result,
    long_date,
    renewal_cycle,
    reobservation_result,
)
from lms.exams.operations import station_outcome

from .standard_fixture import TODAY, make_facts, make_standard, obs

EXAM = {"title": "Written exam", "domains": [{"id": "a", "title": "A", "modules": ["M1"], "items": 2}],
        "total_items": 2, "time_limit_minutes": 10, "pass_mark_percent": 80, "pass_mark_method": "modified Angoff [A]",
        "resit_wait_days": 14, "max_attempts": 3}
STATION = {"id": "s1", "title": "Screening", "competencies": [], "pass_rule": {"min_checklist_percent": 75,
                                                                              "min_global_rating": 3},
           "checklist": [{"id": "a", "text": "A.", "critical": False}, {"id": "b", "text": "B.", "critical": False},
                         {"id": "c", "text": "Gloves on.", "critical": True}, {"id": "d", "text": "D.",
                                                                                "critical": False}]}
OSCE = {"global_rating_scale": [{"value": v, "label": str(v)} for v in range(1, 6)], "stations_to_pass": 3,
        "stations": [{**STATION, "id": sid, "title": title} for sid, title in
                     (("s1", "Screening"), ("s2", "Extraoral technique"), ("s3", "Adverse event"))]}


def sitting(n, passed, *, days_ago=30, score=None):
    day = TODAY - timedelta(days=days_ago)
    return ExamSittingFact(id=n, attempt_no=n, started_on=day, submitted_on=None if passed is None else day,
                           score_percent=None if passed is None else (score or (90 if passed else 60)), pass_mark=80,
                           passed=passed)


def run(rule, req, facts, standard=None):
    ctx = Context.build(standard or make_standard(exam=EXAM, osce=OSCE), facts)
    return rule().evaluate({"id": req, "scope": "certificate", "title": req, **({"params": PARAMS} if req == "AQ"
                                                                               else {})}, ctx)


PARAMS = {"competency": "C6", "professions": ["dentist", "dental_hygienist"], "verified_licence": True}


@pytest.mark.parametrize(("sittings", "met", "progress", "step"), [
    ((), False, "Written exam: not yet sat", "Sit the written exam once every module is complete"),
    ((sitting(1, None, days_ago=0),), False, "Written exam: sitting in progress (sitting 1 of 3 used)",
     "Finish and submit your written exam sitting before its time runs out"),
    ((sitting(1, False, days_ago=3),), False,
     f"Written exam: not passed on {long_date(TODAY - timedelta(days=3))}, 60%, pass mark 80% (sitting 1 of 3 used)",
     f"Re-sit the written exam on or after {long_date(TODAY + timedelta(days=11))}"),
    ((sitting(1, False, days_ago=20),), False, None, "Re-sit the written exam"),
    ((sitting(1, False), sitting(2, False), sitting(3, False, days_ago=40)), False, None,
     "Ask an admin about further study and a new enrollment before another sitting"),
    ((sitting(1, False), sitting(2, True, score=82)), True,
     f"Written exam: passed on {long_date(TODAY - timedelta(days=30))}, 82%, pass mark 80%", ""),
])
def test_written_exam(sittings, met, progress, step):
    r = run(WrittenExamRule, "EXAM", make_facts(exam_sittings=sittings))
    assert r.met is met
    if progress:
        assert r.progress == progress
    assert r.next_step == step
    assert bool(r.reason) is not met


def test_written_exam_without_an_exam_in_the_standard_fails_closed():
    r = run(WrittenExamRule, "EXAM", make_facts(exam_sittings=(sitting(1, True),)), standard=make_standard())
    assert not r.met and r.next_step == "Ask an admin to correct the standard"


def station(n, sid, passed, *, days_ago=10, superseded=False, reasons=()):
    return OsceFact(id=n, station_id=sid, assessed_on=TODAY - timedelta(days=days_ago), passed=passed,
                    global_rating=4 if passed else 2, failed_reasons=tuple(reasons), superseded=superseded)


@pytest.mark.parametrize(("results", "met", "progress", "in_reason"), [
    ((), False, "OSCE: 0 of 3 stations passed", "Not yet assessed: Screening, Extraoral technique and Adverse event"),
    ((station(1, "s1", True), station(2, "s2", True), station(3, "s3", True)), True,
     f"OSCE: 3 of 3 stations passed (last on {long_date(TODAY - timedelta(days=10))})", ""),
    # A failed critical item fails the station, and the latest result of a station counts.
    ((station(1, "s1", True), station(2, "s2", True), station(3, "s3", True, days_ago=12),
      station(4, "s3", False, reasons=["critical item not met: Gloves on"])), False, "OSCE: 2 of 3 stations passed",
     "Adverse event did not pass"),
    # An amended (superseded) failure no longer counts; its amendment does.
    ((station(1, "s1", True), station(2, "s2", True), station(3, "s3", False, superseded=True),
      station(4, "s3", True)), True, None, ""),
])
def test_osce(results, met, progress, in_reason):
    r = run(OsceRule, "OSCE", make_facts(osce_results=results))
    assert r.met is met
    if progress:
        assert r.progress == progress
    assert in_reason in r.reason


@pytest.mark.parametrize(("ticked", "rating", "passed", "reason"), [
    ({"a", "b", "c", "d"}, 4, True, None),
    ({"a", "b", "c"}, 3, True, None),  # 75% and a borderline pass
    ({"a", "b", "d"}, 5, False, "critical item not met: Gloves on"),  # a failed critical item fails the station
    ({"a", "c"}, 4, False, "checklist 2 of 4 items, 75% needed"),
    ({"a", "b", "c", "d"}, 2, False, "global rating 2, at least 3 needed"),
])
def test_station_pass_rule(ticked, rating, passed, reason):
    ok, reasons = station_outcome(STATION, ticked, rating)
    assert ok is passed
    assert (reason in reasons) if reason else reasons == []


@pytest.mark.parametrize(("profession", "verified", "level", "met"), [
    ("dentist", True, 4, True),
    ("dental_hygienist", True, 4, True),
    ("dentist", False, 4, False),  # the licence was never verified
    ("massage_therapist", True, 4, False),  # not a dental professional
    (None, False, 4, False),  # no licence on file
    ("dentist", True, 2, False),  # the qualified assessor's observation did not pass
])
def test_assessor_qualification(profession, verified, level, met):
    o = replace(obs(1, "C6", level), assessor_profession=profession, assessor_licence_verified=verified)
    r = run(AssessorQualificationRule, "AQ", make_facts(observations=(o,)))
    assert r.met is met
    if not met:
        assert "dental-professional assessor with a verified license" in r.next_step


@pytest.mark.parametrize(("first", "expires", "cycle"), [
    (date(2022, 1, 10), date(2024, 1, 10), 1),
    (date(2022, 1, 10), date(2026, 1, 10), 2),
    (date(2022, 1, 10), date(2028, 1, 10), 3),
    (date(2022, 1, 10), date(2030, 1, 10), 4),
])
def test_renewal_cycle(first, expires, cycle):
    assert renewal_cycle(first, expires, 24) == cycle


RENEWAL = {"cycle_months": 24, "ce_hours": 0, "sub_minimums": {}, "practice_sessions_attested": 0, "grace_days": 90,
           "reobservation": {"competency": "C6", "every_cycles": 2, "min_level": 4},
           "lapse_reassessment": {"after_cycles": 1, "competencies": ["C4", "C6"]}}


@pytest.mark.parametrize(("first_issued", "observations", "expected"), [
    (TODAY - timedelta(days=700), (), None),  # first cycle: no re-observation due
    (TODAY - timedelta(days=1430), (), False),  # second cycle, none recorded
    (TODAY - timedelta(days=1430), (obs(1, "C6", 4, observed_on=TODAY - timedelta(days=100)),), True),
    (TODAY - timedelta(days=1430), (obs(1, "C6", 3, observed_on=TODAY - timedelta(days=100)),), False),  # level 3
    (TODAY - timedelta(days=1430), (obs(1, "C6", 4, observed_on=TODAY - timedelta(days=800)),), False),  # too old
    (TODAY - timedelta(days=2160), (), None),  # third cycle: none due
])
def test_c6_reobservation_every_second_cycle(first_issued, observations, expected):
    standard = make_standard(renewal=RENEWAL)
    issued, expires = TODAY - timedelta(days=700), TODAY + timedelta(days=30)
    r = reobservation_result(standard, make_facts(observations=observations), first_issued_on=first_issued,
                             issued_on=issued, expires_on=expires)
    assert (None if r is None else r.met) is expected


@pytest.mark.parametrize(("expired_days_ago", "records", "expected"), [
    (100, {}, None),  # within one cycle: no reassessment rule
    (800, {}, False),  # more than one cycle: exam and C4/C6 again
    (800, {"exam": True}, False),
    (800, {"exam": True, "obs": ("C4", "C6")}, True),
    (800, {"exam": True, "obs": ("C4",)}, False),
    (800, {"exam": "before", "obs": ("C4", "C6")}, False),  # an exam passed before the lapse does not count
])
def test_lapse_longer_than_a_cycle_needs_the_exam_again(expired_days_ago, records, expected):
    expires = TODAY - timedelta(days=expired_days_ago)
    sittings = ()
    if records.get("exam"):
        days = expired_days_ago + 30 if records["exam"] == "before" else 10
        sittings = (sitting(1, True, days_ago=days),)
    observations = tuple(obs(n, cid, 4, observed_on=TODAY - timedelta(days=5))
                         for n, cid in enumerate(records.get("obs", ()), start=1))
    facts = make_facts(exam_sittings=sittings, observations=observations)
    r = lapse_result(make_standard(renewal=RENEWAL), facts, expires_on=expires)
    assert (None if r is None else r.met) is expected
    if r is not None and not r.met:
        assert "written exam (requirement EXAM)" in r.reason


def test_renewal_window_reason_names_the_exam_requirement():
    facts = make_facts()
    cert = CertificateFact(TODAY - timedelta(days=1000), TODAY - timedelta(days=270), ("extraoral",))
    decision = evaluate_renewal(make_standard(renewal=RENEWAL), facts, cert, attested_sessions=0)
    window = next(r for r in decision.requirements if r.id == "R-WINDOW")
    assert not window.met and "requirement EXAM" in window.reason
