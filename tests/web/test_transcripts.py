"""The trainee transcript: real PDF bytes (read back with pdftotext) and CSV, for the trainee and for admins."""

from __future__ import annotations

import csv
import io
import subprocess
from datetime import date

import pytest

from lms.extensions import db
from tests.factories import create_user
from tests.web.test_certificates import admin_user, client_for, issue, qualified_trainee


def pdftotext(data: bytes, tmp_path) -> str:
    path = tmp_path / "transcript.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


@pytest.fixture
def holder(ctx, program):
    trainee = qualified_trainee(email="harper@example.test", name="Harper Quinn Hygienist")
    cert = issue(trainee)
    admin_user()
    db.session.commit()
    return trainee, cert


def test_trainee_downloads_a_pdf_transcript_with_every_section(ctx, holder, tmp_path):
    trainee, cert = holder
    resp = client_for(ctx, "harper@example.test").get("/transcript.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert resp.data.startswith(b"%PDF-")
    assert "attachment" in resp.headers["Content-Disposition"]
    text = pdftotext(resp.data, tmp_path)
    assert "Training transcript" in text and "Harper Quinn Hygienist" in text
    for heading in ("Modules", "Hours by category", "Competency assessments", "Written exam", "OSCE stations",
                    "Certificates"):
        assert heading in text, heading
    assert "M1 " in text and "Completed" in text
    assert "Clinical, intraoral" in text and "Lab, in person" in text
    assert "C1 Health history" in text and "passed" in text
    assert cert.serial in text


def test_csv_transcript_has_a_row_per_line_and_matches_the_ledger(ctx, holder):
    from lms.hours.ledger import counted_minutes_by_category

    trainee, cert = holder
    resp = client_for(ctx, "harper@example.test").get("/transcript.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert set(rows[0]) == {"section", "item", "result", "hours", "date", "notes"}
    sections = {r["section"] for r in rows}
    assert {"Modules", "Hours by category", "Competency assessments", "Written exam", "OSCE stations",
            "Certificates"} <= sections
    exam = [r for r in rows if r["section"] == "Written exam"]
    assert exam and exam[-1]["result"].startswith("Passed,") and "pass mark" in exam[-1]["result"]
    stations = [r for r in rows if r["section"] == "OSCE stations"]
    assert len(stations) == 3 and all(r["result"].startswith("Passed") for r in stations)
    counted = counted_minutes_by_category(trainee.id)
    intraoral = next(r for r in rows if r["item"] == "Clinical, intraoral")
    assert float(intraoral["hours"]) == pytest.approx(counted["clinical_intraoral"] / 60)
    assert any(r["item"] == cert.serial and r["result"] == "Valid" for r in rows)


def test_a_trainee_without_records_still_gets_a_transcript(ctx, program, tmp_path):
    create_user("trainee", email="new@example.test", name="Nia New")
    db.session.commit()
    client = client_for(ctx, "new@example.test")
    text = pdftotext(client.get("/transcript.pdf").data, tmp_path)
    assert "Nia New" in text and "Hours by category" in text
    assert client.get("/transcript.txt").status_code == 404


def test_admin_gets_any_trainees_transcript_and_others_do_not(ctx, holder, tmp_path):
    trainee, _ = holder
    admin = client_for(ctx, "admin@example.test")
    text = pdftotext(admin.get(f"/admin/trainees/{trainee.id}/transcript.pdf").data, tmp_path)
    assert "Harper Quinn Hygienist" in text
    assert admin.get(f"/admin/trainees/{trainee.id}/transcript.csv").status_code == 200
    assert admin.get(f"/admin/trainees/{admin_user().id}/transcript.csv").status_code == 404  # not a trainee
    create_user("trainee", email="other@example.test", name="Other Trainee")
    db.session.commit()
    other = client_for(ctx, "other@example.test")
    assert other.get(f"/admin/trainees/{trainee.id}/transcript.csv").status_code == 403
    assert "Harper" not in other.get("/transcript.csv").get_data(as_text=True)  # their own only


def test_a_new_result_type_is_one_more_section(ctx, holder):
    from lms.transcripts import builder

    trainee, _ = holder

    def exam(subject):
        return builder.Section("exam", "Written exam", [builder.Row(item="Exam A", result="84%, passed")])

    builder.section(exam)
    try:
        csv_text = builder.to_csv(builder.build(trainee, "omr", date.today()))
    finally:
        builder.SECTIONS.remove(exam)
    assert "Written exam,Exam A,\"84%, passed\"" in csv_text
