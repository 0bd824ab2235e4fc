"""The certificates commands: ``flask certificates issue|revoke|list``."""

from __future__ import annotations

import contextvars
import json
from datetime import date

import sqlalchemy as sa

from lms.extensions import db
from tests.factories import create_trainee
from tests.web.test_certificates import SERIAL_RE, add_months, admin_user, client_for, qualified_trainee, refresh


def first_admin_id() -> int:
    from lms.auth.models import User

    return db.session.execute(sa.select(User.id).where(User.role == "admin", User.is_enabled.is_(True))
                              .order_by(User.id).limit(1)).scalar_one()


def cli(app, *args):
    """Run a command as the shell would: its own app context and session, and its own context variables (the
    commands set the SQLite write intent, which must not leak into the test's own transactions)."""

    def run():
        with app.app_context():
            return app.test_cli_runner().invoke(args=list(args))

    result = contextvars.copy_context().run(run)
    refresh()
    return result


def test_issue_prints_the_serial(ctx, program):
    from lms.certificates.models import Certificate

    qualified_trainee(email="harper@example.test")
    admin_user()
    db.session.commit()

    result = cli(ctx, "certificates", "issue", "Harper@Example.test")
    assert result.exit_code == 0, result.output
    serial = result.stdout.strip()
    assert SERIAL_RE.match(serial)
    cert = db.session.execute(sa.select(Certificate)).scalar_one()
    assert cert.serial == serial
    assert cert.issued_by_id == first_admin_id()  # commands act as the first enabled admin

    # Issuing again prints the same current certificate instead of creating another.
    again = cli(ctx, "certificates", "issue", "harper@example.test")
    assert again.exit_code == 0 and again.stdout.strip() == serial
    assert db.session.execute(sa.select(sa.func.count(Certificate.id))).scalar_one() == 1


def test_issue_refuses_an_ineligible_trainee_with_reasons(ctx, program):
    from lms.certificates.models import Certificate
    from lms.eligibility.service import decision_for

    trainee = create_trainee(email="early@example.test")
    admin_user()
    db.session.commit()
    unmet = [r for r in decision_for(trainee).decision.requirements if not r.met]

    result = cli(ctx, "certificates", "issue", "early@example.test")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("not eligible:")
    for requirement in unmet:
        assert f"{requirement.title}: {requirement.reason}" in result.stderr
    assert db.session.execute(sa.select(sa.func.count(Certificate.id))).scalar_one() == 0


def test_issue_for_an_unknown_email_or_without_an_admin_fails(ctx, program):
    from lms.auth.models import User

    qualified_trainee(email="harper@example.test")
    for admin in db.session.execute(sa.select(User).filter_by(role="admin")).scalars():
        admin.is_enabled = False  # the licence checker of the fixtures; commands need an enabled admin
    db.session.commit()
    no_admin = cli(ctx, "certificates", "issue", "harper@example.test")
    assert no_admin.exit_code == 1 and "create an admin account first" in no_admin.stderr
    admin_user()
    db.session.commit()
    unknown = cli(ctx, "certificates", "issue", "nobody@example.test")
    assert unknown.exit_code == 1 and "no trainee with email" in unknown.stderr


