"""The exam item bank: ``courses/<program>/exam/*.yaml``, kept apart from the module knowledge checks.

``check_bank`` parses every file and checks it against the standard's blueprint (each domain must hold at least the
items the blueprint draws from it) and against the same answer-cue rule as the module banks; every problem is a
``path:line: message``. ``sync_bank`` then writes the items in the caller's transaction. Only the loader and admin
pages read the bank; trainees see an item only inside their own sitting, and never its key.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
import yaml

from lms.extensions import db
from lms.training.content import MAX_LONGEST_CORRECT, MAX_POSITION_SHARE, ContentError, answer_cue

EXAM_DIR = "exam"
# libyaml's parser when PyYAML was built with it (the bank is read on every standard load); same results, faster.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
ITEM_KEYS = {"id", "domain", "prompt", "choices", "answer"}


def _item_lines(text: str) -> list[int]:
    """1-based line of each item under ``items:``."""
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError:
        return []
    if not isinstance(node, yaml.MappingNode):
        return []
    for key, value in node.value:
        if key.value == "items" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def check_bank(program_dir: Path, standard: dict) -> tuple[list[dict], list[ContentError]]:
    """Parse and check the bank of one program against ``standard["exam"]``. Returns (items, errors)."""
    exam_dir = Path(program_dir) / EXAM_DIR
    errors: list[ContentError] = []
    items: list[dict] = []
    files = sorted(exam_dir.glob("*.yaml")) if exam_dir.is_dir() else []
    blueprint = standard.get("exam") or {}
    domains = {str(d["id"]): int(d["items"]) for d in blueprint.get("domains") or ()}
    seen: dict[str, str] = {}
    first_file = str(files[0]) if files else str(exam_dir)
    for path in files:
        rel = str(path)
        text = path.read_text(encoding="utf-8")
        try:
            data = yaml.load(text, Loader=_LOADER) or {}  # noqa: S506 - a safe loader
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            errors.append(ContentError(rel, mark.line + 1 if mark else 1, f"invalid YAML: {exc}"))
            continue
        raw = data.get("items") if isinstance(data, dict) else None
        if not isinstance(raw, list):
            errors.append(ContentError(rel, 1, "expected a mapping with an `items` list"))
            continue
        lines = _item_lines(text)
        for n, item in enumerate(raw):
            line = lines[n] if n < len(lines) else 1
            problem = _item_problem(item, domains)
            if problem:
                errors.append(ContentError(rel, line, problem))
                continue
            key = str(item["id"])
            if key in seen:
                errors.append(ContentError(rel, line, f"duplicate exam item id '{key}' (first in {seen[key]})"))
                continue
            seen[key] = rel
            items.append({"id": key, "domain": str(item["domain"]), "prompt": str(item["prompt"]).strip(),
                          "choices": [str(c) for c in item["choices"]], "answer": int(item["answer"]), "line": line,
                          "file": rel})
    if not blueprint:
        return items, errors
    if not files:
        return [], [ContentError(first_file, 1, "the standard defines a written exam but there is no item bank "
                                                f"(no .yaml files in {EXAM_DIR}/)")]
    for domain, need in domains.items():
        have = sum(1 for i in items if i["domain"] == domain)
        if have < need:
            errors.append(ContentError(first_file, 1, f"exam domain '{domain}' has {have} items; the blueprint draws "
                                                      f"{need}, so the bank cannot fill it"))
    longest, positions = answer_cue(items)
    if longest > MAX_LONGEST_CORRECT:
        errors.append(ContentError(first_file, 1, f"answer cue: the correct choice is the longest in "
                                                  f"{round(longest * 100)}% of exam items (at most "
                                                  f"{round(MAX_LONGEST_CORRECT * 100)}% allowed)"))
    for pos, share in positions.items():
        if share > MAX_POSITION_SHARE:
            errors.append(ContentError(first_file, 1, f"answer cue: {round(share * 100)}% of correct answers are "
                                                      f"choice {pos + 1} (at most {round(MAX_POSITION_SHARE * 100)}% "
                                                      "at one position)"))
    return items, errors


def _item_problem(item, domains: dict[str, int]) -> str:
    if not isinstance(item, dict):
        return "an exam item must be a mapping with id, domain, prompt, choices and answer"
    missing = sorted(ITEM_KEYS - set(item))
    if missing:
        return f"exam item {item.get('id', '?')}: missing {', '.join(missing)}"
    extra = sorted(set(item) - ITEM_KEYS - {"explanation"})
    if extra:
        return f"exam item {item['id']}: unknown key {extra[0]!r}"
    if domains and str(item["domain"]) not in domains:
        return (f"exam item {item['id']}: domain '{item['domain']}' is not in the blueprint "
                f"({', '.join(domains)})")
    choices = item["choices"]
    if not isinstance(choices, list) or len(choices) < 3 or len({str(c) for c in choices}) != len(choices):
        return f"exam item {item['id']}: needs at least 3 different choices"
    answer = item["answer"]
    if not isinstance(answer, int) or isinstance(answer, bool) or not 0 <= answer < len(choices):
        return f"exam item {item['id']}: answer must be the index of one of its choices (0 to {len(choices) - 1})"
    if not str(item["prompt"]).strip():
        return f"exam item {item['id']}: the prompt is empty"
    return ""


def sync_bank(program_id: str, items: list[dict]) -> int:
    """Insert or update the program's items (idempotent); items no longer in the files are retired. Returns changes."""
    from lms.exams.models import ExamItem

    existing = {i.item_key: i for i in db.session.execute(
        sa.select(ExamItem).filter_by(program_id=program_id)).scalars()}
    changed = 0
    for item in items:
        row = existing.pop(item["id"], None)
        values = (item["domain"], item["prompt"], item["choices"], item["answer"], True)
        if row is not None and (row.domain, row.prompt, row.choices, row.answer, row.is_active) == values:
            continue
        row = row or ExamItem(program_id=program_id, item_key=item["id"])
        row.domain, row.prompt, row.choices, row.answer, row.is_active = values
        db.session.add(row)
        changed += 1
    for row in existing.values():
        if row.is_active:
            row.is_active = False
            changed += 1
    db.session.flush()
    return changed
