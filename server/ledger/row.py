"""A row of the statistics table (统计表): which records each column counts, the cell type
(a number with the ids behind it), the row, and the remarks text.

The counting itself is SQL (queries.py, each column's rule once); docs/counting-rules.md says
each rule for a newcomer, and tests/support/counting.py holds the same rules in plain Python
as the tests' reference. Keep the three in step.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.campaign.checklist import BY_NUMBER as AREAS
from server.ledger.columns import ACTION_COLUMNS, VIOLATION_COLUMNS
from server.vocab import ProviderKind, UnitKind

SURVEY_COLUMNS = (1, 2, 3, 4, 5, 6, 7)
NUMBER_COLUMNS = tuple(range(1, 23))  # 23 is 备注 (text)
REMARKS = 23

# What the ids of a cell name: rows of which table.
SOURCE_UNIT, SOURCE_GUARD, SOURCE_FINDING, SOURCE_OUTCOME = "unit", "guard", "finding", "outcome"
SOURCES = {
    **{c: SOURCE_UNIT for c in (1, 2, 3, 4, 5)},
    6: SOURCE_GUARD, 7: SOURCE_GUARD,
    **{c: SOURCE_FINDING for c in VIOLATION_COLUMNS},
    **{c: SOURCE_OUTCOME for c in ACTION_COLUMNS},
    REMARKS: SOURCE_FINDING,
}

# Units that supply guards rather than use them are not counted in the survey columns 1–5.
PROVIDER_KINDS = (UnitKind.security_company.value, UnitKind.unqualified_employer.value,
                  UnitKind.illegal_org.value)
# Survey columns 3–5: the unit has a site guarded by this kind of provider.
PROVIDER_COLUMNS = {3: ProviderKind.security_company.value, 4: ProviderKind.property_company.value,
                    5: ProviderKind.unqualified.value}
# The "of which 物业服务企业" columns and the column they are part of.
SUBSET_OF = {11: 10, 13: 12}


# ---------------------------------------------------------------- the result

@dataclass(frozen=True)
class Cell:
    value: int
    ids: tuple[int, ...] | None
    """The records behind the number; None when they are not held here (a row counted by
    the database: the drill-down queries them, a weekly report keeps them in WeeklyCell)."""
    source: str


@dataclass(frozen=True)
class StatRow:
    """One row of the statistics table: columns 1–22 as numbers, 23 (备注) as text."""

    cells: dict[int, Cell]
    remarks: str
    remark_ids: tuple[int, ...] | None
    remark_count: int | None = None
    """How many findings the remarks name (else len(remark_ids))."""

    @property
    def remark_records(self) -> int:
        return self.remark_count if self.remark_count is not None else len(self.remark_ids or ())

    def remark_cell(self) -> Cell:
        """The findings behind 备注, as a cell (its value is the number of records)."""
        return Cell(self.remark_records, self.remark_ids, SOURCES[REMARKS])

    def value(self, column: int) -> int:
        return self.cells[column].value

    def values(self) -> dict[int, int]:
        return {c: cell.value for c, cell in self.cells.items()}

    def to_data(self) -> dict:
        """JSON-safe form, as frozen in a weekly report (ids only where the row holds them;
        a weekly report keeps them apart, in WeeklyCell)."""
        def ids(value: tuple[int, ...] | None) -> dict:
            return {} if value is None else {"ids": list(value)}

        return {
            "cells": {str(c): {"value": cell.value, "source": cell.source, **ids(cell.ids)}
                      for c, cell in self.cells.items()},
            "remarks": {"text": self.remarks, "count": self.remark_records, **ids(self.remark_ids)},
        }

    @classmethod
    def from_data(cls, data: dict) -> "StatRow":
        def ids(v: dict) -> tuple[int, ...] | None:
            return tuple(v["ids"]) if "ids" in v else None

        cells = {int(c): Cell(v["value"], ids(v), v["source"]) for c, v in data["cells"].items()}
        remarks = data.get("remarks") or {}
        remark_ids = ids(remarks)
        count = remarks.get("count")
        return cls(cells, remarks.get("text", ""), remark_ids,
                   None if remark_ids is not None and count == len(remark_ids) else count)


def remarks_by_area(per_area: dict[int, int]) -> str:
    """备注 from the quantities of the counted findings that name no column, per focus
    area, e.g. '未计入上列栏目的问题：教育培训 2 起；内部管理 1 起'."""
    if not per_area:
        return ""
    parts = [f"{AREAS[a].title if a in AREAS else f'第{a}项'} {n} 起" for a, n in sorted(per_area.items())]
    return "未计入上列栏目的问题：" + "；".join(parts)
