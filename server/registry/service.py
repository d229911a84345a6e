"""Registry queries used by the inspection flow: finding sites and their guard rosters.
Every query takes the user's Scope."""

from __future__ import annotations

from typing import Any

from server.auth.scope import Scope
from server.db import is_postgres
from server.inspections.tables import Inspection
from server.registry.tables import Guard, Site
from server.vocab import EmploymentStatus


def contains(column: Any, q: str) -> Any:
    """Case-insensitive substring match. SQLite's LIKE has no default escape character, so
    the wildcards are dropped from the user's text instead of escaped."""
    pattern = "%" + q.replace("%", "").replace("_", "") + "%"
    return column.ilike(pattern) if is_postgres() else column.like(pattern)


SITE_COLUMNS = (
    Site.id, Site.name, Site.address, Site.provider_kind, Site.unit.id, Site.unit.name,
    Site.unit.kind, Site.township.name, Site.provider.id, Site.provider.name,
)


def _scoped(query: Any, scope: Scope) -> Any:
    clause = scope.where(Site.unit.sector, Site.unit.township)
    return query.where(clause) if clause is not None else query


async def search_sites(scope: Scope, q: str, limit: int = 20) -> list[dict]:
    q = q.strip()[:64]
    query = Site.select(*SITE_COLUMNS).order_by(Site.name).limit(limit)
    if q:
        query = query.where(contains(Site.name, q) | contains(Site.address, q)
                            | contains(Site.unit.name, q))
    return await _scoped(query, scope)


async def recent_sites(scope: Scope, officer_id: int, limit: int = 5) -> list[dict]:
    rows = await Inspection.select(Inspection.site.id, Inspection.started_at).where(
        Inspection.officer == officer_id).order_by(Inspection.started_at, ascending=False).limit(50)
    ids: list[int] = []
    for r in rows:
        if r["site.id"] not in ids:
            ids.append(r["site.id"])
        if len(ids) == limit:
            break
    if not ids:
        return []
    sites = await _scoped(Site.select(*SITE_COLUMNS).where(Site.id.is_in(ids)), scope)
    by_id = {s["id"]: s for s in sites}
    return [by_id[i] for i in ids if i in by_id]


async def get_site(scope: Scope, site_id: int) -> dict | None:
    return await _scoped(Site.select(*SITE_COLUMNS, Site.unit.sector, Site.unit.township.id)
                         .where(Site.id == site_id), scope).first()


def site_employer_ids(site: dict) -> set[int]:
    """Units whose guards may serve this site: the unit itself and its provider."""
    return {i for i in (site["unit.id"], site.get("provider.id")) if i}


async def roster(site: dict) -> list[dict]:
    """Guards on the site's roster: posted there, or employed by the unit guarding it."""
    employers = list(site_employer_ids(site))
    return await Guard.select(
        Guard.id, Guard.name, Guard.certificate_no, Guard.certificate_status, Guard.site,
        Guard.employer.name,
    ).where(
        (Guard.employment_status == EmploymentStatus.active)
        & ((Guard.site == site["id"]) | Guard.employer.is_in(employers))
    ).order_by(Guard.name)


async def guard_by_certificate(certificate_no: str) -> dict | None:
    return await Guard.select(
        Guard.id, Guard.name, Guard.certificate_no, Guard.certificate_status, Guard.employer.id,
        Guard.employer.name,
    ).where(Guard.certificate_no == certificate_no.strip().upper()).first()


async def guard_by_id(guard_id: int) -> dict | None:
    return await Guard.select(
        Guard.id, Guard.name, Guard.certificate_no, Guard.certificate_status, Guard.employer.id,
        Guard.employer.name,
    ).where(Guard.id == guard_id).first()
