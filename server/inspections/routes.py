"""The officer's phone flow. Handlers read the form, call the service, render a fragment for
htmx or redirect (post/redirect/get) for a plain form."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar.params import FromPath
from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.response import Template

from server.cards import service as cards
from server.evidence import service as evidence
from server.evidence.images import ImageRejected
from server.errors import Conflict, FormError
from server.forms import choice, client_uuid, integer, new_uuid, number, text, tristate
from server.inspections import service
from server.inspections.checklist import BY_NUMBER as AREAS
from server.rectification import service as rectification
from server.vocab import Answer, Role
from server.web import go, is_htmx, render

EDIT_ROLES = {"roles": (Role.officer.value, Role.liaison.value)}


async def _context(request: Request, insp: Any, **extra: Any) -> dict[str, Any]:
    user = request.scope["user"]
    d = await service.detail(insp, with_roster=insp.officer == user.id)
    return {"d": d, "insp": d.insp, "can_edit": d.editable and insp.officer == user.id,
            "new_uuid": new_uuid, "errors": {},
            "before_after": await rectification.before_after(insp),  # 回头看: earlier findings beside these
            **extra}


async def _respond(request: Request, insp: Any, fragment: str, *, status: int = 200,
                   anchor: str = "", trigger: str | None = None, **extra: Any) -> Any:
    if is_htmx(request):
        ctx = await _context(request, insp, **extra)
        headers = {"HX-Trigger": trigger} if trigger else {}
        return render(fragment, status_code=status, headers=headers, **ctx)
    if status >= 400:
        ctx = await _context(request, insp, **extra)
        return render("inspections/page.html", status_code=status, **ctx)
    return go(request, f"/inspections/{insp.uuid}{anchor}")


async def _guarded(request: Request, uuid: str, fragment: str, action, *, anchor: str = "",
                   trigger: str | None = "findings-changed", **extra: Any) -> Any:
    """Run an edit; map refusals to the fragment with a message beside the field."""
    user = request.scope["user"]
    insp = await service.get_for(user, uuid)
    try:
        await action(user, insp)
    except FormError as exc:
        return await _respond(request, insp, fragment, status=422, anchor=anchor,
                              errors=exc.errors, **extra)
    except Conflict as exc:
        return await _respond(request, insp, fragment, status=409, anchor=anchor,
                              errors={"_": str(exc)}, **extra)
    return await _respond(request, insp, fragment, anchor=anchor, trigger=trigger, **extra)


@post("/inspections", opt=EDIT_ROLES)
async def start_inspection(request: Request) -> Any:
    form = await request.form()
    errors: dict[str, str] = {}
    site_id = integer(form, "site_id", label="服务目标", minimum=1, maximum=2**31, required=True, errors=errors)
    if errors:
        return go(request, "/")
    insp = await service.start(
        request.scope["user"], site_id, client_uuid(form),
        lat=number(form, "lat", lo=-90, hi=90), lng=number(form, "lng", lo=-180, hi=180))
    return go(request, f"/inspections/{insp.uuid}")


@get("/inspections/{uuid:str}", name="inspection")
async def inspection_page(request: Request, uuid: FromPath[str]) -> Template:
    insp = await service.get_for(request.scope["user"], uuid)
    ctx = await _context(request, insp)
    if ctx["can_edit"]:  # so a card scanned in a basement is still checked (issue 7)
        ctx["offline_cards"] = await cards.offline_roster(request.app.state.settings, ctx["d"].site)
    return render("inspections/page.html", **ctx)


@post("/inspections/{uuid:str}/checklist/{area:int}", opt=EDIT_ROLES)
async def save_answer(request: Request, uuid: FromPath[str], area: FromPath[int]) -> Any:
    form = await request.form()

    async def action(user, insp):
        if area not in AREAS:
            raise FormError({f"area{area}": "检查项不存在"})
        errors: dict[str, str] = {}
        answer = choice(form, "answer", {a.value for a in Answer}, label="检查结果", errors=errors)
        note = text(form, "note", label="备注", errors=errors)
        if errors:
            raise FormError({f"area{area}.{k}": v for k, v in errors.items()})
        await service.save_answer(user, insp, area, answer, note)

    return await _guarded(request, uuid, "inspections/_saved.html", action,
                          anchor=f"#area-{area}", prefix=f"area{area}.")


@post("/inspections/{uuid:str}/guards", opt=EDIT_ROLES)
async def add_guard(request: Request, uuid: FromPath[str]) -> Any:
    form = await request.form()

    async def action(user, insp):
        errors: dict[str, str] = {}
        guard_id = integer(form, "guard_id", label="保安员", minimum=1, maximum=2**31, errors=errors)
        cert = text(form, "certificate_no", label="保安员证号", max_len=32, errors=errors)
        name = text(form, "name", label="姓名", max_len=32, errors=errors)
        if errors:
            raise FormError(errors)
        await service.add_guard(user, insp, client_uuid(form), guard_id, cert, name)

    return await _guarded(request, uuid, "inspections/_guards.html", action, anchor="#guards")


@post("/inspections/{uuid:str}/guards/{check_id:int}", opt=EDIT_ROLES)
async def update_guard(request: Request, uuid: FromPath[str], check_id: FromPath[int]) -> Any:
    form = await request.form()

    async def action(user, insp):
        errors: dict[str, str] = {}
        values = {k: tristate(form, k) for k in ("certificate_shown", "uniform_ok", "insignia_ok", "tejin_marking")}
        values["note"] = text(form, "note", label="备注", errors=errors)
        if errors:
            raise FormError({f"guard{check_id}.{k}": v for k, v in errors.items()})
        await service.update_guard(user, insp, check_id, values)

    return await _guarded(request, uuid, "inspections/_saved.html", action, anchor=f"#guard-{check_id}",
                          prefix=f"guard{check_id}.")


@post("/inspections/{uuid:str}/guards/{check_id:int}/remove", opt=EDIT_ROLES)
async def remove_guard(request: Request, uuid: FromPath[str], check_id: FromPath[int]) -> Any:
    async def action(user, insp):
        await service.remove_guard(user, insp, check_id)

    return await _guarded(request, uuid, "inspections/_guards.html", action, anchor="#guards")


def _finding_values(form: Any, errors: dict[str, str]) -> tuple[int | None, int, str]:
    column = integer(form, "stat_column", label="统计栏目", minimum=8, maximum=16, errors=errors)
    quantity = integer(form, "quantity", label="数量", minimum=1, maximum=999, errors=errors) or 1
    body = text(form, "text", label="问题描述", required=True, errors=errors)
    return column, quantity, body


@get("/inspections/{uuid:str}/findings")
async def findings_fragment(request: Request, uuid: FromPath[str]) -> Template:
    insp = await service.get_for(request.scope["user"], uuid)
    return render("inspections/_findings.html", **await _context(request, insp))


@post("/inspections/{uuid:str}/findings", opt=EDIT_ROLES)
async def add_finding(request: Request, uuid: FromPath[str]) -> Any:
    form = await request.form()

    async def action(user, insp):
        errors: dict[str, str] = {}
        area = integer(form, "area", label="检查项", minimum=1, maximum=8, required=True, errors=errors)
        column, quantity, body = _finding_values(form, errors)
        if errors:
            raise FormError({f"new.{k}": v for k, v in errors.items()})
        if column is not None and column not in AREAS[area].columns:
            raise FormError({"new.stat_column": "该统计栏目与所选检查项不对应"})
        await service.add_finding(user, insp, client_uuid(form), area, column, quantity, body)

    return await _guarded(request, uuid, "inspections/_findings.html", action, anchor="#findings", trigger=None)


@post("/inspections/{uuid:str}/findings/{finding_id:int}", opt=EDIT_ROLES)
async def update_finding(request: Request, uuid: FromPath[str], finding_id: FromPath[int]) -> Any:
    form = await request.form()

    async def action(user, insp):
        errors: dict[str, str] = {}
        column, quantity, body = _finding_values(form, errors)
        if errors:
            raise FormError({f"finding{finding_id}.{k}": v for k, v in errors.items()})
        await service.update_finding(user, insp, finding_id, column, quantity, body)

    return await _guarded(request, uuid, "inspections/_findings.html", action,
                          anchor=f"#finding-{finding_id}", trigger=None)


@post("/inspections/{uuid:str}/findings/{finding_id:int}/delete", opt=EDIT_ROLES)
async def delete_finding(request: Request, uuid: FromPath[str], finding_id: FromPath[int]) -> Any:
    async def action(user, insp):
        await service.delete_finding(user, insp, finding_id)

    return await _guarded(request, uuid, "inspections/_findings.html", action, anchor="#findings", trigger=None)


def _parse_target(raw: str) -> tuple[str, int | None, int | None]:
    kind, _, ident = raw.partition(":")
    if kind == "guard" and ident.isdigit():
        return raw, int(ident), None
    if kind == "finding" and ident.isdigit():
        return raw, None, int(ident)
    return "general", None, None


def _parse_time(raw: str) -> dt.datetime | None:
    try:
        value = dt.datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))


@post("/inspections/{uuid:str}/photos", opt=EDIT_ROLES)
async def upload_photo(request: Request, uuid: FromPath[str]) -> Any:
    form = await request.form()
    target, guard_check, finding = _parse_target(str(form.get("target") or ""))
    field = f"photo:{target}"

    async def action(user, insp):
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise FormError({field: "请选择或拍摄一张照片"})
        data = await upload.read()
        try:
            await evidence.ingest(
                request.app.state.store, request.app.state.settings, user, insp,
                uuid=client_uuid(form, "photo_uuid"), data=data, guard_check=guard_check,
                finding=finding, captured_at=_parse_time(str(form.get("captured_at") or "")),
                lat=number(form, "lat", lo=-90, hi=90), lng=number(form, "lng", lo=-180, hi=180))
        except ImageRejected as exc:
            raise FormError({field: str(exc)}) from None

    return await _guarded(request, uuid, "inspections/_photos.html", action,
                          anchor=f"#{target.replace(':', '-')}", trigger=None, target=target,
                          guard_check=guard_check, finding=finding)


@post("/inspections/{uuid:str}/submit", opt=EDIT_ROLES)
async def submit(request: Request, uuid: FromPath[str]) -> Any:
    user = request.scope["user"]
    insp = await service.get_for(user, uuid)
    problems = await service.submit(user, insp)
    if problems:
        errors = {f"area{a}.answer": m for a, m in problems.areas.items()}
        ctx = await _context(request, insp, errors=errors, problems=problems.messages())
        return render("inspections/page.html", status_code=422, **ctx)
    return go(request, f"/inspections/{insp.uuid}")


route_handlers = [
    start_inspection, inspection_page, save_answer, add_guard, update_guard, remove_guard,
    findings_fragment, add_finding, update_finding, delete_finding, upload_photo, submit,
]
