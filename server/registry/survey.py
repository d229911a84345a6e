"""Liaisons' registrations during the survey (调查摸底): a liaison adds units and guards of its
own sector or township; each is marked as its body's addition and unconfirmed until the
office has checked it (and corrected it where needed, through the usual edit forms) and
confirmed it. Every step goes through the audit."""

from __future__ import annotations

from typing import Any, Mapping

from litestar.exceptions import NotFoundException

from server.audit import service as audit
from server.auth.scope import CurrentUser
from server.db import atomic
from server.models.campaign import Body
from server.models.registry import Guard, Unit
from server.registry import forms
from server.registry import service as registry
from server.vocab import BodyScope, UnitKind

# What a liaison may register: every kind but a security company (licensed by the police)
# and an illegal organisation (a clue for the police, server/rectification/clues.py).
LIAISON_UNIT_KINDS = [(k.value, k.label) for k in UnitKind
                      if k not in (UnitKind.security_company, UnitKind.illegal_org)]
UNIT_CHOICES = 500
"""A liaison's guard form offers the scope's units in a list of at most this many."""


def forced_fields(user: CurrentUser) -> dict[str, Any]:
    """Pure: what the liaison's scope fixes on its unit (its sector, or its township)."""
    scope = user.scope
    if scope.kind == BodyScope.sector:
        return {"sector": scope.sector}
    if scope.kind == BodyScope.township:
        return {"township": str(scope.township_id)}
    return {}


def unit_form_values(user: CurrentUser, form: Mapping[str, Any], townships: set[int]) -> tuple[dict, dict]:
    """Validated unit fields of a liaison's form (the office's rules), its scope forced."""
    data = {k: form.get(k) for k in ("name", "uscc", "kind", "sector", "township", "address",
                                      "legal_rep", "contact_name", "contact_phone", "notes")}
    data.update(forced_fields(user))
    values, errors = forms.unit_values(data, townships)
    if values.get("kind") and values["kind"] not in {k for k, _ in LIAISON_UNIT_KINDS}:
        errors["kind"] = "保安服务公司和非法保安组织由公安机关登记；发现非法组织请移交线索"
    return values, errors


async def add_unit(user: CurrentUser, values: dict) -> Unit:
    return await registry.save_unit(user, None, {**values, "added_by_body": user.body_id, "confirmed": False})


async def unit_choices(user: CurrentUser) -> list[tuple[int, str]]:
    return await registry.choices("units", user.scope, limit=UNIT_CHOICES)


async def guard_form_values(user: CurrentUser, form: Mapping[str, Any]) -> tuple[dict, dict]:
    data = {k: form.get(k) for k in ("name", "id_number", "gender", "phone", "employer", "certificate_no",
                                      "certificate_issued_on", "hired_on")}
    allowed = await registry.existing_ids("units", user.scope, data.get("employer"))
    return forms.guard_values(data, allowed, set())


async def add_guard(user: CurrentUser, values: dict) -> Guard:
    return await registry.save_guard(user, None, {**values, "added_by_body": user.body_id, "confirmed": False})


async def additions_of(body_id: int) -> dict[str, list[dict]]:
    """A body's additions, newest first (what the liaison sees it has registered)."""
    units = await Unit.select(Unit.id, Unit.name, Unit.kind, Unit.confirmed, Unit.created_at).where(
        Unit.added_by_body == body_id).order_by(Unit.id, ascending=False).limit(200)
    guards = await Guard.select(Guard.id, Guard.name, Guard.employer.name, Guard.confirmed, Guard.created_at).where(
        Guard.added_by_body == body_id).order_by(Guard.id, ascending=False).limit(200)
    return {"units": units, "guards": guards}


async def unconfirmed() -> dict[str, list[dict]]:
    """Every liaison addition the office has not confirmed yet, oldest first."""
    units = await Unit.select(Unit.id, Unit.name, Unit.kind, Unit.uscc, Unit.sector, Unit.township.name,
                              Unit.address, Unit.added_by_body.name, Unit.created_at).where(
        Unit.confirmed == False).order_by(Unit.id)  # noqa: E712
    guards = await Guard.select(Guard.id, Guard.name, Guard.id_number, Guard.certificate_no, Guard.employer.name,
                                Guard.added_by_body.name, Guard.created_at).where(
        Guard.confirmed == False).order_by(Guard.id)  # noqa: E712
    return {"units": units, "guards": guards}


async def unconfirmed_count() -> int:
    return await Unit.count().where(Unit.confirmed == False) + await Guard.count().where(  # noqa: E712
        Guard.confirmed == False)  # noqa: E712


async def confirm(user: CurrentUser, kind: str, row_id: int) -> Any:
    """The office confirms a liaison's unit or guard (already confirmed: nothing to do)."""
    table, name = (Unit, "unit") if kind == "units" else (Guard, "guard")
    async with atomic():
        row = await table.objects().where(table.id == row_id).first()
        if row is None:
            raise NotFoundException("记录不存在")
        if row.confirmed:
            return row
        return await audit.save(user, name, row, {"confirmed": True})


async def body_name(body_id: int | None) -> str:
    row = await Body.select(Body.name).where(Body.id == body_id).first() if body_id else None
    return row["name"] if row else ""
