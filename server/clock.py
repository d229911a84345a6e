"""The clock (floor 0): timestamps are stored in UTC; phases, deadlines and report days are
calendar days in the campaign's time zone (Beijing)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def now() -> dt.datetime:
    """This moment, timezone-aware, in UTC (what every Timestamptz column holds)."""
    return dt.datetime.now(dt.timezone.utc)


def today() -> dt.date:
    """Today's local calendar day: phases, deadlines and report days are local dates."""
    return dt.datetime.now(LOCAL_TZ).date()


def local_date(value: dt.datetime | dt.date | None) -> dt.date | None:
    """The local calendar day of a timestamp (naive timestamps are UTC); a date stays itself."""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(LOCAL_TZ).date()


def local_dt(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A timestamp as local time text ("" for none); the templates' `local_dt` filter."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(LOCAL_TZ).strftime(fmt)
