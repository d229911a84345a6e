"""双随机、一公开: drawing spot-check targets and officers, recording the draw so anyone can
redo it, the officers' tasks, and the published results.

A draw is rules.draw(seed, pool, officers, n, exclusions). What goes in is recorded in
SpotCheckDraw exactly (the seed, the filters, the pool's unit ids, the officers' user ids and
the exclusion pairs), so `verify` recomputes the draw from the record alone, and
`python -m server spotcheck draw` gives the same draw for the same seed and data.

Nobody chooses the seed of a recorded draw: the server draws it once the pool is fixed, in the
same transaction, so the office cannot try seeds until it likes the result. A preview shows
an illustrative draw with a throwaway seed, and is logged. The public results page lives at
an unguessable address and names a target only once its inspection is submitted, so no unit
learns in advance that it was drawn.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from litestar.exceptions import NotFoundException, PermissionDeniedException

from server.audit import service as audit
from server.audit.service import snapshot
from server.auth.scope import CurrentUser
from server.models.auth import User
from server.models.campaign import Campaign, Township
from server.db import atomic
from server.inspections import service as inspections
from server.errors import Conflict
from server.models.inspections import Finding, Inspection
from server.rectification import rules
from server.models.rectification import RectificationOrder, SpotCheckDraw, SpotCheckTarget
from server.models.registry import Site, Unit
from server.vocab import FindingStatus, InspectionKind, OrderStatus, Role, Sector, UnitKind

EXCLUSION_RULES = {
    "inspected": "本专项行动中检查过该单位的民警，不抽查该单位",
    "none": "不设回避",
}
DEFAULT_EXCLUSION = "inspected"
RECTIFIED_STATUSES = (OrderStatus.reported.value, OrderStatus.verified.value, OrderStatus.closed.value)


@dataclass
class PoolFilter:
    township: int | None = None
    kind: str = ""
    sector: str = ""
    rectified: bool = False
    """Only units with an order reported rectified (or verified, or closed)."""

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in (("township", self.township), ("kind", self.kind), ("sector", self.sector),
                                  ("rectified", self.rectified)) if v}

    @classmethod
    def from_dict(cls, d: dict) -> "PoolFilter":
        return cls(d.get("township"), d.get("kind", ""), d.get("sector", ""), bool(d.get("rectified")))


async def describe_filter(f: PoolFilter) -> str:
    parts = []
    if f.township:
        t = await Township.select(Township.name).where(Township.id == f.township).first()
        parts.append(f"乡镇街：{t['name'] if t else f.township}")
    if f.kind:
        parts.append(f"单位类型：{UnitKind.label_of(f.kind)}")
    if f.sector:
        parts.append(f"行业：{Sector.label_of(f.sector)}")
    if f.rectified:
        parts.append("已报整改的单位")
    return "；".join(parts) or "全部单位"


async def pool(campaign: Campaign, f: PoolFilter) -> list[int]:
    """The unit ids the draw picks from, sorted."""
    query = Unit.select(Unit.id)
    if f.township:
        query = query.where(Unit.township == f.township)
    if f.kind:
        query = query.where(Unit.kind == f.kind)
    if f.sector:
        query = query.where(Unit.sector == f.sector)
    ids = {r["id"] for r in await query}
    if f.rectified:
        done = await RectificationOrder.select(RectificationOrder.unit).where(
            (RectificationOrder.campaign == campaign.id) & RectificationOrder.status.is_in(list(RECTIFIED_STATUSES)))
        ids &= {r["unit"] for r in done}
    # Only units with a site can be visited.
    with_site = {r["unit"] for r in await Site.select(Site.unit).where(Site.unit.is_in(list(ids) or [0]))}
    return sorted(ids & with_site)


async def roster() -> list[int]:
    """Every active officer (民警) account."""
    return sorted(r["id"] for r in await User.select(User.id).where(
        (User.role == Role.officer) & (User.active == True)))  # noqa: E712


async def exclusions(campaign: Campaign, units: list[int], officers: list[int], rule: str) -> dict[int, list[int]]:
    """unit id → officer ids who must not spot-check it."""
    if rule == "none" or not units:
        return {}
    rows = await Inspection.select(Inspection.unit, Inspection.officer).where(
        (Inspection.campaign == campaign.id) & Inspection.unit.is_in(units) & Inspection.officer.is_in(officers or [0]))
    out: dict[int, set[int]] = {}
    for r in rows:
        out.setdefault(r["unit"], set()).add(r["officer"])
    return {u: sorted(os) for u, os in sorted(out.items())}


@dataclass
class Plan:
    """A draw before it is saved: everything that went in and what came out."""

    seed: str
    n: int
    filter: PoolFilter
    rule: str
    pool: list[int]
    officers: list[int]
    exclusions: dict[int, list[int]]
    assignments: list[rules.Assignment] = field(default_factory=list)


async def plan(campaign: Campaign, n: int, seed: str | None, f: PoolFilter, rule: str = DEFAULT_EXCLUSION) -> Plan:
    """The draw for these inputs; seed None: a new random seed, drawn after the pool is fixed."""
    units = await pool(campaign, f)
    officers = await roster()
    excl = await exclusions(campaign, units, officers, rule)
    p = Plan(seed or new_seed(), n, f, rule, units, officers, excl)
    seed = p.seed
    try:
        p.assignments = rules.draw(seed, units, officers, n, excl)
    except rules.DrawError as exc:
        if exc.unit_id is not None:
            u = await Unit.select(Unit.name).where(Unit.id == exc.unit_id).first()
            raise rules.DrawError(f"抽中的单位“{u['name'] if u else exc.unit_id}”没有可派的检查人员"
                                  f"（名单中的民警均须回避），请调整回避规则或抽取范围", exc.unit_id) from None
        raise
    return p


async def names(p: Plan) -> tuple[dict[int, str], dict[int, str]]:
    """Unit names and officer display names for showing a plan."""
    units = {u["id"]: u["name"] for u in await Unit.select(Unit.id, Unit.name).where(
        Unit.id.is_in([a.unit_id for a in p.assignments] or [0]))}
    officers = {u["id"]: u["display_name"] or u["username"] for u in await User.select(
        User.id, User.display_name, User.username).where(User.id.is_in(p.officers or [0]))}
    return units, officers


def new_seed() -> str:
    return secrets.token_hex(8)


async def preview(user: CurrentUser, campaign: Campaign, n: int, f: PoolFilter,
                  rule: str = DEFAULT_EXCLUSION) -> Plan:
    """An illustrative draw with a throwaway seed (the recorded draw gets its own); logged,
    so that how often the office looked before drawing is on record."""
    if user.role != Role.office:
        raise PermissionDeniedException("只有办公室可以组织双随机抽查")
    p = await plan(campaign, n, None, f, rule)
    await audit.record("preview", "spot_check_draw", "preview", actor=user, after={
        "n": n, "filter": f.as_dict(), "rule": rule, "pool": p.pool, "seed": p.seed,
        "targets": [[a.unit_id, a.officer_id] for a in p.assignments]})
    return p


async def make_draw(user: CurrentUser, campaign: Campaign, n: int, f: PoolFilter,
                    rule: str = DEFAULT_EXCLUSION) -> SpotCheckDraw:
    """Record a draw. The seed is the server's, drawn inside the transaction after the pool."""
    if user.role != Role.office:
        raise PermissionDeniedException("只有办公室可以组织双随机抽查")
    async with atomic():
        p = await plan(campaign, n, None, f, rule)
        seed = p.seed
        row = SpotCheckDraw(
            campaign=campaign.id, seed=seed, n=n, pool_filter=json.dumps(f.as_dict(), ensure_ascii=False),
            pool=json.dumps(p.pool), officers=json.dumps(p.officers),
            exclusions=json.dumps({"rule": rule, "pairs": {str(u): os for u, os in p.exclusions.items()}}),
            created_by=user.id)
        await row.save()
        for a in p.assignments:
            await SpotCheckTarget.insert(SpotCheckTarget(draw=row.id, unit=a.unit_id, officer=a.officer_id))
        await audit.record("draw", "spot_check_draw", row.id, actor=user, after={
            **snapshot(row), "targets": [[a.unit_id, a.officer_id] for a in p.assignments]})
    return row


