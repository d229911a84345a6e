"""Weekly cumulative reports (累计周报): the weeks come from the campaign's data; a submitted
week is frozen and compared with the week before."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest

from server import jobs
from server.errors import Conflict
from server.ledger import freeze
from server.models.audit import AuditEntry
from server.models.campaign import Campaign
from server.models.inspections import Finding, Inspection
from server.models.ledger import WeeklyReport
from server.models.registry import Guard, Site, Unit
from tests.support.html import errors, soup, visible_text
from tests.test_ledger import BEIJING, add_finding, add_outcome, at, nonzero, table_values


@pytest.fixture
async def season(world):
    """Reports every Friday from 2020-12-25 to 2021-02-05; the registry known from 12-16; a
    未备案 confirmed 12-23, two unqualified guards confirmed 12-30, a rectification 01-05."""
    await Campaign.update({Campaign.weekly_from: dt.date(2020, 12, 25), Campaign.weekly_until: dt.date(2021, 2, 5),
                           Campaign.weekly_weekday: 4}).where(Campaign.id == world.campaign.id)
    for table in (Unit, Site, Guard):
        await table.update({table.created_at: at(2020, 12, 16)}).where(table.id.is_not_null())
    f10 = await add_finding(world, world.units.estate_co, world.sites.estate, 10, reviewed_at=at(2020, 12, 23),
                            text="物业公司未备案")
    f15 = await add_finding(world, world.units.school, world.sites.school, 15, quantity=2, reviewed_at=at(2020, 12, 30))
    pending = await add_finding(world, world.units.school, world.sites.school, 16, status="submitted")
    await add_outcome(world, world.units.estate_co, 21, recorded_on=dt.date(2021, 1, 5), answers=f10)
    world.f10, world.f15, world.pending = f10, f15, pending
    return world


async def test_weeks_are_listed_from_the_campaign_data(client_factory, season):
    c = await client_factory("office")
    page = soup(await c.get("/stats/weekly"))
    rows = page.select("#weeks tbody tr")
    assert [r["data-week"] for r in rows] == ["2020-12-25", "2021-01-01", "2021-01-08", "2021-01-15", "2021-01-22",
                                             "2021-01-29", "2021-02-05"]
    assert visible_text(rows[0]).startswith("第1期 2020-12-25 未报送 预览并报送")
    # Another campaign reports on Mondays over another period: the app follows the data.
    await Campaign.update({Campaign.weekly_from: dt.date(2021, 3, 1), Campaign.weekly_until: dt.date(2021, 3, 15),
                           Campaign.weekly_weekday: 0}).where(Campaign.id == season.campaign.id)
    page = soup(await c.get("/stats/weekly"))
    assert [r["data-week"] for r in page.select("#weeks tbody tr")] == ["2021-03-01", "2021-03-08", "2021-03-15"]


async def test_a_submitted_week_is_frozen_and_compared_with_the_week_before(client_factory, season):
    w = season
    c = await client_factory("office")
    page = soup(await c.get("/stats/weekly/2020-12-25"))
    assert "尚未报送" in visible_text(page.select_one("#week-status"))
    assert page.select_one("form[action='/stats/weekly/2020-12-25'] button")

    r = await c.post("/stats/weekly/2020-12-25")
    assert r.status_code == 303 and r.headers["location"] == "/stats/weekly/2020-12-25"
    await jobs.wait_all()  # the freeze runs as a background job
    page = soup(await c.get("/stats/weekly/2020-12-25"))
    assert "已报送" in visible_text(page.select_one("#week-status"))
    week1 = table_values(page)
    assert nonzero(week1["district"]) == {1: 2, 2: 1, 3: 1, 6: 4, 7: 2, 10: 1, 11: 1}
    assert nonzero(week1[str(w.bodies.town.id)]) == {1: 1, 2: 1, 6: 1, 7: 1, 10: 1, 11: 1}
    assert "这是第一次报送" in visible_text(page.select_one("#comparison"))
    assert await WeeklyReport.count() == 3  # two bodies and the district
    entry = await AuditEntry.objects().where(AuditEntry.table_name == "weekly_report").first()
    assert entry.action == "submit" and entry.actor_name == "office"

    # Records change afterwards, even records dated before the week's end.
    await Finding.update({Finding.status: "rejected"}).where(Finding.id == w.f10.id)
    await Finding.update({Finding.status: "confirmed", Finding.reviewed_at: at(2020, 12, 24)}).where(
        Finding.id == w.pending.id)
    await Inspection.update({Inspection.started_at: at(2020, 12, 24)}).where(Inspection.id == w.pending.inspection)
    await Guard.update({Guard.certificate_status: "revoked"}).where(Guard.id == w.guards.valid.id)

    page = soup(await c.get("/stats/weekly/2020-12-25"))
    assert table_values(page) == week1  # frozen: nothing moved
    live = soup(await c.get("/stats", params={"as_of": "2020-12-25"}))
    assert nonzero(table_values(live)["district"]) == {1: 2, 2: 1, 3: 1, 6: 4, 7: 1, 16: 1}
    # The records behind a frozen number are the ones counted then.
    r = await c.get("/stats/weekly/2020-12-25/cell", params={"body": "district", "col": "10"})
    assert r.status_code == 200 and "物业公司未备案" in visible_text(soup(r).select_one("table.records"))

    # Week 2 is compared with week 1, column by column.
    assert (await c.post("/stats/weekly/2021-01-01")).status_code == 303
    await jobs.wait_all()
    page = soup(await c.get("/stats/weekly/2021-01-01"))
    comparison = page.select_one("#comparison")
    assert "与 2020-12-25 报送的周报相比，5 个栏目有变化" in visible_text(comparison)
    changed = {int(tr["data-col"]): visible_text(tr.select_one("td.delta")) for tr in comparison.select("tr.changed")}
    assert changed == {7: "-1", 10: "-1", 11: "-1", 15: "+2", 16: "+1"}
    # The same comparison for one body.
    page = soup(await c.get("/stats/weekly/2021-01-01", params={"body": str(w.bodies.edu.id)}))
    changed = {int(tr["data-col"]): visible_text(tr.select_one("td.delta"))
               for tr in page.select("#comparison tr.changed")}
    assert changed == {7: "-1", 15: "+2", 16: "+1"}

    # A frozen week cannot be submitted again.
    r = await c.post("/stats/weekly/2020-12-25")
    assert r.status_code == 409 and errors(r) == ["第1期周报已报送，报送后不能修改"]
    assert await WeeklyReport.count() == 6


async def test_the_weekly_xlsx_holds_the_frozen_numbers_and_the_comparison(client_factory, season):
    c = await client_factory("office")
    await c.post("/stats/weekly/2020-12-25")
    await c.post("/stats/weekly/2021-01-01")
    await jobs.wait_all()
    r = await c.get("/stats/weekly/2021-01-01/export")
    assert r.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    ws = wb["统计表"]
    assert ws["A1"].value == "蓟州区保安服务市场清理整顿专项行动统计表（第2期累计周报）"
    assert [ws.cell(r, 1).value for r in (6, 7, 8)] == ["区教育局", "官庄镇", "全区合计"]
    assert ws.cell(8, 1 + 15).value == 2 and ws.cell(8, 1 + 10).value == 1
    cmp = wb["与上周比较"]
    rows = {cmp.cell(r, 1).value: (cmp.cell(r, 4).value, cmp.cell(r, 5).value, cmp.cell(r, 6).value)
            for r in range(4, 26)}
    assert rows[15] == (0, 2, "+2") and rows[10] == (1, 1, "0")
    # An unsubmitted week has nothing frozen to export.
    r = await c.get("/stats/weekly/2021-01-08/export")
    assert r.status_code == 404 and "尚未报送" in r.text


async def test_who_may_submit_and_which_days(client_factory, season):
    liaison = await client_factory("liaison_edu")
    r = await liaison.post("/stats/weekly/2020-12-25")
    assert r.status_code == 403
    leader = await client_factory("leader")
    assert (await leader.post("/stats/weekly/2020-12-25")).status_code == 403
    c = await client_factory("office")
    r = await c.post("/stats/weekly/2020-12-26")
    assert r.status_code == 404 and "该日期不是本次专项行动的周报日" in r.text
    assert (await c.get("/stats/weekly/not-a-date")).status_code == 404

    # A report day still ahead cannot be submitted yet.
    today = dt.datetime.now(BEIJING).date()
    await Campaign.update({Campaign.weekly_until: today + dt.timedelta(days=21)}).where(Campaign.id == season.campaign.id)
    ahead = today + dt.timedelta(days=(4 - today.weekday()) % 7 or 7)
    r = await c.post(f"/stats/weekly/{ahead.isoformat()}")
    assert r.status_code == 409 and "尚未到报送日" in errors(r)[0]
    page = soup(await c.get("/stats/weekly"))
    assert "未到报送日" in visible_text(page.select_one(f"tr[data-week='{ahead.isoformat()}']"))
    assert await WeeklyReport.count() == 0


async def test_a_liaison_sees_their_own_frozen_row(client_factory, season):
    office = await client_factory("office")
    await office.post("/stats/weekly/2020-12-25")
    c = await client_factory("liaison_town")
    page = soup(await c.get("/stats/weekly/2020-12-25"))
    values = table_values(page)
    assert list(values) == [str(season.bodies.town.id)]
    assert nonzero(values[str(season.bodies.town.id)]) == {1: 1, 2: 1, 6: 1, 7: 1, 10: 1, 11: 1}
    assert not page.select("form[action^='/stats/weekly/']")
    r = await c.get("/stats/weekly/2020-12-25/cell", params={"body": "district", "col": "10"})
    assert r.status_code == 404
    r = await c.get("/stats/weekly/2020-12-25/export")
    ws = openpyxl.load_workbook(io.BytesIO(r.content))["统计表"]
    assert ws["A2"].value == "填报单位：官庄镇" and ws.cell(6, 10).value == 1


async def test_two_submissions_at_once_freeze_the_week_once(season):
    import asyncio

    from server.auth.scope import CurrentUser
    from server.ledger import service

    office = CurrentUser(season.users.office.id, "office", "张主任", "office", season.bodies.police.id,
                         "公安蓟州分局", "district", None, None, 0)
    campaign = await Campaign.objects().get(Campaign.id == season.campaign.id)
    today = dt.datetime.now(BEIJING).date()
    results = await asyncio.gather(*(service.submit_week(office, campaign, dt.date(2020, 12, 25), today)
                                     for _ in range(2)), return_exceptions=True)
    failures = [r for r in results if r is not None]
    assert len(failures) == 1 and isinstance(failures[0], Conflict)
    assert str(failures[0]) == "第1期周报已报送，报送后不能修改"
    assert await WeeklyReport.count() == 3


async def test_the_freeze_runs_as_a_job_the_page_shows_its_progress_and_a_retry_freezes_once(client_factory, season, app):
    c = await client_factory("office")
    # Clicked twice (a retry, a second tab) before the first freeze has run: one freeze.
    assert (await c.post("/stats/weekly/2020-12-25")).status_code == 303
    assert (await c.post("/stats/weekly/2020-12-25")).status_code in (303, 409)
    await jobs.wait_all()
    assert await WeeklyReport.count() == 3
    assert await AuditEntry.count().where(AuditEntry.table_name == "weekly_report") == 1
    page = soup(await c.get("/stats/weekly/2020-12-25"))
    assert "已报送" in visible_text(page.select_one("#week-status"))

    # While a week is being frozen (here: by another app process), its page shows the progress,
    # polls it, and offers no second 报送 button.
    key = freeze.job_key(season.campaign.id, dt.date(2021, 1, 1))
    await jobs.put_status(app.state.store, freeze.PREFIX, key, {
        "key": key, "state": "running", "stage": "finding", "records": 1234, "message": ""})
    page = soup(await c.get("/stats/weekly/2021-01-01"))
    assert "正在报送" in visible_text(page.select_one("#week-status"))
    progress = page.select_one("#freeze-progress")
    assert "问题（已统计 1234 条记录）" in visible_text(progress)
    assert progress["hx-get"] == "/stats/weekly/2021-01-01/progress"
    assert page.select_one("form[action='/stats/weekly/2021-01-01']") is None
    r = await c.post("/stats/weekly/2021-01-01")  # a retry finds the running freeze
    await jobs.wait_all()
    assert await WeeklyReport.count() == 3
    r = await c.get("/stats/weekly/2021-01-01/progress", headers={"HX-Request": "true"})
    assert "正在冻结第2期周报" in visible_text(soup(r))
    # Done: the poll leads back to the week page, which shows the frozen week.
    await jobs.put_status(app.state.store, freeze.PREFIX, key, {"key": key, "state": "done", "stage": "write"})
    r = await c.get("/stats/weekly/2021-01-01/progress")
    assert r.status_code == 303 and r.headers["location"] == "/stats/weekly/2021-01-01"


async def test_a_freeze_that_fails_while_writing_leaves_no_half_frozen_week(client_factory, season):
    """The reports are written, then their cells (by COPY on PostgreSQL): a failure at the
    cells, here a refusal by the database, leaves neither, and the week can be submitted again."""
    from server import db

    c = await client_factory("office")
    refuse = ("CREATE TRIGGER refuse_cells BEFORE INSERT ON weekly_cell FOR EACH ROW EXECUTE FUNCTION refuse_cells()"
              if db.is_postgres() else
              "CREATE TRIGGER refuse_cells BEFORE INSERT ON weekly_cell BEGIN SELECT RAISE(ABORT, 'refused'); END")
    if db.is_postgres():
        await db.engine().run_ddl("CREATE OR REPLACE FUNCTION refuse_cells() RETURNS trigger LANGUAGE plpgsql AS "
                                  "$$ BEGIN RAISE EXCEPTION 'refused'; END $$")
    await db.engine().run_ddl(refuse)
    try:
        assert (await c.post("/stats/weekly/2020-12-25")).status_code == 303
        await jobs.wait_all()
    finally:
        await db.engine().run_ddl("DROP TRIGGER refuse_cells" + (" ON weekly_cell" if db.is_postgres() else ""))
        if db.is_postgres():
            await db.engine().run_ddl("DROP FUNCTION refuse_cells()")
    r = await c.get("/stats/weekly/2020-12-25/progress", headers={"HX-Request": "true"})
    assert "周报冻结失败" in visible_text(soup(r))
    assert await WeeklyReport.count() == 0
    assert await AuditEntry.count().where(AuditEntry.table_name == "weekly_report") == 0
    page = soup(await c.get("/stats/weekly/2020-12-25"))
    assert "已报送" not in visible_text(page.select_one("#week-status"))

    assert (await c.post("/stats/weekly/2020-12-25")).status_code == 303
    await jobs.wait_all()
    assert "已报送" in visible_text(soup(await c.get("/stats/weekly/2020-12-25")).select_one("#week-status"))
    assert await WeeklyReport.count() == 3
