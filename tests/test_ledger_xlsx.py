"""The xlsx layout as data (pure): widths that fit the Chinese headers, merges, and what
openpyxl makes of it."""

from __future__ import annotations

import io

import openpyxl

from server.ledger import xlsx
from server.ledger.columns import COLUMNS
from server.ledger.row import Cell, StatRow


def row(value: int = 0, remarks: str = "") -> StatRow:
    return StatRow({c: Cell(value, (), "unit") for c in range(1, 23)}, remarks, ())


def test_header_widths_fit_the_text_in_at_most_four_lines():
    for c in COLUMNS:
        width, lines = xlsx.column_width(c.label)
        per_line = (width - 3) / 2
        assert lines <= 4 and per_line * lines >= len(c.label), c.label
    assert xlsx.column_width("保安员") == (9.0, 1)
    assert xlsx.column_width("经整改与物业公司签订含有保安服务的物业服务合同")[1] == 4
    assert xlsx.display_width("区教育局") == 8 and xlsx.display_width("ab") == 2
    assert xlsx.unit_text(COLUMNS[0]) == "（家）" and xlsx.unit_text(COLUMNS[4]) == ""


def test_single_body_layout_is_the_form_itself():
    lay = xlsx.stats_layout("标题统计表", "填报单位：区教育局", "统计截至：2021年1月8日", [("区教育局", row(3, "备注文字"))],
                            body_column=False)
    assert lay.merged_refs()[:3] == ["A1:W1", "A2:Q2", "R2:W2"]
    assert {"A3:G3", "H3:P3", "Q3:W3"} <= set(lay.merged_refs())
    assert lay.cells[(4, 23)].value == "备注" and lay.cells[(6, 23)].value == "备注文字"
    assert lay.cells[(6, 1)].value == 3 and lay.freeze == "A6" and lay.print_title_rows == "3:5"
    assert lay.heights[4] == 16.0 * 4 + 8  # the tallest header wraps to four lines


def test_district_layout_adds_the_body_column_and_paints():
    rows = [("区教育局", row(1)), ("一个名字特别长的填报单位管理委员会", row(2)), ("全区合计", row(3))]
    lay = xlsx.stats_layout("标题", "填报单位：全区", "统计截至", rows, body_column=True)
    assert lay.widths[1] == 30  # capped; the name wraps inside its cell
    short = xlsx.stats_layout("标题", "", "", [("区文化和旅游局", row())], body_column=True)
    assert short.widths[1] == xlsx.display_width("区文化和旅游局") + 3
    ws = openpyxl.load_workbook(io.BytesIO(xlsx.write_workbook([lay])))["统计表"]
    assert [ws.cell(r, 1).value for r in (6, 7, 8)] == [r[0] for r in rows]
    assert [ws.cell(8, c).value for c in range(2, 24)] == [3] * 22
    assert ws["A3"].value == "填报单位" and "A3:A5" in {str(m) for m in ws.merged_cells.ranges}
    assert ws["B3"].border.top.style == "thin" and ws["C3"].border.top.style == "thin"  # merged band boxed
    assert ws["B4"].alignment.wrap_text


def test_a_streamed_ledger_sheet_reads_back_with_its_layout(tmp_path):
    import datetime as dt

    path = tmp_path / "ledger.xlsx"
    columns = [xlsx.LedgerColumn("姓名", 10), xlsx.LedgerColumn("入职日期", 12), xlsx.LedgerColumn("数量", 6)]
    writer = xlsx.LedgerWriter(path, "保安员台账", "某专项行动 · 保安员台账", columns)
    writer.append([["张<伟>&", dt.date(2021, 1, 5), 3], ["  前后有空格 ", None, 0]])
    writer.append([["含\x07控制字符", "", 2.5], ["长" * 40000, dt.date(2020, 12, 31), True]])
    writer.close()
    assert writer.rows == 4
    ws = openpyxl.load_workbook(path)["保安员台账"]
    assert ws["A1"].value == "某专项行动 · 保安员台账" and ws["A1"].font.b and ws["A1"].font.sz == 14
    assert [ws.cell(2, c).value for c in (1, 2, 3)] == ["姓名", "入职日期", "数量"]
    assert ws["A2"].font.b and ws["A2"].fill.fgColor.rgb == "FFE8EEFB" and ws["A2"].alignment.wrap_text
    assert ws["A3"].value == "张<伟>&" and ws["B3"].value == dt.datetime(2021, 1, 5) and ws["B3"].number_format == "yyyy-mm-dd"
    assert ws["C3"].value == 3 and ws["A4"].value == "  前后有空格 " and ws["B4"].value is None and ws["C4"].value == 0
    assert ws["A5"].value == "含控制字符" and ws["C5"].value == 2.5
    assert len(ws["A6"].value) == 32767 and ws["C6"].value is True
    assert ws.freeze_panes == "A3" and ws.print_title_rows == "$2:$2"
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
    assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.column_dimensions["A"].width == 10 and ws.column_dimensions["B"].width == 12
