"""`flask seed-scale` builds a realistic population through bulk inserts, and the decisions over it make sense."""

from lms.extensions import db


def test_seed_scale_builds_a_population_the_engine_can_judge(ctx, runner, program):
    result = runner.invoke(args=["seed-scale", "--trainees", "60"])
    assert result.exit_code == 0, result.output
    from lms.auth.models import User
    from lms.certificates.models import Certificate
    from lms.eligibility.service import decisions_for
    from lms.training.models import Enrollment

    trainees = db.session.execute(db.select(User.id).filter_by(role="trainee")).scalars().all()
    assert len(trainees) >= 60
    decisions = decisions_for(list(db.session.execute(db.select(Enrollment.user_id)).scalars()))
    eligible = [d for d in decisions if d.decision and d.decision.eligible]
    assert 0 < len(eligible) < len(decisions)  # a mix of finished and part-way trainees
    assert db.session.execute(db.select(db.func.count()).select_from(Certificate)).scalar_one() > 0
