"""Registry screens. Officers find a site to inspect (phone); the office keeps units, sites
and guards (desktop): search and filters, detail pages, edit forms, the guard's e-file with
portrait and training, collection rates, and the Excel roster import."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template


from server.images import ImageRejected
from server.errors import FormError
from server.forms import page_number, new_uuid, record_id
from server.registry import forms, import_jobs, roster_import, service
from server.vocab import CertStatus, EmploymentStatus, Role, Sector, UnitKind
from server.web import client_ip, go, is_htmx, render, roles

READ = roles(Role.office, Role.leader)
WRITE = roles(Role.office)
PORTRAIT = roles(Role.office, Role.leader, Role.officer, Role.liaison)
REVEAL = roles(Role.office, Role.officer)
_PRIVATE = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}


@get("/sites", opt=roles(Role.officer, Role.liaison), name="sites")
async def sites(request: Request, q: FromQuery[str] = "") -> Template:
    user = request.scope["user"]
    results = await service.search_sites(user.scope, q)
    template = "registry/_site_results.html" if is_htmx(request) else "registry/sites.html"
    return render(template, q=q, results=results, new_uuid=new_uuid)


def _int(value: str | None) -> int | None:
    return record_id(value)


# A form's unit and site fields: a <select> in a small registry, else a search picker
# (registry/_macros.html `picker`, served by `pick` below). The field's name → what it picks.
PICKED = {"unit": "units", "provider": "units", "employer": "units", "site": "sites",
          "site_id": "sites"}  # site_id: the site a clue sends an officer to (rectification/clue.html)


async def _pickers(request: Request, v: Any, *names: str) -> dict[str, Any]:
    scope = request.scope["user"].scope
    return {name: await service.picker(PICKED[name], name, scope, v.get(name), v.get(f"{name}_q"))
            for name in names}


async def _filter_choices(unit: str = "") -> dict[str, Any]:
    """For the lists' filters: townships, and units (only the chosen one in a big registry)."""
    return {"townships": await service.townships(), "units": await service.unit_filter_choices(_int(unit))}


# ---------------------------------------------------------------- units

@get("/registry", opt=READ)
async def registry_home() -> Redirect:
    return Redirect("/registry/guards", status_code=303)


@get("/registry/units", opt=READ)
async def units(q: FromQuery[str] = "", kind: FromQuery[str] = "", township: FromQuery[str] = "",
                sector: FromQuery[str] = "", page: FromQuery[str] = "") -> Template:
    number = page_number(page)
    rows, more = await service.unit_page(q, kind, _int(township), sector, number)
    f = {"q": q, "kind": kind, "township": township, "sector": sector}
    return render("registry/units.html", rows=rows, f=f, tab="units", page=number, more=more,
                  page_size=service.PAGE_SIZE, query={k: v for k, v in f.items() if v},
                  townships=await service.townships())


@get("/registry/units/new", opt=WRITE)
async def unit_new() -> Template:
    return render("registry/unit_form.html", unit=None, v={}, errors={}, tab="units",
                  townships=await service.townships(offered=True))


@get("/registry/units/{unit_id:int}", opt=READ)
async def unit_page(unit_id: FromPath[int]) -> Template:
    return render("registry/unit.html", **await service.unit_detail(unit_id), tab="units")


@get("/registry/units/{unit_id:int}/edit", opt=WRITE)
async def unit_edit(unit_id: FromPath[int]) -> Template:
    unit = await service.get_unit(unit_id)
    return render("registry/unit_form.html", unit=unit, v=unit.to_dict(), errors={}, tab="units",
                  townships=await service.townships(offered=True, keep=unit.township))


async def _save_unit(request: Request, unit_id: int | None) -> Any:
    form = await request.form()
    unit = await service.get_unit(unit_id) if unit_id else None
    townships = await service.townships(offered=True, keep=unit.township if unit else None)
    values, errors = forms.unit_values(form, {t["id"] for t in townships})
    if not errors:
        try:
            unit = await service.save_unit(request.scope["user"], unit_id, values)
            return go(request, f"/registry/units/{unit.id}")
        except FormError as exc:
            errors = exc.errors
    return render("registry/unit_form.html", status_code=422, unit=unit, v=dict(form), errors=errors,
                  tab="units", townships=townships)


@post("/registry/units", opt=WRITE)
async def unit_create(request: Request) -> Any:
    return await _save_unit(request, None)


