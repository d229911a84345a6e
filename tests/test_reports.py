"""The responsible bodies' own reports, walked through one report day: two liaisons submit
(one with an override and a typical case), one is returned and resubmits, one body never
submits and shows as 逾期; the district table of that day holds the accepted numbers; a
frozen report does not move when records change."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from server import jobs
from server.models.audit import AuditEntry
from server.models.campaign import Body, Campaign, ReportingDeadline
from server.models.inspections import Finding
from server.models.reports import BodyReport, ReportCase, ReportCasePhoto
from server.reports import rules
from server.vocab import BodyScope, Sector
from tests.support.flow import new_id
from tests.support.html import errors, jpeg, soup, visible_text
from tests.test_ledger import add_finding, at

ROOT = Path(__file__).resolve().parents[1]
DAY = "2021-01-08"


@pytest.fixture
async def week(world):
    """Reports every Friday from 2020-12-25; a 未备案 at the housing estate (官庄镇) and two
    unqualified guards at the school (教育局), both confirmed before 01-08; a fourth body,
    区交通局, with a named contact, that will never report."""
    await Campaign.update({Campaign.weekly_from: dt.date(2020, 12, 25), Campaign.weekly_until: dt.date(2021, 2, 5),
                           Campaign.weekly_weekday: 4}).where(Campaign.id == world.campaign.id)
    await add_finding(world, world.units.estate_co, world.sites.estate, 10, reviewed_at=at(2021, 1, 4))
    await add_finding(world, world.units.school, world.sites.school, 15, quantity=2, reviewed_at=at(2021, 1, 5))
    transport = Body(name="区交通局", scope=BodyScope.sector, sector=Sector.transport, ordinal=9,
                     contact_name="钱七", contact_phone="13800000009")
    await transport.save()
    world.bodies.transport = transport
    return world


def figures(page) -> dict[int, str]:
    """A body's row as the page lists it: {column: the number shown}."""
    return {int(li["data-col"]): visible_text(li.select_one(".figure-value"))
            for li in page.select("#figures [data-col]")}


def board(page) -> dict[str, str]:
    return {tr["data-body"]: tr["data-status"] for tr in page.select("#board tbody tr")}


