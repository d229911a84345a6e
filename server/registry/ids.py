"""Identity numbers: the Unified Social Credit Code of a unit and the resident ID number of a
person. Pure functions, no I/O.

- 统一社会信用代码 (GB 32100-2015): 18 characters over a 31-character alphabet (no I, O, S,
  V, Z). Position 1 is the registration authority, 2 the organisation type, 3–8 the
  administrative division, 9–17 the organisation code (GB 11714, itself with a check
  character at position 17) and 18 the check character over the first 17.
- 居民身份证号码 (GB 11643-1999): 6-digit address code, 8-digit birth date, 3-digit sequence
  (odd = male, even = female) and a check character (0–9 or X, ISO 7064 MOD 11-2).
"""

from __future__ import annotations

import unicodedata
from datetime import date

from server.audit.masking import mask_id_number  # noqa: F401 - the pages' rule, also the audit log's

# --- Unified Social Credit Code --------------------------------------------------------------

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(USCC_CHARSET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_char(first17: str) -> str:
    """The 18th character of a USCC whose first 17 characters are given.

    Raises ValueError when the input is not 17 characters of the USCC alphabet."""
    if len(first17) != 17:
        raise ValueError("a USCC check character needs exactly 17 characters")
    try:
        total = sum(_USCC_VALUE[c] * w for c, w in zip(first17, _USCC_WEIGHTS))
    except KeyError as exc:
        raise ValueError(f"character {exc.args[0]!r} is not allowed in a USCC") from None
    return USCC_CHARSET[(31 - total % 31) % 31]


def is_valid_uscc(code: str | None) -> bool:
    """True for an 18-character, upper-case USCC whose check character matches.

    Only the alphabet is checked for the registration authority and type (positions 1–2);
    callers should `normalise_uscc` user input first."""
    if not code or len(code) != 18:
        return False
    if any(c not in _USCC_VALUE for c in code):
        return False
    return uscc_check_char(code[:17]) == code[17]


def normalise_uscc(text: str | None) -> str:
    """User input to canonical form: full-width to half-width, no whitespace, upper case.
    The result is not necessarily valid; check it with `is_valid_uscc`."""
    return _normalise(text)


# The organisation code (GB 11714-1997) embedded at positions 9–17 of a USCC.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def org_code_check_char(first8: str) -> str:
    """Check character of a 9-character organisation code (GB 11714) from its first 8.

    Digits count 0–9 and letters A–Z 10–35; the result is a digit or X. Used to build
    realistic demo codes; `is_valid_uscc` does not require it (only GB 32100's own check)."""
    if len(first8) != 8 or not all(c.isascii() and c.isalnum() for c in first8):
        raise ValueError("an organisation code check needs 8 ASCII letters or digits")
    total = sum(int(c, 36) * w for c, w in zip(first8.upper(), _ORG_WEIGHTS))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


# --- Resident ID number --------------------------------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_check_digit(first17: str) -> str:
    """The 18th character (0–9 or X) of an ID number whose first 17 digits are given.

    Raises ValueError when the input is not 17 ASCII digits."""
    if len(first17) != 17 or not (first17.isascii() and first17.isdigit()):
        raise ValueError("an ID check digit needs exactly 17 digits")
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS))
    return _ID_CHECK[total % 11]


def id_birth_date(number: str | None) -> date | None:
    """The birth date (positions 7–14) of an 18-character ID number, or None if not a date."""
    if not number or len(number) != 18 or not number[6:14].isdigit():
        return None
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None
    return born if born.year >= 1800 else None


def is_valid_id_number(s: str | None) -> bool:
    """True for an 18-character resident ID number: 17 digits then a digit or upper-case X,
    a real calendar date at positions 7–14, and a matching check digit.

    Callers should `normalise_id_number` user input first (a lower-case x is not accepted)."""
    if not s or len(s) != 18:
        return False
    body, check = s[:17], s[17]
    if not (body.isascii() and body.isdigit()):
        return False
    if not (check == "X" or (check.isascii() and check.isdigit())):
        return False
    if id_birth_date(s) is None:
        return False
    return id_check_digit(body) == check


def normalise_id_number(text: str | None) -> str:
    """User input to canonical form: full-width to half-width, no whitespace, x to X."""
    return _normalise(text)


# --- shared --------------------------------------------------------------------------------


def _normalise(text: str | None) -> str:
    if not text:
        return ""
    # NFKC folds full-width letters and digits (and the ideographic space) to ASCII.
    folded = unicodedata.normalize("NFKC", text)
    return "".join(folded.split()).upper()