def load_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def recorded_inputs(draw: dict) -> tuple[list[int], list[int], dict[int, list[int]], str]:
    excl = load_json(draw["exclusions"]) or {}
    pairs = {int(u): os for u, os in (excl.get("pairs") or {}).items()}
    return load_json(draw["pool"]) or [], load_json(draw["officers"]) or [], pairs, excl.get("rule", DEFAULT_EXCLUSION)


async def get_draw(draw_id: int) -> dict:
    row = await SpotCheckDraw.select(SpotCheckDraw.all_columns(), SpotCheckDraw.created_by.display_name).where(
        SpotCheckDraw.id == draw_id).first()
    if row is None:
        raise NotFoundException("抽查记录不存在")
    return row


async def targets(draw_id: int) -> list[dict]:
    rows = await SpotCheckTarget.select(
        SpotCheckTarget.id, SpotCheckTarget.unit.id, SpotCheckTarget.unit.name, SpotCheckTarget.unit.township.name,
        SpotCheckTarget.officer.id, SpotCheckTarget.officer.display_name, SpotCheckTarget.inspection.id,
        SpotCheckTarget.inspection.uuid, SpotCheckTarget.inspection.status, SpotCheckTarget.inspection.submitted_at,
        SpotCheckTarget.inspection.reviewed_at,
    ).where(SpotCheckTarget.draw == draw_id).order_by(SpotCheckTarget.id)
    insp_ids = [r["inspection.id"] for r in rows if r["inspection.id"]]
    confirmed: dict[int, int] = {}
    if insp_ids:
        for f in await Finding.select(Finding.inspection).where(
                Finding.inspection.is_in(insp_ids) & (Finding.status == FindingStatus.confirmed)):
            confirmed[f["inspection"]] = confirmed.get(f["inspection"], 0) + 1
    for r in rows:
        r["result"] = rules.spot_result(r["inspection.status"], confirmed.get(r["inspection.id"], 0))
    return rows