async def test_a_report_day_walked_through(client_factory, week):
    w = week
    edu_url, town_url = f"/reports/{DAY}/{w.bodies.edu.id}", f"/reports/{DAY}/{w.bodies.town.id}"
    edu = await client_factory("liaison_edu")

    # The liaison sees its row as labelled numbers, counted from the records for the day.
    page = soup(await edu.get(edu_url))
    assert "第3期累计周报（截至 2021-01-08）" in visible_text(page.select_one("h1"))
    shown = figures(page)
    assert len(shown) == 22 and shown[15] == "2" and shown[10] == "0"
    assert "未报送" in visible_text(page.select_one("#report-status")) or "逾期" in visible_text(
        page.select_one("#report-status"))

    # An override needs a note; the progress is required to submit.
    r = await edu.post(edu_url, data={"action": "submit", "v16": "3", "progress": ""})
    assert r.status_code == 422
    assert set(errors(r)) == {"第16栏（发现不按规定着保安服）与记录统计的 0 不同，请说明原因", "请填写本期工作进展"}
    r = await edu.post(edu_url, data={"action": "submit", "v16": "abc", "progress": "x"})
    assert r.status_code == 422 and errors(r) == ["第16栏（发现不按规定着保安服）请填写整数"]
    assert await BodyReport.count() == 0

    # A typical case with a photo, then the report with an override and its note.
    case_uuid = new_id()
    r = await edu.post(f"{edu_url}/cases", data={"uuid": case_uuid, "title": "学校门卫未持证上岗", "area": "1",
                                                 "happened": "自查发现两名门卫无保安员证", "done": "已调离岗位"},
                       files=[("photos", ("p.jpg", jpeg(), "image/jpeg"))])
    assert r.status_code == 303, r.text
    again = await edu.post(f"{edu_url}/cases", data={"uuid": case_uuid, "title": "学校门卫未持证上岗",
                                                     "happened": "自查发现两名门卫无保安员证"})
    assert again.status_code == 303 and await ReportCase.count() == 1  # the same uuid: no second case
    r = await edu.post(f"{edu_url}/cases", data={"uuid": new_id(), "title": "", "happened": ""},
                       files=[("photos", ("p.jpg", b"not an image", "image/jpeg"))])
    assert r.status_code == 422 and "请填写案例标题" in errors(r)
    r = await edu.post(edu_url, data={"action": "submit", "v16": "3", "n16": "学校自查发现三人着仿警服",
                                      "v15": "2", "remarks": "教育系统自查", "progress": "全区学校自查完毕"})
    assert r.status_code == 303 and r.headers["location"] == edu_url

    # Submitted: read-only, the override and its note shown beside the records' number.
    page = soup(await edu.get(edu_url))
    assert "已报送" in visible_text(page.select_one("#report-status"))
    assert page.select_one("#report-form") is None and page.select_one("#case-form") is None
    assert figures(page)[16] == "3" and figures(page)[15] == "2"
    assert "学校自查发现三人着仿警服" in visible_text(page.select_one("[data-col='16']"))
    assert "学校门卫未持证上岗" in visible_text(page.select_one("#cases"))
    photo = page.select_one("#cases img")["src"]
    assert (await edu.get(photo)).headers["content-type"] == "image/jpeg"
    r = await edu.post(edu_url, data={"action": "save", "progress": "改"})
    assert r.status_code == 409 and "报送后不能修改" in errors(r)[0]

    # Another body's liaison sees neither the report nor its photo.
    town = await client_factory("liaison_town")
    assert (await town.get(edu_url)).status_code == 404
    assert (await town.get(photo)).status_code == 404
    assert (await town.post(edu_url, data={"action": "save"})).status_code == 404
    assert (await town.post(f"{edu_url}/cases/{case_uuid}/delete")).status_code == 404

    # The township submits without overrides; the police branch (the office) submits its own.
    assert (await town.post(town_url, data={"action": "submit", "progress": "辖区物业公司排查"})).status_code == 303
    office = await client_factory("office")
    police_url = f"/reports/{DAY}/{w.bodies.police.id}"
    assert (await office.post(police_url, data={"action": "submit", "progress": "全区检查"})).status_code == 303

    # The board: who has reported, who is late (with the contact to call).
    page = soup(await office.get(f"/reports/{DAY}"))
    assert board(page) == {str(w.bodies.police.id): "submitted", str(w.bodies.edu.id): "submitted",
                           str(w.bodies.town.id): "submitted", str(w.bodies.transport.id): "late"}
    assert visible_text(page.select_one("#late")) == "催报名单 区交通局 钱七 13800000009"

    # The office returns the township's report with a reason; a reason is required.
    r = await office.post(f"{town_url}/return", data={"reason": ""})
    assert r.status_code == 422 and errors(r) == ["请填写退回原因"]
    assert (await office.post(f"{town_url}/return", data={"reason": "请补充物业公司自查数字"})).status_code == 303
    assert (await office.post(f"{town_url}/accept")).status_code == 409  # returned: nothing to accept
    page = soup(await town.get(town_url))
    assert "请补充物业公司自查数字" in visible_text(page.select_one("#return-reason"))
    assert page.select_one("#report-form button[value='submit']").get_text(strip=True) == "重新提交"
    r = await town.post(town_url, data={"action": "submit", "v2": "2", "n2": "新发现一家自招保安的物业公司",
                                        "progress": "已补充"})
    assert r.status_code == 303
    for url in (edu_url, town_url, police_url):
        assert (await office.post(f"{url}/accept")).status_code == 303
    page = soup(await office.get(f"/reports/{DAY}"))
    assert set(board(page).values()) == {"accepted", "late"}

    # The district table of the day holds the accepted numbers; the total is the police's.
    page = soup(await office.get(f"/reports/{DAY}/table"))
    rows = {tr["data-row"]: tr for tr in page.select("#stat-table tbody tr")}
    cell = lambda key, col: rows[key].select_one(f"td[data-col='{col}']")  # noqa: E731
    assert cell(str(w.bodies.edu.id), 16).contents[0].strip() == "3" and "diff" in cell(str(w.bodies.edu.id), 16)["class"]
    assert "记录 0" in visible_text(cell(str(w.bodies.edu.id), 16))
    assert cell(str(w.bodies.edu.id), 15).get_text(strip=True) == "2" and not cell(str(w.bodies.edu.id), 15).get("class")
    assert cell(str(w.bodies.town.id), 2).contents[0].strip() == "2"
    assert cell("district", 10).get_text(strip=True) == "1" and cell("district", 15).get_text(strip=True) == "2"
    assert "逾期" in visible_text(rows[str(w.bodies.transport.id)])
    assert visible_text(page.select_one("#body-line")) == "填报单位：公安蓟州分局（全区汇总）"

    # The official xlsx: the same numbers, with the 填报单位 line.
    r = await office.get(f"/reports/{DAY}/table.xlsx")
    ws = openpyxl.load_workbook(io.BytesIO(r.content))["统计表"]
    assert ws["A2"].value == "填报单位：公安蓟州分局（全区汇总）"
    labels = [ws.cell(r, 1).value for r in (6, 7, 8)]
    assert labels == ["区教育局", "官庄镇", "全区合计"]
    assert ws.cell(6, 1 + 16).value == 3 and ws.cell(7, 1 + 2).value == 2 and ws.cell(8, 1 + 15).value == 2
    assert "第16栏按本单位自查数字填报：学校自查发现三人着仿警服" in ws.cell(6, 1 + 23).value

    # Records change afterwards (even dated before the day): frozen reports do not move.
    await add_finding(w, w.units.school, w.sites.school, 16, quantity=4, reviewed_at=at(2021, 1, 6))
    await Finding.update({Finding.status: "rejected"}).where(Finding.stat_column == 15)
    page = soup(await edu.get(edu_url))
    assert figures(page)[15] == "2" and figures(page)[16] == "3"
    page = soup(await office.get(f"/reports/{DAY}/table"))
    rows = {tr["data-row"]: tr for tr in page.select("#stat-table tbody tr")}
    assert rows[str(w.bodies.edu.id)].select_one("td[data-col='15']").contents[0].strip() == "2"
    assert "记录 0" in visible_text(rows[str(w.bodies.edu.id)].select_one("td[data-col='15']"))
    assert "记录 4" in visible_text(rows[str(w.bodies.edu.id)].select_one("td[data-col='16']"))

    # Every step has its audit entry.
    actions = [(e["action"], e["actor_name"]) for e in await AuditEntry.select(
        AuditEntry.action, AuditEntry.actor_name).where(AuditEntry.table_name == "body_report").order_by(AuditEntry.id)
        if e["action"] not in ("create", "update")]
    assert actions == [("submit", "liaison_edu"), ("submit", "liaison_town"), ("submit", "office"),
                       ("return", "office"), ("resubmit", "liaison_town"), ("accept", "office"),
                       ("accept", "office"), ("accept", "office")]
    assert await AuditEntry.count().where(AuditEntry.table_name == "report_case") == 1
    assert await AuditEntry.count().where(AuditEntry.table_name == "report_case_photo") == 1
    assert await ReportCasePhoto.count() == 1

    # The police branch's report froze the records' week too (the /stats/weekly snapshot), as a
    # background job.
    await jobs.wait_all()
    page = soup(await office.get(f"/stats/weekly/{DAY}"))
    assert "已报送" in visible_text(page.select_one("#week-status"))


