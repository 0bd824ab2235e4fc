"""Flask commands: ``flask --app lms <group> <command>``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from lms.core.database import set_write_intent
from lms.extensions import db


def _fail(message: str, code: int = 1):
    click.echo(message, err=True)
    sys.exit(code)


users_cli = AppGroup("users", help="Manage accounts.")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(["trainee", "instructor", "board", "admin"]))
@click.option("--profession", default=None, help="Profession key (instructors), e.g. dentist.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def users_create(email, name, role, profession, password):
    """Create an account."""
    from lms.auth.operations import AccountError, create_user

    set_write_intent(True)
    try:
        user = create_user(email=email, name=name, role=role, password=password, profession=profession,
                           verified=True)  # created by an operator, who vouches for the address
    except AccountError as exc:
        db.session.rollback()
        _fail(f"error: {exc}")
    db.session.commit()
    click.echo(f"created {user.role} {user.email} (id {user.id})")


courses_cli = AppGroup("courses", help="Course content.")


@courses_cli.command("load")
@click.option("--path", "path", default=None, help="Courses folder (default: the configured courses/).")
def courses_load(path):
    """Load or update every program under courses/ (all or nothing), then its standard."""
    from lms.standards.operations import StandardLoadError, load_standard
    from lms.training.content import load_all

    set_write_intent(True)
    root = Path(path) if path else Path(current_app.config["COURSES_DIR"])
    warnings: list = []
    loaded, errors = load_all(root, warnings)
    for w in warnings:
        click.echo(f"warning: {w} (module in revision)", err=True)
    if errors:
        db.session.rollback()
        for e in errors:
            click.echo(str(e), err=True)
        _fail(f"{len(errors)} error(s); nothing was loaded.")
    for program_id in loaded:
        std = root / program_id / "standard.yaml"
        if std.exists():
            try:
                version, created = load_standard(std)
            except StandardLoadError as exc:
                db.session.rollback()
                _fail(str(exc))
            click.echo(f"standard {version.label}: {'new version loaded' if created else 'unchanged'}")
    db.session.commit()
    click.echo(f"loaded programs: {', '.join(loaded) or 'none'}")


standard_cli = AppGroup("standard", help="Certification standards.")


@standard_cli.command("check")
@click.argument("path", type=click.Path(dir_okay=False))
def standard_check(path):
    """Validate a standard file: path:line: message per error (exit 1), or a summary (exit 0)."""
    from lms.standards.validation import check_standard_file, summarize

    if not Path(path).exists():
        _fail(f"{path}:1: file not found")
    data, errors = check_standard_file(path)
    if errors:
        for e in errors:
            click.echo(str(e))
        sys.exit(1)
    click.echo(summarize(data))


@standard_cli.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def standard_load(path):
    """Load a standard file; a changed file becomes a new version."""
    from lms.standards.operations import StandardLoadError, load_standard

    set_write_intent(True)
    try:
        version, created = load_standard(Path(path))
    except StandardLoadError as exc:
        db.session.rollback()
        _fail(str(exc))
    db.session.commit()
    click.echo(f"{version.label}: {'new version loaded' if created else 'unchanged'}")


@click.command("eligibility")
@click.argument("email", required=False)
@click.option("--all", "all_", is_flag=True, help="Every enrolled trainee.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def eligibility(email, all_, as_json):
    """Explain a trainee's certification decision."""
    from lms.auth.models import User
    from lms.eligibility.service import decisions_for
    from lms.training.models import Enrollment

    if all_:
        ids = list(db.session.execute(sa.select(Enrollment.user_id).order_by(Enrollment.user_id)).scalars())
    elif email:
        user = db.session.execute(sa.select(User).filter_by(email=email.strip().lower())).scalar_one_or_none()
        if user is None:
            _fail(f"error: no account with email {email}")
        ids = [user.id]
    else:
        _fail("error: give an EMAIL or --all")
    results = decisions_for(ids)
    if not results:
        _fail("error: no enrolled trainees")
    if as_json:
        payload = [r.to_dict() for r in results]
        click.echo(json.dumps(payload if all_ else payload[0], indent=2))
        return
    for r in results:
        d = r.to_dict()
        click.echo(f"{d['trainee']['name']} <{d['trainee']['email']}> — {d['summary']}")
        click.echo(f"  eligible: {'yes' if d['eligible'] else 'no'}; endorsements: "
                   f"{', '.join(d['endorsements']) or 'none'}")
        for req in d["requirements"]:
            mark = "✔" if req["met"] else "✘"
            click.echo(f"  {mark} [{req['scope']}] {req['title']}: {req['progress']}"
                       + ("" if req["met"] else f" — {req['reason']}"))
        for n in d["notices"]:
            click.echo(f"  notice: {n}")


