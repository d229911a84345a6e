"""Setting up a district in the browser (office): the townships (乡镇街), the reporting bodies
(填报单位) with their liaison contact, the campaign itself (name, district, dates, weekly report
day), the wording of the eight checklist items, and the liaison accounts of each body.

Everything is written with its audit entry. Townships and bodies are never deleted: records
and accounts point to them; the office retires one (active = false) instead, and a retired one
is offered for nothing new.
"""

from __future__ import annotations

import json
from typing import Any

from litestar.exceptions import NotFoundException

from server.audit import service as audit
from server.auth import service as auth
from server.campaign.checklist import FOCUS_AREAS, worded
from server.campaign.options import options_of
from server.db import atomic
from server.errors import Conflict, FormError
from server.models.auth import User
from server.models.campaign import Body, Campaign, Township
from server.vocab import BodyScope, Role


# ---------------------------------------------------------------- townships

async def townships() -> list[dict[str, Any]]:
    rows = await Township.select().order_by(Township.ordinal).order_by(Township.id)
    used = {r["township"] for r in await Body.select(Body.township).where(Body.township.is_not_null())}
    return [{**r, "has_body": r["id"] in used} for r in rows]


async def save_township(user: Any, township_id: int | None, values: dict[str, Any]) -> Township:
    """values: name, ordinal, active."""
    async with atomic():
        clash = Township.exists().where(Township.name == values["name"])
        if township_id is not None:
            clash = clash.where(Township.id != township_id)
        if await clash:
            raise FormError({"name": f"已有名为“{values['name']}”的乡镇街"})
        if township_id is None:
            row = Township(ordinal=values.get("ordinal") or await Township.count() + 1)
        else:
            row = await Township.objects().where(Township.id == township_id).first()
            if row is None:
                raise NotFoundException("乡镇街不存在")
        if values.get("ordinal") is None:
            values = {k: v for k, v in values.items() if k != "ordinal"}
        return await audit.save(user, "township", row, values)


# ---------------------------------------------------------------- reporting bodies

async def bodies() -> list[dict[str, Any]]:
    rows = await Body.select(Body.all_columns(), Body.township.name).order_by(Body.ordinal).order_by(Body.id)
    accounts: dict[int, int] = {}
    for u in await User.select(User.body).where((User.role == Role.liaison) & (User.active == True)):  # noqa: E712
        accounts[u["body"]] = accounts.get(u["body"], 0) + 1
    return [{**r, "liaisons": accounts.get(r["id"], 0)} for r in rows]


async def body(body_id: int) -> dict[str, Any]:
    row = await Body.select(Body.all_columns(), Body.township.name).where(Body.id == body_id).first()
    if row is None:
        raise NotFoundException("填报单位不存在")
    return row


async def save_body(user: Any, body_id: int | None, values: dict[str, Any]) -> Body:
    """values: name, short_name, scope, sector, township, contact_name, contact_phone, active,
    is_police (validated by the route; the scope's rules are checked here)."""
    errors: dict[str, str] = {}
    if values["scope"] == BodyScope.sector and not values.get("sector"):
        errors["sector"] = "行业填报单位须选择行业"
    if values["scope"] == BodyScope.township and not values.get("township"):
        errors["township"] = "乡镇街填报单位须选择乡镇街"
    if values["scope"] != BodyScope.sector:
        values = {**values, "sector": None}
    if values["scope"] != BodyScope.township:
        values = {**values, "township": None}
    if values.get("township") and not await Township.exists().where(Township.id == values["township"]):
        errors["township"] = "所选乡镇街不存在"
    if errors:
        raise FormError(errors)
    async with atomic():
        clash = Body.exists().where(Body.name == values["name"])
        if body_id is not None:
            clash = clash.where(Body.id != body_id)
        if await clash:
            raise FormError({"name": f"已有名为“{values['name']}”的填报单位"})
        if body_id is None:
            row = Body(ordinal=await Body.count() + 1)
        else:
            row = await Body.objects().where(Body.id == body_id).first()
            if row is None:
                raise NotFoundException("填报单位不存在")
        return await audit.save(user, "body", row, values)


