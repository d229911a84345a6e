"""Importing rosters from Excel: units (单位) and guards (保安员).

    parse(data, townships)  pure: workbook bytes → rows checked one by one, and a problem list
    plan(report)            reads the database: matches existing records, finds conflicts
    commit(report, user)    writes every valid row in one transaction, or nothing

A sheet is recognised by its header row (one of the first five rows), not by its name: a
sheet with a 身份证号 column holds guards, one with 统一社会信用代码 and 单位名称 but no
身份证号 holds units. Headers are matched tolerantly (common variants, full-width
characters, stray spaces, "*" and "(必填)" marks). A re-import updates instead of
duplicating: units are keyed on USCC, guards on ID number, then on certificate number.
Only the columns present in a sheet, and non-empty cells, change an existing record.

What a person typing a roster by hand means is accepted: placeholders for "nothing" (——, -,
/, 无, 空, N/A …) in a column are an empty cell; a guard row naming its employer by name means
the unit this workbook defines under that name, even when the registry holds another of that
name; a security company without a permit number is imported and flagged (无证经营 is what
the campaign looks for), not refused. Refused is what cannot be right: check characters,
impossible dates, missing names. `.xls` is read as well as `.xlsx`; sheets are bounded in rows
and columns (a tiny file claiming a million rows is refused before it is expanded).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from typing import Any, Callable

import anyio

from server.registry import forms
from server.vocab import CertStatus, EmploymentStatus, FilingStatus, Sector, UnitKind


class Unreadable(Exception):
    """The file is not a workbook we can read (exit status 2); the message is for the user."""


MAX_ROWS = 30_000
"""Rows per sheet (header included): a district's roster is a few thousand; more is split."""
MAX_COLS = 100
XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
PLACEHOLDERS = {"——", "—", "--", "---", "-", "/", "//", "\\", "无", "空", "暂无", "n/a", "na", "none", "null"}
"""Cell texts (after NFKC, lower-cased) that people type for "nothing"; an empty cell."""
_YES_NO_FIELDS = {"certificate_status", "filing_status", "vetted", "exam_passed", "photo_collected",
                  "fingerprint_collected"}
"""Columns where 无/否 is an answer (no certificate, not filed, not collected), not a placeholder."""
UNLICENSED = "未填保安服务许可证号：疑似无证经营，已导入并标记，请核查"


UNITS, GUARDS = "units", "guards"

