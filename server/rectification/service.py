"""Rectification orders (责令限期整改): ordering from confirmed findings, the notice, status
changes, counted outcomes and per-guard actions, the re-inspection list (回头看) and the
filing lifecycle. Rules are in rules.py; this module loads, checks and writes, every write in
one transaction with its audit entry.

Orders are police work: the office and officers (district scope) read and write them,
leaders read. Liaisons never reach these routes (opt roles), so nothing here takes a Scope.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from litestar.exceptions import NotFoundException, PermissionDeniedException

from server import clock, db
from server.audit import service as audit
from server.audit.service import snapshot
from server.auth.scope import CurrentUser
from server.models.auth import User
from server.campaign.options import default_notice_prefix, options_of, rectify_days
from server.models.campaign import Body, Campaign, Phase
from server.db import atomic, lock
from server.errors import FormError
from server.inspections import service as inspections
from server.errors import Conflict
from server.models.inspections import Finding, Inspection
from server.rectification import rules
from server.models.rectification import GuardAction, RectificationOrder, RectificationOutcome
from server.models.registry import Guard, Site, Unit
from server.vocab import (
    SELF_RECRUITING_KINDS,
    CertStatus,
    EmploymentStatus,
    FilingStatus,
    FindingStatus,
    GuardActionKind,
    InspectionKind,
    OrderStatus,
    Role,
)

_NUMBER_LOCK = 7_734_006  # db.lock key: one notice number at a time



def ensure_police(user: CurrentUser) -> None:
    if user.role not in (Role.office, Role.officer):
        raise PermissionDeniedException("只有办公室和民警可以办理整改")


async def phases_of(campaign_id: int) -> list[rules.PhaseSpan]:
    return [rules.PhaseSpan(p["name"], p["starts_on"], p["ends_on"]) for p in
            await Phase.select(Phase.name, Phase.starts_on, Phase.ends_on).where(Phase.campaign == campaign_id)]


# ---------------------------------------------------------------- what waits for an order

def _confirmed_unordered(campaign_id: int) -> Any:
    """Confirmed findings on no order; a repeat found at 回头看 is already on its earlier
    finding's order (复查仍未整改)."""
    return ((Finding.status == FindingStatus.confirmed) & Finding.order.is_null() & Finding.repeat_of.is_null()
            & (Finding.inspection.campaign == campaign_id))


PENDING_PAGE_SIZE = 50


async def pending_units(campaign: Campaign, page: int = 1) -> tuple[list[dict], bool]:
    """Units with confirmed findings not yet on any order, in the order of their first such
    finding (then by id): one page (PENDING_PAGE_SIZE units) and whether another follows.
    Grouped in SQL; then the distinct focus areas of the page's units."""
    rows = await db.raw(
        "SELECT u.id AS id, u.name AS name, t.name AS township, COUNT(*) AS findings "
        "FROM finding f JOIN inspection i ON i.id = f.inspection JOIN unit u ON u.id = f.unit "
        "LEFT JOIN township t ON t.id = u.township "
        'WHERE i.campaign = {} AND f.status = {} AND f."order" IS NULL AND f.repeat_of IS NULL '
        "GROUP BY u.id, u.name, t.name ORDER BY MIN(f.id), u.id LIMIT {} OFFSET {}",
        campaign.id, FindingStatus.confirmed.value, PENDING_PAGE_SIZE + 1,
        (max(page, 1) - 1) * PENDING_PAGE_SIZE)
    more, rows = len(rows) > PENDING_PAGE_SIZE, rows[:PENDING_PAGE_SIZE]
    if not rows:
        return [], more
    areas: dict[int, set[int]] = defaultdict(set)
    for r in await Finding.select(Finding.unit, Finding.area).where(
            _confirmed_unordered(campaign.id) & Finding.unit.is_in([r["id"] for r in rows])).distinct():
        areas[r["unit"]].add(r["area"])
    return [{"id": r["id"], "name": r["name"], "township": r["township"] or "", "findings": int(r["findings"]),
             "areas": sorted(areas[r["id"]])} for r in rows], more


FILING_PAGE_SIZE = 50


