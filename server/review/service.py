"""The office's list of submitted inspections (the review screens build on this)."""

from __future__ import annotations

from typing import Any

from server.auth.scope import CurrentUser
from server.inspections.tables import Finding, Inspection
from server.vocab import InspectionStatus, Role

PAGE_SIZE = 30


def _scoped(query: Any, user: CurrentUser) -> Any:
    if user.role == Role.liaison:
        return query.where(Inspection.body == user.body_id)
    return query


async def status_counts(user: CurrentUser) -> dict[str, int]:
    counts = {}
    for status in InspectionStatus:
        if status == InspectionStatus.draft:
            continue
        counts[status.value] = await _scoped(Inspection.count(), user).where(Inspection.status == status)
    return counts


async def list_inspections(user: CurrentUser, status: str, page: int = 1) -> tuple[list[dict], int]:
    query = _scoped(Inspection.select(
        Inspection.uuid, Inspection.kind, Inspection.status, Inspection.submitted_at,
        Inspection.site.name, Inspection.unit.name, Inspection.officer.display_name,
        Inspection.body.name, Inspection.phase.name, Inspection.site.township.name,
    ), user).where(Inspection.status == status)
    total = await _scoped(Inspection.count(), user).where(Inspection.status == status)
    rows = await query.order_by(Inspection.submitted_at, ascending=False).limit(PAGE_SIZE).offset(
        (page - 1) * PAGE_SIZE)
    if rows:
        ids = [r["uuid"] for r in rows]
        findings = await Finding.select(Finding.inspection.uuid).where(Finding.inspection.uuid.is_in(ids))
        per: dict[str, int] = {}
        for f in findings:
            per[f["inspection.uuid"]] = per.get(f["inspection.uuid"], 0) + 1
        for r in rows:
            r["findings"] = per.get(r["uuid"], 0)
    return rows, total
