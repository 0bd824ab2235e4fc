"""Enrollment prerequisites, module pages and knowledge checks, through the web."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from lms.core.formatting import format_date
from lms.core.timeutil import today
from lms.extensions import db
from lms.training import operations
from lms.training.content import load_all
from lms.training.models import Enrollment, Module, ModuleCompletion, Program, QuizAttempt, QuizDraw
from tests.factories import PASSWORD, create_credential, create_profile, create_trainee, create_user, enrollment_of
from tests.factories import get_committed as _get
from tests.factories import post_committed as _post

SHIPPED = Path(__file__).resolve().parents[2] / "courses" / "omr"
ALL_PROFESSIONS = ("massage_therapist, dental_hygienist, dentist, dental_therapist, nurse, physical_therapist, "
                   "occupational_therapist, speech_language_pathologist, physician")


def _text(resp) -> str:
    return html.unescape(resp.get_data(as_text=True))


def _login(client, email):
    resp = _post(client, "/login", {"email": email, "password": PASSWORD})
    assert resp.status_code == 302, resp.status_code


def _count(model, **filters) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).filter_by(**filters))


def _load_variant(tmp_path, old: str, new: str) -> None:
    """Reload the program from a copy of courses/omr whose program.yaml has ``old`` replaced by ``new``."""
    root = tmp_path / "courses"
    shutil.copytree(SHIPPED, root / "omr")
    manifest = root / "omr" / "program.yaml"
    text = manifest.read_text(encoding="utf-8")
    assert text.count(old) == 1
    manifest.write_text(text.replace(old, new), encoding="utf-8")
    loaded, errors = load_all(root)
    assert errors == [] and loaded == ["omr"]
    db.session.commit()


# --- enrollment refusals -------------------------------------------------------------------------------------------


def _no_profile(email):
    user = create_user("trainee", email=email)
    create_credential(user)
    return user


def _no_credential(email):
    user = create_user("trainee", email=email)
    create_profile(user)
    return user


def _pending(email):
    user = _no_credential(email)
    create_credential(user, status="pending")
    return user


def _rejected(email):
    user = _no_credential(email)
    create_credential(user, status="rejected")  # the factory's rejection reason is "unreadable"
    return user


def _short_course(email):
    user = _no_credential(email)
    create_credential(user, hours=20)
    return user


REFUSALS = {
    "no_profile": (_no_profile, "Your provider profile is not complete.",
                   "Open your profile and enter your legal name, profession, license and jurisdiction."),
    "no_credential": (_no_credential, "No OMT foundation credential is on file.",
                      "Upload the certificate of an OMT course of at least 28 hours on your profile."),
    "pending": (_pending, "Your OMT credential is waiting for verification.",
                "An instructor or administrator will review it; you can enroll once it is verified."),
    "rejected": (_rejected, "Your OMT credential was rejected: unreadable.",
                 "Upload a corrected certificate on your profile."),
    "20_hours": (_short_course, "Your verified OMT course has 20 hours; the program needs at least 28.",
                 "Complete and upload an OMT course of at least 28 hours."),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_enrollment_is_refused_with_what_is_missing_and_how_to_fix_it(ctx, client, program, case):
    make, title, fix = REFUSALS[case]
    user = make(f"{case}@example.test")
    assert [(g.title, g.fix) for g in operations.prerequisite_gaps(user, program)] == [(title, fix)]
    _login(client, f"{case}@example.test")

    page = _text(_get(client, "/program"))
    assert title in page and fix in page
    assert "Enroll in Orofacial" not in page  # no enroll button while a gap remains

    resp = _post(client, "/program/enroll", follow_redirects=True)
    assert resp.status_code == 200
    assert "You cannot enroll yet. " + title in _text(resp)
    assert _count(Enrollment, user_id=user.id) == 0
    with pytest.raises(operations.EnrollmentError) as exc:
        operations.enroll(user, program)
    assert [g.title for g in exc.value.gaps] == [title]


def test_enrollment_is_refused_for_a_profession_the_program_excludes(ctx, client, program, tmp_path):
    _load_variant(tmp_path, ALL_PROFESSIONS, "massage_therapist, dental_hygienist, dentist")
    user = create_user("trainee", email="pt@example.test")
    create_profile(user, profession="physical_therapist")
    create_credential(user)
    _login(client, "pt@example.test")

    page = _text(_get(client, "/program"))
    assert "Physical therapist is not an eligible profession for this program." in page
    assert "The program is open to: Massage therapist, Dental hygienist, Dentist." in page

    resp = _post(client, "/program/enroll", follow_redirects=True)
    assert "You cannot enroll yet. Physical therapist is not an eligible profession" in _text(resp)
    assert _count(Enrollment, user_id=user.id) == 0

    # Under the shipped manifest the same trainee may enroll: the refusal came from the program's list.
    assert load_all(SHIPPED.parent) == (["omr"], [])
    db.session.commit()
    assert operations.prerequisite_gaps(user, db.session.get(Program, "omr")) == []
    assert _post(client, "/program/enroll").status_code == 302
    assert _count(Enrollment, user_id=user.id) == 1


def test_enrollment_records_date_program_version_and_standard_version(ctx, client, program):
    from lms.standards.models import StandardVersion

    user = create_trainee(email="new@example.test", enrolled=False)
    _login(client, "new@example.test")
    page = _text(_get(client, "/program"))
    assert "Every prerequisite holds." in page

    resp = _post(client, "/program/enroll", follow_redirects=True)

    assert "You are enrolled in Orofacial Massage & Rehabilitation." in _text(resp)
    enrollment = db.session.execute(sa.select(Enrollment).filter_by(user_id=user.id)).scalar_one()
    standard = db.session.execute(sa.select(StandardVersion).filter_by(program_id="omr")).scalar_one()
    assert enrollment.enrolled_on == today()
    assert enrollment.program_version == program.version == "2026.1"
    assert enrollment.standard_version_id == standard.id
    assert f"Enrolled on {format_date(today())} (program version 2026.1" in _text(resp).replace("</span>", "")


def test_enrolling_twice_keeps_one_enrollment(ctx, client, program):
    user = create_trainee(email="twice@example.test", enrolled=False)
    _login(client, "twice@example.test")
    assert _post(client, "/program/enroll").status_code == 302
    first = db.session.execute(sa.select(Enrollment.id).filter_by(user_id=user.id)).scalar_one()

    assert _post(client, "/program/enroll").status_code == 302
    assert operations.enroll(user, program).id == first

    assert db.session.execute(sa.select(Enrollment.id).filter_by(user_id=user.id)).scalars().all() == [first]


# --- module pages and knowledge checks -----------------------------------------------------------------------------


def _module(key="M1") -> Module:
    return db.session.execute(sa.select(Module).filter_by(program_id="omr", module_key=key)).scalar_one()


def _percent(correct: int, total: int) -> int:
    """The score shown to the trainee: a whole percentage, rounded."""
    return round(100 * correct / total)


def _just_passing(total: int, pass_mark: int = 80) -> int:
    """The fewest correct answers that reach the pass mark."""
    return next(k for k in range(total + 1) if _percent(k, total) >= pass_mark)


def _draw(user, module: Module) -> QuizDraw:
    """The trainee's newest draw for the module (the one the page shows)."""
    db.session.expire_all()
    return db.session.execute(
        sa.select(QuizDraw).join(Enrollment, Enrollment.id == QuizDraw.enrollment_id)
        .where(Enrollment.user_id == user.id, QuizDraw.module_id == module.id).order_by(QuizDraw.id.desc())
    ).scalars().first()