def _filing_alert_clause(day: dt.date) -> Any:
    """rules.filing_alert as SQL: self-recruiting units unfiled (and not stopped), or stopped
    more than STALE_FILING_DAYS days before `day` with the filing neither revoked nor dated."""
    stale_before = day - dt.timedelta(days=rules.STALE_FILING_DAYS)
    unfiled = Unit.service_stopped_on.is_null() & Unit.filing_status.is_in(
        [FilingStatus.unfiled.value, FilingStatus.not_required.value])
    stale = (Unit.service_stopped_on.is_not_null() & (Unit.service_stopped_on < stale_before)
             & (Unit.filing_status == FilingStatus.filed.value) & Unit.filing_revoked_on.is_null())
    return Unit.kind.is_in(list(SELF_RECRUITING_KINDS)) & (unfiled | stale)


async def filing_alerts(campaign: Campaign, day: dt.date, page: int = 1) -> tuple[list[dict], bool]:
    """Self-recruiting units that must file and have not, or stopped service more than 30
    days ago without revoking the filing; with the open order of each, if any. One page
    (FILING_PAGE_SIZE units, by name) and whether another follows."""
    units = await Unit.select(
        Unit.id, Unit.name, Unit.kind, Unit.filing_status, Unit.filing_no, Unit.service_stopped_on,
        Unit.filing_revoked_on, Unit.township.name,
    ).where(_filing_alert_clause(day)).order_by(Unit.name).order_by(Unit.id).limit(
        FILING_PAGE_SIZE + 1).offset((max(page, 1) - 1) * FILING_PAGE_SIZE)
    more, units = len(units) > FILING_PAGE_SIZE, units[:FILING_PAGE_SIZE]
    out = []
    for u in units:
        alert = rules.filing_alert(u["kind"], u["filing_status"], u["service_stopped_on"],
                                   u["filing_revoked_on"], day)
        if alert is not None:
            out.append({**u, "alert": alert, "order": None})
    if out:
        orders = await RectificationOrder.select(
            RectificationOrder.id, RectificationOrder.number, RectificationOrder.deadline,
            RectificationOrder.status, RectificationOrder.unit,
        ).where((RectificationOrder.campaign == campaign.id)
                & RectificationOrder.unit.is_in([u["id"] for u in out])
                & RectificationOrder.status.is_in(list(rules.OPEN)))
        by_unit = {o["unit"]: o for o in orders}
        for u in out:
            u["order"] = by_unit.get(u["id"])
            if u["order"]:
                u["order"]["due"] = rules.due_state(u["order"]["status"], u["order"]["deadline"], day)
    return out, more


async def record_revocation(user: CurrentUser, unit_id: int, revoked_on: dt.date) -> None:
    """The unit revoked its filing (it stopped service): the alert ends."""
    ensure_police(user)
    unit = await Unit.objects().where(Unit.id == unit_id).first()
    if unit is None:
        raise NotFoundException("单位不存在")
    if unit.filing_status != FilingStatus.filed:
        raise Conflict("该单位当前没有有效备案，无需撤销")
    before = snapshot(unit, ("filing_status", "filing_revoked_on"))
    async with atomic():
        await Unit.update({Unit.filing_status: FilingStatus.revoked, Unit.filing_revoked_on: revoked_on,
                           Unit.updated_at: clock.now()}).where(Unit.id == unit.id)
        await audit.record("revoke_filing", "unit", unit.id, actor=user, before=before,
                           after={"filing_status": FilingStatus.revoked.value, "filing_revoked_on": str(revoked_on)})


# ---------------------------------------------------------------- ordering

async def _unit(unit_id: int) -> Unit:
    unit = await Unit.objects().where(Unit.id == unit_id).first()
    if unit is None:
        raise NotFoundException("单位不存在")
    return unit


async def order_form(campaign: Campaign, unit_id: int, day: dt.date) -> dict:
    unit = await _unit(unit_id)
    findings = await inspections.findings_with_photos(_confirmed_unordered(campaign.id) & (Finding.unit == unit_id))
    options = options_of(campaign)
    alert = rules.filing_alert(unit.kind, unit.filing_status, unit.service_stopped_on, unit.filing_revoked_on, day)
    filing = alert is not None and alert.kind == "unfiled"
    areas = {f["area"] for f in findings} | ({5} if filing and not findings else set())
    deadline = rules.default_deadline(day, areas, options)
    township = await Unit.select(Unit.township.name).where(Unit.id == unit_id).first()
    return {"unit": unit, "township": township["township.name"] or "", "findings": findings,
            "filing": filing, "deadline": deadline, "today": day,
            "days": {a: rectify_days(options, a) for a in sorted(areas)},
            "warning": rules.deadline_warning(deadline, campaign.ends_on)}