# ---------------------------------------------------------------- liaison accounts

async def accounts(body_id: int) -> list[dict[str, Any]]:
    return await User.select(User.id, User.username, User.display_name, User.role, User.active).where(
        User.body == body_id).order_by(User.username)


async def create_account(user: Any, body_id: int, values: dict[str, Any]) -> User:
    """values: username, display_name, password, role (liaison unless the body is the police's)."""
    row = await body(body_id)
    if not row["active"]:
        raise Conflict("该填报单位已停用，不能新建账号")
    try:
        return await auth.create_user(values["username"], values["password"], values["role"], row["name"],
                                      values["display_name"], actor=user)
    except auth.AuthError as exc:
        field = "password" if "密码" in str(exc) else "username"
        raise FormError({field: str(exc)}) from None


async def _account(body_id: int, user_id: int) -> User:
    row = await User.objects().where((User.id == user_id) & (User.body == body_id)).first()
    if row is None:
        raise NotFoundException("账号不存在")
    return row


async def reset_password(user: Any, body_id: int, user_id: int, password: str) -> None:
    row = await _account(body_id, user_id)
    try:
        await auth.set_password(row.username, password, actor=user)
    except auth.AuthError as exc:
        raise FormError({"password": str(exc)}) from None


async def set_account_active(user: Any, body_id: int, user_id: int, active: bool) -> None:
    row = await _account(body_id, user_id)
    if row.id == getattr(user, "id", None) and not active:
        raise Conflict("不能停用自己的账号")
    await auth.set_active(row.username, active, actor=user)


# ---------------------------------------------------------------- the campaign itself

async def save_campaign(user: Any, campaign_id: int | None, values: dict[str, Any]) -> Campaign:
    """values: name, district, starts_on, ends_on, weekly_weekday, weekly_from, weekly_until.
    A new campaign becomes the active one (the others are set inactive)."""
    errors: dict[str, str] = {}
    if values["starts_on"] > values["ends_on"]:
        errors["ends_on"] = "结束日期不能早于开始日期"
    if values.get("weekly_from") and values.get("weekly_until") and values["weekly_from"] > values["weekly_until"]:
        errors["weekly_until"] = "周报截止日期不能早于开始日期"
    if errors:
        raise FormError(errors)
    async with atomic():
        if campaign_id is None:
            if await Campaign.exists().where(Campaign.name == values["name"]):
                raise FormError({"name": f"已有名为“{values['name']}”的专项行动"})
            row = Campaign(active=True, options="{}")
            for other in await Campaign.objects().where(Campaign.active == True):  # noqa: E712
                await audit.save(user, "campaign", other, {"active": False})
        else:
            row = await Campaign.objects().where(Campaign.id == campaign_id).first()
            if row is None:
                raise NotFoundException("专项行动不存在")
        return await audit.save(user, "campaign", row, values)


def checklist_of(campaign: Any) -> list[dict[str, Any]]:
    """The eight items with the campaign's wording (Campaign.options["checklist"]) where the
    office set one; the numbers and statistics columns stay those of checklist.py."""
    return [{"number": a.number, "title": a.title, "question": a.question, "default_title": d.title,
             "default_question": d.question} for a, d in zip(worded(options_of(campaign)), FOCUS_AREAS)]


async def save_checklist(user: Any, campaign: Campaign, wording: dict[int, dict[str, str]]) -> None:
    before = options_of(campaign)
    after = {**before, "checklist": {str(n): w for n, w in sorted(wording.items())}}
    if after == before:
        return
    async with atomic():
        await Campaign.update({Campaign.options: json.dumps(after, ensure_ascii=False)}).where(
            Campaign.id == campaign.id)
        await audit.record("update_checklist", "campaign", campaign.id, actor=user,
                           before={"options": before}, after={"options": after})
    campaign.options = json.dumps(after, ensure_ascii=False)
