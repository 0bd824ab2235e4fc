"""Backups: an online SQLite backup restores every record, and every certificate still verifies afterwards."""

from datetime import date

import pytest
import sqlalchemy as sa

from lms.extensions import db

pytestmark = pytest.mark.sqlite_only


def _counts():
    return {t.name: db.session.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in db.metadata.sorted_tables}


def test_backup_and_restore_round_trip(ctx, runner, program, tmp_path):
    from lms.certificates.verification import verify_pdf
    from lms.demo import seed

    seed()
    db.session.commit()
    before = _counts()
    from lms.certificates.models import Certificate

    pdfs = {c.serial: c.pdf_bytes for c in db.session.execute(sa.select(Certificate)).scalars()}
    assert pdfs
    target = tmp_path / "backup" / "orocert.db"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert target.exists()

    # Damage the live database after the backup: a lost certificate and a lost user.
    db.session.execute(sa.text("DELETE FROM report_exports"))
    db.session.execute(sa.text("UPDATE certificates SET holder_name = 'Tampered'"))
    db.session.commit()
    db.session.remove()

    result = runner.invoke(args=["restore", str(target), "--yes"])
    assert result.exit_code == 0, result.output
    assert _counts() == before
    for serial, pdf in pdfs.items():
        check = verify_pdf(pdf)
        assert check.genuine and check.serial == serial, check.reason
    names = set(db.session.execute(sa.select(Certificate.holder_name)).scalars())
    assert "Tampered" not in names
    assert date.today()


def test_restore_refuses_a_file_that_is_not_a_backup(ctx, runner, tmp_path):
    bogus = tmp_path / "bogus.db"
    import sqlite3

    sqlite3.connect(bogus).execute("CREATE TABLE x (a)").connection.close()
    result = runner.invoke(args=["restore", str(bogus), "--yes"])
    assert result.exit_code == 1
    assert "not an OroCert backup" in result.output
