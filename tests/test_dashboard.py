"""The dashboard (看板): phase and days left, deadlines, findings, collection rates,
rectification and the weekly trend, as server-rendered SVG a phone can show."""

from __future__ import annotations

import datetime as dt

from server.models.campaign import Campaign, Phase, ReportingDeadline
from server.dashboard import charts
from server.dashboard.service import deadlines, phase_state
from server.models.registry import Guard
from tests.support.html import soup, visible_text
from tests.test_ledger import BEIJING, add_finding, add_outcome

D = dt.date


def test_phase_state_before_during_and_after():
    campaign = Campaign(starts_on=D(2020, 12, 14), ends_on=D(2021, 2, 5))
    phases = [{"id": 1, "name": "调查摸底", "starts_on": D(2020, 12, 14), "ends_on": D(2020, 12, 25)},
              {"id": 2, "name": "自查整改", "starts_on": D(2020, 12, 26), "ends_on": D(2021, 1, 10)},
              {"id": 3, "name": "集中整治", "starts_on": D(2021, 1, 11), "ends_on": D(2021, 1, 25)},
              {"id": 4, "name": "总结提升", "starts_on": D(2021, 1, 25), "ends_on": D(2021, 2, 5)}]
    before = phase_state(campaign, phases, D(2020, 12, 10))
    assert before.state == "before" and before.days_to_start == 4
    s = phase_state(campaign, phases, D(2020, 12, 25))
    assert s.state == "running" and s.phase["name"] == "调查摸底" and s.days_left_phase == 1
    assert s.days_left_campaign == 43
    # 01-25 ends one phase and starts the next: the later phase is today's.
    assert phase_state(campaign, phases, D(2021, 1, 25)).phase["name"] == "总结提升"
    assert phase_state(campaign, phases, D(2021, 2, 6)).state == "after"


def test_deadlines_overdue_and_upcoming():
    rows = [{"title": "报送统计表", "kind": "statistics", "due_on": D(2020, 12, 31)},
            {"title": "报送累计周报（第1期）", "kind": "weekly", "due_on": D(2021, 1, 1)},
            {"title": "报送累计周报（第2期）", "kind": "weekly", "due_on": D(2021, 1, 8)},
            {"title": "报送累计周报（第3期）", "kind": "weekly", "due_on": D(2021, 1, 15)},
            {"title": "报送专项行动总结", "kind": "summary", "due_on": D(2021, 2, 8)}]
    overdue, upcoming = deadlines(rows, {D(2021, 1, 1)}, D(2021, 1, 10))
    assert [d.title for d in overdue] == ["报送累计周报（第2期）"]  # week 1 was submitted
    assert [(d.title, d.days) for d in upcoming] == [("报送累计周报（第3期）", 5)]
    _, upcoming = deadlines(rows, set(), D(2021, 1, 16))
    assert [d.title for d in upcoming] == ["报送专项行动总结"]  # the next one, though 23 days away
    overdue, upcoming = deadlines(rows, set(), D(2021, 3, 1))
    assert len(overdue) == 3 and upcoming == []


def test_chart_geometry():
    assert [charts.nice_max(v) for v in (0, 1, 3, 7, 10, 11, 180, 501)] == [1, 1, 5, 10, 10, 20, 200, 1000]
    chart = charts.hbars([("甲", 5), ("乙", 10), ("丙", 0)], width=640, label_width=200, row=30)
    assert chart.max == 10 and chart.height == 90 and chart.plot_width == 640 - 200 - 48
    assert [b.width for b in chart.bars] == [chart.plot_width / 2, chart.plot_width, 0]
    assert [b.y for b in chart.bars] == [0, 30, 60] and not chart.empty
    assert charts.hbars([("甲", 0)]).empty
    line = charts.lines([("1/1", True), ("1/8", False), ("1/15", False)], [("a", "a", [0, 5, 10])], width=640, height=240)
    (x0, y0, _), (x1, y1, _), (x2, y2, _) = line.series[0].points
    assert x0 == 36 and x2 == 624 and x1 == (x0 + x2) / 2
    assert y0 == 240 - 32 and y2 == 12 and y1 == (y0 + y2) / 2
    assert [v for _, v in line.y_ticks] == [0, 2, 4, 6, 8, 10]
    assert [v for _, v in charts.lines([("1/1", True)], [("a", "a", [0])]).y_ticks] == [0, 1]
    assert [charts.tick_step(t) for t in (1, 2, 5, 10, 20, 50, 100, 200)] == [1, 1, 1, 2, 4, 10, 20, 40]
    assert charts.rate("x", 1, 3).percent == 33.3 and charts.rate("x", 0, 0).percent == 0


