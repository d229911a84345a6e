"""The bodies' reports: a body's report for a report day (its liaison fills and submits it,
the office accepts or returns it), the office's board per report day, the district table
from the accepted reports. Thin handlers: read the form, call the service, render."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath
from litestar.response import Stream, Template

from server import clock
from server.errors import FormError
from server.forms import client_uuid, integer, new_uuid, text
from server.ledger import coverage
from server.ledger import service as ledger
from server.ledger import xlsx
from server.ledger.columns import COLUMNS
from server.reports import service, summary
from server.vocab import ReportStatus, Role
from server.web import act, go, render, roles

SEE = roles(Role.office, Role.leader, Role.liaison)
EDIT = roles(Role.office, Role.liaison)
READ = roles(Role.office, Role.leader)
OFFICE = roles(Role.office)
_PRIVATE = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}


@get("/reports", opt=SEE, name="reports")
async def report_list(request: Request) -> Template:
    user = request.scope["user"]
    campaign = await ledger.require_campaign()
    today = clock.today()
    own = user.body_id if user.role == Role.liaison else None
    days = await service.overview(campaign, today, own)
    return render("reports/index.html", campaign=campaign, days=days, today=today, own=own)


@get("/reports/{day:str}", opt=SEE)
async def board_page(request: Request, day: FromPath[str]) -> Any:
    user = request.scope["user"]
    campaign = await ledger.require_campaign()
    report_day = await service.require_day(campaign, day)
    if user.role == Role.liaison:
        return go(request, f"/reports/{report_day.isoformat()}/{user.body_id}")
    today = clock.today()
    rows = await service.board(campaign, report_day, today)
    return render("reports/board.html", campaign=campaign, day=report_day, rows=rows, today=today,
                  title=service.title_of(campaign, report_day),
                  coverage=await coverage.coverage_by_body(campaign.id),
                  late=[r for r in rows if r.status == ReportStatus.late])


async def _report_context(request: Request, day: str, body_id: int, errors: dict[str, str] | None = None,
                          form: Any = None) -> dict[str, Any]:
    user = request.scope["user"]
    campaign = await ledger.require_campaign()
    report_day = await service.require_day(campaign, day)
    v = await service.view(user, campaign, report_day, body_id)
    return {"v": v, "errors": errors or {}, "form": form, "columns": [c for c in COLUMNS if c.number != 23],
            "new_uuid": new_uuid, "max_photos": service.MAX_CASE_PHOTOS}


@get("/reports/{day:str}/{body_id:int}", opt=SEE)
async def report_page(request: Request, day: FromPath[str], body_id: FromPath[int]) -> Template:
    return render("reports/report.html", **await _report_context(request, day, body_id))


@post("/reports/{day:str}/{body_id:int}", opt=EDIT)
async def report_save(request: Request, day: FromPath[str], body_id: FromPath[int]) -> Any:
    form = await request.form()
    campaign = await ledger.require_campaign()
    report_day = await service.require_day(campaign, day)
    submit = form.get("action") == "submit"
    values = {k: form.get(k) for k in form.keys()}

    async def action() -> Any:
        return await service.save(request.scope["user"], campaign, report_day, body_id, values, submit=submit,
                                  today=clock.today(), store=request.app.state.store)

    return await act(request, action, page="reports/report.html",
                     context=lambda errors: _report_context(request, day, body_id, errors, values),
                     redirect=f"/reports/{report_day.isoformat()}/{body_id}")


@post("/reports/{day:str}/{body_id:int}/cases", opt=EDIT)
async def case_add(request: Request, day: FromPath[str], body_id: FromPath[int]) -> Any:
    form = await request.form()
    campaign = await ledger.require_campaign()
    report_day = await service.require_day(campaign, day)
    uploads = [u for u in form.getall("photos", []) if isinstance(u, UploadFile) and u.filename]

    async def action() -> Any:
        errors: dict[str, str] = {}
        area = integer(form, "area", label="整顿重点", minimum=1, maximum=8, errors=errors)
        title = text(form, "title", label="案例标题", max_len=128, errors=errors)
        happened = text(form, "happened", label="基本情况", max_len=3000, errors=errors)
        done = text(form, "done", label="处置情况", max_len=3000, errors=errors)
        uuid = client_uuid(form)
        if errors:
            raise FormError(errors)
        return await service.add_case(
            request.scope["user"], request.app.state.store, request.app.state.settings, campaign, report_day,
            body_id, uuid=uuid, area=area, title=title, happened=happened, done=done,
            photos=[await u.read() for u in uploads])

    case_form = {k: form.get(k) for k in ("area", "title", "happened", "done", "uuid")}
    return await act(request, action, page="reports/report.html",
                     context=lambda errors: _report_context(request, day, body_id,
                                                            {f"case_{k}": m for k, m in errors.items()},
                                                            {"case": case_form}),
                     redirect=f"/reports/{report_day.isoformat()}/{body_id}#cases")


@post("/reports/{day:str}/{body_id:int}/cases/{uuid:str}/delete", opt=EDIT)
async def case_delete(request: Request, day: FromPath[str], body_id: FromPath[int], uuid: FromPath[str]) -> Any:
    campaign = await ledger.require_campaign()
    report_day = await service.require_day(campaign, day)
    return await act(request, lambda: service.delete_case(request.scope["user"], request.app.state.store, campaign, report_day, body_id,
                                                          uuid),
                     page="reports/report.html", context=lambda errors: _report_context(request, day, body_id, errors),
                     redirect=f"/reports/{report_day.isoformat()}/{body_id}#cases")


async def _decide(request: Request, day: str, body_id: int, decision: str) -> Any:
    form = await request.form()
    campaign = await ledger.require_campaign()
    report_day = await service.require_day(campaign, day)
    reason = str(form.get("reason") or "")
    return await act(request, lambda: service.decide(request.scope["user"], campaign, report_day, body_id, decision,
                                                     reason),
                     page="reports/report.html",
                     context=lambda errors: _report_context(request, day, body_id, errors, {"reason": reason}),
                     redirect=f"/reports/{report_day.isoformat()}")


@post("/reports/{day:str}/{body_id:int}/accept", opt=OFFICE)
async def report_accept(request: Request, day: FromPath[str], body_id: FromPath[int]) -> Any:
    return await _decide(request, day, body_id, "accept")


@post("/reports/{day:str}/{body_id:int}/return", opt=OFFICE)
async def report_return(request: Request, day: FromPath[str], body_id: FromPath[int]) -> Any:
    return await _decide(request, day, body_id, "return")


@get("/reports/{day:str}/table", opt=READ)
async def district_table(request: Request, day: FromPath[str]) -> Template:
    campaign = await ledger.require_campaign()
    report_day = await service.require_day(campaign, day)
    table = await service.district(campaign, report_day, clock.today())
    return render("reports/table.html", table=table, columns=COLUMNS, day=report_day)


@get("/reports/{day:str}/table.xlsx", opt=READ)
async def district_xlsx(request: Request, day: FromPath[str]) -> Response:
    campaign = await ledger.require_campaign()
    report_day = await service.require_day(campaign, day)
    table = await service.district(campaign, report_day, clock.today())
    data = xlsx.write_workbook([xlsx.stats_layout(table.title, table.body_line, ledger.date_line(report_day),
                                                  table.accepted_rows, body_column=True)])
    name = f"统计表_各单位报送_{report_day.isoformat()}.xlsx"
    return Response(content=data, media_type=xlsx.XLSX_TYPE, headers={
        "Content-Disposition": f"attachment; filename=\"report.xlsx\"; filename*=UTF-8''{quote(name)}"})


async def _photo(request: Request, uuid: str, thumb: bool) -> Response:
    stream, content_type = await service.open_photo(request.app.state.store, request.scope["user"], uuid,
                                                    thumb=thumb)
    return Stream(content=stream.chunks, media_type=content_type,
                  headers={**_PRIVATE, "Content-Length": str(stream.size)})


@get("/reports/photos/{uuid:str}", opt=SEE)
async def case_photo(request: Request, uuid: FromPath[str]) -> Response:
    return await _photo(request, uuid, thumb=False)


@get("/reports/photos/{uuid:str}/thumb", opt=SEE)
async def case_photo_thumb(request: Request, uuid: FromPath[str]) -> Response:
    return await _photo(request, uuid, thumb=True)


route_handlers = [
    report_list, board_page, report_page, report_save, case_add, case_delete, report_accept, report_return,
    district_table, district_xlsx, case_photo, case_photo_thumb,
]



@get("/reports/summary", opt=READ)
async def summary_page(request: Request) -> Template:
    campaign = await ledger.require_campaign()
    return render("reports/summary.html", s=await summary.build(campaign, clock.today()))


@get("/reports/summary.docx", opt=READ)
async def summary_docx(request: Request) -> Response:
    campaign = await ledger.require_campaign()
    data = summary.to_docx(await summary.build(campaign, clock.today()))
    name = f"{campaign.name}工作总结.docx"
    return Response(content=data, media_type=summary.DOCX_TYPE, headers={
        "Content-Disposition": f"attachment; filename=\"summary.docx\"; filename*=UTF-8''{quote(name)}"})


route_handlers += [summary_page, summary_docx]
