"""Rectification, 回头看, 双随机 and 线索. Thin handlers: read the form, validate into Chinese
messages, call the service, then redirect (post/redirect/get) or re-render the page with the
message beside the field (422). Boosted by htmx; every form works without JavaScript."""

from __future__ import annotations

from typing import Any, Mapping
from urllib.parse import quote

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from server import clock

from server.campaign import service as campaigns
from server.errors import Conflict, FormError
from server.forms import MAX_ID, page_number, date_field, choice, client_uuid, integer, new_uuid, record_id, text
from server.inspections import service as inspections
from server.rectification import clues, rules, service, spotcheck
from server.registry import service as registry
from server.vocab import ClueStatus, GuardActionKind, OrderStatus, Role, Sector, UnitKind
from server.web import act, client_ip, go, render, roles

READ = roles(Role.office, Role.officer, Role.leader)
WRITE = roles(Role.office, Role.officer)
OFFICE = roles(Role.office)
OFFICER = roles(Role.officer)
DRAW_READ = roles(Role.office, Role.leader)
CLUE_READ = roles(Role.office, Role.officer, Role.leader, Role.liaison)
LIAISON = roles(Role.liaison)
_PRIVATE = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}


def _int(value: str | None) -> int | None:
    return record_id(value)


# ================================================================ rectification orders

@get("/rectification", opt=READ, name="rectification")
async def index(request: Request, status: FromQuery[str] = "open", township: FromQuery[str] = "",
                filing_page: FromQuery[str] = "", pending_page: FromQuery[str] = "") -> Template:
    campaign = await campaigns.require_active()
    day = clock.today()
    user = request.scope["user"]
    status = status if status in ("open", "") or status in {s.value for s in OrderStatus} else "open"
    body = {"id": user.body_id, "is_police": True}
    number = page_number(filing_page)
    alerts, more = await service.filing_alerts(campaign, day, number)
    pending_number = page_number(pending_page)
    pending, pending_more = await service.pending_units(campaign, pending_number)
    query = {"status": status, **({"township": township} if township else {})}
    return render(
        "rectification/index.html", pending=pending, pending_more=pending_more, pending_page=pending_number,
        pending_page_size=service.PENDING_PAGE_SIZE,
        pending_query={**query, **({"filing_page": str(number)} if number > 1 else {})},
        alerts=alerts, alerts_more=more, filing_page=number, filing_page_size=service.FILING_PAGE_SIZE,
        query={**query, **({"pending_page": str(pending_number)} if pending_number > 1 else {})},
        orders=await service.list_orders(campaign, day, status, _int(township)),
        f={"status": status, "township": township}, townships=await registry.townships(),
        due_items=await campaigns.due_for_body(campaign, body, day) if user.body_id else [], today=day)


async def _order_form(request: Request, unit_id: int | None, status: int = 200, **extra: Any) -> Template:
    campaign = await campaigns.require_active()
    if unit_id is None:
        return render("rectification/order_new.html", status_code=404, form=None, errors={"unit": "请选择单位"})
    form = await service.order_form(campaign, unit_id, clock.today())
    ctx = {"form": form, "errors": {}, "values": {}, **extra}
    return render("rectification/order_new.html", status_code=status, **ctx)


@get("/rectification/new", opt=WRITE)
async def new_order(request: Request, unit: FromQuery[str] = "") -> Template:
    return await _order_form(request, _int(unit))


@post("/rectification/orders", opt=WRITE)
async def create_order(request: Request) -> Any:
    form = await request.form()
    errors: dict[str, str] = {}
    unit_id = integer(form, "unit_id", label="单位", minimum=1, maximum=MAX_ID, required=True, errors=errors)
    deadline = date_field(form, "deadline", label="整改期限", errors=errors, required=False)
    note = text(form, "note", label="备注", errors=errors)
    ids = [i for i in map(record_id, form.getall("finding_ids", [])) if i is not None]
    filing = str(form.get("filing") or "") == "1"
    if unit_id is None:
        return render("rectification/order_new.html", status_code=422, form=None, errors=errors)
    if not errors:
        try:
            order = await service.create_order(request.scope["user"], await campaigns.require_active(), unit_id,
                                               ids, deadline, note, filing=filing)
        except FormError as exc:
            errors = exc.errors
        else:
            return go(request, f"/rectification/orders/{order.id}")
    return await _order_form(request, unit_id, 422, errors=errors,
                             values={"deadline": form.get("deadline") or "", "note": note, "ids": ids})


async def _order_context(order_id: int, **extra: Any) -> dict[str, Any]:
    d = await service.order_detail(order_id)
    return {"d": d, "errors": {}, "today": clock.today(), "new_uuid": new_uuid, **extra}


