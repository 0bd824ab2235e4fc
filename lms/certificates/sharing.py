"""Showing a certificate elsewhere: its status badge (SVG and PNG), the LinkedIn "add certification" link and the
snippet a provider pastes into a website. Everything here is built from the public record (see
:func:`lms.certificates.verification.public_record`), so it can be cached under the same state key and never shows
more than the verify page does."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

from markupsafe import Markup, escape

# Words and colours per status. Only an active certificate is ever green; revoked is red, expired amber.
STATUS_WORDS = {"active": "Valid", "expired": "Expired", "revoked": "Revoked"}
STATUS_COLOURS = {"active": "#1b6e3a", "expired": "#8a5a00", "revoked": "#a11d2b"}
BADGE_SIZE = (360, 120)
LINKEDIN_ADD_URL = "https://www.linkedin.com/profile/add"


def long_date(value: date | str) -> str:
    """26 November 2026 (no leading zero)."""
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return f"{day.day} {day.strftime('%B %Y')}"


def status_word(status: str) -> str:
    return STATUS_WORDS.get(status, "Unknown")


def _badge_lines(record: dict, issuer: str) -> dict:
    status = record["status"]
    if status == "active":
        detail = f"until {long_date(record['expires_on'])}"
    elif status == "expired":
        detail = f"on {long_date(record['expires_on'])}"
    else:
        detail = f"on {long_date(record['revocation']['date'])}"
    return {"issuer": issuer, "status": status_word(status).upper(), "detail": detail,
            "holder": record["holder"]["name"], "serial": record["serial"],
            "colour": STATUS_COLOURS.get(status, "#4b5563")}


def badge_svg(record: dict, issuer: str) -> bytes:
    """A 360×120 badge: the issuer, the status in large letters with its date, the holder and the serial."""
    b = {k: escape(v) for k, v in _badge_lines(record, issuer).items()}
    w, h = BADGE_SIZE
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" '
        f'aria-label="{b["issuer"]}: certificate {b["serial"]} of {b["holder"]} is {b["status"]} {b["detail"]}">'
        f'<title>{b["issuer"]}: certificate {b["serial"]} — {b["status"]} {b["detail"]}</title>'
        f'<rect x="0.5" y="0.5" width="{w - 1}" height="{h - 1}" rx="10" fill="#ffffff" stroke="#d5dbe3"/>'
        f'<rect x="0" y="0" width="14" height="{h}" rx="7" fill="{b["colour"]}"/>'
        '<g font-family="DejaVu Sans, Verdana, sans-serif" fill="#1d2430">'
        f'<text x="28" y="26" font-size="13" fill="#4b5563">{b["issuer"]}</text>'
        f'<text x="28" y="60" font-size="28" font-weight="bold" fill="{b["colour"]}">{b["status"]}</text>'
        f'<text x="28" y="80" font-size="13">{b["detail"]}</text>'
        f'<text x="28" y="98" font-size="13">{b["holder"]}</text>'
        f'<text x="28" y="114" font-size="11" fill="#4b5563">{b["serial"]}</text>'
        '</g></svg>'
    )
    return svg.encode()


def badge_png(record: dict, issuer: str, fonts_dir: Path) -> bytes:
    """The same badge as a PNG (drawn with Pillow, with the DejaVu fonts shipped beside the certificate design)."""
    from PIL import Image, ImageDraw, ImageFont

    b = _badge_lines(record, issuer)
    scale = 2  # drawn at twice the size so it stays sharp on high-density screens
    w, h = BADGE_SIZE[0] * scale, BADGE_SIZE[1] * scale
    img = Image.new("RGB", (w, h), "#ffffff")
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((0, 0, w - 1, h - 1), radius=10 * scale, outline="#d5dbe3", width=scale)
    draw.rounded_rectangle((0, 0, 14 * scale, h - 1), radius=7 * scale, fill=b["colour"])
    regular = str(fonts_dir / "DejaVuSans.ttf")
    bold = str(fonts_dir / "DejaVuSerif-Bold.ttf")

    def text(y, value, size, fill="#1d2430", font=regular):
        draw.text((28 * scale, y * scale), value, fill=fill, font=ImageFont.truetype(font, size * scale),
                  anchor="ls")

    text(26, b["issuer"], 13, "#4b5563")
    text(60, b["status"], 28, b["colour"], bold)
    text(80, b["detail"], 13)
    text(98, b["holder"], 13)
    text(114, b["serial"], 11, "#4b5563")
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()


def linkedin_url(record: dict, *, certification_name: str, organisation: str, verify_url: str) -> str:
    """LinkedIn's "add certification" form, filled in: name, issuer, issue and expiry month, verify URL and serial.

    The parameter names (startTask, name, organizationName, issueYear, issueMonth, expirationYear, expirationMonth,
    certUrl, certId) are those of LinkedIn's Add to Profile link for certifications.
    """
    issued = date.fromisoformat(record["issued_on"])
    expires = date.fromisoformat(record["expires_on"])
    return LINKEDIN_ADD_URL + "?" + urlencode({
        "startTask": "CERTIFICATION_NAME", "name": certification_name, "organizationName": organisation,
        "issueYear": issued.year, "issueMonth": issued.month, "expirationYear": expires.year,
        "expirationMonth": expires.month, "certUrl": verify_url, "certId": record["serial"],
    })


def embed_snippet(record: dict, *, verify_url: str, badge_url: str, issuer: str) -> str:
    """Plain HTML a provider can paste into a website: a link to the verify page around the live badge image.

    No script: the badge is fetched from the registry each time, so it shows the status of the day.
    """
    alt = f"{issuer}: verify certificate {record['serial']} of {record['holder']['name']}"
    return str(Markup('<a href="{}" title="Verify this certificate"><img src="{}" alt="{}" width="{}" height="{}">'
                      '</a>').format(verify_url, badge_url, alt, *BADGE_SIZE))
