"""Certificate serials: 70 random bits in Crockford base32 with a Luhn mod 32 check character.

Example: ``OFM-7K3MQ-9XP2D-4CABV``. Crockford's alphabet leaves out I, L, O and U, and reading is forgiving: lower
case, O for 0 and I/L for 1 are accepted, as are missing or extra dashes.
"""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PREFIX = "OFM"
DATA_CHARS = 14  # 14 × 5 = 70 bits of randomness
_INDEX = {c: i for i, c in enumerate(ALPHABET)}
_READ = str.maketrans({"O": "0", "I": "1", "L": "1"})


def _check_char(data: str) -> str:
    """Luhn mod N (N = 32) check character over the data characters."""
    factor, total, n = 2, 0, len(ALPHABET)
    for ch in reversed(data):
        addend = factor * _INDEX[ch]
        factor = 1 if factor == 2 else 2
        total += addend // n + addend % n
    return ALPHABET[(n - total % n) % n]


def _format(body: str) -> str:
    return f"{PREFIX}-{body[0:5]}-{body[5:10]}-{body[10:15]}"


def new_serial() -> str:
    data = "".join(secrets.choice(ALPHABET) for _ in range(DATA_CHARS))
    return _format(data + _check_char(data))


def normalize(text: str) -> str | None:
    """The canonical serial for user input, or None when it is not a well-formed serial (bad check character)."""
    if not text:
        return None
    raw = "".join(text.upper().split()).replace("-", "")
    if raw.startswith(PREFIX):
        raw = raw[len(PREFIX):]
    raw = raw.translate(_READ)
    if len(raw) != DATA_CHARS + 1 or any(c not in _INDEX for c in raw):
        return None
    data, check = raw[:-1], raw[-1]
    if _check_char(data) != check:
        return None
    return _format(raw)
