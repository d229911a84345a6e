"""专项设置: the office edits the campaign's phases, reporting deadlines and options (default
rectification days per focus area, the legal-basis text of the notice, the notice number's
prefix, the clue response period), the count date of the statistics table; and what is due, per reporting body."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from server import clock

from server.campaign import service, setup_routes
from server.models.campaign import Body
from server.errors import FormError
from server.forms import MAX_ID, choice, date_field, integer, text
from server.campaign.checklist import AREA_NUMBERS
from server.campaign.options import COUNT_ON, MAX_RECTIFY_DAYS
from server.vocab import Role
from server.web import act, render, roles

OFFICE = roles(Role.office)


async def _settings_context(**extra: Any) -> dict[str, Any]:
    return await setup_routes.settings_context(**extra)


@get("/campaign", opt=OFFICE, name="campaign_settings")
async def settings_page(request: Request) -> Any:
    if await service.active_campaign() is None:  # a new install: set one up first
        return Redirect(path="/campaign/new", status_code=303)
    return render("campaign/settings.html", **await _settings_context())


async def _save(request: Request, action, anchor: str, form_key: str) -> Any:
    """One of the settings page's forms; a refusal shows the page again with what was typed."""
    form = await request.form()
    campaign = await service.require_active()
    return await act(request, lambda: action(request.scope["user"], campaign, form), page="campaign/settings.html",
                     context=lambda errors: _settings_context(errors=errors, values={form_key: dict(form)}),
                     redirect=f"/campaign{anchor}", prefix=f"{form_key}.")


@post("/campaign/options", opt=OFFICE)
async def save_options(request: Request) -> Any:
    async def action(user, campaign, form):
        errors: dict[str, str] = {}
        days = {}
        for a in AREA_NUMBERS:
            days[a] = integer(form, f"days{a}", label=f"第{a}项整改天数", minimum=1, maximum=MAX_RECTIFY_DAYS,
                              required=True, errors=errors)
        values = {
            "rectify_days": days,
            "legal_basis": text(form, "legal_basis", label="法律依据", max_len=1000, required=True, errors=errors),
            "notice_prefix": text(form, "notice_prefix", label="通知书文号前缀", max_len=16, required=True, errors=errors),
            "clue_response_days": integer(form, "clue_response_days", label="线索答复期限", minimum=1, maximum=60,
                                          required=True, errors=errors),
        }
        if errors:
            raise FormError(errors)
        await service.save_options(user, campaign, values)

    return await _save(request, action, "#options", "options")


@post("/campaign/counting", opt=OFFICE)
async def save_counting(request: Request) -> Any:
    async def action(user, campaign, form):
        errors: dict[str, str] = {}
        value = choice(form, "count_on", set(COUNT_ON), label="统计日期", errors=errors)
        if errors:
            raise FormError(errors)
        await service.save_count_on(user, campaign, value)

    return await _save(request, action, "#counting", "counting")


def _phase_values(form: Any) -> dict[str, Any]:
    errors: dict[str, str] = {}
    values = {
        "name": text(form, "name", label="阶段名称", max_len=64, required=True, errors=errors),
        "starts_on": date_field(form, "starts_on", label="开始日期", errors=errors, required=True),
        "ends_on": date_field(form, "ends_on", label="结束日期", errors=errors, required=True),
        "description": text(form, "description", label="工作内容", errors=errors),
    }
    if errors:
        raise FormError(errors)
    return values


async def _save_phase(request: Request, phase_id: int | None) -> Any:
    async def action(user, campaign, form):
        await service.save_phase(user, campaign, phase_id, _phase_values(form))

    return await _save(request, action, "#phases", f"phase{phase_id}" if phase_id else "phase_new")


@post("/campaign/phases", opt=OFFICE)
async def add_phase(request: Request) -> Any:
    return await _save_phase(request, None)


@post("/campaign/phases/{phase_id:int}", opt=OFFICE)
async def edit_phase(request: Request, phase_id: FromPath[int]) -> Any:
    return await _save_phase(request, phase_id)


def _deadline_values(form: Any) -> dict[str, Any]:
    errors: dict[str, str] = {}
    body = integer(form, "body", label="填报单位", minimum=1, maximum=MAX_ID, errors=errors)
    values = {
        "title": text(form, "title", label="报送事项", max_len=128, required=True, errors=errors),
        "due_on": date_field(form, "due_on", label="截止日期", errors=errors, required=True),
        "kind": text(form, "kind", label="类别", max_len=32, errors=errors) or "other",
        "body": body,
    }
    if errors:
        raise FormError(errors)
    return values


async def _save_deadline(request: Request, deadline_id: int | None) -> Any:
    async def action(user, campaign, form):
        await service.save_deadline(user, campaign, deadline_id, _deadline_values(form))

    return await _save(request, action, "#deadlines", f"deadline{deadline_id}" if deadline_id else "deadline_new")


@post("/campaign/deadlines", opt=OFFICE)
async def add_deadline(request: Request) -> Any:
    return await _save_deadline(request, None)


@post("/campaign/deadlines/{deadline_id:int}", opt=OFFICE)
async def edit_deadline(request: Request, deadline_id: FromPath[int]) -> Any:
    return await _save_deadline(request, deadline_id)


@post("/campaign/deadlines/{deadline_id:int}/delete", opt=OFFICE)
async def delete_deadline(request: Request, deadline_id: FromPath[int]) -> Any:
    async def action(user, campaign, form):
        await service.delete_deadline(user, campaign, deadline_id)

    return await _save(request, action, "#deadlines", f"deadline{deadline_id}")


@get("/campaign/due", name="campaign_due")
async def due(request: Request) -> Template:
    """What each body has to do. The office and leaders see every body; everyone else their own."""
    user = request.scope["user"]
    campaign = await service.require_active()
    query = Body.select(Body.id, Body.name, Body.is_police).order_by(Body.ordinal).order_by(Body.id)
    if user.role not in (Role.office, Role.leader):
        query = query.where(Body.id == (user.body_id or 0))
    else:  # a retired body reports nothing more
        query = query.where(Body.active == True)  # noqa: E712
    day = clock.today()
    bodies = [{**b, "items": await service.due_for_body(campaign, b, day)} for b in await query]
    return render("campaign/due.html", bodies=bodies, today=day, campaign=campaign)


route_handlers = [settings_page, save_options, save_counting, add_phase, edit_phase, add_deadline, edit_deadline,
                  delete_deadline, due, *setup_routes.route_handlers]
