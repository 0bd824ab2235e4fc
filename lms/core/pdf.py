"""HTML to PDF rendering with WeasyPrint behind a locked-down URL fetcher.

WeasyPrint's default fetcher reads ``file://`` and ``http(s)://`` URLs, so any markup that reaches the renderer could
disclose local files (``<img src="file:///etc/passwd">``, ``<link rel=attachment>``) or make the server issue requests
(SSRF). Every render here goes through :class:`SafeURLFetcher`, which serves only regular files inside one base
directory plus ``data:`` URLs and refuses everything else.

Output is deterministic: the same HTML, stylesheets and fonts give byte-identical PDFs. WeasyPrint writes no creation
date unless the document carries ``<meta name=dcterms.created>``; templates derive that from the issue date. The PDF
file identifier is derived from the input instead of being left out, because a signer would otherwise add a random one.
"""

from __future__ import annotations

import hashlib
import mimetypes
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from weasyprint import CSS, HTML, Attachment, URLFetcher
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcherResponse

__all__ = ["PDF_VARIANT", "FetchRefused", "FontConfiguration", "PdfAttachment", "SafeURLFetcher", "render_pdf",
           "shared_font_config"]

# Archival PDF (ISO 19005-3, level B): fonts embedded, an sRGB output intent, XMP metadata that names the part and
# conformance, and embedded files allowed as associated files. WeasyPrint also tags the structure (pdf_tags) so
# assistive technology reads the text in order; it cannot claim PDF/A and PDF/UA identification in one document.
PDF_VARIANT = "pdf/a-3b"

# Fonts and images of a design are well under this; the cap stops a misconfigured design from pulling in a huge file.
MAX_RESOURCE_BYTES = 20 * 1024 * 1024

# mimetypes does not know every font extension on every platform; WeasyPrint only needs text/css to be right.
_EXTRA_TYPES = {
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".svg": "image/svg+xml",
}


@dataclass(frozen=True)
class PdfAttachment:
    """A file embedded in the PDF as an associated file (PDF/A-3 /AF), e.g. a machine-readable credential."""

    name: str
    data: bytes
    description: str
    when: datetime  # creation and modification time written for the file, so identical inputs give identical bytes
    relationship: str = "Alternative"  # ISO 32000-2 7.11.3: an alternative representation of the content


class FetchRefused(ValueError):
    """Raised by :class:`SafeURLFetcher` for a URL outside its allowlist."""


class SafeURLFetcher(URLFetcher):
    """A WeasyPrint URL fetcher that serves only files under ``base_dir`` and ``data:`` URLs.

    ``file://`` URLs are resolved (following symlinks) and must stay inside ``base_dir`` and name a regular file;
    ``http``, ``https``, ``ftp`` and every other scheme are refused. Refusals raise :class:`FetchRefused`, which
    WeasyPrint logs and skips, so the resource is simply missing from the PDF; each refused URL is also recorded in
    :attr:`refused` so callers and tests can see what was blocked. Redirects are disabled as a second line of defence.
    """

    def __init__(self, base_dir: Path, **kwargs):
        # allowed_protocols only matters for the data: URLs handed to the parent class; files never reach it.
        super().__init__(allowed_protocols=("data",), allow_redirects=False, timeout=5, **kwargs)
        self.base_dir = Path(base_dir).resolve(strict=True)
        if not self.base_dir.is_dir():
            raise NotADirectoryError(str(self.base_dir))
        self.refused: list[str] = []
        self._lock = threading.Lock()

    def _refuse(self, url: str, why: str) -> FetchRefused:
        with self._lock:
            self.refused.append(url)
        return FetchRefused(f"refused to fetch {url[:200]!r}: {why}")

    def fetch(self, url, headers=None):
        """Return the resource for ``url`` or raise :class:`FetchRefused`."""
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme != "file":
            raise self._refuse(url, f"scheme {scheme or '(none)'!r} is not allowed")

        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise self._refuse(url, "remote file host")
        try:
            path = Path(url2pathname(parts.path)).resolve(strict=True)
        except (OSError, RuntimeError, ValueError):
            raise self._refuse(url, "file does not exist") from None
        # resolve() has already followed every symlink, so a link pointing outside base_dir fails here.
        if not path.is_relative_to(self.base_dir):
            raise self._refuse(url, "outside the design directory")
        # Only regular files: a device such as /dev/urandom (or a FIFO) would make rendering hang.
        if not path.is_file():
            raise self._refuse(url, "not a regular file")
        if path.stat().st_size > MAX_RESOURCE_BYTES:
            raise self._refuse(url, "file too large")

        body = path.read_bytes()
        content_type = _EXTRA_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
        response_headers = {"Content-Type": content_type or "application/octet-stream"}
        return URLFetcherResponse(path.as_uri(), body=body, headers=response_headers)


