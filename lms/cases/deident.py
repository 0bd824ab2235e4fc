"""The patient-identifier check for free text on cases, measures and letters.

Case codes keep the existing rule (lms.screening.operations.case_code_problem). Free text is refused when it holds
something that commonly identifies a patient: a date that could be a birth date, a record or phone number, an
e-mail address, a titled name (Mr/Mrs/Ms/Miss/Dr + name) or the words "date of birth", "DOB", "MRN", "NHS number",
"SSN". The check is deliberately conservative; the message says what was found so the trainee can rewrite it.
"""

from __future__ import annotations

import re

from lms.screening.operations import case_code_problem, normalize_case_code

_PATTERNS: tuple[tuple[re.Pattern, str], ...] = (
    (re.compile(r"\b(date of birth|d\.?o\.?b\.?|born on|mrn|medical record|record number|nhs number|ssn|"
                r"social security|health card|chart number)\b", re.I), "a birth date or record number label"),
    (re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"), "an e-mail address"),
    (re.compile(r"\b\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}\b"), "a date (dates identify patients; write 'week 3' instead)"),
    (re.compile(r"\b\d{1,2}\s+(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{2,4}\b", re.I),
     "a date (dates identify patients; write 'week 3' instead)"),
    (re.compile(r"(?:\+?\d[\s()-]*){7,}"), "a phone or record number"),
    (re.compile(r"\b(?i:mr|mrs|ms|miss|mx|mister)\.?\s+[A-Z][a-z]+"), "a patient's name"),
)


def text_problem(text: str | None, field: str) -> str | None:
    """Why ``text`` may identify a patient (None when it does not)."""
    if not text:
        return None
    for pattern, what in _PATTERNS:
        if pattern.search(text):
            return (f"{field} seems to contain {what}. Cases are de-identified: never write a patient's name, "
                    "initials, date of birth, contact details or record number. Rewrite it and try again.")
    return None


def code_problem(code: str | None) -> str | None:
    """The existing case-code rule (own case numbers only)."""
    normalized = normalize_case_code(code)
    if not normalized:
        return "Enter your own case number, such as C07."
    return case_code_problem(normalized)
