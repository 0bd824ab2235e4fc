"""The written exam and the OSCE: bank loading and access, blueprint draws, the server's timer (late answers refused,
automatic submission), resuming, attempt limits and the re-sit wait, OSCE pass rules and assessor rules, and the
demo's decisions. Time is controlled through the timestamps the operations store, never by sleeping."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from lms.core.timeutil import utcnow
from lms.exams import operations as ops
from lms.exams.bank import check_bank
from lms.exams.models import ExamAnswer, ExamItem, ExamSitting, OsceResult
from lms.extensions import db
from lms.standards.queries import current_version
from tests.factories import (
    create_trainee,
    create_user,
    enrollment_of,
    name_instructor,
    page_text,
    post_committed,
    registrar,
    signed_in_client,
    verify_licence,
)

T0 = datetime(2026, 11, 20, 9, 0)


def _sit(trainee, now=T0, seed=1):
    return ops.start_sitting(trainee, enrollment_of(trainee), current_version("omr"), set(), now=now,
                             rng=random.Random(seed))


def _keys(sitting):
    keys = dict(db.session.execute(sa.select(ExamItem.id, ExamItem.answer)).all())
    return [d["order"].index(keys[d["item"]]) for d in sitting.draw]


def _answer_all(sitting, trainee, *, right: int, now):
    for n, key in enumerate(_keys(sitting), start=1):
        ops.record_answer(sitting, trainee, position=n, shown_choice=key if n <= right else (key + 1) % 4, now=now)


# --------------------------------------------------------------------------- the bank


def test_bank_loads_with_the_standard_and_fills_the_blueprint(program):
    exam = current_version("omr").data["exam"]
    items = db.session.execute(sa.select(ExamItem).filter_by(program_id="omr", is_active=True)).scalars().all()
    assert len(items) == 45
    per_domain = Counter(i.domain for i in items)
    for d in exam["domains"]:
        assert per_domain[d["id"]] >= d["items"]
    module_prompts = {q["prompt"] for m in program.modules for q in m.questions}
    assert not module_prompts & {i.prompt for i in items}, "the exam bank is kept apart from the module checks"


def _bank_dir(tmp_path, items):
    (tmp_path / "exam").mkdir(parents=True)
    (tmp_path / "exam" / "items.yaml").write_text(json.dumps({"items": items}), encoding="utf-8")
    return tmp_path


def _item(n, domain="a", answer=0, longest=False):
    choices = ["alpha", "beta", "gamma", "delta"]
    if longest:
        choices[answer] = "a much longer correct choice"
    return {"id": f"i{n}", "domain": domain, "prompt": f"Question {n}?", "choices": choices, "answer": answer}


def test_loader_refuses_a_bank_that_cannot_fill_the_blueprint_or_cues_the_answer(tmp_path):
    standard = {"exam": {"domains": [{"id": "a", "items": 4}, {"id": "b", "items": 1}]}}
    items = [_item(n, answer=n % 4, longest=n < 3) for n in range(6)]
    _, errors = check_bank(_bank_dir(tmp_path, items), standard)
    text = [str(e) for e in errors]
    path = str(tmp_path / "exam" / "items.yaml")
    assert f"{path}:1: exam domain 'b' has 0 items; the blueprint draws 1, so the bank cannot fill it" in text
    assert any(t.startswith(f"{path}:1: answer cue: the correct choice is the longest in 50% of exam items")
               for t in text)

    positions = [_item(n, answer=0 if n < 4 else n % 4) for n in range(8)]
    _, errors = check_bank(_bank_dir(tmp_path / "p", positions), {"exam": {"domains": [{"id": "a", "items": 2}]}})
    assert any("answer cue: 62% of correct answers are choice 1" in str(e) for e in errors)

    bad = [{**_item(1), "answer": 7}, {**_item(2), "domain": "zz"}]
    _, errors = check_bank(_bank_dir(tmp_path / "q", bad), {"exam": {"domains": [{"id": "a", "items": 1}]}})
    assert [e.message for e in errors][:2] == ["exam item i1: answer must be the index of one of its choices (0 to 3)",
                                               "exam item i2: domain 'zz' is not in the blueprint (a)"]


def test_courses_load_refuses_a_bank_with_an_answer_cue(app, runner, tmp_path):
    import shutil

    root = tmp_path / "courses"
    shutil.copytree(app.config["COURSES_DIR"], root)
    bank = root / "omr" / "exam" / "items.yaml"
    text = bank.read_text(encoding="utf-8")
    bank.write_text(text.replace("answer: 1,", "answer: 0,").replace("answer: 2,", "answer: 0,"), encoding="utf-8")
    result = runner.invoke(args=["courses", "load", "--path", str(root)])
    assert result.exit_code == 1
    assert f"{bank}:1: answer cue:" in result.output and "choice 1" in result.output


@pytest.mark.parametrize("role", ["trainee", "instructor", "board"])
def test_only_admins_read_the_bank(app, program, role):
    user = create_user(role)
    admin = create_user("admin")
    db.session.commit()
    assert signed_in_client(app, user.email).get("/admin/exam/items").status_code == 403
    page = page_text(signed_in_client(app, admin.email).get("/admin/exam/items"))
    assert "(key)" in page and "x-safe-01" in page


def test_the_sitting_page_shows_only_the_drawn_items_and_never_the_key(app, program):
    trainee = create_trainee()
    db.session.commit()
    client = signed_in_client(app, trainee.email)
    assert "Start a sitting now" in page_text(client.get("/exam"))
    resp = post_committed(client, "/exam/start")
    assert resp.status_code == 302
    sitting = db.session.execute(sa.select(ExamSitting).filter_by(trainee_id=trainee.id)).scalar_one()
    page = page_text(client.get(f"/exam/sittings/{sitting.id}"))
    drawn = {d["item"] for d in sitting.draw}
    items = db.session.execute(sa.select(ExamItem)).scalars().all()
    for item in items:
        assert (item.prompt in page) is (item.id in drawn)
        assert item.item_key not in page
    assert "(key)" not in page and "checked" not in page  # nothing marks the correct choice
    assert "minutes" in page and "UTC" in page


# --------------------------------------------------------------------------- draws and the timer


def test_draw_follows_the_blueprint_and_shuffles(program):
    trainee, other = create_trainee(), create_trainee()
    s1, started = _sit(trainee, seed=1)
    s2, _ = _sit(other, seed=2)
    assert started and s1.total == 30 == len(s1.draw) == len({d["item"] for d in s1.draw})
    domains = dict(db.session.execute(sa.select(ExamItem.id, ExamItem.domain)).all())
    blueprint = {d["id"]: d["items"] for d in current_version("omr").data["exam"]["domains"]}
    assert Counter(domains[d["item"]] for d in s1.draw) == blueprint
    assert [d["item"] for d in s1.draw] != [d["item"] for d in s2.draw]
    assert any(d["order"] != [0, 1, 2, 3] for d in s1.draw)
    assert s1.deadline == T0 + timedelta(minutes=45) and s1.started_at == T0


def test_late_answer_is_refused_and_the_sitting_is_submitted_at_expiry(program):
    trainee = create_trainee()
    sitting, _ = _sit(trainee)
    _answer_all(sitting, trainee, right=30, now=T0 + timedelta(minutes=44))
    stored = db.session.execute(sa.select(sa.func.count(ExamAnswer.id))).scalar_one()
    with pytest.raises(ops.ExamError, match="Time ran out"):
        ops.record_answer(sitting, trainee, position=1, shown_choice=0, now=sitting.deadline + timedelta(seconds=1))
    assert db.session.execute(sa.select(sa.func.count(ExamAnswer.id))).scalar_one() == stored
    assert not sitting.is_open and sitting.submitted_by == "time_limit" and sitting.submitted_at == sitting.deadline
    assert (sitting.correct, sitting.score_percent, sitting.passed) == (30, 100, True)
    with pytest.raises(ops.ExamError, match="submitted"):
        ops.record_answer(sitting, trainee, position=1, shown_choice=0, now=T0)


def test_every_answer_is_kept_and_the_latest_counts(program):
    trainee = create_trainee()
    sitting, _ = _sit(trainee)
    key = _keys(sitting)[0]
    ops.record_answer(sitting, trainee, position=1, shown_choice=(key + 1) % 4, now=T0 + timedelta(minutes=1))
    ops.record_answer(sitting, trainee, position=1, shown_choice=key, now=T0 + timedelta(minutes=2))
    assert db.session.execute(sa.select(sa.func.count(ExamAnswer.id)).filter_by(sitting_id=sitting.id)
                              ).scalar_one() == 2
    ops.submit_sitting(sitting, by="trainee", now=T0 + timedelta(minutes=3))
    assert (sitting.correct, sitting.score_percent, sitting.passed) == (1, 3, False)


def test_sweep_submits_expired_sittings(program, runner):
    trainee, busy = create_trainee(), create_trainee()
    expired, _ = _sit(trainee, now=utcnow() - timedelta(hours=2))
    _answer_all(expired, trainee, right=25, now=utcnow() - timedelta(hours=2))
    running, _ = _sit(busy, now=utcnow())
    db.session.commit()
    result = runner.invoke(args=["exams", "sweep"])
    assert result.exit_code == 0 and "submitted 1 expired sitting" in result.output
    db.session.expire_all()
    expired, running = db.session.get(ExamSitting, expired.id), db.session.get(ExamSitting, running.id)
    assert expired.submitted_by == "time_limit" and expired.score_percent == 83 and expired.passed
    assert running.is_open
    assert "submitted 0 expired sittings" in runner.invoke(args=["exams", "sweep"]).output


def test_resume_within_the_time_limit_then_the_resit_wait_and_the_attempt_limit(program):
    trainee = create_trainee()
    first, started = _sit(trainee)
    again, resumed_new = _sit(trainee, now=T0 + timedelta(minutes=20))
    assert again.id == first.id and started and not resumed_new
    # After the deadline, starting finalises the old sitting (no answers: 0%) and the re-sit wait applies.
    with pytest.raises(ops.ExamError, match=r"A re-sit opens on 4 December 2026, 14 days after the last sitting"):
        _sit(trainee, now=T0 + timedelta(hours=1))
    assert first.submitted_by == "time_limit" and first.passed is False
    second, _ = _sit(trainee, now=T0 + timedelta(days=15))
    ops.submit_sitting(second, by="trainee", now=T0 + timedelta(days=15, minutes=5))
    third, _ = _sit(trainee, now=T0 + timedelta(days=30))
    ops.submit_sitting(third, by="trainee", now=T0 + timedelta(days=30, minutes=5))
    assert [s.attempt_no for s in ops.sittings_of(enrollment_of(trainee).id)] == [1, 2, 3]
    with pytest.raises(ops.ExamError, match="All 3 sittings allowed by the standard have been used"):
        _sit(trainee, now=T0 + timedelta(days=60))


def test_two_sittings_cannot_take_the_same_attempt(program):
    trainee = create_trainee()
    sitting, _ = _sit(trainee)
    db.session.commit()
    clash = ExamSitting(trainee_id=trainee.id, enrollment_id=sitting.enrollment_id,
                        standard_version_id=sitting.standard_version_id, attempt_no=1, draw=[], started_at=T0,
                        deadline=T0, total=0, pass_mark=80)
    db.session.add(clash)
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_a_late_answer_over_the_web_is_refused_and_not_stored(app, program):
    trainee = create_trainee()
    sitting, _ = _sit(trainee, now=utcnow() - timedelta(minutes=10))
    db.session.commit()
    client = signed_in_client(app, trainee.email)
    key = _keys(sitting)[0]
    resp = post_committed(client, f"/exam/sittings/{sitting.id}/answer", {"q-1": str(key), "action": "save"})
    assert resp.status_code == 302
    assert db.session.execute(sa.select(ExamAnswer.id).filter_by(sitting_id=sitting.id)).first() is not None
    # The server's deadline passes (stored timestamps, not a sleep): the next answer is refused and not stored.
    db.session.get(ExamSitting, sitting.id).deadline = utcnow() - timedelta(seconds=5)
    resp = post_committed(client, f"/exam/sittings/{sitting.id}/answer", {"q-2": "1", "action": "save"},
                          follow_redirects=True)
    text = page_text(resp)
    assert "this answer was not stored" in text and "1 of 30 (3%)" in text
    db.session.expire_all()
    assert db.session.execute(sa.select(sa.func.count(ExamAnswer.id)).filter_by(sitting_id=sitting.id)
                              ).scalar_one() == 1
    assert db.session.get(ExamSitting, sitting.id).submitted_by == "time_limit"


def test_trainee_submits_and_the_decision_shows_the_result(app, program):
    from lms.eligibility.service import decision_for

    trainee = create_trainee()
    sitting, _ = _sit(trainee, now=utcnow())
    db.session.commit()
    client = signed_in_client(app, trainee.email)
    form = {f"q-{n}": str(k) for n, k in enumerate(_keys(sitting), start=1)}
    form["q-1"] = str((int(form["q-1"]) + 1) % 4)
    resp = post_committed(client, f"/exam/sittings/{sitting.id}/answer", {**form, "action": "submit"},
                          follow_redirects=True)
    assert "29 of 30 (96%), pass mark 80%: passed" in page_text(resp)
    exam = next(r for r in decision_for(trainee).decision.requirements if r.id == "EXAM")
    assert exam.met and exam.progress.startswith("Written exam: passed on ") and exam.progress.endswith(
        ", 96%, pass mark 80%")
    other = create_trainee()
    db.session.commit()
    assert signed_in_client(app, other.email).get(f"/exam/sittings/{sitting.id}").status_code == 404


# --------------------------------------------------------------------------- OSCE


def _station(sid, ticked=None, rating=4, on=None):
    standard = current_version("omr")
    st = ops.station_def(standard, sid)
    return ops.StationInput(station_id=sid, assessed_on=on or date.today(), global_rating=rating,
                            ticked={c["id"] for c in st["checklist"]} if ticked is None else ticked)


def test_osce_assessor_rules(program):
    trainee = create_trainee()
    enr, standard = enrollment_of(trainee), current_version("omr")
    stranger = create_user("instructor", profession="massage_therapist")
    mine = create_user("instructor", profession="massage_therapist")
    dentist = create_user("instructor", profession="dentist")
    name_instructor(trainee, mine)
    name_instructor(trainee, dentist)
    with pytest.raises(ops.ExamError, match="Nobody assesses themselves"):
        ops.record_station(trainee, enr, standard, _station("extraoral"), actor=trainee)
    with pytest.raises(ops.ExamError, match="Only an instructor the trainee has named"):
        ops.record_station(trainee, enr, standard, _station("extraoral"), actor=stranger)
    with pytest.raises(ops.ExamError, match="graded by a dental hygienist, dental therapist or dentist"):
        ops.record_station(trainee, enr, standard, _station("screening"), actor=mine)
    with pytest.raises(ops.ExamError, match="whose license an admin has verified"):
        ops.record_station(trainee, enr, standard, _station("screening"), actor=dentist)  # no verified licence
    from lms.providers.operations import save_profile

    save_profile(dentist, {"legal_name": "Dr D", "profession": "dentist", "license_number": "DDS-9",
                           "jurisdiction": "CA-BC", "license_expires_on": date.today() + timedelta(days=90)})
    verify_licence(dentist, registrar())
    assert ops.record_station(trainee, enr, standard, _station("screening"), actor=dentist).passed
    assert ops.record_station(trainee, enr, standard, _station("extraoral"), actor=mine).passed


def test_osce_pass_rule_and_a_failed_critical_item_in_the_decision(app, program):
    from lms.eligibility.service import decision_for

    trainee = create_trainee()
    enr, standard, admin = enrollment_of(trainee), current_version("omr"), create_user("admin")
    assert ops.record_station(trainee, enr, standard, _station("extraoral"), actor=admin).passed
    failed = ops.record_station(trainee, enr, standard,
                                _station("adverse_event", ticked={"a-recognise", "a-stop", "a-help", "a-record"}),
                                actor=admin)
    assert not failed.passed
    assert failed.failed_reasons == ["critical item not met: Positions the client safely and monitors breathing and "
                                     "responsiveness"]
    low = ops.record_station(trainee, enr, standard, _station("extraoral", rating=2), actor=admin)
    assert low.failed_reasons == ["global rating 2, at least 3 needed"]
    req = next(r for r in decision_for(trainee).decision.requirements if r.id == "OSCE")
    assert not req.met and req.progress == "OSCE: 0 of 3 stations passed"
    assert "Adverse-event response did not pass" in req.reason and "critical item not met" in req.reason
    with pytest.raises(ops.ExamError, match="Choose a global rating from 1 to 5"):
        ops.record_station(trainee, enr, standard, _station("extraoral", rating=9), actor=admin)
    assert db.session.execute(sa.select(sa.func.count(OsceResult.id))).scalar_one() == 3


def test_osce_form_records_a_station(app, program):
    trainee = create_trainee()
    admin = create_user("admin")
    db.session.commit()
    client = signed_in_client(app, admin.email)
    page = page_text(client.get(f"/trainees/{trainee.id}/osce"))
    assert "Adverse-event response" in page and "(critical)" in page
    resp = post_committed(client, f"/trainees/{trainee.id}/osce", {
        "station_id": "extraoral", "checklist": ["e-position", "e-technique", "e-response"], "global_rating": "5",
        "assessed_on": date.today().isoformat()}, follow_redirects=True)
    assert "Station extraoral: not passed (critical item not met: Obtains consent" in page_text(resp)
    bad = post_committed(client, f"/trainees/{trainee.id}/osce", {"station_id": "nope", "global_rating": "3",
                                                                  "assessed_on": date.today().isoformat()},
                         follow_redirects=True)
    assert "Choose a station of the trainee's standard." in page_text(bad)
    assert db.session.execute(sa.select(sa.func.count(OsceResult.id))).scalar_one() == 1


# --------------------------------------------------------------------------- demo acceptance


def test_demo_every_trainee_has_the_exam_and_the_osce_in_the_decision(ctx, program, runner):
    from lms.demo import seed

    seed()
    db.session.commit()
    result = runner.invoke(args=["eligibility", "--all", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload
    for p in payload:
        titles = [r["title"] for r in p["requirements"]]
        assert any("Written exam" in t for t in titles), p["trainee"]["email"]
        assert any("OSCE" in t for t in titles), p["trainee"]["email"]
    by_email = {p["trainee"]["email"]: {r["id"]: r for r in p["requirements"]} | {"_": p} for p in payload}
    hyg = by_email["hygienist@orocert.test"]
    assert hyg["_"]["eligible"] and hyg["_"]["endorsements"] == ["extraoral", "intraoral"]
    assert hyg["EXAM"]["met"] and hyg["EXAM"]["progress"].startswith("Written exam: passed on ")
    assert hyg["OSCE"]["met"] and hyg["OSCE"]["progress"].startswith("OSCE: 3 of 3 stations passed")
    assert hyg["C2-ASSESSOR"]["met"]
    slp = by_email["slp@orocert.test"]["EXAM"]
    assert not slp["met"] and "(sitting 1 of 3 used)" in slp["progress"] and "40%, pass mark 80%" in slp["progress"]
    wait_until = date.today() + timedelta(days=11)
    assert slp["next_step"] == f"Re-sit the written exam on or after {wait_until.day} {wait_until:%B %Y}"
