"""The statistics table counted by the database: each column's rule as SQL.

Every column of the table is one `Rule`: which records it counts (a `Source`, such as the
guards) and a SQL condition on them. From the same rule two queries are built:

- `count`: one grouped query per source sums every column of that source for every
  (sector, township) pair at once. A body's row, or the district total, is then the sum of
  the groups its scope admits. Every record lies in exactly one group (the one of the unit
  that scopes it), so a sum never counts a record twice, and the total row, summed over all
  groups, counts each record once although the body rows overlap.
  For units, guards and findings the count reads the sums the database keeps of them
  (`tally.py`, Source.tallied), corrected for the few records that differ on the day.
- `ids`: the records behind one number, a page at a time (the drill-down), and `buckets`:
  the ids of every counted record, grouped by where it counts and in which columns
  (freezing a weekly report).

The rules are those of docs/counting-rules.md. tests/support/counting.py holds the same rules
as plain Python over loaded records; the tests check that both give the same numbers and the same
records. A query reads the conditions as SQL text with named parameters (:day, :cutoff,
:campaign, …); `Params` collects the values and `_render` turns them into the engine's
positional parameters.

Dates: "as of D" is "before the start of D + 1, Beijing time" (`cutoff`), so a timestamp
counts on its local day exactly as `clock.local_date` says. On SQLite, where timestamps
are text, they are compared through datetime() (UTC, whole seconds).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from server import clock, db
from server.auth.scope import Scope
from server.ledger import tally
from server.ledger.columns import ACTION_COLUMNS, VIOLATION_COLUMNS
from server.ledger.row import (
    PROVIDER_COLUMNS,
    PROVIDER_KINDS,
    REMARKS,
    SOURCE_FINDING,
    SOURCE_GUARD,
    SOURCE_OUTCOME,
    SOURCE_UNIT,
    SUBSET_OF,
    Cell,
    StatRow,
    remarks_by_area,
)
from server.campaign.options import COUNT_ON_FOUND, count_on as _count_on_option, options_of
from server.vocab import (
    SELF_RECRUITING_KINDS,
    BodyScope,
    CertStatus,
    EmploymentStatus,
    FindingStatus,
    ProviderKind,
    UnitKind,
)


FILING_COLUMN = 10
"""自招保安员单位未备案: counted only against a self-recruiting offender."""
FILING_STAT_COLUMNS = tally.FILING_STAT_COLUMNS
FILING_OUTCOME_COLUMN = 21
MARK_COLUMN = 22


def _list(values: Iterable[Any]) -> str:
    """A SQL list of constants from the code (vocabulary values, column numbers)."""
    return ", ".join(f"'{v}'" if isinstance(v, str) else str(int(v)) for v in values)


def cutoff(day: dt.date) -> dt.datetime:
    """The first instant after `day`, Beijing time: a timestamp counts on `day` or before
    exactly when it is earlier than this."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), clock.LOCAL_TZ)


class Params:
    """Named parameters of one query; `day`, `cutoff` and `campaign` give the placeholders
    for one day (`for_day` makes the set for another day of the same query)."""

    def __init__(self, campaign: int, day: dt.date, values: dict | None = None, tag: str = "",
                 count_on: str = COUNT_ON_FOUND) -> None:
        self.count_on = count_on
        """Which day a finding counts on: found (its inspection's) or confirmed (campaign option)."""
        self.values: dict[str, Any] = {} if values is None else values
        self.values["campaign"] = campaign
        self._campaign = campaign
        self.values[f"day{tag}"] = day
        limit = cutoff(day)
        self.values[f"cutoff{tag}"] = db.timestamp_arg(limit)
        self.day, self.cutoff, self.campaign = f":day{tag}", f":cutoff{tag}", ":campaign"

    def for_day(self, day: dt.date, tag: str) -> "Params":
        return Params(self._campaign, day, self.values, tag, self.count_on)

    def add(self, name: str, value: Any) -> str:
        self.values[name] = value
        return f":{name}"

    def ts(self, expr: str) -> str:
        """A timestamp, comparable with `cutoff`."""
        return db.timestamp_sql(expr)


_NAME = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")


def _render(sql: str, values: dict[str, Any]) -> tuple[str, list[Any]]:
    """:name placeholders → the `{}` Piccolo turns into $n or ?, with the values in order."""
    args: list[Any] = []

    def sub(m: re.Match) -> str:
        args.append(values[m.group(1)])
        return "{}"

    return _NAME.sub(sub, sql), args


