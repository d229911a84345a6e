"""Registry queries and writes: sites and rosters for the inspection flow (these take the
user's Scope), and the office's screens (units, sites, guards, e-file, training, collection
rates, logged personal-data access)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from piccolo.query.functions.aggregate import Count
from piccolo.query.mixins import OrderByRaw

from server import clock
from server.forms import record_id
from server.audit import service as audit
from server.audit.service import snapshot
from server.auth.scope import CurrentUser, Scope
from server.models.campaign import Township
from server import db
from server.db import Prepared, atomic, contains
from server.models.evidence import AccessLog
from server.errors import Conflict, FormError
from server.models.inspections import GuardCheck, Inspection
from server.models.registry import Guard, GuardCard, Site, TrainingRecord, Unit
from server.vocab import BodyScope, CertStatus, EmploymentStatus, Sector, UnitKind


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


_LOOKUP_COLUMNS = (
    Guard.id, Guard.name, Guard.certificate_no, Guard.certificate_status, Guard.employer.id,
    Guard.employer.name, Guard.site, Guard.employer.sector, Guard.employer.township,
)


def _admitted(guard: dict | None, scope: Scope | None, site: dict | None) -> dict | None:
    """A guard looked up for an inspection, or None when the user may not see it: a liaison
    sees a guard on the inspected site's roster (posted there, or employed by a unit serving
    it) or employed by a unit of its own sector or township, never any other."""
    if guard is None or scope is None or scope.is_district:
        return guard
    if site is not None and (guard["site"] == site["id"] or guard["employer.id"] in site_employer_ids(site)):
        return guard
    return guard if scope.admits(guard["employer.sector"], guard["employer.township"]) else None


async def guard_by_certificate(certificate_no: str, scope: Scope | None = None,
                               site: dict | None = None) -> dict | None:
    guard = await Guard.select(*_LOOKUP_COLUMNS).where(
        Guard.certificate_no == certificate_no.strip().upper()).first()
    return _admitted(guard, scope, site)


async def guard_by_id(guard_id: int, scope: Scope | None = None, site: dict | None = None) -> dict | None:
    guard = await Guard.select(*_LOOKUP_COLUMNS).where(Guard.id == guard_id).first()
    return _admitted(guard, scope, site)


# ================================================================ the office's registry screens
# Office and leaders see the whole district, so these queries take no Scope; the routes
# admit only those roles (server/registry/routes.py).
LIST_LIMIT = 200
PAGE_SIZE = 50
SELECT_MAX = 500
"""A <select> lists units or sites only while there are at most this many of them (a form's
所属单位, a list's filter); above, a select of 100,000 options would be megabytes of HTML
nobody can use, so forms get a search picker and filters only the chosen unit."""
PICK_LIMIT = 20
"""Matches a search picker offers at once."""


async def log_access(user: CurrentUser, action: str, table: str, object_id: Any, ip: str) -> None:
    await AccessLog.insert(AccessLog(user=user.id, username=user.username, action=action,
                                     object_table=table, object_id=str(object_id), ip=ip[:64]))


async def townships(*, offered: bool = False, keep: Any = None) -> list[dict]:
    """Every township (the lists' filters), or with offered=True those a unit or site may be given:
    the active ones, and `keep` (the record's own township, even retired: it keeps showing it)."""
    query = Township.select(Township.id, Township.name).order_by(Township.ordinal, Township.name)
    if offered:
        keep_id = record_id(keep)
        query = query.where((Township.active == True) | (Township.id == keep_id) if keep_id  # noqa: E712
                            else Township.active == True)  # noqa: E712
    return await query


async def unit_filter_choices(selected: int | None) -> list[tuple[int, str]]:
    """The units a list's 所属单位 filter offers, as (id, name): all of them while a select is
    usable (SELECT_MAX), else only the one chosen (reached from a unit's page or a link). The
    lists are the office's and leaders', so the whole district."""
    district = Scope(BodyScope.district, None, None)
    few = await choices("units", district, limit=SELECT_MAX + 1)
    if len(few) <= SELECT_MAX:
        return few
    return await choices("units", district, ids=[selected]) if selected is not None else []


# ---------------------------------------------------------------- choosing a unit or a site in a form

def _as_id(value: Any) -> int | None:
    return record_id(value)


async def choices(kind: str, scope: Scope, q: str = "", ids: list[int] | None = None,
                  limit: int | None = None) -> list[tuple[int, str]]:
    """Units or sites (kind "units" | "sites") within the scope as (id, label), by name: those
    whose name contains q (a site's: or its unit's), or those with the given ids."""
    if kind == "units":
        query = Unit.select(Unit.id, Unit.name).order_by(Unit.name).order_by(Unit.id)
        clause = scope.where(Unit.sector, Unit.township)
        if clause is not None:
            query = query.where(clause)
        if q:
            query = query.where(contains(Unit.name, q))
        if ids is not None:
            query = query.where(Unit.id.is_in(ids or [0]))
        label = lambda r: r["name"]  # noqa: E731
    else:
        query = _scoped(Site.select(Site.id, Site.name, Site.unit.name).order_by(Site.name).order_by(Site.id),
                        scope)
        if q:
            query = query.where(contains(Site.name, q) | contains(Site.unit.name, q))
        if ids is not None:
            query = query.where(Site.id.is_in(ids or [0]))
        label = lambda r: f"{r['name']}（{r['unit.name']}）"  # noqa: E731
    if limit is not None:
        query = query.limit(limit)
    return [(r["id"], label(r)) for r in await query]


async def existing_ids(kind: str, scope: Scope, *values: Any) -> set[int]:
    """Which of the submitted ids name a unit (or site) the user may choose: what a form's
    choice is checked against, without loading every unit."""
    ids = [i for i in (_as_id(v) for v in values) if i is not None]
    return {i for i, _ in await choices(kind, scope, ids=ids)} if ids else set()


async def picker(kind: str, name: str, scope: Scope, selected: Any, q: Any = "", *,
                 search: bool = False) -> dict:
    """What a form's unit or site field offers. A small registry (≤ SELECT_MAX): every choice,
    for a <select>. Else a search picker: the chosen one and up to PICK_LIMIT whose name
    contains q (`search` forces this, for the picker's own endpoint)."""
    q = str(q or "").strip()[:64]
    value = _as_id(selected)
    p: dict[str, Any] = {"kind": kind, "name": name, "value": value, "q": q, "options": None,
                         "selected": None, "matches": [], "more": False}
    if not search:
        few = await choices(kind, scope, limit=SELECT_MAX + 1)
        if len(few) <= SELECT_MAX:
            p["options"] = few
            return p
    if value is not None:
        found = await choices(kind, scope, ids=[value])
        p["selected"] = found[0] if found else None
    if q:
        rows = await choices(kind, scope, q=q, limit=PICK_LIMIT + 1)
        p["more"] = len(rows) > PICK_LIMIT
        p["matches"] = [r for r in rows[:PICK_LIMIT] if r[0] != value]
    return p


# ---------------------------------------------------------------- units

async def unit_page(q: str = "", kind: str = "", township: int | None = None, sector: str = "",
                    page: int = 1) -> tuple[list[dict], bool]:
    """One page of the unit list (PAGE_SIZE rows, by name) with each unit's active guards,
    and whether another page follows."""
    query = Unit.select(Unit.id, Unit.name, Unit.uscc, Unit.kind, Unit.sector, Unit.township.name,
                        Unit.filing_status).order_by(Unit.name).order_by(Unit.id)
    q = q.strip()[:64]
    if q:
        query = query.where(contains(Unit.name, q) | contains(Unit.uscc, q.upper()) | contains(Unit.address, q))
    if kind:
        query = query.where(Unit.kind == kind)
    if township:
        query = query.where(Unit.township == township)
    if sector:
        query = query.where(Unit.sector == sector)
    rows = await query.limit(PAGE_SIZE + 1).offset((max(page, 1) - 1) * PAGE_SIZE)
    more, rows = len(rows) > PAGE_SIZE, rows[:PAGE_SIZE]
    if rows:
        counts = await Guard.select(Guard.employer, Count()).where(
            Guard.employer.is_in([r["id"] for r in rows])
            & (Guard.employment_status == EmploymentStatus.active)).group_by(Guard.employer)
        by_unit = {c["employer"]: c["count"] for c in counts}
        for r in rows:
            r["guards"] = by_unit.get(r["id"], 0)
    return rows, more


async def get_unit(unit_id: int) -> Unit:
    from litestar.exceptions import NotFoundException

    unit = await Unit.objects().where(Unit.id == unit_id).first()
    if unit is None:
        raise NotFoundException("单位不存在")
    return unit


UNIT_LIST_MAX = 50  # guards and sites shown on a unit's page; the rest in the filtered lists


async def unit_detail(unit_id: int) -> dict:
    """The unit with its first UNIT_LIST_MAX sites and guards (by name) and how many there
    are in all; the full lists are the site and guard lists filtered by the unit."""
    unit = await get_unit(unit_id)
    township = await Township.select(Township.name).where(Township.id == unit.township).first() \
        if unit.township else None
    of_unit = (Site.unit == unit_id) | (Site.provider == unit_id)
    sites = await Site.select(Site.id, Site.name, Site.address, Site.provider_kind, Site.provider.name,
                              Site.unit.name, Site.unit.id).where(of_unit).order_by(Site.name).order_by(
        Site.id).limit(UNIT_LIST_MAX + 1)
    guards = await Guard.select(Guard.id, Guard.name, Guard.certificate_no, Guard.certificate_status,
                                Guard.employment_status, Guard.photo_collected,
                                Guard.fingerprint_collected, Guard.site.name).where(
        Guard.employer == unit_id).order_by(Guard.name).order_by(Guard.id).limit(UNIT_LIST_MAX + 1)
    site_count = await Site.count().where(of_unit) if len(sites) > UNIT_LIST_MAX else len(sites)
    guard_count = await Guard.count().where(Guard.employer == unit_id) if len(guards) > UNIT_LIST_MAX \
        else len(guards)
    return {"unit": unit, "township": township["name"] if township else "", "sites": sites[:UNIT_LIST_MAX],
            "guards": guards[:UNIT_LIST_MAX], "site_count": site_count, "guard_count": guard_count}


async def _unique(table: Any, column: Any, value: Any, own_id: int | None, field: str, message: str) -> None:
    if value is None:
        return
    query = table.select(table.id).where(column == value)
    if own_id is not None:
        query = query.where(table.id != own_id)
    if await query.first():
        raise FormError({field: message})


async def _create_or_update(user: CurrentUser, table: type, name: str, row_id: int | None, values: dict,
                            load) -> Any:
    """Create a registry row, or update the one loaded by `load(row_id)`; either way with its
    audit entry in the same transaction."""
    row = table() if row_id is None else await load(row_id)
    return await audit.save(user, name, row, values)


async def save_unit(user: CurrentUser, unit_id: int | None, values: dict) -> Unit:
    await _unique(Unit, Unit.uscc, values.get("uscc"), unit_id, "uscc", "该统一社会信用代码已登记为另一单位")
    if unit_id is not None:
        values = {**values, "to_verify": False}  # the office has checked and completed it
    return await _create_or_update(user, Unit, "unit", unit_id, values, get_unit)


async def unit_named(user: CurrentUser, name: str, township_id: int | None) -> int:
    """The unit a form names by text (a finding's offender who is not offered at the site):
    the registered unit with this credit code, else the one unit with exactly this name;
    else a new unit of kind 非法保安组织 in the site's township, flagged 需核查 for the office
    to complete. Call inside the caller's transaction."""
    name = name.strip()[:128]
    if not name:
        raise FormError({"offender_name": "请填写违法主体的单位名称"})
    by_code = await Unit.select(Unit.id).where(Unit.uscc == name.upper()).first() if len(name) == 18 else None
    if by_code:
        return by_code["id"]
    same = await Unit.select(Unit.id).where(Unit.name == name).limit(2)
    if len(same) > 1:
        raise FormError({"offender_name": "登记库中有多个同名单位，请填写统一社会信用代码"})
    if same:
        return same[0]["id"]
    unit = await audit.save(user, "unit", Unit(), {
        "name": name, "kind": UnitKind.illegal_org, "sector": Sector.other, "township": township_id,
        "to_verify": True, "notes": "检查中作为违法主体按名称登记，未在登记库中，需核查",
    })
    return unit.id


# ---------------------------------------------------------------- sites

async def site_page(q: str = "", township: int | None = None, sector: str = "",
                    unit: int | None = None, page: int = 1) -> tuple[list[dict], bool]:
    """One page of the site list (PAGE_SIZE rows, by name) and whether another follows."""
    query = Site.select(*SITE_COLUMNS, Site.sector, Site.posts).order_by(Site.name).order_by(Site.id)
    q = q.strip()[:64]
    if q:
        query = query.where(contains(Site.name, q) | contains(Site.address, q) | contains(Site.unit.name, q))
    if township:
        query = query.where(Site.township == township)
    if sector:
        query = query.where(Site.sector == sector)
    if unit:
        query = query.where((Site.unit == unit) | (Site.provider == unit))
    rows = await query.limit(PAGE_SIZE + 1).offset((max(page, 1) - 1) * PAGE_SIZE)
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


async def get_site_row(site_id: int) -> Site:
    from litestar.exceptions import NotFoundException

    site = await Site.objects().where(Site.id == site_id).first()
    if site is None:
        raise NotFoundException("服务目标不存在")
    return site


async def site_detail(site_id: int) -> dict:
    await get_site_row(site_id)
    site = await Site.select(*SITE_COLUMNS, Site.sector, Site.posts, Site.township.id).where(
        Site.id == site_id).first()
    guards = await Guard.select(Guard.id, Guard.name, Guard.certificate_no, Guard.certificate_status,
                                Guard.employer.name, Guard.employment_status).where(
        Guard.site == site_id).order_by(Guard.name)
    inspections = await Inspection.select(Inspection.uuid, Inspection.status, Inspection.kind,
                                          Inspection.started_at, Inspection.officer.display_name).where(
        Inspection.site == site_id).order_by(Inspection.started_at, ascending=False).limit(20)
    return {"site": site, "guards": guards, "inspections": inspections}


async def save_site(user: CurrentUser, site_id: int | None, values: dict) -> Site:
    return await _create_or_update(user, Site, "site", site_id, values, get_site_row)


# ---------------------------------------------------------------- guards

GAPS = {"photo": "未采集照片", "fingerprint": "未采集指纹", "any": "照片或指纹未采集"}


def _gap_clause(gap: str) -> Any:
    if gap == "photo":
        return Guard.photo_collected.eq(False)
    if gap == "fingerprint":
        return Guard.fingerprint_collected.eq(False)
    if gap == "any":
        return Guard.photo_collected.eq(False) | Guard.fingerprint_collected.eq(False)
    return None


GUARD_COLUMNS = (
    Guard.id, Guard.name, Guard.id_number, Guard.certificate_no, Guard.certificate_status,
    Guard.employment_status, Guard.photo_collected, Guard.fingerprint_collected,
    Guard.employer.id, Guard.employer.name, Guard.site.name,
)


def _guard_query(q: str = "", unit: int | None = None, township: int | None = None, sector: str = "",
                 cert: str = "", gap: str = "", status: str = "") -> Any:
    """The guard list's query, ordered by name, without limit."""
    query = Guard.select(*GUARD_COLUMNS)
    q = q.strip()[:64]
    if q:
        # The employer's name is matched in a sub-select (one pass over the units, then a
        # hash lookup per guard) rather than through the join, which tests every guard's
        # employer row. Matches of a name search cluster in name order (a surname), so the
        # planner must not walk the name index looking for them: sorting by an expression
        # makes it filter first and sort the few matches (EXPLAIN in bench/README.md).
        employers = Unit.select(Unit.id).where(contains(Unit.name, q))
        query = query.where(contains(Guard.name, q) | contains(Guard.certificate_no, q.upper())
                            | Guard.employer.is_in(employers))
        query = query.order_by(OrderByRaw('"guard"."name" || \'\''))
    else:
        query = query.order_by(Guard.name)
    query = query.order_by(Guard.id)
    if unit:
        query = query.where(Guard.employer == unit)
    if township:
        query = query.where(Guard.employer.township == township)
    if sector:
        query = query.where(Guard.employer.sector == sector)
    if cert:
        query = query.where(Guard.certificate_status == cert)
    if status:
        query = query.where(Guard.employment_status == status)
    clause = _gap_clause(gap)
    if clause is not None:
        query = query.where(clause & (Guard.employment_status == EmploymentStatus.active))
    return query


async def list_guards(q: str = "", unit: int | None = None, township: int | None = None,
                      sector: str = "", cert: str = "", gap: str = "", status: str = "",
                      limit: int = LIST_LIMIT) -> list[dict]:
    return await _guard_query(q, unit, township, sector, cert, gap, status).limit(limit)


async def guard_page(q: str = "", unit: int | None = None, township: int | None = None,
                     sector: str = "", cert: str = "", gap: str = "", status: str = "",
                     page: int = 1) -> tuple[list[dict], bool]:
    """One page of the guard list (PAGE_SIZE rows) and whether another follows. No total:
    counting every match of a search would read them all again."""
    rows = await _guard_query(q, unit, township, sector, cert, gap, status).limit(PAGE_SIZE + 1).offset(
        (max(page, 1) - 1) * PAGE_SIZE)
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


async def get_guard_row(guard_id: int) -> Guard:
    from litestar.exceptions import NotFoundException

    guard = await Guard.objects().where(Guard.id == guard_id).first()
    if guard is None:
        raise NotFoundException("保安员不存在")
    return guard


# The guard's file is shown after every scan by an officer: its queries are built and compiled
# once (db.Prepared).
FILE_FIELDS = ("id", "name", "gender", "id_number", "phone", "employer", "certificate_no",
               "certificate_status", "certificate_issued_on", "vetted", "exam_passed", "photo_collected",
               "fingerprint_collected", "portrait_key", "employment_status", "hired_on", "left_on")
"""The guard's columns its file shows (registry/_guard_file.html, _portrait.html, guard.html,
and the card page, cards/verify.html), besides its employer's and site's names."""
_GUARD = Prepared(lambda guard_id: Guard.select(
    *(getattr(Guard, name) for name in FILE_FIELDS), Guard.employer.name, Guard.site.name,
).where(Guard.id == guard_id).limit(1))
_TRAINING = Prepared(lambda guard_id: TrainingRecord.select().where(
    TrainingRecord.guard == guard_id).order_by(TrainingRecord.held_on, ascending=False).order_by(
    TrainingRecord.id))
_RECENT_CHECKS = Prepared(lambda guard_id: GuardCheck.select(
    GuardCheck.verdict, GuardCheck.inspection.uuid, GuardCheck.inspection.site.name,
    GuardCheck.inspection.started_at,
).where(GuardCheck.guard == guard_id).order_by(GuardCheck.id, ascending=False).limit(10))


async def guard_file(guard_id: int) -> dict:
    """The guard's electronic practice file (执业电子档案)."""
    from litestar.exceptions import NotFoundException

    guard = await _GUARD.first(guard_id)
    if guard is None:
        raise NotFoundException("保安员不存在")
    return {"guard": guard, **await guard_history(guard_id)}


async def guard_history(guard_id: int) -> dict:
    """The lists of the guard's file: training records and the last checks."""
    return {"training": await guard_training(guard_id), "checks": await _RECENT_CHECKS.rows(guard_id)}


async def guard_training(guard_id: int) -> list[dict]:
    """The guard's training records, latest first (the card page shows these, not the checks)."""
    return await _TRAINING.rows(guard_id)


def training_sql(guard_id_sql: str) -> str:
    """The guard's training records as one value of another query that reads the guard (raw SQL
    naming its guard id column): a JSON subquery (db.json_rows_sql), read back by
    `training_of`, so the card page gets the records in the card's own round trip."""
    columns = [c._meta.db_column_name for c in TrainingRecord._meta.columns]
    return db.json_rows_sql(columns, TrainingRecord._meta.tablename, f'"guard" = {guard_id_sql}',
                            '"held_on" DESC, "id"')


def training_of(value: Any) -> list[dict]:
    """The rows of a `training_sql` value, as `guard_training` returns them (held_on a date)."""
    rows = db.json_rows(value)
    for row in rows:
        if isinstance(row["held_on"], str):
            row["held_on"] = dt.date.fromisoformat(row["held_on"])
    return rows


async def save_guard(user: CurrentUser, guard_id: int | None, values: dict) -> Guard:
    await _unique(Guard, Guard.id_number, values.get("id_number"), guard_id, "id_number",
                  "该身份证号已登记为另一名保安员")
    await _unique(Guard, Guard.certificate_no, values.get("certificate_no"), guard_id, "certificate_no",
                  "该保安员证号已登记为另一名保安员")
    return await _create_or_update(user, Guard, "guard", guard_id, values, get_guard_row)


async def reveal_id_number(user: CurrentUser, guard_id: int, ip: str, max_per_hour: int = 20) -> str:
    """The full ID number, for a deliberate reveal; logged as pii_reveal. At most max_per_hour
    reveals per user in any hour (REVEAL_MAX_PER_HOUR): reading a roster's ID numbers one by
    one is not what the button is for."""
    guard = await get_guard_row(guard_id)
    recent = await AccessLog.count().where(
        (AccessLog.user == user.id) & (AccessLog.action == "pii_reveal")
        & (AccessLog.at >= clock.now() - dt.timedelta(hours=1)))
    if recent >= max_per_hour:
        raise Conflict(f"查看完整身份证号过于频繁：每小时最多 {max_per_hour} 次，请稍后再试")
    await log_access(user, "pii_reveal", "guard", guard_id, ip)
    return guard.id_number or ""


async def set_portrait(store: Any, settings: Any, user: CurrentUser, guard_id: int, data: bytes) -> Guard:
    """Store a portrait taken with the phone camera (checked like evidence photos, turned
    upright and reduced), point the guard at it and mark the photo collected."""
    from anyio import to_thread

    from server import images

    guard = await get_guard_row(guard_id)
    checked = await to_thread.run_sync(
        images.check_image, data, settings.max_upload_mb * 1024 * 1024, settings.max_image_pixels)
    portrait = await to_thread.run_sync(images.thumbnail, data, 800)
    key = f"portraits/{guard_id}/{checked.sha256[:32]}.jpg"
    await store.put(key, portrait, "image/jpeg")
    old = guard.portrait_key
    before = snapshot(guard)
    guard.portrait_key, guard.photo_collected, guard.updated_at = key, True, clock.now()
    try:
        async with atomic():
            await guard.save()
            await audit.record("portrait", "guard", guard.id, actor=user, before=before, after=snapshot(guard))
    except Exception:
        if key != old:
            await store.delete(key)
        raise
    if old and old != key:
        try:
            await store.delete(old)
        except Exception:  # noqa: BLE001 - a leftover object is harmless
            pass
    return guard


async def open_portrait(store: Any, user: CurrentUser, guard_id: int, ip: str) -> bytes:
    from litestar.exceptions import NotFoundException

    guard = await get_guard_row(guard_id)
    if not guard.portrait_key:
        raise NotFoundException("尚未采集照片")
    await log_access(user, "portrait_view", "guard", guard_id, ip)
    return await store.get(guard.portrait_key)


async def add_training(user: CurrentUser, guard_id: int, values: dict) -> TrainingRecord:
    await get_guard_row(guard_id)
    record = TrainingRecord(guard=guard_id, **values)
    async with atomic():
        await record.save()
        await audit.record("create", "training_record", record.id, actor=user, after=snapshot(record))
    return record


async def delete_training(user: CurrentUser, guard_id: int, record_id: int) -> None:
    from litestar.exceptions import NotFoundException

    record = await TrainingRecord.objects().where(
        (TrainingRecord.id == record_id) & (TrainingRecord.guard == guard_id)).first()
    if record is None:
        raise NotFoundException("培训记录不存在")
    async with atomic():
        await TrainingRecord.delete().where(TrainingRecord.id == record_id)
        await audit.record("delete", "training_record", record_id, actor=user, before=snapshot(record))


# ---------------------------------------------------------------- collection rates (五(五))

# Sums of active guards (`g`) and of those with a photo, a fingerprint, both; over all of
# them, grouped by employer, or (for the dashboard) by the employer's township. Counted by the
# database: a province holds half a million guards.
_BOTH = "SUM(CASE WHEN g.photo_collected AND g.fingerprint_collected THEN 1 ELSE 0 END)"
_COLLECTION_SUMS = (
    "COUNT(*) AS guards,"
    " SUM(CASE WHEN g.photo_collected THEN 1 ELSE 0 END) AS photo,"
    " SUM(CASE WHEN g.fingerprint_collected THEN 1 ELSE 0 END) AS fingerprint,"
    f" {_BOTH} AS both_")
_BOTH_RATIO = f"1.0 * {_BOTH} / COUNT(*)"


def with_rates(counts: dict, **extra: Any) -> dict:
    """Counts of guards, photos, fingerprints and both → the same with rates (%, one decimal)
    and the number still missing something."""
    u = {**extra, "guards": int(counts.get("guards") or 0), "photo": int(counts.get("photo") or 0),
         "fingerprint": int(counts.get("fingerprint") or 0), "both": int(counts.get("both_") or 0)}
    n = u["guards"]
    for k in ("photo", "fingerprint", "both"):
        u[f"{k}_rate"] = round(100 * u[k] / n, 1) if n else 0.0
    u["missing"] = n - u["both"]
    return u


async def collection_total(unit: int | None = None) -> dict:
    """The district's collection figures, or one employer's."""
    sql = f"SELECT {_COLLECTION_SUMS} FROM guard g WHERE g.employment_status = {{}}"
    args: list[Any] = [EmploymentStatus.active.value]
    if unit is not None:
        sql += " AND g.employer = {}"
        args.append(unit)
    rows = await db.raw(sql, *args)
    return with_rates(rows[0] if rows else {}, name="全区")


async def collection_by_township() -> dict[int | None, dict]:
    """The collection sums of active guards per township of their employer, each with
    `valid`: how many of them hold a valid certificate."""
    rows = await db.raw(
        f"SELECT u.township AS township, {_COLLECTION_SUMS},"
        " SUM(CASE WHEN g.certificate_status = {} THEN 1 ELSE 0 END) AS valid"
        " FROM guard g JOIN unit u ON u.id = g.employer WHERE g.employment_status = {} GROUP BY u.township",
        CertStatus.valid.value, EmploymentStatus.active.value)
    return {r["township"]: r for r in rows}


async def collection_page(page: int = 1) -> tuple[list[dict], bool]:
    """One page of employers (PAGE_SIZE rows) with their collection figures, lowest rate of
    both collected first, and whether another page follows."""
    rows = await db.raw(
        f"SELECT u.id AS id, u.name AS name, {_COLLECTION_SUMS} FROM guard g LEFT JOIN unit u ON u.id = g.employer"
        " WHERE g.employment_status = {} GROUP BY u.id, u.name"
        f" ORDER BY {_BOTH_RATIO}, u.name, u.id LIMIT {{}} OFFSET {{}}",
        EmploymentStatus.active.value, PAGE_SIZE + 1, (max(page, 1) - 1) * PAGE_SIZE)
    companies = [with_rates(r, id=r["id"], name=r["name"]) for r in rows[:PAGE_SIZE]]
    return companies, len(rows) > PAGE_SIZE


async def missing_page(unit: int | None = None, page: int = 1) -> tuple[list[dict], bool]:
    """Active guards still missing a photo or a fingerprint, a page at a time, by name."""
    return await guard_page(unit=unit, gap="any", page=page)


async def guard_in_scope(scope: Scope, guard_id: int) -> bool:
    """A liaison may see a guard employed by, or posted at a site of, a unit in their scope."""
    g = await Guard.select(Guard.employer.sector, Guard.employer.township, Guard.site.unit.sector,
                           Guard.site.unit.township).where(Guard.id == guard_id).first()
    if g is None:
        return False
    return scope.admits(g["employer.sector"], g["employer.township"]) or (
        g["site.unit.sector"] is not None and scope.admits(g["site.unit.sector"], g["site.unit.township"]))


# ---------------------------------------------------------------- guard cards (read)

async def current_card(guard_id: int) -> dict | None:
    """The guard's card in force (the newest not revoked), or None."""
    return await GuardCard.select().where(
        (GuardCard.guard == guard_id) & GuardCard.revoked_at.is_null()
    ).order_by(GuardCard.serial, ascending=False).first()


async def cards_of(guard_id: int) -> list[dict]:
    return await GuardCard.select().where(GuardCard.guard == guard_id).order_by(
        GuardCard.serial, ascending=False)
