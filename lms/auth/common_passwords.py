"""A list of commonly used passwords that new passwords are checked against (case-insensitive)."""

from functools import cache
from pathlib import Path

_PATH = Path(__file__).with_name("common_passwords.txt")


@cache
def _words() -> frozenset[str]:
    return frozenset(line.strip().lower() for line in _PATH.read_text().splitlines() if line.strip())


def is_common(password: str) -> bool:
    return password.lower() in _words()