def _answers(client, user, module: Module, n_correct: int) -> dict[str, str]:
    """Open the check and answer the first ``n_correct`` displayed items right and the rest wrong, as the form
    posts them: the display position of the chosen choice, and the draw."""
    assert _get(client, f"/modules/{module.slug}").status_code == 200
    draw = _draw(user, module)
    data = {"draw": str(draw.id)}
    for i, it in enumerate(draw.items):
        right = it["order"].index(it["answer"])
        data[f"q-{it['id']}"] = str(right if i < n_correct else (right + 1) % len(it["order"]))
    return data


@pytest.fixture
def trainee(ctx, client, program):
    user = create_trainee(email="learner@example.test")
    _login(client, "learner@example.test")
    return user


def test_non_enrolled_trainee_is_redirected_from_module_pages(ctx, client, program):
    create_trainee(email="outside@example.test", enrolled=False)
    _login(client, "outside@example.test")
    m1 = _module()

    page = _get(client, "/modules/01-anatomy")
    assert page.status_code == 302 and page.headers["Location"].endswith("/program")
    check = _post(client, "/modules/01-anatomy/check", {"draw": "1", f"q-{m1.questions[0]['id']}": "0"})
    assert check.status_code == 302 and check.headers["Location"].endswith("/program")
    assert _count(QuizAttempt) == 0
    assert "Enroll in the program to read its modules." in _text(_get(client, "/program"))


