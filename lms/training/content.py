"""Course content as files: ``courses/<program>/program.yaml`` and ``modules/NN-slug.md``.

``load_program_dir`` parses and checks everything first and returns errors as ``path:line: message``; nothing is
written unless the whole program is valid. ``apply_program`` then writes it in the caller's transaction.
"""

from __future__ import annotations

import copy
import hashlib
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
import yaml
from markdown_it import MarkdownIt

from lms.extensions import db

DELIVERIES = {"online", "in-person", "blended"}
MODULE_KEY = re.compile(r"^M\d{1,2}$")
SLUG = re.compile(r"^\d{2}-[a-z0-9-]+$")

# Content rules every module must meet (see the course README and tests/unit/test_course_content.py).
MIN_QUESTIONS = 12
MAX_LONGEST_CORRECT = 0.35     # share of items whose correct choice is the longest one
MAX_POSITION_SHARE = 0.40      # share of correct answers at any one choice position
READING_WPM = 200              # reading speed used for the honest-hours breakdown
READING_TOLERANCE = 5          # minutes either side of ceil(words / READING_WPM)
BREAKDOWN_PARTS = ("reading_minutes", "activities_minutes", "lab_minutes")
# Knowledge-check rules when program.yaml sets none: items drawn per attempt, attempts allowed per window.
CHECK_DEFAULTS = {"items": 7, "attempts": 3, "window_hours": 24}
CHECK_KEYS = ("items", "attempts", "window_hours")
_WORD = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*")
REFERENCES_HEADING = re.compile(r"^#{1,6}\s+References\s*$", re.MULTILINE)
DOI = re.compile(r"^10\.\d{4,9}/[^\s\"<>]+$")
PMID = re.compile(r"^[1-9]\d{0,8}$")
_DOI_MENTION = re.compile(r"\bdoi(?::|\.org/|\s)\s*(\S+)", re.IGNORECASE)
_PMID_MENTION = re.compile(r"\bPMID[:\s]\s*(\S+)")


def count_words(markdown: str) -> int:
    """Words in a Markdown text: runs of letters or digits (joined by an apostrophe, hyphen or dot).

    Markup such as ``#``, ``|``, ``**`` and list bullets is not counted. The loader and the content tests both use
    this function, so a module's reading minutes are computed the same way everywhere.
    """
    return len(_WORD.findall(markdown))


def reading_minutes(markdown: str) -> int:
    return math.ceil(count_words(markdown) / READING_WPM)


def _strip_trailing(token: str) -> str:
    return token.rstrip(".,;:)]")


def reference_ids(text: str) -> list[tuple[str, str, int]]:
    """(kind, value, line offset) for every ``DOI ...`` and ``PMID ...`` mention in ``text``; values unchecked."""
    found = []
    for n, line in enumerate(text.splitlines()):
        for m in _DOI_MENTION.finditer(line):
            found.append(("DOI", _strip_trailing(m.group(1)), n))
        for m in _PMID_MENTION.finditer(line):
            found.append(("PMID", _strip_trailing(m.group(1)), n))
    return found


def answer_cue(questions: list[dict]) -> tuple[float, dict[int, float]]:
    """(share of items whose correct choice is strictly the longest, share of correct answers per position)."""
    if not questions:
        return 0.0, {}
    longest = 0
    positions: dict[int, int] = {}
    for q in questions:
        choices, answer = q["choices"], q["answer"]
        others = [len(str(c)) for i, c in enumerate(choices) if i != answer]
        if others and len(str(choices[answer])) > max(others):
            longest += 1
        positions[answer] = positions.get(answer, 0) + 1
    n = len(questions)
    return longest / n, {p: c / n for p, c in sorted(positions.items())}


_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": True}).enable("table")


def render_markdown(text: str) -> str:
    """Render course Markdown to HTML. Raw HTML in the source is escaped, never passed through.

    Headings move down one level: the page's own title is the only ``<h1>``.
    """
    tokens = _md.parse(text)
    for tok in tokens:
        if tok.type in ("heading_open", "heading_close"):
            tok.tag = f"h{min(int(tok.tag[1]) + 1, 6)}"
    html = _md.renderer.render(tokens, _md.options, {})
    # Links in course text may only be web or in-page links.
    return re.sub(r'href="(?!https?://|#|/)[^"]*"', 'href="#"', html)


