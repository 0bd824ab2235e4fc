"""Edges of the verification helpers boards rely on: the expiry day, bulk CSV parsing, last-name matching, and what
the verification log records for a bulk check (who asked, what, and how many of each status)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

import lms.models  # noqa: F401 - every model, so the mappers configure
from lms.certificates.models import Certificate
from lms.certificates.verification import MAX_BULK_ROWS, BulkError, bulk_verify, parse_bulk_csv, results_csv, status_of
from lms.extensions import db
from tests.factories import create_user


def test_a_certificate_is_active_on_its_last_day_and_expired_the_day_after():
    last = date(2027, 3, 31)
    cert = Certificate(expires_on=last)
    assert status_of(cert, last - timedelta(days=1)) == "active"
    assert status_of(cert, last) == "active"
    assert status_of(cert, last + timedelta(days=1)) == "expired"


def test_parse_keeps_going_after_a_blank_line():
    text = "OFM-AAAAA-AAAAA-AAAAA,Park\n\n   ,  \nOFM-BBBBB-BBBBB-BBBBB\r\nOFM-CCCCC-CCCCC-CCCCC, Lee \r\n"
    assert parse_bulk_csv(text) == [("OFM-AAAAA-AAAAA-AAAAA", "Park"), ("OFM-BBBBB-BBBBB-BBBBB", ""),
                                    ("OFM-CCCCC-CCCCC-CCCCC", "Lee")]


def test_old_mac_line_endings_and_quoted_line_breaks_are_read():
    assert parse_bulk_csv("A1,Park\rB2,Lee\r") == [("A1", "Park"), ("B2", "Lee")]
    assert parse_bulk_csv('A1,"Park\r\nLee"\r\nB2\r\n') == [("A1", "Park\nLee"), ("B2", "")]


@pytest.mark.parametrize("header", ["serial", "Certificate", "certificate serial", " SERIAL "])
def test_an_optional_header_row_is_skipped_only_as_the_first_row(header):
    assert parse_bulk_csv(f"{header},last name\nX1,Park\n") == [("X1", "Park")]
    assert parse_bulk_csv(f"X1,Park\n{header},Lee\n") == [("X1", "Park"), (header.strip(), "Lee")]


def test_cells_are_trimmed_and_cut_to_length():
    (serial, last), = parse_bulk_csv(("S" * 80) + "," + ("N" * 300) + ",ignored\n")
    assert serial == "S" * 64 and last == "N" * 200


def test_exactly_the_row_limit_is_accepted_and_one_more_refused():
    rows = "\n".join(f"OFM-{i:05d}" for i in range(MAX_BULK_ROWS))
    assert MAX_BULK_ROWS == 5000
    assert len(parse_bulk_csv(rows)) == 5000
    assert len(parse_bulk_csv("serial\n" + rows + "\n\n")) == 5000  # a header and blank lines are not rows
    with pytest.raises(BulkError, match="At most 5000 rows per request."):
        parse_bulk_csv(rows + "\nOFM-LAST")
    assert len(parse_bulk_csv("a\nb\nc", max_rows=3)) == 3
    with pytest.raises(BulkError, match="At most 2 rows"):
        parse_bulk_csv("a\nb\nc", max_rows=2)


@pytest.mark.parametrize("text", ["", "\n\n", " , \n", "serial\n"])
def test_no_serials_is_a_clear_error(text):
    with pytest.raises(BulkError, match="The file has no serials"):
        parse_bulk_csv(text)


def test_a_file_that_is_not_csv_is_a_clear_error():
    with pytest.raises(BulkError, match="The file is not valid CSV"):
        parse_bulk_csv("OFM-1," + "x" * 200_000)  # one field past the csv module's limit


def test_results_csv_defuses_spreadsheet_formulas():
    out = results_csv([{"input": p + "x", "status": "unknown"} for p in ("=", "+", "-", "@", "\t", "\r", "a")])
    inputs = [line.split(",")[0] for line in out.strip("\r\n").split("\r\n")[1:]]
    assert out.startswith("input,serial,status,holder_name,endorsements,expires_on,name_match,message")
    assert inputs[:4] == ["'=x", "'+x", "'-x", "'@x"]
    assert inputs[-1] == "ax"
    assert out.strip("\r\n").split("\r\n")[-1] == "ax,,unknown,,,,,"  # missing fields are empty, never "None"
    assert "'\tx" in out and "'\rx" in out


def _certificate(name: str, expires_on: date | None = None) -> Certificate:
    """A certificate row as issuing stores it, without the slow rendering and signing: these tests read
    certificates, they do not issue them (issuance has its own tests)."""
    import secrets

    from lms.certificates.serials import new_serial
    from lms.standards.queries import current_version
    from tests.web.test_certificates import admin_user

    user = create_user("trainee", name=name)
    expires_on = expires_on or date.today() + timedelta(days=700)
    cert = Certificate(
        serial=new_serial(), trainee_id=user.id, program_id="omr", standard_version_id=current_version("omr").id,
        is_current=True, holder_name=name, profession="dental_hygienist", license_number="LIC-1",
        jurisdiction="CA-BC", endorsements=["extraoral", "intraoral"], issued_on=expires_on - timedelta(days=730),
        expires_on=expires_on, evidence={}, design="classic", pdf_sha256="0" * 64, pdf_bytes=b"",
        status_index=secrets.randbelow(2**20), issued_by_id=admin_user().id)
    db.session.add(cert)
    db.session.flush()
    return cert


@pytest.fixture
def holders(ctx, program):
    from lms.certificates.issuing import revoke
    from tests.web.test_certificates import admin_user

    active = _certificate("Avery Jo Active")
    revoked = _certificate("Rowan Revoked")
    revoke(revoked, actor=admin_user(), reason="Licence suspended by the board")
    expired = _certificate("Ezra Expired", expires_on=date.today() - timedelta(days=1))
    db.session.commit()
    return {"active": active, "revoked": revoked, "expired": expired}


def test_bulk_matches_the_last_of_several_names_and_logs_who_asked_and_the_counts(ctx, holders):
    """A holder with a middle name matches on the last name only; the log row says who asked and how many of each."""
    from lms.certificates.models import VerificationEvent

    active, revoked = holders["active"], holders["revoked"]
    board = create_user("board", email="bulk-board@example.test")
    db.session.commit()
    assert status_of(active, active.expires_on) == "active"
    assert status_of(active, active.expires_on + timedelta(days=1)) == "expired"
    assert status_of(revoked, revoked.expires_on - timedelta(days=1)) == "revoked"
    rows = [(active.serial.lower(), " ACTIVE "), (active.serial, "Jo"), (active.serial, "Avery Jo Active"),
            (active.serial, ""), (revoked.serial, "Revoked"), ("OFM-00000-00000-00000", "Nobody"),
            ("not a serial", "")]
    results = bulk_verify(rows, board_user=board)
    assert [(r["serial"], r["status"], r["name_match"]) for r in results] == [
        (active.serial, "active", "yes"), (active.serial, "active", "no"), (active.serial, "active", "no"),
        (active.serial, "active", ""), (revoked.serial, "revoked", "yes"), ("OFM-00000-00000-00000", "unknown", ""),
        ("", "unknown", ""),
    ]
    assert results[0]["message"] == "Active."
    assert results[1]["message"] == "Active. The last name does not match the holder."
    # The public reason is the revocation's category; the internal note never reaches a board.
    assert results[4]["message"] == f"Revoked on {revoked.revocation.revoked_on.isoformat()}: Issued in error."
    assert "Licence susp" not in results[4]["message"]
    assert results[5] == {"input": "OFM-00000-00000-00000", "serial": "OFM-00000-00000-00000", "status": "unknown",
                          "holder_name": "", "endorsements": "", "expires_on": "", "name_match": "",
                          "message": "No certificate with this serial."}
    assert results[6]["message"] == "Not a valid serial."
    assert results[0]["holder_name"] == "Avery Jo Active" and results[5]["holder_name"] == ""
    assert results[0]["expires_on"] == active.expires_on.isoformat() and results[0]["input"] == rows[0][0]
    assert results[0]["endorsements"] == " ".join(active.endorsements)

    db.session.commit()
    (entry,) = db.session.execute(sa.select(VerificationEvent)).scalars().all()
    assert (entry.method, entry.result, entry.board_user_id) == ("bulk", "bulk", board.id)
    assert entry.query == "7 serials" and entry.certificate_id is None
    assert entry.serials == [active.serial] * 4 + [revoked.serial, "OFM-00000-00000-00000", "not a serial"]
    assert entry.results == {"active": 4, "revoked": 1, "unknown": 2}

    # An expired certificate says since when; a mismatched last name is added to that message.
    lapsed = holders["expired"]
    (gone,) = bulk_verify([(lapsed.serial, "Smith")], board_user=board)
    assert (gone["status"], gone["name_match"]) == ("expired", "no")
    assert gone["message"] == (f"Expired on {lapsed.expires_on.isoformat()}. "
                               "The last name does not match the holder.")

    # Through the API with a key: the method and the key's organisation are logged.
    bulk_verify([(active.serial, "")], method="api-bulk", organisation="Oregon Board")
    db.session.commit()
    latest = db.session.execute(sa.select(VerificationEvent).order_by(VerificationEvent.id.desc())).scalars().first()
    assert (latest.method, latest.organisation, latest.board_user_id) == ("api-bulk", "Oregon Board", None)
    assert latest.results == {"active": 1} and latest.query == "1 serials"
