"""The statistics table's cells as HTML, one format string per cell (ledger/_stats_table.html).

A district's table has some 200 rows of 22 linked numbers; Jinja's loop over them, with an
aria-label and a URL per number, took ~100 ms of the page. Here each column's cell is a
format string made once, with its label and unit already escaped."""

from __future__ import annotations

from typing import Callable

from markupsafe import Markup, escape

from server.ledger.columns import COLUMNS
from server.ledger.row import REMARKS, StatRow

_NUMBER = {
    c.number: (f'<td data-col="{c.number}"><a href="{{url}}" aria-label="{{label}} {escape(c.label)} '
               f'{{value}}{escape(c.unit)}">{{value}}</a></td>')
    for c in COLUMNS if c.number != REMARKS
}


def stat_cells(row: StatRow, key: str, label: str, cell_url: Callable[[str, int], str]) -> Markup:
    """The <td>s of one row: every number linked to the records behind it (cell_url(key,
    column)), then the remarks."""
    name = escape(label)
    out = [_NUMBER[c].format(url=escape(cell_url(key, c)), label=name, value=row.value(c)) for c in _NUMBER]
    remarks = (f'<a href="{escape(cell_url(key, REMARKS))}">{escape(row.remarks)}</a>' if row.remarks else "")
    out.append(f'<td class="remarks" data-col="{REMARKS}">{remarks}</td>')
    return Markup("".join(out))
