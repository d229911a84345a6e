"""Excel files: the statistics table in the official layout, and the ledger exports.

The layout is computed by pure functions (`stats_layout`, `column_width`): which text goes
in which cell, what is merged, how wide and tall. `write_workbook` only paints a layout with
openpyxl. Ledger exports stream rows through openpyxl's write-only mode, so a big export
never holds the whole sheet in memory.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from server.ledger.columns import COLUMNS, Column
from server.ledger.counting import REMARKS, StatRow

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

HEADER_TOP = 3  # band row; labels on 4, units on 5, data from 6
BODY_HEADER = "填报单位"


def unit_text(column: Column) -> str:
    """The unit as the form prints it: （家）, or nothing where the form prints none."""
    return f"（{column.unit}）" if column.unit else ""


def display_width(text: str) -> int:
    """Excel width units: a CJK character takes about two."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def column_width(label: str) -> tuple[float, int]:
    """(width, lines) for a header: short labels on one or two lines, long ones wrapped to at
    most four lines of at least four characters, so every header reads whole in print."""
    n = len(label)
    per_line = min(n, max(4, math.ceil(n / 4)))
    lines = math.ceil(n / per_line)
    return float(per_line * 2 + 3), lines


@dataclass
class CellSpec:
    value: object
    style: str  # title, subtitle, right, band, label, unit, number, text, rowlabel


@dataclass
class SheetLayout:
    title: str
    cells: dict[tuple[int, int], CellSpec] = field(default_factory=dict)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # r1, c1, r2, c2
    widths: dict[int, float] = field(default_factory=dict)
    heights: dict[int, float] = field(default_factory=dict)
    freeze: str | None = None
    print_title_rows: str | None = None
    landscape: bool = True

    def put(self, row: int, col: int, value: object, style: str) -> None:
        self.cells[(row, col)] = CellSpec(value, style)

    def merge(self, r1: int, c1: int, r2: int, c2: int) -> None:
        self.merges.append((r1, c1, r2, c2))

    def merged_refs(self) -> list[str]:
        return [f"{get_column_letter(c1)}{r1}:{get_column_letter(c2)}{r2}" for r1, c1, r2, c2 in self.merges]


def stats_layout(title: str, body_line: str, as_of_line: str, rows: Sequence[tuple[str, StatRow]],
                 *, body_column: bool, sheet_title: str = "统计表") -> SheetLayout:
    """The official table: title; 填报单位 line; the three section bands; the 23 column
    headers with their units; then one data row per (label, row). With body_column, a first
    column names the reporting body of each row (the district's table of all bodies)."""
    lay = SheetLayout(sheet_title)
    off = 1 if body_column else 0
    last = off + len(COLUMNS)
    col_of = {c.number: off + c.number for c in COLUMNS}

    lay.put(1, 1, title, "title")
    lay.merge(1, 1, 1, last)
    lay.heights[1] = 32
    split = last - 6  # the date sits over the last six columns
    lay.put(2, 1, body_line, "subtitle")
    lay.merge(2, 1, 2, split)
    lay.put(2, split + 1, as_of_line, "right")
    lay.merge(2, split + 1, 2, last)
    lay.heights[2] = 22

    if body_column:
        lay.put(HEADER_TOP, 1, BODY_HEADER, "band")
        lay.merge(HEADER_TOP, 1, HEADER_TOP + 2, 1)
        names = [label for label, _ in rows] + [BODY_HEADER]
        lay.widths[1] = float(min(max(display_width(n) for n in names) + 3, 30))
    sections: dict[str, list[int]] = {}
    for c in COLUMNS:
        sections.setdefault(c.section, []).append(col_of[c.number])
    for section, cols in sections.items():
        lay.put(HEADER_TOP, cols[0], section, "band")
        lay.merge(HEADER_TOP, cols[0], HEADER_TOP, cols[-1])
    lay.heights[HEADER_TOP] = 22

    max_lines = 1
    for c in COLUMNS:
        col = col_of[c.number]
        lay.put(HEADER_TOP + 1, col, c.label, "label")
        lay.put(HEADER_TOP + 2, col, unit_text(c), "unit")
        width, lines = column_width(c.label)
        if c.number == REMARKS:
            width, lines = 36.0, 1
        lay.widths[col] = width
        max_lines = max(max_lines, lines)
    lay.heights[HEADER_TOP + 1] = 16.0 * max_lines + 8
    lay.heights[HEADER_TOP + 2] = 18

    for i, (label, row) in enumerate(rows):
        r = HEADER_TOP + 3 + i
        if body_column:
            lay.put(r, 1, label, "rowlabel")
        for c in COLUMNS:
            if c.number == REMARKS:
                lay.put(r, col_of[c.number], row.remarks, "text")
            else:
                lay.put(r, col_of[c.number], row.value(c.number), "number")
        lay.heights[r] = 30 if row.remarks else 20

    first_data = HEADER_TOP + 3
    lay.freeze = f"{get_column_letter(off + 1)}{first_data}"
    lay.print_title_rows = f"{HEADER_TOP}:{HEADER_TOP + 2}"
    return lay


