"""Personal information as the screen shows it, for the pages and for the audit log (pure).

One rule for both: what the audit log keeps of a guard's ID number is exactly what the
registry pages show of it (registry/ids.py re-exports `mask_id_number` for them).
"""

from __future__ import annotations

MASKED_FIELDS = frozenset({"id_number"})
"""Fields of a snapshot (audit/service.py) that the audit log keeps masked."""


def mask_id_number(s: str | None) -> str:
    """For display: keep the first 4 and the last 4 characters, star the rest
    ("120225198001011234" -> "1202**********1234"). Anything of 8 characters or fewer
    is starred completely, so a short or partial number is never shown in the clear."""
    if not s:
        return ""
    s = s.strip()
    if len(s) <= 8:
        return "*" * len(s)
    return s[:4] + "*" * (len(s) - 8) + s[-4:]
