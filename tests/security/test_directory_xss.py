"""Hostile text in directory listings is escaped in the page, kept inert in the map data, sent as plain JSON, and
printed literally in the PDF; unsafe website and phone values are refused."""

from __future__ import annotations

import subprocess

import pytest

from lms.extensions import db
from tests.web.test_certificates import client_for
from tests.web.test_directory import certified, list_in

PAYLOAD = '<script>alert("x")</script><img src=x onerror=alert(1)>'
ATTR_PAYLOAD = '" onmouseover="alert(1)'
FILE_PAYLOAD = '<img src="file:///etc/passwd">'


@pytest.fixture
def hostile(ctx, program):
    user = certified(PAYLOAD, email="hostile@example.test")
    list_in(user, "Vancouver, BC", practice_name=ATTR_PAYLOAD + PAYLOAD)
    db.session.commit()
    return user


def test_listing_fields_are_escaped_in_the_directory_page(hostile, client, make_app):
    for app_client in (client, make_app(DIRECTORY_TILE_URL="https://tiles.example.org/{z}/{x}/{y}.png").test_client()):
        page = app_client.get("/directory?near=Vancouver").get_data(as_text=True)
        assert "<script>alert" not in page and "<img src=x" not in page
        assert 'onmouseover="alert' not in page  # the attribute payload cannot break out of data-name / text
        assert "&lt;script&gt;" in page and "&#34; onmouseover=" in page


def test_listing_fields_are_plain_strings_in_the_api(hostile, client):
    resp = client.get("/api/v1/directory?near=Vancouver")
    assert resp.mimetype == "application/json"
    entry = resp.get_json()["results"][0]
    assert entry["name"] == PAYLOAD and entry["practice_name"].startswith(ATTR_PAYLOAD)


def test_listing_fields_print_as_text_in_the_pdf(ctx, program, client, tmp_path):
    user = certified(FILE_PAYLOAD, email="pdfhostile@example.test")
    list_in(user, "Vancouver, BC", practice_name=FILE_PAYLOAD)
    db.session.commit()
    resp = client.get("/directory/print.pdf?near=Vancouver")
    assert resp.status_code == 200
    pdf = tmp_path / "list.pdf"
    pdf.write_bytes(resp.data)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "<img" in text and "file:///etc/passwd" in text  # printed literally, never fetched
    assert "root:" not in text and b"root:x:" not in resp.data


@pytest.mark.parametrize(("field", "value"), [
    ("website", "javascript:alert(1)"), ("website", "data:text/html,<script>alert(1)</script>"),
    ("website", 'https://ok.example/"><script>alert(1)</script>'), ("phone", "<script>alert(1)</script>"),
    ("phone", "+1 604 555 0100\"><b>"),
])
def test_unsafe_website_and_phone_are_refused(ctx, program, app, field, value):
    from lms.directory.operations import listing_of

    user = certified("Safe Sam", email=f"{field}{len(value)}@example.test")
    db.session.commit()
    client = client_for(app, f"{field}{len(value)}@example.test")
    resp = client.post("/directory/listing", data={"listed": "y", "city": "Vancouver", field: value})
    assert resp.status_code == 400
    db.session.commit()
    assert listing_of(user.id) is None
