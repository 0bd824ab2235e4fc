"""The course content loader (lms/training/content.py) and ``flask courses load``, on copies of courses/omr."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from lms.extensions import db
from lms.training.content import load_all, load_program_dir, render_markdown
from lms.training.models import Module, Program
from tests.factories import PASSWORD, create_trainee

SHIPPED = Path(__file__).resolve().parents[2] / "courses" / "omr"


@pytest.fixture
def courses(tmp_path) -> Path:
    """A private copy of the shipped courses folder that a test may break."""
    root = tmp_path / "courses"
    shutil.copytree(SHIPPED, root / "omr")
    return root


def _line_of(path: Path, needle: str) -> int:
    """1-based number of the first line of ``path`` that contains ``needle``."""
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return n
    raise AssertionError(f"{needle!r} not in {path}")


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur once in {path.name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def _load(runner, courses: Path):
    return runner.invoke(args=["courses", "load", "--path", str(courses)])


def _counts(app) -> tuple[int, int]:
    with app.app_context():
        programs = db.session.scalar(sa.select(sa.func.count()).select_from(Program))
        modules = db.session.scalar(sa.select(sa.func.count()).select_from(Module))
        return programs, modules


def _assert_refused(app, result, expected: str) -> None:
    """The CLI printed ``expected`` (a ``path:line: message`` line), failed, and wrote nothing."""
    assert result.exit_code != 0, result.output
    lines = result.stderr.splitlines()
    assert expected in lines, result.stderr
    assert re.fullmatch(r"\d+ error\(s\); nothing was loaded\.", lines[-1]), result.stderr
    for line in lines[:-1]:
        assert re.match(r"^omr/[\w./-]+:\d+: \S", line), f"not path:line: message: {line!r}"
    assert _counts(app) == (0, 0)


# --- the shipped content -------------------------------------------------------------------------------------------


def test_shipped_program_parses_with_ten_modules_of_three_to_six_questions(courses):
    parsed, errors = load_program_dir(courses / "omr")
    assert errors == []
    assert parsed.id == "omr"
    assert 1 <= parsed.pass_mark <= 100
    assert [m.key for m in parsed.modules] == [f"M{i}" for i in range(1, 12)]
    assert [m.position for m in parsed.modules] == list(range(1, 12))
    for m in parsed.modules:
        assert len(m.questions) >= 3, m.key
        assert m.didactic_hours > 0
        assert m.objectives and m.body.strip()
        for q in m.questions:
            assert 0 <= q["answer"] < len(q["choices"])


def test_cli_loads_the_shipped_copy(app, runner, courses):
    result = _load(runner, courses)
    assert result.exit_code == 0, result.output
    assert "loaded programs: omr" in result.output
    assert _counts(app) == (1, 11)
    with app.app_context():
        modules = db.session.execute(sa.select(Module).order_by(Module.position)).scalars().all()
        assert [m.module_key for m in modules] == [f"M{i}" for i in range(1, 12)]
        assert all(m.is_active and len(m.questions) >= 3 for m in modules)


# --- refusals: path:line: message, and nothing written --------------------------------------------------------------


def test_missing_front_matter_field_points_into_the_front_matter(app, runner, courses):
    path = courses / "omr" / "modules" / "03-pathology.md"
    text = path.read_text(encoding="utf-8")
    delivery_line = next(ln for ln in text.splitlines() if ln.startswith("delivery:"))
    _replace(path, delivery_line + "\n", "")
    closing = text.splitlines()[1:].index("---") + 1  # 1-based line of the closing '---' after removal

    result = _load(runner, courses)

    error = next(ln for ln in result.stderr.splitlines() if "missing field 'delivery'" in ln)
    m = re.fullmatch(r"omr/modules/03-pathology\.md:(\d+): missing field 'delivery'", error)
    assert m, error
    assert 1 <= int(m.group(1)) <= closing  # within the front matter block
    _assert_refused(app, result, error)


def test_unknown_module_in_program_yaml_points_at_its_list_item(app, runner, courses):
    manifest = courses / "omr" / "program.yaml"
    _replace(manifest, "  - 10-documentation\n", "  - 10-documentation\n  - 11-aftercare\n")
    line = _line_of(manifest, "- 11-aftercare")

    result = _load(runner, courses)

    _assert_refused(app, result, f"omr/program.yaml:{line}: unknown module '11-aftercare': "
                                 "modules/11-aftercare.md does not exist")
    assert len(result.stderr.splitlines()) == 2  # exactly that one error plus the summary


def test_bad_yaml_in_program_yaml_reports_its_line(app, runner, courses):
    manifest = courses / "omr" / "program.yaml"
    _replace(manifest, "pass_mark: 80 ", "pass_mark: 80: 90 ")
    line = _line_of(manifest, "pass_mark: 80: 90")

    result = _load(runner, courses)

    error = result.stderr.splitlines()[0]
    assert error.startswith(f"omr/program.yaml:{line}: invalid YAML"), result.stderr
    _assert_refused(app, result, error)


def test_bad_yaml_in_module_front_matter_reports_the_file_line(app, runner, courses):
    path = courses / "omr" / "modules" / "07-intraoral.md"
    hours_line = next(ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.startswith("didactic_hours:"))
    _replace(path, hours_line + "\n", "didactic_hours: 4: 5\n")
    line = _line_of(path, "didactic_hours: 4: 5")

    result = _load(runner, courses)

    error = result.stderr.splitlines()[0]
    assert error.startswith(f"omr/modules/07-intraoral.md:{line}: invalid YAML"), result.stderr
    _assert_refused(app, result, error)


def test_answer_index_out_of_range_is_refused(app, runner, courses):
    path = courses / "omr" / "modules" / "01-anatomy.md"
    text = path.read_text(encoding="utf-8")
    start = text.index("  - id: m1-q3")
    answer_at = text.index("    answer: 1\n", start)
    path.write_text(text[:answer_at] + "    answer: 7\n" + text[answer_at + len("    answer: 1\n"):], encoding="utf-8")
    line = _line_of(path, "    answer: 7")

    result = _load(runner, courses)

    _assert_refused(app, result, f"omr/modules/01-anatomy.md:{line}: question m1-q3: answer must be a choice index 0-3")


def test_module_file_not_listed_is_refused(app, runner, courses):
    extra = courses / "omr" / "modules" / "11-aftercare.md"
    text = (courses / "omr" / "modules" / "10-documentation.md").read_text(encoding="utf-8")
    extra.write_text(text.replace("id: M10", "id: M11", 1), encoding="utf-8")

    result = _load(runner, courses)

    _assert_refused(app, result, "omr/modules/11-aftercare.md:1: module file is not listed in program.yaml")


def test_broken_reload_leaves_the_loaded_content_untouched(app, runner, courses):
    assert _load(runner, courses).exit_code == 0
    with app.app_context():
        before = {m.module_key: (m.id, m.body_md, m.questions) for m in db.session.execute(sa.select(Module)).scalars()}
    path = courses / "omr" / "modules" / "02-screening.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nA new closing paragraph.\n", encoding="utf-8")
    _replace(courses / "omr" / "modules" / "09-special-populations.md", "\ndelivery:", "\ndelivered:")

    result = _load(runner, courses)

    assert result.exit_code != 0
    assert "omr/modules/09-special-populations.md:" in result.stderr
    with app.app_context():
        after = {m.module_key: (m.id, m.body_md, m.questions) for m in db.session.execute(sa.select(Module)).scalars()}
    assert after == before


# --- idempotence and updates --------------------------------------------------------------------------------------


def _snapshot(app) -> dict:
    with app.app_context():
        programs = db.session.execute(sa.select(Program.id, Program.content_digest)).all()
        modules = db.session.execute(
            sa.select(Module.module_key, Module.id, Module.slug, Module.position, Module.body_md)).all()
        return {"programs": sorted(programs), "modules": sorted(modules)}


def test_loading_twice_is_idempotent(app, runner, courses):
    first = _load(runner, courses)
    assert first.exit_code == 0, first.output
    snap = _snapshot(app)

    second = _load(runner, courses)

    assert second.exit_code == 0, second.output
    assert "unchanged" in second.output  # the standard is not loaded again either
    assert _snapshot(app) == snap
    assert _counts(app) == (1, 11)


def test_editing_a_module_body_and_reloading_updates_it_in_place(app, runner, courses):
    assert _load(runner, courses).exit_code == 0
    snap = _snapshot(app)
    path = courses / "omr" / "modules" / "04-hygiene.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n## Added in review\n\nGloves are changed between cases.\n",
                    encoding="utf-8")

    result = _load(runner, courses)

    assert result.exit_code == 0, result.output
    assert _counts(app) == (1, 11)
    with app.app_context():
        m4 = db.session.execute(sa.select(Module).filter_by(module_key="M4")).scalar_one()
        assert m4.body_md.rstrip().endswith("Gloves are changed between cases.")
        ids = {k: i for k, i, *_ in db.session.execute(sa.select(Module.module_key, Module.id)).all()}
        assert ids == {k: i for k, i, *_ in snap["modules"]}  # same rows, updated in place
        assert db.session.get(Program, "omr").content_digest != snap["programs"][0][1]


# --- Markdown safety ----------------------------------------------------------------------------------------------


def test_render_markdown_escapes_raw_html_and_neutralises_script_links():
    html = render_markdown("Hello <script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n"
                           "[bad](javascript:alert(1)) [good](https://example.org/x)")
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert re.findall(r'href="([^"]*)"', html) == ["https://example.org/x"]  # the script link is not a live link
    assert 'href="https://example.org/x"' in html


def test_module_page_shows_raw_html_in_a_module_body_escaped(ctx, client, program, courses):
    path = courses / "omr" / "modules" / "01-anatomy.md"
    path.write_text(path.read_text(encoding="utf-8")
                    + "\nInjected <script>alert(1)</script> text.\n\n<img src=x onerror=alert(1)>\n", encoding="utf-8")
    loaded, errors = load_all(courses)
    assert errors == [] and loaded == ["omr"]
    create_trainee(email="reader@example.test")
    db.session.commit()
    client.post("/login", data={"email": "reader@example.test", "password": PASSWORD})

    page = client.get("/modules/01-anatomy")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Injected" in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert not re.search(r"<img[^>]*onerror", html)
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
