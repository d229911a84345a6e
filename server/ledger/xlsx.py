"""Excel files: the statistics table in the official layout, and the ledger exports.

The layout is computed by pure functions (`stats_layout`, `column_width`): which text goes
in which cell, what is merged, how wide and tall. `write_workbook` only paints a layout with
openpyxl. Ledger exports are streamed: `LedgerWriter` writes each batch of rows straight into
the file, so a big export never holds the sheet in memory.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import zipfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties

from server.ledger.columns import COLUMNS, Column
from server.ledger.row import REMARKS, StatRow

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
                 *, body_column: bool, sheet_title: str = "统计表", notes: Sequence[str] = ()) -> SheetLayout:
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

    # The numbered notes (说明) under the table, each across the table's width.
    r = HEADER_TOP + 3 + len(rows)
    if notes:
        r += 1
        lay.put(r, 1, "说明：", "text")
        lay.merge(r, 1, r, last)
    for i, note in enumerate(notes, start=1):
        lay.put(r + i, 1, f"{i}. {note}", "text")
        lay.merge(r + i, 1, r + i, last)
        lay.heights[r + i] = 20

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


# ---------------------------------------------------------------- ledger exports (streamed)

@dataclass(frozen=True)
class LedgerColumn:
    header: str
    width: float
    kind: str = "any"
    """How its cells are written: "text" (str or None), "label" (few distinct values,
    remembered), "number" (int or None), "date" (date or None), or "any" (sheet_cell decides
    per value)."""
    shows: Callable[[Any], Any] | None = None
    """For a label or date column: what a value read shows (a code's label, a timestamp's
    day); the cell written for each value read is remembered, so the function runs once per
    distinct value, not per row."""


_XML_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;",
                           **{c: None for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)}})
_ATTR = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})
_EPOCH = dt.date(1899, 12, 30)
MAX_CELL_TEXT = 32767  # what Excel holds in one cell
# Cell formats of the ledger workbook (cellXfs in styles.xml, by position).
_XF_DATE, _XF_TITLE, _XF_HEADER = 1, 2, 3
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_NS_R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
_PKG = "http://schemas.openxmlformats.org/package/2006"
_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


_UNSAFE = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f]")  # what _XML_TEXT changes


def _text_cell(value: str, style: int = 0) -> str:
    text = value if len(value) <= MAX_CELL_TEXT else value[:MAX_CELL_TEXT]
    if _UNSAFE.search(text):  # translate() is slow; most text needs nothing
        text = text.translate(_XML_TEXT)
    space = ' xml:space="preserve"' if text and (text[0].isspace() or text[-1].isspace()) else ""
    if style:
        return f'<c t="inlineStr" s="{style}"><is><t{space}>{text}</t></is></c>'
    return f'<c t="inlineStr"><is><t{space}>{text}</t></is></c>'


def sheet_cell(value: object) -> str:
    """One cell of a data row as SpreadsheetML: text inline, numbers, dates as Excel serial
    days in the date format, nothing for None or ''."""
    if value is None or value == "":
        return "<c/>"
    if isinstance(value, bool):
        return f'<c t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (int, float)):
        return f"<c><v>{value!r}</v></c>"
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return f'<c s="{_XF_DATE}"><v>{(value - _EPOCH).days}</v></c>'
    return _text_cell(str(value))


def _text_or_empty(value: str | None) -> str:
    return _text_cell(value) if value else "<c/>"


def _number_or_empty(value: int | None) -> str:
    return "<c/>" if value is None else f"<c><v>{value!r}</v></c>"


def _date_or_empty(value: dt.date | None) -> str:
    return "<c/>" if value is None else f'<c s="{_XF_DATE}"><v>{(value - _EPOCH).days}</v></c>'


def _label_writer() -> Callable[[Any], str]:
    """A column with few distinct values (statuses, townships): each written once."""
    seen: dict[Any, str] = {}

    def cell(value: Any) -> str:
        out = seen.get(value)
        if out is None:
            out = sheet_cell(value)
            if len(seen) < 10_000:  # a column more varied than thought stays bounded
                seen[value] = out
        return out
    return cell


# What sheet_cell writes for values of one known type, without asking each value its type
# ("label": few distinct values, each written once).
CELL_WRITERS: dict[str, Callable[[], Callable[[Any], str]]] = {
    "text": lambda: _text_or_empty, "number": lambda: _number_or_empty, "date": lambda: _date_or_empty,
    "any": lambda: sheet_cell, "label": _label_writer}


# The XML of one cell of each kind as an expression of the value `v{i}` of column i, for
# `row_writer`; `_l{i}` is a label or date column's cache of written cells (by value read),
# `_m{i}` its writer (a ledger's dates are a few hundred days: each is written once too).
_INLINE: dict[str, str] = {
    "text": '(_text_cell(v{i}) if v{i} else "<c/>")',
    "number": '("<c/>" if v{i} is None else f"<c><v>{{v{i}!r}}</v></c>")',
    "date": "(_l{i}.get(v{i}) or _m{i}(v{i}))",
    "any": "sheet_cell(v{i})",
    "label": "(_l{i}.get(v{i}) or _m{i}(v{i}))",
}


def row_writer(kinds: Sequence[str], shows: Sequence[Callable[[Any], Any] | None] = ()) -> Callable[[int, Sequence[object]], str]:
    """`write(n, row)`: row n of the sheet as SpreadsheetML, from one format string with a cell
    expression per column (_INLINE; the same cells CELL_WRITERS write). A province's findings
    are 780,000 rows: a function call per cell was a third of the export's time. `shows[i]`,
    for a label or date column, turns the value read into the value shown (LedgerColumn.shows)."""
    names = [f"v{i}" for i in range(len(kinds))]
    cells = "".join("{" + _INLINE[k].format(i=i) + "}" for i, k in enumerate(kinds))
    source = (f"def write(n, row):\n    {', '.join(names)}{',' if len(names) == 1 else ''} = row\n"
              f"    return f'<row r=\"{{n}}\">{cells}</row>'\n")
    scope: dict[str, Any] = {"_text_cell": _text_cell, "sheet_cell": sheet_cell}
    for i, k in enumerate(kinds):
        show = shows[i] if i < len(shows) else None
        if k in ("label", "date"):  # sheet_cell writes a date (or None) as the date kind does
            scope[f"_m{i}"], scope[f"_l{i}"] = _label_writer_with_cache(show)
        elif show is not None:
            raise ValueError(f"column {i}: only a label or date column shows its values through a function")
    exec(compile(source, "<ledger row>", "exec"), scope)  # noqa: S102 - our own fixed source
    return scope["write"]


def _label_writer_with_cache(shows: Callable[[Any], Any] | None = None) -> tuple[Callable[[Any], str], dict[Any, str]]:
    """A label column's writer and the cache it fills (row_writer reads the cache inline),
    keyed by the value read; `shows` turns it into the value shown."""
    seen: dict[Any, str] = {}

    def cell(value: Any) -> str:
        out = sheet_cell(value if shows is None else shows(value))
        if len(seen) < 10_000:  # a column more varied than thought stays bounded
            seen[value] = out
        return out
    return cell, seen


def _styles() -> str:
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet {_NS}>'
            '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>'
            '<fonts count="3"><font><sz val="11"/><name val="宋体"/></font>'
            '<font><b/><sz val="14"/><name val="宋体"/></font>'
            '<font><b/><sz val="11"/><name val="宋体"/></font></fonts>'
            '<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
            '<fill><patternFill patternType="solid"><fgColor rgb="FFE8EEFB"/><bgColor indexed="64"/></patternFill></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
            '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
            '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
            '<xf numFmtId="0" fontId="2" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1" applyAlignment="1">'
            '<alignment horizontal="center" vertical="center" wrapText="1"/></xf></cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            '</styleSheet>')


class LedgerWriter:
    """One ledger sheet written straight into an xlsx file as rows arrive: a title row, a
    header row (frozen, and repeated on every printed page), then the data rows, A4
    landscape one page wide. Memory stays flat however many rows: each batch is turned
    into SpreadsheetML text and deflated into the file at once, by a thread of the writer's
    own while the next batch is formatted (zlib lets go of the GIL: on two cores the
    deflating costs the export no time), at most one batch behind.

    The sheet is written by hand rather than through openpyxl because openpyxl spends
    some 30 µs on every cell even in write-only mode, minutes for a province's findings;
    the layout of the official statistics table, small and intricate, stays openpyxl's
    (write_workbook above)."""

    def __init__(self, path: Path, sheet_title: str, title: str, columns: Sequence[LedgerColumn]) -> None:
        self.path, self.sheet_title, self.rows = path, sheet_title, 0
        self.write_row = row_writer([c.kind for c in columns], [c.shows for c in columns])
        self.zip = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        self.sheet = self.zip.open("xl/worksheets/sheet1.xml", "w", force_zip64=True)
        self._deflater = ThreadPoolExecutor(1, thread_name_prefix="ledger-deflate")
        self._pending: Future | None = None
        cols = "".join(f'<col min="{i}" max="{i}" width="{c.width}" customWidth="1"/>'
                       for i, c in enumerate(columns, start=1))
        self._write(
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {_NS} {_NS_R}>'
            '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
            '<sheetViews><sheetView workbookViewId="0">'
            '<pane ySplit="2" topLeftCell="A3" activePane="bottomLeft" state="frozen"/>'
            '<selection pane="bottomLeft" activeCell="A3" sqref="A3"/></sheetView></sheetViews>'
            f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData>'
            f'<row r="1" ht="24" customHeight="1">{_text_cell(title, _XF_TITLE)}</row>'
            f'<row r="2" ht="30" customHeight="1">{"".join(_text_cell(c.header, _XF_HEADER) for c in columns)}</row>')

    def _write(self, text: str) -> None:
        """Hand `text` to the deflating thread once it has written the batch before."""
        self._wait()
        self._pending = self._deflater.submit(self._deflate, text)

    def _deflate(self, text: str) -> None:
        self.sheet.write(text.encode("utf-8"))

    def _wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()  # the deflating thread's error, if any, is the writer's

    def append(self, rows: Iterable[Sequence[object]]) -> None:
        start = self.rows + 3
        out = [write(n, row) for n, row in enumerate(rows, start)] if (write := self.write_row) else []
        self.rows += len(out)
        self._write("".join(out))

    def close(self) -> None:
        try:
            self._write('</sheetData><printOptions horizontalCentered="1"/>'
                        '<pageMargins left="0.4" right="0.4" top="0.5" bottom="0.5" header="0.3" footer="0.3"/>'
                        '<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/></worksheet>')
            self._wait()
        finally:
            self._deflater.shutdown()
        self.sheet.close()
        name = self.sheet_title.translate(_ATTR)
        quoted = self.sheet_title.replace("'", "''")
        parts = {
            "[Content_Types].xml": (
                f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="{_PKG}/content-types">'
                '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                '<Default Extension="xml" ContentType="application/xml"/>'
                '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
                '</Types>'),
            "_rels/.rels": (
                f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{_PKG}/relationships">'
                f'<Relationship Id="rId1" Type="{_DOC}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
            "xl/workbook.xml": (
                f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook {_NS} {_NS_R}>'
                f'<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets>'
                f'<definedNames><definedName name="_xlnm.Print_Titles" localSheetId="0">\'{quoted.translate(_ATTR)}\'!$2:$2'
                '</definedName></definedNames></workbook>'),
            "xl/_rels/workbook.xml.rels": (
                f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{_PKG}/relationships">'
                f'<Relationship Id="rId1" Type="{_DOC}/worksheet" Target="worksheets/sheet1.xml"/>'
                f'<Relationship Id="rId2" Type="{_DOC}/styles" Target="styles.xml"/></Relationships>'),
            "xl/styles.xml": _styles(),
        }
        for part, text in parts.items():
            self.zip.writestr(part, text)
        self.zip.close()