# field → (label in our template, header variants)
UNIT_HEADERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "name": ("单位名称", ("单位名称", "企业名称", "公司名称", "单位全称", "名称", "单位")),
    "uscc": ("统一社会信用代码", ("统一社会信用代码", "社会信用代码", "统一信用代码", "信用代码", "统一社会信用代码证号")),
    "kind": ("单位类型", ("单位类型", "单位类别", "类型", "类别", "单位性质")),
    "sector": ("行业", ("行业", "所属行业", "行业类别", "行业分类")),
    "township": ("乡镇街", ("乡镇街", "所属乡镇街", "乡镇街道", "所属乡镇", "乡镇", "街道", "属地")),
    "address": ("地址", ("地址", "单位地址", "住所", "注册地址", "经营地址")),
    "licence_no": ("保安服务许可证号", ("保安服务许可证号", "保安服务许可证", "许可证号", "许可证编号")),
    "filing_status": ("备案状态", ("备案状态", "是否备案", "备案情况")),
    "filing_no": ("备案编号", ("备案编号", "备案号", "备案证号")),
    "filed_on": ("备案日期", ("备案日期", "备案时间")),
    "legal_rep": ("法定代表人", ("法定代表人", "法人代表", "法人")),
    "contact_name": ("联系人", ("联系人", "联系人姓名")),
    "contact_phone": ("联系电话", ("联系电话", "电话", "联系方式", "手机", "手机号", "手机号码")),
}
GUARD_HEADERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "name": ("姓名", ("姓名", "保安员姓名", "名字")),
    "id_number": ("身份证号", ("身份证号", "身份证号码", "公民身份号码", "身份证", "证件号码")),
    "gender": ("性别", ("性别",)),
    "phone": ("联系电话", ("联系电话", "电话", "手机", "手机号", "手机号码", "联系方式")),
    "employer_uscc": ("所属单位统一社会信用代码", (
        "所属单位统一社会信用代码", "单位统一社会信用代码", "统一社会信用代码", "社会信用代码", "信用代码")),
    "employer_name": ("所属单位", ("所属单位", "工作单位", "用人单位", "所在单位", "单位名称", "公司名称", "单位")),
    "certificate_no": ("保安员证号", ("保安员证号", "保安员证编号", "保安员证号码", "保安员证", "保安证号", "证书编号")),
    "certificate_status": ("持证状态", ("持证状态", "证件状态", "是否持证")),
    "certificate_issued_on": ("发证日期", ("发证日期", "取证日期", "发证时间")),
    "vetted": ("已审查", ("已审查", "是否审查", "背景审查", "审查")),
    "exam_passed": ("考试合格", ("考试合格", "是否考试合格", "考试")),
    "photo_collected": ("已采集照片", ("已采集照片", "照片采集", "是否采集照片", "人像采集", "照片")),
    "fingerprint_collected": ("已采集指纹", ("已采集指纹", "指纹采集", "是否采集指纹", "指纹")),
    "employment_status": ("在岗状态", ("在岗状态", "在职状态", "状态")),
    "hired_on": ("入职日期", ("入职日期", "入职时间", "上岗日期")),
}
UNIT_REQUIRED = ("name", "uscc", "kind")
GUARD_REQUIRED = ("name", "id_number")

_TRUE = {"是", "有", "已", "y", "yes", "true", "1", "√", "✓", "已采集", "已审查", "合格", "通过", "已完成"}
_FALSE = {"否", "无", "未", "n", "no", "false", "0", "×", "x", "未采集", "未审查", "不合格", "未通过", ""}
_KIND_WORDS = [("保安服务公司", UnitKind.security_company), ("保安公司", UnitKind.security_company),
               ("物业", UnitKind.property_company), ("自招", UnitKind.self_recruiting),
               ("劳务", UnitKind.unqualified_employer), ("保洁", UnitKind.unqualified_employer),
               ("无资格", UnitKind.unqualified_employer), ("非法", UnitKind.illegal_org),
               ("使用", UnitKind.using_unit)]


def norm_header(text: Any) -> str:
    """"＊ 身份证号码（必填）" → "身份证号码"."""
    s = unicodedata.normalize("NFKC", str(text or ""))
    s = re.sub(r"\(.*?\)|\[.*?\]|【.*?】", "", s)
    return re.sub(r"[\s*:：]", "", s).lower()