async def count_on_of(campaign_id: int) -> str:
    """The campaign's count date for findings (campaign.options.count_on: found or confirmed)."""
    from server.models.campaign import Campaign

    row = await Campaign.select(Campaign.options).where(Campaign.id == campaign_id).first()
    return _count_on_option(options_of(row or {}))


async def _fetch(sql: str, values: dict[str, Any]) -> list[dict]:
    text, args = _render(sql, values)
    return await db.raw(text, *args)


# ---------------------------------------------------------------- the records counted

Cond = Callable[[Params], str]


@dataclass(frozen=True)
class Source:
    """The records of one kind, one row each, as `r`: id, sector and township (of the unit
    that scopes the record), m (what the record adds to a number), and what the rules read."""

    name: str
    rows: Cond
    as_of: Cond
    """Counted by the end of the day (a condition on r)."""
    keys: tuple[str, ...] = ()
    """Further grouping keys of the count query (the findings' focus area, for 备注)."""
    adds_quantity: bool = False
    """A record adds its quantity (else 1), so a number is not its count of records."""
    reads: tuple[str, ...] = ()
    """What the rules read of a record besides the day (as_of), when few records differ in
    it: the count then first folds the records counted by the day into one row per distinct
    (sector, township, keys, reads) with their sum and number, and evaluates each rule once
    per folded row, not once per record (a province's district count: 300,000 findings
    become a few thousand rows)."""
    tallied: Callable[[Params], str] | None = None
    """The records as of the day counted from their tally (tally.py) instead of one by one:
    rows like `rows` gives (for a source with `reads`, already folded), each m records (or
    their sum)."""


@dataclass(frozen=True)
class Rule:
    column: int
    source: Source
    when: Cond


def _unit_rows(p: Params) -> str:
    """Units that use guards: whether registered by the day, and a flag per kind of provider
    that guards one of their sites existing on the day: from when the unit's first site of
    that kind was registered (unit.<kind>_since, kept by triggers on site; migration "first
    site per kind of provider on the unit"), so the count joins nothing."""
    flags = ", ".join(f"CASE WHEN {p.ts(f'u.{k}_since')} < {p.cutoff} THEN 1 ELSE 0 END AS has_{k}"
                      for k in tally.PROVIDERS)
    return f"""
        SELECT u.id AS id, u.sector AS sector, u.township AS township, 1 AS m, u.kind AS kind,
               CASE WHEN {p.ts('u.created_at')} < {p.cutoff} THEN 1 ELSE 0 END AS registered, {flags}
        FROM unit u
        WHERE u.kind NOT IN ({_list(PROVIDER_KINDS)})"""


def _recent_units(p: Params) -> str:
    """Units registered, or given their first site of a kind, after the day: those whose
    flags on the day differ from the unit tally's (an index on PostgreSQL: migration "the
    statistics tallies")."""
    if db.is_postgres():
        return f"GREATEST(u.created_at, {', '.join(f'u.{k}_since' for k in tally.PROVIDERS)}) >= {p.cutoff}"
    return " OR ".join(f"{p.ts(f'u.{c}')} >= {p.cutoff}"
                       for c in ("created_at", *(f"{k}_since" for k in tally.PROVIDERS)))


def _tallied_units(p: Params) -> str:
    """_unit_rows counted from the unit tally (tally.py), m records each: its groups as they
    stand for good, corrected by the recent units (_recent_units), each taken off as the
    tally has it and added as it was on the day."""
    flags = ", ".join(f"t.has_{k} AS has_{k}" for k in tally.PROVIDERS)
    for_good = ", ".join(f"CASE WHEN u.{k}_since IS NOT NULL THEN 1 ELSE 0 END" for k in tally.PROVIDERS)
    on_day = ", ".join(f"CASE WHEN {p.ts(f'u.{k}_since')} < {p.cutoff} THEN 1 ELSE 0 END" for k in tally.PROVIDERS)
    providers = f"NOT IN ({_list(PROVIDER_KINDS)})"
    return f"""
        SELECT t.sector AS sector, t.township AS township, t.n AS m, t.kind AS kind, 1 AS registered, {flags}
        FROM unit_tally t WHERE t.kind {providers}
        UNION ALL
        SELECT u.sector, u.township, -1, u.kind, 1, {for_good}
        FROM unit u WHERE u.kind {providers} AND ({_recent_units(p)})
        UNION ALL
        SELECT u.sector, u.township, 1, u.kind, CASE WHEN {p.ts('u.created_at')} < {p.cutoff} THEN 1 ELSE 0 END, {on_day}
        FROM unit u WHERE u.kind {providers} AND ({_recent_units(p)})"""


