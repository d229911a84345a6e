"""The xlsx layout as data (pure): widths that fit the Chinese headers, merges, and what
openpyxl makes of it."""

from __future__ import annotations

import io

import openpyxl

from server.ledger import xlsx
from server.ledger.columns import COLUMNS
from server.ledger.counting import Cell, StatRow


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
