"""The certification standard file: `flask standard check/load`, versions, pinning and explicit moves."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from lms.extensions import db
from lms.standards.models import StandardMove, StandardVersion
from tests.factories import PASSWORD, create_trainee, create_user, enrollment_of

SHIPPED = Path(__file__).resolve().parents[2] / "courses" / "omr" / "standard.yaml"
C6_OBSERVATIONS = "    observations: 5            # [A] highest-risk competency\n"




def _shipped_text() -> str:
    text = SHIPPED.read_text(encoding="utf-8")
    assert C6_OBSERVATIONS in text and 'version: "0.5.1"' in text
    return text


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _changed_copy(tmp_path: Path, *, version: str | None = "0.6.0") -> Path:
    """The shipped standard with C6 needing 6 observations (and, unless version is None, a new version)."""
    text = _shipped_text().replace(C6_OBSERVATIONS, C6_OBSERVATIONS.replace("5", "6", 1))
    if version:
        text = text.replace('version: "0.5.1"', f'version: "{version}"', 1)
    return _write(tmp_path, f"standard-{version or 'same'}.yaml", text)


def _line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


def _versions() -> list[StandardVersion]:
    return list(db.session.execute(sa.select(StandardVersion).order_by(StandardVersion.id)).scalars())


def _client(app, email):
    client = app.test_client()
    resp = client.post("/login", data={"email": email, "password": PASSWORD})
    assert resp.status_code == 302, resp.data[:500]
    return client


# --------------------------------------------------------------------------- flask standard check


def test_check_shipped_standard_exits_zero_with_summary(runner):
    result = runner.invoke(args=["standard", "check", str(SHIPPED)])
    assert result.exit_code == 0, result.output
    assert "[omr-c 0.5.1]" in result.output
    assert "program omr" in result.output
    assert re.search(r"competencies: 10 \(\d+ criteria, \d+ critical\)", result.output)
    assert "endorsements: extraoral, intraoral (requires extraoral)" in result.output
    assert "jurisdiction rules enforced: wa-mt-intraoral-endorsement" in result.output


@pytest.mark.parametrize(
    ("case", "old", "new", "expect"),
    [
        ("bad-yaml", "title: Orofacial Massage & Rehabilitation Certification Standard (OMR-C)", "title: [unclosed",
         "YAML syntax error"),
        ("unknown-type", "    type: profession\n", "    type: wizardry\n", "unknown rule type 'wizardry'"),
        ("bad-level", "required_level: 4 ", "required_level: 9 ", "9 is above the maximum of 5"),
    ],
)
def test_check_broken_copy_exits_one_with_path_line_messages(runner, tmp_path, case, old, new, expect):
    text = _shipped_text()
    assert old in text
    broken = text.replace(old, new, 1)
    path = _write(tmp_path, f"{case}.yaml", broken)

    result = runner.invoke(args=["standard", "check", str(path)])

    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines, "expected at least one error line"
    pattern = re.compile(rf"^{re.escape(str(path))}:(\d+): \S.*$")
    for line in lines:
        assert pattern.match(line), line
    hit = next(line for line in lines if expect in line)
    # The error points at the line that was broken (a YAML error may be reported on the next line).
    reported = int(pattern.match(hit).group(1))
    broken_line = _line_of(broken, new.strip())
    assert broken_line <= reported <= broken_line + 1
    assert "[omr-c" not in result.output  # no summary for a broken file


def test_check_missing_file_exits_one(runner, tmp_path):
    missing = tmp_path / "nope.yaml"
    result = runner.invoke(args=["standard", "check", str(missing)])
    assert result.exit_code == 1
    assert f"{missing}:1: file not found" in result.output


# --------------------------------------------------------------------------- versions


def test_loading_the_shipped_standard_twice_keeps_one_version(ctx, runner, program):
    assert len(_versions()) == 1
    result = runner.invoke(args=["standard", "load", str(SHIPPED)])
    assert result.exit_code == 0, result.output
    assert "omr-c v0.5.1: unchanged" in result.output
    result = runner.invoke(args=["courses", "load"])
    assert result.exit_code == 0, result.output
    assert "standard omr-c v0.5.1: unchanged" in result.output
    db.session.expire_all()
    assert len(_versions()) == 1


def test_layout_and_comment_changes_are_not_a_new_version(ctx, runner, program, tmp_path):
    text = _shipped_text().replace("# OroCert default certification standard", "# Reworded heading comment", 1)
    path = _write(tmp_path, "comments.yaml", text + "\n# trailing comment\n")
    result = runner.invoke(args=["standard", "load", str(path)])
    assert result.exit_code == 0, result.output
    assert "unchanged" in result.output
    assert len(_versions()) == 1


def test_changed_copy_with_new_version_creates_second_version(ctx, runner, program, tmp_path):
    first = _versions()[0]
    first_data = dict(first.data)
    path = _changed_copy(tmp_path)

    result = runner.invoke(args=["standard", "load", str(path)])

    assert result.exit_code == 0, result.output
    assert "omr-c v0.6.0: new version loaded" in result.output
    db.session.expire_all()
    versions = _versions()
    assert [(v.standard_key, v.version) for v in versions] == [("omr-c", "0.5.1"), ("omr-c", "0.6.0")]
    old, new = versions
    assert old.id == first.id and old.data == first_data and old.digest != new.digest
    c6 = {v.version: next(c for c in v.data["competencies"] if c["id"] == "C6")["observations"] for v in versions}
    assert c6 == {"0.5.1": 5, "0.6.0": 6}
    assert new.source_path == str(path)
    from lms.core.audit import AuditEvent

    events = db.session.execute(sa.select(AuditEvent).filter_by(action="standard.load")).scalars().all()
    assert [e.details["version"] for e in events] == ["0.5.1", "0.6.0"]
    # Loading the same changed file again is a no-op.
    again = runner.invoke(args=["standard", "load", str(path)])
    assert again.exit_code == 0 and "unchanged" in again.output
    assert len(_versions()) == 2


def test_changed_file_with_same_version_is_refused(ctx, runner, program, tmp_path):
    path = _changed_copy(tmp_path, version=None)
    result = runner.invoke(args=["standard", "load", str(path)])
    assert result.exit_code == 1
    assert f"{path}:1: the file changed but its version is still 0.5.1" in result.output
    assert "give the changed standard a new version" in result.output
    db.session.expire_all()
    assert len(_versions()) == 1


def test_load_refuses_an_invalid_file_and_loads_nothing(ctx, runner, program, tmp_path):
    text = _shipped_text().replace('version: "0.5.1"', 'version: "0.7.0"', 1).replace(
        "    type: profession\n", "    type: wizardry\n", 1)
    path = _write(tmp_path, "invalid.yaml", text)
    result = runner.invoke(args=["standard", "load", str(path)])
    assert result.exit_code == 1
    assert re.search(rf"{re.escape(str(path))}:\d+: .*unknown rule type 'wizardry'", result.output)
    db.session.expire_all()
    assert len(_versions()) == 1


# --------------------------------------------------------------------------- pinning and explicit moves


def _c6_passes(trainee, enrollment, standard, assessors):
    """Five passing C6 observations by two assessors on three cases (enough under 0.5.1, not under 0.6.0)."""
    from lms.assessments.operations import ObservationInput, record_observation

    comp = next(c for c in standard.data["competencies"] if c["id"] == "C6")
    for i in range(5):
        record_observation(trainee, enrollment, standard, ObservationInput(
            competency_id="C6", observed_on=date.today() - timedelta(days=10 - i),
            criteria_met={c["id"] for c in comp["criteria"]}, critical_failure=False, level=4,
            case_code=f"K{i % 3 + 1}"), actor=assessors[i % 2])


def _c6(user):
    from lms.eligibility.service import decision_for

    td = decision_for(user)
    return td, next(r for r in td.decision.requirements if r.id == "C6")


def test_enrollment_stays_pinned_and_admin_moves_it_explicitly(ctx, app, runner, program, tmp_path):
    from lms.core.audit import AuditEvent

    admin = create_user("admin", email="admin@std.test")
    assessors = [create_user("instructor"), create_user("instructor", profession="dentist")]
    early = create_trainee(email="early@std.test")
    db.session.commit()
    v1 = _versions()[0]
    assert enrollment_of(early).standard_version_id == v1.id

    result = runner.invoke(args=["standard", "load", str(_changed_copy(tmp_path))])
    assert result.exit_code == 0, result.output
    v2 = _versions()[1]
    late = create_trainee(email="late@std.test")
    db.session.commit()
    assert enrollment_of(early).standard_version_id == v1.id  # the new version did not move anyone
    assert enrollment_of(late).standard_version_id == v2.id

    _c6_passes(early, enrollment_of(early), v1, assessors)
    _c6_passes(late, enrollment_of(late), v2, assessors)
    db.session.commit()

    td, c6 = _c6(early)
    assert td.standard.id == v1.id
    assert c6.met and c6.progress.startswith("C6 Intraoral massage technique: 5 of 5 passing observations")
    td_late, c6_late = _c6(late)
    assert td_late.standard.id == v2.id
    assert not c6_late.met and "5 of 6 passing observations" in c6_late.progress

    enrollment_id = enrollment_of(early).id
    url = f"/admin/enrollments/{enrollment_id}/standard"

    # Non-admins are refused outright.
    for who in (assessors[0].email, early.email):
        resp = _client(app, who).post(url, data={"version_id": v2.id, "reason": "try"})
        assert resp.status_code == 403
    # Anonymous visitors are sent to sign in.
    assert app.test_client().post(url, data={"version_id": v2.id, "reason": "x"}).status_code in (302, 401)

    admin_client = _client(app, admin.email)
    resp = admin_client.post(url, data={"version_id": v2.id, "reason": "  "}, follow_redirects=True)
    assert resp.status_code == 200
    assert b"Give a reason for the move." in resp.data
    db.session.expire_all()
    assert enrollment_of(early).standard_version_id == v1.id
    assert db.session.execute(sa.select(sa.func.count()).select_from(StandardMove)).scalar_one() == 0

    resp = admin_client.post(url, data={"version_id": v2.id, "reason": "Cohort moved to OMR-C 0.6.0 by the board"},
                             follow_redirects=True)
    assert resp.status_code == 200
    assert b"Enrollment moved to omr-c v0.6.0." in resp.data
    assert b"Cohort moved to OMR-C 0.6.0 by the board" in resp.data  # the move is listed on the admin page

    db.session.expire_all()
    assert enrollment_of(early).standard_version_id == v2.id
    move = db.session.execute(sa.select(StandardMove)).scalar_one()
    assert (move.enrollment_id, move.from_version_id, move.to_version_id, move.actor_id) == (
        enrollment_id, v1.id, v2.id, admin.id)
    assert move.reason == "Cohort moved to OMR-C 0.6.0 by the board"
    event = db.session.execute(sa.select(AuditEvent).filter_by(action="standard.move")).scalar_one()
    assert event.actor_id == admin.id and event.object_id == str(enrollment_id)
    assert event.details["reason"] == move.reason and event.details["to"] == v2.id and event.details["frm"] == v1.id

    # The decision now follows the new numbers.
    td, c6 = _c6(early)
    assert td.standard.id == v2.id
    assert not c6.met and "5 of 6 passing observations" in c6.progress

    # Moving to the version it already follows is refused, and nothing more is recorded.
    resp = admin_client.post(url, data={"version_id": v2.id, "reason": "again"}, follow_redirects=True)
    assert b"already follows that version" in resp.data
    db.session.expire_all()
    assert db.session.execute(sa.select(sa.func.count()).select_from(StandardMove)).scalar_one() == 1


def test_admin_standards_page_lists_every_version(ctx, app, runner, program, tmp_path):
    admin = create_user("admin", email="admin2@std.test")
    db.session.commit()
    assert runner.invoke(args=["standard", "load", str(_changed_copy(tmp_path))]).exit_code == 0
    page = _client(app, admin.email).get("/admin/standards")
    assert page.status_code == 200
    assert b"0.5.1" in page.data and b"0.6.0" in page.data