def _guard_on_duty(p: Params, g: str = "g") -> str:
    """(tests/support/counting.py guard_on_duty) Registered and hired by the day, not gone by then (no leaving
    date but no longer active: gone on the day the record last changed)."""
    return f"""({p.ts(f'{g}.created_at')} < {p.cutoff}
        AND ({g}.hired_on IS NULL OR {g}.hired_on <= {p.day})
        AND ({g}.left_on > {p.day}
             OR ({g}.left_on IS NULL AND ({g}.employment_status = '{EmploymentStatus.active.value}'
                                        OR {p.ts(f'{g}.updated_at')} >= {p.cutoff}))))"""


def _guard_certified(p: Params, g: str = "g") -> str:
    """On duty on the day with a valid certificate issued by then."""
    return (f"({_guard_on_duty(p, g)} AND {g}.certificate_status = '{CertStatus.valid.value}' "
            f"AND ({g}.certificate_issued_on IS NULL OR {g}.certificate_issued_on <= {p.day}))")


def _guard_rows(p: Params) -> str:
    """A guard is scoped by the unit of the site they are posted to, else by their employer:
    Guard.scope_sector/scope_township, copies of that unit's kept by the database (migration
    "counting copies"), so the count joins nothing. Flags: on duty on the day, and certified."""
    return f"""
        SELECT g.id AS id, g.scope_sector AS sector, g.scope_township AS township, 1 AS m,
               CASE WHEN {_guard_on_duty(p)} THEN 1 ELSE 0 END AS on_duty,
               CASE WHEN {_guard_certified(p)} THEN 1 ELSE 0 END AS certified
        FROM guard g"""


def _recent_guards(p: Params) -> str:
    """Guards registered or changed after the day, or with a hiring, leaving or certificate
    date after it: those whose flags on the day may differ from the guard tally's (indexes
    on PostgreSQL: migration "the statistics tallies")."""
    if db.is_postgres():
        return (f"GREATEST(g.created_at, g.updated_at) >= {p.cutoff} "
                f"OR GREATEST(g.hired_on, g.left_on, g.certificate_issued_on) > {p.day}")
    return " OR ".join([*(f"{p.ts(f'g.{c}')} >= {p.cutoff}" for c in ("created_at", "updated_at")),
                        *(f"g.{c} > {p.day}" for c in ("hired_on", "left_on", "certificate_issued_on"))])


def _tallied_guards(p: Params) -> str:
    """_guard_rows counted from the guard tally (tally.py), m records each: on duty and
    certified for good, corrected by the recent guards (_recent_guards), each taken off as
    the tally has it and added as they were on the day."""
    return f"""
        SELECT t.sector AS sector, t.township AS township, t.n AS m, t.on_duty AS on_duty, t.certified AS certified
        FROM guard_tally t
        UNION ALL
        SELECT g.scope_sector, g.scope_township, -1,
               CASE WHEN {tally.on_duty_for_good('g')} THEN 1 ELSE 0 END,
               CASE WHEN {tally.certified_for_good('g')} THEN 1 ELSE 0 END
        FROM guard g WHERE {_recent_guards(p)}
        UNION ALL
        SELECT g.scope_sector, g.scope_township, 1,
               CASE WHEN {_guard_on_duty(p)} THEN 1 ELSE 0 END, CASE WHEN {_guard_certified(p)} THEN 1 ELSE 0 END
        FROM guard g WHERE {_recent_guards(p)}"""


def _folded(r: str) -> str:
    """The column a finding (or tally row) `r` counts toward: 11/13 folded into 10/12."""
    whens = " ".join(f"WHEN {s} THEN {p}" for s, p in SUBSET_OF.items())
    return f"CASE {r}.stat_column {whens} ELSE {r}.stat_column END"