def test_enrolled_trainee_reads_a_module_and_sees_a_drawn_check(trainee, client):
    m1 = _module()
    page = _get(client, "/modules/01-anatomy")
    assert page.status_code == 200
    text = _text(page)
    assert m1.title in text and m1.objectives[0] in text
    drawn = re.findall(r'name="q-([a-z0-9-]+)"', text)
    assert len(set(drawn)) == 7 and set(drawn) <= {q["id"] for q in m1.questions}
    assert _draw(trainee, m1).id and re.search(r'name="draw" value="\d+"', text)
    # Reopening before answering shows the same draw; nothing of the answers is in the page.
    assert re.findall(r'name="q-([a-z0-9-]+)"', _text(_get(client, "/modules/01-anatomy"))) == drawn
    assert _count(QuizDraw) == 1
    assert not any(q["explanation"] in text for q in m1.questions)


def test_knowledge_check_uses_the_pass_mark_of_the_shipped_program(trainee, client, program):
    m1 = _module()
    n = 7
    assert program.pass_mark == 80
    k_pass, k_fail = _just_passing(n), _just_passing(n) - 1
    online = float(operations.online_hours(m1))
    assert 0 < online < float(m1.didactic_hours)

    fail = _post(client, "/modules/01-anatomy/check", _answers(client, trainee, m1, k_fail), follow_redirects=True)
    assert f"You scored {_percent(k_fail, n)}%; the pass mark is 80%." in _text(fail)
    ok = _post(client, "/modules/01-anatomy/check", _answers(client, trainee, m1, k_pass), follow_redirects=True)
    assert f"You passed with {_percent(k_pass, n)}%. {online:g} online hours were credited." in _text(ok)

    attempts = db.session.execute(sa.select(QuizAttempt).order_by(QuizAttempt.id)).scalars().all()
    assert [(a.correct, a.total, a.score_percent, a.passed, a.number) for a in attempts] == [
        (k_fail, n, _percent(k_fail, n), False, 1), (k_pass, n, _percent(k_pass, n), True, 2)]


def test_knowledge_check_follows_a_changed_pass_mark(trainee, client, tmp_path):
    _load_variant(tmp_path, "pass_mark: 80 ", "pass_mark: 100 ")
    m1 = _module()
    k = _just_passing(7)
    score = _percent(k, 7)
    assert 80 <= score < 100

    resp = _post(client, "/modules/01-anatomy/check", _answers(client, trainee, m1, k), follow_redirects=True)

    assert f"You scored {score}%; the pass mark is 100%." in _text(resp)
    attempt = db.session.execute(sa.select(QuizAttempt)).scalar_one()
    assert (attempt.score_percent, attempt.passed) == (score, False)
    assert _count(ModuleCompletion) == 0


