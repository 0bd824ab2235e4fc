"""The course content loader (lms/training/content.py) and ``flask courses load``, on copies of courses/omr."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from lms.extensions import db
from lms.training.content import count_words, load_all, load_program_dir, render_markdown
from lms.training.models import Module, Program
from tests.factories import PASSWORD, create_trainee

SHIPPED = Path(__file__).resolve().parents[2] / "courses" / "omr"
LISTED = yaml.safe_load((SHIPPED / "program.yaml").read_text(encoding="utf-8"))["modules"]
N = len(LISTED)


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


def test_shipped_program_parses_with_every_listed_module_in_order(courses):
    parsed, errors = load_program_dir(courses / "omr")
    assert errors == []
    assert parsed.id == "omr"
    assert 1 <= parsed.pass_mark <= 100
    assert N >= 10
    assert [m.slug for m in parsed.modules] == LISTED
    assert [m.key for m in parsed.modules] == [f"M{i}" for i in range(1, N + 1)]
    assert [m.position for m in parsed.modules] == list(range(1, N + 1))
    for m in parsed.modules:
        assert m.questions and m.didactic_hours > 0
        assert m.objectives and m.body.strip()
        for q in m.questions:
            assert 0 <= q["answer"] < len(q["choices"])


def test_cli_loads_the_shipped_copy(app, runner, courses):
    result = _load(runner, courses)
    assert result.exit_code == 0, result.output
    assert "loaded programs: omr" in result.output
    assert _counts(app) == (1, N)
    with app.app_context():
        modules = db.session.execute(sa.select(Module).order_by(Module.position)).scalars().all()
        assert [m.module_key for m in modules] == [f"M{i}" for i in range(1, N + 1)]
        assert all(m.is_active and m.questions for m in modules)


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


# --- content rules: bank size, answer cue, references, hours -------------------------------------------------------


def _rewrite_front(path: Path, change) -> None:
    """Re-write a module's front matter after ``change(front)`` has edited the parsed mapping in place."""
    text = path.read_text(encoding="utf-8")
    end = text.find("\n---", 4)
    front = yaml.safe_load(text[4:end + 1])
    change(front)
    dumped = yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=1000)
    path.write_text("---\n" + dumped + text[end + 1:], encoding="utf-8")


def test_a_bank_of_eleven_items_is_refused(app, runner, courses):
    path = courses / "omr" / "modules" / "01-anatomy.md"
    _rewrite_front(path, lambda front: front.update(questions=front["questions"][:11]))
    line = _line_of(path, "questions:")

    result = _load(runner, courses)

    _assert_refused(app, result, f"omr/modules/01-anatomy.md:{line}: the question bank has 11 items; "
                                 "at least 12 are needed")


def test_a_bank_whose_correct_choice_is_usually_the_longest_is_refused(app, runner, courses):
    path = courses / "omr" / "modules" / "02-screening.md"

    def lengthen(front):
        for q in front["questions"][:6]:  # 6 of 14 items: 43% plus those already longest
            q["choices"][q["answer"]] += " (this choice is written out at much greater length than the others)"
    _rewrite_front(path, lengthen)
    line = _line_of(path, "questions:")

    result = _load(runner, courses)

    error = next(ln for ln in result.stderr.splitlines() if "answer cue" in ln)
    assert re.fullmatch(rf"omr/modules/02-screening\.md:{line}: answer cue: the correct choice is the longest in "
                        r"\d+% of items \(at most 35% allowed\)", error), error
    _assert_refused(app, result, error)


def test_a_bank_with_the_answer_mostly_in_one_position_is_refused(app, runner, courses):
    path = courses / "omr" / "modules" / "03-pathology.md"

    def to_first(front):
        for q in front["questions"]:  # move every correct choice to the first position
            q["choices"].insert(0, q["choices"].pop(q["answer"]))
            q["answer"] = 0
    _rewrite_front(path, to_first)
    line = _line_of(path, "questions:")

    result = _load(runner, courses)

    _assert_refused(app, result, f"omr/modules/03-pathology.md:{line}: answer cue: 100% of correct answers are "
                                 "choice 1 (at most 40% at one position)")


def test_a_bank_smaller_than_twice_the_draw_is_refused(app, runner, courses):
    path = courses / "omr" / "modules" / "05-consent.md"
    _rewrite_front(path, lambda front: front.update(questions=front["questions"][:13]))
    line = _line_of(path, "questions:")

    result = _load(runner, courses)

    _assert_refused(app, result, f"omr/modules/05-consent.md:{line}: the question bank has 13 items; each attempt "
                                 "draws 7, so the bank needs at least 14 (twice the draw)")


def test_a_per_module_draw_override_is_checked_against_its_bank(app, runner, courses):
    manifest = courses / "omr" / "program.yaml"
    _replace(manifest, "  modules: {}  ", "  modules: {08-outcomes: {items: 8}}  ")
    result = _load(runner, courses)
    line = _line_of(courses / "omr" / "modules" / "08-outcomes.md", "questions:")
    _assert_refused(app, result, f"omr/modules/08-outcomes.md:{line}: the question bank has 14 items; each attempt "
                                 "draws 8, so the bank needs at least 16 (twice the draw)")


