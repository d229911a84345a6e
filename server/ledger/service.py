"""The statistics table, weekly reports and the ledger: access by role and scope, the
records behind a number, freezing weeks. The counting itself is queries.py (the rules as
SQL) and row.py (the row, its cells and remarks)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from itertools import chain
from dataclasses import dataclass
from typing import Any, AsyncIterator, Awaitable, Callable

from litestar.exceptions import NotFoundException, PermissionDeniedException
from piccolo.querystring import QueryString

from server import clock
from server.errors import Conflict
from server.audit import service as audit
from server.auth.scope import CurrentUser, Scope
from server.campaign.service import active_campaign
from server.models.campaign import Body, Campaign
from server.db import atomic, contains, insert_many, is_postgres, pages, stream_rows
from server.models.inspections import Finding
from server.ledger import queries, weekly
from server.campaign.options import count_on, options_of
from server.ledger.columns import counting_notes
from server.ledger.row import (
    SOURCE_FINDING,
    SOURCE_GUARD,
    SOURCE_OUTCOME,
    SOURCE_UNIT,
    Cell,
    REMARKS,
    StatRow,
)
from server.models.ledger import WeeklyCell, WeeklyReport
from server.models.rectification import RectificationOrder, RectificationOutcome
from server.models.registry import Guard, Site, Unit
from server.vocab import BodyScope, EmploymentStatus, FindingStatus, OrderStatus, Role

DISTRICT = "district"
TOTAL_LABEL = "全区合计"
STATS_ROLES = (Role.office.value, Role.leader.value, Role.liaison.value)
LEDGER_ROLES = (Role.office.value, Role.leader.value)
DISTRICT_SCOPE = Scope(BodyScope.district, None, None)
PAGE_SIZE = 50
OPEN_ORDER = (OrderStatus.ordered.value, OrderStatus.reported.value, OrderStatus.not_rectified.value)


def title_of(campaign: Campaign) -> str:
    return f"{campaign.name}统计表"


def date_line(day: dt.date) -> str:
    return f"统计截至：{day.year}年{day.month}月{day.day}日"


def body_scope(body: dict | Body) -> Scope:
    get = body.get if isinstance(body, dict) else lambda k: getattr(body, k)
    return Scope(get("scope"), get("sector"), get("township"))


# ---------------------------------------------------------------- reading

async def all_bodies() -> list[dict]:
    return await Body.select().order_by(Body.ordinal, Body.id)


async def require_campaign() -> Campaign:
    campaign = await active_campaign()
    if campaign is None:
        raise NotFoundException("当前没有进行中的专项行动")
    return campaign


# ---------------------------------------------------------------- the statistics table

@dataclass
class Table:
    """What the page and the xlsx show: title, 填报单位 line, rows (label, body id or
    'district', StatRow)."""

    title: str
    body_line: str
    as_of: dt.date
    rows: list[tuple[str, str, StatRow]]
    district: bool
    notes: tuple[str, ...] = counting_notes()
    """The numbered notes under the table (the counting rules the form leaves open)."""

    @property
    def labelled_rows(self) -> list[tuple[str, StatRow]]:
        return [(label, row) for label, _, row in self.rows]


def target_for(user: CurrentUser, requested: str | None, bodies: list[dict]) -> str:
    """Which table the user sees: 'district' (all bodies and the total) or a body id.
    Liaisons see only their own body's; asking for another is refused."""
    by_id = {str(b["id"]): b for b in bodies}
    if user.role == Role.liaison:
        own = str(user.body_id)
        if requested not in (None, "", own):
            raise PermissionDeniedException("您只能查看本单位的统计表")
        return own
    if user.role not in (Role.office, Role.leader):
        raise PermissionDeniedException("您的角色无权查看统计表")
    if requested in (None, "", DISTRICT):
        return DISTRICT
    if requested not in by_id:
        raise NotFoundException("填报单位不存在")
    return requested


