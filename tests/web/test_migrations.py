"""The schema comes only from the migrations, on SQLite and PostgreSQL alike, and matches the models exactly."""

import sqlalchemy as sa

from lms.extensions import db


def test_db_check_reports_no_drift(app, runner):
    result = runner.invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output


def test_db_check_detects_drift(app, runner):
    """The check above can fail: a model change without a migration is reported."""
    table = db.metadata.tables["users"]
    extra = sa.Column("drift_probe", sa.Integer)
    table.append_column(extra)
    try:
        result = runner.invoke(args=["db", "check"])
    finally:
        table._columns.remove(extra)
    assert result.exit_code != 0


def test_every_model_table_exists_after_upgrade(app):
    with app.app_context():
        tables = set(sa.inspect(db.engine).get_table_names())
    assert {t.name for t in db.metadata.sorted_tables} <= tables
    assert "alembic_version" in tables


def test_one_current_certificate_index_is_partial_and_unique(app):
    with app.app_context():
        indexes = {ix["name"]: ix for ix in sa.inspect(db.engine).get_indexes("certificates")}
        cols = {c["name"]: c for c in sa.inspect(db.engine).get_columns("certificates")}
    ix = indexes["uq_certificates_one_current"]
    assert ix["unique"] and ix["column_names"] == ["trainee_id", "program_id"]
    assert all(not cols[c]["nullable"] for c in ("trainee_id", "program_id", "is_current", "serial", "status_index"))
