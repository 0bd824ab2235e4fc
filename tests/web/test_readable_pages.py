"""Pages read as words for people: one date format, times in the reader's zone, durations in hours and minutes,
requirement titles, and Apply explained when it cannot be used."""

from datetime import date, datetime

import pytest

from lms.core.formatting import format_date, format_datetime, format_hours, format_minutes, valid_zone
from lms.extensions import db
from tests.factories import create_trainee, create_user, page_text, post_committed, signed_in_client


def test_date_and_time_formats():
    assert format_date(date(2026, 11, 29)) == "29 Nov 2026"
    assert format_date(date(2026, 11, 29), "long") == "29 November 2026"
    assert format_date(datetime(2026, 3, 5, 23, 59)) == "5 Mar 2026"
    assert format_date(None) == ""
    # Stored times are naive UTC; the reader's zone moves the clock and the date, and is named.
    assert format_datetime(datetime(2026, 11, 29, 3, 5), "America/Toronto") == "28 Nov 2026, 22:05 EST"
    assert format_datetime(datetime(2026, 7, 1, 12, 0), "Europe/Paris") == "1 Jul 2026, 14:00 CEST"
    assert format_datetime(datetime(2026, 7, 1, 12, 0), None) == "1 Jul 2026, 12:00 UTC"
    assert format_hours(1) == "1 hour" and format_hours(0) == "0 hours" and format_hours(1.5) == "1.5 hours"
    assert format_minutes(90) == "1 h 30 min" and format_minutes(45) == "45 min" and format_minutes(120) == "2 h"
    assert valid_zone("America/Vancouver") and not valid_zone("Mars/Olympus") and not valid_zone("")
    assert not valid_zone("../../etc/passwd")


def test_time_zone_setting_is_validated_and_used(app, ctx):
    user = create_user("trainee", email="zone@example.test")
    db.session.commit()
    client = signed_in_client(app, "zone@example.test")
    page = page_text(client.get("/account"))
    assert '<option value="UTC" selected>' in page and "America/Toronto" in page

    bad = client.post("/account/time-zone", data={"time_zone": "Mars/Olympus"}, follow_redirects=True)
    assert "Choose a time zone from the list" in page_text(bad)
    db.session.refresh(user)
    assert user.time_zone == "UTC"

    ok = client.post("/account/time-zone", data={"time_zone": "America/Toronto"}, follow_redirects=True)
    assert "Times are now shown in America/Toronto." in page_text(ok)
    db.session.refresh(user)
    assert user.time_zone == "America/Toronto"


@pytest.fixture
def washington_trainee(ctx, program):
    user = create_trainee(jurisdiction="US-WA", email="wa@example.test")
    db.session.commit()
    return user


def test_dashboard_shows_titles_one_count_and_only_rules_that_apply(app, washington_trainee):
    client = signed_in_client(app, "wa@example.test")
    page = page_text(client.get("/dashboard"))
    assert "Ohio" not in page  # a Washington trainee never reads an Ohio rule
    assert "not applicable" not in page
    assert "MODULES" not in page and "H-LAB" not in page  # codes stay out of the words
    assert "All eleven program modules completed" in page
    import re

    summary = re.search(r"Not yet eligible: (\d+) of (\d+) certificate requirements still open", page)
    heading = re.search(r"Certificate requirements: (\d+) of (\d+) met", page)
    assert summary and heading
    open_count, total = int(summary.group(1)), int(summary.group(2))
    assert int(heading.group(2)) == total and int(heading.group(1)) == total - open_count  # one agreed count
    assert not re.search(r"\d{4}-\d{2}-\d{2}", page)  # no ISO dates on the page


def test_apply_is_disabled_with_the_reasons_listed(app, washington_trainee):
    client = signed_in_client(app, "wa@example.test")
    page = page_text(client.get("/certificates"))
    assert 'disabled aria-describedby="apply-why"' in page
    assert "You are not eligible yet. What to do next:" in page
    assert page.count("<li>") >= 3  # the next steps are a list, not one run-on line
    # The server refuses with the same reasons, shown as a list too.
    resp = post_committed(client, "/certificates/apply", follow_redirects=True)
    text = page_text(resp)
    assert '<div class="flash flash-error"><p>You are not eligible yet. What to do next:</p><ul><li>' in text


def test_apply_is_disabled_when_not_enrolled(app, ctx, program):
    create_trainee(enrolled=False, email="new@example.test")
    db.session.commit()
    page = page_text(signed_in_client(app, "new@example.test").get("/certificates"))
    assert "You are not enrolled in the program yet." in page and "disabled" in page


def test_after_passing_the_next_module_is_offered_and_the_dashboard_says_finished(app, ctx, program):
    from lms.demo import pass_modules
    from tests.factories import enrollment_of

    user = create_trainee(email="done@example.test")
    pass_modules(user, enrollment_of(user), program)
    db.session.commit()
    client = signed_in_client(app, "done@example.test")
    modules = program.modules
    first = page_text(client.get(f"/modules/{modules[0].slug}"))
    assert f"Next module: {modules[1].module_key}. {modules[1].title}" in first
    last = page_text(client.get(f"/modules/{modules[-1].slug}"))
    assert "This is the last module." in last and "Next module:" not in last
    dashboard = page_text(client.get("/dashboard"))
    assert "Every module is passed." in dashboard and "Continue the modules" not in dashboard


def test_admin_refusal_reads_as_a_short_list_of_titles(app, ctx, program):
    from datetime import timedelta

    from lms.certificates import applications
    from lms.providers.models import ProviderProfile
    from tests.web.test_certificates import qualified_trainee

    trainee = qualified_trainee()
    create_user("admin", email="boss@example.test")
    application = applications.apply(trainee, program_id="omr")
    # The CPR card lapses while the application waits.
    profile = db.session.execute(db.select(ProviderProfile).filter_by(user_id=trainee.id)).scalar_one()
    profile.cpr_expires_on = date.today() - timedelta(days=1)
    db.session.commit()

    admin = signed_in_client(app, "boss@example.test")
    resp = admin.post(f"/admin/applications/{application.id}", data={"decision": "approve"}, follow_redirects=True)
    text = page_text(resp)
    assert ('<div class="flash flash-error"><p>The trainee is no longer eligible. Still open:</p>'
            '<ul><li>Current CPR/BLS (in person)</li></ul></div>') in text
