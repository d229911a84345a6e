"""The statistics table, weekly reports and the ledger. Thin handlers: read the query or the
form, call the service, render (or redirect)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote, urlencode

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from server.errors import Conflict
from server import clock
from server.models.campaign import Township
from server.forms import MAX_ID, page_number, choice, integer, text
from server.campaign.checklist import FOCUS_AREAS
from server.ledger import exports, freeze, service, weekly, xlsx
from server.ledger import coverage
from server.ledger.columns import COLUMNS
from server.ledger.row import REMARKS
from server.storage import ObjectNotFound
from server.vocab import CertStatus, EmploymentStatus, FindingStatus, Role, UnitKind
from server.web import go, is_htmx, render, roles

STATS = roles(*service.STATS_ROLES)
LEDGER = roles(*service.LEDGER_ROLES)
OFFICE = roles(Role.office)


def _xlsx(data: bytes, filename: str) -> Response:
    return Response(content=data, media_type=xlsx.XLSX_TYPE, headers={
        "Content-Disposition": f"attachment; filename=\"export.xlsx\"; filename*=UTF-8''{quote(filename)}"})


def _as_of(request: Request, errors: dict[str, str]) -> dt.date:
    """The 'as of' day from the query (default today); bad input is an error beside the field."""
    today = clock.today()
    raw = (request.query_params.get("as_of") or "").strip()
    if not raw:
        return today
    day = weekly.parse_day(raw)
    if day is None:
        errors["as_of"] = "统计日期格式不正确，请按 年-月-日 填写，例如 2021-01-08"
        return today
    if day > today:
        errors["as_of"] = "统计日期不能晚于今天"
        return today
    return day


def _cell_url(prefix: str) -> Any:
    return lambda key, column: f"{prefix}body={key}&col={column}"


# ---------------------------------------------------------------- the statistics table

@get("/stats", opt=STATS, name="stats")
async def stats_page(request: Request) -> Template:
    user = request.scope["user"]
    errors: dict[str, str] = {}
    day = _as_of(request, errors)
    table = await service.statistics(user, request.query_params.get("body"), day)
    bodies = await service.all_bodies() if user.role != Role.liaison else []
    return render("ledger/stats.html", status_code=422 if errors else 200, table=table, errors=errors,
                  bodies=bodies, selected=request.query_params.get("body") or service.DISTRICT,
                  cell_url=_cell_url(f"/stats/cell?as_of={day.isoformat()}&"), columns=COLUMNS)


@get("/stats/export", opt=STATS)
async def stats_export(request: Request) -> Any:
    user = request.scope["user"]
    errors: dict[str, str] = {}
    day = _as_of(request, errors)
    if errors:
        return render("error.html", status_code=422, message=errors["as_of"], detail="", status=422)
    table = await service.statistics(user, request.query_params.get("body"), day)
    data = xlsx.write_workbook([xlsx.stats_layout(table.title, table.body_line, service.date_line(day),
                                                  table.labelled_rows, body_column=table.district,
                                                  notes=table.notes)])
    name = table.rows[0][0] if not table.district else "全区"
    return _xlsx(data, f"统计表_{name}_{day.isoformat()}.xlsx")


def _column(request: Request) -> int:
    errors: dict[str, str] = {}
    column = integer(request.query_params, "col", label="统计栏目", minimum=1, maximum=REMARKS, required=True,
                     errors=errors)
    if column is None:
        raise NotFoundException("统计栏目不存在")
    return column


def _page_url(request: Request) -> Any:
    """The same list at another page."""
    query = {k: v for k, v in request.query_params.items() if k != "page"}
    return lambda page: f"{request.url.path}?{urlencode({**query, 'page': page})}"


@get("/stats/cell", opt=STATS)
async def stats_cell(request: Request) -> Template:
    user = request.scope["user"]
    errors: dict[str, str] = {}
    day = _as_of(request, errors)
    column = _column(request)
    found = await service.cell(user, request.query_params.get("body"), column, day, page_number(request.query_params.get("page")))
    rows = await service.records(found.cell.source, found.ids)
    return render("ledger/records.html", table=found.table, column=column, cell=found.cell, rows=rows,
                  records=found.records, page=found.page, page_size=service.PAGE_SIZE, page_url=_page_url(request),
                  frozen=False,
                  back=f"/stats?as_of={day.isoformat()}&body={request.query_params.get('body') or ''}")


# ---------------------------------------------------------------- weekly reports

@get("/stats/weekly", opt=STATS, name="weekly")
async def weekly_list(request: Request) -> Template:
    campaign = await service.require_campaign()
    weeks = await service.weeks_overview(campaign)
    return render("ledger/weekly.html", campaign=campaign, weeks=weeks, today=clock.today())


def _week_day(day: str) -> dt.date:
    parsed = weekly.parse_day(day)
    if parsed is None:
        raise NotFoundException("周报日期不正确")
    return parsed


async def _week_context(request: Request, day: str) -> dict[str, Any]:
    user = request.scope["user"]
    campaign = await service.require_campaign()
    ending = _week_day(day)
    week = service.find_week(campaign, ending)
    frozen = await service.frozen_week(campaign, ending, user)
    ctx: dict[str, Any] = {"campaign": campaign, "week": week, "frozen": frozen, "today": clock.today(),
                           "errors": {}, "columns": COLUMNS, "freeze": None}
    if frozen:
        prev_day, prev_rows = await service.previous_week(campaign, ending, user)
        key = request.query_params.get("body") or frozen[-1].key
        current = next((r for r in frozen if r.key == key), frozen[-1])
        before = next((r for r in prev_rows if r.key == current.key), None)
        ctx.update(
            table=service.Table(service.title_of(campaign), _frozen_line(frozen), ending,
                                [(r.label, r.key, r.row) for r in frozen], len(frozen) > 1),
            cell_url=_cell_url(f"/stats/weekly/{ending.isoformat()}/cell?"),
            compare_row=current, prev_day=prev_day,
            changes=weekly.compare(before.row.values() if before else None, current.row.values()),
        )
    else:
        ctx["freeze"] = await freeze.status_of(request.app.state.store, campaign.id, ending)
        ctx.update(table=await service.statistics(user, None, ending),
                   cell_url=_cell_url(f"/stats/cell?as_of={ending.isoformat()}&"))
    return ctx


def _frozen_line(frozen: list) -> str:
    return frozen[-1].body_line  # a liaison's own row, or the district's line


@get("/stats/weekly/{day:str}", opt=STATS)
async def week_page(request: Request, day: FromPath[str]) -> Template:
    return render("ledger/week.html", **await _week_context(request, day))


@post("/stats/weekly/{day:str}", opt=OFFICE)
async def week_submit(request: Request, day: FromPath[str]) -> Any:
    campaign = await service.require_campaign()
    ending = _week_day(day)
    try:
        await freeze.start(request.app.state.store, request.scope["user"], campaign, ending, clock.today())
    except Conflict as exc:
        ctx = await _week_context(request, day)
        ctx["errors"] = {"submit": str(exc)}
        return render("ledger/week.html", status_code=409, **ctx)
    return go(request, f"/stats/weekly/{ending.isoformat()}")


@get("/stats/weekly/{day:str}/progress", opt=STATS)
async def week_progress(request: Request, day: FromPath[str]) -> Any:
    """The freeze's progress (the week page polls it); once the week is frozen, the week page."""
    campaign = await service.require_campaign()
    ending = _week_day(day)
    week = service.find_week(campaign, ending)
    status = await freeze.status_of(request.app.state.store, campaign.id, ending)
    page = f"/stats/weekly/{ending.isoformat()}"
    if status is None or status["state"] == "done" or await service.is_frozen(campaign.id, ending):
        return go(request, page)
    return render("ledger/_freeze_progress.html", week=week, freeze=status)