def _lookup(headers: dict[str, tuple[str, tuple[str, ...]]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, (_, variants) in headers.items():
        for v in variants:
            out.setdefault(norm_header(v), name)
    return out


_UNIT_LOOKUP = _lookup(UNIT_HEADERS)
_GUARD_LOOKUP = _lookup(GUARD_HEADERS)


@dataclass(frozen=True)
class Problem:
    sheet: str
    row: int
    column: str
    reason: str


@dataclass
class Row:
    kind: str
    sheet: str
    row: int
    values: dict[str, Any]
    present: set[str]
    """Fields whose column is in the sheet and whose cell is not empty."""
    employer_uscc: str = ""
    employer_name: str = ""
    existing_id: int | None = None
    employer_ref: Any = None


@dataclass
class Report:
    units: list[Row] = field(default_factory=list)
    guards: list[Row] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    """Rows imported but flagged for the office (e.g. a security company without a permit)."""
    rows_read: int = 0
    sheets: list[tuple[str, str]] = field(default_factory=list)
    """(sheet name, what it holds: units / guards / ignored)."""
    committed: bool = False
    cells: dict[str, tuple[tuple, dict[int, tuple]]] = field(default_factory=dict)
    """Per sheet read: its header row and every data row as typed (for the rejected-rows file)."""

    @property
    def rejected(self) -> set[tuple[str, int]]:
        return {(p.sheet, p.row) for p in self.problems if p.row}

    @property
    def ok(self) -> bool:
        return not self.problems

    def valid(self, rows: list[Row]) -> list[Row]:
        bad = self.rejected
        return [r for r in rows if (r.sheet, r.row) not in bad]

    def counts(self) -> dict[str, int]:
        units, guards = self.valid(self.units), self.valid(self.guards)
        return {
            "rows": self.rows_read,
            "rejected": len(self.rejected),
            "units_new": sum(1 for r in units if r.existing_id is None),
            "units_updated": sum(1 for r in units if r.existing_id is not None),
            "guards_new": sum(1 for r in guards if r.existing_id is None),
            "guards_updated": sum(1 for r in guards if r.existing_id is not None),
        }

    def reject(self, row: Row, column: str, reason: str) -> None:
        self.problems.append(Problem(row.sheet, row.row, column, reason))

    def flagged(self) -> list[Problem]:
        """Warnings of rows that are imported (not rejected)."""
        bad = self.rejected
        return [w for w in self.warnings if (w.sheet, w.row) not in bad]


# ---------------------------------------------------------------- reading

def _too_big(title: str, rows: int, cols: int) -> None:
    if rows > MAX_ROWS:
        raise Unreadable(f"工作表“{title}”有 {rows} 行，超过每表 {MAX_ROWS} 行的上限，请删去多余的行或分成几个文件")
    if cols > MAX_COLS:
        raise Unreadable(f"工作表“{title}”有 {cols} 列，超过 {MAX_COLS} 列的上限，请删去多余的列")


def read_sheets(data: bytes) -> list[tuple[str, list[tuple]]]:
    """Every sheet as (title, rows of cleaned cells), .xlsx or .xls, bounded. Raises Unreadable."""
    if data[:8] == XLS_MAGIC:
        return _read_xls(data)
    wb = read_workbook(data)
    out = []
    try:
        for ws in wb.worksheets:
            try:
                # The sheet's size (stated in the file, else measured over its stored cells, which
                # costs nothing for a small file) refuses a huge sheet before it is expanded.
                if not (ws.max_row and ws.max_column):
                    ws.calculate_dimension(force=True)
                _too_big(ws.title, ws.max_row or 0, ws.max_column or 0)
                rows: list[tuple] = []
                for r in ws.iter_rows(values_only=True, max_col=MAX_COLS):
                    if len(rows) >= MAX_ROWS:
                        _too_big(ws.title, MAX_ROWS + 1, 0)
                    # Rows come padded with empty cells to MAX_COLS: only the filled part is
                    # cleaned and kept (a short row reads as empty beyond its end).
                    n = len(r)
                    while n and r[n - 1] is None:
                        n -= 1
                    rows.append(tuple(map(_cell, r[:n])))
            except Unreadable:
                raise
            except Exception:  # noqa: BLE001 - a corrupt sheet inside a valid zip
                raise Unreadable(f"工作表“{ws.title}”无法读取") from None
            out.append((ws.title, rows))
    finally:
        wb.close()
    return out


def _read_xls(data: bytes) -> list[tuple[str, list[tuple]]]:
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True)
    except Exception:  # noqa: BLE001 - xlrd raises many kinds for a damaged file
        raise Unreadable("文件无法读取：不是有效的 Excel 工作簿（.xls）") from None
    out = []
    try:
        for index in range(book.nsheets):
            sheet = book.sheet_by_index(index)
            _too_big(sheet.name, sheet.nrows, sheet.ncols)
            rows = []
            for r in range(sheet.nrows):
                cells = []
                for c in sheet.row(r):
                    value = c.value
                    if c.ctype == xlrd.XL_CELL_DATE:
                        try:
                            value = xlrd.xldate_as_datetime(value, book.datemode)
                        except (ValueError, OverflowError, xlrd.xldate.XLDateError):
                            value = None
                    elif c.ctype == xlrd.XL_CELL_BOOLEAN:
                        value = bool(value)
                    elif c.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
                        value = None
                    cells.append(_cell(value))
                rows.append(tuple(cells))
            out.append((sheet.name, rows))
            book.unload_sheet(index)
    finally:
        book.release_resources()
    return out


def read_workbook(data: bytes) -> Any:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    if not data:
        raise Unreadable("文件为空")
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError, TypeError):
        raise Unreadable("文件无法读取：不是有效的 Excel 工作簿（.xlsx 或 .xls）") from None


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        value = unicodedata.normalize("NFKC", value).strip()
        return value or None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 1.2022519800101e17 would be wrong anyway: ID columns must be text
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _find_header(rows: list[tuple]) -> tuple[int, str, dict[int, tuple[str, str]]] | None:
    """(row index, sheet kind, {column index: (field, header text)}) or None."""
    for i, row in enumerate(rows[:5]):
        cells = [norm_header(c) for c in row]
        if "身份证号" in cells or any(_GUARD_LOOKUP.get(c) == "id_number" for c in cells):
            lookup, kind = _GUARD_LOOKUP, GUARDS
        elif sum(1 for c in cells if _UNIT_LOOKUP.get(c) in ("name", "uscc", "kind")) >= 2:
            lookup, kind = _UNIT_LOOKUP, UNITS
        else:
            continue
        columns: dict[int, tuple[str, str]] = {}
        taken: set[str] = set()
        for j, (raw, c) in enumerate(zip(row, cells)):
            name = lookup.get(c)
            if name and name not in taken:
                columns[j] = (name, str(raw).strip())
                taken.add(name)
        return i, kind, columns
    return None


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    s = str(value or "").strip().lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    return None


