"""The audit log: every consequential action is recorded with actor and UTC time, chained by hashes, append-only."""

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DatabaseError

from lms.core.audit import AuditEvent, record, verify_chain
from lms.extensions import db
from tests.factories import PASSWORD, create_user


def _events():
    return db.session.execute(sa.select(AuditEvent).order_by(AuditEvent.id)).scalars().all()


def test_sign_in_failures_and_account_creation_are_recorded(ctx, client):
    create_user("trainee", email="a@example.test")
    db.session.commit()
    client.post("/login", data={"email": "a@example.test", "password": "wrong password here"})
    client.post("/login", data={"email": "nobody@example.test", "password": "wrong password here"})
    client.post("/login", data={"email": "a@example.test", "password": PASSWORD})
    actions = [e.action for e in _events()]
    assert actions.count("auth.failure") == 2
    assert "auth.success" in actions and "user.create" in actions
    assert all(e.created_at is not None for e in _events())


def test_chain_verifies_and_cli_reports_ok(ctx, runner):
    for i in range(5):
        record("test.event", "thing", i, n=i)
    db.session.commit()
    assert verify_chain(db.session).ok
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "chain intact" in result.output


def test_database_refuses_to_change_or_delete_audit_rows(ctx):
    record("test.event", "thing", 1)
    db.session.commit()
    with pytest.raises(DatabaseError):
        db.session.execute(sa.text("UPDATE audit_events SET action = 'forged'"))
        db.session.flush()
    db.session.rollback()
    with pytest.raises(DatabaseError):
        db.session.execute(sa.text("DELETE FROM audit_events"))
        db.session.flush()
    db.session.rollback()
    assert len(_events()) == 1


def _drop_guards():
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("DROP TRIGGER audit_events_no_update ON audit_events"))
    else:
        db.session.execute(sa.text("DROP TRIGGER audit_events_no_update"))
        db.session.execute(sa.text("DROP TRIGGER audit_events_no_delete"))
    db.session.commit()


def _restore_guards():
    import importlib.util
    from pathlib import Path

    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    path = next(Path("migrations/versions").glob("*_audit_log_append_only.py"))
    spec = importlib.util.spec_from_file_location("audit_migration", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with db.engine.begin() as conn:
        ops = Operations(MigrationContext.configure(conn))
        module.op = ops
        module.upgrade()


@pytest.fixture
def guards_restored(ctx):
    yield
    db.session.rollback()
    _restore_guards()


@pytest.mark.parametrize("tamper", ["alter", "delete"])
def test_verify_reports_the_first_broken_link(ctx, runner, tamper, guards_restored):
    """Even someone able to bypass the database guard cannot alter history unnoticed."""
    for i in range(6):
        record("test.event", "thing", i, n=i)
    db.session.commit()
    ids = [e.id for e in _events()]
    _drop_guards()
    if tamper == "alter":
        db.session.execute(sa.text("UPDATE audit_events SET details = :d WHERE id = :id"),
                           {"d": '{"n": 99}', "id": ids[2]})
        expected = ids[2]
    else:
        db.session.execute(sa.text("DELETE FROM audit_events WHERE id = :id"), {"id": ids[3]})
        expected = ids[4]
    db.session.commit()
    report = verify_chain(db.session)
    assert not report.ok and report.broken_at == expected
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"event {expected}" in result.output
