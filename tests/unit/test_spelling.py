"""English interface text spells the noun "license" (US spelling, as the README's Languages section says); French says
"permis d'exercer". Code names (``Licence``, ``licence_in_force``, the API's ``licence`` key, ``/licences``) are not
text and keep their spelling.

Scanned: the catalogue of marked text (Python and templates), template text and text-bearing attributes, string
literals in ``lms/`` (not docstrings or code names), the standard, program and jurisdiction data, course modules and
the README's prose. Proper names and quoted sources that spell it "licence" are listed in ``ALLOWED``.
"""

from __future__ import annotations

import ast
import re
from html.parser import HTMLParser
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
OTHER_SPELLING = re.compile(r"\blicenc(?:e|es|ed|ing)\b", re.IGNORECASE)
CODE_NAME = re.compile(r"[a-z0-9_.:/{}<>-]+")  # "licence", "providers.licence_queue", "/licences": names, not text
# Text that quotes a source or names something in its own spelling (none so far).
ALLOWED: set[str] = set()


def _hits(text: str) -> list[str]:
    text = re.sub(r"%\(\w+\)s", "", text)  # placeholder names are code
    return [] if text in ALLOWED else [m.group(0) for m in OTHER_SPELLING.finditer(text)]


def _found(where: str, texts) -> list[str]:
    return [f"{where}: {text[:120]!r}" for text in texts if _hits(text)]


def test_marked_text_uses_one_spelling():
    from babel.messages.pofile import read_po

    with (ROOT / "lms" / "translations" / "messages.pot").open("rb") as f:
        catalogue = read_po(f)
    texts = []
    for message in catalogue:
        texts += list(message.id) if isinstance(message.id, tuple) else [message.id]
    assert not _found("catalogue", [t for t in texts if t])


class _Text(HTMLParser):
    """Text nodes and attributes a reader sees or hears."""

    SPOKEN = {"alt", "title", "aria-label", "placeholder", "data-label", "content", "value"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []

    def handle_data(self, data):
        self.texts.append(data)

    def handle_starttag(self, tag, attrs):
        self.texts += [v for k, v in attrs if k in self.SPOKEN and v]


def _template_text(source: str) -> list[str]:
    # Jinja tags and expressions are code (their marked strings are in the catalogue); what is left is page text.
    without_jinja = re.sub(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", " ", source, flags=re.S)
    parser = _Text()
    parser.feed(without_jinja)
    return [t for t in parser.texts if t.strip() and not CODE_NAME.fullmatch(t.strip())]


def test_template_text_uses_one_spelling():
    found = []
    for folder in ("templates", "certificates"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix in (".html", ".txt", ".xml", ".svg"):
                found += _found(str(path.relative_to(ROOT)), _template_text(path.read_text(encoding="utf-8")))
    assert not found, "\n".join(found)


def _string_literals(tree: ast.AST) -> list[str]:
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


def test_python_messages_use_one_spelling():
    found = []
    for path in sorted((ROOT / "lms").rglob("*.py")):
        texts = [t for t in _string_literals(ast.parse(path.read_text(encoding="utf-8")))
                 if not CODE_NAME.fullmatch(t.strip())]
        found += _found(str(path.relative_to(ROOT)), texts)
    assert not found, "\n".join(found)


def _yaml_strings(value) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _yaml_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _yaml_strings(v)]
    return [value] if isinstance(value, str) else []


def test_data_and_course_text_use_one_spelling():
    found = []
    paths = [ROOT / "courses" / "omr" / "standard.yaml", ROOT / "courses" / "omr" / "program.yaml",
             ROOT / "lms" / "jurisdictions" / "regulations.yaml"]
    for path in paths:
        found += _found(str(path.relative_to(ROOT)), _yaml_strings(yaml.safe_load(path.read_text(encoding="utf-8"))))
    for path in sorted((ROOT / "courses").rglob("*.md")):
        found += _found(str(path.relative_to(ROOT)), path.read_text(encoding="utf-8").splitlines())
    assert not found, "\n".join(found)


def test_readme_prose_uses_one_spelling():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    prose = re.sub(r"```.*?```", "", text, flags=re.S)  # code blocks
    prose = re.sub(r"`[^`]*`", "", prose)  # code names
    assert not _found("README.md", prose.splitlines())


def test_the_scan_finds_the_other_spelling():
    """The checks above can fail: each finds the other spelling where it is text, and lets code names through."""
    assert _found("x", ["Your licence expired."]) and _found("x", ["Licences queue"])
    assert not _found("x", ["Assessed by %(who)s%(licence)s"])
    assert not _found("x", ["Your license expired.", "licensing body", "licensed dental professional"])
    page = '<p title="Licence">{{ lic.licence_number }}</p><a href="/licences">Open</a>'
    assert _template_text(page) == ["Licence", "Open"]
    assert _template_text('<td data-label="Licence">licence</td>') == ["Licence"]
    literals = _string_literals(ast.parse('"""The licence module."""\nx = {"licence": f"Your licence {n}"}\n'))
    assert [t for t in literals if _hits(t) and not CODE_NAME.fullmatch(t)] == ["Your licence "]