def _finding_rows(p: Params) -> str:
    """Confirmed findings of the campaign that are not a repeat found again at 回头看, with
    the column they count toward (11/13 folded into 10/12, as tests/support/counting.py
    finding_column), the time they count on (the inspection's start when counted as found,
    else the confirmation) and, for a filing finding against a unit not self-recruiting by
    kind, since when that unit guards a site of its own (for column 10). Scope, kind and
    column follow the offender (Finding.unit); the offender's sector, township and kind and
    the inspection's campaign and start are copies on the finding kept by the database
    (migration "counting copies"), so the count joins nothing."""
    return f"""
        SELECT f.id AS id, f.scope_sector AS sector, f.scope_township AS township, f.quantity AS m,
               f.area AS area, {_folded('f')} AS col, f.unit_kind AS kind, {_counts_on(p)} AS confirmed_at,
               CASE WHEN f.stat_column IN ({_list(FILING_STAT_COLUMNS)})
                         AND f.unit_kind NOT IN ({_list(SELF_RECRUITING_KINDS)})
                    THEN (SELECT u.{ProviderKind.own.value}_since FROM unit u WHERE u.id = f.unit) END AS own_since
        FROM finding f
        WHERE f.status = '{FindingStatus.confirmed.value}' AND f.campaign = {p.campaign}
              AND f.repeat_of IS NULL"""


def _counts_on(p: Params) -> str:
    """When a finding `f` counts: its inspection's start, or its confirmation."""
    return "f.found_at" if p.count_on == COUNT_ON_FOUND else "COALESCE(f.reviewed_at, f.updated_at)"


def _tallied_findings(p: Params) -> str:
    """_finding_rows folded (see Source.reads) from the findings' tally (tally.py): its rows
    (sums of groups of findings), and the findings that count only after the day with
    their sign turned (on the day itself next to none; a past week's report subtracts what
    came after it, an index range on the day findings count on, migration "the statistics
    tallies"). A group keeps the offender for the filing columns, whose first own
    site the rule for column 10 reads. The rules sum m and n, so rows of one group need not
    be added up first."""
    on = p.ts(_counts_on(p))

    def after(when: str) -> str:
        return f"""SELECT f.scope_sector, f.scope_township, f.area, {_folded('f')}, f.unit_kind,
                     {tally.FINDINGS.group_of("f")[-1]}, -f.quantity, -1
              FROM finding f WHERE {tally.FINDINGS.counted.format(r="f")} AND f.campaign = {p.campaign}
                   AND {when}"""

    return f"""
        SELECT r.sector AS sector, r.township AS township, r.area AS area, r.col AS col, r.kind AS kind,
               CASE WHEN r.unit IS NOT NULL AND r.kind NOT IN ({_list(SELF_RECRUITING_KINDS)})
                    THEN (SELECT u.{ProviderKind.own.value}_since FROM unit u WHERE u.id = r.unit) END AS own_since,
               r.m AS m, r.n AS n
        FROM (SELECT t.sector AS sector, t.township AS township, t.area AS area,
                     {_folded('t')} AS col, t.kind AS kind, t.unit AS unit, t.m AS m, t.n AS n
              FROM finding_tally t WHERE t.campaign = {p.campaign}
              UNION ALL
              {after(f"{on} >= {p.cutoff}")}
              UNION ALL
              {after(f"{on} IS NULL")}) r"""


def _self_recruiting_offender(p: Params) -> str:
    """(counting.self_recruiting) The offender is a self-recruiting unit on the day: by its
    kind, or a site of its own guarded by its own staff existing by then (as column 2)."""
    return (f"(r.kind IN ({_list(SELF_RECRUITING_KINDS)}) "
            f"OR (r.own_since IS NOT NULL AND {p.ts('r.own_since')} < {p.cutoff}))")


def _outcome_rows(p: Params) -> str:
    """Outcomes of the campaign's orders, scoped by the order's unit (the findings' offender).
    Column 22 adds no more persons than the order's guards with a 特勤 mark (counting.outcome_adds);
    column 21 is flagged by whether the order answers a filing finding. The order's scope,
    marked guards and answers_filing are kept on it by the database (migration "what an
    order counts with"), so the count joins nothing else."""
    return f"""
        SELECT o.id AS id, ro.scope_sector AS sector, ro.scope_township AS township,
               CASE WHEN o.stat_column = {MARK_COLUMN} AND ro.marked < o.quantity THEN ro.marked
                    ELSE o.quantity END AS m,
               o.stat_column AS col, o.recorded_on AS recorded_on, ro.answers_filing AS answers_filing
        FROM rectification_outcome o JOIN rectification_order ro ON ro.id = o."order"
        WHERE ro.campaign = {p.campaign}"""


