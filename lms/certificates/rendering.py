"""Certificate PDF rendering: a plain-data context, a Jinja2 design, a QR code, and :func:`lms.core.pdf.render_pdf`.

Designs live in ``<designs_dir>/<design>/`` with ``template.html``, ``theme.css``, ``metadata.yaml`` and ``fonts/``.
The template is rendered with autoescaping and ``StrictUndefined``, so user-supplied text (names, licence numbers)
always prints as text and a missing key fails loudly instead of printing an empty field. The only markup the
template receives unescaped is the QR code SVG, which this module generates itself.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path

import segno
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from lms.certificates import wording
from lms.core.pdf import FontConfiguration, PdfAttachment, SafeURLFetcher, render_pdf

__all__ = ["CREDENTIAL_ATTACHMENT", "DEFAULT_DESIGNS_DIR", "REQUIRED_KEYS", "build_html", "qr_svg",
           "render_certificate"]

# The repository's certificates/ folder; the app passes its configured path instead.
DEFAULT_DESIGNS_DIR = Path(__file__).resolve().parents[2] / "certificates"

REQUIRED_KEYS = frozenset(
    {
        "holder_name",
        "profession_label",
        "license_number",
        "jurisdiction_label",
        "program_title",
        "endorsements",
        "notices",
        "standard_id",
        "standard_version",
        "issued_on",
        "expires_on",
        "serial",
        "verify_url",
        "issuer_name",
    }
)

# The name of the embedded Open Badges credential inside a certificate PDF.
CREDENTIAL_ATTACHMENT = "credential.json"

# Keys the renderer adds itself; a caller must not be able to smuggle markup in through them.
_RESERVED_KEYS = frozenset({"qr_svg"})

_DESIGN_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")



def qr_svg(url: str) -> Markup:
    """Return inline SVG markup of a QR code for ``url``, marked safe for the template.

    Error correction level M survives light print damage; the 4-module quiet zone is what scanners expect.
    ``omitsize`` leaves sizing to CSS through the SVG's viewBox.
    """
    code = segno.make(url, error="m", micro=False, boost_error=False)
    svg = code.svg_inline(
        scale=1, border=4, dark="#1c2b3a", light="#ffffff", omitsize=True, title="Verification QR code"
    )
    # segno escapes the title and emits only path data; this string is the one piece of trusted markup.
    return Markup(svg)  # noqa: S704 - generated here from a QR matrix, never from user text


def _validate_context(context: dict) -> None:
    missing = REQUIRED_KEYS - context.keys()
    if missing:
        raise KeyError(f"certificate context is missing: {', '.join(sorted(missing))}")
    if _RESERVED_KEYS & context.keys():
        raise ValueError(f"certificate context must not set {', '.join(sorted(_RESERVED_KEYS & context.keys()))}")
    for key in ("issued_on", "expires_on"):
        if not isinstance(context[key], date):
            raise TypeError(f"{key} must be a date")
    if not str(context["verify_url"]).startswith(("https://", "http://")):
        raise ValueError("verify_url must be an http(s) URL")
    wording.check_locale(context.get("locale", "en"))
    for item in context["endorsements"]:
        if not {"id", "title", "scope_statement"} <= item.keys():
            raise KeyError("each endorsement needs id, title and scope_statement")


def _design_dir(design: str, designs_dir: Path) -> Path:
    if not _DESIGN_NAME.fullmatch(design):
        raise ValueError(f"invalid design name {design!r}")
    path = (Path(designs_dir) / design).resolve(strict=True)
    if not (path / "template.html").is_file():
        raise FileNotFoundError(f"design {design!r} has no template.html")
    return path


@lru_cache(maxsize=16)
def _environment(design_dir: str, locale: str = "en") -> Environment:
    # One environment per design folder: Jinja compiles the template once and recompiles it only when the file
    # changes (auto_reload checks its modification time), instead of on every certificate.
    env = Environment(
        loader=FileSystemLoader(design_dir),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.policies["ext.i18n.trimmed"] = True  # as babel.cfg extracts the design's text
    env.install_gettext_translations(wording.translations(locale), newstyle=True)
    env.filters["long_date"] = lambda value: wording.long_date(value, locale)
    return env


def build_html(context: dict, design: str = "classic", designs_dir: Path | None = None) -> str:
    """Render the design's ``template.html`` with ``context`` (see :func:`render_certificate`) and return HTML."""
    _validate_context(context)
    design_dir = _design_dir(design, designs_dir or DEFAULT_DESIGNS_DIR)
    locale = context.get("locale", "en")
    template = _environment(str(design_dir), locale).get_template("template.html")
    issued = context["issued_on"]
    # Midnight UTC of the issue date: fixed per certificate, so re-renders keep identical PDF metadata.
    issued_at = datetime(issued.year, issued.month, issued.day).strftime("%Y-%m-%dT%H:%M:%SZ")
    return template.render({**context, "locale": locale, "qr_svg": qr_svg(context["verify_url"]),
                            "document_date": issued_at})


