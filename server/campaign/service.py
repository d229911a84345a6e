"""The active campaign, where a date falls in it, and the office's settings of it."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from litestar.exceptions import NotFoundException

from server.audit import service as audit
from server.audit.service import snapshot
from server.campaign import options as options_mod
from server.campaign.checklist import AREA_NUMBERS
from server.campaign.options import options_of
from server.db import atomic
from server.errors import FormError
from server.models.campaign import Body, Campaign, Phase, ReportingDeadline


async def active_campaign() -> Campaign | None:
    return await Campaign.objects().where(Campaign.active == True).order_by(  # noqa: E712
        Campaign.starts_on, ascending=False).first()


async def phase_on(campaign_id: int, day: dt.date) -> Phase | None:
    """The phase whose dates contain the day; before the first phase, the first; after the
    last, the last (late entries still belong to the campaign)."""
    phases = await Phase.objects().where(Phase.campaign == campaign_id).order_by(Phase.starts_on)
    if not phases:
        return None
    for p in phases:
        if p.starts_on <= day <= p.ends_on:
            return p
    return phases[0] if day < phases[0].starts_on else phases[-1]


# ================================================================ the office's settings
# Phases, reporting deadlines and the campaign's options are data the office edits here;
# nothing about a campaign's dates is written in code.

DUE_HORIZON_DAYS = 14
"""A reporting deadline is shown as a reminder this many days ahead (and the next one always)."""


async def require_active() -> Campaign:
    campaign = await active_campaign()
    if campaign is None:
        raise NotFoundException("当前没有进行中的专项行动")
    return campaign


async def settings(campaign: Campaign) -> dict[str, Any]:
    options = options_of(campaign)
    return {
        "campaign": campaign,
        "phases": await Phase.select().where(Phase.campaign == campaign.id).order_by(Phase.starts_on).order_by(Phase.id),
        "deadlines": await ReportingDeadline.select(ReportingDeadline.all_columns(), ReportingDeadline.body.name).where(
            ReportingDeadline.campaign == campaign.id).order_by(ReportingDeadline.due_on).order_by(ReportingDeadline.id),
        "bodies": await Body.select(Body.id, Body.name, Body.active).order_by(Body.ordinal).order_by(Body.id),
        "options": options,
        "rectify_days": {a: options_mod.rectify_days(options, a) for a in AREA_NUMBERS},
        "notice_prefix": options.get("notice_prefix") or options_mod.default_notice_prefix(campaign.district),
        "clue_days": options_mod.clue_response_days(options),
        "count_on": options_mod.count_on(options),
        "COUNT_ON_CHOICES": options_mod.COUNT_ON_CHOICES,
    }


async def save_options(user: Any, campaign: Campaign, values: dict[str, Any]) -> None:
    """values: rectify_days {area: days}, legal_basis, notice_prefix, clue_response_days."""
    before = options_of(campaign)
    after = {**before, "rectify_days": {str(a): d for a, d in values["rectify_days"].items()},
             "legal_basis": values["legal_basis"], "notice_prefix": values["notice_prefix"],
             "clue_response_days": values["clue_response_days"]}
    async with atomic():
        await Campaign.update({Campaign.options: json.dumps(after, ensure_ascii=False)}).where(
            Campaign.id == campaign.id)
        await audit.record("update_options", "campaign", campaign.id, actor=user,
                           before={"options": before}, after={"options": after})


async def save_count_on(user: Any, campaign: Campaign, value: str) -> None:
    """统计日期: which day a confirmed finding counts on in the statistics table (the day found,
    the default, or the day the office confirmed it). Audited like the other options; saving
    the value already set writes nothing."""
    if value not in options_mod.COUNT_ON:
        raise FormError({"count_on": "统计日期的取值无效"})
    before = options_of(campaign)
    if before.get("count_on") == value:
        return
    after = {**before, "count_on": value}
    async with atomic():
        await Campaign.update({Campaign.options: json.dumps(after, ensure_ascii=False)}).where(
            Campaign.id == campaign.id)
        await audit.record("update_options", "campaign", campaign.id, actor=user,
                           before={"options": before}, after={"options": after})
    campaign.options = json.dumps(after, ensure_ascii=False)


async def _phase(campaign: Campaign, phase_id: int) -> Phase:
    row = await Phase.objects().where((Phase.id == phase_id) & (Phase.campaign == campaign.id)).first()
    if row is None:
        raise NotFoundException("阶段不存在")
    return row


async def save_phase(user: Any, campaign: Campaign, phase_id: int | None, values: dict[str, Any]) -> Phase:
    """values: name, starts_on, ends_on, description (validated by the route)."""
    if values["starts_on"] > values["ends_on"]:
        raise FormError({"ends_on": "结束日期不能早于开始日期"})
    async with atomic():
        if phase_id is None:
            count = await Phase.count().where(Phase.campaign == campaign.id)
            row = Phase(campaign=campaign.id, code=f"phase{count + 1}", ordinal=count + 1)
        else:
            row = await _phase(campaign, phase_id)
        await audit.save(user, "phase", row, values)
        await _fit_campaign_dates(campaign)
    return row


async def _fit_campaign_dates(campaign: Campaign) -> None:
    """The campaign runs from its first phase's start to its last phase's end."""
    phases = await Phase.select(Phase.starts_on, Phase.ends_on).where(Phase.campaign == campaign.id)
    if phases:
        start, end = min(p["starts_on"] for p in phases), max(p["ends_on"] for p in phases)
        if (start, end) != (campaign.starts_on, campaign.ends_on):
            await Campaign.update({Campaign.starts_on: start, Campaign.ends_on: end}).where(Campaign.id == campaign.id)
            campaign.starts_on, campaign.ends_on = start, end


async def _deadline(campaign: Campaign, deadline_id: int) -> ReportingDeadline:
    row = await ReportingDeadline.objects().where(
        (ReportingDeadline.id == deadline_id) & (ReportingDeadline.campaign == campaign.id)).first()
    if row is None:
        raise NotFoundException("报送时限不存在")
    return row


async def save_deadline(user: Any, campaign: Campaign, deadline_id: int | None, values: dict[str, Any]) -> ReportingDeadline:
    """values: title, due_on, kind, body (None: due from every body)."""
    row = ReportingDeadline(campaign=campaign.id) if deadline_id is None else await _deadline(campaign, deadline_id)
    if values.get("body") is not None and not await Body.exists().where(Body.id == values["body"]):
        raise FormError({"body": "所选填报单位不存在"})
    if values.get("body") is not None and values["body"] != row.body and not await Body.exists().where(
            (Body.id == values["body"]) & (Body.active == True)):  # noqa: E712 - kept where it already was
        raise FormError({"body": "所选填报单位已停用"})
    return await audit.save(user, "reporting_deadline", row, values)


async def delete_deadline(user: Any, campaign: Campaign, deadline_id: int) -> None:
    row = await _deadline(campaign, deadline_id)
    async with atomic():
        await ReportingDeadline.delete().where(ReportingDeadline.id == row.id)
        await audit.record("delete", "reporting_deadline", row.id, actor=user, before=snapshot(row))


# ---------------------------------------------------------------- what is due, per body

@dataclass(frozen=True)
class DueItem:
    title: str
    due_on: dt.date | None
    days: int | None
    overdue: bool
    link: str = ""

    @property
    def when(self) -> str:
        if self.days is None:
            return ""
        if self.days < 0:
            return f"已过 {-self.days} 天"
        return "今天" if self.days == 0 else f"还有 {self.days} 天"


def deadline_reminders(rows: list[dict], today: dt.date, horizon: int = DUE_HORIZON_DAYS) -> list[DueItem]:
    """Pure: the reporting deadlines to remind of — those due within the horizon, and at
    least the next one however far; earlier ones are past and not repeated."""
    ahead = sorted((r for r in rows if r["due_on"] >= today), key=lambda r: r["due_on"])
    near = [r for r in ahead if (r["due_on"] - today).days <= horizon] or ahead[:1]
    return [DueItem(r["title"], r["due_on"], (r["due_on"] - today).days, False) for r in near]


async def due_for_body(campaign: Campaign, body: dict, today: dt.date,
                       shown_elsewhere: tuple[str, ...] = ()) -> list[DueItem]:
    """What a reporting body has to do: its reporting deadlines (but for the kinds another part
    of the page lists with their status), and for the police the clues awaiting an answer and
    the overdue rectifications; for a department or township, its clues the police have not
    answered yet."""
    from server.models.rectification import ClueReferral, RectificationOrder
    from server.vocab import ClueStatus, OrderStatus

    rows = await ReportingDeadline.select(
        ReportingDeadline.title, ReportingDeadline.due_on, ReportingDeadline.kind).where(
        (ReportingDeadline.campaign == campaign.id)
        & (ReportingDeadline.body.is_null() | (ReportingDeadline.body == body["id"])))
    items = deadline_reminders([r for r in rows if r["kind"] not in shown_elsewhere], today)
    if not body.get("is_police"):
        # Late: the liaison and phone were due (the order's 12-15) and the office has none on file.
        late = await ReportingDeadline.select(ReportingDeadline.title, ReportingDeadline.due_on).where(
            (ReportingDeadline.campaign == campaign.id) & (ReportingDeadline.kind == "contacts")
            & (ReportingDeadline.due_on < today)
            & (ReportingDeadline.body.is_null() | (ReportingDeadline.body == body["id"]))).first()
        contact = await Body.select(Body.contact_name, Body.contact_phone).where(Body.id == body["id"]).first()
        if late and contact and not (contact["contact_name"] and contact["contact_phone"]):
            items.insert(0, DueItem(f"{late['title']}（尚未报送）", late["due_on"], (late["due_on"] - today).days, True))
    waiting = await ClueReferral.select(ClueReferral.response_due).where(
        (ClueReferral.status == ClueStatus.referred)
        & ((ClueReferral.to_body == body["id"]) if body.get("is_police") else (ClueReferral.from_body == body["id"])))
    if waiting:
        first = min(r["response_due"] for r in waiting)
        late = sum(1 for r in waiting if r["response_due"] < today)
        title = (f"待答复的线索 {len(waiting)} 条" if body.get("is_police") else f"已移交、公安机关尚未答复的线索 {len(waiting)} 条")
        if late:
            title += f"（其中逾期 {late} 条）"
        items.append(DueItem(title, first, (first - today).days, late > 0, "/clues"))
    if body.get("is_police"):
        overdue = await RectificationOrder.count().where(
            (RectificationOrder.campaign == campaign.id) & (RectificationOrder.status == OrderStatus.ordered)
            & (RectificationOrder.deadline < today))
        if overdue:
            items.append(DueItem(f"逾期未整改的整改单 {overdue} 份", None, None, True, "/rectification/due"))
    return items