@get("/rectification/orders/{order_id:int}", opt=READ, name="rectification_order")
async def order_page(request: Request, order_id: FromPath[int]) -> Template:
    return render("rectification/order.html", **await _order_context(order_id))


@get("/rectification/orders/{order_id:int}/notice", opt=READ)
async def order_notice(request: Request, order_id: FromPath[int]) -> Template:
    return render("rectification/notice.html", d=await service.notice(order_id))


async def _order_action(request: Request, order_id: int, action, prefix: str = "") -> Any:
    """Run a change on an order; on bad input re-render the order page with the message
    beside the field (field names carry the form's prefix: one page, several forms)."""
    await service.get_order(order_id)  # 404 before anything else
    return await act(request, lambda: action(request.scope["user"]), page="rectification/order.html",
                     context=lambda errors: _order_context(order_id, errors=errors),
                     redirect=f"/rectification/orders/{order_id}", prefix=prefix)


@post("/rectification/orders/{order_id:int}/status", opt=WRITE)
async def order_status(request: Request, order_id: FromPath[int]) -> Any:
    form = await request.form()

    async def action(user):
        errors: dict[str, str] = {}
        act = choice(form, "action", set(rules.TRANSITIONS), label="结论", errors=errors)
        punishment = text(form, "punishment", label="处罚情况", errors=errors)
        note = text(form, "note", label="说明", errors=errors)
        if errors:
            raise FormError(errors)
        await service.change_status(user, order_id, act, punishment, note)

    return await _order_action(request, order_id, action)


@post("/rectification/orders/{order_id:int}/outcomes", opt=WRITE)
async def order_outcome(request: Request, order_id: FromPath[int]) -> Any:
    form = await request.form()

    async def action(user):
        errors: dict[str, str] = {}
        column = integer(form, "stat_column", label="统计栏目", minimum=17, maximum=22, errors=errors)
        quantity = integer(form, "quantity", label="数量", minimum=1, maximum=999, errors=errors)
        day = date_field(form, "recorded_on", label="日期", errors=errors, default=clock.today())
        note = text(form, "note", label="说明", errors=errors)
        if errors:
            raise FormError(errors)
        await service.add_outcome(user, order_id, column, quantity, day, note)

    return await _order_action(request, order_id, action, "outcome.")


@post("/rectification/orders/{order_id:int}/filing", opt=WRITE)
async def order_filing(request: Request, order_id: FromPath[int]) -> Any:
    form = await request.form()

    async def action(user):
        errors: dict[str, str] = {}
        number = text(form, "filing_no", label="备案编号", max_len=64, errors=errors)
        day = date_field(form, "filed_on", label="备案日期", errors=errors, default=clock.today())
        if errors:
            raise FormError(errors)
        await service.record_filing(user, order_id, number, day)

    return await _order_action(request, order_id, action, "filing.")


@post("/rectification/orders/{order_id:int}/guards", opt=WRITE)
async def order_guard(request: Request, order_id: FromPath[int]) -> Any:
    form = await request.form()

    async def action(user):
        errors: dict[str, str] = {}
        guard_id = integer(form, "guard_id", label="保安员", minimum=1, maximum=MAX_ID, errors=errors)
        act = choice(form, "action", {a.value for a in GuardActionKind}, label="处理方式", errors=errors)
        day = date_field(form, "done_on", label="日期", errors=errors, default=clock.today())
        cert = text(form, "certificate_no", label="保安员证号", max_len=32, errors=errors)
        if errors:
            raise FormError(errors)
        await service.guard_action(user, order_id, guard_id, act, day, cert)

    return await _order_action(request, order_id, action, "guard.")


@post("/rectification/orders/{order_id:int}/reinspect", opt=OFFICER)
async def order_reinspect(request: Request, order_id: FromPath[int]) -> Any:
    form = await request.form()
    site_id = _int(str(form.get("site_id") or ""))
    return await act(
        request, lambda: service.start_reinspection(request.scope["user"], order_id, site_id, client_uuid(form)),
        page="rectification/order.html", context=lambda errors: _order_context(order_id, errors=errors),
        redirect=lambda insp: f"/inspections/{insp.uuid}")