@dataclass
class ContentError:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class ParsedModule:
    key: str
    slug: str
    position: int
    title: str
    objectives: list[str]
    didactic_hours: Decimal
    delivery: str
    body: str
    questions: list[dict]
    sources: list[str]
    words: int = 0
    questions_line: int = 2


@dataclass
class ParsedProgram:
    id: str
    title: str
    version: str
    summary: str
    pass_mark: int
    manifest: dict
    modules: list[ParsedModule] = field(default_factory=list)
    digest: str = ""
    warnings: list[ContentError] = field(default_factory=list)


def _key_lines(text: str) -> dict[str, int]:
    """Line numbers (1-based) of top-level keys, for error messages."""
    lines = {}
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return lines
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            lines[k.value] = k.start_mark.line + 1
            if isinstance(v, yaml.MappingNode):
                for sk, _sv in v.value:
                    if isinstance(sk, yaml.ScalarNode):
                        lines[f"{k.value}.{sk.value}"] = sk.start_mark.line + 1
            if isinstance(v, yaml.SequenceNode):
                for i, item in enumerate(v.value):
                    lines[f"{k.value}[{i}]"] = item.start_mark.line + 1
                    # Keys inside list items (a question's answer), so an error points at its own line.
                    if isinstance(item, yaml.MappingNode):
                        for ik, _iv in item.value:
                            if isinstance(ik, yaml.ScalarNode):
                                lines[f"{k.value}[{i}].{ik.value}"] = ik.start_mark.line + 1
    return lines


def _yaml(text: str, path: str, errors: list[ContentError], line_offset: int = 0):
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = (mark.line + 1 if mark else 1) + line_offset
        problem = getattr(exc, "problem", None) or str(exc)
        errors.append(ContentError(path, line, f"invalid YAML: {problem}"))
        return None