def _choice(value: str, choices: type, words: list[tuple[str, Any]] = ()) -> str | None:
    for c in choices:
        if value in (c.value, c.label):
            return c.value
    for word, c in words:
        if word in value:
            return c.value
    for c in choices:
        if value and (value in c.label or c.label in value):
            return c.value
    return None


Progress = Callable[[str, int, int], None]
"""on_progress(sheet, rows checked, rows in the sheet): called from parse's thread."""
PROGRESS_EVERY = 250


def parse(data: bytes, townships: dict[str, int], on_progress: Progress | None = None) -> Report:
    """Read and check every row on its own (blocking: run it off the event loop). Raises Unreadable.
    on_progress is told, sheet by sheet, how many of its data rows are checked (every
    PROGRESS_EVERY rows and at the end of each sheet)."""
    report = Report()
    sheets = [(title, rows, _find_header(rows)) for title, rows in read_sheets(data)]
    if on_progress is not None:
        for title, rows, found in sheets:
            if found is not None:
                on_progress(title, 0, len(rows) - found[0] - 1)
    for title, rows, found in sheets:
        if found is None:
            report.sheets.append((title, "ignored"))
            continue
        header_at, kind, columns = found
        report.sheets.append((title, kind))
        typed: dict[int, tuple] = {}
        report.cells[title] = (rows[header_at], typed)
        total = len(rows) - header_at - 1
        for i in range(header_at + 1, len(rows)):
            if on_progress is not None and (i - header_at - 1) % PROGRESS_EVERY == 0 and i > header_at + 1:
                on_progress(title, i - header_at - 1, total)
            cells = rows[i]
            if all(c is None for c in cells):
                continue
            report.rows_read += 1
            typed[i + 1] = cells
            raw = {name: _empty_if_placeholder(name, cells[j] if j < len(cells) else None)
                   for j, (name, _) in columns.items()}
            header_of = {name: text for name, text in columns.values()}
            _check_row(report, kind, title, i + 1, raw, header_of, townships)
        if on_progress is not None:
            on_progress(title, total, total)
    _duplicates(report)
    return report