@post("/rectification/units/{unit_id:int}/revoke-filing", opt=WRITE)
async def revoke_filing(request: Request, unit_id: FromPath[int]) -> Any:
    form = await request.form()
    errors: dict[str, str] = {}
    day = date_field(form, "revoked_on", label="撤销日期", errors=errors, default=clock.today())
    if not errors:
        try:
            await service.record_revocation(request.scope["user"], unit_id, day)
        except Conflict as exc:
            errors = {"_": str(exc)}
    if errors:
        errors = {"_": next(iter(errors.values()))}  # one form per row: the message goes on top
        campaign = await campaigns.require_active()
        today = clock.today()
        alerts, more = await service.filing_alerts(campaign, today)
        pending, pending_more = await service.pending_units(campaign)
        return render("rectification/index.html", status_code=422, errors=errors,
                      pending=pending, pending_more=pending_more, pending_page=1,
                      pending_page_size=service.PENDING_PAGE_SIZE, pending_query={},
                      alerts=alerts, alerts_more=more,
                      filing_page=1, filing_page_size=service.FILING_PAGE_SIZE, query={},
                      orders=await service.list_orders(campaign, today, "open"), f={"status": "open", "township": ""},
                      townships=await registry.townships(), due_items=[], today=today)
    return go(request, "/rectification#filing")


# ---------------------------------------------------------------- 回头看

@get("/rectification/due", opt=READ, name="reinspection_list")
async def due(request: Request, township: FromQuery[str] = "", officer: FromQuery[str] = "") -> Template:
    user = request.scope["user"]
    campaign = await campaigns.require_active()
    day = clock.today()
    officer_id = user.id if officer == "me" else _int(officer)
    rows = await service.due_list(campaign, day, _int(township), officer_id)
    total = (len(rows) if len(rows) < service.DUE_LIST_MAX
             else await service.due_count(campaign, day, _int(township), officer_id))
    return render("rectification/due.html", rows=rows, total=total, today=day, townships=await registry.townships(),
                  officers=await service.users_by_role(Role.officer), f={"township": township, "officer": officer},
                  targets=await spotcheck.my_targets(user) if user.role == Role.officer else [],
                  new_uuid=new_uuid, horizon=rules.DUE_HORIZON_DAYS)


@get("/rectification/reinspections/{uuid:str}/compare", opt=READ)
async def compare(request: Request, uuid: FromPath[str]) -> Template:
    insp = await inspections.get_for(request.scope["user"], uuid)
    return render("rectification/_compare.html", before_after=await inspections.before_after(insp))


# ================================================================ 双随机

def _pool_filter(form: Mapping[str, Any], errors: dict[str, str]) -> spotcheck.PoolFilter:
    township = _int(str(form.get("township") or ""))
    kind = choice(form, "kind", {k.value for k in UnitKind}, label="单位类型", required=False, errors=errors)
    sector = choice(form, "sector", {s.value for s in Sector}, label="行业", required=False, errors=errors)
    return spotcheck.PoolFilter(township, kind, sector, str(form.get("rectified") or "") == "1")


async def _draws_page(request: Request, status: int = 200, **extra: Any) -> Template:
    campaign = await campaigns.require_active()
    ctx = {"draws": await spotcheck.list_draws(campaign), "townships": await registry.townships(),
           "rules_text": spotcheck.EXCLUSION_RULES, "errors": {}, "values": {}, "plan": None,
           "officer_names": {}, "unit_names": {}, **extra}
    return render("rectification/spotchecks.html", status_code=status, **ctx)


@get("/spotchecks", opt=DRAW_READ, name="spotchecks")
async def spotchecks(request: Request) -> Template:
    return await _draws_page(request)


@post("/spotchecks", opt=OFFICE)
async def draw(request: Request) -> Any:
    form = await request.form()
    errors: dict[str, str] = {}
    n = integer(form, "n", label="抽取数量", minimum=1, maximum=500, required=True, errors=errors)
    rule = choice(form, "rule", set(spotcheck.EXCLUSION_RULES), label="回避规则", errors=errors)
    f = _pool_filter(form, errors)
    values = {"n": form.get("n") or "", "rule": rule, **f.as_dict()}
    if errors:
        return await _draws_page(request, 422, errors=errors, values=values)
    campaign = await campaigns.require_active()
    user = request.scope["user"]
    try:
        if str(form.get("save") or "") != "1":
            p = await spotcheck.preview(user, campaign, n, f, rule)
            units, officers = await spotcheck.names(p)
            return await _draws_page(request, values=values, plan=p, unit_names=units, officer_names=officers,
                                     filter_text=await spotcheck.describe_filter(f))
        row = await spotcheck.make_draw(user, campaign, n, f, rule)
    except rules.DrawError as exc:
        return await _draws_page(request, 422, errors={"n": str(exc)}, values=values)
    return go(request, f"/spotchecks/{row.id}")


