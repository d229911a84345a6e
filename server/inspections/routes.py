"""The officer's phone flow. Handlers read the form, call the service, render a fragment for
htmx or redirect (post/redirect/get) for a plain form."""

from __future__ import annotations

from typing import Any, Callable

from litestar.params import FromPath
from litestar import Request, get, post
from litestar.response import Template

from server.cards import service as cards
from server.errors import FormError
from server.forms import MAX_ID, choice, client_uuid, integer, number, text, tristate
from server.inspections import service
from server.campaign.checklist import BY_NUMBER as AREAS
from server.registry import service as registry
from server.vocab import Answer, Role
from server.web import act, go, render, roles

EDIT_ROLES = roles(Role.officer, Role.liaison)


async def _guarded(request: Request, uuid: str, fragment: str, action, *,
                   anchor: str | Callable[[Any], str] = "", trigger: str | None = "findings-changed",
                   conflict_field: str = "_", **extra: Any) -> Any:
    """Run an edit of the inspection; a refusal answers with the message beside the field.
    `anchor` is where the page opens after a plain form (or a function of what the edit
    returned)."""
    user = request.scope["user"]
    insp = await service.get_for(user, uuid)
    return await act(
        request, lambda: action(user, insp), fragment=fragment, page="inspections/page.html",
        context=lambda errors: service.page_context(user, insp, errors=errors, **extra),
        redirect=lambda result: f"/inspections/{insp.uuid}{anchor(result) if callable(anchor) else anchor}",
        conflict_field=conflict_field, headers={"HX-Trigger": trigger} if trigger else None)


@post("/inspections", opt=EDIT_ROLES)
async def start_inspection(request: Request) -> Any:
    form = await request.form()
    errors: dict[str, str] = {}
    site_id = integer(form, "site_id", label="服务目标", minimum=1, maximum=MAX_ID, required=True, errors=errors)
    if errors:
        return go(request, "/")
    insp = await service.start(
        request.scope["user"], site_id, client_uuid(form),
        lat=number(form, "lat", lo=-90, hi=90), lng=number(form, "lng", lo=-180, hi=180))
    return go(request, f"/inspections/{insp.uuid}")


@get("/inspections/{uuid:str}", name="inspection")
async def inspection_page(request: Request, uuid: FromPath[str]) -> Template:
    user = request.scope["user"]
    insp = await service.get_for(user, uuid)
    ctx = await service.page_context(user, insp)
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


@post("/inspections/{uuid:str}/checklist/all-ok", opt=EDIT_ROLES)
async def answer_all_ok(request: Request, uuid: FromPath[str]) -> Any:
    """全部符合: one tap for a clean site; the officer then changes the exceptions."""
    return await _guarded(request, uuid, "inspections/_checklist.html", service.answer_all_ok, anchor="#checklist")


@get("/inspections/{uuid:str}/missing")
async def missing_fragment(request: Request, uuid: FromPath[str]) -> Template:
    """What is still to do before submitting (refreshed whenever the findings change)."""
    user = request.scope["user"]
    insp = await service.get_for(user, uuid)
    return render("inspections/_missing.html", **await service.page_context(user, insp))


@post("/inspections/{uuid:str}/guards", opt=EDIT_ROLES)
async def add_guard(request: Request, uuid: FromPath[str]) -> Any:
    form = await request.form()

    async def action(user, insp):
        errors: dict[str, str] = {}
        guard_id = integer(form, "guard_id", label="保安员", minimum=1, maximum=MAX_ID, errors=errors)
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


@post("/inspections/{uuid:str}/guards/{check_id:int}/all-ok", opt=EDIT_ROLES)
async def guard_all_ok(request: Request, uuid: FromPath[str], check_id: FromPath[int]) -> Any:
    async def action(user, insp):
        await service.guard_all_ok(user, insp, check_id)

    return await _guarded(request, uuid, "inspections/_guards.html", action, anchor=f"#guard-{check_id}")


@post("/inspections/{uuid:str}/guards/{check_id:int}/remove", opt=EDIT_ROLES)
async def remove_guard(request: Request, uuid: FromPath[str], check_id: FromPath[int]) -> Any:
    async def action(user, insp):
        await service.remove_guard(user, insp, check_id)

    return await _guarded(request, uuid, "inspections/_guards.html", action, anchor="#guards")


def _offender_values(form: Any, errors: dict[str, str]) -> dict[str, Any]:
    """The 违法主体 a finding's form names: one of the parties offered (a unit id), or another
    unit by name or credit code."""
    return {"offender_id": integer(form, "offender", label="违法主体", minimum=1, maximum=2**31, errors=errors),
            "offender_name": text(form, "offender_name", label="其他单位名称", max_len=128, errors=errors)}


