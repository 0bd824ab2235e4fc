"""Course diagrams: the safety check on SVG files, the references in module Markdown, and serving them inline."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from lms.training.content import load_program_dir, render_markdown
from lms.training.diagrams import REFERENCE, check_references, check_svg
from tests.factories import PASSWORD, create_trainee, create_user
from tests.factories import get_committed as _get
from tests.factories import post_committed as _post

COURSES = Path(__file__).resolve().parents[2] / "courses"
DIAGRAMS = COURSES / "omr" / "diagrams"
SHIPPED = sorted(DIAGRAMS.glob("*.svg"))

GOOD = (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" role="img">'
        b"<title>A box</title><desc>One square box.</desc><rect x='1' y='1' width='8' height='8'/></svg>")


def _svg(inner: str, root_attrs: str = 'role="img"') -> bytes:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" {root_attrs}>'
            f"<title>T</title><desc>D</desc>{inner}</svg>").encode()


# --------------------------------------------------------------------------- the shipped files


def test_three_original_diagrams_ship():
    assert {p.stem for p in SHIPPED} == {"muscles-of-mastication", "intraoral-landmarks", "screening-flow"}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_diagram_is_safe_and_described(path):
    data = path.read_bytes()
    assert check_svg(data) == []
    text = data.decode()
    title = re.search(r"<title[^>]*>([^<]+)</title>", text).group(1)
    desc = re.search(r"<desc[^>]*>([^<]+)</desc>", text).group(1)
    assert len(title.split()) >= 4 and len(desc.split()) >= 30
    assert "<script" not in text.lower() and "href" not in text.lower()


def test_every_diagram_is_referenced_with_alt_text_and_every_reference_resolves():
    referenced = set()
    for md in sorted((COURSES / "omr" / "modules").glob("*.md")):
        body = md.read_text(encoding="utf-8")
        assert check_references(COURSES, body) == [], md.name
        referenced |= {m["name"] for m in REFERENCE.finditer(body)}
    assert referenced == {p.stem for p in SHIPPED}


# --------------------------------------------------------------------------- the safety check


def test_a_plain_drawing_passes():
    assert check_svg(GOOD) == []


@pytest.mark.parametrize("bad, reason", [
    (_svg("<script>alert(1)</script>"), "element <script>"),
    (_svg('<rect onload="alert(1)" width="1" height="1"/>'), "attribute 'onload'"),
    (_svg('<a xlink:href="javascript:alert(1)"><rect width="1" height="1"/></a>'), "element <a>"),
    (_svg('<use xlink:href="https://evil.example/x.svg#a"/>'), "element <use>"),
    (_svg('<image xlink:href="https://evil.example/x.png"/>'), "element <image>"),
    (_svg("<foreignObject><div>x</div></foreignObject>"), "element <foreignObject>"),
    (_svg("<style>rect { fill: url(https://evil.example/) }</style>"), "element <style>"),
    (_svg('<rect fill="url(https://evil.example/p)" width="1" height="1"/>'), "refers outside the file"),
    (_svg('<rect fill="javascript:alert(1)" width="1" height="1"/>'), "refers outside the file"),
    (_svg("<animate attributeName='x'/>"), "element <animate>"),
    (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]>' + GOOD, "DOCTYPE"),
    (b"<html><body>not an svg</body></html>", "root element"),
    (b"<svg", "not well-formed"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" role="img"><desc>D</desc></svg>', "<title>"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" role="img"><title>T</title></svg>', "<desc>"),
    (_svg("", root_attrs=""), 'role="img"'),
    (GOOD.replace(b"</svg>", b"<!--" + b"x" * 200_000 + b"--></svg>"), "larger than"),
])
def test_unsafe_or_undescribed_svg_is_refused(bad, reason):
    problems = check_svg(bad)
    assert problems and any(reason in p for p in problems), problems


def test_internal_marker_references_are_allowed():
    inner = ('<defs><marker id="m" markerWidth="4" markerHeight="4" refX="2" refY="2"><path d="M0 0 L4 2 Z"/>'
             '</marker></defs><line x1="0" y1="0" x2="5" y2="5" marker-end="url(#m)"/>')
    assert check_svg(_svg(inner)) == []


def test_references_report_missing_files_short_alt_text_and_unsafe_files(tmp_path):
    (tmp_path / "omr" / "diagrams").mkdir(parents=True)
    (tmp_path / "omr" / "diagrams" / "ok.svg").write_bytes(GOOD)
    (tmp_path / "omr" / "diagrams" / "bad.svg").write_bytes(_svg("<script>x</script>"))
    body = ("![A square box drawn for the test](/diagrams/omr/ok.svg)\n"
            "![Box](/diagrams/omr/ok.svg)\n"
            "![A diagram that does not exist at all](/diagrams/omr/missing.svg)\n"
            "![A diagram that carries a script element](/diagrams/omr/bad.svg)\n")
    problems = check_references(tmp_path, body)
    assert len(problems) == 3
    assert "alt text" in problems[0] and "no such diagram" in problems[1] and "<script>" in problems[2]


# --------------------------------------------------------------------------- rendering and serving


def test_module_markdown_renders_the_diagram_as_an_image_with_alt_text():
    program, errors = load_program_dir(COURSES / "omr")
    assert errors == []
    m7 = next(m for m in program.modules if m.key == "M7")
    html = render_markdown(m7.body)
    imgs = re.findall(r'<img src="([^"]+)" alt="([^"]+)"', html)
    assert ("/diagrams/omr/intraoral-landmarks.svg" in {src for src, _ in imgs}
            and "/diagrams/omr/screening-flow.svg" in {src for src, _ in imgs})
    assert all(len(alt.split()) >= 5 for _, alt in imgs)


def test_enrolled_trainee_sees_the_diagram_inline_and_it_is_served_safely(ctx, client, program):
    create_trainee(email="reader@example.test")
    assert _post(client, "/login", {"email": "reader@example.test", "password": PASSWORD}).status_code == 302
    page = _get(client, "/modules/06-extraoral")
    assert page.status_code == 200
    src = re.search(r'<img src="(/diagrams/omr/muscles-of-mastication\.svg)" alt="Diagram of the muscles',
                    page.get_data(as_text=True)).group(1)

    svg = client.get(src)
    assert svg.status_code == 200
    assert svg.mimetype == "image/svg+xml"
    assert svg.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in svg.headers["Content-Security-Policy"]
    assert "default-src 'none'" in svg.headers["Content-Security-Policy"]
    assert svg.data == (DIAGRAMS / "muscles-of-mastication.svg").read_bytes()


@pytest.mark.parametrize("url", [
    "/diagrams/omr/no-such-diagram.svg",
    "/diagrams/omr/..%2Fstandard.svg",
    "/diagrams/OMR/screening-flow.svg",
    "/diagrams/omr/Screening-Flow.svg",
])
def test_unknown_or_malformed_diagram_names_are_not_found(ctx, client, url):
    create_user("trainee", email="t@example.test")
    assert _post(client, "/login", {"email": "t@example.test", "password": PASSWORD}).status_code == 302
    assert _get(client, url).status_code == 404


def test_anonymous_visitor_is_sent_to_sign_in(client):
    resp = client.get("/diagrams/omr/screening-flow.svg")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_an_unsafe_file_in_the_courses_folder_is_never_served(tmp_path, make_app):
    courses = tmp_path / "courses"
    shutil.copytree(COURSES / "omr" / "diagrams", courses / "omr" / "diagrams")
    (courses / "omr" / "diagrams" / "screening-flow.svg").write_bytes(_svg("<script>alert(1)</script>"))
    app = make_app(COURSES_DIR=courses)
    client = app.test_client()
    with app.app_context():
        from lms.extensions import db

        create_user("instructor", email="i@example.test")
        db.session.commit()
    assert client.post("/login", data={"email": "i@example.test", "password": PASSWORD}).status_code == 302
    assert client.get("/diagrams/omr/screening-flow.svg").status_code == 404
    ok = client.get("/diagrams/omr/intraoral-landmarks.svg")
    assert ok.status_code == 200 and b"<script" not in ok.data
