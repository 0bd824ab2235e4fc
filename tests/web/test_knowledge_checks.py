"""Knowledge checks drawn per attempt, the attempt limit, results without answers, item analysis, and hours earned
where they happen (online hours by a pass, lab hours by attendance). Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import html
import random
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms.core.formatting import format_date, format_datetime
from lms.core.timeutil import today
from lms.extensions import db
from lms.hours import ledger
from lms.hours.attendance import AttendanceInput, record_attendance
from lms.hours.models import AttendanceSession, HourEntry
from lms.training import operations
from lms.training.item_analysis import item_statistics, point_biserial
from lms.training.models import Module, ModuleCompletion, Program, QuizAttempt, QuizDraw
from tests.factories import PASSWORD, create_trainee, create_user, enrollment_of, name_instructor
from tests.factories import get_committed as _get
from tests.factories import post_committed as _post
from tests.web.test_certificates import refresh
from tests.web.test_concurrency import run_together


def _text(resp) -> str:
    return html.unescape(resp.get_data(as_text=True))


def _login(client, email):
    assert _post(client, "/login", {"email": email, "password": PASSWORD}).status_code == 302


def _module(key="M1") -> Module:
    return db.session.execute(sa.select(Module).filter_by(program_id="omr", module_key=key)).scalar_one()


def _count(model, **filters) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).filter_by(**filters))


def _latest_draw(user, module) -> QuizDraw:
    refresh()
    enrollment = enrollment_of(user)
    return db.session.execute(sa.select(QuizDraw).filter_by(enrollment_id=enrollment.id, module_id=module.id)
                              .order_by(QuizDraw.id.desc())).scalars().first()


def _form(draw: QuizDraw, n_correct: int) -> dict[str, str]:
    data = {"draw": str(draw.id)}
    for i, it in enumerate(draw.items):
        right = it["order"].index(it["answer"])
        data[f"q-{it['id']}"] = str(right if i < n_correct else (right + 1) % len(it["order"]))
    return data


def _attempt(client, user, module, n_correct, **kw):
    """Open the check, answer it, post it."""
    assert _get(client, f"/modules/{module.slug}").status_code == 200
    draw = _latest_draw(user, module)
    return draw, _post(client, f"/modules/{module.slug}/check", _form(draw, n_correct), **kw)


@pytest.fixture
def trainee(ctx, client, program):
    user = create_trainee(email="learner@example.test")
    _login(client, "learner@example.test")
    return user


# --- draws ---------------------------------------------------------------------------------------------------------


def test_a_draw_takes_the_program_files_number_of_items_and_shuffles_items_and_choices(trainee):
    m1 = _module()
    assert operations.check_settings(m1) == {"items": 7, "attempts": 3, "window_hours": 24}
    draw = operations.open_draw(enrollment_of(trainee), m1, rng=random.Random(7))
    ids = [it["id"] for it in draw.items]
    bank_order = [q["id"] for q in m1.questions]
    assert len(ids) == len(set(ids)) == 7 and set(ids) <= set(bank_order)
    assert ids != sorted(ids, key=bank_order.index)  # the items are not in bank order
    assert any(it["order"] != sorted(it["order"]) for it in draw.items)  # and choices are shuffled
    for it in draw.items:  # the stored key is the bank's answer
        assert it["answer"] == next(q["answer"] for q in m1.questions if q["id"] == it["id"])


def test_opening_the_check_twice_after_submitting_gives_a_different_draw(trainee, client):
    m1 = _module()
    first, resp = _attempt(client, trainee, m1, 0)
    assert resp.status_code == 302
    page = _text(_get(client, "/modules/01-anatomy"))
    second = _latest_draw(trainee, m1)
    assert second.id != first.id
    shown = lambda d: [(it["id"], it["order"]) for it in d.items]  # noqa: E731
    assert shown(first) != shown(second)
    # The page shows the new draw's items in its order, with its choices in their shuffled order.
    bank = {q["id"]: q for q in m1.questions}
    positions = [page.index(f'name="q-{it["id"]}"') for it in second.items]
    assert positions == sorted(positions)
    it = second.items[0]
    choice_positions = [page.index(bank[it["id"]]["choices"][i], positions[0]) for i in it["order"]]
    assert choice_positions == sorted(choice_positions)


def test_a_form_with_an_item_that_is_not_in_the_draw_is_refused(trainee, client):
    m1 = _module()
    _get(client, "/modules/01-anatomy")
    draw = _latest_draw(trainee, m1)
    data = _form(draw, 7)
    outside = next(q["id"] for q in m1.questions if q["id"] not in {it["id"] for it in draw.items})
    data[f"q-{outside}"] = "0"

    resp = _post(client, "/modules/01-anatomy/check", data, follow_redirects=True)

    assert "That form does not match your knowledge check." in _text(resp)
    assert _count(QuizAttempt) == 0
    # Another trainee's draw is refused the same way.
    other = create_trainee(email="other@example.test")
    foreign = operations.open_draw(enrollment_of(other), m1)
    resp = _post(client, "/modules/01-anatomy/check", _form(foreign, 7), follow_redirects=True)
    assert "That form does not match your knowledge check." in _text(resp)
    assert _count(QuizAttempt) == 0


def test_a_draw_is_answered_once(trainee, client):
    m1 = _module()
    draw, first = _attempt(client, trainee, m1, 7)
    again = _post(client, "/modules/01-anatomy/check", _form(draw, 7), follow_redirects=True)
    assert "Those answers were already submitted." in _text(again)
    assert _count(QuizAttempt) == 1


# --- results without answers ---------------------------------------------------------------------------------------


def test_a_failed_attempt_shows_score_and_wrong_items_but_no_answers_or_explanations(trainee, client):
    m1 = _module()
    draw, resp = _attempt(client, trainee, m1, 3)
    attempt = db.session.execute(sa.select(QuizAttempt)).scalar_one()
    # The result is shown where the trainee looks: the redirect lands on the result box at the top of the check.
    assert resp.headers["Location"].endswith(f"/modules/01-anatomy?result={attempt.id}#result")
    page = _text(_get(client, resp.headers["Location"]))
    box = page[page.index('id="result"'):]
    assert page.index('id="check-heading"') < page.index('id="result"')
    assert "3 of 7 correct (43%) · Not passed" in box
    assert "Questions answered wrongly: 4, 5, 6, 7." in box
    assert box.count('<span class="badge warn">Wrong</span>') == 4
    # The trainee's own answers stay selected; nothing marks the correct choice; no explanation appears anywhere.
    bank = {q["id"]: q for q in m1.questions}
    for i, it in enumerate(draw.items):
        chosen = int(_form(draw, 3)[f"q-{it['id']}"])
        assert re.search(rf'name="r{i + 1}-{re.escape(it["id"])}" value="{chosen}" checked disabled', box)
        assert bank[it["id"]]["explanation"] not in page
    assert box.count("checked") == 7 and "correct answer:" not in box.lower()
    assert "The correct answers are not shown" in box


def test_explanations_appear_once_the_module_is_passed(trainee, client):
    m1 = _module()
    draw, resp = _attempt(client, trainee, m1, 7)
    page = _text(_get(client, resp.headers["Location"]))
    bank = {q["id"]: q for q in m1.questions}
    assert "7 of 7 correct (100%) · Passed" in page
    assert all(bank[it["id"]]["explanation"] in page for it in draw.items)


# --- the attempt limit ---------------------------------------------------------------------------------------------


def test_three_attempts_in_24_hours_then_a_wait_the_page_states(trainee, client):
    m1 = _module()
    for _ in range(3):
        _draw, resp = _attempt(client, trainee, m1, 0)
        assert resp.status_code == 302
    refresh()
    attempts = db.session.execute(sa.select(QuizAttempt).order_by(QuizAttempt.id)).scalars().all()
    assert [a.number for a in attempts] == [1, 2, 3]
    until = format_datetime(attempts[0].created_at + timedelta(hours=24), "UTC")  # the trainee's zone: UTC

    page = _text(_get(client, "/modules/01-anatomy"))
    assert f"You have used your 3 attempts in 24 hours. You may try again from {until}." in page
    assert 'id="check-form"' not in page
    # The attempts are used up: the last attempt's explanations may now be read.
    last = _text(_get(client, f"/modules/01-anatomy?result={attempts[-1].id}"))
    bank = {q["id"]: q for q in m1.questions}
    assert all(bank[it["id"]]["explanation"] in last for it in attempts[-1].draw.items)

    # The server refuses a fourth attempt whatever form is posted.
    extra = operations.open_draw(enrollment_of(trainee), m1)
    resp = _post(client, "/modules/01-anatomy/check", _form(extra, 7), follow_redirects=True)
    assert f"You may try again from {until}." in _text(resp)
    assert _count(QuizAttempt) == 3 and _count(ModuleCompletion) == 0


def test_the_limit_counts_only_attempts_inside_the_window(trainee):
    m1 = _module()
    enrollment = enrollment_of(trainee)
    for _ in range(3):
        draw = operations.open_draw(enrollment, m1)
        operations.submit_knowledge_check(enrollment, m1, draw, {}, actor=trainee)
    attempts = operations.attempts_for(enrollment.id, m1.id)
    oldest = min(a.created_at for a in attempts)
    assert operations.wait_until(m1, attempts) == oldest + timedelta(hours=24)
    assert operations.wait_until(m1, attempts, now=oldest + timedelta(hours=24)) is None
    with pytest.raises(operations.AttemptLimitReached):
        operations.submit_knowledge_check(enrollment, m1, operations.open_draw(enrollment, m1), {}, actor=trainee)


def test_parallel_submissions_cannot_exceed_the_limit(ctx, program):
    """Two attempts used; five different open draws are submitted at the same moment: exactly one more counts."""
    from lms.auth.models import User
    from lms.core.database import set_write_intent
    from lms.training.models import Enrollment

    user = create_trainee(email="racer@example.test")
    m1 = _module()
    enrollment = enrollment_of(user)
    for _ in range(2):
        operations.submit_knowledge_check(enrollment, m1, operations.open_draw(enrollment, m1), {}, actor=user)
    template = operations.open_draw(enrollment, m1)
    draws = [template.id] + [_copy_draw(template) for _ in range(4)]
    ids = (user.id, enrollment.id, m1.id)
    db.session.commit()

    def submit(i):
        with ctx.app_context():
            set_write_intent(True)
            try:
                who = db.session.get(User, ids[0])
                enr, mod = db.session.get(Enrollment, ids[1]), db.session.get(Module, ids[2])
                draw = db.session.get(QuizDraw, draws[i])
                try:
                    operations.submit_knowledge_check(enr, mod, draw, {}, actor=who)
                    db.session.commit()
                    return "stored"
                except operations.AttemptLimitReached:
                    return "limited"
                except sa.exc.IntegrityError:
                    return "conflict"
            finally:
                db.session.rollback()

    results, errors = run_together(submit, count=5)
    assert not errors, "\n".join(errors)
    assert results.count("stored") == 1, results
    refresh()
    numbers = sorted(db.session.execute(sa.select(QuizAttempt.number).filter_by(enrollment_id=enrollment.id))
                     .scalars())
    assert numbers == [1, 2, 3]


def _copy_draw(draw: QuizDraw) -> int:
    copy = QuizDraw(enrollment_id=draw.enrollment_id, module_id=draw.module_id, items=list(draw.items))
    db.session.add(copy)
    db.session.flush()
    return copy.id


# --- item analysis -------------------------------------------------------------------------------------------------


def test_item_statistics_match_a_hand_computed_example():
    # Five attempts at a three-item check (1 right, 0 wrong):
    #   attempt  A  B  C   total
    #   1        1  1  0   2
    #   2        1  0  1   2
    #   3        0  0  1   1
    #   4        1  1  1   3
    #   5        0  1  0   1
    rows = [{"A": 1, "B": 1, "C": 0}, {"A": 1, "B": 0, "C": 1}, {"A": 0, "B": 0, "C": 1},
            {"A": 1, "B": 1, "C": 1}, {"A": 0, "B": 1, "C": 0}]
    stats = {s.item_id: s for s in item_statistics(rows)}
    # p = proportion correct: A 3/5, B 3/5, C 3/5.
    assert [stats[i].p for i in "ABC"] == [0.6, 0.6, 0.6]
    assert [stats[i].attempts for i in "ABC"] == [5, 5, 5]
    # Item A against the rest score (B + C): x = 1 1 0 1 0 (mean 0.6), y = 1 1 1 2 1 (mean 1.2).
    #   deviations x: .4 .4 -.6 .4 -.6    y: -.2 -.2 -.2 .8 -.2
    #   Sxy = -.08 - .08 + .12 + .32 + .12 = 0.40;  Sxx = 3(.16) + 2(.36) = 1.2;  Syy = 4(.04) + .64 = 0.8
    #   r = 0.40 / sqrt(1.2 x 0.8) = 0.40 / sqrt(0.96) = 0.4082
    assert stats["A"].discrimination == pytest.approx(0.40 / (0.96 ** 0.5)) == pytest.approx(0.4082, abs=1e-4)
    # Item C against A + B: x = 0 1 1 1 0, y = 2 1 0 2 1 (mean 1.2).
    #   deviations x: -.6 .4 .4 .4 -.6    y: .8 -.2 -1.2 .8 -.2
    #   Sxy = -.48 - .08 - .48 + .32 + .12 = -0.60;  Sxx = 1.2;  Syy = .64 + .04 + 1.44 + .64 + .04 = 2.8
    #   r = -0.60 / sqrt(1.2 x 2.8) = -0.60 / sqrt(3.36) = -0.3273
    assert stats["C"].discrimination == pytest.approx(-0.60 / (3.36 ** 0.5)) == pytest.approx(-0.3273, abs=1e-4)
    # Item B against A + C: y = 1 2 1 2 0; Sxy = -.08 - .48 + .12 + .32 - .48 = -0.60, Syy = 2.8: also -0.3273.
    assert stats["B"].discrimination == pytest.approx(-0.3273, abs=1e-4)
    assert stats["A"].flags == [] and stats["C"].flags == ["negative discrimination"]


def test_items_that_misbehave_are_flagged():
    # D right in all 10 attempts (p = 1.0); E right in 2 of 10 (p = 0.2); F right in 5 of 10.
    rows = [{"D": 1, "E": int(n < 2), "F": int(n < 5)} for n in range(10)]
    stats = {s.item_id: s for s in item_statistics(rows, ["D", "E", "F", "G"])}
    assert stats["D"].flags == ["too easy"] and stats["D"].discrimination is None  # no variance: undefined
    assert stats["E"].flags == ["too hard"] and stats["E"].p == 0.2
    assert stats["F"].flags == [] and stats["F"].discrimination > 0
    assert (stats["G"].attempts, stats["G"].p, stats["G"].flags) == (0, None, [])  # never drawn
    assert point_biserial([1], [3]) is None


def test_admin_item_analysis_page_lists_every_item_with_its_statistics(ctx, client, program):
    trainee = create_trainee(email="learner@example.test")
    create_user("admin", email="admin@example.test")
    m1 = _module()
    enrollment = enrollment_of(trainee)
    draw = operations.open_draw(enrollment, m1)
    operations.submit_knowledge_check(enrollment, m1, draw, {it["id"]: it["answer"] for it in draw.items},
                                      actor=trainee)
    _login(client, "admin@example.test")
    page = _text(_get(client, "/admin/items"))
    assert 'href="/admin/items"' in page
    section = page[page.index('id="items-M1"'):page.index('id="items-M2"')]
    assert "1 drawn attempt." in section
    for q in m1.questions:
        assert q["id"] in section
    # Each drawn item: 1 attempt, p = 1.00, discrimination undefined, flagged too easy.
    assert section.count("<td>1.00</td>") == 7 and section.count("too easy") == 7


# --- hours earned where they happen --------------------------------------------------------------------------------


def _lab_minutes() -> int:
    return ledger.counted_minutes_by_category(_trainee_id()).get("lab_in_person", 0)


def _trainee_id() -> int:
    from lms.auth.models import User

    return db.session.execute(sa.select(User.id).filter_by(email="learner@example.test")).scalar_one()


def test_a_quiz_pass_credits_online_hours_only_and_attendance_credits_the_lab(trainee, client):
    m6 = _module("M6")
    parts = db.session.get(Program, "omr").manifest["hour_breakdown"]["06-extraoral"]
    assert parts["lab_minutes"] > 0
    _draw, resp = _attempt(client, trainee, m6, 7)
    completion = db.session.execute(sa.select(ModuleCompletion)).scalar_one()
    assert float(completion.hours_credited) == round((parts["reading_minutes"] + parts["activities_minutes"]) / 60, 2)
    assert _lab_minutes() == 0  # the pass credited no lab hours

    instructor = create_user("instructor", email="teacher@example.test", name="Tess Teacher")
    name_instructor(trainee, instructor)
    outsider = create_trainee(email="outsider@example.test")
    day = today() - timedelta(days=3)
    with pytest.raises(ledger.LedgerError, match="only for enrolled trainees who named you"):
        record_attendance(instructor, AttendanceInput(m6.id, day, 120, [trainee.id, outsider.id], "Skills lab"),
                          program=db.session.get(Program, "omr"))
    assert _count(AttendanceSession) == 0 and _count(HourEntry) == 0
    session = record_attendance(instructor, AttendanceInput(m6.id, day, 120, [trainee.id], "Skills lab, room 2"),
                                program=db.session.get(Program, "omr"))
    db.session.commit()
    credit = session.credits[0]
    assert (credit.trainee_id, credit.minutes, credit.category, credit.status, credit.supervisor_id) == (
        trainee.id, 120, "lab_in_person", "approved", instructor.id)
    assert _lab_minutes() == 120

    # The hours page shows where each hour came from.
    page = _text(_get(client, "/hours/"))
    assert f"Attendance: M6 lab session by Tess Teacher on {format_date(day)}" in page
    assert f"Knowledge check passed on {completion.completed_at.date().isoformat()}" in page

    # The eligibility decision counts the attended lab hours toward the lab requirement.
    from lms.eligibility.service import decision_for

    decision = decision_for(db.session.get(type(trainee), trainee.id))
    results = {r.id: r for r in decision.decision.requirements}
    assert "2 of 16" in results["H-LAB"].progress
    assert "Module lab sessions count once the instructor who ran them records your attendance." in \
        results["H-LAB"].reason
    assert "A module is completed when its knowledge check is passed" in results["MODULES"].reason


def test_attendance_is_refused_past_the_modules_lab_time_and_for_a_module_without_a_lab(trainee):
    instructor = create_user("instructor", email="teacher@example.test")
    name_instructor(trainee, instructor)
    program = db.session.get(Program, "omr")
    m4, m3 = _module("M4"), _module("M3")
    lab = program.manifest["hour_breakdown"]["04-hygiene"]["lab_minutes"]
    record_attendance(instructor, AttendanceInput(m4.id, today() - timedelta(days=2), lab, [trainee.id], "Lab"),
                      program=program)
    with pytest.raises(ledger.LedgerError, match=f"more than the {lab} lab minutes of M4"):
        record_attendance(instructor, AttendanceInput(m4.id, today() - timedelta(days=1), 30, [trainee.id], "Lab"),
                          program=program)
    with pytest.raises(ledger.LedgerError, match="has an in-person lab"):
        record_attendance(instructor, AttendanceInput(m3.id, today() - timedelta(days=1), 30, [trainee.id], "Lab"),
                          program=program)


def test_an_instructor_records_attendance_through_the_page(ctx, client, program):
    trainee = create_trainee(email="learner@example.test")
    instructor = create_user("instructor", email="teacher@example.test", name="Tess Teacher")
    name_instructor(trainee, instructor)
    m1 = _module("M1")
    _login(client, "teacher@example.test")
    page = _text(_get(client, "/hours/attendance"))
    assert 'href="/hours/attendance"' in page and trainee.name in page

    day = (today() - timedelta(days=1)).isoformat()
    bad = _post(client, "/hours/attendance", {"module_id": m1.id, "session_date": day, "minutes": "999",
                                              "setting": "Lab", "attendees": [trainee.id]})
    assert bad.status_code == 422 and "at most 120 minutes" in _text(bad)
    assert _count(AttendanceSession) == 0
    ok = _post(client, "/hours/attendance", {"module_id": m1.id, "session_date": day, "minutes": "90",
                                             "setting": "Skills lab", "attendees": [trainee.id]},
               follow_redirects=True)
    assert "Attendance recorded: 1 attendee(s) credited 90 lab minutes of M1." in _text(ok)
    refresh()
    entry = db.session.execute(sa.select(HourEntry)).scalar_one()
    assert entry.attendance.instructor_id == instructor.id and entry.decisions[0].actor_id == instructor.id


def test_an_attendance_credit_is_corrected_by_a_new_linked_entry_never_edited(trainee):
    instructor = create_user("instructor", email="teacher@example.test")
    name_instructor(trainee, instructor)
    program = db.session.get(Program, "omr")
    day = today() - timedelta(days=2)
    session = record_attendance(instructor, AttendanceInput(_module("M6").id, day, 120, [trainee.id], "Lab"),
                                program=program)
    credit = session.credits[0]
    correction = ledger.submit_entry(trainee, enrollment_of(trainee), ledger.EntryInput(
        entry_date=day, minutes=90, category="lab_in_person", supervisor_id=instructor.id, setting="Lab",
        notes="The session ended early."), daily_cap_hours=program.daily_cap_hours, corrects=credit)
    ledger.decide(correction, "approved", actor=instructor)
    db.session.commit()
    refresh()
    original = db.session.get(HourEntry, credit.id)
    assert (original.minutes, original.status, original.attendance_id) == (120, "approved", session.id)
    assert credit.id in ledger.superseded_ids(trainee.id)
    assert _lab_minutes() == 90
