"""Weekly cumulative reports (累计周报): which days are report days, and what changed
between two weeks. Pure functions, no I/O."""

from __future__ import annotations

import base64
import operator
import datetime as dt
import zlib
from dataclasses import dataclass
from itertools import chain
from typing import Iterable

from server.ledger.columns import BY_NUMBER
from server.ledger.row import NUMBER_COLUMNS


@dataclass(frozen=True)
class Week:
    number: int
    """第N期, counted from the first report day."""
    ending: dt.date


def report_weeks(first: dt.date | None, last: dt.date | None, weekday: int) -> list[Week]:
    """Every day with the given weekday (0 = Monday … 4 = Friday) from `first` to `last`,
    both included. Nothing when the campaign names no reporting period."""
    if first is None or last is None or not 0 <= weekday <= 6:
        return []
    day = first + dt.timedelta(days=(weekday - first.weekday()) % 7)
    weeks = []
    while day <= last:
        weeks.append(Week(len(weeks) + 1, day))
        day += dt.timedelta(days=7)
    return weeks


def parse_day(raw: str | None) -> dt.date | None:
    """A YYYY-MM-DD date, or None."""
    try:
        return dt.date.fromisoformat((raw or "").strip())
    except ValueError:
        return None


@dataclass(frozen=True)
class Change:
    column: int
    label: str
    unit: str
    before: int | None
    after: int

    @property
    def delta(self) -> int | None:
        return None if self.before is None else self.after - self.before

    @property
    def changed(self) -> bool:
        return self.before is not None and self.after != self.before


def compare(before: dict[int, int] | None, after: dict[int, int]) -> list[Change]:
    """Column by column, this week's cumulative numbers against the earlier week's (None:
    there is no earlier week to compare with)."""
    return [Change(c, BY_NUMBER[c].label, BY_NUMBER[c].unit,
                   None if before is None else before.get(c, 0), after.get(c, 0))
            for c in NUMBER_COLUMNS]


def _varint(gap: int) -> bytes:
    out = bytearray()
    while gap >= 0x80:
        out.append((gap & 0x7F) | 0x80)
        gap >>= 7
    out.append(gap)
    return bytes(out)


class _Varints(dict):
    """A gap's LEB128 bytes, kept for the gaps below 2**14 (one or two bytes) once met."""

    def __missing__(self, gap: int) -> bytes:
        found = _varint(gap)
        if gap < 1 << 14:
            self[gap] = found
        return found


_VARINTS = _Varints()


def pack_ids(ids: Iterable[int]) -> str:
    """Record ids as compact text: sorted, as gaps between neighbours (LEB128 varints),
    deflated, base64. Half a million guard ids take well under a megabyte. Each gap's bytes
    are looked up, not computed (a weekly freeze packs three million ids)."""
    ordered = sorted(ids)
    gaps = map(operator.sub, ordered, chain((0,), ordered))
    return base64.b64encode(zlib.compress(b"".join(map(_VARINTS.__getitem__, gaps)), 6)).decode("ascii")


def unpack_ids(text: str) -> list[int]:
    data = zlib.decompress(base64.b64decode(text))
    ids: list[int] = []
    last = value = shift = 0
    for byte in data:
        value |= (byte & 0x7F) << shift
        if byte & 0x80:
            shift += 7
            continue
        last += value
        ids.append(last)
        value = shift = 0
    return ids