async def test_the_liaison_home_says_what_is_due(client_factory, week):
    w = week
    edu = await client_factory("liaison_edu")
    page = soup(await edu.get("/"))
    due = page.select_one("#reports-due")
    # Every report day so far has passed unreported: each is 逾期.
    assert "逾期" in visible_text(due) and f"/reports/2020-12-25/{w.bodies.edu.id}" in str(due)
    office = await client_factory("office")
    url = f"/reports/2020-12-25/{w.bodies.edu.id}"
    await edu.post(url, data={"action": "submit", "progress": "开展自查"})
    await office.post(f"{url}/return", data={"reason": "数字有误"})
    due = soup(await edu.get("/")).select_one("#reports-due")
    item = due.select_one("li[data-day='2020-12-25']")
    assert "已退回" in visible_text(item) and "数字有误" in visible_text(item)
    # The weekly deadlines are listed once, here with their status, not again among the reminders.
    await ReportingDeadline(campaign=w.campaign.id, title="报送累计周报", kind="weekly", due_on=dt.date(2030, 1, 4)).save()
    await ReportingDeadline(campaign=w.campaign.id, title="报送联络员名单", kind="contacts", due_on=dt.date(2030, 1, 5)).save()
    reminders = visible_text(soup(await edu.get("/")).select_one("section.due-box"))
    assert "报送联络员名单" in reminders and "报送累计周报" not in reminders