def _outcome_rule(column: int) -> Cond:
    """(counting.outcome_counts) 21: only an order that answers a filing finding; 22: only
    persons traceable to a guard check with the 特勤 mark (m > 0)."""
    if column == FILING_OUTCOME_COLUMN:
        return lambda p: f"(r.col = {column} AND r.answers_filing = 1)"
    if column == MARK_COLUMN:
        return lambda p: f"(r.col = {column} AND r.m > 0)"
    return _column_is(column)


UNITS = Source(SOURCE_UNIT, _unit_rows, lambda p: "r.registered = 1", tallied=_tallied_units)
GUARDS = Source(SOURCE_GUARD, _guard_rows, lambda p: "r.on_duty = 1", tallied=_tallied_guards)
FINDINGS = Source(SOURCE_FINDING, _finding_rows, lambda p: f"{p.ts('r.confirmed_at')} < {p.cutoff}", ("area",), True,
                  ("col", "kind", "own_since"), _tallied_findings)
OUTCOMES = Source(SOURCE_OUTCOME, _outcome_rows, lambda p: f"r.recorded_on <= {p.day}", (), True)
SOURCES = (UNITS, GUARDS, FINDINGS, OUTCOMES)


# ---------------------------------------------------------------- the columns

def _self_recruiting(p: Params) -> str:
    return f"(r.kind IN ({_list(SELF_RECRUITING_KINDS)}) OR r.has_{ProviderKind.own.value} = 1)"


def _has_site_by(kind: str) -> Cond:
    return lambda p: f"r.has_{kind} = 1"


def _column_is(column: int) -> Cond:
    return lambda p: f"r.col = {column}"


def _survey_rules() -> list[Rule]:
    by_provider = {c: _has_site_by(k) for c, k in PROVIDER_COLUMNS.items()}
    parts = [_self_recruiting, *by_provider.values()]
    return [
        Rule(1, UNITS, lambda p: "(" + " OR ".join(f(p) for f in parts) + ")"),
        Rule(2, UNITS, _self_recruiting),
        *(Rule(c, UNITS, f) for c, f in by_provider.items()),
        Rule(6, GUARDS, lambda p: "1 = 1"),
        Rule(7, GUARDS, lambda p: "r.certified = 1"),
    ]


def _violation_rule(column: int) -> Rule:
    parent = SUBSET_OF.get(column)
    if column == FILING_COLUMN:  # only against a self-recruiting unit
        return Rule(column, FINDINGS, lambda p: f"(r.col = {column} AND {_self_recruiting_offender(p)})")
    if parent is None:
        return Rule(column, FINDINGS, _column_is(column))
    return Rule(column, FINDINGS, lambda p: f"(r.col = {parent} AND r.kind = '{UnitKind.property_company.value}')")


RULES: dict[int, Rule] = {r.column: r for r in [
    *_survey_rules(),
    *(_violation_rule(c) for c in VIOLATION_COLUMNS),
    *(Rule(c, OUTCOMES, _outcome_rule(c)) for c in ACTION_COLUMNS),
    # 备注: counted findings that name no violation column.
    Rule(REMARKS, FINDINGS, lambda p: f"(COALESCE(r.col, 0) NOT IN ({_list(VIOLATION_COLUMNS)}) "
                                      f"OR (r.col = {FILING_COLUMN} AND NOT {_self_recruiting_offender(p)}))"),
]}
assert set(RULES) == set(range(1, REMARKS + 1))


def rules_of(source: Source) -> list[Rule]:
    return [r for r in RULES.values() if r.source is source]


# ---------------------------------------------------------------- counting

def _scope_sql(scope: Scope, p: Params) -> str:
    if scope.kind == BodyScope.sector:
        return f"r.sector = {p.add('scope_sector', scope.sector)}"
    if scope.kind == BodyScope.township:
        return f"r.township = {p.add('scope_township', scope.township_id)}"
    return "1 = 1"


@dataclass
class Group:
    """The numbers of one (sector, township) pair, for one source."""

    sector: str | None
    township: int | None
    key: tuple
    sums: dict[int, int]
    records: dict[int, int]
    """Records behind each number (the remarks cell shows how many)."""
    total: int
    """Counted records of the source in this group, whatever their column."""