def render_certificate(
    context: dict,
    design: str = "classic",
    designs_dir: Path | None = None,
    *,
    font_config: FontConfiguration | None = None,
    fetcher: SafeURLFetcher | None = None,
    credential: dict | None = None,
) -> bytes:
    """Render a certificate to PDF/A-3b bytes (unsigned; see :mod:`lms.certificates.signing`).

    ``context`` is plain data, never ORM objects. Required keys:

    - ``holder_name`` (str): the certificate holder's full name.
    - ``profession_label`` (str): e.g. "Licensed massage therapist".
    - ``license_number`` (str) and ``jurisdiction_label`` (str): the holder's licence and where it was issued.
    - ``program_title`` (str): e.g. "Orofacial Massage & Rehabilitation".
    - ``endorsements`` (list of dict): each ``{"id": str, "title": str, "scope_statement": str}``.
    - ``notices`` (list of str): short jurisdiction notices printed in small type.
    - ``standard_id`` (str) and ``standard_version`` (str): the standard the holder was assessed against.
    - ``issued_on`` (date) and ``expires_on`` (date).
    - ``serial`` (str): the certificate serial.
    - ``verify_url`` (str): the public http(s) verification URL, also encoded in the QR code.
    - ``issuer_name`` (str): the issuing organisation.

    Optional: ``locale`` ("en", the default, or "fr"): the language of the design's text and dates. The values above
    are printed as given (:func:`lms.certificates.issuing.build_pdf_context` translates them).

    :param design: Name of a folder in ``designs_dir`` (lowercase letters, digits, ``-`` and ``_``).
    :param designs_dir: Folder of designs; defaults to the repository's ``certificates/``.
    :param font_config: Optional shared :class:`FontConfiguration` (see :func:`lms.core.pdf.shared_font_config`).
    :param fetcher: Optional :class:`SafeURLFetcher` for the design folder, to inspect refusals afterwards.
    :param credential: The certificate's signed Open Badges 3.0 credential, embedded as ``credential.json`` (an
        associated file), so one file carries both the PDF signature and the credential's own proof.
    :returns: PDF bytes; the same context renders to the same bytes.
    :raises KeyError, TypeError, ValueError: On a missing key, a non-date date, or a bad design name or URL.
    """
    html = build_html(context, design, designs_dir)
    design_dir = _design_dir(design, designs_dir or DEFAULT_DESIGNS_DIR)
    stylesheets = [design_dir / "theme.css"] if (design_dir / "theme.css").is_file() else []
    attachments = []
    if credential is not None:
        issued = context["issued_on"]
        attachments.append(PdfAttachment(
            name=CREDENTIAL_ATTACHMENT,
            data=json.dumps(credential, ensure_ascii=False, indent=2).encode("utf-8"),
            description=f"Open Badges 3.0 credential for certificate {context['serial']} (verifiable on its own)",
            when=datetime(issued.year, issued.month, issued.day, tzinfo=UTC),
        ))
    return render_pdf(html, design_dir, stylesheets, font_config, fetcher=fetcher, attachments=attachments)
