"""The printable list of providers near a place (PDF), for a referrer to hand to a patient.

Rendered by WeasyPrint through :func:`lms.core.pdf.render_pdf`: the HTML comes from an autoescaped template, and the
only files the renderer may read are the bundled DejaVu fonts of the certificate design.
"""

from __future__ import annotations

from flask import current_app, render_template

from lms.core.pdf import render_pdf, shared_font_config
from lms.core.timeutil import today
from lms.directory.choices import CONDITIONS, LANGUAGES


def fonts_dir():
    return current_app.config["CERTIFICATE_DESIGNS_DIR"] / "classic" / "fonts"


def render_list(result, entries: list[dict]) -> bytes:
    html = render_template("directory/print.html", result=result, entries=entries, conditions=CONDITIONS,
                           languages=LANGUAGES, printed_on=today())
    return render_pdf(html, fonts_dir(), font_config=shared_font_config())