async def verify(draw_id: int) -> tuple[bool, list[rules.Assignment], list[rules.Assignment]]:
    """Redo the draw from its record alone: (same?, recomputed, recorded)."""
    d = await get_draw(draw_id)
    units, officers, pairs, _ = recorded_inputs(d)
    recorded = [rules.Assignment(t["unit.id"], t["officer.id"]) for t in await targets(draw_id)]
    try:
        again = rules.draw(d["seed"], units, officers, d["n"], pairs)
    except rules.DrawError:
        again = []
    return again == recorded, again, recorded


async def list_draws(campaign: Campaign) -> list[dict]:
    rows = await SpotCheckDraw.select(
        SpotCheckDraw.id, SpotCheckDraw.seed, SpotCheckDraw.n, SpotCheckDraw.pool_filter, SpotCheckDraw.pool,
        SpotCheckDraw.created_at, SpotCheckDraw.created_by.display_name,
    ).where(SpotCheckDraw.campaign == campaign.id).order_by(SpotCheckDraw.id, ascending=False)
    for r in rows:
        r["filter_text"] = await describe_filter(PoolFilter.from_dict(load_json(r["pool_filter"]) or {}))
        r["pool_size"] = len(load_json(r["pool"]) or [])
    return rows


async def my_targets(user: CurrentUser) -> list[dict]:
    """An officer's spot checks not yet submitted."""
    rows = await SpotCheckTarget.select(
        SpotCheckTarget.id, SpotCheckTarget.unit.name, SpotCheckTarget.unit.township.name,
        SpotCheckTarget.draw.id, SpotCheckTarget.draw.created_at, SpotCheckTarget.inspection.uuid,
        SpotCheckTarget.inspection.status,
    ).where(SpotCheckTarget.officer == user.id).order_by(SpotCheckTarget.id)
    return [r for r in rows if r["inspection.status"] in (None, "draft", "sent_back")]


async def start_target(user: CurrentUser, target_id: int, uuid: str) -> Inspection:
    target = await SpotCheckTarget.objects().where(SpotCheckTarget.id == target_id).first()
    if target is None or target.officer != user.id:
        raise NotFoundException("抽查任务不存在")
    if target.inspection:
        existing = await Inspection.objects().where(Inspection.id == target.inspection).first()
        if existing is not None:
            return existing
    site = await Site.select(Site.id).where(Site.unit == target.unit).order_by(Site.id).first()
    if site is None:
        raise Conflict("该单位没有登记服务目标，请联系办公室")
    reused = await Inspection.select(Inspection.site, Inspection.kind).where(Inspection.uuid == uuid).first()
    if reused is not None and (reused["site"] != site["id"] or reused["kind"] != InspectionKind.spot_check):
        # An id already used for another site's (or another kind of) inspection: never link it.
        raise Conflict("编号冲突，请刷新页面后重试")
    async with atomic():
        insp = await inspections.start(user, site["id"], uuid, kind=InspectionKind.spot_check)
        again = await SpotCheckTarget.select(SpotCheckTarget.inspection).where(SpotCheckTarget.id == target.id).first()
        if again["inspection"] is None:  # else a concurrent replay of this start recorded it
            await SpotCheckTarget.update({SpotCheckTarget.inspection: insp.id}).where(SpotCheckTarget.id == target.id)
            await audit.record("start", "spot_check_target", target.id, actor=user, before={"inspection": None},
                               after={"inspection": insp.id})
    return insp


def public_key(secret: str, draw_id: int) -> str:
    """The draw's public address: its id with an HMAC under SECRET_KEY, so the results of
    draws cannot be found by counting."""
    mac = hmac.new(secret.encode(), f"spotcheck-public:{draw_id}".encode(), hashlib.sha256).hexdigest()
    return f"{draw_id}-{mac[:24]}"


def draw_of_public_key(secret: str, key: str) -> int:
    head = key.split("-", 1)[0]
    if not head.isdigit() or not hmac.compare_digest(public_key(secret, int(head)), key):
        raise NotFoundException("抽查记录不存在")
    return int(head)


async def public_results(secret: str, key: str) -> dict:
    """What may be published: the draw's date, how it was drawn (seed, size of the pool), and
    for each target whose inspection has been submitted the unit's name, the result and the
    date; the others only as a number. No officer, no person."""
    draw_id = draw_of_public_key(secret, key)
    d = await get_draw(draw_id)
    rows = await targets(draw_id)
    done = [r for r in rows if r["inspection.status"] not in (None, "draft")]
    return {"draw": {"id": d["id"], "created_at": d["created_at"], "seed": d["seed"], "n": d["n"],
                     "pool_size": len(load_json(d["pool"]) or [])},
            "rows": [{"unit": r["unit.name"], "result": r["result"], "date": r["inspection.submitted_at"]}
                     for r in done],
            "waiting": len(rows) - len(done)}