def test_every_attempt_is_stored_and_a_pass_credits_online_hours_once(trainee, client):
    m1 = _module()
    enrollment = enrollment_of(trainee)
    online = operations.online_hours(m1)

    first = _post(client, "/modules/01-anatomy/check", _answers(client, trainee, m1, 7), follow_redirects=True)
    second = _post(client, "/modules/01-anatomy/check", _answers(client, trainee, m1, 7), follow_redirects=True)

    assert f"You passed with 100%. {float(online):g} online hours were credited." in _text(first)
    assert "You passed with 100%. The module's online hours were already credited." in _text(second)
    assert _count(QuizAttempt, enrollment_id=enrollment.id, module_id=m1.id) == 2
    completion = db.session.execute(sa.select(ModuleCompletion)).scalar_one()
    # Only the reading and online activities: the lab minutes wait for an attendance record.
    parts = _program_manifest()["hour_breakdown"]["01-anatomy"]
    assert completion.hours_credited == online == round(
        (parts["reading_minutes"] + parts["activities_minutes"]) / 60, 2) < m1.didactic_hours
    first_attempt = min(db.session.execute(sa.select(QuizAttempt.id)).scalars())
    assert completion.attempt_id == first_attempt
    assert operations.progress(enrollment)["hours_credited"] == float(online) > 0

    # The domain call behaves the same: a further pass stores an attempt but credits nothing.
    draw = operations.open_draw(enrollment, m1)
    _, credited = operations.submit_knowledge_check(enrollment, m1, draw, {it["id"]: it["answer"] for it in draw.items},
                                                    actor=trainee)
    assert credited is False
    assert _count(ModuleCompletion) == 1 and _count(QuizAttempt) == 3


def _program_manifest() -> dict:
    return db.session.get(Program, "omr").manifest


def test_a_failed_check_is_stored_and_credits_nothing(trainee, client):
    m2 = _module("M2")
    resp = _post(client, "/modules/02-screening/check", _answers(client, trainee, m2, 0), follow_redirects=True)

    assert "You scored 0%" in _text(resp)
    attempt = db.session.execute(sa.select(QuizAttempt)).scalar_one()
    assert attempt.module_id == m2.id and attempt.passed is False and attempt.correct == 0
    assert set(attempt.answers) == {it["id"] for it in attempt.draw.items} and len(attempt.answers) == 7
    assert _count(ModuleCompletion) == 0
    assert operations.progress(enrollment_of(trainee))["hours_credited"] == 0


def test_missing_answers_are_refused_with_a_message_and_nothing_stored(trainee, client):
    m1 = _module()
    data = _answers(client, trainee, m1, 5)
    draw = _draw(trainee, m1)
    del data[f"q-{draw.items[1]['id']}"]
    del data[f"q-{draw.items[4]['id']}"]

    resp = _post(client, "/modules/01-anatomy/check", data)

    assert resp.status_code == 400
    assert "Answer every question before submitting (missing: 2, 5)." in _text(resp)
    assert _count(QuizAttempt) == 0 and _count(ModuleCompletion) == 0
    # The answers given stay selected, on the same draw.
    given = data[f"q-{draw.items[0]['id']}"]
    assert re.search(rf'name="q-{draw.items[0]["id"]}" value="{given}" checked', _text(resp))


@pytest.mark.parametrize("bad", ["4", "99", "-1", "two", "", "²", "1.0"])
def test_an_out_of_range_choice_counts_as_unanswered(trainee, client, bad):
    m1 = _module()
    data = _answers(client, trainee, m1, 5)
    draw = _draw(trainee, m1)
    assert len(draw.items[2]["order"]) == 4
    data[f"q-{draw.items[2]['id']}"] = bad

    resp = _post(client, "/modules/01-anatomy/check", data)

    assert resp.status_code == 400
    assert "(missing: 3)" in _text(resp)
    assert _count(QuizAttempt) == 0


def test_dashboard_and_program_page_show_progress(trainee, client):
    active = db.session.execute(sa.select(Module).filter_by(program_id="omr", is_active=True)).scalars().all()
    total_hours, n = sum(float(operations.online_hours(m)) for m in active), len(active)
    before = _text(_get(client, "/dashboard"))
    assert f"0 of {n} modules" in before and f"0 of {total_hours:g} h" in before

    for slug, key in (("01-anatomy", "M1"), ("04-hygiene", "M4")):
        m = _module(key)
        assert _post(client, f"/modules/{slug}/check", _answers(client, trainee, m, 7)).status_code == 302
    credited = float(operations.online_hours(_module("M1")) + operations.online_hours(_module("M4")))

    dashboard = _text(_get(client, "/dashboard"))
    assert f"2 of {n} modules" in dashboard
    assert f"{credited:g} of {total_hours:g} h" in dashboard
    program_page = _text(_get(client, "/program"))
    assert f"2 of {n} modules" in program_page
    assert len(re.findall(r'<span class="badge ok">Passed</span>', program_page)) == 2
