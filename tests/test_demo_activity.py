"""The demo in motion: seeded on any day, today falls in 集中整治 and every capability has
something to show — inspections awaiting review with photos, findings confirmed and sent back,
orders due and overdue, a re-inspection done, a spot-check draw, frozen weekly reports, a
clue in progress; the statistics table counts violations. Seeding again adds nothing."""

from __future__ import annotations

import datetime as dt

from server import clock
from server.campaign.service import phase_on
from server.demo.activity import seed_activity
from server.demo.seed import build_plan, seed_demo, shift_for
from server.models.campaign import Campaign
from server.models.evidence import Photo
from server.models.inspections import Inspection
from server.models.ledger import WeeklyReport
from server.models.rectification import ClueReferral, RectificationOrder, SpotCheckDraw
from tests.support.html import soup, visible_text


def test_any_day_falls_in_the_first_week_of_concentrated_action_and_fridays_stay_fridays():
    for day in (dt.date(2021, 1, 16), dt.date(2026, 11, 30), dt.date(2027, 3, 1), dt.date(2020, 6, 3)):
        plan = build_plan(day)
        phases = {p["code"]: p for p in plan.phases}
        concentrated = phases["concentrated"]
        assert concentrated["starts_on"] <= day <= concentrated["starts_on"] + dt.timedelta(days=6)
        assert phases["survey"]["starts_on"] < day
        weekly = [d["due_on"] for d in plan.deadlines if d["kind"] == "weekly"]
        assert len(weekly) == 6 and all(d.weekday() == 4 for d in weekly)
    assert shift_for(dt.date(2021, 1, 16)) == dt.timedelta(0)  # the order's own dates


async def test_the_demo_is_a_campaign_in_motion(app, client_factory):
    today = clock.today()
    await seed_demo()
    counts = await seed_activity(app.state.store, app.state.settings)
    assert counts == {"inspections": 7, "photos": 16, "orders": 4, "reinspections": 1, "spot_checks": 1,
                      "weekly_reports": counts["weekly_reports"], "body_reports": counts["body_reports"], "clues": 1,
                      "documents": 2, "liaison_additions": 1}
    assert counts["weekly_reports"] >= 1 and counts["body_reports"] >= 10
    campaign = await Campaign.objects().first()
    assert (await phase_on(campaign.id, today)).name == "集中整治"

    office = await client_factory("bangongshi", "demo1234")
    queue = visible_text(soup(await office.get("/office/inspections")))
    assert "天津蓟开精密机械有限公司" in queue or "厂区" in queue
    assert await Inspection.count().where(Inspection.status == "submitted") == 3  # 2 + the re-inspection
    assert await Inspection.count().where(Inspection.status == "sent_back") == 1
    assert await Photo.count() == 16

    stats = soup(await office.get("/stats"))
    total = [visible_text(td) for td in stats.select("tr")[-1].select("td")]
    assert "全区合计" in visible_text(stats.select("tr")[-1])
    numbers = [int(t) for t in total if t.isdigit()]
    assert sum(numbers) > 0

    orders = {o["status"]: o for o in await RectificationOrder.select()}
    deadlines = sorted(o["deadline"] for o in await RectificationOrder.select().where(
        RectificationOrder.status == "ordered"))
    assert deadlines[0] < today <= deadlines[1] <= today + dt.timedelta(days=3)  # one overdue, one due
    assert "verified" in orders
    minjing = await client_factory("minjing", "demo1234")
    due = visible_text(soup(await minjing.get("/rectification/due")))
    assert "天津盘山物业管理有限公司" in due and "天津市蓟州区马伸桥中学" in due

    assert await SpotCheckDraw.count() == 1
    assert await WeeklyReport.count() > 0
    assert (await ClueReferral.objects().first()).status == "accepted"
    due = {visible_text(sec.select_one("h2")): visible_text(sec) for sec in soup(await office.get("/campaign/due")).select("section.body-due")}
    assert "报送分管领导、联络员及联系电话（尚未报送）" in due["区交通局"] and "已过" in due["区交通局"]
    assert "尚未报送" not in due["区教育局"]
    # The bodies' reports: the latest report day's board shows every state, 区交通局 late.
    days = [li["data-day"] for li in soup(await office.get("/reports")).select("#report-days li")]
    latest = max(d for d in days if d <= today.isoformat())
    board = {visible_text(tr.select_one("td")): tr["data-status"]
             for tr in soup(await office.get(f"/reports/{latest}")).select("#board tbody tr")}
    assert board["区交通局"] == "late" and board["渔阳镇"] == "returned" and board["区教育局"] == "submitted"
    assert board["公安蓟州分局"] == "accepted"
    # The 劳务 company posted at 马伸桥中学 is the offender of the unlicensed guard service found
    # there (违法主体, area 4): the order goes to it; the school is ordered for its own finding.
    ordered = visible_text(soup(await office.get("/rectification")))
    assert "天津市蓟州区众力人力资源服务有限公司" in ordered and "天津市蓟州区马伸桥中学" in ordered
    dashboard = visible_text(soup(await office.get("/dashboard")))
    assert "集中整治" in dashboard
    covered = {visible_text(tr.select_one("td")): visible_text(tr)
               for tr in soup(await office.get("/dashboard")).select("#coverage-bodies tbody tr")}
    assert "住建委" in covered and not covered["住建委"].startswith("住建委 0 /")  # property companies visited
    plans = {visible_text(tr.select_one("td")): visible_text(tr)
             for tr in soup(await office.get("/documents/board?kind=plan")).select("#board tbody tr")}
    assert "已接收" in plans["区教育局"] and "已退回" in plans["渔阳镇"] and "逾期" in plans["区交通局"]
    additions = visible_text(soup(await office.get("/registry/additions")).select_one("#additions-units"))
    assert "天津市蓟州区渔阳康宁物业服务有限公司" in additions and "渔阳镇" in additions

    # idempotent
    again = await seed_demo()
    assert set(again.values()) == {0}
    assert set((await seed_activity(app.state.store, app.state.settings)).values()) == {0}