def _parse_module(path: Path, position: int, root: Path, errors: list[ContentError],
                  warnings: list[ContentError] | None = None) -> ParsedModule | None:
    """Parse one module file. With ``warnings`` (a module listed under ``modules_in_revision``), breaches of the
    bank and reference rules are reported there instead of refusing the load; every other rule still applies."""
    rel = str(path.relative_to(root.parent)) if path.is_relative_to(root.parent) else str(path)
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        errors.append(ContentError(rel, 1, "a module file must start with '---' front matter"))
        return None
    end = text.find("\n---", 4)
    if end == -1:
        errors.append(ContentError(rel, 1, "front matter is not closed with '---'"))
        return None
    front_text = text[4:end + 1]
    rest = text[end + 4:]
    body = rest.lstrip("\n")
    body_line = text[:end + 4].count("\n") + 1 + (len(rest) - len(body))  # 1-based file line of the body's start
    n_err = len(errors)
    front = _yaml(front_text, rel, errors, line_offset=1)
    if len(errors) > n_err:
        return None
    lines = {k: v + 1 for k, v in _key_lines(front_text).items()}
    if not isinstance(front, dict):
        errors.append(ContentError(rel, 2, "front matter must be a mapping of fields"))
        return None

    def err(key: str, message: str) -> None:
        errors.append(ContentError(rel, lines.get(key, 2), message))

    for key in ("id", "title", "objectives", "didactic_hours", "delivery", "questions"):
        if key not in front:
            err(key, f"missing field '{key}'")
    if len(errors) > n_err:
        return None
    key = str(front["id"])
    if not MODULE_KEY.match(key):
        err("id", f"module id '{key}' must look like M1, M2, ...")
    if not isinstance(front["objectives"], list) or not all(isinstance(o, str) for o in front["objectives"]):
        err("objectives", "objectives must be a list of sentences")
    try:
        hours = Decimal(str(front["didactic_hours"]))
        if hours <= 0 or hours > 100:
            raise ValueError
    except Exception:
        err("didactic_hours", "didactic_hours must be a number of hours between 0 and 100")
        hours = Decimal(0)
    if front["delivery"] not in DELIVERIES:
        err("delivery", f"delivery must be one of: {', '.join(sorted(DELIVERIES))}")
    questions = front["questions"]
    if not isinstance(questions, list) or not questions:
        err("questions", "questions must be a non-empty list")
        questions = []
    seen = set()
    for i, q in enumerate(questions):
        qline = lines.get(f"questions[{i}]", lines.get("questions", 2) + 1)
        if not isinstance(q, dict):
            errors.append(ContentError(rel, qline, f"question {i + 1} must be a mapping"))
            continue
        missing = [k for k in ("id", "prompt", "choices", "answer") if k not in q]
        if missing:
            errors.append(ContentError(rel, qline, f"question {i + 1} is missing {', '.join(missing)}"))
            continue
        if q["id"] in seen:
            errors.append(ContentError(rel, qline, f"question id '{q['id']}' is used twice"))
        seen.add(q["id"])
        choices = q["choices"]
        if not isinstance(choices, list) or len(choices) < 2:
            errors.append(ContentError(rel, qline, f"question {q['id']} needs at least two choices"))
        elif (not isinstance(q["answer"], int) or isinstance(q["answer"], bool)
              or not 0 <= q["answer"] < len(choices)):
            errors.append(ContentError(rel, lines.get(f"questions[{i}].answer", qline),
                                       f"question {q['id']}: answer must be a choice index 0-{len(choices) - 1}"))
    if len(errors) > n_err:
        return None
    rule_errors: list[ContentError] = []
    _check_bank(rel, questions, lines, rule_errors)
    _check_references(rel, body, body_line, max(len(text.splitlines()), 1), rule_errors)
    (errors if warnings is None else warnings).extend(rule_errors)
    if len(errors) > n_err:
        return None
    return ParsedModule(
        key=key, slug=path.stem, position=position, title=str(front["title"]), objectives=list(front["objectives"]),
        didactic_hours=hours, delivery=front["delivery"], body=body,
        questions=[{"id": str(q["id"]), "prompt": str(q["prompt"]), "choices": [str(c) for c in q["choices"]],
                    "answer": int(q["answer"]), "explanation": str(q.get("explanation", ""))} for q in questions],
        sources=[str(s) for s in front.get("sources", [])], words=count_words(body),
        questions_line=lines.get("questions", 2),
    )


def _check_bank(rel: str, questions: list[dict], lines: dict[str, int], errors: list[ContentError]) -> None:
    """Bank size and answer cues: a test-wise trainee must not pass by picking the longest or the usual position."""
    qline = lines.get("questions", 2)
    if len(questions) < MIN_QUESTIONS:
        errors.append(ContentError(rel, qline, f"the question bank has {len(questions)} items; "
                                               f"at least {MIN_QUESTIONS} are needed"))
    longest, positions = answer_cue(questions)
    if longest > MAX_LONGEST_CORRECT:
        errors.append(ContentError(rel, qline, f"answer cue: the correct choice is the longest in "
                                               f"{round(longest * 100)}% of items (at most "
                                               f"{round(MAX_LONGEST_CORRECT * 100)}% allowed)"))
    for pos, share in positions.items():
        if share > MAX_POSITION_SHARE:
            errors.append(ContentError(rel, qline, f"answer cue: {round(share * 100)}% of correct answers are "
                                                   f"choice {pos + 1} (at most {round(MAX_POSITION_SHARE * 100)}% "
                                                   "at one position)"))


def knowledge_check_settings(manifest: dict, slug: str) -> dict[str, int]:
    """The knowledge-check rules for one module: program.yaml ``knowledge_check`` with the module's override."""
    check = (manifest or {}).get("knowledge_check") or {}
    settings = {k: check.get(k, CHECK_DEFAULTS[k]) for k in CHECK_KEYS}
    settings.update(((check.get("modules") or {}).get(slug)) or {})
    return settings