def _finding_values(form: Any, errors: dict[str, str]) -> tuple[int | None, int, str]:
    column = integer(form, "stat_column", label="统计栏目", minimum=8, maximum=16, errors=errors)
    quantity = integer(form, "quantity", label="数量", minimum=1, maximum=999, errors=errors) or 1
    body = text(form, "text", label="问题描述", required=True, errors=errors)
    return column, quantity, body


@get("/inspections/{uuid:str}/findings")
async def findings_fragment(request: Request, uuid: FromPath[str]) -> Template:
    user = request.scope["user"]
    insp = await service.get_for(user, uuid)
    return render("inspections/_findings.html", **await service.page_context(user, insp))


@post("/inspections/{uuid:str}/findings", opt=EDIT_ROLES)
async def add_finding(request: Request, uuid: FromPath[str]) -> Any:
    form = await request.form()

    async def action(user, insp):
        errors: dict[str, str] = {}
        area = integer(form, "area", label="检查项", minimum=1, maximum=8, required=True, errors=errors)
        column, quantity, body = _finding_values(form, errors)
        offender = _offender_values(form, errors)
        if errors:
            raise FormError({f"new.{k}": v for k, v in errors.items()})
        if column is not None and column not in AREAS[area].columns:
            raise FormError({"new.stat_column": "该统计栏目与所选检查项不对应"})
        await service.add_finding(user, insp, client_uuid(form), area, column, quantity, body, **offender)

    return await _guarded(request, uuid, "inspections/_findings.html", action, anchor="#findings", trigger=None)


@post("/inspections/{uuid:str}/findings/{finding_id:int}", opt=EDIT_ROLES)
async def update_finding(request: Request, uuid: FromPath[str], finding_id: FromPath[int]) -> Any:
    form = await request.form()

    async def action(user, insp):
        errors: dict[str, str] = {}
        column, quantity, body = _finding_values(form, errors)
        offender = _offender_values(form, errors)
        if errors:
            raise FormError({f"finding{finding_id}.{k}": v for k, v in errors.items()})
        await service.update_finding(user, insp, finding_id, column, quantity, body, **offender)

    return await _guarded(request, uuid, "inspections/_findings.html", action,
                          anchor=f"#finding-{finding_id}", trigger=None)


@post("/inspections/{uuid:str}/findings/{finding_id:int}/delete", opt=EDIT_ROLES)
async def delete_finding(request: Request, uuid: FromPath[str], finding_id: FromPath[int]) -> Any:
    async def action(user, insp):
        await service.delete_finding(user, insp, finding_id)

    return await _guarded(request, uuid, "inspections/_findings.html", action, anchor="#findings", trigger=None)


@post("/inspections/{uuid:str}/scan", opt=EDIT_ROLES)
async def scan_into_inspection(request: Request, uuid: FromPath[str]) -> Any:
    """A card scanned at the site: the guard joins the inspection with the card's verdict."""
    form = await request.form()
    settings = request.app.state.settings
    scan: dict[str, Any] = {}

    async def action(user, insp):
        try:
            text = await cards.scanned_text(settings, form)
            check_uuid = client_uuid(form)
        except FormError as exc:  # one message, beside the scanner
            raise FormError({"scan": next(iter(exc.errors.values()))}) from None
        if text.startswith("cert:"):  # typed number: the inspection's own rules decide
            check = await service.add_guard(user, insp, check_uuid, None, text[5:], "")
        else:
            site = await registry.get_site(user.scope, insp.site) or {}
            result = await cards.check(settings, text, registry.site_employer_ids(site) if site else set())
            guard = result.guard
            check = await service.add_guard(
                user, insp, check_uuid, guard["id"] if guard else None,
                (guard or {}).get("certificate_no") or "", "", verdict=result.verdict)
            scan["reason"] = result.reason
        scan["check_id"] = check.id
        return check

    return await _guarded(request, uuid, "inspections/_guards.html", action,
                          anchor=lambda check: f"#guard-{check.id}", trigger=None, conflict_field="scan",
                          scan=scan)


@post("/inspections/{uuid:str}/submit", opt=EDIT_ROLES)
async def submit(request: Request, uuid: FromPath[str]) -> Any:
    user = request.scope["user"]
    insp = await service.get_for(user, uuid)
    problems = await service.submit(user, insp)
    if problems:
        errors = {f"area{a}.answer": m for a, m in problems.areas.items()}
        ctx = await service.page_context(user, insp, errors=errors, problems=problems.messages())
        return render("inspections/page.html", status_code=422, **ctx)
    return go(request, f"/inspections/{insp.uuid}")


route_handlers = [
    start_inspection, inspection_page, save_answer, answer_all_ok, missing_fragment, add_guard, update_guard,
    guard_all_ok, remove_guard,
    findings_fragment, add_finding, update_finding, delete_finding, scan_into_inspection, submit,
]