def test_revoke_then_every_path_says_revoked(ctx, program):
    from lms.certificates.models import Certificate
    from lms.core.audit import AuditEvent

    qualified_trainee(email="harper@example.test")
    admin_user()
    db.session.commit()
    serial = cli(ctx, "certificates", "issue", "harper@example.test").stdout.strip()

    missing_reason = cli(ctx, "certificates", "revoke", serial)
    assert missing_reason.exit_code != 0
    result = cli(ctx, "certificates", "revoke", serial.lower(), "--reason", "Licence lapsed")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"revoked {serial}"

    cert = db.session.execute(sa.select(Certificate).filter_by(serial=serial)).scalar_one()
    assert cert.revocation.reason == "Licence lapsed" and not cert.is_current
    audit = db.session.execute(sa.select(AuditEvent).filter_by(action="certificate.revoke")).scalars().all()
    assert [(a.object_id, a.details["reason"], a.actor_id) for a in audit] == [
        (serial, "Licence lapsed", first_admin_id())]

    client = client_for(ctx)
    assert client.get(f"/api/v1/certificates/{serial}").json["status"] == "revoked"
    page = client.get(f"/verify/{serial}").get_data(as_text=True)
    assert "Issued in error" in page and "Licence lapsed" not in page  # the public reason; the note is internal

    twice = cli(ctx, "certificates", "revoke", serial, "--reason", "Again")
    assert twice.exit_code == 1 and "already revoked" in twice.stderr
    unknown = cli(ctx, "certificates", "revoke", "OFM-00000-00000-00000", "--reason", "x")
    assert unknown.exit_code == 1 and "no certificate" in unknown.stderr

    # Revocation is sticky: a plain issue refuses and says how to reissue; nothing is written.
    plain = cli(ctx, "certificates", "issue", "harper@example.test")
    assert plain.exit_code == 1 and plain.stdout == ""
    assert f"{serial} was revoked on" in plain.stderr and "--reissue-revoked --reason" in plain.stderr
    no_reason = cli(ctx, "certificates", "issue", "harper@example.test", "--reissue-revoked")
    assert no_reason.exit_code == 1 and "needs --reason" in no_reason.stderr
    db.session.expire_all()
    assert db.session.execute(sa.select(sa.func.count()).select_from(Certificate)).scalar_one() == 1

    # An explicit reissue with a reason links the two records both ways; the old one stays revoked.
    reissue = cli(ctx, "certificates", "issue", "harper@example.test", "--reissue-revoked", "--reason",
                  "Licence renewed and checked")
    new_serial = reissue.stdout.strip()
    assert SERIAL_RE.match(new_serial) and new_serial != serial, reissue.output
    old_record = client.get(f"/api/v1/certificates/{serial}").json
    new_record = client.get(f"/api/v1/certificates/{new_serial}").json
    assert old_record["status"] == "revoked" and old_record["replaced_by"] == new_serial
    assert new_record["status"] == "active" and new_record["replaces"] == serial and new_record["replaced_by"] is None
    event = db.session.execute(sa.select(AuditEvent).filter_by(action="certificate.issue")
                               .order_by(AuditEvent.id.desc()).limit(1)).scalar_one()
    assert event.details["replaces"] == serial and event.details["reissue_reason"] == "Licence renewed and checked"


def test_list_json(ctx, program):
    from lms.certificates.issuing import issue_certificate, revoke
    from tests.web.test_certificates import expired_on

    admin = admin_user()
    harper = qualified_trainee(email="harper@example.test", name="Harper Quinn Hygienist")
    ezra = qualified_trainee(email="ezra@example.test", name="Ezra Expired")
    rowan = qualified_trainee(email="rowan@example.test", name="Rowan Revoked")
    active = issue_certificate(harper, actor=admin).certificate
    expired = issue_certificate(ezra, actor=admin, on=expired_on()).certificate
    revoked = issue_certificate(rowan, actor=admin).certificate
    revoke(revoked, actor=admin, reason="Issued in error")
    db.session.commit()

    result = cli(ctx, "certificates", "list", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["serial"], r["holder"], r["status"], r["issued_on"], r["expires_on"]) for r in rows] == [
        (active.serial, "Harper Quinn Hygienist", "active", date.today().isoformat(),
         add_months(date.today(), 24).isoformat()),
        (expired.serial, "Ezra Expired", "expired", expired_on().isoformat(), add_months(expired_on(), 24).isoformat()),
        (revoked.serial, "Rowan Revoked", "revoked", date.today().isoformat(),
         add_months(date.today(), 24).isoformat()),
    ]
    assert all(r["endorsements"] == ["extraoral", "intraoral"] for r in rows)

    plain = cli(ctx, "certificates", "list")
    assert plain.exit_code == 0
    assert [line.split()[:2] for line in plain.stdout.splitlines()] == [
        [active.serial, "active"], [expired.serial, "expired"], [revoked.serial, "revoked"]]


def test_list_json_is_an_empty_list_when_nothing_is_issued(ctx):
    result = cli(ctx, "certificates", "list", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout) == []