def _positive_whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _check_draws(rel: str, data: dict, lines: dict[str, int], modules: list[ParsedModule],
                 errors: list[ContentError], warnings: list[ContentError], in_revision: list[str]) -> None:
    """``knowledge_check: {items, attempts, window_hours, modules: {slug: {items...}}}``; every bank holds at least
    twice the items an attempt draws, so two attempts can differ (a warning for a module in revision)."""
    check = data.get("knowledge_check", {})
    line = lines.get("knowledge_check", 1)
    if not isinstance(check, dict) or not set(check) <= {*CHECK_KEYS, "modules"}:
        errors.append(ContentError(rel, line, "knowledge_check must map items, attempts, window_hours and modules"))
        return
    overrides = check.get("modules") or {}
    by_slug = {m.slug: m for m in modules}
    if not isinstance(overrides, dict) or not all(isinstance(v, dict) and set(v) <= set(CHECK_KEYS)
                                                  for v in overrides.values()):
        errors.append(ContentError(rel, lines.get("knowledge_check.modules", line),
                                   "knowledge_check.modules must map a module to {items, attempts, window_hours}"))
        return
    for slug in overrides:
        if slug not in by_slug:
            errors.append(ContentError(rel, lines.get("knowledge_check.modules", line),
                                       f"knowledge_check.modules names '{slug}', which is not a listed module"))
    for key in CHECK_KEYS:
        values = [check[key]] if key in check else []
        values += [v[key] for v in overrides.values() if key in v]
        if not all(_positive_whole(v) for v in values):
            errors.append(ContentError(rel, lines.get(f"knowledge_check.{key}", line),
                                       f"knowledge_check {key} must be a whole number above zero"))
            return
    for m in modules:
        items = knowledge_check_settings({"knowledge_check": check}, m.slug)["items"]
        if len(m.questions) < 2 * items:
            target = warnings if m.slug in in_revision else errors
            target.append(ContentError(f"{rel.rsplit('/', 1)[0]}/modules/{m.slug}.md", m.questions_line,
                                       f"the question bank has {len(m.questions)} items; each attempt draws "
                                       f"{items}, so the bank needs at least {2 * items} (twice the draw)"))


def _check_references(rel: str, body: str, body_line: int, last_line: int, errors: list[ContentError]) -> None:
    """A 'References' section with at least one DOI or PMID; every DOI and PMID in the body is well formed."""
    for kind, value, offset in reference_ids(body):
        ok = DOI.match(value) if kind == "DOI" else PMID.match(value)
        if not ok:
            shape = "10.NNNN/suffix" if kind == "DOI" else "digits only"
            errors.append(ContentError(rel, body_line + offset, f"malformed {kind} '{value}' ({shape})"))
    heading = REFERENCES_HEADING.search(body)
    if heading is None:
        errors.append(ContentError(rel, last_line, "no 'References' section: end the module with '## References' "
                                                   "listing full references, each with a DOI or PMID"))
        return
    section = body[heading.end():]
    nxt = re.search(r"^#{1,2}\s", section, re.MULTILINE)
    if nxt:
        section = section[:nxt.start()]
    valid = [v for k, v, _ in reference_ids(section) if (DOI.match(v) if k == "DOI" else PMID.match(v))]
    if not valid:
        errors.append(ContentError(rel, body_line + body[:heading.start()].count("\n"),
                                   "the References section cites no DOI or PMID"))


