"""The office's set-up screens (handlers; listed in campaign/routes.py): townships, reporting
bodies with their liaison contact and accounts, the campaign's basics and the checklist wording.
The rules are in campaign/setup.py; these read the forms and answer with web.act."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Template

from server.campaign import service, setup
from server.campaign.checklist import AREA_NUMBERS
from server.errors import FormError
from server.forms import MAX_ID, choice, date_field, integer, text
from server.vocab import BodyScope, Role, Sector
from server.web import act, render, roles

OFFICE = roles(Role.office)
WEEKDAYS = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]


# ---------------------------------------------------------------- townships

async def _townships_context(errors: dict[str, str] | None = None, values: dict | None = None) -> dict[str, Any]:
    return {"townships": await setup.townships(), "errors": errors or {}, "values": values or {}}


@get("/campaign/townships", opt=OFFICE, name="setup_townships")
async def townships_page() -> Template:
    return render("campaign/townships.html", **await _townships_context())


def _township_values(form: Any) -> dict[str, Any]:
    errors: dict[str, str] = {}
    values = {"name": text(form, "name", label="乡镇街名称", max_len=64, required=True, errors=errors),
              "ordinal": integer(form, "ordinal", label="排序", minimum=0, maximum=9999, errors=errors),
              "active": form.get("active") == "on"}
    if errors:
        raise FormError(errors)
    return values


async def _save_township(request: Request, township_id: int | None) -> Any:
    form = await request.form()
    key = f"t{township_id}" if township_id else "t_new"
    return await act(request, lambda: setup.save_township(request.scope["user"], township_id, _township_values(form)),
                     page="campaign/townships.html", prefix=f"{key}.",
                     context=lambda errors: _townships_context(errors, {key: dict(form)}),
                     redirect="/campaign/townships")


@post("/campaign/townships", opt=OFFICE)
async def add_township(request: Request) -> Any:
    return await _save_township(request, None)


@post("/campaign/townships/{township_id:int}", opt=OFFICE)
async def edit_township(request: Request, township_id: FromPath[int]) -> Any:
    return await _save_township(request, township_id)


# ---------------------------------------------------------------- bodies

def _body_values(form: Any) -> dict[str, Any]:
    errors: dict[str, str] = {}
    values = {
        "name": text(form, "name", label="填报单位名称", max_len=64, required=True, errors=errors),
        "short_name": text(form, "short_name", label="简称", max_len=32, errors=errors),
        "scope": choice(form, "scope", {s.value for s in BodyScope}, label="填报范围", errors=errors),
        "sector": choice(form, "sector", {s.value for s in Sector}, label="行业", required=False, errors=errors) or None,
        "township": integer(form, "township", label="乡镇街", minimum=1, maximum=MAX_ID, errors=errors),
        "contact_name": text(form, "contact_name", label="联络员", max_len=64, errors=errors),
        "contact_phone": text(form, "contact_phone", label="联系电话", max_len=32, errors=errors),
        "is_police": form.get("is_police") == "on",
        "active": form.get("active") == "on",
    }
    phone = values["contact_phone"]
    if phone and not all(ch.isdigit() or ch in "-+ ()转" for ch in phone):
        errors["contact_phone"] = "联系电话只能包含数字和 - ( ) 等符号"
    if errors:
        raise FormError(errors)
    return values


async def _bodies_context(errors: dict[str, str] | None = None, values: dict | None = None) -> dict[str, Any]:
    return {"bodies": await setup.bodies(), "townships": await setup.townships(), "errors": errors or {},
            "values": values or {}, "body": None}


@get("/campaign/bodies", opt=OFFICE, name="setup_bodies")
async def bodies_page() -> Template:
    return render("campaign/bodies.html", **await _bodies_context())


@post("/campaign/bodies", opt=OFFICE)
async def add_body(request: Request) -> Any:
    form = await request.form()
    return await act(request, lambda: setup.save_body(request.scope["user"], None, _body_values(form)),
                     page="campaign/bodies.html", context=lambda errors: _bodies_context(errors, dict(form)),
                     redirect=lambda row: f"/campaign/bodies/{row.id}")


async def _body_context(body_id: int, errors: dict[str, str] | None = None, values: dict | None = None) -> dict[str, Any]:
    return {"body": await setup.body(body_id), "accounts": await setup.accounts(body_id),
            "townships": await setup.townships(), "errors": errors or {}, "values": values or {}}


@get("/campaign/bodies/{body_id:int}", opt=OFFICE)
async def body_page(body_id: FromPath[int]) -> Template:
    return render("campaign/body.html", **await _body_context(body_id))


async def _body_action(request: Request, body_id: int, action, key: str) -> Any:
    form = await request.form()
    return await act(request, lambda: action(request.scope["user"], form), page="campaign/body.html",
                     prefix=f"{key}.", conflict_field=f"{key}._",
                     context=lambda errors: _body_context(body_id, errors, {key: dict(form)}),
                     redirect=f"/campaign/bodies/{body_id}")


@post("/campaign/bodies/{body_id:int}", opt=OFFICE)
async def edit_body(request: Request, body_id: FromPath[int]) -> Any:
    return await _body_action(request, body_id, lambda user, form: setup.save_body(user, body_id, _body_values(form)),
                              "body")


@post("/campaign/bodies/{body_id:int}/accounts", opt=OFFICE)
async def add_account(request: Request, body_id: FromPath[int]) -> Any:
    async def action(user, form):
        errors: dict[str, str] = {}
        values = {
            "username": text(form, "username", label="用户名", max_len=64, required=True, errors=errors),
            "display_name": text(form, "display_name", label="姓名", max_len=64, required=True, errors=errors),
            "password": str(form.get("password") or ""),
            "role": choice(form, "role", {Role.liaison.value, Role.officer.value, Role.office.value,
                                          Role.leader.value}, label="角色", errors=errors),
        }
        if not values["password"]:
            errors["password"] = "请填写初始密码"
        if values["role"] and values["role"] != Role.liaison:
            row = await setup.body(body_id)
            if not row["is_police"]:
                errors["role"] = "只有公安机关的填报单位可以开民警、办公室或领导账号"
        if errors:
            raise FormError(errors)
        await setup.create_account(user, body_id, values)

    return await _body_action(request, body_id, action, "account")


@post("/campaign/bodies/{body_id:int}/accounts/{user_id:int}/password", opt=OFFICE)
async def reset_password(request: Request, body_id: FromPath[int], user_id: FromPath[int]) -> Any:
    async def action(user, form):
        await setup.reset_password(user, body_id, user_id, str(form.get("password") or ""))

    return await _body_action(request, body_id, action, f"pw{user_id}")


@post("/campaign/bodies/{body_id:int}/accounts/{user_id:int}/active", opt=OFFICE)
async def set_account_active(request: Request, body_id: FromPath[int], user_id: FromPath[int]) -> Any:
    async def action(user, form):
        await setup.set_account_active(user, body_id, user_id, form.get("active") == "1")

    return await _body_action(request, body_id, action, f"acc{user_id}")


# ---------------------------------------------------------------- the campaign itself

def _campaign_values(form: Any) -> dict[str, Any]:
    errors: dict[str, str] = {}
    values = {
        "name": text(form, "name", label="专项行动名称", max_len=128, required=True, errors=errors),
        "district": text(form, "district", label="辖区", max_len=32, required=True, errors=errors),
        "starts_on": date_field(form, "starts_on", label="开始日期", errors=errors, required=True),
        "ends_on": date_field(form, "ends_on", label="结束日期", errors=errors, required=True),
        "weekly_weekday": integer(form, "weekly_weekday", label="周报日", minimum=0, maximum=6, required=True,
                                  errors=errors),
        "weekly_from": date_field(form, "weekly_from", label="周报开始日期", errors=errors),
        "weekly_until": date_field(form, "weekly_until", label="周报截止日期", errors=errors),
    }
    if errors:
        raise FormError(errors)
    return values


async def _new_context(errors: dict[str, str] | None = None, values: dict | None = None) -> dict[str, Any]:
    return {"errors": errors or {}, "values": values or {}, "WEEKDAYS": WEEKDAYS,
            "has_townships": bool(await setup.townships()), "has_bodies": bool(await setup.bodies())}


@get("/campaign/new", opt=OFFICE)
async def new_campaign_page() -> Template:
    return render("campaign/new.html", **await _new_context())


@post("/campaign/new", opt=OFFICE)
async def create_campaign(request: Request) -> Any:
    form = await request.form()
    return await act(request, lambda: setup.save_campaign(request.scope["user"], None, _campaign_values(form)),
                     page="campaign/new.html", context=lambda errors: _new_context(errors, dict(form)),
                     redirect="/campaign")


async def settings_context(**extra: Any) -> dict[str, Any]:
    """The context of the /campaign settings page (campaign/routes.py renders it too)."""
    campaign = await service.require_active()
    return {**await service.settings(campaign), "errors": {}, "values": {}, "AREA_NUMBERS": AREA_NUMBERS,
            "checklist": setup.checklist_of(campaign), "WEEKDAYS": WEEKDAYS, **extra}


async def _settings_page_context(errors: dict[str, str], form_key: str, form: Any) -> dict[str, Any]:
    return await settings_context(errors=errors, values={form_key: dict(form)})


@post("/campaign/info", opt=OFFICE)
async def edit_campaign(request: Request) -> Any:
    form = await request.form()
    campaign = await service.require_active()
    return await act(request, lambda: setup.save_campaign(request.scope["user"], campaign.id, _campaign_values(form)),
                     page="campaign/settings.html", prefix="info.",
                     context=lambda errors: _settings_page_context(errors, "info", form), redirect="/campaign#info")


@post("/campaign/checklist", opt=OFFICE)
async def edit_checklist(request: Request) -> Any:
    form = await request.form()
    campaign = await service.require_active()

    async def action():
        errors: dict[str, str] = {}
        wording = {a: {"title": text(form, f"title{a}", label=f"第{a}项名称", max_len=32, required=True, errors=errors),
                       "question": text(form, f"question{a}", label=f"第{a}项检查内容", max_len=200, required=True,
                                        errors=errors)} for a in AREA_NUMBERS}
        if errors:
            raise FormError(errors)
        await setup.save_checklist(request.scope["user"], campaign, wording)

    return await act(request, action, page="campaign/settings.html", prefix="checklist.",
                     context=lambda errors: _settings_page_context(errors, "checklist", form),
                     redirect="/campaign#checklist")


route_handlers = [townships_page, add_township, edit_township, bodies_page, add_body, body_page, edit_body,
                  add_account, reset_password, set_account_active, new_campaign_page, create_campaign,
                  edit_campaign, edit_checklist]