@post("/registry/units/{unit_id:int}", opt=WRITE)
async def unit_update(request: Request, unit_id: FromPath[int]) -> Any:
    return await _save_unit(request, unit_id)


# ---------------------------------------------------------------- sites

@get("/registry/sites", opt=READ)
async def site_list(q: FromQuery[str] = "", township: FromQuery[str] = "", sector: FromQuery[str] = "",
                    unit: FromQuery[str] = "", page: FromQuery[str] = "") -> Template:
    number = page_number(page)
    rows, more = await service.site_page(q, _int(township), sector, _int(unit), number)
    f = {"q": q, "township": township, "sector": sector, "unit": unit}
    return render("registry/site_list.html", rows=rows, tab="sites", f=f, page=number, more=more,
                  page_size=service.PAGE_SIZE, query={k: v for k, v in f.items() if v},
                  **await _filter_choices(unit))


@get("/registry/sites/new", opt=WRITE)
async def site_new(request: Request, unit: FromQuery[str] = "") -> Template:
    v = {"unit": unit}
    return render("registry/site_form.html", site=None, v=v, errors={}, tab="sites",
                  townships=await service.townships(offered=True), pickers=await _pickers(request, v, "unit", "provider"))


@get("/registry/sites/{site_id:int}", opt=READ)
async def site_page(site_id: FromPath[int]) -> Template:
    return render("registry/site.html", **await service.site_detail(site_id), tab="sites")


@get("/registry/sites/{site_id:int}/edit", opt=WRITE)
async def site_edit(request: Request, site_id: FromPath[int]) -> Template:
    site = await service.get_site_row(site_id)
    v = site.to_dict()
    return render("registry/site_form.html", site=site, v=v, errors={}, tab="sites",
                  townships=await service.townships(offered=True, keep=site.township), pickers=await _pickers(request, v, "unit", "provider"))


async def _save_site(request: Request, site_id: int | None) -> Any:
    form = await request.form()
    site = await service.get_site_row(site_id) if site_id else None
    townships = await service.townships(offered=True, keep=site.township if site else None)
    errors: dict[str, str] = {}
    if not form.get("_pick"):  # 查找 in a picker without JavaScript: show its matches, save nothing
        units = await service.existing_ids("units", request.scope["user"].scope, form.get("unit"),
                                           form.get("provider"))
        values, errors = forms.site_values(form, units, {t["id"] for t in townships})
        if not errors:
            site = await service.save_site(request.scope["user"], site_id, values)
            return go(request, f"/registry/sites/{site.id}")
    v = dict(form)
    return render("registry/site_form.html", status_code=422 if errors else 200, site=site, v=v,
                  errors=errors, tab="sites", townships=townships,
                  pickers=await _pickers(request, v, "unit", "provider"))


@post("/registry/sites", opt=WRITE)
async def site_create(request: Request) -> Any:
    return await _save_site(request, None)


@post("/registry/sites/{site_id:int}", opt=WRITE)
async def site_update(request: Request, site_id: FromPath[int]) -> Any:
    return await _save_site(request, site_id)


# ---------------------------------------------------------------- guards

@get("/registry/guards", opt=READ)
async def guards(q: FromQuery[str] = "", unit: FromQuery[str] = "", township: FromQuery[str] = "",
                 sector: FromQuery[str] = "", cert: FromQuery[str] = "", gap: FromQuery[str] = "",
                 status: FromQuery[str] = "", page: FromQuery[str] = "") -> Template:
    cert = cert if cert in {c.value for c in CertStatus} else ""
    status = status if status in {c.value for c in EmploymentStatus} else ""
    gap = gap if gap in service.GAPS else ""
    number = page_number(page)
    rows, more = await service.guard_page(q, _int(unit), _int(township), sector, cert, gap, status, number)
    f = {"q": q, "unit": unit, "township": township, "sector": sector, "cert": cert, "gap": gap,
         "status": status}
    return render("registry/guards.html", rows=rows, tab="guards", gaps=service.GAPS, page=number, more=more,
                  page_size=service.PAGE_SIZE, f=f, query={k: v for k, v in f.items() if v},
                  **await _filter_choices(unit))