async def create_order(user: CurrentUser, campaign: Campaign, unit_id: int, finding_ids: list[int],
                       deadline: dt.date | None, note: str, *, filing: bool = False,
                       day: dt.date | None = None) -> RectificationOrder:
    """Order a unit to rectify the chosen confirmed findings by a deadline (default: by the
    focus areas). `filing`: the unit is self-recruiting and unfiled, which is ordered like a
    finding of area 5 even when no inspection found it."""
    ensure_police(user)
    day = day or clock.today()
    unit = await _unit(unit_id)
    options = options_of(campaign)
    async with atomic():
        chosen = await Finding.select(Finding.id, Finding.area, Finding.inspection).where(
            _confirmed_unordered(campaign.id) & (Finding.unit == unit_id) & Finding.id.is_in(finding_ids or [0]))
        if len(chosen) != len(set(finding_ids)):
            raise FormError({"findings": "所选问题中有的已下达整改或尚未确认，请刷新页面后重新选择"})
        areas = {f["area"] for f in chosen}
        if filing:
            alert = rules.filing_alert(unit.kind, unit.filing_status, unit.service_stopped_on, unit.filing_revoked_on, day)
            if alert is None or alert.kind != "unfiled":
                raise FormError({"findings": "该单位无需备案或已备案，不能按未备案下达整改"})
            areas.add(5)
            if not note:
                note = "自招保安单位未依法向公安机关备案"
        if not chosen and not filing:
            raise FormError({"findings": "请至少选择一项已确认的问题"})
        if deadline is None:
            deadline = rules.default_deadline(day, areas, options)
        problems = rules.deadline_problems(day, deadline)
        if problems:
            raise FormError(problems)
        number = await _next_number(campaign, options, day.year)
        inspection = max((f["inspection"] for f in chosen), default=None)
        order = RectificationOrder(number=number, campaign=campaign.id, unit=unit.id, inspection=inspection,
                                   issued_by=user.id, deadline=deadline, status=OrderStatus.ordered, note=note)
        await order.save()
        if chosen:
            await Finding.update({Finding.order: order.id, Finding.updated_at: clock.now()}).where(
                Finding.id.is_in([f["id"] for f in chosen]))
        await audit.record("create", "rectification_order", order.id, actor=user,
                           after={**snapshot(order), "findings": [f["id"] for f in chosen]})
        for f in chosen:
            await audit.record("order", "finding", f["id"], actor=user, before={"order": None},
                               after={"order": order.id})
    return order


async def _next_number(campaign: Campaign, options: dict, year: int) -> str:
    """Inside the caller's transaction: the next notice number of this campaign and year."""
    await lock(_NUMBER_LOCK)
    prefix = options.get("notice_prefix") or default_notice_prefix(campaign.district)
    existing = await RectificationOrder.select(RectificationOrder.number).where(
        RectificationOrder.number.like(f"{prefix}〔{year}〕%"))
    number = rules.notice_number(prefix, year, rules.next_notice_seq([r["number"] for r in existing], prefix, year))
    if len(number) > 32:
        raise FormError({"findings": "通知书文号前缀过长，请在专项设置中缩短"})
    return number


# ---------------------------------------------------------------- one order

async def get_order(order_id: int) -> RectificationOrder:
    order = await RectificationOrder.objects().where(RectificationOrder.id == order_id).first()
    if order is None:
        raise NotFoundException("整改单不存在")
    return order


async def unit_guards(unit_id: int) -> list[dict]:
    """Guards the order may act on: employed by the unit or posted at one of its sites."""
    return await Guard.select(
        Guard.id, Guard.name, Guard.certificate_no, Guard.certificate_status, Guard.employment_status,
        Guard.employer.name, Guard.site.name,
    ).where((Guard.employer == unit_id) | (Guard.site.unit == unit_id)).order_by(Guard.name).order_by(Guard.id)


