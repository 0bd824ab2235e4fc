"""Course diagrams: original SVG files in ``courses/<program>/diagrams/``, shown inline in module pages.

A module refers to a diagram with an ordinary Markdown image whose alt text describes the picture::

    ![Alt text that says what the diagram shows](/diagrams/omr/screening-flow.svg)

The Markdown renderer turns that into an ``<img>``; this module serves the file at that address. Only SVG files that
pass ``check_svg`` are served: no scripts, no event handlers, no external references, no DOCTYPE or entities, and a
``<title>`` and ``<desc>`` for assistive technology. They are sent as ``image/svg+xml`` with ``nosniff`` and a
sandboxing Content-Security-Policy, so even a file opened directly in the browser cannot run anything. Inside an
``<img>`` a browser never runs scripts in any case.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from flask import Blueprint, abort, current_app, make_response

from lms.core.security import role_required

SVG_NS = "http://www.w3.org/2000/svg"
NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
# A diagram reference in module Markdown: ![alt](/diagrams/<program>/<name>.svg)
REFERENCE = re.compile(r"!\[(?P<alt>[^\]]*)\]\(/diagrams/(?P<program>[^/)\s]+)/(?P<name>[^/)\s]+)\.svg\)")
MAX_BYTES = 200_000

# Presentation elements only: anything else (script, foreignObject, image, use, a, style, animate...) is refused.
ALLOWED_ELEMENTS = {
    "svg", "g", "title", "desc", "defs", "marker", "path", "rect", "circle", "ellipse", "line", "polyline",
    "polygon", "text", "tspan",
}
ALLOWED_ATTRIBUTES = {
    "viewBox", "width", "height", "role", "aria-labelledby", "aria-hidden", "id", "class", "x", "y", "x1", "y1",
    "x2", "y2", "cx", "cy", "r", "rx", "ry", "d", "points", "fill", "fill-opacity", "stroke", "stroke-width",
    "stroke-dasharray", "stroke-linecap", "stroke-linejoin", "stroke-opacity", "opacity", "transform",
    "font-family", "font-size", "font-weight", "font-style", "text-anchor", "dominant-baseline", "markerWidth",
    "markerHeight", "refX", "refY", "orient", "markerUnits", "marker-end", "marker-start", "dx", "dy", "lang",
    "preserveAspectRatio", "version",
}
# Attribute values may point only at something inside the same file.
_URL = re.compile(r"url\(\s*(?!#)", re.IGNORECASE)

bp = Blueprint("diagrams", __name__)


def _local(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


def check_svg(data: bytes) -> list[str]:
    """Return the reasons this SVG may not be shown (an empty list means it is safe to serve)."""
    if len(data) > MAX_BYTES:
        return [f"file is larger than {MAX_BYTES} bytes"]
    text = data.decode("utf-8", "replace").upper()
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        return ["DOCTYPE and entity declarations are not allowed"]
    try:
        # DOCTYPE and entity declarations were refused above, which closes the entity-expansion and external-entity
        # attacks that defusedxml guards against; the files are the program's own content in any case.
        root = ET.fromstring(data)  # noqa: S314
    except ET.ParseError as exc:
        return [f"not well-formed XML: {exc}"]
    problems: list[str] = []
    ns, local = _local(root.tag)
    if (ns, local) != (SVG_NS, "svg"):
        return ["the root element must be <svg> in the SVG namespace"]
    for el in root.iter():
        el_ns, name = _local(el.tag)
        if el_ns != SVG_NS or name not in ALLOWED_ELEMENTS:
            problems.append(f"element <{name}> is not allowed")
            continue
        for attr, value in el.attrib.items():
            attr_ns, attr_name = _local(attr)
            if attr_ns or attr_name not in ALLOWED_ATTRIBUTES:
                problems.append(f"attribute {attr_name!r} on <{name}> is not allowed")
            elif _URL.search(value) or "javascript:" in value.lower():
                problems.append(f"attribute {attr_name!r} on <{name}> refers outside the file")
    children = [_local(c.tag)[1] for c in root]
    if "title" not in children or not (root.find(f"{{{SVG_NS}}}title").text or "").strip():
        problems.append("the diagram needs a non-empty <title> as a child of <svg>")
    if "desc" not in children or not (root.find(f"{{{SVG_NS}}}desc").text or "").strip():
        problems.append("the diagram needs a non-empty <desc> as a child of <svg>")
    if root.get("role") != "img":
        problems.append('the <svg> element needs role="img"')
    return problems


def diagram_path(courses_dir: Path, program: str, name: str) -> Path | None:
    """The file for ``/diagrams/<program>/<name>.svg``, or None for a malformed name."""
    if not (NAME.match(program) and NAME.match(name)):
        return None
    return Path(courses_dir) / program / "diagrams" / f"{name}.svg"


def check_references(courses_dir: Path, markdown: str) -> list[str]:
    """Problems with the diagrams a module body refers to: missing alt text, missing or unsafe files."""
    problems = []
    for ref in REFERENCE.finditer(markdown):
        label = f"/diagrams/{ref['program']}/{ref['name']}.svg"
        if len(ref["alt"].split()) < 5:
            problems.append(f"{label}: alt text must describe the diagram (at least five words)")
        path = diagram_path(courses_dir, ref["program"], ref["name"])
        if path is None or not path.is_file():
            problems.append(f"{label}: no such diagram")
            continue
        problems.extend(f"{label}: {p}" for p in check_svg(path.read_bytes()))
    return problems


@bp.get("/diagrams/<program_id>/<diagram>.svg")
@role_required("trainee", "instructor", "admin")
def show(program_id: str, diagram: str):
    path = diagram_path(current_app.config["COURSES_DIR"], program_id, diagram)
    if path is None or not path.is_file():
        abort(404)
    data = path.read_bytes()
    if check_svg(data):
        current_app.logger.warning("refusing to serve unsafe diagram %s", path)
        abort(404)
    resp = make_response(data)
    resp.headers["Content-Type"] = "image/svg+xml"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    resp.headers["Cache-Control"] = "private, max-age=3600"
    return resp