@get("/registry/guards/new", opt=WRITE)
async def guard_new(request: Request, unit: FromQuery[str] = "") -> Template:
    v = {"employer": unit}
    return render("registry/guard_form.html", guard=None, v=v, errors={}, tab="guards",
                  pickers=await _pickers(request, v, "employer", "site"))


async def _file(request: Request, guard_id: int, **extra: Any) -> dict[str, Any]:
    user = request.scope["user"]
    await service.log_access(user, "guard_view", "guard", guard_id, client_ip(request))
    data = await service.guard_file(guard_id)
    return {**data, "card": await service.current_card(guard_id), "cards": await service.cards_of(guard_id),
            "tab": "guards", "errors": {}, "revealed": None, **extra}


@get("/registry/guards/{guard_id:int}", opt=READ)
async def guard_page(request: Request, guard_id: FromPath[int]) -> Template:
    return render("registry/guard.html", **await _file(request, guard_id))


@get("/registry/guards/{guard_id:int}/edit", opt=WRITE)
async def guard_edit(request: Request, guard_id: FromPath[int]) -> Template:
    guard = await service.get_guard_row(guard_id)
    v = guard.to_dict()
    v["id_number"] = ""  # never in the form: shown masked; revealed only on the logged path
    return render("registry/guard_form.html", guard=guard, v=v, errors={}, tab="guards",
                  pickers=await _pickers(request, v, "employer", "site"))


async def _save_guard(request: Request, guard_id: int | None) -> Any:
    form = await request.form()
    guard = await service.get_guard_row(guard_id) if guard_id else None
    errors: dict[str, str] = {}
    if not form.get("_pick"):  # 查找 in a picker without JavaScript: show its matches, save nothing
        scope = request.scope["user"].scope
        data: Any = form
        if guard is not None and not str(form.get("id_number") or "").strip():
            data = {**dict(form), "id_number": guard.id_number or ""}  # left blank: unchanged
        values, errors = forms.guard_values(data, await service.existing_ids("units", scope, form.get("employer")),
                                            await service.existing_ids("sites", scope, form.get("site")))
        if not errors:
            try:
                guard = await service.save_guard(request.scope["user"], guard_id, values)
                return go(request, f"/registry/guards/{guard.id}")
            except FormError as exc:
                errors = exc.errors
    v = dict(form)
    for name in ("vetted", "exam_passed", "photo_collected", "fingerprint_collected"):
        v[name] = forms.flag(form, name)
    return render("registry/guard_form.html", status_code=422 if errors else 200, guard=guard, v=v,
                  errors=errors, tab="guards", pickers=await _pickers(request, v, "employer", "site"))


@post("/registry/guards", opt=WRITE)
async def guard_create(request: Request) -> Any:
    return await _save_guard(request, None)


@post("/registry/guards/{guard_id:int}", opt=WRITE)
async def guard_update(request: Request, guard_id: FromPath[int]) -> Any:
    return await _save_guard(request, guard_id)


@post("/registry/guards/{guard_id:int}/reveal", opt=REVEAL)
async def reveal(request: Request, guard_id: FromPath[int]) -> Template:
    """A deliberate reveal of the full ID number, logged as pii_reveal."""
    number = await service.reveal_id_number(request.scope["user"], guard_id, client_ip(request),
                                            request.app.state.settings.reveal_max_per_hour)
    if is_htmx(request):
        return render("registry/_id_number.html", guard={"id": guard_id, "id_number": number}, revealed=number)
    if request.scope["user"].role == Role.officer:
        guard = await service.get_guard_row(guard_id)
        return render("registry/id_number.html", guard=guard, revealed=number)
    return render("registry/guard.html", **await _file(request, guard_id, revealed=number))


@get("/registry/guards/{guard_id:int}/portrait", opt=PORTRAIT)
async def portrait(request: Request, guard_id: FromPath[int]) -> Response:
    user = request.scope["user"]
    if user.role == Role.liaison and not await service.guard_in_scope(user.scope, guard_id):
        raise NotFoundException("保安员不存在")
    data = await service.open_portrait(request.app.state.store, user, guard_id, client_ip(request))
    return Response(content=data, media_type="image/jpeg", headers=_PRIVATE)