async def order_detail(order_id: int, day: dt.date | None = None) -> dict:
    day = day or clock.today()
    order = await get_order(order_id)
    row = await RectificationOrder.select(
        RectificationOrder.all_columns(), RectificationOrder.unit.name, RectificationOrder.unit.kind,
        RectificationOrder.unit.address, RectificationOrder.unit.legal_rep, RectificationOrder.unit.township.name,
        RectificationOrder.unit.uscc, RectificationOrder.issued_by.display_name,
        RectificationOrder.issued_by.username, RectificationOrder.issued_by.body.name,
        RectificationOrder.campaign.name, RectificationOrder.campaign.district,
    ).where(RectificationOrder.id == order_id).first()
    findings = await inspections.findings_with_photos(Finding.order == order_id)
    outcomes = await RectificationOutcome.select(
        RectificationOutcome.all_columns(), RectificationOutcome.recorded_by.display_name,
    ).where(RectificationOutcome.order == order_id).order_by(RectificationOutcome.id)
    actions = await GuardAction.select(
        GuardAction.all_columns(), GuardAction.guard.name, GuardAction.recorded_by.display_name,
    ).where(GuardAction.order == order_id).order_by(GuardAction.id)
    reinspection = None
    if order.reinspection:
        reinspection = await Inspection.select(
            Inspection.id, Inspection.uuid, Inspection.status, Inspection.started_at, Inspection.submitted_at,
            Inspection.officer.id, Inspection.officer.display_name, Inspection.site.name,
        ).where(Inspection.id == order.reinspection).first()
    campaign = await Campaign.objects().where(Campaign.id == order.campaign).first()
    phase = rules.phase_at(order.deadline, await phases_of(order.campaign))
    return {
        "order": order, "row": row, "findings": findings, "outcomes": outcomes, "actions": actions,
        "guards": await unit_guards(order.unit), "reinspection": reinspection,
        "sites": await order_sites(order),
        "transitions": rules.available_actions(order.status),
        "due": rules.due_state(order.status, order.deadline, day), "deadline_phase": phase,
        "options": options_of(campaign) if campaign else {},
        "columns_recorded": [o["stat_column"] for o in outcomes],
        "is_self_recruiting": row["unit.kind"] in SELF_RECRUITING_KINDS,
    }


async def change_status(user: CurrentUser, order_id: int, action: str, punishment: str = "",
                        note: str = "") -> RectificationOrder:
    ensure_police(user)
    async with atomic():
        order = await get_order(order_id)
        insp_status = None
        if order.reinspection:
            r = await Inspection.select(Inspection.status).where(Inspection.id == order.reinspection).first()
            insp_status = r["status"] if r else None
        problems = rules.transition_problems(order.status, action, punishment=punishment,
                                             reinspection_status=insp_status)
        if problems:
            raise FormError(problems)
        t = rules.TRANSITIONS[action]
        before = snapshot(order)
        now = clock.now()
        order.status = t.target
        if action == "report":
            order.reported_at = now
        elif action == "verify":
            order.verified_at = now
        elif action == "escalate":
            order.escalated_at, order.punishment = now, punishment.strip()
        elif action == "close":
            order.closed_at = now
        if note.strip():
            line = f"{dt.datetime.now(clock.LOCAL_TZ):%Y-%m-%d} {t.label}：{note.strip()}"
            order.note = f"{order.note}\n{line}".strip()
        await order.save()
        await audit.record("status", "rectification_order", order.id, actor=user, before=before, after=snapshot(order))
    return order


# ---------------------------------------------------------------- outcomes and guard actions

async def _recorded_columns(order_id: int) -> list[int]:
    return [r["stat_column"] for r in await RectificationOutcome.select(RectificationOutcome.stat_column).where(
        RectificationOutcome.order == order_id)]


async def _unit_kind(order: RectificationOrder) -> str:
    return (await Unit.select(Unit.kind).where(Unit.id == order.unit).first())["kind"]


async def marked_guards(order_id: int) -> int:
    """Guards with a 特勤 mark recorded at the guard check behind the order's findings (column
    22 is traceable to them)."""

    rows = await Finding.select(Finding.guard_check).where(
        (Finding.order == order_id) & Finding.guard_check.is_not_null()
        & Finding.guard_check.tejin_marking.eq(True)).distinct()
    return len({r["guard_check"] for r in rows})


