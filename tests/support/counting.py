"""The counting rules of the statistics table (统计表) in plain Python — the tests' reference.

The app counts in the database (server/ledger/queries.py: each column's rule as SQL, grouped
queries that scale to a province). This module is the same rules over plain records
(`Dataset`), for one scope (a reporting body's sector or township, or the whole district)
and as of one day, each cell keeping the ids of the records behind it:
tests/test_counting.py checks it on a district counted by hand, and
tests/test_ledger_queries.py checks the SQL against it. docs/counting-rules.md explains each
rule for a newcomer; keep the three in step.

Dates: a timestamp counts on the local (Asia/Shanghai) day it falls on; "as of D" means
"by the end of day D".
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable

from server.auth.scope import Scope
from server.ledger.columns import ACTION_COLUMNS, BY_NUMBER, VIOLATION_COLUMNS
from server.ledger.row import (
    NUMBER_COLUMNS,
    PROVIDER_COLUMNS,
    PROVIDER_KINDS,
    SOURCES,
    SUBSET_OF,
    Cell,
    StatRow,
    remarks_by_area,
)
from server.vocab import (
    SELF_RECRUITING_KINDS,
    CertStatus,
    EmploymentStatus,
    FindingStatus,
    ProviderKind,
    UnitKind,
)


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
    """The offender (违法主体): scope, kind and column follow it."""
    area: int
    stat_column: int | None
    quantity: int
    status: str
    confirmed_on: dt.date | None
    found_on: dt.date | None = None
    """The day of its inspection; None: the same as confirmed_on."""
    repeat_of: int | None = None
    """Found again at 回头看 (an earlier finding's id): never a second case."""


@dataclass(frozen=True)
class OutcomeRec:
    id: int
    unit_id: int
    stat_column: int
    quantity: int
    recorded_on: dt.date
    answers_filing: bool = False
    """Its order holds a filing finding (focus area 5, or column 10/11)."""
    marked_guards: int = 0
    """Guards with a 特勤 mark recorded at the guard check behind its order's findings."""


@dataclass
class Dataset:
    units: dict[int, UnitRec]
    sites: list[SiteRec] = field(default_factory=list)
    guards: list[GuardRec] = field(default_factory=list)
    findings: list[FindingRec] = field(default_factory=list)
    outcomes: list[OutcomeRec] = field(default_factory=list)


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


def self_recruiting(data: Dataset, unit: UnitRec, day: dt.date) -> bool:
    """A self-recruiting unit: by its kind, or a site of its own guarded by its own staff on
    `day` (as column 2)."""
    return unit.kind in SELF_RECRUITING_KINDS or any(
        s.unit_id == unit.id and s.provider_kind == ProviderKind.own and s.created_on <= day for s in data.sites)


def finding_column(f: FindingRec, self_recruiting_offender: bool = True) -> int | None:
    """The violation column a finding counts toward: its stat_column, with the
    'of which' columns 11/13 folded into their parents 10/12 (the subset is derived from the
    offender's kind, never chosen by hand). Column 10 counts only a self-recruiting offender.
    None: a remark only."""
    column = SUBSET_OF.get(f.stat_column or 0, f.stat_column)
    if column == 10 and not self_recruiting_offender:
        return None
    return column if column in VIOLATION_COLUMNS else None


def finding_day(f: FindingRec, count_on: str = "found") -> dt.date | None:
    """The day a finding counts on: the day found (its inspection's), or the day confirmed."""
    if count_on == "found" and f.found_on is not None:
        return f.found_on
    return f.confirmed_on


def finding_counts(f: FindingRec, day: dt.date, count_on: str = "found") -> bool:
    """Confirmed in review, not a repeat found at 回头看, and dated (found or confirmed, as the
    campaign says) on or before `day`."""
    on = finding_day(f, count_on)
    return (f.status == FindingStatus.confirmed and f.confirmed_on is not None and f.repeat_of is None
            and on is not None and on <= day)


def outcome_adds(o: OutcomeRec) -> int:
    """What an outcome adds to its column: its quantity; column 22 no more persons than the
    guards with a 特勤 mark behind its order; column 21 nothing unless its order answers a
    filing finding."""
    if o.stat_column == 22:
        return min(o.quantity, o.marked_guards)
    if o.stat_column == 21 and not o.answers_filing:
        return 0
    return o.quantity


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


def violations(data: Dataset, scope: Scope, day: dt.date,
               count_on: str = "found") -> tuple[dict[int, Cell], list[FindingRec]]:
    """Columns 8–16 from confirmed findings (sum of quantities), by their offender; also the
    counted findings that name no column (they go to 备注)."""
    pairs: dict[int, list[tuple[int, int]]] = {c: [] for c in VIOLATION_COLUMNS}
    remarks: list[FindingRec] = []
    for f in data.findings:
        unit = data.units.get(f.unit_id)
        if not (finding_counts(f, day, count_on) and unit_in_scope(unit, scope)):
            continue
        column = finding_column(f, self_recruiting(data, unit, day))
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
        if (o.stat_column in pairs and o.recorded_on <= day and outcome_adds(o) > 0
                and unit_in_scope(data.units.get(o.unit_id), scope)):
            pairs[o.stat_column].append((o.id, outcome_adds(o)))
    return {c: _cell(c, p) for c, p in pairs.items()}


def remarks_text(findings: list[FindingRec]) -> str:
    """备注: confirmed findings that count toward no column, by focus area."""
    per_area: dict[int, int] = defaultdict(int)
    for f in findings:
        per_area[f.area] += f.quantity
    return remarks_by_area(per_area)


def count(data: Dataset, scope: Scope, day: dt.date, count_on: str = "found") -> StatRow:
    """The whole row of the statistics table for one scope, as of the end of `day`."""
    cells = survey(data, scope, day)
    found, remark_findings = violations(data, scope, day, count_on)
    cells.update(found)
    cells.update(actions(data, scope, day))
    assert set(cells) == set(NUMBER_COLUMNS)
    return StatRow(cells, remarks_text(remark_findings), tuple(sorted(f.id for f in remark_findings)))


def column_unit(column: int) -> str:
    return BY_NUMBER[column].unit