@get("/stats/weekly/{day:str}/export", opt=STATS)
async def week_export(request: Request, day: FromPath[str]) -> Response:
    ctx = await _week_context(request, day)
    if not ctx["frozen"]:
        raise NotFoundException("该周尚未报送，没有可导出的周报")
    table, week = ctx["table"], ctx["week"]
    title = f"{table.title}（第{week.number}期累计周报）"
    sheets = [xlsx.stats_layout(title, table.body_line, service.date_line(week.ending), table.labelled_rows,
                                body_column=table.district, notes=table.notes)]
    prev = f"与 {ctx['prev_day'].isoformat()} 比较" if ctx["prev_day"] else "无上期可比较"
    sheets.append(xlsx.comparison_layout(f"第{week.number}期（截至 {week.ending.isoformat()}）{ctx['compare_row'].label}",
                                         prev, ctx["changes"]))
    return _xlsx(xlsx.write_workbook(sheets), f"累计周报_第{week.number}期_{week.ending.isoformat()}.xlsx")


@get("/stats/weekly/{day:str}/cell", opt=STATS)
async def week_cell(request: Request, day: FromPath[str]) -> Template:
    ctx = await _week_context(request, day)
    if not ctx["frozen"]:
        raise NotFoundException("该周尚未报送")
    column = _column(request)
    key = request.query_params.get("body") or ""
    frozen = next((r for r in ctx["frozen"] if r.key == key), None)
    if frozen is None:
        raise NotFoundException("填报单位不存在")
    page = page_number(request.query_params.get("page"))
    cell, records, ids = await service.frozen_cell(frozen, column, page)
    rows = await service.records(cell.source, ids)
    table = service.Table(ctx["table"].title, f"填报单位：{frozen.label}", ctx["week"].ending,
                          [(frozen.label, frozen.key, frozen.row)], False)
    return render("ledger/records.html", table=table, column=column, cell=cell, rows=rows, records=records,
                  page=page, page_size=service.PAGE_SIZE, page_url=_page_url(request), frozen=True,
                  back=f"/stats/weekly/{ctx['week'].ending.isoformat()}")