async def test_days_bodies_and_roles(client_factory, week):
    w = week
    office = await client_factory("office")
    assert (await office.get("/reports/2021-01-09")).status_code == 404  # not a report day
    r = await office.get("/reports/not-a-day")
    assert r.status_code == 404 and "不是本次专项行动的报送日" in r.text
    assert (await office.get(f"/reports/{DAY}/999999")).status_code == 404
    # A liaison asking for the board is sent to its own report.
    edu = await client_factory("liaison_edu")
    r = await edu.get(f"/reports/{DAY}")
    assert r.status_code == 303 and r.headers["location"] == f"/reports/{DAY}/{w.bodies.edu.id}"
    leader = await client_factory("leader")
    assert (await leader.post(f"/reports/{DAY}/{w.bodies.edu.id}", data={"action": "save"})).status_code == 403
    # A day still ahead may be drafted, not submitted.
    ahead = dt.date.today() + dt.timedelta(days=(4 - dt.date.today().weekday()) % 7 or 7)
    await Campaign.update({Campaign.weekly_until: ahead}).where(Campaign.id == w.campaign.id)
    url = f"/reports/{ahead.isoformat()}/{w.bodies.edu.id}"
    r = await edu.post(url, data={"action": "submit", "progress": "x"})
    assert r.status_code == 409 and "尚未到报送日" in errors(r)[0]
    assert (await edu.post(url, data={"action": "save", "progress": "草稿"})).status_code == 303
    page = soup(await edu.get(url))
    assert page.select_one("textarea[name=progress]").get_text() == "草稿"
    # The statistics table's day (kind "statistics") is a report day too.
    from server.models.campaign import ReportingDeadline
    await ReportingDeadline(campaign=w.campaign.id, kind="statistics", title="报送统计表",
                            due_on=dt.date(2020, 12, 31)).save()
    page = soup(await edu.get(f"/reports/2020-12-31/{w.bodies.edu.id}"))
    assert "统计表（截至 2020-12-31）" in visible_text(page.select_one("h1"))


def test_the_rules():
    day = dt.date(2021, 1, 8)
    assert rules.status_of(None, day, day) == "missing"
    assert rules.status_of("draft", day, day + dt.timedelta(days=1)) == "late"
    assert rules.status_of("returned", day, day + dt.timedelta(days=9)) == "returned"
    overrides = {16: rules.Override(3, "note")}
    assert rules.district_cell("accepted", {16: 0, 15: 2}, overrides, 16) == 3
    assert rules.district_cell("accepted", {16: 0, 15: 2}, overrides, 15) == 2
    assert rules.district_cell("submitted", {16: 0, 15: 2}, overrides, 15) is None
    found, errs = rules.parse_overrides({"v1": "5", "n1": "", "v2": "4", "v3": "-1"}, {1: 5, 2: 1})
    assert found == {} and set(errs) == {"n2", "v3"}
    assert rules.report_days([day], [dt.date(2020, 12, 31), day]) == [dt.date(2020, 12, 31), day]


