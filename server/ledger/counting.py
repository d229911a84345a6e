"""The counting rules of the statistics table (统计表) — pure functions, no I/O.

The app counts in the database (queries.py: each column's rule as SQL, grouped queries that
scale to a province). This module is the same rules in plain Python over plain records
(`Dataset`), for one scope (a reporting body's sector or township, or the whole district)
and as of one day, each cell keeping the ids of the records behind it. It is the reference:
tests/test_counting.py checks it on a district counted by hand, and
tests/test_ledger_queries.py checks the SQL against it. It also holds the shared pieces:
the local day of a timestamp, the column a finding counts toward, the remarks text, the
result types. docs/counting-rules.md explains each rule for a newcomer; keep the three in
step.

Dates: a timestamp counts on the local (Asia/Shanghai) day it falls on; "as of D" means
"by the end of day D".
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable

from server.auth.scope import Scope
from server.campaign.checklist import BY_NUMBER as AREAS
from server.ledger.columns import ACTION_COLUMNS, BY_NUMBER, VIOLATION_COLUMNS
from server.vocab import (
    SELF_RECRUITING_KINDS,
    CertStatus,
    EmploymentStatus,
    FindingStatus,
    ProviderKind,
    UnitKind,
)


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


# ---------------------------------------------------------------- the records counted

@dataclass(frozen=True)
class UnitRec:
    id: int
    kind: str
    sector: str | None
    township_id: int | None
    created_on: dt.date


@dataclass(frozen=True)
class SiteRec:
    id: int
    unit_id: int
    provider_kind: str
    created_on: dt.date


@dataclass(frozen=True)
class GuardRec:
    id: int
    employer_id: int
    site_unit_id: int | None
    """The unit whose site the guard is posted to; scopes the guard (else the employer)."""
    certificate_status: str
    certificate_issued_on: dt.date | None
    employment_status: str
    hired_on: dt.date | None
    left_on: dt.date | None
    created_on: dt.date
    updated_on: dt.date


@dataclass(frozen=True)
class FindingRec:
    id: int
    unit_id: int
    area: int
    stat_column: int | None
    quantity: int
    status: str
    confirmed_on: dt.date | None


@dataclass(frozen=True)
class OutcomeRec:
    id: int
    unit_id: int
    stat_column: int
    quantity: int
    recorded_on: dt.date


@dataclass
class Dataset:
    units: dict[int, UnitRec]
    sites: list[SiteRec] = field(default_factory=list)
    guards: list[GuardRec] = field(default_factory=list)
    findings: list[FindingRec] = field(default_factory=list)
    outcomes: list[OutcomeRec] = field(default_factory=list)


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


# ---------------------------------------------------------------- rules

def unit_in_scope(unit: UnitRec | None, scope: Scope) -> bool:
    """A sector body counts units of its sector, a township body units in its township,
    the district everything. Scope is always decided by the unit, never by who inspected."""
    return unit is not None and scope.admits(unit.sector, unit.township_id)


def guard_on_duty(g: GuardRec, day: dt.date) -> bool:
    """Registered by `day`, hired by then (if a hire date is known), and not gone by then.
    A guard who is no longer active but has no leaving date is taken to have left on the
    day the record last changed."""
    if g.created_on > day or (g.hired_on is not None and g.hired_on > day):
        return False
    left = g.left_on
    if left is None and g.employment_status != EmploymentStatus.active:
        left = g.updated_on
    return left is None or left > day


def guard_certified(g: GuardRec, day: dt.date) -> bool:
    """Holds a valid guard certificate on `day` (issued by then, if the date is known)."""
    return g.certificate_status == CertStatus.valid and (
        g.certificate_issued_on is None or g.certificate_issued_on <= day)


def finding_column(f: FindingRec) -> int | None:
    """The violation column a finding counts toward: its stat_column, with the
    'of which' columns 11/13 folded into their parents 10/12 (the subset is derived from the
    unit's kind, never chosen by hand). None: a remark only."""
    column = SUBSET_OF.get(f.stat_column or 0, f.stat_column)
    return column if column in VIOLATION_COLUMNS else None


def finding_counts(f: FindingRec, day: dt.date) -> bool:
    """Confirmed in review, on or before `day`."""
    return f.status == FindingStatus.confirmed and f.confirmed_on is not None and f.confirmed_on <= day


def _cell(column: int, pairs: Iterable[tuple[int, int]]) -> Cell:
    """pairs: (record id, quantity)."""
    pairs = sorted(pairs)
    return Cell(sum(q for _, q in pairs), tuple(i for i, _ in pairs), SOURCES[column])


def survey(data: Dataset, scope: Scope, day: dt.date) -> dict[int, Cell]:
    """Columns 1–7, from the registry as it stood at the end of `day`."""
    units = {u.id: u for u in data.units.values()
             if u.created_on <= day and unit_in_scope(u, scope)}
    users = {i for i, u in units.items() if u.kind not in PROVIDER_KINDS}
    by_provider: dict[str, set[int]] = defaultdict(set)
    for s in data.sites:
        if s.unit_id in users and s.created_on <= day:
            by_provider[s.provider_kind].add(s.unit_id)
    col2 = {i for i in users if units[i].kind in SELF_RECRUITING_KINDS} | by_provider[ProviderKind.own.value]
    sets = {2: col2, **{c: by_provider[k] for c, k in PROVIDER_COLUMNS.items()}}
    sets[1] = set().union(*sets.values())
    cells = {c: _cell(c, ((i, 1) for i in ids)) for c, ids in sets.items()}

    on_duty = []
    for g in data.guards:
        unit = data.units.get(g.site_unit_id or g.employer_id)
        if unit_in_scope(unit, scope) and guard_on_duty(g, day):
            on_duty.append(g)
    cells[6] = _cell(6, ((g.id, 1) for g in on_duty))
    cells[7] = _cell(7, ((g.id, 1) for g in on_duty if guard_certified(g, day)))
    return dict(sorted(cells.items()))


def violations(data: Dataset, scope: Scope, day: dt.date) -> tuple[dict[int, Cell], list[FindingRec]]:
    """Columns 8–16 from confirmed findings (sum of quantities); also the counted findings
    that name no column (they go to 备注)."""
    pairs: dict[int, list[tuple[int, int]]] = {c: [] for c in VIOLATION_COLUMNS}
    remarks: list[FindingRec] = []
    for f in data.findings:
        unit = data.units.get(f.unit_id)
        if not (finding_counts(f, day) and unit_in_scope(unit, scope)):
            continue
        column = finding_column(f)
        if column is None:
            remarks.append(f)
            continue
        pairs[column].append((f.id, f.quantity))
        for subset, parent in SUBSET_OF.items():
            if column == parent and unit.kind == UnitKind.property_company:
                pairs[subset].append((f.id, f.quantity))
    return {c: _cell(c, p) for c, p in pairs.items()}, remarks


def actions(data: Dataset, scope: Scope, day: dt.date) -> dict[int, Cell]:
    """Columns 17–22 from rectification outcomes recorded on or before `day`."""
    pairs: dict[int, list[tuple[int, int]]] = {c: [] for c in ACTION_COLUMNS}
    for o in data.outcomes:
        if o.stat_column in pairs and o.recorded_on <= day and unit_in_scope(data.units.get(o.unit_id), scope):
            pairs[o.stat_column].append((o.id, o.quantity))
    return {c: _cell(c, p) for c, p in pairs.items()}


def remarks_by_area(per_area: dict[int, int]) -> str:
    """备注 from the quantities of the counted findings that name no column, per focus
    area, e.g. '未计入上列栏目的问题：教育培训 2 起；内部管理 1 起'."""
    if not per_area:
        return ""
    parts = [f"{AREAS[a].title if a in AREAS else f'第{a}项'} {n} 起" for a, n in sorted(per_area.items())]
    return "未计入上列栏目的问题：" + "；".join(parts)


def remarks_text(findings: list[FindingRec]) -> str:
    """备注: confirmed findings that count toward no column, by focus area."""
    per_area: dict[int, int] = defaultdict(int)
    for f in findings:
        per_area[f.area] += f.quantity
    return remarks_by_area(per_area)


def count(data: Dataset, scope: Scope, day: dt.date) -> StatRow:
    """The whole row of the statistics table for one scope, as of the end of `day`."""
    cells = survey(data, scope, day)
    found, remark_findings = violations(data, scope, day)
    cells.update(found)
    cells.update(actions(data, scope, day))
    assert set(cells) == set(NUMBER_COLUMNS)
    return StatRow(cells, remarks_text(remark_findings), tuple(sorted(f.id for f in remark_findings)))


def column_unit(column: int) -> str:
    return BY_NUMBER[column].unit