# ---------------------------------------------------------------- the ledger

KIND_LABELS = {"units": "单位", "guards": "保安员", "findings": "问题"}


def _filters(kind: str, source: Any, errors: dict[str, str]) -> service.LedgerFilters:
    q = text(source, "q", label="关键词", max_len=64, errors=errors)
    township = integer(source, "township", label="乡镇街", minimum=1, maximum=MAX_ID, errors=errors)
    if kind == "units":
        return service.LedgerFilters(q=q, township=township, kind=choice(
            source, "kind", {k.value for k in UnitKind}, label="单位类别", required=False, errors=errors))
    if kind == "guards":
        return service.LedgerFilters(
            q=q, township=township,
            cert=choice(source, "cert", {c.value for c in CertStatus}, label="持证状态", required=False, errors=errors),
            collection=choice(source, "collection", {"complete", "incomplete"}, label="采集情况", required=False,
                              errors=errors),
            status=choice(source, "status", {s.value for s in EmploymentStatus}, label="在岗状态", required=False,
                          errors=errors))
    return service.LedgerFilters(
        q=q, township=township,
        status=choice(source, "status", {s.value for s in FindingStatus} - {FindingStatus.draft.value},
                      label="状态", required=False, errors=errors),
        column=integer(source, "column", label="统计栏目", minimum=8, maximum=16, errors=errors))


@get("/ledger", opt=LEDGER)
async def ledger_home(request: Request) -> Any:
    return go(request, "/ledger/units")


