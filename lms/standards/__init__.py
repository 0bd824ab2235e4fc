"""Certification standard files (courses/<program>/standard.yaml): loading, checking and summarising."""

from lms.standards.validation import (
    InvalidStandard,
    StandardError,
    check_standard_file,
    load_standard,
    load_standard_text,
    standard_digest,
    summarize,
)

__all__ = [
    "InvalidStandard",
    "StandardError",
    "check_standard_file",
    "load_standard",
    "load_standard_text",
    "standard_digest",
    "summarize",
]
