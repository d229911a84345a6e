"""Survey registrations: a liaison adds units and guards of its scope (/survey); the office
lists the unconfirmed additions and confirms them (/registry/additions)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from server.errors import FormError
from server.registry import service, survey
from server.vocab import Role, Sector
from server.web import act, go, render, roles

LIAISON = roles(Role.liaison)
OFFICE = roles(Role.office)


@get("/survey", opt=LIAISON)
async def survey_page(request: Request) -> Template:
    user = request.scope["user"]
    return render("registry/survey.html", **await survey.additions_of(user.body_id), body_name=user.body_name)


async def _unit_context(request: Request, v: dict, errors: dict) -> dict[str, Any]:
    user = request.scope["user"]
    return {"v": v, "errors": errors, "forced": survey.forced_fields(user), "kinds": survey.LIAISON_UNIT_KINDS,
            "sectors": Sector.options(),
            "townships": [(t["id"], t["name"]) for t in await service.townships(offered=True)]}


@get("/survey/units/new", opt=LIAISON)
async def unit_new(request: Request) -> Template:
    return render("registry/survey_unit.html", **await _unit_context(request, {}, {}))


@post("/survey/units", opt=LIAISON)
async def unit_create(request: Request) -> Any:
    user = request.scope["user"]
    form = await request.form()

    async def add() -> None:
        townships = {t["id"] for t in await service.townships(offered=True)}
        values, errors = survey.unit_form_values(user, form, townships)
        if errors:
            raise FormError(errors)
        await survey.add_unit(user, values)

    return await act(request, add, page="registry/survey_unit.html", redirect="/survey",
                     context=lambda errors: _unit_context(request, dict(form), errors))


async def _guard_context(request: Request, v: dict, errors: dict) -> dict[str, Any]:
    return {"v": v, "errors": errors, "units": await survey.unit_choices(request.scope["user"])}


@get("/survey/guards/new", opt=LIAISON)
async def guard_new(request: Request) -> Template:
    return render("registry/survey_guard.html", **await _guard_context(request, {}, {}))


@post("/survey/guards", opt=LIAISON)
async def guard_create(request: Request) -> Any:
    user = request.scope["user"]
    form = await request.form()

    async def add() -> None:
        values, errors = await survey.guard_form_values(user, form)
        if errors:
            raise FormError(errors)
        await survey.add_guard(user, values)

    return await act(request, add, page="registry/survey_guard.html", redirect="/survey",
                     context=lambda errors: _guard_context(request, dict(form), errors))


@get("/registry/additions", opt=OFFICE)
async def additions() -> Template:
    return render("registry/additions.html", **await survey.unconfirmed(), tab="additions")


@post("/registry/additions/{kind:str}/{row_id:int}/confirm", opt=OFFICE)
async def confirm(request: Request, kind: FromPath[str], row_id: FromPath[int]) -> Any:
    if kind not in ("units", "guards"):
        raise NotFoundException("没有这种记录")
    await survey.confirm(request.scope["user"], kind, row_id)
    return go(request, "/registry/additions")


route_handlers = [survey_page, unit_new, unit_create, guard_new, guard_create, additions, confirm]