async def add_outcome(user: CurrentUser, order_id: int, column: int | None, quantity: int | None,
                      recorded_on: dt.date, note: str) -> RectificationOutcome:
    ensure_police(user)
    async with atomic():
        order = await get_order(order_id)
        problems = rules.outcome_problems(column, quantity, await _unit_kind(order), await _recorded_columns(order.id),
                                          await marked_guards(order.id) if column == 22 else None)
        if problems:
            raise FormError(problems)
        outcome = RectificationOutcome(order=order.id, stat_column=column, quantity=quantity,
                                       recorded_on=recorded_on, recorded_by=user.id, note=note)
        await outcome.save()
        await audit.record("create", "rectification_outcome", outcome.id, actor=user, after=snapshot(outcome))
    return outcome


async def record_filing(user: CurrentUser, order_id: int, filing_no: str, filed_on: dt.date) -> None:
    """The unit filed (经督促已办理自招单位备案): the registry says so, and column 21 counts it."""
    ensure_police(user)
    async with atomic():
        order = await get_order(order_id)
        unit = await _unit(order.unit)
        problems = rules.filing_outcome_problems(unit.kind, await _recorded_columns(order.id), filing_no)
        if problems:
            raise FormError(problems)
        before = snapshot(unit, ("filing_status", "filing_no", "filed_on"))
        await Unit.update({Unit.filing_status: FilingStatus.filed, Unit.filing_no: filing_no.strip(),
                           Unit.filed_on: filed_on, Unit.updated_at: clock.now()}).where(Unit.id == unit.id)
        await audit.record("file", "unit", unit.id, actor=user, before=before,
                           after={"filing_status": FilingStatus.filed.value, "filing_no": filing_no.strip(),
                                  "filed_on": str(filed_on)})
        outcome = RectificationOutcome(order=order.id, stat_column=21, quantity=1, recorded_on=filed_on,
                                       recorded_by=user.id, note=f"备案编号 {filing_no.strip()}")
        await outcome.save()
        await audit.record("create", "rectification_outcome", outcome.id, actor=user, after=snapshot(outcome))


GUARD_EFFECTS = {
    GuardActionKind.removed.value: "已调离保安岗位",
    GuardActionKind.dismissed.value: "已依法辞退",
    GuardActionKind.certified.value: "已办理保安员证",
}


async def guard_action(user: CurrentUser, order_id: int, guard_id: int | None, action: str,
                       done_on: dt.date, certificate_no: str = "") -> GuardAction:
    """调离 / 辞退 / 办证 for one guard of the unit. The guard's record follows (employment or
    certificate status), and a certificate obtained counts in column 20 (人)."""
    ensure_police(user)
    if guard_id is None:
        raise FormError({"guard_id": "请选择保安员"})
    async with atomic():
        order = await get_order(order_id)
        guards = {g["id"]: g for g in await unit_guards(order.unit)}
        if guard_id not in guards:
            raise FormError({"guard_id": "该保安员不属于此单位"})
        guard = await Guard.objects().where(Guard.id == guard_id).first()
        if await GuardAction.exists().where((GuardAction.order == order.id) & (GuardAction.guard == guard_id)
                                             & (GuardAction.action == action)):
            raise FormError({"action": f"{guard.name} 在本整改单中已登记过“{GuardActionKind.label_of(action)}”"})
        fields = ("employment_status", "left_on", "certificate_status", "certificate_no", "certificate_issued_on")
        before = snapshot(guard, fields)
        if action in (GuardActionKind.removed, GuardActionKind.dismissed):
            if guard.employment_status != EmploymentStatus.active:
                raise FormError({"action": f"{guard.name} 当前为“{EmploymentStatus.label_of(guard.employment_status)}”，不在岗"})
            guard.employment_status = (EmploymentStatus.removed if action == GuardActionKind.removed
                                       else EmploymentStatus.dismissed)
            guard.left_on = done_on
        elif action == GuardActionKind.certified:
            if guard.certificate_status == CertStatus.valid:
                raise FormError({"action": f"{guard.name} 已持有有效的保安员证"})
            number = certificate_no.strip().upper() or (guard.certificate_no or "")
            if not number:
                raise FormError({"certificate_no": "请填写新办理的保安员证号"})
            taken = await Guard.exists().where((Guard.certificate_no == number) & (Guard.id != guard.id))
            if taken:
                raise FormError({"certificate_no": "该保安员证号已登记给其他保安员"})
            guard.certificate_status, guard.certificate_no, guard.certificate_issued_on = CertStatus.valid, number, done_on
        else:
            raise FormError({"action": "请选择处理方式"})
        guard.updated_at = clock.now()
        await guard.save()
        await audit.record(action, "guard", guard.id, actor=user, before=before, after=snapshot(guard, fields))
        row = GuardAction(order=order.id, guard=guard.id, action=action, done_on=done_on, recorded_by=user.id)
        await row.save()
        await audit.record("create", "guard_action", row.id, actor=user, after=snapshot(row))
        if action == GuardActionKind.certified:
            outcome = RectificationOutcome(order=order.id, stat_column=20, quantity=1, recorded_on=done_on,
                                           recorded_by=user.id, note=f"保安员 {guard.name} 已办理保安员证")
            await outcome.save()
            await audit.record("create", "rectification_outcome", outcome.id, actor=user, after=snapshot(outcome))
    return row