def _district_line(bodies: list[dict], campaign: Campaign) -> str:
    police = next((b for b in bodies if b["is_police"] and b["scope"] == BodyScope.district), None)
    return f"填报单位：{police['name']}（全区汇总）" if police else f"填报单位：{campaign.district}（全区汇总）"


def district_rows(bodies: list[dict], counts: queries.Counts) -> list[tuple[str, str, StatRow]]:
    """One row per sector or township body, then the total (counted once over all units)."""
    rows = [(b["name"], str(b["id"]), counts.row(body_scope(b))) for b in bodies if b["scope"] != BodyScope.district]
    rows.append((TOTAL_LABEL, DISTRICT, counts.row(DISTRICT_SCOPE)))
    return rows


def _target(bodies: list[dict], campaign: Campaign, target: str) -> tuple[Scope, str, str]:
    """(scope, row label, 填报单位 line) of a single body's table or of the district total."""
    if target == DISTRICT:
        return DISTRICT_SCOPE, TOTAL_LABEL, _district_line(bodies, campaign)
    body = next(b for b in bodies if str(b["id"]) == target)
    return body_scope(body), body["name"], f"填报单位：{body['name']}"


async def build_table(campaign: Campaign, bodies: list[dict], target: str, day: dt.date) -> Table:
    """The district's table (every body and the total, one set of grouped queries) or one
    body's (the same queries limited to its scope)."""
    title = title_of(campaign)
    on = count_on(options_of(campaign))
    notes = counting_notes(on)
    if target == DISTRICT:
        counts = await queries.count(campaign.id, day, count_on=on)
        return Table(title, _district_line(bodies, campaign), day, district_rows(bodies, counts), True, notes)
    scope, label, line = _target(bodies, campaign, target)
    counts = await queries.count(campaign.id, day, scope, count_on=on)
    return Table(title, line, day, [(label, target, counts.row(scope))], False, notes)


async def statistics(user: CurrentUser, requested: str | None, day: dt.date) -> Table:
    campaign = await require_campaign()
    bodies = await all_bodies()
    target = target_for(user, requested, bodies)
    return await build_table(campaign, bodies, target, day)


@dataclass
class CellPage:
    """One number of a table and a page of the records behind it."""

    table: Table
    cell: Cell
    records: int
    """How many records are behind the number (a finding may count several persons)."""
    ids: list[int]
    page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.records // PAGE_SIZE))


