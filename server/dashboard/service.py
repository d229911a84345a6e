"""What the dashboard shows, computed for one day (`today`), for the whole district."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from server import db
from server.models.campaign import Campaign, Phase, ReportingDeadline, Township
from server.dashboard import charts
from server.campaign.checklist import FOCUS_AREAS
from server.ledger import coverage, queries
from server.ledger.row import SUBSET_OF
from server.ledger import service as ledger
from server.ledger.columns import ACTION_COLUMNS, VIOLATION_COLUMNS
from server.models.ledger import WeeklyReport
from server.models.rectification import RectificationOrder
from server.registry import service as registry
from server.vocab import BodyScope, FindingStatus, OrderStatus

UPCOMING_DAYS = 14
# Columns whose sum is "violations found" and "actions taken" in the trend (11 and 13 are
# already inside 10 and 12, so they are left out to avoid counting them twice).
TREND_VIOLATIONS = tuple(c for c in VIOLATION_COLUMNS if c not in SUBSET_OF)
TREND_ACTIONS = ACTION_COLUMNS


@dataclass
class PhaseState:
    state: str  # before, running, after
    phase: dict | None
    days_left_phase: int | None
    days_left_campaign: int | None
    days_to_start: int | None
    phases: list[dict]


def phase_state(campaign: Campaign, phases: list[dict], today: dt.date) -> PhaseState:
    """Where today falls: before the campaign, in a phase (the later one where two overlap on
    a boundary day), or after it; days left count today as a working day."""
    if today < campaign.starts_on:
        return PhaseState("before", None, None, None, (campaign.starts_on - today).days, phases)
    if today > campaign.ends_on:
        return PhaseState("after", None, None, None, None, phases)
    current = None
    for p in phases:
        if p["starts_on"] <= today <= p["ends_on"]:
            current = p
    left_phase = (current["ends_on"] - today).days + 1 if current else None
    return PhaseState("running", current, left_phase, (campaign.ends_on - today).days + 1, None, phases)


@dataclass
class DeadlineRow:
    title: str
    due_on: dt.date
    kind: str
    done: bool
    overdue: bool
    days: int  # days until due (negative: overdue)


def deadlines(rows: list[dict], submitted_weeks: set[dt.date], today: dt.date) -> tuple[list[DeadlineRow], list[DeadlineRow]]:
    """(overdue, upcoming): weekly reports still unsubmitted after their day, and everything
    due in the next UPCOMING_DAYS days (at least the next deadline, however far)."""
    out = []
    for r in rows:
        done = r["kind"] == "weekly" and r["due_on"] in submitted_weeks
        days = (r["due_on"] - today).days
        out.append(DeadlineRow(r["title"], r["due_on"], r["kind"], done, days < 0 and r["kind"] == "weekly" and not done, days))
    overdue = [d for d in out if d.overdue]
    upcoming = [d for d in out if 0 <= d.days <= UPCOMING_DAYS]
    if not upcoming:
        upcoming = [d for d in out if d.days >= 0][:1]
    return overdue, upcoming


async def overview(campaign: Campaign, today: dt.date) -> dict:
    phases = await Phase.select().where(Phase.campaign == campaign.id).order_by(Phase.starts_on)
    deadline_rows = await ReportingDeadline.select().where(
        (ReportingDeadline.campaign == campaign.id) & ReportingDeadline.body.is_null()).order_by(ReportingDeadline.due_on)
    submitted = {r["week_ending"] for r in await WeeklyReport.select(WeeklyReport.week_ending).where(
        (WeeklyReport.campaign == campaign.id) & WeeklyReport.body.is_null())}
    overdue, upcoming = deadlines(deadline_rows, submitted, today)

    # Findings of this campaign by focus area: confirmed, and still awaiting review.
    by_area: Counter = Counter()
    pending: Counter = Counter()
    for r in await db.raw(
            "SELECT f.area AS area, f.status AS status, COUNT(*) AS n FROM finding f "
            "JOIN inspection i ON i.id = f.inspection WHERE i.campaign = {} AND f.status IN ({}, {}) "
            "GROUP BY f.area, f.status", campaign.id, FindingStatus.confirmed.value, FindingStatus.submitted.value):
        (by_area if r["status"] == FindingStatus.confirmed else pending)[r["area"]] += int(r["n"])
    area_chart = charts.hbars([(f"{a.number}. {a.title}", by_area[a.number], "/ledger/findings?status=confirmed")
                               for a in FOCUS_AREAS], label_width=150)

    # Confirmed findings counted as of today (each record once), per reporting body and per
    # township: one grouped query (the statistics table's rules).
    counted = await queries.count(campaign.id, today, sources=[queries.FINDINGS])
    bodies = await ledger.all_bodies()
    body_items = [(b["short_name"] or b["name"], counted.finding_records(ledger.body_scope(b)), f"/stats?body={b['id']}")
                  for b in bodies if b["scope"] != BodyScope.district]
    townships = await Township.select(Township.id, Township.name).order_by(Township.ordinal)
    per_township = counted.findings_by_township()
    township_items = [(t["name"], per_township[t["id"]], f"/ledger/findings?status=confirmed&township={t['id']}")
                      for t in townships]

    # Collection rates of guards on duty now, per township of their employer.
    per_town = await registry.collection_by_township()

    def total_of(field: str) -> int:
        return sum(int(r[field] or 0) for r in per_town.values())

    total = total_of("guards")
    rates = [
        charts.rate("照片采集", total_of("photo"), total),
        charts.rate("指纹采集", total_of("fingerprint"), total),
        charts.rate("照片和指纹均已采集", total_of("both_"), total),
        charts.rate("持保安员证", total_of("valid"), total),
    ]
    town_rates = [charts.rate(t["name"], int(per_town[t["id"]]["both_"] or 0), int(per_town[t["id"]]["guards"]))
                  for t in townships if t["id"] in per_town and per_town[t["id"]]["guards"]]

    # Rectification orders: open and overdue.
    orders = await RectificationOrder.select(
        RectificationOrder.number, RectificationOrder.status, RectificationOrder.deadline, RectificationOrder.unit.name,
    ).where(RectificationOrder.campaign == campaign.id).order_by(RectificationOrder.deadline)
    by_status = Counter(o["status"] for o in orders)
    overdue_orders = [dict(o, days=(today - o["deadline"]).days) for o in orders
                      if o["status"] in (OrderStatus.ordered, OrderStatus.not_rectified) and o["deadline"] < today]

    trend = await ledger.week_trend(campaign, today, TREND_VIOLATIONS + TREND_ACTIONS)
    trend_chart = charts.lines(
        [(f"{t['week'].ending.month}/{t['week'].ending.day}", t["frozen"]) for t in trend],
        [("发现违法违规", "violations", [sum(t["values"][c] for c in TREND_VIOLATIONS) for t in trend]),
         ("查处整顿", "actions", [sum(t["values"][c] for c in TREND_ACTIONS) for t in trend])])

    # Coverage (全覆盖): units inspected at least once, per body and per township, one query.
    found = await coverage.groups(campaign.id)
    body_coverage = [(b["short_name"] or b["name"], coverage.coverage_of(found, ledger.body_scope(b)), f"/coverage?body={b['id']}")
                     for b in bodies if b["active"]]
    per_town_cov = coverage.by_township(found)
    township_coverage = [(t["name"], per_town_cov.get(t["id"], coverage.Coverage(0, 0)), f"/coverage?township={t['id']}")
                         for t in townships]

    return {
        "body_coverage": body_coverage, "township_coverage": township_coverage,
        "phase": phase_state(campaign, phases, today),
        "overdue_deadlines": overdue, "upcoming_deadlines": upcoming,
        "area_chart": area_chart, "pending_total": sum(pending.values()), "confirmed_total": sum(by_area.values()),
        "body_chart": charts.hbars(body_items, label_width=100),
        "township_chart": charts.hbars(township_items, label_width=100),
        "rates": rates, "town_rates": town_rates, "guards_on_duty": total,
        "orders_open": sum(by_status[s] for s in ledger.OPEN_ORDER), "orders_total": len(orders),
        "orders_by_status": [(s, by_status[s.value]) for s in OrderStatus],
        "overdue_orders": overdue_orders,
        "trend_chart": trend_chart, "trend": trend,
    }