@dataclass
class Counts:
    """Every source's numbers per (sector, township): the district's table in small."""

    day: dt.date
    groups: dict[str, list[Group]] = field(default_factory=dict)
    _merged: dict[str, dict[tuple, list[Group]]] = field(default_factory=dict, repr=False)

    def _buckets(self, source: str) -> dict[tuple, list[Group]]:
        """The source's groups summed per sector, per township and for the district: from the
        database when `count` summed them there (the district's table), else added up here
        once per source (a district table has a hundred rows)."""
        merged = self._merged.get(source)
        if merged is None:
            buckets: dict[tuple, dict[tuple, Group]] = defaultdict(dict)
            for g in self.groups.get(source, []):
                for bucket in ((BodyScope.sector, g.sector), (BodyScope.township, g.township), (BodyScope.district,)):
                    into = buckets[bucket].get(g.key)
                    if into is None:
                        buckets[bucket][g.key] = Group(None, None, g.key, dict(g.sums), dict(g.records), g.total)
                    else:
                        for c, v in g.sums.items():
                            into.sums[c] += v
                        for c, v in g.records.items():
                            into.records[c] += v
                        into.total += g.total
            merged = self._merged[source] = {k: list(v.values()) for k, v in buckets.items()}
        return merged

    def _admitted(self, source: str, scope: Scope) -> list[Group]:
        """The groups a scope admits, summed (see _buckets)."""
        merged = self._buckets(source)
        if scope.kind == BodyScope.sector:
            return merged.get((BodyScope.sector, scope.sector), [])
        if scope.kind == BodyScope.township:
            return merged.get((BodyScope.township, scope.township_id), [])
        return merged.get((BodyScope.district,), [])

    def row(self, scope: Scope) -> StatRow:
        """The row of the statistics table for one scope."""
        cells: dict[int, Cell] = {}
        for source in SOURCES:
            groups = self._admitted(source.name, scope)
            for rule in rules_of(source):
                if rule.column != REMARKS:
                    cells[rule.column] = Cell(sum(g.sums[rule.column] for g in groups), None, source.name)
        per_area: dict[int, int] = defaultdict(int)
        records = 0
        for g in self._admitted(FINDINGS.name, scope):
            if g.records[REMARKS]:
                per_area[g.key[0]] += g.sums[REMARKS]
            records += g.records[REMARKS]
        return StatRow(dict(sorted(cells.items())), remarks_by_area(per_area), None, records)

    def records(self, scope: Scope, column: int) -> int:
        """How many records are behind one number of a scope's row."""
        source = RULES[column].source.name
        return sum(g.records[column] for g in self._admitted(source, scope))

    def findings_by_township(self) -> dict[int | None, int]:
        """Counted finding records per township of their unit."""
        out: dict[int | None, int] = defaultdict(int)
        for bucket, groups in self._buckets(FINDINGS.name).items():
            if bucket[0] == BodyScope.township:
                out[bucket[1]] += sum(g.total for g in groups)
        return out

    def finding_records(self, scope: Scope) -> int:
        return sum(g.total for g in self._admitted(FINDINGS.name, scope))


def _count_sql(source: Source, rules: list[Rule], p: Params, scope: Scope,
               days: list[Params] | None = None, records: Iterable[int] = ()) -> str:
    """One grouped query: per (sector, township[, keys]) the sum of every rule (v<column>) and
    the number of records behind the `records` columns (n<column>). With `days`, the sums
    are per day (v<column>_<i> for days[i])."""
    keys = ", ".join(["r.sector", "r.township", *(f"r.{k}" for k in source.keys)])
    if days is None and source.reads:
        return _folded_count_sql(source, rules, p, scope, records)
    tallied = days is None and source.tallied is not None
    aggs = ["SUM(r.m) AS total" if tallied else "COUNT(*) AS total"]
    if days is None:
        for rule in rules:
            cond = rule.when(p)
            aggs.append(f"COALESCE(SUM(r.m) FILTER (WHERE {cond}), 0) AS v{rule.column}")
            if rule.column in records:
                aggs.append(f"COUNT(*) FILTER (WHERE {cond}) AS n{rule.column}")
    else:
        for i, dp in enumerate(days):
            for rule in rules:
                aggs.append(f"COALESCE(SUM(r.m) FILTER (WHERE {source.as_of(dp)} AND {rule.when(dp)}), 0) "
                            f"AS v{rule.column}_{i}")
    return f"""SELECT {keys}, {', '.join(aggs)}
        FROM ({source.tallied(p) if tallied else source.rows(p)}) r
        WHERE {_scope_sql(scope, p)} AND {source.as_of(p)}
        GROUP BY {keys}"""