certificates_cli = AppGroup("certificates", help="Issue, revoke and list certificates.")


@certificates_cli.command("issue")
@click.argument("email")
@click.option("--reissue-revoked", is_flag=True,
              help="The trainee's last certificate was revoked: issue a replacement (needs --reason).")
@click.option("--reason", default=None, help="Why the certificate is reissued after its revocation.")
def certificates_issue(email, reissue_revoked, reason):
    """Issue a certificate to an eligible trainee; prints the serial.

    Revocation is sticky: after a revocation a new certificate is issued only with --reissue-revoked --reason TEXT,
    and it records which revoked certificate it replaces."""
    from lms.auth.models import User
    from lms.certificates.issuing import NotEligible, ReissueRefused, issue_certificate

    set_write_intent(True)
    user = db.session.execute(sa.select(User).filter_by(email=email.strip().lower())).scalar_one_or_none()
    if user is None or user.role != "trainee":
        _fail(f"error: no trainee with email {email}")
    admin = _system_actor()
    if reissue_revoked and not (reason or "").strip():
        _fail("error: --reissue-revoked needs --reason TEXT (why the holder is certified again)")
    try:
        result = issue_certificate(user, actor=admin, reissue_reason=reason if reissue_revoked else None)
    except NotEligible as exc:
        db.session.rollback()
        if exc.decision is None and not isinstance(exc, ReissueRefused):
            _fail(f"not eligible: {exc}")
        if isinstance(exc, ReissueRefused):
            _fail(f"refused: {exc}" + ("" if reissue_revoked else " Use --reissue-revoked --reason TEXT."))
        lines = [f"not eligible: {exc}"]
        if exc.decision:
            lines += [f"  ✘ {r.title}: {r.reason}" for r in exc.decision.requirements if not r.met]
        _fail("\n".join(lines))
    db.session.commit()
    click.echo(result.certificate.serial)


@certificates_cli.command("revoke")
@click.argument("serial")
@click.option("--reason", required=True, help="Internal note for administrators; never published.")
@click.option("--category", default="issued_in_error", show_default=True,
              type=click.Choice(["issued_in_error", "requirements_not_met", "misconduct", "holder_request",
                                 "superseded"]),
              help="The public reason (shown with the revocation); misconduct and requirements_not_met block any "
                   "reissue until cleared.")
def certificates_revoke(serial, reason, category):
    """Revoke a certificate with a reason."""
    from lms.certificates.issuing import RevocationError, revoke
    from lms.certificates.verification import find

    set_write_intent(True)
    cert = find(serial)
    if cert is None:
        _fail(f"error: no certificate {serial}")
    try:
        revoke(cert, actor=_system_actor(), reason=reason, category=category)
    except RevocationError as exc:
        db.session.rollback()
        _fail(f"error: {exc}")
    db.session.commit()
    click.echo(f"revoked {cert.serial}")


@certificates_cli.command("clear-revocation")
@click.argument("serial")
@click.option("--reason", required=True, help="Why the holder may be certified again.")
def certificates_clear_revocation(serial, reason):
    """Let a certificate revoked for misconduct or unmet requirements be reissued (the revocation stays)."""
    from lms.certificates.issuing import RevocationError, clear_revocation
    from lms.certificates.verification import find

    set_write_intent(True)
    cert = find(serial)
    if cert is None:
        _fail(f"error: no certificate {serial}")
    try:
        clear_revocation(cert, actor=_system_actor(), reason=reason)
    except RevocationError as exc:
        db.session.rollback()
        _fail(f"error: {exc}")
    db.session.commit()
    click.echo(f"cleared {cert.serial} for reissue")