_shared_font_config: FontConfiguration | None = None
_shared_lock = threading.Lock()


def shared_font_config() -> FontConfiguration:
    """Return a process-wide :class:`FontConfiguration`, created on first use.

    Reusing one configuration avoids re-registering the design's ``@font-face`` files on every render (WeasyPrint
    caches faces by their descriptors), which saves time and temporary files in a long-running worker.
    """
    global _shared_font_config
    with _shared_lock:
        if _shared_font_config is None:
            _shared_font_config = FontConfiguration()
        return _shared_font_config


_stylesheets: dict[tuple, CSS] = {}


def _stylesheet(path: Path, fetcher: SafeURLFetcher, font_config: FontConfiguration, *, cacheable: bool) -> CSS:
    """The design's parsed stylesheet, parsed once per file version and font configuration (about 10 ms a render).

    Not cached when the caller brought its own fetcher to inspect what it refused: then every fetch must happen."""
    if not cacheable:
        return CSS(filename=str(path), url_fetcher=fetcher, font_config=font_config)
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size, id(font_config))
    with _shared_lock:
        sheet = _stylesheets.get(key)
    if sheet is None:
        sheet = CSS(filename=str(path), url_fetcher=fetcher, font_config=font_config)
        with _shared_lock:
            if len(_stylesheets) > 32:
                _stylesheets.clear()
            _stylesheets[key] = sheet
    return sheet


def _document_identifier(html: str, stylesheets: list[Path], embedded_data: list[bytes]) -> bytes:
    digest = hashlib.sha256(html.encode("utf-8"))
    for sheet in stylesheets:
        digest.update(b"\0" + sheet.read_bytes())
    for data in embedded_data:
        digest.update(b"\1" + data)
    return digest.hexdigest()[:32].encode("ascii")


def render_pdf(
    html: str,
    base_dir: Path,
    stylesheets: list[Path] | None = None,
    font_config: FontConfiguration | None = None,
    *,
    fetcher: SafeURLFetcher | None = None,
    attachments: list[PdfAttachment] | None = None,
) -> bytes:
    """Render ``html`` to tagged PDF/A-3b bytes, fetching resources only from ``base_dir``.

    :param html: A complete HTML document. Relative URLs in it resolve against ``base_dir``.
    :param base_dir: Directory holding the design's assets (fonts, images); nothing outside it can be read.
    :param stylesheets: Extra CSS files, which must also live inside ``base_dir``.
    :param font_config: A :class:`FontConfiguration` to share between renders (see :func:`shared_font_config`);
        a fresh one is made when omitted.
    :param fetcher: A :class:`SafeURLFetcher` for ``base_dir`` when the caller wants to inspect
        :attr:`SafeURLFetcher.refused` afterwards; one is made when omitted.
    :param attachments: Files to embed as PDF/A-3 associated files (listed in the catalogue's /AF).
    :returns: The PDF document. Identical inputs give identical bytes.
    :raises ValueError: If a stylesheet lies outside ``base_dir`` or ``fetcher`` serves another directory.
    """
    base = Path(base_dir).resolve(strict=True)
    own_fetcher = fetcher is None
    if fetcher is None:
        fetcher = SafeURLFetcher(base)
    elif fetcher.base_dir != base:
        raise ValueError("fetcher serves a different directory than base_dir")
    font_config = font_config or FontConfiguration()

    sheets: list[Path] = []
    for sheet in stylesheets or []:
        resolved = Path(sheet).resolve(strict=True)
        if not resolved.is_relative_to(base):
            raise ValueError(f"stylesheet {sheet} is outside {base}")
        sheets.append(resolved)

    shared = own_fetcher and font_config is _shared_font_config
    css = [_stylesheet(s, fetcher, font_config, cacheable=shared) for s in sheets]
    # Trailing slash so that relative URLs resolve inside base_dir rather than next to it.
    document = HTML(string=html, base_url=base.as_uri() + "/", url_fetcher=fetcher)
    embedded = [
        Attachment(string=item.data, name=item.name, description=item.description, created=item.when,
                   modified=item.when, relationship=item.relationship, url_fetcher=fetcher)
        for item in attachments or []
    ]
    return document.write_pdf(
        stylesheets=css,
        font_config=font_config,
        pdf_identifier=_document_identifier(html, sheets, embedded_data=[a.data for a in attachments or []]),
        pdf_variant=PDF_VARIANT,
        pdf_tags=True,
        attachments=embedded,
    )
