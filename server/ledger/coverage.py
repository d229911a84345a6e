"""Coverage (全覆盖): how many units of a scope were inspected at least once in a campaign.

A unit counts as "in the registry" while its guard service has not stopped
(service_stopped_on is empty); liaison additions not yet confirmed by the office count too
(they are units of the scope all the same). A unit counts as visited when an inspection of
it in this campaign was submitted (submitted_at set: submitted, sent back or reviewed; a
draft is not a visit), by anyone — the police or the body's own self-inspection.

One grouped query gives (sector, township) → (units, visited) for the whole district; a
body's or a township's figure is a sum over those groups, so the dashboard and the weekly
board read every body's coverage from one query, also at province size.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from server import db
from server.auth.scope import Scope
from server.models.campaign import Body

PAGE_SIZE = 50


@dataclass(frozen=True)
class Coverage:
    visited: int
    total: int

    @property
    def unvisited(self) -> int:
        return self.total - self.visited

    @property
    def percent(self) -> int:
        """Whole percent, rounded down (so 100 % means every unit)."""
        return self.visited * 100 // self.total if self.total else 0

    def __add__(self, other: "Coverage") -> "Coverage":
        return Coverage(self.visited + other.visited, self.total + other.total)


@dataclass(frozen=True)
class Group:
    sector: str | None
    township: int | None
    coverage: Coverage


_VISITED = ("SELECT DISTINCT i.unit AS unit FROM inspection i "
            "WHERE i.campaign = {} AND i.submitted_at IS NOT NULL")


async def groups(campaign_id: int) -> list[Group]:
    """(sector, township) → units in the registry and those visited: one grouped query."""
    rows = await db.raw(
        "SELECT u.sector AS sector, u.township AS township, COUNT(*) AS total, COUNT(v.unit) AS visited "
        f"FROM unit u LEFT JOIN ({_VISITED}) v ON v.unit = u.id "
        "WHERE u.service_stopped_on IS NULL GROUP BY u.sector, u.township", campaign_id)
    return [Group(r["sector"], r["township"], Coverage(int(r["visited"]), int(r["total"]))) for r in rows]


def coverage_of(found: list[Group], scope: Scope) -> Coverage:
    """Pure: the coverage of a scope, summed over the groups it admits."""
    total = Coverage(0, 0)
    for g in found:
        if scope.admits(g.sector, g.township):
            total += g.coverage
    return total


def by_township(found: list[Group]) -> dict[int | None, Coverage]:
    """Pure: coverage per township of the units (None: units without a township)."""
    out: dict[int | None, Coverage] = defaultdict(lambda: Coverage(0, 0))
    for g in found:
        out[g.township] += g.coverage
    return dict(out)


def body_scope(body: dict) -> Scope:
    return Scope(body["scope"], body["sector"], body["township"])


async def coverage_for(campaign_id: int, scope: Scope) -> Coverage:
    return coverage_of(await groups(campaign_id), scope)


async def coverage_by_body(campaign_id: int) -> dict[int, Coverage]:
    """Every body's coverage (its sector, township or the whole district), by body id."""
    found = await groups(campaign_id)
    bodies = await Body.select(Body.id, Body.scope, Body.sector, Body.township)
    return {b["id"]: coverage_of(found, body_scope(b)) for b in bodies}


async def coverage_by_township(campaign_id: int) -> dict[int | None, Coverage]:
    return by_township(await groups(campaign_id))


def _scope_sql(scope: Scope) -> tuple[str, list]:
    if scope.kind == "sector":
        return " AND u.sector = {}", [scope.sector]
    if scope.kind == "township":
        return " AND u.township = {}", [scope.township_id]
    return "", []


async def unvisited_page(campaign_id: int, scope: Scope, page: int = 1,
                         page_size: int = PAGE_SIZE) -> tuple[list[dict], bool]:
    """The units of the scope not yet visited in the campaign, by name, one page (and whether
    there is a next one)."""
    clause, args = _scope_sql(scope)
    rows = await db.raw(
        "SELECT u.id AS id, u.name AS name, u.kind AS kind, u.address AS address, "
        "u.contact_name AS contact_name, u.contact_phone AS contact_phone, t.name AS township_name "
        "FROM unit u LEFT JOIN township t ON t.id = u.township "
        f"WHERE u.service_stopped_on IS NULL{clause} "
        f"AND NOT EXISTS (SELECT 1 FROM inspection i WHERE i.unit = u.id AND i.campaign = {{}} "
        "AND i.submitted_at IS NOT NULL) "
        "ORDER BY u.name, u.id LIMIT {} OFFSET {}",
        *args, campaign_id, page_size + 1, (page - 1) * page_size)
    return rows[:page_size], len(rows) > page_size


async def scope_of_request(user, body: str | None, township: str | None) -> tuple[Scope, str, dict]:
    """The scope a coverage page shows, its title and the query that names it: a liaison's
    own scope whatever it asks; for the office and leaders a body's or a township's, or the
    district's. An unknown body or township is a 404."""
    from litestar.exceptions import NotFoundException

    from server.models.campaign import Township

    if user.role == "liaison":
        if (body and body != str(user.body_id)) or township:
            raise NotFoundException("只能查看本单位范围内的覆盖情况")
        return user.scope, user.body_name, {}
    if body and body.isdigit():
        row = await Body.select(Body.id, Body.name, Body.scope, Body.sector, Body.township).where(
            Body.id == int(body)).first()
        if row is None:
            raise NotFoundException("填报单位不存在")
        return body_scope(row), row["name"], {"body": row["id"]}
    if township and township.isdigit():
        row = await Township.select(Township.id, Township.name).where(Township.id == int(township)).first()
        if row is None:
            raise NotFoundException("乡镇街不存在")
        return Scope("township", None, row["id"]), row["name"], {"township": row["id"]}
    return Scope("district", None, None), "全区", {}
