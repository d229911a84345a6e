"""专项设置: the office edits the campaign's phases, reporting deadlines and options (rectification
days per focus area, the notice's legal basis and number prefix, the clue response period);
each body is reminded of what is due."""

from __future__ import annotations

import datetime as dt
import json

from server import clock
from server.models.audit import AuditEntry
from server.models.campaign import Campaign, Phase, ReportingDeadline
from tests.support.html import errors, soup, visible_text
from tests.test_rectification import confirmed_inspection, order_for

OPTIONS = {**{f"days{a}": "15" for a in range(1, 9)}, "legal_basis": "依据《保安服务管理条例》",
           "notice_prefix": "测公保改字", "clue_response_days": "3"}


async def test_office_sets_the_options_that_orders_and_notices_use(client_factory, world):
    office = await client_factory("office")
    page = soup(await office.get("/campaign"))
    assert [visible_text(a) for a in page.select("nav.mainnav a")][-1] == "专项设置"
    assert page.select_one("input[name=notice_prefix]")["value"] == "蓟公保责改字"  # from the district's name
    assert page.select_one("input[name=days2]")["value"] == "15"

    r = await office.post("/campaign/options", data={**OPTIONS, "days2": "0", "legal_basis": ""})
    assert r.status_code == 422
    assert errors(r) == ["第2项整改天数须在 1–180 之间", "请填写法律依据"]
    assert soup(r).select_one("input[name=notice_prefix]")["value"] == "测公保改字"  # what was typed stays
    r = await office.post("/campaign/options", data={**OPTIONS, "days3": "4"})
    assert r.status_code == 303 and r.headers["location"] == "/campaign#options"
    saved = json.loads((await Campaign.objects().first()).options)
    assert saved["rectify_days"]["3"] == 4 and saved["clue_response_days"] == 3
    assert await AuditEntry.count().where((AuditEntry.table_name == "campaign") & (AuditEntry.action == "update_options")) == 1

    s = await confirmed_inspection(client_factory, world.sites.school.id, {3: "未培训"})
    order = await order_for(office, world.units.school.id, [f.id for f in s.findings])
    assert order.deadline == clock.today() + dt.timedelta(days=4)
    assert order.number == f"测公保改字〔{clock.today().year}〕001号"
    notice = visible_text(soup(await office.get(f"/rectification/orders/{order.id}/notice")).select_one("article"))
    assert "依据《保安服务管理条例》，现责令你单位于" in notice


async def test_notice_without_legal_basis_warns_and_invents_nothing(client_factory, world):
    office = await client_factory("office")
    s = await confirmed_inspection(client_factory, world.sites.school.id, {3: "未培训"})
    order = await order_for(office, world.units.school.id, [f.id for f in s.findings])
    page = soup(await office.get(f"/rectification/orders/{order.id}/notice"))
    assert "法律依据尚未设置" in visible_text(page.select_one(".no-print.error"))
    order_paragraph = visible_text(page.select("article .para")[-1])
    assert order_paragraph.startswith("现责令你单位于")  # no made-up basis in front of it
    assert "条例" not in visible_text(page.select_one("article"))


async def test_office_edits_phases_and_deadlines_and_bodies_are_reminded(client_factory, world):
    office = await client_factory("office")
    phase = await Phase.objects().where(Phase.code == "summary").first()
    r = await office.post(f"/campaign/phases/{phase.id}", data={"name": "总结提升", "starts_on": "2021-02-10",
                                                                 "ends_on": "2021-02-01"})
    assert r.status_code == 422 and errors(r) == ["结束日期不能早于开始日期"]
    r = await office.post(f"/campaign/phases/{phase.id}", data={"name": "总结提升", "starts_on": "2021-01-26",
                                                                 "ends_on": "2021-02-28", "description": "全面验收"})
    assert r.status_code == 303
    campaign = await Campaign.objects().first()
    assert campaign.ends_on == dt.date(2021, 2, 28)  # the campaign follows its phases
    r = await office.post("/campaign/phases", data={"name": "", "starts_on": "2021-03-01", "ends_on": "2021-03-05"})
    assert r.status_code == 422 and errors(r) == ["请填写阶段名称"]
    assert (await office.post("/campaign/phases", data={"name": "巩固深化", "starts_on": "2021-03-01",
                                                         "ends_on": "2021-03-31"})).status_code == 303
    page = soup(await office.get("/campaign"))
    assert [i["value"] for i in page.select("#phases input[name=name]")][:5] == ["调查摸底", "自查整改", "集中整治", "总结提升", "巩固深化"]
    assert (await Campaign.objects().first()).ends_on == dt.date(2021, 3, 31)

    today = clock.today()
    town, edu = str(world.bodies.town.id), str(world.bodies.edu.id)
    r = await office.post("/campaign/deadlines", data={"title": "报送乡镇自查台账", "due_on": "soon", "body": town})
    assert r.status_code == 422 and errors(r) == ["截止日期不是有效日期，请按 年-月-日 填写，例如 2021-01-15"]
    for title, days, body in (("报送乡镇自查台账", 3, town), ("报送教育系统方案", 5, edu), ("报送专项行动总结", 40, "")):
        r = await office.post("/campaign/deadlines", data={"title": title, "due_on": (today + dt.timedelta(days=days)).isoformat(),
                                                           "body": body})
        assert r.status_code == 303
    assert await ReportingDeadline.count() == 3

    liaison = await client_factory("liaison_town")
    due = soup(await liaison.get("/campaign/due"))
    items = [visible_text(li) for li in due.select("section.body-due li")]
    assert items == [f"报送乡镇自查台账 截止 {today + dt.timedelta(days=3)} 还有 3 天"]
    # Nothing within 14 days from every body: the next one is shown however far.
    edu_items = [visible_text(li) for li in soup(await (await client_factory("liaison_edu")).get("/campaign/due")).select("section.body-due li")]
    assert edu_items == [f"报送教育系统方案 截止 {today + dt.timedelta(days=5)} 还有 5 天"]
    assert "报送乡镇自查台账" in visible_text(soup(await liaison.get("/clues")).select_one(".due-box"))
    all_bodies = soup(await office.get("/campaign/due"))
    assert [visible_text(h) for h in all_bodies.select("section.body-due h2")] == ["公安蓟州分局", "区教育局", "官庄镇"]

    row = await ReportingDeadline.objects().where(ReportingDeadline.title == "报送乡镇自查台账").first()
    assert (await office.post(f"/campaign/deadlines/{row.id}/delete")).status_code == 303
    items = [visible_text(li) for li in soup(await liaison.get("/campaign/due")).select("section.body-due li")]
    assert items == [f"报送专项行动总结 截止 {today + dt.timedelta(days=40)} 还有 40 天"]

    # Only the office edits.
    assert (await liaison.post("/campaign/options", data=OPTIONS)).status_code == 403
    assert (await (await client_factory("leader")).get("/campaign")).status_code == 403