@get("/spotchecks/{draw_id:int}", opt=DRAW_READ)
async def draw_page(request: Request, draw_id: FromPath[int]) -> Template:
    d = await spotcheck.get_draw(draw_id)
    same, again, recorded = await spotcheck.verify(draw_id)
    units, officers, pairs, rule = spotcheck.recorded_inputs(d)
    return render("rectification/spotcheck.html", d=d, rows=await spotcheck.targets(draw_id), same=same,
                  public_key=spotcheck.public_key(request.app.state.settings.secret_key, draw_id),
                  pool=units, officers=officers, pairs=pairs, rule_text=spotcheck.EXCLUSION_RULES.get(rule, rule),
                  filter_text=await spotcheck.describe_filter(spotcheck.PoolFilter.from_dict(spotcheck.load_json(d["pool_filter"]) or {})))


@post("/spotchecks/targets/{target_id:int}/start", opt=OFFICER)
async def start_target(request: Request, target_id: FromPath[int]) -> Any:
    form = await request.form()
    try:
        insp = await spotcheck.start_target(request.scope["user"], target_id, client_uuid(form))
    except Conflict as exc:
        return render("error.html", status_code=409, message=str(exc), detail="", status=409)
    return go(request, f"/inspections/{insp.uuid}")


@get("/public/spotchecks/{key:str}", opt={"public": True}, name="public_spotcheck")
async def public_spotcheck(request: Request, key: FromPath[str]) -> Template:
    return render("rectification/public_spotcheck.html",
                  **await spotcheck.public_results(request.app.state.settings.secret_key, key))


# ================================================================ 线索

@get("/clues", opt=CLUE_READ, name="clues")
async def clue_list(request: Request, status: FromQuery[str] = "") -> Template:
    user = request.scope["user"]
    status = status if status in {s.value for s in ClueStatus} else ""
    campaign = await campaigns.active_campaign()
    due_items = []
    if campaign is not None and user.body_id:
        from server.models.campaign import Body

        body = await Body.select(Body.id, Body.is_police).where(Body.id == user.body_id).first()
        due_items = await campaigns.due_for_body(campaign, body, clock.today()) if body else []
    return render("rectification/clues.html", rows=await clues.list_for(user, status),
                  counts=await clues.counts_for(user), status=status, due_items=due_items)


async def _new_clue_page(request: Request, status: int = 200, **extra: Any) -> Template:
    user = request.scope["user"]
    ctx = {"units": await clues.units_in_scope(user), "errors": {}, "values": {}, "new_uuid": new_uuid,
           "max_photos": clues.MAX_PHOTOS, "max_documents": clues.MAX_DOCUMENTS,
           "max_mb": request.app.state.settings.max_upload_mb, **extra}
    return render("rectification/clue_new.html", status_code=status, **ctx)


@get("/clues/new", opt=LIAISON)
async def new_clue(request: Request) -> Template:
    return await _new_clue_page(request)


@post("/clues", opt=LIAISON)
async def create_clue(request: Request) -> Any:
    form = await request.form()
    errors: dict[str, str] = {}
    unit_id = integer(form, "unit_id", label="单位", minimum=1, maximum=MAX_ID, errors=errors)
    unit_name = text(form, "unit_name", label="单位名称", max_len=128, errors=errors)
    address = text(form, "address", label="地址", max_len=255, errors=errors)
    description = text(form, "description", label="问题描述", max_len=2000, required=True, errors=errors)
    uploads = [u for u in form.getall("photos", []) if isinstance(u, UploadFile) and u.filename]
    documents = [u for u in form.getall("documents", []) if isinstance(u, UploadFile) and u.filename]
    values = {"unit_id": unit_id, "unit_name": unit_name, "address": address, "description": description}
    try:
        if errors:
            raise FormError(errors)
        clue = await clues.create(
            request.scope["user"], request.app.state.store, request.app.state.settings, uuid=client_uuid(form),
            unit_id=unit_id, unit_name=unit_name, address=address, description=description,
            photos=[await u.read() for u in uploads], documents=[(u.filename, await u.read()) for u in documents])
    except FormError as exc:
        return await _new_clue_page(request, 422, errors=exc.errors, values=values)
    return go(request, f"/clues/{clue.uuid}")


async def _clue_context(request: Request, uuid: str, **extra: Any) -> dict[str, Any]:
    user = request.scope["user"]
    clue = await clues.get_for(user, uuid)
    ctx: dict[str, Any] = {"c": clue, "errors": {}}
    v = extra.pop("v", {})  # what the office typed in the accept form, when it comes back
    if user.role == Role.office:
        ctx["accept"] = await clues.accept_options(clue, user, v.get("site_id"), v.get("site_id_q"))
        ctx["suggested"] = await clues.suggested_outcome(clue)
    ctx.update(extra)
    return ctx