def _folded_count_sql(source: Source, rules: list[Rule], p: Params, scope: Scope, records: Iterable[int]) -> str:
    """_count_sql for a source whose rules read few distinct values (Source.reads): the
    records counted by the day folded first (m: their sum, n: how many), the rules on the
    folded rows."""
    keys = ", ".join(["r.sector", "r.township", *(f"r.{k}" for k in source.keys)])
    names = ["sector", "township", *source.keys, *source.reads]
    folded = ", ".join(f"r.{k}" for k in names)
    named = ", ".join(f"r.{k} AS {k}" for k in names)
    aggs = ["SUM(r.n) AS total"]
    for rule in rules:
        cond = rule.when(p)
        aggs.append(f"COALESCE(SUM(r.m) FILTER (WHERE {cond}), 0) AS v{rule.column}")
        if rule.column in records:
            aggs.append(f"COALESCE(SUM(r.n) FILTER (WHERE {cond}), 0) AS n{rule.column}")
    if source.tallied is not None:
        rows = f"SELECT * FROM ({source.tallied(p)}) r WHERE {_scope_sql(scope, p)}"
    else:
        rows = f"""SELECT {named}, SUM(r.m) AS m, COUNT(*) AS n
              FROM ({source.rows(p)}) r
              WHERE {_scope_sql(scope, p)} AND {source.as_of(p)}
              GROUP BY {folded}"""
    return f"""SELECT {keys}, {', '.join(aggs)}
        FROM ({rows}) r
        GROUP BY {keys}"""


_BUCKETS = {"s": BodyScope.sector, "t": BodyScope.township, "d": BodyScope.district}


def _bucketed_sql(source: Source, rules: list[Rule], records: Iterable[int], grouped: str) -> str:
    """The grouped query's rows (per sector and township) summed again per sector, per
    township and for the district, in the database: a province's findings come in fifteen
    thousand groups, which Python would take a quarter of a second to add up three ways. A
    row's `bucket` says which sum it is (s, t, d; _BUCKETS)."""
    names = ["total", *(f"v{r.column}" for r in rules), *(f"n{c}" for c in records)]
    # Each as an integer: PostgreSQL sums a bigint into a numeric, several times slower.
    sums = ", ".join(f"SUM(CAST(g.{n} AS INTEGER)) AS {n}" for n in names)
    keys = "".join(f", g.{k} AS {k}" for k in source.keys)
    by = "".join(f", g.{k}" for k in source.keys)
    return f"""WITH g AS ({grouped})
        SELECT 's' AS bucket, g.sector AS sector, NULL AS township{keys}, {sums} FROM g GROUP BY g.sector{by}
        UNION ALL
        SELECT 't' AS bucket, NULL AS sector, g.township AS township{keys}, {sums} FROM g GROUP BY g.township{by}
        UNION ALL
        SELECT 'd' AS bucket, NULL AS sector, NULL AS township{keys}, {sums} FROM g
        GROUP BY {by[2:] if by else "1"}"""