def comparison_layout(title: str, subtitle: str, changes: Sequence) -> SheetLayout:
    """A second sheet for a weekly report: each column against the earlier week."""
    lay = SheetLayout("与上周比较", landscape=False)
    headers = ["栏目", "统计项", "单位", "上期累计", "本期累计", "增减"]
    lay.put(1, 1, title, "title")
    lay.merge(1, 1, 1, len(headers))
    lay.put(2, 1, subtitle, "subtitle")
    lay.merge(2, 1, 2, len(headers))
    for i, h in enumerate(headers, start=1):
        lay.put(3, i, h, "label")
    for r, ch in enumerate(changes, start=4):
        delta = "" if ch.delta is None else (f"+{ch.delta}" if ch.delta > 0 else str(ch.delta))
        values = [ch.column, ch.label, ch.unit, "" if ch.before is None else ch.before, ch.after, delta]
        for i, v in enumerate(values, start=1):
            lay.put(r, i, v, "text" if i == 2 else "number")
    lay.widths = {1: 6, 2: 46, 3: 6, 4: 10, 5: 10, 6: 8}
    lay.heights[1] = 28
    lay.freeze = "A4"
    lay.print_title_rows = "3:3"
    return lay


_THIN = Side(style="thin", color="000000")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_STYLES = {
    "title": dict(font=Font(name="宋体", size=16, bold=True), alignment=Alignment(horizontal="center", vertical="center")),
    "subtitle": dict(font=Font(name="宋体", size=11), alignment=Alignment(horizontal="left", vertical="center")),
    "right": dict(font=Font(name="宋体", size=11), alignment=Alignment(horizontal="right", vertical="center")),
    "band": dict(font=Font(name="宋体", size=11, bold=True), alignment=_CENTER, border=_BOX,
                 fill=PatternFill("solid", fgColor="E8EEFB")),
    "label": dict(font=Font(name="宋体", size=10, bold=True), alignment=_CENTER, border=_BOX),
    "unit": dict(font=Font(name="宋体", size=10), alignment=_CENTER, border=_BOX),
    "number": dict(font=Font(name="宋体", size=11), alignment=_CENTER, border=_BOX),
    "rowlabel": dict(font=Font(name="宋体", size=11), alignment=Alignment(vertical="center", wrap_text=True), border=_BOX),
    "text": dict(font=Font(name="宋体", size=10), alignment=Alignment(vertical="center", wrap_text=True), border=_BOX),
}


def _paint(ws, lay: SheetLayout) -> None:
    boxed = {"band", "label", "unit", "number", "rowlabel", "text"}
    for (r, c), spec in lay.cells.items():
        cell = ws.cell(row=r, column=c, value=spec.value)
        for attr, value in _STYLES[spec.style].items():
            setattr(cell, attr, value)
    for r1, c1, r2, c2 in lay.merges:
        style = lay.cells[(r1, c1)].style
        if style in boxed:  # a merged range shows the border of every covered cell
            for r in range(r1, r2 + 1):
                for c in range(c1, c2 + 1):
                    ws.cell(row=r, column=c).border = _BOX
        ws.merge_cells(start_row=r1, start_column=c1, end_row=r2, end_column=c2)
    for col, width in lay.widths.items():
        ws.column_dimensions[get_column_letter(col)].width = width
    for row, height in lay.heights.items():
        ws.row_dimensions[row].height = height
    ws.freeze_panes = lay.freeze
    if lay.print_title_rows:
        ws.print_title_rows = lay.print_title_rows
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE if lay.landscape else ws.ORIENTATION_PORTRAIT
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5


def write_workbook(layouts: Iterable[SheetLayout]) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for lay in layouts:
        _paint(wb.create_sheet(lay.title), lay)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# ---------------------------------------------------------------- ledger exports (write-only)

@dataclass(frozen=True)
class LedgerColumn:
    header: str
    width: float


class LedgerWriter:
    """A write-only workbook for one ledger sheet: a title row, a header row (frozen and
    repeated on every printed page), then rows appended batch by batch as they are read."""

    def __init__(self, sheet_title: str, title: str, columns: Sequence[LedgerColumn]) -> None:
        self.wb = Workbook(write_only=True)
        ws = self.ws = self.wb.create_sheet(sheet_title)
        for i, c in enumerate(columns, start=1):
            ws.column_dimensions[get_column_letter(i)].width = c.width
        ws.freeze_panes = "A3"
        ws.print_title_rows = "2:2"
        ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
        ws.page_setup.orientation = Worksheet.ORIENTATION_LANDSCAPE
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        head = WriteOnlyCell(ws, value=title)
        head.font = Font(name="宋体", size=14, bold=True)
        ws.append([head])
        header = []
        for c in columns:
            cell = WriteOnlyCell(ws, value=c.header)
            cell.font = Font(name="宋体", bold=True)
            cell.fill = PatternFill("solid", fgColor="E8EEFB")
            cell.alignment = _CENTER
            header.append(cell)
        ws.append(header)
        self.rows = 0

    def append(self, rows: Iterable[Sequence[object]]) -> None:
        for row in rows:
            self.ws.append(list(row))
            self.rows += 1

    def save(self, path: Path) -> None:
        self.wb.save(path)
