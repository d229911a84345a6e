"""The rules of the bodies' reports, pure (no I/O): which days are report days, where a
body stands on one, what a body may override, and what the district table's cell is."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from server.ledger.columns import BY_NUMBER
from server.ledger.row import NUMBER_COLUMNS, Cell, StatRow
from server.vocab import ReportStatus

MAX_FIGURE = 10_000_000
NOTE_MAX = 500
STORED = (ReportStatus.submitted.value, ReportStatus.accepted.value, ReportStatus.returned.value)
EDITABLE = (ReportStatus.draft.value, ReportStatus.returned.value)


def report_days(weekly_days: Iterable[dt.date], statistics_days: Iterable[dt.date]) -> list[dt.date]:
    """Every day a body reports on: the weekly report days and the day(s) the statistics
    table is due (12-31 in the seed), each once, in order."""
    return sorted(set(weekly_days) | set(statistics_days))


def status_of(stored: str | None, day: dt.date, today: dt.date) -> str:
    """Where a body stands on a report day: its report's state once it has submitted; before
    that (no report, or a draft) 未报送 until the report day ends and 逾期 after."""
    if stored in STORED:
        return stored
    return ReportStatus.late.value if today > day else ReportStatus.missing.value


def submitted_late(submitted_on: dt.date | None, day: dt.date) -> bool:
    """Submitted after the report day ended (local date)."""
    return submitted_on is not None and submitted_on > day


@dataclass(frozen=True)
class Override:
    value: int
    note: str


def parse_overrides(form: Mapping[str, Any], computed: Mapping[int, int]
                    ) -> tuple[dict[int, Override], dict[str, str]]:
    """The body's own figures from the form (v<column>, n<column>): a blank figure, or one equal
    to the computed number, overrides nothing; any other needs a whole number and a note.
    Returns (overrides, errors by field)."""
    out: dict[int, Override] = {}
    errors: dict[str, str] = {}
    for c in NUMBER_COLUMNS:
        raw = str(form.get(f"v{c}") or "").strip()
        note = str(form.get(f"n{c}") or "").strip()
        label = f"第{c}栏（{BY_NUMBER[c].label}）"
        if not raw:
            continue
        try:
            value = int(raw)
        except ValueError:
            errors[f"v{c}"] = f"{label}请填写整数"
            continue
        if not 0 <= value <= MAX_FIGURE:
            errors[f"v{c}"] = f"{label}应在 0 到 {MAX_FIGURE} 之间"
            continue
        if value == computed.get(c, 0):
            continue
        if not note:
            errors[f"n{c}"] = f"{label}与记录统计的 {computed.get(c, 0)} 不同，请说明原因"
            continue
        if len(note) > NOTE_MAX:
            errors[f"n{c}"] = f"{label}的说明不能超过 {NOTE_MAX} 字"
            continue
        out[c] = Override(value, note)
    return out, errors


def overrides_to_data(overrides: Mapping[int, Override]) -> dict[str, dict]:
    return {str(c): {"value": o.value, "note": o.note} for c, o in sorted(overrides.items())}


def overrides_from_data(data: Mapping[str, Any] | None) -> dict[int, Override]:
    return {int(c): Override(int(v["value"]), str(v.get("note", ""))) for c, v in (data or {}).items()}


def effective(computed: Mapping[int, int], overrides: Mapping[int, Override]) -> dict[int, int]:
    """The numbers a report gives: the body's override where it made one, else the computed one."""
    return {c: overrides[c].value if c in overrides else computed.get(c, 0) for c in NUMBER_COLUMNS}


def remarks_text(body_remarks: str, computed_remarks: str, overrides: Mapping[int, Override]) -> str:
    """备注 of a report: the body's own words, then the records' remarks, then a line per
    overridden column with its note (so the table says where a number came from)."""
    parts = [body_remarks.strip(), computed_remarks.strip()]
    parts += [f"第{c}栏按本单位自查数字填报：{o.note}" for c, o in sorted(overrides.items())]
    return "；".join(p for p in parts if p)


def report_row(computed: StatRow, overrides: Mapping[int, Override], body_remarks: str) -> StatRow:
    """The row of the statistics table a report gives (its numbers, its 备注)."""
    values = effective(computed.values(), overrides)
    cells = {c: Cell(values[c], None, computed.cells[c].source) for c in NUMBER_COLUMNS}
    return StatRow(cells, remarks_text(body_remarks, computed.remarks, overrides), None, computed.remark_records)


def district_cell(status: str | None, computed: Mapping[int, int] | None, overrides: Mapping[int, Override],
                  column: int) -> int | None:
    """A cell of the district table: the accepted override, else the accepted frozen number;
    nothing from a report the office has not accepted."""
    if status != ReportStatus.accepted.value or computed is None:
        return None
    return overrides[column].value if column in overrides else computed.get(column, 0)


def differences(given: Mapping[int, int], derived: Mapping[int, int]) -> set[int]:
    """Columns where a report's number differs from the records' number."""
    return {c for c in NUMBER_COLUMNS if given.get(c, 0) != derived.get(c, 0)}