async def cell(user: CurrentUser, requested: str | None, column: int, day: dt.date, page: int = 1) -> CellPage:
    """One number of a table and the records behind it, a page at a time: `requested` is a
    body id or 'district' (the total row); column 23 gives the findings behind the remarks."""
    campaign = await require_campaign()
    bodies = await all_bodies()
    target = target_for(user, requested, bodies)
    rule = queries.RULES.get(column)
    if rule is None:
        raise NotFoundException("统计栏目不存在")
    scope, label, line = _target(bodies, campaign, target)
    counts = await queries.count(campaign.id, day, scope, sources=[rule.source], records=[column])
    row = counts.row(scope)
    the_cell = row.remark_cell() if column == REMARKS else row.cells[column]
    page = max(page, 1)
    ids = await queries.ids(campaign.id, day, scope, column, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    table = Table(title_of(campaign), line, day, [(label, target, row)], False)
    return CellPage(table, the_cell, counts.records(scope, column), ids, page)


# ---------------------------------------------------------------- the records behind a number

async def records(source: str, ids: tuple[int, ...] | list[int]) -> list[dict]:
    """The rows named by a cell's ids, for the list behind a number."""
    ids = list(ids)
    if not ids:
        return []
    if source == SOURCE_UNIT:
        return await Unit.select(Unit.id, Unit.name, Unit.uscc, Unit.kind, Unit.sector, Unit.township.name,
                                 Unit.filing_status).where(Unit.id.is_in(ids)).order_by(Unit.id)
    if source == SOURCE_GUARD:
        return await Guard.select(
            Guard.id, Guard.name, Guard.id_number, Guard.certificate_no, Guard.certificate_status,
            Guard.employment_status, Guard.employer.name, Guard.site.name, Guard.site.unit.name,
        ).where(Guard.id.is_in(ids)).order_by(Guard.id)
    if source == SOURCE_FINDING:
        return await Finding.select(
            Finding.id, Finding.area, Finding.stat_column, Finding.count_unit, Finding.quantity, Finding.text,
            Finding.status, Finding.reviewed_at, Finding.unit.name, Finding.unit.kind, Finding.inspection.uuid,
            Finding.inspection.body, Finding.inspection.submitted_at,
        ).where(Finding.id.is_in(ids)).order_by(Finding.id)
    if source == SOURCE_OUTCOME:
        return await RectificationOutcome.select(
            RectificationOutcome.id, RectificationOutcome.stat_column, RectificationOutcome.quantity,
            RectificationOutcome.recorded_on, RectificationOutcome.note, RectificationOutcome.order.number,
            RectificationOutcome.order.unit.name,
        ).where(RectificationOutcome.id.is_in(ids)).order_by(RectificationOutcome.id)
    raise NotFoundException("统计栏目不存在")


# ---------------------------------------------------------------- weekly cumulative reports

def week_key(campaign_id: int, body: str, day: dt.date) -> str:
    return f"{campaign_id}:{body}:{day.isoformat()}"


def _loads(value: Any) -> dict:
    return json.loads(value) if isinstance(value, str) else value


async def weeks_overview(campaign: Campaign) -> list[dict]:
    """Every report week of the campaign with its district report, if submitted."""
    submitted = {r["week_ending"]: r for r in await WeeklyReport.select(
        WeeklyReport.week_ending, WeeklyReport.submitted_at, WeeklyReport.submitted_by.display_name,
    ).where((WeeklyReport.campaign == campaign.id) & WeeklyReport.body.is_null())}
    return [{"week": w, "report": submitted.get(w.ending)}
            for w in weekly.report_weeks(campaign.weekly_from, campaign.weekly_until, campaign.weekly_weekday)]


def find_week(campaign: Campaign, day: dt.date | None) -> weekly.Week:
    for w in weekly.report_weeks(campaign.weekly_from, campaign.weekly_until, campaign.weekly_weekday):
        if w.ending == day:
            return w
    raise NotFoundException("该日期不是本次专项行动的周报日")


def _already(week: weekly.Week) -> Conflict:
    return Conflict(f"第{week.number}期周报已报送，报送后不能修改")


async def is_frozen(campaign_id: int, day: dt.date) -> bool:
    return await WeeklyReport.exists().where(WeeklyReport.key == week_key(campaign_id, DISTRICT, day))


async def check_submit(user: CurrentUser, campaign: Campaign, day: dt.date, today: dt.date) -> weekly.Week:
    """The week the office may submit now (refusals: not the office, not a report day, not
    yet due, already submitted)."""
    if user.role != Role.office:
        raise PermissionDeniedException("只有办公室可以报送周报")
    week = find_week(campaign, day)
    if week.ending > today:
        raise Conflict(f"第{week.number}期周报的截止日为 {week.ending.isoformat()}，尚未到报送日")
    if await is_frozen(campaign.id, day):
        raise _already(week)
    return week


async def submit_week(user: CurrentUser, campaign: Campaign, day: dt.date, today: dt.date,
                      on_progress: Callable[[str, int], Awaitable[None]] | None = None) -> None:
    """Freeze the week: one report per body and one for the district, each holding its
    numbers (and, in WeeklyCell, the ids behind each), all in one transaction with its audit
    entry. A province's week takes seconds: the page runs it as a job (ledger/freeze.py),
    `on_progress(stage, records counted)` tells how far it is."""
    week = await check_submit(user, campaign, day, today)
    await freeze_week(user, campaign, week, on_progress)


async def freeze_week(user: CurrentUser, campaign: Campaign, week: weekly.Week,
                      on_progress: Callable[[str, int], Awaitable[None]] | None = None) -> None:
    day = week.ending
    done = _already(week)
    bodies = await all_bodies()
    counts, ids = await _count_with_ids(campaign.id, day, bodies, on_progress)
    table = Table(title_of(campaign), _district_line(bodies, campaign), day, district_rows(bodies, counts), True)
    ordinal = {str(b["id"]): i for i, b in enumerate(bodies)}
    if on_progress is not None:
        await on_progress("write", sum(len(found) for per in ids.values() for found in per.values()))
    # Packed before the transaction: it holds the app's write lock (db.atomic).
    packed = {key: [(column, len(found), weekly.pack_ids(found)) for column, found in per.items()]
              for key, per in ids.items()}
    try:
        await _freeze(user, campaign, week, day, table, packed, ordinal, done)
    except Conflict:
        raise
    except Exception:
        # Two submissions at once: the unique key lets one win; the other is told so.
        if await WeeklyReport.exists().where(WeeklyReport.key == week_key(campaign.id, DISTRICT, day)):
            raise done from None
        raise


async def _count_with_ids(campaign_id: int, day: dt.date, bodies: list[dict],
                          on_progress: Callable[[str, int], Awaitable[None]] | None = None,
                          ) -> tuple[queries.Counts, dict[str, dict[int, list[int]]]]:
    """The numbers and the ids behind every number of every row (sorted), from one query per
    source (so the numbers and the ids agree even if records change meanwhile), the sources
    read side by side (on PostgreSQL each on a connection of its own). The query gives the
    ids of the records alike (queries.buckets); a bucket adds to the sums of its group and
    hands its ids to every row whose scope admits its (sector, township)."""
    rows = [(str(b["id"]), body_scope(b)) for b in bodies if b["scope"] != BodyScope.district]
    rows.append((DISTRICT, DISTRICT_SCOPE))
    parts: dict[str, dict[int, list[list[int]]]] = {key: {} for key, _ in rows}
    everywhere = [parts[k] for k, scope in rows if scope.kind == BodyScope.district]
    by_sector: dict[str | None, list] = {}
    by_township: dict[int | None, list] = {}
    for key, scope in rows:
        if scope.kind == BodyScope.sector:
            by_sector.setdefault(scope.sector, []).append(parts[key])
        elif scope.kind == BodyScope.township:
            by_township.setdefault(scope.township_id, []).append(parts[key])
    on = await queries.count_on_of(campaign_id)
    waiting = [s.name for s in queries.SOURCES]
    seen = [0]

    async def read(source: queries.Source) -> list[tuple]:
        found = await queries.buckets(source, campaign_id, day, count_on=on)
        waiting.remove(source.name)
        seen[0] += sum(len(b[-1]) for b in found)
        if on_progress is not None:  # the stage: the first source still being read
            await on_progress(waiting[0] if waiting else queries.SOURCES[-1].name, seen[0])
        return found

    counts = queries.Counts(day)
    read_all = await asyncio.gather(*(read(s) for s in queries.SOURCES))
    for source, buckets in zip(queries.SOURCES, read_all):
        columns = [x.column for x in queries.rules_of(source)]
        groups: dict[tuple, queries.Group] = {}
        for sector, township, *extra, mask, m, found in buckets:
            g = groups.get((sector, township, *extra))
            if g is None:
                g = groups[(sector, township, *extra)] = queries.Group(
                    sector, township, tuple(extra), dict.fromkeys(columns, 0), dict.fromkeys(columns, 0), 0)
            g.total += len(found)
            lists = everywhere + by_sector.get(sector, []) + by_township.get(township, [])
            for bit, column in enumerate(columns):
                if mask >> bit & 1:
                    g.sums[column] += m
                    g.records[column] += len(found)
                    for per in lists:
                        per.setdefault(column, []).append(found)
        counts.groups[source.name] = list(groups.values())
    ids = {key: {column: sorted(chain.from_iterable(found)) for column, found in per.items()}
           for key, per in parts.items()}
    return counts, ids


async def _freeze(user: CurrentUser, campaign: Campaign, week: weekly.Week, day: dt.date, table: "Table",
                  packed: dict[str, list[tuple[int, int, str]]], ordinal: dict[str, int], done: Conflict) -> None:
    async with atomic():
        if await WeeklyReport.exists().where(WeeklyReport.key == week_key(campaign.id, DISTRICT, day)):
            raise done
        reports = []
        for label, key, row in table.rows:
            frozen = {"as_of": day.isoformat(), "week": week.number, "title": table.title,
                      "label": label, "ordinal": ordinal.get(key, len(ordinal)),
                      "body_line": table.body_line if key == DISTRICT else f"填报单位：{label}",
                      **row.to_data()}
            reports.append(WeeklyReport(campaign=campaign.id, body=None if key == DISTRICT else int(key),
                                        week_ending=day, key=week_key(campaign.id, key, day),
                                        data=json.dumps(frozen, ensure_ascii=False), submitted_by=user.id))
        made = {r["key"]: r["id"] for r in
                await WeeklyReport.insert(*reports).returning(WeeklyReport.id, WeeklyReport.key)}
        report_of = {key: made[week_key(campaign.id, key, day)] for _, key, _ in table.rows}
        district_id = report_of[DISTRICT]
        await insert_many(WeeklyCell, ["report", "column", "records", "ids"],
                          [(report_of[key], column, records, packed_ids)
                           for _, key, _ in table.rows for column, records, packed_ids in packed[key]])
        total = table.rows[-1][2]
        await audit.record("submit", "weekly_report", district_id, actor=user,
                           after={"week_ending": day.isoformat(), "week": week.number,
                                  "values": {str(c): v for c, v in total.values().items()}})


@dataclass
class FrozenRow:
    label: str
    key: str
    row: StatRow
    submitted_at: dt.datetime
    submitted_by: str
    body_line: str
    report_id: int


async def frozen_week(campaign: Campaign, day: dt.date, user: CurrentUser) -> list[FrozenRow]:
    """The submitted reports of a week the user may see (liaisons: their own body's), body
    rows first in their order, the district total last. Empty: not submitted."""
    query = WeeklyReport.select(
        WeeklyReport.id, WeeklyReport.body, WeeklyReport.data, WeeklyReport.submitted_at,
        WeeklyReport.submitted_by.display_name,
    ).where((WeeklyReport.campaign == campaign.id) & (WeeklyReport.week_ending == day))
    if user.role == Role.liaison:
        query = query.where(WeeklyReport.body == user.body_id)
    out = []
    for r in await query:
        data = _loads(r["data"])
        key = DISTRICT if r["body"] is None else str(r["body"])
        out.append((data.get("ordinal", 0) if key != DISTRICT else 10**9, FrozenRow(
            data["label"], key, StatRow.from_data(data), r["submitted_at"], r["submitted_by.display_name"],
            data.get("body_line", ""), r["id"])))
    return [row for _, row in sorted(out, key=lambda x: x[0])]


async def frozen_cell(frozen: FrozenRow, column: int, page: int = 1) -> tuple[Cell, int, list[int]]:
    """A number of a submitted week: the cell, how many records it names, and a page of
    their ids (kept in WeeklyCell; reports frozen before that kept them in their data)."""
    row = frozen.row
    if column == REMARKS:
        the_cell = row.remark_cell()
    elif column in row.cells:
        the_cell = row.cells[column]
    else:
        raise NotFoundException("统计栏目不存在")
    if the_cell.ids is not None:
        found: list[int] | tuple[int, ...] = the_cell.ids
    else:
        stored = await WeeklyCell.select(WeeklyCell.ids).where(
            (WeeklyCell.report == frozen.report_id) & (WeeklyCell.column == column)).first()
        found = weekly.unpack_ids(stored["ids"]) if stored else []
    start = (max(page, 1) - 1) * PAGE_SIZE
    return the_cell, len(found), list(found[start:start + PAGE_SIZE])


async def previous_week(campaign: Campaign, day: dt.date, user: CurrentUser) -> tuple[dt.date | None, list[FrozenRow]]:
    """The latest submitted week before `day` and its rows (for the comparison)."""
    earlier = await WeeklyReport.select(WeeklyReport.week_ending).where(
        (WeeklyReport.campaign == campaign.id) & WeeklyReport.body.is_null()
        & (WeeklyReport.week_ending < day)).order_by(WeeklyReport.week_ending, ascending=False).first()
    if earlier is None:
        return None, []
    return earlier["week_ending"], await frozen_week(campaign, earlier["week_ending"], user)


async def week_trend(campaign: Campaign, today: dt.date, columns: tuple[int, ...]) -> list[dict]:
    """Per report week up to today: the district totals of `columns` (finding and outcome
    columns), frozen if submitted, else counted now (one query for all the open weeks)."""
    weeks = [w for w in weekly.report_weeks(campaign.weekly_from, campaign.weekly_until, campaign.weekly_weekday)
             if w.ending <= today]
    if not weeks:
        return []
    frozen = {r["week_ending"]: StatRow.from_data(_loads(r["data"])).values() for r in await WeeklyReport.select(
        WeeklyReport.week_ending, WeeklyReport.data,
    ).where((WeeklyReport.campaign == campaign.id) & WeeklyReport.body.is_null())}
    live = await queries.count_days(campaign.id, [w.ending for w in weeks if w.ending not in frozen], columns)
    return [{"week": w, "values": frozen[w.ending] if w.ending in frozen else live[w.ending],
             "frozen": w.ending in frozen} for w in weeks]


# ---------------------------------------------------------------- the ledger (台账)

@dataclass(frozen=True)
class LedgerFilters:
    q: str = ""
    kind: str = ""
    township: int | None = None
    cert: str = ""
    collection: str = ""
    status: str = ""
    column: int | None = None

    def as_query(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.__dict__.items() if v not in ("", None)}


def _scoped(query: Any, scope: Scope, sector_col: Any, township_col: Any) -> Any:
    clause = scope.where(sector_col, township_col)
    return query.where(clause) if clause is not None else query


def _unit_query(query: Any, scope: Scope, f: LedgerFilters) -> Any:
    query = _scoped(query, scope, Unit.sector, Unit.township)
    if f.q:
        query = query.where(contains(Unit.name, f.q) | contains(Unit.uscc, f.q))
    if f.kind:
        query = query.where(Unit.kind == f.kind)
    if f.township:
        query = query.where(Unit.township == f.township)
    return query


def _guard_query(query: Any, scope: Scope, f: LedgerFilters) -> Any:
    query = _scoped(query, scope, Guard.employer.sector, Guard.employer.township)
    if f.q:
        query = query.where(contains(Guard.name, f.q) | contains(Guard.certificate_no, f.q)
                            | contains(Guard.employer.name, f.q))
    if f.cert:
        query = query.where(Guard.certificate_status == f.cert)
    if f.collection == "incomplete":
        query = query.where((Guard.photo_collected == False) | (Guard.fingerprint_collected == False))  # noqa: E712
    elif f.collection == "complete":
        query = query.where((Guard.photo_collected == True) & (Guard.fingerprint_collected == True))  # noqa: E712
    if f.status:
        query = query.where(Guard.employment_status == f.status)
    if f.township:
        query = query.where(Guard.employer.township == f.township)
    return query


def _finding_query(query: Any, scope: Scope, f: LedgerFilters, campaign_id: int) -> Any:
    query = _scoped(query, scope, Finding.unit.sector, Finding.unit.township).where(
        Finding.inspection.campaign == campaign_id)
    if f.status:
        query = query.where(Finding.status == f.status)
    else:  # drafts are the officer's, not yet part of any record
        query = query.where(Finding.status != FindingStatus.draft)
    if f.column:
        query = query.where(Finding.stat_column == f.column)
    if f.q:
        query = query.where(contains(Finding.unit.name, f.q) | contains(Finding.text, f.q))
    if f.township:
        query = query.where(Finding.unit.township == f.township)
    return query


UNIT_FIELDS = (Unit.id, Unit.name, Unit.uscc, Unit.kind, Unit.sector, Unit.township.name, Unit.filing_status,
               Unit.filing_no, Unit.address, Unit.contact_name, Unit.contact_phone)
GUARD_FIELDS = (Guard.id, Guard.name, Guard.id_number, Guard.gender, Guard.certificate_no, Guard.certificate_status,
                Guard.vetted, Guard.exam_passed, Guard.photo_collected, Guard.fingerprint_collected,
                Guard.employment_status, Guard.hired_on, Guard.left_on, Guard.employer.name, Guard.site.name,
                Guard.site.unit.name)
FINDING_FIELDS = (Finding.id, Finding.area, Finding.stat_column, Finding.count_unit, Finding.quantity, Finding.text,
                  Finding.status, Finding.reviewed_at, Finding.created_at, Finding.unit.name, Finding.unit.township.name,
                  Finding.inspection.uuid, Finding.inspection.submitted_at, Finding.inspection.officer.display_name,
                  Finding.order.number, Finding.order.status, Finding.order.deadline)


def _local_day(column: Any) -> Any:
    """A timestamp column as its local calendar day (clock.local_date), on PostgreSQL computed
    by the database: a date is read several times faster than a timestamp with its time zone.
    Elsewhere the timestamp itself (the export's row function takes either)."""
    if not is_postgres():
        return column
    return QueryString("({} AT TIME ZONE {})::date", column, clock.LOCAL_TZ.key,
                       alias=column._meta.get_default_alias())


def finding_export_fields() -> tuple:
    """The findings ledger export's select, in the order of its sheet's columns: only what
    the sheet shows (a province's export reads 780,000 rows; each field read costs)."""
    return (Finding.id, _local_day(Finding.inspection.submitted_at), Finding.unit.name, Finding.unit.township.name,
            Finding.area, Finding.stat_column, Finding.quantity, Finding.count_unit, Finding.text, Finding.status,
            _local_day(Finding.reviewed_at), Finding.inspection.officer.display_name, Finding.order.number,
            Finding.order.status, Finding.order.deadline)


async def _unit_extras(rows: list[dict], today: dt.date) -> None:
    """Sites, guards, findings and rectification per unit, for the rows of one page/batch."""
    ids = [r["id"] for r in rows]
    if not ids:
        return
    sites: dict[int, int] = {}
    for s in await Site.select(Site.unit).where(Site.unit.is_in(ids)):
        sites[s["unit"]] = sites.get(s["unit"], 0) + 1
    guards: dict[int, int] = {}
    for g in await Guard.select(Guard.employer).where(
            Guard.employer.is_in(ids) & (Guard.employment_status == EmploymentStatus.active)):
        guards[g["employer"]] = guards.get(g["employer"], 0) + 1
    findings: dict[int, list[int]] = {}
    for f in await Finding.select(Finding.unit, Finding.status).where(
            Finding.unit.is_in(ids) & Finding.status.is_in([FindingStatus.confirmed, FindingStatus.submitted])):
        per = findings.setdefault(f["unit"], [0, 0])
        per[0 if f["status"] == FindingStatus.confirmed else 1] += 1
    orders: dict[int, list[int]] = {}
    for o in await RectificationOrder.select(RectificationOrder.unit, RectificationOrder.status,
                                             RectificationOrder.deadline).where(RectificationOrder.unit.is_in(ids)):
        per = orders.setdefault(o["unit"], [0, 0, 0])  # open, overdue, done
        if o["status"] in OPEN_ORDER:
            per[0] += 1
            if o["status"] != OrderStatus.reported and o["deadline"] < today:
                per[1] += 1
        else:
            per[2] += 1
    for r in rows:
        r["sites"] = sites.get(r["id"], 0)
        r["guards"] = guards.get(r["id"], 0)
        r["confirmed"], r["pending"] = findings.get(r["id"], [0, 0])
        r["orders_open"], r["orders_overdue"], r["orders_done"] = orders.get(r["id"], [0, 0, 0])
        r["rectification"] = rectification_text(r["orders_open"], r["orders_overdue"], r["orders_done"])


def rectification_text(open_: int, overdue: int, done: int) -> str:
    parts = []
    if open_:
        parts.append(f"整改中 {open_}")
    if overdue:
        parts.append(f"逾期 {overdue}")
    if done:
        parts.append(f"已办结 {done}")
    return "，".join(parts) or "无"


LEDGER_KINDS = ("units", "guards", "findings")


async def ledger_page(kind: str, scope: Scope, f: LedgerFilters, page: int, campaign_id: int,
                      today: dt.date) -> tuple[list[dict], int]:
    offset = (max(page, 1) - 1) * PAGE_SIZE
    if kind == "units":
        total = await _unit_query(Unit.count(), scope, f)
        rows = await _unit_query(Unit.select(*UNIT_FIELDS), scope, f).order_by(Unit.name).limit(PAGE_SIZE).offset(offset)
        await _unit_extras(rows, today)
    elif kind == "guards":
        total = await _guard_query(Guard.count(), scope, f)
        rows = await _guard_query(Guard.select(*GUARD_FIELDS), scope, f).order_by(Guard.name).limit(PAGE_SIZE).offset(offset)
    elif kind == "findings":
        total = await _finding_query(Finding.count(), scope, f, campaign_id)
        rows = await _finding_query(Finding.select(*FINDING_FIELDS), scope, f, campaign_id).order_by(
            Finding.id, ascending=False).limit(PAGE_SIZE).offset(offset)
    else:
        raise NotFoundException("台账类型不存在")
    return rows, total


async def ledger_total(kind: str, scope: Scope, f: LedgerFilters, campaign_id: int) -> int:
    if kind == "units":
        return await _unit_query(Unit.count(), scope, f)
    if kind == "guards":
        return await _guard_query(Guard.count(), scope, f)
    return await _finding_query(Finding.count(), scope, f, campaign_id)


async def ledger_batches(kind: str, scope: Scope, f: LedgerFilters, campaign_id: int, today: dt.date,
                         batch: int = 2000) -> AsyncIterator[list]:
    """All rows of a ledger in id order, `batch` at a time: dicts with the unit's counts for
    units; for guards and findings, tuples of the fields in the order of GUARD_FIELDS /
    finding_export_fields() (a province has a million findings: no dict per row)."""
    table, fields, build = {
        "units": (Unit, UNIT_FIELDS, lambda q: _unit_query(q, scope, f)),
        "guards": (Guard, GUARD_FIELDS, lambda q: _guard_query(q, scope, f)),
        "findings": (Finding, finding_export_fields(), lambda q: _finding_query(q, scope, f, campaign_id)),
    }[kind]

    def select() -> Any:
        return build(table.select(*fields))

    if kind != "units":
        async for rows in stream_rows(select, table.id, batch):
            yield rows
        return
    async for rows in pages(select, table.id, batch):
        await _unit_extras(rows, today)
        yield rows
