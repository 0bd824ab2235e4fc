"""A cohort's decisions are each trainee's own decision.

The cohort evaluation prepares each standard version once and shares it (``engine.Plan``) across thousands of
trainees, and reads every trainee's records in one query per record kind. Nothing of one trainee may leak into
another's decision: for a varied cohort (the demo personas and a seeded population, on two standard versions, in
English and in French), every decision of the batch is byte for byte the decision worked out for that trainee alone,
and the one the plain engine gives from the same facts.
"""

from __future__ import annotations

import json
from dataclasses import replace

import sqlalchemy as sa

from lms.extensions import db
from tests.factories import create_user


def _changed_standard(app, tmp_path):
    """The shipped standard as a new version whose C6 needs six observations instead of five."""
    text = (app.config["COURSES_DIR"] / "omr" / "standard.yaml").read_text(encoding="utf-8")
    anchor = text.index("id: C6")
    at = text.index("observations: 5", anchor)
    text = text[:at] + "observations: 6" + text[at + len("observations: 5"):]
    text = text.replace('version: "0.5.1"', 'version: "0.6.0"', 1)
    path = tmp_path / "standard-0.6.0.yaml"
    path.write_text(text, encoding="utf-8")
    return path


RECORDS = ("hours", "observations", "agreements", "credits", "exam_sittings", "osce_results", "cases")


def _unordered(facts):
    """The facts with each kind of record in a fixed order: the engine never depends on the order records come in,
    and PostgreSQL returns rows without an ORDER BY in any order."""
    return replace(facts, **{name: tuple(sorted(getattr(facts, name), key=repr)) for name in RECORDS})


def _as_text(td) -> str:
    d = td.decision.to_dict() if td.decision else None
    return json.dumps([d, td.standard.id if td.standard else None], sort_keys=True, default=str)


def test_cohort_decisions_are_each_trainees_own_decision(app, ctx, runner, program, tmp_path):
    from lms.auth.models import User
    from lms.demo import seed
    from lms.eligibility.engine import evaluate
    from lms.eligibility.service import _rules, attestations_for, decision_for, decisions_for
    from lms.standards.models import StandardVersion
    from lms.standards.operations import load_standard, move_enrollment
    from lms.training.models import Enrollment

    seed()
    db.session.commit()
    result = runner.invoke(args=["seed-scale", "--trainees", "40"])
    assert result.exit_code == 0, result.output
    v2, _created = load_standard(_changed_standard(app, tmp_path))
    admin = create_user("admin", email="mover@cohort.test")
    enrollments = db.session.execute(sa.select(Enrollment).order_by(Enrollment.id)).scalars().all()
    for enrollment in enrollments[::3]:
        move_enrollment(enrollment, v2, actor=admin, reason="Cohort moved to the new version by the board")
    db.session.commit()

    ids = list(db.session.execute(sa.select(User.id).filter_by(role="trainee").order_by(User.id)).scalars())
    rules = _rules()
    for lang in ("en", "fr"):
        with app.test_request_context(f"/?lang={lang}"):
            cohort = decisions_for(ids)
            assert [td.user.id for td in cohort] == ids
            for td in cohort:
                alone = decision_for(db.session.get(User, td.user.id))
                assert _unordered(alone.facts) == _unordered(td.facts), td.user.email
                assert _as_text(alone) == _as_text(td), td.user.email
                if td.decision is not None:
                    plain = evaluate(td.standard.data, td.facts, rules.rules, attestations_for(td.facts, rules))
                    assert plain.to_dict() == td.decision.to_dict(), td.user.email
            db.session.commit()

    # The cohort really was varied: both versions, eligible and not, enrolled and not, several professions and places.
    versions = {td.standard.id for td in cohort if td.standard}
    assert versions == set(db.session.execute(sa.select(StandardVersion.id)).scalars()) and len(versions) == 2
    decided = [td for td in cohort if td.decision]
    assert {td.decision.eligible for td in decided} == {True, False}
    assert any(td.decision is None for td in cohort)
    assert len({td.facts.profession for td in decided}) >= 4 and len({td.facts.jurisdiction for td in decided}) >= 3
    assert any(td.decision.notices for td in decided)
    c6 = {td.standard.id: r.progress for td in decided for r in td.decision.requirements if r.id == "C6"}
    assert "of 6 passing" in c6[v2.id] and "of 5 passing" in c6[min(versions - {v2.id})]
