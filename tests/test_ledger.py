"""The statistics table as the office, a liaison and the command line see it: the numbers, the
records behind each number, the xlsx read back, and who may see what."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import openpyxl
import pytest

from server import db
from server.models.campaign import Campaign
from server.models.inspections import Finding, Inspection
from server.ledger.columns import COLUMNS
from server.models.rectification import RectificationOrder, RectificationOutcome
from server.models.registry import Guard, Site, Unit
from tests.support.flow import new_id
from tests.support.html import errors, soup, visible_text

ROOT = Path(__file__).resolve().parents[1]
BEIJING = dt.timezone(dt.timedelta(hours=8))


def at(y: int, m: int, d: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(y, m, d, hour, tzinfo=BEIJING)


async def add_finding(world, unit, site, column, *, quantity=1, status="confirmed", reviewed_at=None,
                      area=None, officer=None, text="问题"):
    """A finding from a submitted inspection, confirmed (or not) in review."""
    insp = Inspection(uuid=new_id(), campaign=world.campaign.id, officer=(officer or world.users.officer).id,
                      body=world.bodies.police.id, site=site.id, unit=unit.id, status="reviewed",
                      submitted_at=reviewed_at or dt.datetime.now(dt.timezone.utc),
                      started_at=reviewed_at or dt.datetime.now(dt.timezone.utc))
    await insp.save()
    area = area or {8: 4, 9: 4, 10: 5, 11: 5, 12: 6, 13: 6, 14: 4, 15: 1, 16: 2}.get(column, 3)
    f = Finding(uuid=new_id(), inspection=insp.id, unit=unit.id, area=area, stat_column=column,
                count_unit="person" if column in (15, 16) else "case", quantity=quantity, text=text,
                status=status, reviewed_at=reviewed_at or (dt.datetime.now(dt.timezone.utc) if status == "confirmed" else None))
    await f.save()
    return f


async def add_outcome(world, unit, column, quantity=1, recorded_on=None, deadline=None, status="verified",
                      answers=None):
    """answers: the finding the order was made for (column 21 counts a filing only on an
    order that answers a filing finding)."""
    order = RectificationOrder(number=f"ZG{new_id()[:8]}", campaign=world.campaign.id, unit=unit.id,
                               issued_by=world.users.office.id, deadline=deadline or dt.date(2021, 1, 10),
                               status=status)
    await order.save()
    if answers is not None:
        await Finding.update({Finding.order: order.id}).where(Finding.id == answers.id)
    o = RectificationOutcome(order=order.id, stat_column=column, quantity=quantity,
                             recorded_on=recorded_on or dt.date.today(), recorded_by=world.users.office.id)
    await o.save()
    return order, o


@pytest.fixture
async def counted(world):
    """The world plus: a confirmed 未备案 at the property company (10, of which 11), two
    unqualified guards at the school (15), one finding still awaiting review, a training
    remark, and one rectification outcome (21)."""
    f10 = await add_finding(world, world.units.estate_co, world.sites.estate, 10, text="物业公司未备案")
    f15 = await add_finding(world, world.units.school, world.sites.school, 15, quantity=2, text="两名保安员无证上岗")
    pending = await add_finding(world, world.units.school, world.sites.school, 16, status="submitted")
    remark = await add_finding(world, world.units.school, world.sites.school, None, area=3, text="未开展岗前培训")
    order, outcome = await add_outcome(world, world.units.estate_co, 21, answers=f10)
    return SimpleNamespace(world=world, f10=f10, f15=f15, pending=pending, remark=remark, order=order, outcome=outcome)


def table_values(page) -> dict[str, dict[int, str]]:
    """{row key: {column: text}} from the statistics table on a page."""
    out = {}
    for tr in page.select("#stat-table tbody tr"):
        out[tr["data-row"]] = {int(td["data-col"]): visible_text(td) for td in tr.select("td")}
    return out


def nonzero(row: dict[int, str]) -> dict[int, int]:
    return {c: int(v) for c, v in row.items() if c != 23 and v != "0"}


async def test_office_sees_one_row_per_body_and_the_district_total(client_factory, counted):
    w = counted.world
    await Campaign.update({Campaign.name: "某某区保安服务市场清理整顿专项行动"}).where(Campaign.id == w.campaign.id)
    c = await client_factory("office")
    r = await c.get("/stats")
    assert r.status_code == 200
    page = soup(r)
    assert visible_text(page.select_one("h1")) == "某某区保安服务市场清理整顿专项行动统计表"
    assert visible_text(page.select_one("#body-line")) == "填报单位：公安蓟州分局（全区汇总）"
    bands = [visible_text(th) for th in page.select("#stat-table thead tr.bands th")]
    assert bands == ["填报单位", "辖区摸底情况", "发现违法违规行为情况", "查处整顿情况"]
    labels = [th.get_text("", strip=True) for th in page.select("#stat-table thead tr.labels th")]
    assert len(labels) == 23 and labels[0] == "使用保安单位" and labels[10] == "其中物业服务企业" and labels[22] == "备注"
    assert [visible_text(th) for th in page.select("#stat-table thead tr.units th")][:7] == \
        ["（家）", "（家）", "（家）", "（家）", "", "（人）", "（人）"]
    rows = [visible_text(tr.th) for tr in page.select("#stat-table tbody tr")]
    assert rows == ["区教育局", "官庄镇", "全区合计"]  # the police (district scope) is the total

    values = table_values(page)
    edu, town, total = values[str(w.bodies.edu.id)], values[str(w.bodies.town.id)], values["district"]
    # School (security company guards it; 3 guards there, 1 certified); 2 persons without certificates.
    assert nonzero(edu) == {1: 1, 3: 1, 6: 3, 7: 1, 15: 2}
    # The estate guards itself (自招); not filed, and it is a property company (10 and 11).
    assert nonzero(town) == {1: 1, 2: 1, 6: 1, 7: 1, 10: 1, 11: 1, 21: 1}
    assert nonzero(total) == {1: 2, 2: 1, 3: 1, 6: 4, 7: 2, 10: 1, 11: 1, 15: 2, 21: 1}
    assert edu[23] == total[23] == "未计入上列栏目的问题：教育培训 1 起" and town[23] == ""


async def test_every_number_opens_the_records_behind_it(client_factory, counted):
    c = await client_factory("office")
    page = soup(await c.get("/stats"))
    links = page.select("#stat-table tbody td a")
    assert len(links) == 3 * 22 + 2  # every number, and the two non-empty remarks
    for a in links:
        r = await c.get(a["href"])
        assert r.status_code == 200, a["href"]
        detail = soup(r)
        title = visible_text(detail.select_one("#cell-title"))
        col = int(a.find_parent("td")["data-col"])
        if col != 23:
            assert title.endswith(f"：{visible_text(a)}{next(x.unit for x in COLUMNS if x.number == col)}"), (title, a["href"])
        listed = detail.select("table.records tbody tr")
        if visible_text(a) == "0":
            assert not listed and detail.select_one("#no-records")
        else:
            assert listed

    # The records behind two numbers, as the office reads them.
    r = await c.get("/stats/cell?body=district&col=11")
    text = visible_text(soup(r).select_one("table.records"))
    assert "蓟州区绿园物业服务有限公司" in text and "物业公司未备案" in text
    r = await c.get(f"/stats/cell?body={counted.world.bodies.edu.id}&col=6")
    names = [visible_text(tr.td) for tr in soup(r).select("table.records tbody tr")]
    assert sorted(names) == sorted(["张伟", "李强", "王磊"])


async def test_guard_id_numbers_are_masked_behind_a_number(client_factory, counted):
    await Guard.update({Guard.id_number: "120225198001011234"}).where(Guard.id == counted.world.guards.valid.id)
    c = await client_factory("office")
    r = await c.get("/stats/cell?body=district&col=7")
    assert "1202**********1234" in r.text and "120225198001011234" not in r.text


async def test_a_liaison_sees_only_their_own_body(client_factory, counted):
    w = counted.world
    c = await client_factory("liaison_edu")
    page = soup(await c.get("/stats"))
    assert [visible_text(tr.th) for tr in page.select("#stat-table tbody tr")] == ["区教育局"]
    assert visible_text(page.select_one("#body-line")) == "填报单位：区教育局"
    assert not page.select("select[name=body]")
    assert nonzero(table_values(page)[str(w.bodies.edu.id)]) == {1: 1, 3: 1, 6: 3, 7: 1, 15: 2}
    for url in (f"/stats?body={w.bodies.town.id}", "/stats?body=district", f"/stats/cell?body={w.bodies.town.id}&col=1",
                f"/stats/export?body={w.bodies.town.id}"):
        r = await c.get(url)
        assert r.status_code == 403 and "您只能查看本单位的统计表" in r.text, url
    # Their own findings list: the inspection itself is the police's, so no link to it.
    r = await c.get(f"/stats/cell?body={w.bodies.edu.id}&col=15")
    assert "两名保安员无证上岗" in r.text and "/inspections/" not in str(soup(r).select_one("table.records"))


async def test_officers_do_not_see_statistics_ledger_or_dashboard(client_factory, counted):
    c = await client_factory("officer")
    for url in ("/stats", "/stats/weekly", "/ledger/units", "/dashboard"):
        r = await c.get(url)
        assert r.status_code == 403 and "无权" in r.text, url
    nav = visible_text(soup(await c.get("/")).select_one(".mainnav"))
    assert "统计表" not in nav and "台账" not in nav and "看板" not in nav


async def test_nav_links_by_role(client_factory, world):
    for username, expected, absent in [("office", ["统计表", "台账", "看板"], []),
                                       ("leader", ["统计表", "台账", "看板"], []),
                                       ("liaison_town", ["统计表"], ["台账", "看板"])]:
        c = await client_factory(username)
        nav = [visible_text(a) for a in soup(await c.get("/")).select(".mainnav a")]
        assert all(x in nav for x in expected) and not any(x in nav for x in absent), (username, nav)


async def test_bad_dates_are_explained(client_factory, counted):
    c = await client_factory("office")
    r = await c.get("/stats", params={"as_of": "2021-13-45"})
    assert r.status_code == 422 and errors(r) == ["统计日期格式不正确，请按 年-月-日 填写，例如 2021-01-08"]
    assert soup(r).select("#stat-table tbody tr")  # the table as of today is still shown
    r = await c.get("/stats", params={"as_of": "2999-01-01"})
    assert r.status_code == 422 and errors(r) == ["统计日期不能晚于今天"]
    r = await c.get("/stats/cell", params={"body": "district", "col": "99"})
    assert r.status_code == 404


async def test_as_of_a_past_day_counts_only_what_was_known_then(client_factory, counted):
    w = counted.world
    await Unit.update({Unit.created_at: at(2020, 12, 16)}).where(Unit.id.is_not_null())
    await Site.update({Site.created_at: at(2020, 12, 16)}).where(Site.id.is_not_null())
    await Guard.update({Guard.created_at: at(2020, 12, 16)}).where(Guard.id.is_not_null())
    # The estate company was registered only on 12-22; the 未备案 finding confirmed on 12-23.
    await Unit.update({Unit.created_at: at(2020, 12, 22)}).where(Unit.id == w.units.estate_co.id)
    await Finding.update({Finding.reviewed_at: at(2020, 12, 23, 23)}).where(Finding.id == counted.f10.id)
    await Finding.update({Finding.reviewed_at: at(2020, 12, 20)}).where(Finding.id != counted.f10.id)
    # Findings count on the day found (their inspection's): here the day they were confirmed.
    await Inspection.update({Inspection.started_at: at(2020, 12, 23, 23)}).where(Inspection.id == counted.f10.inspection)
    await Inspection.update({Inspection.started_at: at(2020, 12, 20)}).where(Inspection.id != counted.f10.inspection)
    await RectificationOutcome.update({RectificationOutcome.recorded_on: dt.date(2020, 12, 28)}).where(
        RectificationOutcome.id == counted.outcome.id)
    c = await client_factory("office")

    async def total(day):
        page = soup(await c.get("/stats", params={"as_of": day}))
        return nonzero(table_values(page)["district"])

    assert await total("2020-12-21") == {1: 1, 3: 1, 6: 4, 7: 2, 15: 2}
    assert await total("2020-12-23") == {1: 2, 2: 1, 3: 1, 6: 4, 7: 2, 10: 1, 11: 1, 15: 2}
    assert await total("2020-12-28") == {1: 2, 2: 1, 3: 1, 6: 4, 7: 2, 10: 1, 11: 1, 15: 2, 21: 1}
    assert await total("2020-12-15") == {}


def _read(content: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(content))


async def test_xlsx_has_the_official_layout_and_the_page_numbers(client_factory, counted):
    c = await client_factory("office")
    page = soup(await c.get("/stats"))
    html = table_values(page)
    r = await c.get("/stats/export")
    assert r.status_code == 200 and r.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    ws = _read(r.content)["统计表"]
    assert ws["A1"].value == "蓟州区保安服务市场清理整顿专项行动统计表"
    assert ws["A2"].value == "填报单位：公安蓟州分局（全区汇总）"
    assert str(ws["S2"].value).startswith("统计截至：")
    merged = {str(m) for m in ws.merged_cells.ranges}
    assert {"A1:X1", "A2:R2", "S2:X2", "A3:A5", "B3:H3", "I3:Q3", "R3:X3"} <= merged
    assert [ws.cell(3, c).value for c in (1, 2, 9, 18)] == ["填报单位", "辖区摸底情况", "发现违法违规行为情况", "查处整顿情况"]
    assert [ws.cell(4, 1 + col.number).value for col in COLUMNS] == [col.label for col in COLUMNS]
    assert ws.cell(4, 24).value == "备注"
    units = [ws.cell(5, 1 + col.number).value or "" for col in COLUMNS]
    assert units[:8] == ["（家）"] * 4 + ["", "（人）", "（人）", "（起）"] and units[14:16] == ["（人）", "（人）"]
    assert units[16:22] == ["（个）", "（人）", "（人）", "（人）", "（家）", "（人）"] and units[22] == ""
    # The numbers are the page's numbers, row by row.
    labels = [visible_text(tr.th) for tr in page.select("#stat-table tbody tr")]
    keys = [tr["data-row"] for tr in page.select("#stat-table tbody tr")]
    for i, (label, key) in enumerate(zip(labels, keys)):
        row = 6 + i
        assert ws.cell(row, 1).value == label
        for col in range(1, 23):
            assert str(ws.cell(row, 1 + col).value) == html[key][col], (label, col)
        assert (ws.cell(row, 24).value or "") == html[key][23]
    # Printing: A4 landscape, one page wide, headers frozen and repeated.
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9  # A4
    assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.freeze_panes == "B6" and ws.print_title_rows == "$3:$5"
    assert ws.column_dimensions["B"].width >= 10 and ws.column_dimensions["X"].width >= 30


async def test_a_liaisons_xlsx_is_the_form_for_their_body(client_factory, counted):
    c = await client_factory("liaison_town")
    r = await c.get("/stats/export")
    ws = _read(r.content)["统计表"]
    assert ws["A2"].value == "填报单位：官庄镇"
    assert {"A1:W1", "A3:G3", "H3:P3", "Q3:W3"} <= {str(m) for m in ws.merged_cells.ranges}
    assert ws["A4"].value == "使用保安单位" and ws["W4"].value == "备注"
    assert [ws.cell(6, c).value for c in (1, 2, 10, 11, 21)] == [1, 1, 1, 1, 1]
    assert ws.freeze_panes == "A6"


def cli(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "server", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


async def test_cli_writes_the_statistics_table(service_env, counted, tmp_path):
    out = tmp_path / "district.xlsx"
    done = cli(service_env, "ledger", "stats", "--xlsx", str(out))
    assert done.returncode == 0, done.stderr
    ws = openpyxl.load_workbook(out)["统计表"]
    assert [ws.cell(r, 1).value for r in (6, 7, 8)] == ["区教育局", "官庄镇", "全区合计"]
    assert ws.cell(8, 11).value == 1 and ws.cell(8, 16).value == 2   # total: column 10, column 15

    out = tmp_path / "edu.xlsx"
    done = cli(service_env, "ledger", "stats", "--body", "区教育局", "--as-of", dt.datetime.now(BEIJING).date().isoformat(),
               "--xlsx", str(out))
    assert done.returncode == 0, done.stderr
    ws = openpyxl.load_workbook(out)["统计表"]
    assert ws["A2"].value == "填报单位：区教育局" and ws.cell(6, 15).value == 2

    done = cli(service_env, "ledger", "stats", "--body", "不存在的单位", "--xlsx", str(tmp_path / "x.xlsx"))
    assert done.returncode == 1 and "填报单位不存在" in done.stderr
    done = cli(service_env, "ledger", "stats", "--as-of", "2021-02-30", "--xlsx", str(tmp_path / "x.xlsx"))
    assert done.returncode == 1 and "日期格式不正确" in done.stderr


async def test_cli_checks_and_rebuilds_the_statistics_tallies(service_env, counted):
    done = cli(service_env, "ledger", "tally")
    assert done.returncode == 0, done.stderr
    assert "finding_tally: 与记录一致" in done.stdout and "guard_tally: 与记录一致" in done.stdout
    await db.raw("UPDATE finding_tally SET n = n + 1 WHERE id = (SELECT MIN(id) FROM finding_tally)")
    done = cli(service_env, "ledger", "tally")
    assert done.returncode == 1 and "finding_tally: 1 组与记录不一致" in done.stdout
    assert "ledger tally --rebuild" in done.stderr
    done = cli(service_env, "ledger", "tally", "--rebuild")
    assert done.returncode == 0 and "finding_tally: 已重建" in done.stdout, done.stderr
    assert cli(service_env, "ledger", "tally").returncode == 0