@get("/clues/{uuid:str}", opt=CLUE_READ)
async def clue_page(request: Request, uuid: FromPath[str]) -> Template:
    return render("rectification/clue.html", **await _clue_context(request, uuid))


async def _clue_action(request: Request, uuid: str, action, v: dict | None = None) -> Any:
    await clues.get_for(request.scope["user"], uuid)
    return await act(request, lambda: action(request.scope["user"]), page="rectification/clue.html",
                     context=lambda errors: _clue_context(request, uuid, errors=errors, v=v or {}),
                     redirect=f"/clues/{uuid}")


@post("/clues/{uuid:str}/accept", opt=OFFICE)
async def accept_clue(request: Request, uuid: FromPath[str]) -> Any:
    form = await request.form()

    async def action(user):
        errors: dict[str, str] = {}
        officer = integer(form, "officer_id", label="承办民警", minimum=1, maximum=MAX_ID, errors=errors)
        site = integer(form, "site_id", label="服务目标", minimum=1, maximum=MAX_ID, errors=errors)
        if errors:
            raise FormError(errors)
        clue = await clues.get_for(user, uuid)
        await clues.accept(user, uuid, officer, clue["unit.id"], site)

    if form.get("_pick"):  # 查找 in the site picker without JavaScript: show its matches
        return render("rectification/clue.html", **await _clue_context(request, uuid, v=dict(form)))
    return await _clue_action(request, uuid, action, v=dict(form))


@post("/clues/{uuid:str}/decline", opt=OFFICE)
async def decline_clue(request: Request, uuid: FromPath[str]) -> Any:
    form = await request.form()

    async def action(user):
        errors: dict[str, str] = {}
        reason = text(form, "reason", label="理由", errors=errors)
        if errors:
            raise FormError(errors)
        await clues.decline(user, uuid, reason)

    return await _clue_action(request, uuid, action)


@post("/clues/{uuid:str}/close", opt=OFFICE)
async def close_clue(request: Request, uuid: FromPath[str]) -> Any:
    form = await request.form()

    async def action(user):
        errors: dict[str, str] = {}
        outcome = text(form, "outcome", label="核查结果", max_len=1000, errors=errors)
        if errors:
            raise FormError(errors)
        await clues.close(user, uuid, outcome)

    return await _clue_action(request, uuid, action)


async def _clue_photo(request: Request, uuid: str, photo: str, thumb: bool) -> Response:
    from litestar.response import Stream

    stream, content_type = await clues.open_photo(request.app.state.store, request.scope["user"], uuid, photo,
                                                  thumb=thumb, ip=client_ip(request))
    return Stream(content=stream.chunks, media_type=content_type,
                  headers={**_PRIVATE, "Content-Length": str(stream.size)})


@get("/clues/{uuid:str}/photos/{photo:str}", opt=CLUE_READ)
async def clue_photo(request: Request, uuid: FromPath[str], photo: FromPath[str]) -> Response:
    return await _clue_photo(request, uuid, photo, thumb=False)


@get("/clues/{uuid:str}/photos/{photo:str}/thumb", opt=CLUE_READ)
async def clue_photo_thumb(request: Request, uuid: FromPath[str], photo: FromPath[str]) -> Response:
    return await _clue_photo(request, uuid, photo, thumb=True)


@get("/clues/{uuid:str}/documents/{doc:str}", opt=CLUE_READ)
async def clue_document(request: Request, uuid: FromPath[str], doc: FromPath[str]) -> Response:
    from litestar.response import Stream

    from server.storage import ObjectNotFound

    try:
        stream, row = await clues.open_document(request.app.state.store, request.scope["user"], uuid, doc,
                                                ip=client_ip(request))
    except ObjectNotFound:
        raise NotFoundException("文件不存在") from None
    extension = row.object_key.rsplit(".", 1)[-1]
    return Stream(content=stream.chunks, media_type=row.content_type, headers={
        **_PRIVATE, "Content-Length": str(stream.size),
        "Content-Disposition": f"attachment; filename=\"clue-document.{extension}\"; "
                               f"filename*=UTF-8''{quote(row.file_name)}"})


route_handlers: list = [
    index, new_order, create_order, order_page, order_notice, order_status, order_outcome, order_filing,
    order_guard, order_reinspect, revoke_filing, due, compare,
    spotchecks, draw, draw_page, start_target, public_spotcheck,
    clue_list, new_clue, create_clue, clue_page, accept_clue, decline_clue, close_clue, clue_photo,
    clue_photo_thumb, clue_document,
]