@post("/registry/guards/{guard_id:int}/portrait", opt=WRITE)
async def portrait_upload(request: Request, guard_id: FromPath[int]) -> Any:
    form = await request.form()
    upload = form.get("file")
    error = ""
    if not isinstance(upload, UploadFile) or not upload.filename:
        error = "请拍摄或选择一张照片"
    else:
        try:
            await service.set_portrait(request.app.state.store, request.app.state.settings,
                                       request.scope["user"], guard_id, await upload.read())
        except ImageRejected as exc:
            error = str(exc)
    if not error and not is_htmx(request):
        return go(request, f"/registry/guards/{guard_id}#portrait")
    ctx = await _file(request, guard_id, errors={"portrait": error} if error else {})
    template = "registry/_portrait.html" if is_htmx(request) else "registry/guard.html"
    return render(template, status_code=422 if error else 200, **ctx)


@post("/registry/guards/{guard_id:int}/training", opt=WRITE)
async def training_add(request: Request, guard_id: FromPath[int]) -> Any:
    form = await request.form()
    values, errors = forms.training_values(form)
    if not errors:
        await service.add_training(request.scope["user"], guard_id, values)
        if not is_htmx(request):
            return go(request, f"/registry/guards/{guard_id}#training")
    ctx = await _file(request, guard_id, errors=errors, tv=dict(form) if errors else {})
    template = "registry/_training.html" if is_htmx(request) else "registry/guard.html"
    return render(template, status_code=422 if errors else 200, **ctx)


@post("/registry/guards/{guard_id:int}/training/{record_id:int}/delete", opt=WRITE)
async def training_delete(request: Request, guard_id: FromPath[int], record_id: FromPath[int]) -> Any:
    await service.delete_training(request.scope["user"], guard_id, record_id)
    if is_htmx(request):
        return render("registry/_training.html", **await _file(request, guard_id))
    return go(request, f"/registry/guards/{guard_id}#training")


@get("/registry/pick/{name:str}", opt=WRITE)
async def pick(request: Request, name: FromPath[str]) -> Template:
    """A search picker's matches (htmx): `<name>_q` is the text typed, `<name>` the choice
    made so far, kept at the top."""
    if name not in PICKED:
        raise NotFoundException("没有这个选择项")
    params = request.query_params
    p = await service.picker(PICKED[name], name, request.scope["user"].scope, params.get(name),
                             params.get(f"{name}_q"), search=True)
    return render("registry/_pick_results.html", p=p)


# ---------------------------------------------------------------- collection rates

@get("/registry/collection", opt=READ)
async def collection(unit: FromQuery[str] = "", page: FromQuery[str] = "",
                     missing_page: FromQuery[str] = "") -> Template:
    number, missing_number, unit_id = page_number(page), page_number(missing_page), _int(unit)
    companies, more = await service.collection_page(number)
    total = await service.collection_total()
    missing, missing_more = await service.missing_page(unit_id, missing_number)
    missing_count = (await service.collection_total(unit_id))["missing"] if unit_id else total["missing"]
    return render("registry/collection.html", companies=companies, total=total, page=number, more=more,
                  missing=missing, missing_count=missing_count, missing_number=missing_number,
                  missing_more=missing_more, page_size=service.PAGE_SIZE, unit=unit_id, tab="collection",
                  query={k: v for k, v in {"unit": unit_id, "page": number if number > 1 else None}.items() if v})


# ---------------------------------------------------------------- roster import

@get("/registry/import", opt=WRITE)
async def import_page() -> Template:
    return render("registry/import.html", report=None, key="", errors={}, tab="import")


