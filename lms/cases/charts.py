"""Server-side SVG line charts (no script, no inline style: the page's CSP allows neither).

Every chart carries a <title> and a <desc> naming every point; the page also prints the same data as a table, so
the chart never holds information a screen-reader user cannot reach.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

WIDTH, HEIGHT = 480, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 40


@dataclass(frozen=True)
class Point:
    label: str  # x-axis label (a date or "Baseline"/"Follow-up")
    value: float
    note: str = ""  # e.g. the timepoint


def _fmt(v: float) -> str:
    return f"{v:g}"


def line_chart(chart_id: str, title: str, unit: str, points: list[Point], *, lo: float, hi: float,
               band: tuple[float, float] | None = None) -> Markup:
    """A line chart of ``points`` on a fixed y range ``lo``-``hi``; ``band`` shades a y range (e.g. the baseline's
    measurement error)."""
    tid, did = f"{chart_id}-title", f"{chart_id}-desc"
    described = "; ".join(f"{p.label}{' (' + p.note + ')' if p.note else ''}: {_fmt(p.value)} {unit}"
                          for p in points) or "no measurements yet"
    desc = f"{title}, {len(points)} measurement{'s' if len(points) != 1 else ''}: {described}."
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    span = (hi - lo) or 1

    def y(v: float) -> float:
        return round(TOP + plot_h - (min(max(v, lo), hi) - lo) / span * plot_h, 1)

    def x(i: int) -> float:
        return round(LEFT + (plot_w / 2 if len(points) == 1 else i * plot_w / (len(points) - 1)), 1)

    parts = [f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-labelledby="{escape(tid)} {escape(did)}" xmlns="http://www.w3.org/2000/svg">',
             f'<title id="{escape(tid)}">{escape(title)}</title>', f'<desc id="{escape(did)}">{escape(desc)}</desc>']
    if band is not None:
        top, bottom = y(band[1]), y(band[0])
        parts.append(f'<rect class="chart-band" x="{LEFT}" y="{top}" width="{plot_w}" height="{round(bottom - top, 1)}"'
                     ' fill="#dbeafe"/>')
    for i in range(5):  # gridlines and y labels
        v = lo + span * i / 4
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(v)}" y2="{y(v)}" stroke="#d1d5db"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y(v) + 4}" text-anchor="end" font-size="11" fill="#374151">'
                     f'{escape(_fmt(round(v, 1)))}</text>')
    parts.append(f'<text x="12" y="{TOP + plot_h / 2}" font-size="11" fill="#374151" '
                 f'transform="rotate(-90 12 {TOP + plot_h / 2})" text-anchor="middle">{escape(unit)}</text>')
    if points:
        coords = " ".join(f"{x(i)},{y(p.value)}" for i, p in enumerate(points))
        parts.append(f'<polyline points="{coords}" fill="none" stroke="#1d4ed8" stroke-width="2"/>')
        for i, p in enumerate(points):
            parts.append(f'<circle cx="{x(i)}" cy="{y(p.value)}" r="4" fill="#1d4ed8"/>')
            parts.append(f'<text x="{x(i)}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" font-size="10" '
                         f'fill="#374151">{escape(p.label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every value above is escaped or a number


def date_label(d: date) -> str:
    return d.isoformat()