# ---------------------------------------------------------------- lists

async def list_orders(campaign: Campaign, day: dt.date, status: str = "", township: int | None = None,
                      limit: int = 200) -> list[dict]:
    query = RectificationOrder.select(
        RectificationOrder.id, RectificationOrder.number, RectificationOrder.status, RectificationOrder.deadline,
        RectificationOrder.issued_at, RectificationOrder.unit.name, RectificationOrder.unit.township.name,
    ).where(RectificationOrder.campaign == campaign.id)
    if status == "open":
        query = query.where(RectificationOrder.status.is_in(list(rules.OPEN)))
    elif status:
        query = query.where(RectificationOrder.status == status)
    if township:
        query = query.where(RectificationOrder.unit.township == township)
    rows = await query.order_by(RectificationOrder.deadline).order_by(RectificationOrder.id).limit(limit)
    for r in rows:
        r["due"] = rules.due_state(r["status"], r["deadline"], day)
    return rows


DUE_LIST_MAX = 300
"""Orders the 回头看 list shows at most (the soonest due; filters narrow it): a province has
tens of thousands open, more than a page can usefully show or quickly render."""


def _due_where(campaign: Campaign, day: dt.date, township: int | None, officer: int | None) -> Any:
    """The 回头看 list's orders in SQL (rules.needs_reinspection: reported, or ordered with the
    deadline within the horizon or past), with the filters: the township of the unit, the
    officer who inspected (else who ordered: RectificationOrder.officer, kept by the database)."""
    O = RectificationOrder
    where = (O.campaign == campaign.id) & (
        (O.status == OrderStatus.reported.value)
        | ((O.status == OrderStatus.ordered.value) & (O.deadline <= day + dt.timedelta(days=rules.DUE_HORIZON_DAYS))))
    if township:
        where &= O.unit.township == township
    if officer:
        where &= O.officer == officer
    return where


async def due_count(campaign: Campaign, day: dt.date, township: int | None = None,
                    officer: int | None = None) -> int:
    return await RectificationOrder.count().where(_due_where(campaign, day, township, officer))


async def due_list(campaign: Campaign, day: dt.date, township: int | None = None,
                   officer: int | None = None, limit: int = DUE_LIST_MAX) -> list[dict]:
    """回头看: orders reported rectified or near or past their deadline, by due date (the
    first `limit`). The officer of an order is who inspected (else who ordered)."""
    rows = await RectificationOrder.select(
        RectificationOrder.id, RectificationOrder.number, RectificationOrder.status, RectificationOrder.deadline,
        RectificationOrder.unit.id, RectificationOrder.unit.name, RectificationOrder.unit.township.id,
        RectificationOrder.unit.township.name, RectificationOrder.issued_by.id,
        RectificationOrder.issued_by.display_name, RectificationOrder.inspection.officer.id,
        RectificationOrder.inspection.officer.display_name, RectificationOrder.reinspection.uuid,
        RectificationOrder.reinspection.status,
    ).where(_due_where(campaign, day, township, officer)
            ).order_by(RectificationOrder.deadline).order_by(RectificationOrder.id).limit(limit)
    phases = await phases_of(campaign.id)
    out = []
    for r in rows:
        if not rules.needs_reinspection(r["status"], r["deadline"], day):
            continue
        r["officer_id"] = r["inspection.officer.id"] or r["issued_by.id"]
        r["officer_name"] = r["inspection.officer.display_name"] or r["issued_by.display_name"] or ""
        if township and r["unit.township.id"] != township:
            continue
        if officer and r["officer_id"] != officer:
            continue
        r["due"] = rules.due_state(r["status"], r["deadline"], day)
        r["phase"] = rules.phase_at(r["deadline"], phases)
        r["township"] = r["unit.township.name"] or "未定乡镇街"
        out.append(r)
    return out