def _check_hours(rel: str, data: dict, lines: dict[str, int], modules: list[ParsedModule],
                 errors: list[ContentError]) -> None:
    """Honest hours: each module's claimed hours are its reading, activity and lab minutes, and reading is real."""
    breakdown = data.get("hour_breakdown")
    if not isinstance(breakdown, dict):
        errors.append(ContentError(rel, lines.get("hour_breakdown", 1), "hour_breakdown must map each module to "
                                   "{reading_minutes, activities_minutes, lab_minutes}"))
        return
    by_slug = {m.slug: m for m in modules}
    for slug in breakdown:
        if slug not in by_slug:
            errors.append(ContentError(rel, lines.get(f"hour_breakdown.{slug}", lines.get("hour_breakdown", 1)),
                                       f"hour_breakdown names '{slug}', which is not a listed module"))
    for m in modules:
        line = lines.get(f"hour_breakdown.{m.slug}", lines.get("hour_breakdown", 1))
        parts = breakdown.get(m.slug)
        if parts is None:
            errors.append(ContentError(rel, line, f"hour_breakdown has no line for module '{m.slug}'"))
            continue
        if not isinstance(parts, dict) or set(parts) != set(BREAKDOWN_PARTS) or not all(
                isinstance(parts[p], int) and not isinstance(parts[p], bool) and parts[p] >= 0
                for p in BREAKDOWN_PARTS):
            errors.append(ContentError(rel, line, f"hour_breakdown for '{m.slug}' must give whole, non-negative "
                                                  f"{', '.join(BREAKDOWN_PARTS)}"))
            continue
        expected = math.ceil(m.words / READING_WPM)
        if abs(parts["reading_minutes"] - expected) > READING_TOLERANCE:
            errors.append(ContentError(rel, line, f"'{m.slug}' claims {parts['reading_minutes']} reading minutes; "
                                                  f"its {m.words} words take {expected} at {READING_WPM} per minute"))
        total = sum(parts[p] for p in BREAKDOWN_PARTS)
        claimed = m.didactic_hours * 60
        if total != claimed:
            errors.append(ContentError(rel, line, f"'{m.slug}' parts add up to {total} minutes but the module claims "
                                                  f"{m.didactic_hours:g} hours ({claimed:g} minutes)"))
        if m.delivery == "online" and parts["lab_minutes"]:
            errors.append(ContentError(rel, line, f"'{m.slug}' is delivered online but claims "
                                                  f"{parts['lab_minutes']} lab minutes"))


def _signature(program_dir: Path) -> tuple:
    files = [program_dir / "program.yaml", *sorted((program_dir / "modules").glob("*.md"))]
    return tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files if f.exists())


_parsed_cache: dict[tuple, tuple] = {}


def load_program_dir(program_dir: Path) -> tuple[ParsedProgram | None, list[ContentError]]:
    """Parse and check one program folder. Returns (program, errors); program is None when there are errors.

    The result is remembered while no file in the folder changes, so repeated loads are cheap.
    """
    program_dir = Path(program_dir)
    key = _signature(program_dir)
    if key not in _parsed_cache:
        _parsed_cache.clear()  # keep only the latest state of each folder set; content folders are few
        _parsed_cache[key] = _load_program_dir(program_dir)
    program, errors = _parsed_cache[key]
    return copy.deepcopy(program), list(errors)