@pytest.mark.parametrize("edit, message", [
    ("  items: 7 ", "  items: 0 "), ("  attempts: 3 ", "  attempts: three "),
    ("  window_hours: 24", "  window_hours: -1"),
])
def test_knowledge_check_settings_must_be_whole_numbers_above_zero(app, runner, courses, edit, message):
    manifest = courses / "omr" / "program.yaml"
    _replace(manifest, edit, message)
    key = edit.split(":")[0].strip()
    line = _line_of(manifest, message.rstrip())
    _assert_refused(app, _load(runner, courses),
                    f"omr/program.yaml:{line}: knowledge_check {key} must be a whole number above zero")


def _bank(n: int, longest: int, first: int) -> list[dict]:
    """``n`` four-choice items: the correct choice is strictly the longest in ``longest`` of them, and sits at the
    first position in ``first`` of them (the others spread over positions 2-4)."""
    items = []
    for i in range(n):
        answer = 0 if i < first else 1 + i % 3
        choices = ["bbbb", "cccc", "dddd", "eeee"]
        choices[answer] = "aaaaaaaa" if i < longest else "aaaa"
        items.append({"id": f"q{i}", "prompt": "?", "choices": choices, "answer": answer})
    return items


LONGEST_40 = "answer cue: the correct choice is the longest in 40% of items (at most 35% allowed)"
POSITION_45 = "answer cue: 45% of correct answers are choice 1 (at most 40% at one position)"


@pytest.mark.parametrize("longest, first, expected", [
    (7, 0, []),             # 7 of 20 = 35% longest: the limit itself is allowed
    (8, 0, [LONGEST_40]),   # 8 of 20 = 40% > 35%
    (0, 8, []),             # 8 of 20 = 40% at choice 1: allowed
    (0, 9, [POSITION_45]),  # 9 of 20 = 45% > 40%
])
def test_answer_cue_thresholds_are_35_percent_longest_and_40_percent_one_position(longest, first, expected):
    from lms.training.content import ContentError, _check_bank

    errors: list[ContentError] = []
    _check_bank("omr/modules/x.md", _bank(20, longest, first), {"questions": 9}, errors)
    assert [str(e) for e in errors] == [f"omr/modules/x.md:9: {m}" for m in expected]


def test_a_module_without_a_references_section_is_refused(app, runner, courses):
    path = courses / "omr" / "modules" / "04-hygiene.md"
    _replace(path, "\n## References\n", "\n## Reading list\n")
    last = len(path.read_text(encoding="utf-8").splitlines())

    result = _load(runner, courses)

    _assert_refused(app, result, f"omr/modules/04-hygiene.md:{last}: no 'References' section: end the module with "
                                 "'## References' listing full references, each with a DOI or PMID")


def test_a_references_section_without_any_doi_or_pmid_is_refused(app, runner, courses):
    path = courses / "omr" / "modules" / "05-consent.md"
    text = path.read_text(encoding="utf-8")
    head = text.index("\n## References\n")
    path.write_text(text[:head] + "\n## References\n\n- A textbook the author remembers.\n", encoding="utf-8")
    line = _line_of(path, "## References")

    result = _load(runner, courses)

    _assert_refused(app, result, f"omr/modules/05-consent.md:{line}: the References section cites no DOI or PMID")


@pytest.mark.parametrize(("old", "new", "message"), [
    ("DOI 10.1186/2045-709X-21-17", "DOI 10.11/2045-709X-21-17",
     "malformed DOI '10.11/2045-709X-21-17' (10.NNNN/suffix)"),
    ("PMID 23738586", "PMID 2373858b", "malformed PMID '2373858b' (digits only)"),
])
def test_a_malformed_doi_or_pmid_is_refused_at_its_line(app, runner, courses, old, new, message):
    path = courses / "omr" / "modules" / "05-consent.md"
    _replace(path, old, new)
    line = _line_of(path, new)

    result = _load(runner, courses)

    _assert_refused(app, result, f"omr/modules/05-consent.md:{line}: {message}")


def _breakdown_line(manifest: Path, slug: str) -> tuple[int, str]:
    line = _line_of(manifest, f"  {slug}: {{")
    return line, manifest.read_text(encoding="utf-8").splitlines()[line - 1]