def cli(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "server", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


async def test_cli_prints_each_body_status(service_env, client_factory, week):
    edu = await client_factory("liaison_edu")
    await edu.post(f"/reports/{DAY}/{week.bodies.edu.id}", data={"action": "submit", "progress": "自查"})
    done = cli(service_env, "reports", "status", "--day", DAY)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert [line.split("\t")[:2] for line in lines] == [
        ["公安蓟州分局", "逾期"], ["区教育局", "已报送"], ["官庄镇", "逾期"], ["区交通局", "逾期"]]
    assert lines[3].endswith("联系人 钱七  13800000009")
    bad = cli(service_env, "reports", "status", "--day", "2021-13-01")
    assert bad.returncode == 2 and "日期格式不正确" in bad.stderr
    bad = cli(service_env, "reports", "status", "--day", "2021-01-09")
    assert bad.returncode == 2 and "不是本次专项行动的报送日" in bad.stderr


async def test_the_final_summary_page_and_document(client_factory, week):
    """Per focus area: findings confirmed, rectified or still open, the typical cases of the
    accepted reports; the Word document opens with python-docx and holds every area."""
    import docx

    from tests.test_ledger import add_outcome

    w = week
    order, _ = await add_outcome(w, w.units.school, 19, status="verified")
    await Finding.update({Finding.order: order.id}).where(Finding.stat_column == 15)
    edu = await client_factory("liaison_edu")
    url = f"/reports/{DAY}/{w.bodies.edu.id}"
    await edu.post(f"{url}/cases", data={"uuid": new_id(), "title": "门卫未持证上岗", "area": "1",
                                         "happened": "两名门卫无证", "done": "已调离"})
    await edu.post(f"{url}/cases", data={"uuid": new_id(), "title": "未注明整顿重点的案例", "happened": "x"})
    await edu.post(url, data={"action": "submit", "progress": "自查"})
    office = await client_factory("office")
    page = soup(await office.get("/reports/summary"))
    rows = {tr["data-area"]: [visible_text(td) for td in tr.select("td")] for tr in page.select("#summary-table tbody tr")}
    assert len(rows) == 8
    assert rows["1"][1:] == ["1", "1", "0", "0"]   # the two unqualified guards: rectified
    assert rows["5"][1:] == ["1", "0", "0", "1"]   # the estate's 未备案: still open
    assert "尚未下达整改" in visible_text(page.select_one("section[data-area='5']"))
    assert "门卫未持证上岗" not in visible_text(page)  # the report is not accepted yet
    await office.post(f"{url}/accept")
    page = soup(await office.get("/reports/summary"))
    assert "门卫未持证上岗" in visible_text(page.select_one("section[data-area='1']"))

    r = await office.get("/reports/summary.docx")
    assert r.status_code == 200 and r.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    document = docx.Document(io.BytesIO(r.content))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    from server.campaign.checklist import FOCUS_AREAS
    for area in FOCUS_AREAS:
        assert f"（{area.number}）{area.title}" in headings
    text = "\n".join(p.text for p in document.paragraphs)
    assert "门卫未持证上岗" in text and "未注明整顿重点的案例" in text
    assert (await edu.get("/reports/summary")).status_code == 403


async def test_storage_check_knows_case_photos_and_drops_a_deleted_case(client_factory, week, app):
    """A typical case's photos are the report's objects (no leftovers for `storage check`);
    a case deleted from a draft takes its photos with it."""
    from server.evidence.integrity import storage_check

    w = week
    edu = await client_factory("liaison_edu")
    url = f"/reports/{DAY}/{w.bodies.edu.id}"
    earlier = set((await storage_check(app.state.store)).orphans)  # objects of earlier tests' rows
    keep, drop = new_id(), new_id()
    for uuid in (keep, drop):
        r = await edu.post(f"{url}/cases", data={"uuid": uuid, "title": "门卫未持证上岗", "area": "1",
                                                 "happened": "无证", "done": "调离"},
                           files={"photos": ("a.jpg", jpeg(), "image/jpeg")})
        assert r.status_code == 303
    assert await ReportCasePhoto.count() == 2
    report = await storage_check(app.state.store)
    assert report.missing == [] and set(report.orphans) == earlier
    stored = len(await app.state.store.list_keys())
    assert (await edu.post(f"{url}/cases/{drop}/delete")).status_code == 303
    assert await ReportCasePhoto.count() == 1
    report = await storage_check(app.state.store)
    assert report.missing == [] and set(report.orphans) == earlier
    assert len(await app.state.store.list_keys()) == stored - 2  # the photo and its thumbnail