async def count(campaign_id: int, day: dt.date, scope: Scope | None = None,
                sources: Iterable[Source] = SOURCES, records: Iterable[int] = (REMARKS,),
                count_on: str | None = None) -> Counts:
    """The numbers of every column as of the end of `day`, per (sector, township) pair;
    `scope` limits the groups read to one body's (the whole district when None). How many
    records are behind a number is counted for the `records` columns only (the remarks,
    and the column whose records are listed); where the source adds 1 per record it is
    the number itself."""
    scope = scope or Scope(BodyScope.district, None, None)
    records = set(records)
    on = count_on or await count_on_of(campaign_id)

    bucketed = scope.kind == BodyScope.district

    async def one(source: Source) -> None:
        p = Params(campaign_id, day, count_on=on)
        rules = rules_of(source)
        counted = {r.column for r in rules if r.column in records and source.adds_quantity}
        sql = _count_sql(source, rules, p, scope, records=counted)
        if bucketed:
            sql = _bucketed_sql(source, rules, counted, sql)
        groups, buckets = [], defaultdict(list)
        for r in await _fetch(sql, p.values):
            sums = {rule.column: int(r[f"v{rule.column}"] or 0) for rule in rules}
            group = Group(r["sector"], r["township"], tuple(r[k] for k in source.keys), sums,
                          {c: int(r[f"n{c}"] or 0) if c in counted else sums[c] for c in sums}, int(r["total"] or 0))
            if bucketed:
                kind = _BUCKETS[r["bucket"]]
                buckets[(kind,) if kind == BodyScope.district else (kind, r[kind.value])].append(group)
            else:
                groups.append(group)
        out.groups[source.name] = groups
        if bucketed:
            out._merged[source.name] = dict(buckets)

    out = Counts(day)
    # The sources' queries are independent: on PostgreSQL each runs on its own connection.
    await asyncio.gather(*(one(s) for s in sources))
    return out


async def count_days(campaign_id: int, days: list[dt.date], columns: Iterable[int],
                     count_on: str | None = None) -> dict[dt.date, dict[int, int]]:
    """District totals of some finding and outcome columns for several days, in one query
    per source (the dashboard's weekly trend)."""
    if not days:
        return {}
    wanted = set(columns)
    on = count_on or await count_on_of(campaign_id)
    out: dict[dt.date, dict[int, int]] = {d: dict.fromkeys(wanted, 0) for d in days}  # no records: zeros
    for source in (FINDINGS, OUTCOMES):
        rules = [r for r in rules_of(source) if r.column in wanted]
        if not rules:
            continue
        p = Params(campaign_id, max(days), count_on=on)
        per_day = [p.for_day(d, f"_{i}") for i, d in enumerate(days)]
        sql = _count_sql(source, rules, p, Scope(BodyScope.district, None, None), per_day)
        for r in await _fetch(sql, p.values):
            for i, d in enumerate(days):
                for rule in rules:
                    out[d][rule.column] = out[d].get(rule.column, 0) + int(r[f"v{rule.column}_{i}"])
    return out


# ---------------------------------------------------------------- the records behind a number

async def ids(campaign_id: int, day: dt.date, scope: Scope, column: int, *, limit: int, offset: int = 0,
              count_on: str | None = None) -> list[int]:
    """The ids behind one number (a page of them, in id order)."""
    rule = RULES[column]
    p = Params(campaign_id, day, count_on=count_on or await count_on_of(campaign_id))
    sql = f"""SELECT r.id AS id FROM ({rule.source.rows(p)}) r
        WHERE {_scope_sql(scope, p)} AND {rule.source.as_of(p)} AND {rule.when(p)}
        ORDER BY r.id LIMIT {p.add('limit', limit)} OFFSET {p.add('offset', offset)}"""
    return [r["id"] for r in await _fetch(sql, p.values)]


async def buckets(source: Source, campaign_id: int, day: dt.date,
                  count_on: str | None = None) -> list[tuple]:
    """Every counted record of a source in the district, in buckets of the records alike:
    one row per (sector, township, the source's keys, mask) with the sum of their m and
    their ids (a list, in no particular order). Bit i of mask is set when the records count
    in the column of rules_of(source)[i]. One query: a province's 800,000 counted records
    come back as some 40,000 rows, and no Python object per record but its id."""
    rules = rules_of(source)
    keys = "".join(f"r.{k}, " for k in source.keys)
    p = Params(campaign_id, day, count_on=count_on or await count_on_of(campaign_id))
    mask = " + ".join(f"CASE WHEN {r.when(p)} THEN {1 << i} ELSE 0 END" for i, r in enumerate(rules))
    sql = f"""SELECT r.sector AS sector, r.township AS township, {keys}r.mask AS mask, SUM(r.m) AS m,
               {db.id_list_sql('r.id')} AS ids
        FROM (SELECT r.*, {mask} AS mask FROM ({source.rows(p)}) r WHERE {source.as_of(p)}) r
        GROUP BY r.sector, r.township, {keys}r.mask"""
    names = ["sector", "township", *source.keys, "mask"]
    return [(*(r[k] for k in names), int(r["m"]), db.id_list(r["ids"])) for r in await _fetch(sql, p.values)]