@pytest.mark.parametrize(("slug", "edit", "message"), [
    ("01-anatomy", lambda p: {**p, "reading_minutes": p["reading_minutes"] + 30,
                              "activities_minutes": p["activities_minutes"] - 30},
     r"'01-anatomy' claims \d+ reading minutes; its \d+ words take \d+ at 200 per minute"),
    ("02-screening", lambda p: {**p, "activities_minutes": p["activities_minutes"] + 10},
     r"'02-screening' parts add up to \d+ minutes but the module claims 4 hours \(240 minutes\)"),
    ("03-pathology", lambda p: {**p, "activities_minutes": p["activities_minutes"] - 20, "lab_minutes": 20},
     r"'03-pathology' is delivered online but claims 20 lab minutes"),
    ("04-hygiene", lambda p: {"reading_minutes": p["reading_minutes"], "lab_minutes": p["lab_minutes"]},
     r"hour_breakdown for '04-hygiene' must give whole, non-negative reading_minutes, activities_minutes, "
     r"lab_minutes"),
])
def test_a_dishonest_hour_breakdown_is_refused_at_its_line(app, runner, courses, slug, edit, message):
    manifest = courses / "omr" / "program.yaml"
    line, old = _breakdown_line(manifest, slug)
    parts = yaml.safe_load(old)[slug]
    new = f"  {slug}: {{" + ", ".join(f"{k}: {v}" for k, v in edit(parts).items()) + "}"
    _replace(manifest, old + "\n", new + "\n")

    result = _load(runner, courses)

    error = result.stderr.splitlines()[0]
    assert re.fullmatch(rf"omr/program\.yaml:{line}: {message}", error), result.stderr
    _assert_refused(app, result, error)


def test_a_module_missing_from_the_hour_breakdown_is_refused(app, runner, courses):
    manifest = courses / "omr" / "program.yaml"
    line, old = _breakdown_line(manifest, "05-consent")
    _replace(manifest, old + "\n", "")
    heading = _line_of(manifest, "hour_breakdown:")

    result = _load(runner, courses)

    _assert_refused(app, result, f"omr/program.yaml:{heading}: hour_breakdown has no line for module '05-consent'")


def test_an_hour_breakdown_line_for_an_unlisted_module_is_refused(app, runner, courses):
    manifest = courses / "omr" / "program.yaml"
    _replace(manifest, "hour_breakdown:", "hour_breakdown:\n  99-typo: {reading_minutes: 1, activities_minutes: 1, "
                                          "lab_minutes: 1}")
    line = _line_of(manifest, "99-typo")

    result = _load(runner, courses)

    _assert_refused(app, result, f"omr/program.yaml:{line}: hour_breakdown names '99-typo', which is not a listed "
                                 "module")


def test_a_module_in_revision_loads_with_warnings_and_is_refused_once_off_the_list(app, runner, courses):
    manifest = courses / "omr" / "program.yaml"
    path = courses / "omr" / "modules" / "01-anatomy.md"
    _rewrite_front(path, lambda front: front.update(questions=front["questions"][:11]))
    line = _line_of(path, "questions:")
    expected = f"omr/modules/01-anatomy.md:{line}: the question bank has 11 items; at least 12 are needed"
    text = manifest.read_text(encoding="utf-8")
    listed = re.search(r"^modules_in_revision: \[(.*)\]$", text, re.MULTILINE)
    manifest.write_text(text.replace(listed.group(0), f"modules_in_revision: [01-anatomy, {listed.group(1)}]"
                                     if listed.group(1) else "modules_in_revision: [01-anatomy]"), encoding="utf-8")

    warned = _load(runner, courses)

    assert warned.exit_code == 0, warned.output
    assert f"warning: {expected} (module in revision)" in warned.stderr.splitlines()
    assert _counts(app) == (1, N)

    manifest.write_text(text, encoding="utf-8")  # off the list again: the same breach now refuses the load
    refused = _load(runner, courses)
    assert refused.exit_code != 0
    assert expected in refused.stderr.splitlines()


def test_words_are_counted_without_markup():
    text = "# Title\n\n| a | b |\n|---|---|\n| one | two |\n\n- **Bold** item, with *emphasis*.\n" \
           "It's a well-known 3.5 mm gap; 0 to 10 pain.\n"
    # Title, a, b, one, two, Bold, item, with, emphasis, It's, a, well-known, 3.5, mm, gap, 0, to, 10, pain
    assert count_words(text) == 19


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
    assert _counts(app) == (1, N)


def test_editing_a_module_body_and_reloading_updates_it_in_place(app, runner, courses):
    assert _load(runner, courses).exit_code == 0
    snap = _snapshot(app)
    path = courses / "omr" / "modules" / "04-hygiene.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n## Added in review\n\nGloves are changed between cases.\n",
                    encoding="utf-8")

    result = _load(runner, courses)

    assert result.exit_code == 0, result.output
    assert _counts(app) == (1, N)
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


def test_module_page_shows_how_the_hours_are_made_up(ctx, client, program):
    breakdown = yaml.safe_load((SHIPPED / "program.yaml").read_text(encoding="utf-8"))["hour_breakdown"]
    parts = breakdown["02-screening"]
    create_trainee(email="hours@example.test")
    db.session.commit()
    client.post("/login", data={"email": "hours@example.test", "password": PASSWORD})

    page = client.get("/modules/02-screening")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "How the 4 hours are made up" in html
    rows = dict(re.findall(r'<th scope="row">([^<]+)</th><td>(\d+)</td>', html))
    assert rows == {"Reading (the text below, at 200 words a minute)": str(parts["reading_minutes"]),
                    "Activities and case work": str(parts["activities_minutes"]),
                    "In-person lab, directly supervised": str(parts["lab_minutes"]),
                    "Total": "240"}