# ---------------------------------------------------------------- re-inspection (回头看)

async def order_sites(order: RectificationOrder) -> list[dict]:
    """Where the order can be re-inspected: the site where its violation was found (the
    offender may be a provider posted at another unit's site, or unregistered), then the
    unit's own sites and the sites it guards, by name."""
    found_at = []
    prior = await Inspection.select(Inspection.site).where(Inspection.id == order.inspection).first() \
        if order.inspection else None
    if prior:
        found_at = await Site.select(Site.id, Site.name).where(Site.id == prior["site"])
    rows = await Site.select(Site.id, Site.name).where(
        (Site.unit == order.unit) | (Site.provider == order.unit)).order_by(Site.name).order_by(Site.id)
    return found_at + [r for r in rows if r["id"] not in {f["id"] for f in found_at}]


async def start_reinspection(user: CurrentUser, order_id: int, site_id: int | None, uuid: str) -> Inspection:
    """Start (or reopen) the order's re-inspection: the same phone flow, kind 回头看."""
    if user.role != Role.officer:
        raise PermissionDeniedException("回头看由民警开展")
    order = await get_order(order_id)
    if order.reinspection:
        existing = await Inspection.objects().where(Inspection.id == order.reinspection).first()
        if existing is not None:
            if existing.officer != user.id and existing.status in inspections.EDITABLE:
                raise Conflict("其他民警已开始此回头看")
            return existing
    if order.status not in (OrderStatus.ordered, OrderStatus.reported):
        raise Conflict("该整改单已有复查结论，不需要再回头看")
    prior = await Inspection.select(Inspection.site).where(Inspection.id == order.inspection).first() \
        if order.inspection else None
    sites = [s["id"] for s in await order_sites(order)]
    if not sites:
        raise Conflict("该单位没有登记服务目标，请先在名册中登记")
    if site_id is None:
        site_id = prior["site"] if prior and prior["site"] in sites else sites[0]
    if site_id not in sites:
        raise FormError({"site_id": "所选服务目标不属于该单位"})
    async with atomic():
        insp = await inspections.start(user, site_id, uuid, kind=InspectionKind.reinspection)
        again = await get_order(order_id)
        if again.reinspection is None:
            await RectificationOrder.update({RectificationOrder.reinspection: insp.id}).where(
                RectificationOrder.id == order_id)
            await audit.record("reinspect", "rectification_order", order_id, actor=user,
                               before={"reinspection": None}, after={"reinspection": insp.id})
    return insp


# ---------------------------------------------------------------- the notice

async def notice(order_id: int) -> dict:
    d = await order_detail(order_id)
    police = await Body.select(Body.name).where(Body.is_police == True).order_by(Body.id).first()  # noqa: E712
    d["issuer"] = d["row"]["issued_by.body.name"] or (police["name"] if police else "")
    d["legal_basis"] = (d["options"].get("legal_basis") or "").strip()
    d["issued_on"] = d["order"].issued_at.astimezone(clock.LOCAL_TZ).date() if d["order"].issued_at else clock.today()
    d["filing"] = rules.is_filing_order([(f["area"], f["stat_column"]) for f in d["findings"]], d["is_self_recruiting"])
    return d


async def users_by_role(role: str) -> list[dict]:
    return await User.select(User.id, User.username, User.display_name).where(
        (User.role == role) & (User.active == True)).order_by(User.display_name).order_by(User.id)  # noqa: E712

