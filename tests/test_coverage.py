"""Coverage (全覆盖): units of a scope inspected at least once in the campaign, against all
units of the scope, and the list of those not yet visited — on the liaison's home page, its
own list, and the dashboard per body and per township."""

from __future__ import annotations

import datetime as dt
import uuid as uuidlib

import pytest

from server.auth.scope import Scope
from server.ledger import coverage
from server.models.campaign import Campaign
from server.models.inspections import Inspection
from server.models.registry import Site, Unit
from server.vocab import InspectionStatus, Sector, UnitKind
from tests.support.html import soup, visible_text

NOW = dt.datetime(2020, 12, 20, 2, 0, tzinfo=dt.timezone.utc)


async def _unit(world, name: str, township, sector=Sector.property, **extra) -> tuple[Unit, Site]:
    unit = Unit(name=name, kind=UnitKind.property_company, sector=sector, township=township.id, **extra)
    await unit.save()
    site = Site(unit=unit.id, name=f"{name}小区", township=township.id, sector=sector)
    await site.save()
    return unit, site


async def _inspect(world, unit, site, *, campaign=None, status=InspectionStatus.submitted) -> None:
    await Inspection(uuid=str(uuidlib.uuid4()), campaign=(campaign or world.campaign).id,
                     officer=world.users.officer.id, body=world.bodies.police.id, site=site.id,
                     unit=unit.id, status=status,
                     submitted_at=None if status == InspectionStatus.draft else NOW).save()


@pytest.fixture
async def town(world):
    """官庄镇 has five units in the registry (and one that stopped service); three were visited
    (one of them twice), one only has a draft, one was visited in an earlier campaign only."""
    g = world.townships.guanzhuang
    a, a_site = await _unit(world, "甲物业公司", g)
    b, b_site = await _unit(world, "乙物业公司", g)
    c, c_site = await _unit(world, "丙物业公司", g)
    d, d_site = await _unit(world, "丁物业公司", g)
    stopped, stopped_site = await _unit(world, "戊物业公司", g, service_stopped_on=dt.date(2020, 11, 1))
    estate_site = world.sites.estate
    old = Campaign(name="上一次专项行动", district="蓟州区", starts_on=dt.date(2019, 1, 1),
                   ends_on=dt.date(2019, 2, 1), active=False)
    await old.save()
    await _inspect(world, world.units.estate_co, estate_site)
    await _inspect(world, a, a_site)
    await _inspect(world, a, a_site, status=InspectionStatus.reviewed)
    await _inspect(world, b, b_site, status=InspectionStatus.sent_back)
    await _inspect(world, c, c_site, status=InspectionStatus.draft)
    await _inspect(world, d, d_site, campaign=old)
    await _inspect(world, stopped, stopped_site)
    return world


async def test_counts_a_township_and_lists_the_unvisited(town):
    scope = Scope("township", None, town.townships.guanzhuang.id)
    figure = await coverage.coverage_for(town.campaign.id, scope)
    assert (figure.visited, figure.total, figure.unvisited, figure.percent) == (3, 5, 2, 60)
    rows, more = await coverage.unvisited_page(town.campaign.id, scope)
    assert sorted(r["name"] for r in rows) == ["丁物业公司", "丙物业公司"]
    assert more is False
    rows, more = await coverage.unvisited_page(town.campaign.id, scope, page=1, page_size=1)
    assert len(rows) == 1 and more is True
    # The sector of schools: the school is not visited; the district: 3 of 7.
    school = await coverage.coverage_for(town.campaign.id, Scope("sector", Sector.school, None))
    assert (school.visited, school.total) == (0, 1)
    district = await coverage.coverage_for(town.campaign.id, Scope("district", None, None))
    assert (district.visited, district.total) == (3, 7)
    by_body = await coverage.coverage_by_body(town.campaign.id)
    assert by_body[town.bodies.town.id] == coverage.Coverage(3, 5)
    assert by_body[town.bodies.edu.id] == coverage.Coverage(0, 1)
    assert by_body[town.bodies.police.id] == coverage.Coverage(3, 7)
    by_town = await coverage.coverage_by_township(town.campaign.id)
    assert by_town[town.townships.guanzhuang.id] == coverage.Coverage(3, 5)
    assert by_town[town.townships.yuyang.id] == coverage.Coverage(0, 2)


async def test_the_liaison_sees_its_coverage_and_the_unvisited_list(town, client_factory):
    c = await client_factory("liaison_town")
    home = visible_text(soup(await c.get("/")).select_one("#home-coverage"))
    assert "已检查 3 / 5 家单位（60%）" in home and "查看未检查的 2 家单位" in home
    page = await c.get("/coverage")
    assert page.status_code == 200
    names = [visible_text(td) for td in soup(page).select("#unvisited td[data-label=单位名称]")]
    assert sorted(names) == ["丁物业公司", "丙物业公司"]
    edu = await client_factory("liaison_edu")
    page = await edu.get("/coverage")
    names = [visible_text(td) for td in soup(page).select("#unvisited td[data-label=单位名称]")]
    assert names == ["蓟州区第一中学"]
    assert "已检查 0 / 1 家单位（0%）" in visible_text(soup(page).select_one("#coverage"))
    # Another body's scope is not for a liaison to see.
    assert (await edu.get(f"/coverage?body={town.bodies.town.id}")).status_code == 404
    assert (await edu.get(f"/coverage?township={town.townships.guanzhuang.id}")).status_code == 404
    officer = await client_factory("officer")
    assert (await officer.get("/coverage")).status_code == 403


async def test_the_office_sees_coverage_per_body_and_township(town, client_factory):
    c = await client_factory("office")
    page = await c.get(f"/coverage?body={town.bodies.town.id}")
    assert "已检查 3 / 5 家单位（60%）" in visible_text(soup(page).select_one("#coverage"))
    page = await c.get(f"/coverage?township={town.townships.yuyang.id}")
    names = sorted(visible_text(td) for td in soup(page).select("#unvisited td[data-label=单位名称]"))
    assert names == ["蓟州区安泰保安服务有限公司", "蓟州区第一中学"]
    assert (await c.get("/coverage?body=999999")).status_code == 404
    board = soup(await c.get("/dashboard"))
    rows = {visible_text(tr.select_one("td")): visible_text(tr) for tr in board.select("#coverage-bodies tbody tr")}
    assert "3 / 5" in rows["官庄镇"] and "60%" in rows["官庄镇"]
    assert "0 / 1" in rows["区教育局"]
    towns = {visible_text(tr.select_one("td")): visible_text(tr) for tr in board.select("#coverage-townships tbody tr")}
    assert "3 / 5" in towns["官庄镇"] and "0 / 2" in towns["渔阳镇"]


async def test_the_report_board_shows_each_body_coverage(town, client_factory):
    """The office's board of a report day names each body's coverage beside its status."""
    await Campaign.update({Campaign.weekly_from: dt.date(2020, 12, 25), Campaign.weekly_until: dt.date(2021, 1, 8),
                           Campaign.weekly_weekday: 4}).where(Campaign.id == town.campaign.id)
    c = await client_factory("office")
    board = soup(await c.get("/reports/2020-12-25"))
    rows = {tr["data-body"]: visible_text(tr.select_one("td.coverage")) for tr in board.select("#board tbody tr")}
    assert rows[str(town.bodies.town.id)] == "3 / 5（60%）"
    assert rows[str(town.bodies.edu.id)] == "0 / 1（0%）"