def _load_program_dir(program_dir: Path) -> tuple[ParsedProgram | None, list[ContentError]]:
    root = program_dir
    errors: list[ContentError] = []
    manifest_path = program_dir / "program.yaml"
    rel = f"{program_dir.name}/program.yaml"
    if not manifest_path.exists():
        return None, [ContentError(rel, 1, "program.yaml not found")]
    text = manifest_path.read_text(encoding="utf-8")
    data = _yaml(text, rel, errors)
    if errors:
        return None, errors
    lines = _key_lines(text)
    if not isinstance(data, dict):
        return None, [ContentError(rel, 1, "program.yaml must be a mapping of fields")]
    for key in ("id", "title", "version", "pass_mark", "modules"):
        if key not in data:
            errors.append(ContentError(rel, 1, f"missing field '{key}'"))
    if errors:
        return None, errors
    pass_mark = data["pass_mark"]
    if not isinstance(pass_mark, int) or not 1 <= pass_mark <= 100:
        errors.append(ContentError(rel, lines.get("pass_mark", 1), "pass_mark must be a whole percentage 1-100"))
    modules: list[ParsedModule] = []
    slugs = data["modules"] if isinstance(data["modules"], list) else []
    if not slugs:
        errors.append(ContentError(rel, lines.get("modules", 1), "modules must list at least one module"))
    keys_seen: set[str] = set()
    warnings: list[ContentError] = []
    in_revision = data.get("modules_in_revision") or []
    if not isinstance(in_revision, list) or not all(s in slugs for s in in_revision):
        errors.append(ContentError(rel, lines.get("modules_in_revision", 1),
                                   "modules_in_revision must list modules that are in 'modules'"))
        in_revision = []
    for i, slug in enumerate(slugs):
        line = lines.get(f"modules[{i}]", lines.get("modules", 1))
        if not isinstance(slug, str) or not SLUG.match(slug):
            errors.append(ContentError(rel, line, f"module '{slug}' must be named NN-slug"))
            continue
        path = program_dir / "modules" / f"{slug}.md"
        if not path.exists():
            errors.append(ContentError(rel, line, f"unknown module '{slug}': modules/{slug}.md does not exist"))
            continue
        module = _parse_module(path, i + 1, root, errors, warnings if slug in in_revision else None)
        if module:
            if module.key in keys_seen:
                errors.append(ContentError(f"{program_dir.name}/modules/{slug}.md", 2,
                                           f"module id '{module.key}' is used by another module"))
            keys_seen.add(module.key)
            modules.append(module)
    if modules and len(modules) == len(slugs):
        _check_hours(rel, data, lines, modules, errors)
        _check_draws(rel, data, lines, modules, errors, warnings, in_revision)
    listed = {f"{s}.md" for s in slugs if isinstance(s, str)}
    for extra in sorted((program_dir / "modules").glob("*.md")):
        if extra.name not in listed:
            errors.append(ContentError(f"{program_dir.name}/modules/{extra.name}", 1,
                                       "module file is not listed in program.yaml"))
    if errors:
        return None, errors
    digest = hashlib.sha256(text.encode())
    for m in sorted((program_dir / "modules").glob("*.md")):
        digest.update(m.name.encode() + b"\0" + m.read_bytes())
    manifest = {k: v for k, v in data.items() if k not in ("modules",)}
    manifest = _jsonable(manifest)
    return ParsedProgram(
        id=str(data["id"]), title=str(data["title"]), version=str(data["version"]),
        summary=str(data.get("summary", "")), pass_mark=pass_mark, manifest=manifest, modules=modules,
        digest=digest.hexdigest(), warnings=warnings,
    ), []


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def apply_program(parsed: ParsedProgram) -> tuple[str, int]:
    """Insert or update a program and its modules (idempotent). Returns (program id, modules changed)."""
    from lms.training.models import Module, Program

    program = db.session.get(Program, parsed.id)
    if program is None:
        program = Program(id=parsed.id)
        db.session.add(program)
    elif program.content_digest == parsed.digest:
        return parsed.id, 0
    program.title, program.version, program.summary = parsed.title, parsed.version, parsed.summary
    program.pass_mark, program.manifest, program.content_digest = parsed.pass_mark, parsed.manifest, parsed.digest
    db.session.flush()
    existing = {m.module_key: m for m in db.session.execute(
        sa.select(Module).filter_by(program_id=parsed.id)).scalars()}
    changed = 0
    # Positions and slugs are unique per program: move old rows out of the way first.
    for m in existing.values():
        m.position = -m.id
        m.slug = f"retired-{m.id}"
    db.session.flush()
    for pm in parsed.modules:
        m = existing.pop(pm.key, None) or Module(program_id=parsed.id, module_key=pm.key)
        m.slug, m.position, m.title, m.objectives = pm.slug, pm.position, pm.title, pm.objectives
        m.didactic_hours, m.delivery, m.body_md = pm.didactic_hours, pm.delivery, pm.body
        m.questions, m.sources, m.is_active = pm.questions, pm.sources, True
        db.session.add(m)
        changed += 1
    for m in existing.values():
        m.is_active = False
    db.session.flush()
    return parsed.id, changed


def load_all(courses_dir: Path, warnings: list[ContentError] | None = None) -> tuple[list[str], list[ContentError]]:
    """Check every program folder first; write nothing unless all are valid.

    Rule breaches in modules marked ``modules_in_revision`` are appended to ``warnings`` when a list is given.
    """
    parsed, errors = [], []
    for d in sorted(p for p in Path(courses_dir).iterdir() if (p / "program.yaml").exists()):
        program, errs = load_program_dir(d)
        errors.extend(errs)
        if program:
            parsed.append(program)
            if warnings is not None:
                warnings.extend(program.warnings)
    if errors:
        return [], errors
    return [apply_program(p)[0] for p in parsed], []