@get("/registry/import/template.xlsx", opt=WRITE)
async def import_template() -> Response:
    return Response(
        content=roster_import.template_bytes(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": "attachment; filename*=UTF-8''%E4%BF%9D%E5%AE%89%E5%91%98%E5%90%8D%E5%86%8C%E6%A8%A1%E6%9D%BF.xlsx"},
    )


_XLSX_MAGIC = b"PK\x03\x04"


@post("/registry/import", opt=WRITE)
async def import_preview(request: Request) -> Any:
    """Upload → a dry run checked in the background (import_jobs), answered at once with the
    progress page that turns into the full report. The file waits in the object store (never
    public) until the office confirms, so the confirmation needs no second upload."""
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return render("registry/import.html", status_code=422, report=None, key="", tab="import",
                      errors={"file": "请选择要导入的 Excel 文件（.xlsx 或 .xls）"})
    data = await upload.read()
    if not data:
        message = "文件为空"
    elif data[:4] != _XLSX_MAGIC and data[:8] != roster_import.XLS_MAGIC:
        message = "文件无法读取：不是有效的 Excel 工作簿（.xlsx 或 .xls）"
    else:
        message = ""
    if message:  # refused at once; what only reading it shows comes on the progress page
        return render("registry/import.html", status_code=422, report=None, key="", tab="import",
                      errors={"file": message})
    key = await import_jobs.start(request.app.state.store, request.scope["user"], data, upload.filename)
    return go(request, f"/registry/import/{key}")


async def _import_status(request: Request, key: str) -> dict:
    return await import_jobs.status_for(request.app.state.store, request.scope["user"], key)


def _import_context(status: dict) -> dict:
    failed = status["state"] == "failed"
    return {"status": status, "report": status["report"], "key": status["key"] if status["report"] else "",
            "filename": status["filename"], "errors": {"file": status["message"]} if failed else {}}


@get("/registry/import/{key:str}", opt=WRITE)
async def import_status(request: Request, key: FromPath[str]) -> Template:
    """The check's page: progress while it runs (polling itself), then the report."""
    status = await _import_status(request, key)
    return render("registry/import.html", tab="import", **_import_context(status))


@get("/registry/import/{key:str}/progress", opt=WRITE)
async def import_progress(request: Request, key: FromPath[str]) -> Template:
    status = await _import_status(request, key)
    template = "registry/_import_progress.html" if is_htmx(request) else "registry/import.html"
    return render(template, tab="import", **_import_context(status))


def _import_key(key: str) -> str:
    """An upload's key from the path: a uuid, else no such import (404)."""
    from server.forms import client_uuid

    try:
        return client_uuid({"k": key}, "k")
    except FormError:
        raise NotFoundException("导入记录不存在") from None


@post("/registry/import/{key:str}/commit", opt=WRITE)
async def import_commit(request: Request, key: FromPath[str]) -> Template:
    from server.storage import ObjectNotFound

    key = _import_key(key)
    store = request.app.state.store
    try:
        data = await store.get(import_jobs.file_key(key))
    except ObjectNotFound:
        return render("registry/import.html", status_code=409, report=None, key="", tab="import",
                      errors={"file": "该导入已完成或已过期，请重新上传文件"})
    report = await roster_import.run(data, request.scope["user"], write=True)
    if report.problems:  # the rejected rows stay downloadable after the file is gone
        await store.put(_rejected_key(key), roster_import.rejected_workbook(report), XLSX)
    await import_jobs.forget(store, key)
    return render("registry/import.html", report=report, key="", done_key=key, errors={}, tab="import")


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _rejected_key(key: str) -> str:
    return f"exports/imports/{key}-rejected.xlsx"


@get("/registry/import/{key:str}/rejected.xlsx", opt=WRITE)
async def import_rejected(request: Request, key: FromPath[str]) -> Response:
    """The rejected rows as typed with a 错误原因 column, to fix and send again: as the check
    found them (or from the waiting file) before the import is confirmed, from what the
    confirmation kept after."""
    from server.storage import ObjectNotFound

    key = _import_key(key)
    store = request.app.state.store
    try:
        content = await store.get(import_jobs.rejected_key(key))  # as the check found them
    except ObjectNotFound:
        content = None
    try:
        if content is None:
            content = roster_import.rejected_workbook(await roster_import.run(await store.get(import_jobs.file_key(key))))
    except ObjectNotFound:
        try:
            content = await store.get(_rejected_key(key))
        except ObjectNotFound:
            raise NotFoundException("导入记录不存在或已过期") from None
    return Response(content=content, media_type=XLSX, headers={
        "Content-Disposition": "attachment; filename*=UTF-8''%E5%90%8D%E5%86%8C%E5%AF%BC%E5%85%A5-%E6%9C%AA%E5%AF%BC%E5%85%A5%E7%9A%84%E8%A1%8C.xlsx"})


route_handlers = [
    sites, registry_home,
    units, unit_new, unit_page, unit_edit, unit_create, unit_update,
    site_list, site_new, site_page, site_edit, site_create, site_update,
    guards, guard_new, guard_page, guard_edit, guard_create, guard_update,
    reveal, portrait, portrait_upload, training_add, training_delete,
    pick, collection, import_page, import_template, import_preview, import_status, import_progress, import_commit,
    import_rejected,
]

__all__ = ["route_handlers", "UnitKind", "Sector"]
