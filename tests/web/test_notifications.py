"""Notifications: each event reaches the right person only, in the app and by email through a real SMTP server;
preferences are honoured; a mail server that is down loses nothing; reminders are sent once."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from lms.extensions import db
from lms.notifications.delivery import deliver_pending
from lms.notifications.models import Notification, OutboxEmail, SentReminder
from tests.factories import PASSWORD, create_trainee, create_user, enrollment_of, page_text, signed_in_client
from tests.smtp import SmtpSink, forget_cached_user, free_port, mail_app, smtp  # noqa: F401 - fixtures


@pytest.fixture
def app(mail_app):  # noqa: F811
    return mail_app


def _deliver():
    db.session.commit()
    return deliver_pending()


def _notes(user) -> list[Notification]:
    return list(db.session.execute(sa.select(Notification).filter_by(user_id=user.id)).scalars())


def _entry(trainee, supervisor, minutes=60):
    from lms.hours.ledger import EntryInput, submit_entry

    return submit_entry(trainee, enrollment_of(trainee), EntryInput(
        entry_date=date.today() - timedelta(days=1), minutes=minutes, category="lab_in_person",
        supervisor_id=supervisor.id, setting="Skills lab"), daily_cap_hours=8)


def test_each_decision_reaches_its_trainee_only(ctx, program, smtp):  # noqa: F811
    from lms.hours.ledger import decide
    from lms.providers.operations import decide_omt_credential, submit_omt_credential
    from tests.factories import create_evidence

    instructor = create_user("instructor", email="ines@example.test")
    a = create_trainee(email="a@example.test")
    b = create_trainee(email="b@example.test")
    _deliver()
    smtp.clear()
    db.session.execute(sa.delete(Notification))
    db.session.commit()

    decide(_entry(a, instructor), "needs_info", actor=instructor, reason="Which techniques?")
    cred = submit_omt_credential(b, provider_name="OMT Academy", course_hours=Decimal(30),
                                 completed_on=date(2024, 1, 1), evidence=create_evidence(b))
    decide_omt_credential(cred, decision="rejected", reason="Unreadable scan", actor=instructor)
    report = _deliver()
    assert report.sent == 2 and report.failed == 0

    [note_a] = _notes(a)
    assert note_a.event == "hours.needs_info" and "Which techniques?" in note_a.body and note_a.link == "/hours/"
    [note_b] = _notes(b)
    assert note_b.event == "omt.rejected" and "Unreadable scan" in note_b.body
    assert _notes(instructor) == []
    [mail_a] = smtp.to("a@example.test")
    [mail_b] = smtp.to("b@example.test")
    assert "more information" in mail_a.subject and "Which techniques?" in mail_a.text and "Which techniques?" in \
        mail_a.html
    assert "rejected" in mail_b.subject
    assert smtp.to("ines@example.test") == []
    # Every email carries the one-click link to the recipient's preferences.
    assert "/notifications/preferences/" in mail_a.text and mail_a.message["List-Unsubscribe"]


def test_assessment_application_and_certificate_events(ctx, program, smtp):  # noqa: F811
    from lms.assessments.operations import ObservationInput, record_observation
    from lms.certificates.applications import apply, decide
    from lms.certificates.issuing import revoke
    from lms.standards.queries import current_version
    from tests.web.test_certificates import admin_user, qualified_trainee

    holder = qualified_trainee(email="harper@example.test")
    bystander = create_trainee(email="bystander@example.test")
    assessor = create_user("instructor", email="assessor@example.test")
    db.session.execute(sa.delete(Notification))
    db.session.execute(sa.delete(OutboxEmail))
    db.session.commit()

    record_observation(bystander, enrollment_of(bystander), current_version("omr"), ObservationInput(
        competency_id="C1", observed_on=date.today(), criteria_met=set(), critical_failure=False, level=2),
        actor=assessor)
    application = apply(holder, program_id="omr")
    decide(application, approve=True, actor=admin_user())
    cert = application.certificate_id
    from lms.certificates.models import Certificate

    revoke(db.session.get(Certificate, cert), actor=admin_user(), reason="Licence lapsed")
    _deliver()

    assert [n.event for n in _notes(bystander)] == ["assessment.recorded"]
    assert sorted(n.event for n in _notes(holder)) == ["application.approved", "certificate.issued",
                                                       "certificate.revoked"]
    assert _notes(assessor) == [] and _notes(admin_user()) == []
    assert len(smtp.to("bystander@example.test")) == 1
    subjects = sorted(m.subject for m in smtp.to("harper@example.test"))
    assert subjects == ["Your certificate application was approved", "Your certificate was issued",
                        "Your certificate was revoked"]
    revoked_mail = [m for m in smtp.to("harper@example.test") if "revoked" in m.subject][0].text
    assert "Issued in error" in revoked_mail and "Licence lapsed" not in revoked_mail  # the public reason only
    assert {r for m in smtp.messages for r in m.rcpt} == {"bystander@example.test", "harper@example.test"}


def test_preferences_from_the_email_link_are_honoured_and_security_stays_on(ctx, client, program, smtp):  # noqa: F811
    from lms.hours.ledger import decide

    instructor = create_user("instructor")
    trainee = create_trainee(email="pat@example.test")
    _deliver()
    smtp.clear()
    decide(_entry(trainee, instructor), "approved", actor=instructor)
    _deliver()
    [mail] = smtp.to("pat@example.test")
    link = mail.link("/notifications/preferences/").split("localhost", 1)[1]
    assert client.get(link).status_code == 200  # no sign-in needed
    # Hours: in the app only. Every other category left unticked (off); security cannot be switched off.
    assert client.post(link, data={"hours-app": "on"}).status_code == 302
    smtp.clear()
    decide(_entry(trainee, instructor, 30), "approved", actor=instructor)
    decide(_entry(trainee, instructor, 45), "rejected", actor=instructor, reason="Duplicate")
    _deliver()
    assert smtp.to("pat@example.test") == []
    assert [n.event for n in _notes(trainee)].count("hours.approved") == 2
    signed = signed_in_client(ctx, "pat@example.test")
    new = "a-brand-new-passphrase-42"
    assert signed.post("/account", data={"current": PASSWORD, "password": new, "confirm": new}).status_code == 302
    _deliver()
    [notice] = smtp.to("pat@example.test")
    assert "password was changed" in notice.subject
    assert client.get("/notifications/preferences/not-a-valid-token").status_code == 404


def test_notifications_page_unread_count_and_opening(ctx, program):
    from lms.hours.ledger import decide

    instructor = create_user("instructor")
    trainee = create_trainee(email="pat@example.test")
    other = create_trainee(email="other@example.test")
    db.session.execute(sa.delete(Notification))
    decide(_entry(trainee, instructor), "approved", actor=instructor)
    decide(_entry(other, instructor), "approved", actor=instructor)
    db.session.commit()
    client = signed_in_client(ctx, "pat@example.test")
    page = page_text(client.get("/notifications"))
    assert "Your hours were approved" in page and '<span class="badge">1<span class="visually-hidden"> unread' in page
    mine = _notes(trainee)[0]
    theirs = _notes(other)[0]
    assert client.post(f"/notifications/{theirs.id}/open").status_code == 404
    resp = client.post(f"/notifications/{mine.id}/open")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/hours/")
    assert "unread" not in page_text(client.get("/notifications"))
    db.session.expire_all()
    assert db.session.get(Notification, theirs.id).read_at is None


def test_a_down_mail_server_fails_nothing_and_loses_nothing(make_app):
    from lms.notifications.delivery import backoff

    port = free_port()  # nothing listens here yet
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_DELIVER_AFTER_REQUEST=False)
    forget_cached_user(app)
    with app.app_context():
        create_user(email="pat@example.test")
        create_user("admin", email="root@example.test")
        db.session.commit()
    client = app.test_client()
    resp = client.post("/forgot-password", data={"email": "pat@example.test"})
    assert resp.status_code == 302  # the user's action succeeded
    with app.app_context():
        report = deliver_pending()
        assert (report.sent, report.failed) == (0, 1)
        row = db.session.execute(sa.select(OutboxEmail)).scalar_one()
        assert row.status == "pending" and row.attempts == 1 and "Connection refused" in row.last_error
        assert row.next_attempt_at >= row.last_attempt_at + backoff(1) - timedelta(seconds=1)
        row_id, retry_at = row.id, row.next_attempt_at
        assert deliver_pending().sent == 0  # not due again before the backoff
    admin = signed_in_client(app, "root@example.test")
    assert "Connection refused" in page_text(admin.get("/notifications/outbox"))

    sink = SmtpSink(port).start()
    try:
        with app.app_context():
            report = deliver_pending(now=retry_at + timedelta(seconds=1))
            assert report.sent == 1
            row = db.session.get(OutboxEmail, row_id)
            assert row.status == "sent" and row.attempts == 2 and row.last_error is None
        [mail] = sink.to("pat@example.test")
        assert "/reset-password/" in mail.text
    finally:
        sink.stop()
    assert "Connection refused" not in page_text(admin.get("/notifications/outbox"))


def test_mail_leaves_after_the_response_without_anyone_calling_delivery(make_app, smtp):  # noqa: F811
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    with app.app_context():
        create_user(email="pat@example.test")
        db.session.commit()
    resp = app.test_client().post("/forgot-password", data={"email": "pat@example.test"}, buffered=True)
    assert resp.status_code == 302
    resp.close()
    [mail] = smtp.to("pat@example.test")
    assert mail.html and mail.text


def test_without_a_mail_server_messages_are_written_as_eml_files(make_app, tmp_path):
    import email
    import email.policy

    app = make_app(INSTANCE_PATH=tmp_path / "dev-instance")
    with app.app_context():
        create_user(email="pat@example.test")
        db.session.commit()
    assert app.test_client().post("/forgot-password", data={"email": "pat@example.test"},
                                  buffered=True).status_code == 302
    [eml] = list((tmp_path / "dev-instance" / "outbox").glob("*.eml"))
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert msg["To"] == "pat@example.test"
    assert {p.get_content_type() for p in msg.walk()} >= {"text/plain", "text/html"}


# --- Reminders -------------------------------------------------------------------------------------------------------


def test_reminders_at_90_60_and_30_days_once_each(ctx, program, smtp, runner):  # noqa: F811
    from tests.web.test_certificates import issue, qualified_trainee

    holder = qualified_trainee(email="harper@example.test")
    cert = issue(holder)
    db.session.execute(sa.delete(OutboxEmail))
    db.session.commit()
    smtp.clear()

    def run(day: date) -> str:
        result = runner.invoke(args=["notifications", "send-due", "--on", day.isoformat()])
        assert result.exit_code == 0, result.output
        return result.output

    assert "0 reminder(s)" in run(cert.expires_on - timedelta(days=91))
    out = run(cert.expires_on - timedelta(days=90))
    assert "expiry: 1" in out and "renewal window: 1" in out and "CE short: 1" in out
    assert "0 reminder(s)" in run(cert.expires_on - timedelta(days=75))
    assert "expiry: 1" in run(cert.expires_on - timedelta(days=60))
    assert "0 reminder(s)" in run(cert.expires_on - timedelta(days=60))
    assert "expiry: 1" in run(cert.expires_on - timedelta(days=30))
    subjects = [m.subject for m in smtp.to("harper@example.test")]
    assert subjects.count("Your certificate expires in 90 days") == 1
    assert subjects.count("Your certificate expires in 60 days") == 1
    assert subjects.count("Your certificate expires in 30 days") == 1
    assert {r for m in smtp.messages for r in m.rcpt} == {"harper@example.test"}
    db.session.expire_all()
    assert db.session.execute(sa.select(sa.func.count(SentReminder.id))).scalar_one() == 7


def test_agreement_expiring_reminder(ctx, program, smtp):  # noqa: F811
    from lms.notifications.reminders import send_due
    from lms.screening.operations import AgreementInput, decide_agreement, submit_agreement
    from tests.factories import create_evidence

    trainee = create_trainee(email="mt@example.test")
    agreement = submit_agreement(trainee, AgreementInput(
        dentist_name="Dr. Riley Park", dentist_profession="dentist", dentist_license="DDS-1",
        dentist_jurisdiction="US-OR", valid_from=date(2026, 1, 1), valid_until=date(2027, 1, 31)),
        create_evidence(trainee, "agreement"))
    decide_agreement(agreement, "verified", actor=create_user("admin"))
    _deliver()
    smtp.clear()
    assert sum(send_due(date(2026, 12, 31)).values()) == 0
    assert send_due(date(2027, 1, 1))["agreement expiring"] == 1
    assert sum(send_due(date(2027, 1, 20)).values()) == 0
    _deliver()
    [mail] = smtp.to("mt@example.test")
    assert "agreement is expiring" in mail.subject and "2027-01-31" in mail.text


def test_demo_hygienist_gets_an_expiry_reminder_once(ctx, runner, smtp):  # noqa: F811
    """The acceptance check: after `make run` seeds the demo, send-due on a date inside the 60-day window reminds the
    demo hygienist, and a second run with the same date sends nothing."""
    from lms.certificates.models import Certificate

    assert runner.invoke(args=["courses", "load"]).exit_code == 0
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    db.session.expire_all()
    events = db.session.execute(sa.select(Notification.event)).scalars().all()
    assert events == [], events  # the demo is history: nobody is notified of it
    from lms.auth.models import User

    cert = db.session.execute(sa.select(Certificate).join(User, User.id == Certificate.trainee_id).where(
        Certificate.is_current.is_(True), User.email == "hygienist@orocert.test")).scalar_one()
    day = cert.expires_on - timedelta(days=60)  # 2028-10-01 when the demo is seeded on 2026-11-30
    first = runner.invoke(args=["notifications", "send-due", "--on", day.isoformat()])
    assert first.exit_code == 0 and "expiry: 3" in first.output, first.output
    assert any("expires in 60 days" in m.subject for m in smtp.to("hygienist@orocert.test"))
    # Only holders whose certificate expires in 60 days are reminded (the demo directory's providers were certified
    # the same day as the hygienist).
    holders = set(db.session.execute(sa.select(User.email).join(Certificate, Certificate.trainee_id == User.id)
                                      .where(Certificate.expires_on == cert.expires_on)).scalars())
    assert "hygienist@orocert.test" in {r for m in smtp.messages for r in m.rcpt} <= holders
    count = len(smtp.messages)
    second = runner.invoke(args=["notifications", "send-due", "--on", day.isoformat()])
    assert second.exit_code == 0 and "0 reminder(s)" in second.output and "0 sent" in second.output
    assert len(smtp.messages) == count
    deliver = runner.invoke(args=["notifications", "deliver"])
    assert deliver.exit_code == 0 and "0 sent, 0 failed" in deliver.output


def test_a_message_that_gave_up_waits_for_the_admin_and_retry_now_sends_it(make_app):
    port = free_port()
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_DELIVER_AFTER_REQUEST=False, MAIL_MAX_ATTEMPTS=1)
    forget_cached_user(app)
    with app.app_context():
        create_user(email="pat@example.test")
        create_user("admin", email="root@example.test")
        db.session.commit()
    assert app.test_client().post("/forgot-password", data={"email": "pat@example.test"}).status_code == 302
    with app.app_context():
        assert deliver_pending().failed == 1
        row = db.session.execute(sa.select(OutboxEmail)).scalar_one()
        row_id = row.id
        assert row.status == "failed"
        assert deliver_pending(now=row.next_attempt_at + timedelta(days=1)).sent == 0  # given up: no more retries
    admin = signed_in_client(app, "root@example.test")
    assert "given up" in page_text(admin.get("/notifications/outbox"))
    trainee = signed_in_client(app, "pat@example.test")
    assert trainee.post(f"/notifications/outbox/{row_id}/retry").status_code == 403
    sink = SmtpSink(port).start()
    try:
        resp = admin.post(f"/notifications/outbox/{row_id}/retry", follow_redirects=True)
        assert "1 sent, 0 failed" in page_text(resp)
        assert len(sink.to("pat@example.test")) == 1
    finally:
        sink.stop()


def test_email_parts_escape_what_people_typed(ctx):
    from lms.notifications.operations import render_email

    text, html = render_email("Subject", ["Reason given: <script>alert(1)</script> & more"],
                              action_url="http://localhost/hours/", action="Open", preferences_url=None)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html
    assert "<script>alert(1)</script> & more" in text  # plain text stays as typed