async def _ledger(request: Request, kind: str, source: Any, *, status: int = 200,
                  errors: dict[str, str] | None = None) -> Template:
    user = request.scope["user"]
    errors = dict(errors or {})
    filters = _filters(kind, source, errors)
    page = integer(request.query_params, "page", label="页码", minimum=1, maximum=100_000, errors={}) or 1
    campaign = await service.require_campaign()
    rows, total = await service.ledger_page(kind, user.scope, filters if not errors else service.LedgerFilters(),
                                            page, campaign.id, clock.today())
    townships = await Township.select(Township.id, Township.name).order_by(Township.ordinal)
    return render(f"ledger/{kind}.html", status_code=422 if errors and status == 200 else status, kind=kind,
                  kinds=KIND_LABELS, rows=rows, total=total, page=page, page_size=service.PAGE_SIZE,
                  filters=filters, errors=errors, townships=townships, focus_areas=FOCUS_AREAS, columns=COLUMNS,
                  query=filters.as_query())


@get("/ledger/{kind:str}", opt=LEDGER)
async def ledger_page(request: Request, kind: FromPath[str]) -> Template:
    if kind not in service.LEDGER_KINDS:
        raise NotFoundException("台账类型不存在")
    return await _ledger(request, kind, request.query_params)


@post("/ledger/exports", opt=OFFICE)
async def export_start(request: Request) -> Any:
    form = await request.form()
    kind = str(form.get("kind") or "")
    if kind not in service.LEDGER_KINDS:
        raise NotFoundException("台账类型不存在")
    errors: dict[str, str] = {}
    filters = _filters(kind, form, errors)
    if errors:
        return await _ledger(request, kind, form, errors=errors)
    campaign = await service.require_campaign()
    job = await exports.start(request.app.state.store, request.scope["user"], kind, filters, campaign,
                              clock.today())
    return go(request, f"/ledger/exports/{job}")


@get("/ledger/exports/{job:str}", opt=OFFICE)
async def export_page(request: Request, job: FromPath[str]) -> Template:
    status = await exports.status_for(request.app.state.store, request.scope["user"], job)
    return render("ledger/export.html", status=status)


@get("/ledger/exports/{job:str}/progress", opt=OFFICE)
async def export_progress(request: Request, job: FromPath[str]) -> Template:
    status = await exports.status_for(request.app.state.store, request.scope["user"], job)
    template = "ledger/_export_progress.html" if is_htmx(request) else "ledger/export.html"
    return render(template, status=status)


@get("/ledger/exports/{job:str}/file", opt=OFFICE)
async def export_file(request: Request, job: FromPath[str]) -> Response:
    from litestar.response import Stream

    from server.storage_stream import open_stream

    store = request.app.state.store
    status = await exports.status_for(store, request.scope["user"], job)
    if status["state"] != "done":
        raise NotFoundException("导出文件尚未生成")
    try:
        stream = await open_stream(store, exports.file_key(status["job"]))
    except ObjectNotFound:
        raise NotFoundException("导出文件不存在") from None
    return Stream(content=stream.chunks, media_type=xlsx.XLSX_TYPE, headers={  # streamed, not read whole
        "Content-Length": str(stream.size),
        "Content-Disposition": f"attachment; filename=\"export.xlsx\"; filename*=UTF-8''{quote(status['filename'])}"})


route_handlers = [
    stats_page, stats_export, stats_cell, weekly_list, week_page, week_submit, week_progress, week_export, week_cell,
    ledger_home, ledger_page, export_start, export_page, export_progress, export_file,
]


# ---------------------------------------------------------------- coverage (全覆盖)

@get("/coverage", opt=STATS, name="coverage")
async def coverage_page(request: Request) -> Template:
    """Units of a scope inspected at least once in the campaign, and the list of those not yet
    visited. A liaison sees its own sector or township; the office and leaders choose a body
    or a township (default: the whole district)."""
    user = request.scope["user"]
    campaign = await service.require_campaign()
    q = request.query_params
    scope, title, query = await coverage.scope_of_request(user, q.get("body"), q.get("township"))
    number = page_number(q.get("page"))
    rows, more = await coverage.unvisited_page(campaign.id, scope, number)
    return render("ledger/coverage.html", title=title, figure=await coverage.coverage_for(campaign.id, scope),
                  rows=rows, more=more, page=number, page_size=coverage.PAGE_SIZE, query=query)


route_handlers.append(coverage_page)
