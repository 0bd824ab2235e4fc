"""The certificate's words in the holder's language.

The design's own text is marked in ``certificates/<design>/template.html``; the values the certificate prints from
data (profession, jurisdiction, program, endorsement titles and scope statements) are listed here so the catalogue
carries them. Text that has no translation (a changed standard, a new profession) prints as written, in English.
Rendering happens outside any request, so the language is given explicitly, never taken from the request.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from babel.dates import format_date
from babel.support import NullTranslations, Translations

from lms.core.i18n import LANGUAGES, N_

TRANSLATIONS_DIR = Path(__file__).resolve().parents[1] / "translations"

DATA_TEXT = (
    # Professions (lms/providers/professions.py)
    N_("Massage therapist"), N_("Dental hygienist"), N_("Dentist"), N_("Dental therapist"), N_("Nurse"),
    N_("Physical therapist"), N_("Speech-language pathologist"), N_("Occupational therapist"), N_("Physician"),
    # Jurisdictions (lms/jurisdictions/data.py)
    N_("Washington, US"), N_("Oregon, US"), N_("North Carolina, US"), N_("Ohio, US"), N_("British Columbia, CA"),
    N_("Ontario, CA"), N_("Manitoba, CA"), N_("New Brunswick, CA"), N_("Alberta, CA"), N_("Other / not listed"),
    # The program and its endorsements (courses/omr)
    N_("Orofacial Massage & Rehabilitation"),
    N_("Extraoral orofacial massage"),
    N_("Trained and assessed in orofacial massage from outside the mouth: the face, jaw, jaw joint and neck. To be "
       "used only within the holder's own license and the rules where they practise."),
    N_("Intraoral orofacial massage"),
    N_("Trained and assessed in massage inside the mouth, limited to the oral cavity and not the throat, after a "
       "current oral screening by the holder (dental professions) or clearance from a collaborating dental "
       "professional. To be used only within the holder's own license and the rules where they practise, including "
       "any endorsement those rules require."),
)


def check_locale(locale: str) -> str:
    if locale not in LANGUAGES:
        raise ValueError(f"certificate language must be one of {', '.join(LANGUAGES)}, not {locale!r}")
    return locale


@lru_cache(maxsize=8)
def translations(locale: str) -> NullTranslations:
    """The catalogue of ``locale`` (English is the source text: no catalogue)."""
    if check_locale(locale) == "en":
        return NullTranslations()
    return Translations.load(str(TRANSLATIONS_DIR), [locale])


def translate(text: str, locale: str) -> str:
    return translations(locale).gettext(text) if text else text


# English month names, so the printed date never depends on the process locale.
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def long_date(value, locale: str = "en") -> str:
    """"29 November 2026" in English; "29 novembre 2026" in French ("1er décembre 2026" on the first)."""
    if check_locale(locale) == "fr":
        text = format_date(value, "d MMMM y", locale="fr")
        return "1er" + text[1:] if value.day == 1 else text
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"