async def _running_campaign(world):
    """Move the campaign so that today (Beijing) falls in its second phase."""
    today = dt.datetime.now(BEIJING).date()
    start = today - dt.timedelta(days=20)
    await Campaign.update({Campaign.starts_on: start, Campaign.ends_on: today + dt.timedelta(days=30),
                           Campaign.weekly_from: start, Campaign.weekly_until: today + dt.timedelta(days=30),
                           Campaign.weekly_weekday: today.weekday()}).where(Campaign.id == world.campaign.id)
    await Phase.delete().where(Phase.campaign == world.campaign.id)
    for i, (name, a, b) in enumerate([("调查摸底", -20, -10), ("自查整改", -9, 5), ("集中整治", 6, 30)], start=1):
        await Phase(campaign=world.campaign.id, code=f"p{i}", name=name, starts_on=today + dt.timedelta(days=a),
                    ends_on=today + dt.timedelta(days=b), ordinal=i).save()
    await ReportingDeadline(campaign=world.campaign.id, kind="statistics", title="报送统计表",
                            due_on=today + dt.timedelta(days=3)).save()
    await ReportingDeadline(campaign=world.campaign.id, kind="weekly", title="报送累计周报（第1期）",
                            due_on=today - dt.timedelta(days=7)).save()
    return today


async def test_the_dashboard_of_a_campaign_that_has_found_nothing_yet(client_factory, world):
    """Report weeks have passed but nothing is recorded: the trend reads 0, not a server error."""
    await _running_campaign(world)
    for role in ("office", "leader"):
        r = await (await client_factory(role)).get("/dashboard")
        assert r.status_code == 200, role
        assert "发现违法违规" in visible_text(soup(r))


async def test_the_office_dashboard(client_factory, world):
    today = await _running_campaign(world)
    f10 = await add_finding(world, world.units.estate_co, world.sites.estate, 10)
    await add_finding(world, world.units.school, world.sites.school, 15, quantity=2)
    await add_finding(world, world.units.school, world.sites.school, 16, status="submitted")
    await add_outcome(world, world.units.estate_co, 21, deadline=today - dt.timedelta(days=3), status="ordered",
                      answers=f10)
    await add_outcome(world, world.units.school, 20, deadline=today + dt.timedelta(days=3), status="ordered")
    await Guard.update({Guard.photo_collected: True}).where(Guard.id.is_not_null())
    await Guard.update({Guard.fingerprint_collected: True}).where(Guard.id == world.guards.valid.id)

    c = await client_factory("office")
    r = await c.get("/dashboard")
    assert r.status_code == 200
    page = soup(r)
    phase = visible_text(page.select_one("#phase"))
    assert "当前阶段：自查整改" in phase and "本阶段剩余 6 天" in phase and "专项行动剩余 31 天" in phase
    assert visible_text(page.select_one(".phases li[aria-current=step] strong")) == "自查整改"
    dl = visible_text(page.select_one("#deadlines"))
    assert "已逾期 7 天：报送累计周报（第1期）" in dl and "报送统计表" in dl and "还有 3 天" in dl

    def bars(selector: str) -> dict[str, int]:
        return {g["data-label"]: int(g["data-value"]) for g in page.select(f"{selector} g.bar")}

    by_area = bars("#by-area svg")
    assert by_area["5. 未依法备案"] == 1 and by_area["1. 无证上岗"] == 1 and by_area["2. 着装与标志"] == 0
    assert "共 2 条，另有 1 条待审核" in visible_text(page.select_one("#by-area h2"))
    assert bars("#by-body svg[aria-label='已确认问题按填报单位']") == {"区教育局": 1, "官庄镇": 1}
    assert bars("#by-body svg[aria-label='已确认问题按乡镇街']") == {"渔阳镇": 1, "官庄镇": 1}

    rates = {g["data-label"]: g["data-percent"] for g in page.select("#collection svg g.rate")}
    assert rates["照片采集"] == "100.0" and rates["指纹采集"] == "25.0" and rates["持保安员证"] == "50.0"
    assert rates["照片和指纹均已采集"] == "25.0"

    rect = visible_text(page.select_one("#rectification h2"))
    assert "进行中 2 件，逾期 1 件，共 2 件" in rect
    overdue = [visible_text(tr) for tr in page.select("#overdue-orders tbody tr")]
    assert len(overdue) == 1 and "蓟州区绿园物业服务有限公司" in overdue[0] and "3 天" in overdue[0]

    trend = page.select_one("#trend svg")
    assert trend is not None and trend["viewbox"] == "0 0 420 200"  # html.parser lowercases
    # Report days so far: 14 and 7 days ago and today; everything was confirmed today:
    # 1 case of column 10 and 2 persons of column 15; outcomes of columns 20 and 21.
    points = [c.title.get_text() for c in trend.select("g.series-violations circle")]
    assert points == ["发现违法违规：0", "发现违法违规：0", "发现违法违规：3"]
    assert [c.title.get_text() for c in trend.select("g.series-actions circle")][-1] == "查处整顿：2"
    assert all("hollow" in c["class"] for c in trend.select("circle"))  # no week submitted yet


async def test_leaders_read_the_dashboard_others_do_not(client_factory, world):
    c = await client_factory("leader")
    r = await c.get("/dashboard")
    assert r.status_code == 200
    page = soup(r)
    assert "专项行动已结束" in visible_text(page.select_one("#phase"))  # the 2020–21 campaign is over
    assert [f["action"] for f in page.select("form[method=post]")] == ["/logout"]  # read-only
    assert visible_text(page.select_one("#trend")) == "累计周报趋势 本次专项行动没有设定周报期间。"
    for username in ("officer", "liaison_edu"):
        c = await client_factory(username)
        r = await c.get("/dashboard")
        assert r.status_code == 403 and "无权" in r.text