@certificates_cli.command("list")
@click.option("--json", "as_json", is_flag=True)
def certificates_list(as_json):
    """List serial, holder, status and dates."""
    from sqlalchemy.orm import selectinload

    from lms.certificates.models import Certificate
    from lms.certificates.verification import status_of

    certs = db.session.execute(sa.select(Certificate).options(selectinload(Certificate.revocation))
                               .order_by(Certificate.id)).scalars().all()
    rows = [{"serial": c.serial, "holder": c.holder_name, "status": status_of(c), "issued_on": c.issued_on.isoformat(),
             "expires_on": c.expires_on.isoformat(), "endorsements": c.endorsements} for c in certs]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        click.echo(f"{r['serial']}  {r['status']:<8} {r['issued_on']} → {r['expires_on']}  {r['holder']}")


def _system_actor():
    """The admin account commands act as (the first enabled admin)."""
    from lms.auth.models import User

    admin = db.session.execute(sa.select(User).where(User.role == "admin", User.is_enabled.is_(True))
                               .order_by(User.id).limit(1)).scalar_one_or_none()
    if admin is None:
        _fail("error: create an admin account first (flask --app lms users create --role admin ...)")
    return admin


audit_cli = AppGroup("audit", help="The audit log.")


@audit_cli.command("verify")
def audit_verify():
    """Check the audit log's hash chain; exit 1 at the first broken link."""
    from lms.core.audit import verify_chain

    report = verify_chain(db.session)
    click.echo(report.message)
    if not report.ok:
        sys.exit(1)


@click.command("seed-demo")
def seed_demo():
    """Create demo accounts and trainees in different states (idempotent). Refused in production."""
    from lms.demo import seed

    if current_app.config.get("PRODUCTION"):
        # The demo accounts have published passwords (admin@orocert.test among them).
        raise click.ClickException("seed-demo is refused in production: the demo accounts have published passwords.")

    set_write_intent(True)
    lines = seed()
    db.session.commit()
    for line in lines:
        click.echo(line)


def register(app) -> None:
    for group in (users_cli, courses_cli, standard_cli, certificates_cli, audit_cli):
        app.cli.add_command(group)
    app.cli.add_command(eligibility)
    from lms.exams.cli import exams_cli

    app.cli.add_command(exams_cli)
    app.cli.add_command(seed_demo)
    from lms.cases.cli import outcomes_cmd

    app.cli.add_command(outcomes_cmd)
    from lms.scale import seed_scale
    app.cli.add_command(seed_scale)
    register_maintenance(app)
    from lms.jobs.worker import register as register_jobs

    register_jobs(app)


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
def backup_cmd(path):
    """Back up the SQLite database (online, consistent) and the evidence files to PATH."""
    from lms.core.backup import BackupError, backup

    db.session.remove()
    try:
        out = backup(current_app.config["SQLALCHEMY_DATABASE_URI"], current_app.config["INSTANCE_PATH"], Path(path))
    except BackupError as exc:
        _fail(f"error: {exc}")
    click.echo(f"backed up to {out}")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_cmd(path, yes):
    """Replace the SQLite database with the backup at PATH."""
    from lms.core.backup import BackupError, restore

    if not yes:
        click.confirm("This replaces the current database. Continue?", abort=True)
    db.session.remove()
    db.engine.dispose()
    try:
        out = restore(current_app.config["SQLALCHEMY_DATABASE_URI"], current_app.config["INSTANCE_PATH"], Path(path))
    except BackupError as exc:
        _fail(f"error: {exc}")
    db.engine.dispose()
    click.echo(f"restored {out}")


def register_maintenance(app) -> None:
    app.cli.add_command(backup_cmd)
    app.cli.add_command(restore_cmd)


@certificates_cli.command("issue-cohort")
@click.argument("program")
@click.option("--batch-size", type=click.IntRange(min=1), default=20, help="Trainees per queued job.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Issue at most this many certificates.")
def certificates_issue_cohort(program, batch_size, limit):
    """Issue certificates to every eligible trainee of PROGRAM without a current one (on the job queue's workers
    when REDIS_URL is set, in this process otherwise)."""
    from lms.certificates.cohort import issue_cohort

    try:
        result = issue_cohort(program, actor=_system_actor(), limit=limit, echo=click.echo, batch_size=batch_size)
    except ValueError as exc:
        db.session.rollback()
        _fail(f"error: {exc}")
    for trainee_id, why in result.skipped:
        click.echo(f"  skipped trainee {trainee_id}: {why}")
    click.echo(result.summary())