def _empty_if_placeholder(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    low = value.lower()
    if name in _YES_NO_FIELDS and low in ("无", "空"):
        return "无" if low == "无" else None
    return None if low in PLACEHOLDERS else value


def _label(kind: str, name: str, header_of: dict[str, str]) -> str:
    table = GUARD_HEADERS if kind == GUARDS else UNIT_HEADERS
    return header_of.get(name) or table.get(name, (name,))[0]


def _check_row(report: Report, kind: str, sheet: str, rownum: int, raw: dict[str, Any],
               header_of: dict[str, str], townships: dict[str, int]) -> None:
    present = {k for k, v in raw.items() if v not in (None, "")}
    row = Row(kind, sheet, rownum, {}, present)
    required = GUARD_REQUIRED if kind == GUARDS else UNIT_REQUIRED
    problems: list[tuple[str, str]] = []
    for name in required:
        if name not in header_of:
            problems.append((_label(kind, name, header_of), "表中缺少此必填列"))
    form: dict[str, Any] = {}
    for name, value in raw.items():
        if value is None:
            continue
        if isinstance(value, (dt.date, dt.datetime)):
            form[name] = value
            continue
        s = str(value)
        if name == "township":
            tid = townships.get(s) or next((i for n, i in townships.items() if s in n or n in s), None)
            if tid is None:
                problems.append((_label(kind, name, header_of), f"乡镇街“{s}”不在本区乡镇街列表中"))
            else:
                form[name] = str(tid)
        elif name == "kind":
            form[name] = _choice(s, UnitKind, _KIND_WORDS) or "?"
        elif name == "sector":
            form[name] = _choice(s, Sector) or "?"
        elif name == "filing_status":
            b = _bool(s)
            form[name] = (FilingStatus.filed.value if b else FilingStatus.unfiled.value) if b is not None \
                else (_choice(s, FilingStatus) or "?")
        elif name == "certificate_status":
            b = _bool(s)
            form[name] = (CertStatus.valid.value if b else CertStatus.none.value) if b is not None \
                else (_choice(s, CertStatus, [("注销", CertStatus.revoked), ("吊销", CertStatus.revoked),
                                          ("有效", CertStatus.valid), ("正常", CertStatus.valid)]) or "?")
        elif name == "employment_status":
            form[name] = _choice(s, EmploymentStatus, [("在职", EmploymentStatus.active)]) or "?"
        elif name in ("vetted", "exam_passed", "photo_collected", "fingerprint_collected"):
            b = _bool(s)
            if b is None:
                problems.append((_label(kind, name, header_of), f"“{s}”不是 是/否"))
            elif b:
                form[name] = "1"
        else:
            form[name] = s
    if kind == GUARDS:
        row.employer_uscc = forms.normalise_uscc(str(form.pop("employer_uscc", "") or ""))
        row.employer_name = str(form.pop("employer_name", "") or "")
        if not row.employer_uscc and not row.employer_name:
            problems.append(("所属单位", "请填写所属单位的统一社会信用代码或单位名称"))
        elif row.employer_uscc and forms.uscc_message(row.employer_uscc):
            problems.append((_label(kind, "employer_uscc", header_of), forms.uscc_message(row.employer_uscc)))
        form["employer"] = "0"  # resolved by plan()
        values, errors = forms.guard_values(form, {0}, set())
    else:
        values, errors = forms.unit_values(form, set(townships.values()))
        if values.get("kind") == UnitKind.security_company and not values.get("licence_no") and "licence_no" in errors:
            del errors["licence_no"]  # imported and flagged: unlicensed operation is what is looked for
            report.warnings.append(Problem(sheet, rownum, _label(kind, "licence_no", header_of), UNLICENSED))
            values["notes"] = values.get("notes") or UNLICENSED
    for name, message in errors.items():
        if name in ("employer",) or (name == "township" and any(p[0] == _label(kind, name, header_of) for p in problems)):
            continue
        problems.append((_label(kind, name, header_of), message))
    for column, reason in problems:
        report.problems.append(Problem(sheet, rownum, column, reason))
    row.values = values
    if "gender" in values and values["gender"]:
        row.present.add("gender")
    (report.guards if kind == GUARDS else report.units).append(row)


def _duplicates(report: Report) -> None:
    for rows, keys in ((report.units, ("uscc",)), (report.guards, ("id_number", "certificate_no"))):
        for key in keys:
            seen: dict[Any, Row] = {}
            for r in rows:
                value = r.values.get(key)
                if not value or (r.sheet, r.row) in report.rejected:
                    continue
                if value in seen:
                    first = seen[value]
                    label = {"uscc": "统一社会信用代码", "id_number": "身份证号", "certificate_no": "保安员证号"}[key]
                    report.reject(r, label, f"与{first.sheet}第 {first.row} 行的{label}重复")
                else:
                    seen[value] = r


# ---------------------------------------------------------------- the database side

async def plan(report: Report) -> Report:
    """Match rows with existing records; reject rows that would clash with the registry."""
    from server.models.registry import Guard, Unit

    units = report.valid(report.units)
    usccs = [r.values["uscc"] for r in units if r.values.get("uscc")]
    existing_units = {u["uscc"]: u["id"] for u in await Unit.select(Unit.id, Unit.uscc).where(
        Unit.uscc.is_in(usccs))} if usccs else {}
    for r in units:
        r.existing_id = existing_units.get(r.values.get("uscc"))
    # Every unit row of the file, valid or not: a guard of a rejected unit row is told why.
    file_units: dict[str, Row] = {}
    for r in report.units:
        if r.values.get("uscc"):
            file_units.setdefault(r.values["uscc"], r)
    file_names: dict[str, list[Row]] = {}
    for r in report.units:
        if r.values.get("name") and r not in file_names.get(r.values["name"], []):
            file_names.setdefault(r.values["name"], []).append(r)

    guards = report.valid(report.guards)
    ids = [r.values["id_number"] for r in guards if r.values.get("id_number")]
    certs = [r.values["certificate_no"] for r in guards if r.values.get("certificate_no")]
    by_id = {g["id_number"]: g for g in await Guard.select(Guard.id, Guard.id_number, Guard.certificate_no)
             .where(Guard.id_number.is_in(ids))} if ids else {}
    by_cert = {g["certificate_no"]: g for g in await Guard.select(Guard.id, Guard.id_number, Guard.certificate_no)
               .where(Guard.certificate_no.is_in(certs))} if certs else {}
    db_usccs = [r.employer_uscc for r in guards if r.employer_uscc and r.employer_uscc not in file_units]
    db_units = {u["uscc"]: u["id"] for u in await Unit.select(Unit.id, Unit.uscc).where(
        Unit.uscc.is_in(db_usccs))} if db_usccs else {}
    names = [r.employer_name for r in guards if not r.employer_uscc and r.employer_name]
    db_by_name: dict[str, list[int]] = {}
    if names:
        for u in await Unit.select(Unit.id, Unit.name).where(Unit.name.is_in(names)):
            db_by_name.setdefault(u["name"], []).append(u["id"])

    for r in guards:
        mine = by_id.get(r.values.get("id_number"))
        other = by_cert.get(r.values.get("certificate_no")) if r.values.get("certificate_no") else None
        if mine and other and mine["id"] != other["id"]:
            report.reject(r, "保安员证号", "该保安员证号已登记为另一名保安员")
            continue
        if other and not mine and other["id_number"] and other["id_number"] != r.values.get("id_number"):
            report.reject(r, "保安员证号", "该保安员证号已登记为另一名保安员（身份证号不同）")
            continue
        r.existing_id = (mine or other or {}).get("id")
        # The employer: by USCC (this file first, then the registry), else by a unique name.
        if r.employer_uscc:
            if r.employer_uscc in file_units:
                r.employer_ref = file_units[r.employer_uscc]
            elif r.employer_uscc in db_units:
                r.employer_ref = db_units[r.employer_uscc]
            else:
                report.reject(r, "所属单位统一社会信用代码", "所属单位未登记，也不在本文件的单位表中")
        else:
            # A unit this workbook defines is the one its guard rows mean, even where the
            # registry holds another of that name elsewhere in the district.
            in_file = file_names.get(r.employer_name, [])
            in_db = db_by_name.get(r.employer_name, [])
            if len(in_file) == 1 or (not in_file and len(in_db) == 1):
                r.employer_ref = in_file[0] if in_file else in_db[0]
            elif not in_file and not in_db:
                report.reject(r, "所属单位", f"单位“{r.employer_name}”未登记，也不在本文件的单位表中")
            else:
                report.reject(r, "所属单位", f"有多个名为“{r.employer_name}”的单位，请填写统一社会信用代码")
    # A unit rejected for its own reasons takes its guards with it.
    bad = report.rejected
    for r in report.valid(report.guards):
        if isinstance(r.employer_ref, Row) and (r.employer_ref.sheet, r.employer_ref.row) in bad:
            report.reject(r, "所属单位", f"所属单位在{r.employer_ref.sheet}第 {r.employer_ref.row} 行有错误，未导入")
    return report


def _changes(row: Row, fields: set[str]) -> dict[str, Any]:
    """For an update: only fields whose column was present and filled."""
    return {k: v for k, v in row.values.items() if k in fields and k in row.present}


COMMIT_BATCH = 500
"""New rows inserted this many at a time (a 20,000-row roster: 40 inserts, not 20,000)."""


async def commit(report: Report, user: Any) -> Report:
    """Write every valid row in one transaction (all or nothing): new units and guards in
    batches, each with its audit entry (audit.record_many, in the order of the file)."""
    from server.audit import service as audit
    from server.audit.service import snapshot
    from server.db import atomic
    from server.models.registry import Guard, Unit

    now = dt.datetime.now(dt.timezone.utc)
    unit_ids: dict[int, int] = {}
    entries: list[tuple[str, str, Any, Any, Any]] = []

    async def insert_new(table: Any, name: str, rows: list[tuple[Row, dict]]) -> None:
        for i in range(0, len(rows), COMMIT_BATCH):
            chunk = [(r, table(**values)) for r, values in rows[i:i + COMMIT_BATCH]]
            await table.insert(*(obj for _, obj in chunk))  # sets each object's id
            for r, obj in chunk:
                if table is Unit:
                    unit_ids[id(r)] = obj.id
                entries.append(("import", name, obj.id, None, snapshot(obj)))

    async with atomic():
        new_units = []
        for r in report.valid(report.units):
            if r.existing_id is None:
                new_units.append((r, r.values))
            else:
                unit = await Unit.objects().where(Unit.id == r.existing_id).first()
                before = snapshot(unit)
                for k, v in _changes(r, set(UNIT_HEADERS)).items():
                    setattr(unit, k, v)
                unit.updated_at = now
                await unit.save()
                entries.append(("import", "unit", unit.id, before, snapshot(unit)))
                unit_ids[id(r)] = unit.id
        await insert_new(Unit, "unit", new_units)
        new_guards = []
        for r in report.valid(report.guards):
            employer = unit_ids[id(r.employer_ref)] if isinstance(r.employer_ref, Row) else r.employer_ref
            values = {**r.values, "employer": employer}
            values.pop("site", None)
            if r.existing_id is None:
                new_guards.append((r, values))
            else:
                guard = await Guard.objects().where(Guard.id == r.existing_id).first()
                before = snapshot(guard)
                changes = _changes(r, set(GUARD_HEADERS) | {"gender"})
                changes["employer"] = employer
                for k, v in changes.items():
                    setattr(guard, k, v)
                guard.updated_at = now
                await guard.save()
                entries.append(("import", "guard", guard.id, before, snapshot(guard)))
        await insert_new(Guard, "guard", new_guards)
        await audit.record_many(entries, actor=user)
    report.committed = True
    return report


async def active_townships() -> dict[str, int]:
    from server.models.campaign import Township

    return {t["name"]: t["id"] for t in await Township.select(Township.id, Township.name).where(
        Township.active == True)}  # noqa: E712 - a retired township takes no new units


async def run(data: bytes, user: Any = None, *, write: bool = False, on_progress: Progress | None = None) -> Report:
    """parse → plan → (commit when write and at least one valid row). Raises Unreadable."""
    townships = await active_townships()
    report = await plan(await anyio.to_thread.run_sync(parse, data, townships, on_progress))
    if write and (report.valid(report.units) or report.valid(report.guards)):
        await commit(report, user)
    return report


# ---------------------------------------------------------------- the rejected rows, to fix and resend

def rejected_workbook(report: Report) -> bytes:
    """The rejected rows as typed, one sheet per sheet read, with a 错误原因 column, so the
    sender can fix them and send the file again."""
    from openpyxl import Workbook

    reasons: dict[tuple[str, int], list[str]] = {}
    for p in report.problems:
        reasons.setdefault((p.sheet, p.row), []).append(f"{p.column}：{p.reason}" if p.column else p.reason)
    wb = Workbook(write_only=True)
    for title, (header, typed) in report.cells.items():
        rows = [(n, cells) for n, cells in typed.items() if (title, n) in reasons]
        if not rows:
            continue
        ws = wb.create_sheet(title[:31])
        width = max(len(header), *(len(c) for _, c in rows))
        ws.append([*(header[j] if j < len(header) else None for j in range(width)), "原行号", "错误原因"])
        for n, cells in rows:
            ws.append([*(_plain(cells[j]) if j < len(cells) else None for j in range(width)), n,
                       "；".join(reasons[(title, n)])])
    if not wb.worksheets:
        ws = wb.create_sheet("无错误")
        ws.append(["没有被拒绝的行"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _plain(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, dt.date, dt.datetime, type(None))) else str(value)


# ---------------------------------------------------------------- the template

def template_bytes() -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    wb = Workbook()
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="E8EEFB")
    sheets = (
        ("单位", UNIT_HEADERS, UNIT_REQUIRED),
        ("保安员", GUARD_HEADERS, GUARD_REQUIRED + ("employer_uscc",)),
    )
    for i, (title, headers, required) in enumerate(sheets):
        ws = wb.active if i == 0 else wb.create_sheet()
        ws.title = title
        for j, (name, (label, _)) in enumerate(headers.items(), start=1):
            cell = ws.cell(row=1, column=j, value=f"{label}*" if name in required else label)
            cell.font, cell.fill = bold, fill
            ws.column_dimensions[cell.column_letter].width = max(12, len(label) * 2.2)
            # ID numbers, codes and phone numbers must stay text (Excel would round them).
            if name in ("uscc", "id_number", "employer_uscc", "certificate_no", "phone", "contact_phone",
                        "licence_no", "filing_no"):
                for r in range(2, 1002):
                    ws.cell(row=r, column=j).number_format = "@"
        ws.freeze_panes = "A2"
    notes = wb.create_sheet("填写说明")
    lines = [
        ("说明", ""),
        ("带 * 的列必须填写；每行一个单位或一名保安员；可以只填“保安员”表（所属单位须已在名册中登记）。", ""),
        ("单位类型可填", "、".join(k.label for k in UnitKind)),
        ("行业可填", "、".join(s.label for s in Sector)),
        ("备案状态可填", "、".join(s.label for s in FilingStatus)),
        ("持证状态可填", "、".join(s.label for s in CertStatus) + "（或 是/否）"),
        ("在岗状态可填", "、".join(s.label for s in EmploymentStatus)),
        ("是/否列", "是、否、√、×、已采集、未采集"),
        ("日期", "2020-12-14、2020/12/14、2020.12.14、2020年12月14日 或 Excel 日期"),
        ("重复导入", "按统一社会信用代码、身份证号、保安员证号更新已有记录，不会重复登记"),
    ]
    for r, (a, b) in enumerate(lines, start=1):
        notes.cell(row=r, column=1, value=a)
        notes.cell(row=r, column=2, value=b)
    notes.column_dimensions["A"].width = 30
    notes.column_dimensions["B"].width = 90
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
