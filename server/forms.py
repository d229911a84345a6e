"""Reading form fields with clear Chinese messages (floor 0). Pure: a mapping in, values or
errors out; every form of the app reads its fields through these."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import uuid as uuidlib
from typing import Any, Mapping

from server import clock
from server.errors import FormError

MAX_NOTE = 500


def text(form: Mapping[str, Any], name: str, *, label: str, max_len: int = MAX_NOTE,
         required: bool = False, errors: dict[str, str]) -> str:
    value = str(form.get(name) or "").replace("\x00", "").strip()
    if required and not value:
        errors[name] = f"请填写{label}"
    elif len(value) > max_len:
        errors[name] = f"{label}不能超过 {max_len} 字（现有 {len(value)} 字）"
    return value[:max_len]


def choice(form: Mapping[str, Any], name: str, allowed: set[str], *, label: str,
           required: bool = True, errors: dict[str, str]) -> str:
    value = str(form.get(name) or "").strip()
    if not value:
        if required:
            errors[name] = f"请选择{label}"
        return ""
    if value not in allowed:
        errors[name] = f"{label}的取值无效"
        return ""
    return value


def tristate(form: Mapping[str, Any], name: str) -> bool | None:
    """'yes' → True, 'no' → False, anything else → None (not checked)."""
    value = str(form.get(name) or "")
    return True if value == "yes" else False if value == "no" else None


def integer(form: Mapping[str, Any], name: str, *, label: str, minimum: int = 0, maximum: int = 10_000,
            required: bool = False, errors: dict[str, str]) -> int | None:
    raw = str(form.get(name) or "").strip()
    if not raw:
        if required:
            errors[name] = f"请填写{label}"
        return None
    if not re.fullmatch(r"-?\d+", raw):
        errors[name] = f"{label}须为整数"
        return None
    value = int(raw)
    if not minimum <= value <= maximum:
        errors[name] = f"{label}须在 {minimum}–{maximum} 之间"
        return None
    return value


def number(form: Mapping[str, Any], name: str, *, lo: float, hi: float) -> float | None:
    """An optional float (GPS); out of range or garbage is dropped, not an error."""
    try:
        value = float(str(form.get(name) or ""))
    except ValueError:
        return None
    return value if lo <= value <= hi else None


def client_uuid(form: Mapping[str, Any], name: str = "uuid") -> str:
    """The client-made UUID that makes a submission idempotent."""
    raw = str(form.get(name) or "").strip()
    try:
        return str(uuidlib.UUID(raw))
    except ValueError:
        raise FormError({name: "请求缺少有效的编号，请刷新页面后重试"}) from None


MAX_ID = 2**31 - 1
"""The largest id a table holds (PostgreSQL's integer); a larger number names no record, and
given to a query it is refused by the database (SQLite: beyond 64 bits) as an error, not a miss."""


def record_id(raw: Any) -> int | None:
    """An id from a form, a query string or a path: a whole number of at most MAX_ID, else None
    (which finds nothing). Anything else — a file, a list, text, a sign — is not an id."""
    value = raw.strip() if isinstance(raw, str) else str(raw) if isinstance(raw, int) else ""
    if not (value.isascii() and value.isdigit()) or len(value) > 10:
        return None
    number = int(value)
    return number if number <= MAX_ID else None


def page_number(raw: Any) -> int:
    """A list's page from the query string: 1 unless a positive whole number (capped)."""
    value = str(raw or "").strip()
    return min(int(value), 100_000) if value.isdigit() and 0 < len(value) < 7 and int(value) > 0 else 1


def new_uuid() -> str:
    return str(uuidlib.uuid4())


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def parse_date(value: Any) -> dt.date | None:
    """A date from a form field or a spreadsheet cell: a date/datetime, "2020-12-14",
    "2020/12/14", "2020.12.14", "2020年12月14日" or "20201214" (full-width digits too).
    Empty → None; anything else raises ValueError."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raw = unicodedata.normalize("NFKC", str(value)).strip()
    if not raw:
        return None
    raw = raw.split(" ")[0]  # "2020-12-14 00:00:00"
    for pattern in _DATE_PATTERNS:
        m = pattern.match(raw)
        if m:
            return dt.date(int(m[1]), int(m[2]), int(m[3]))  # ValueError for 2020-02-30
    raise ValueError(raw)


def date_field(form: Mapping[str, Any], name: str, *, label: str, errors: dict[str, str],
               required: bool = False, default: dt.date | None = None,
               not_future: bool = False) -> dt.date | None:
    """A calendar date (what <input type=date> sends, or a date typed by hand in any of the
    forms parse_date reads). Blank gives the default, or an error when required and there is
    no default; `not_future` refuses a day after today (local time)."""
    try:
        value = parse_date(form.get(name))
    except ValueError:
        errors[name] = f"{label}不是有效日期，请按 年-月-日 填写，例如 2021-01-15"
        return None
    if value is None:
        if required and default is None:
            errors[name] = f"请填写{label}"
        return default
    if value.year < 1950:
        errors[name] = f"{label}早于 1950 年，请核对"
    elif not_future and value > clock.today():
        errors[name] = f"{label}不能晚于今天"
    return value
