"""The offender (违法主体) of a finding: who broke the rule, which the order, the notice and the
statistics table follow (issue 15). Known answers on a school guarded by a property company
serving outside its own estate."""

from __future__ import annotations

import pytest

from server import clock
from server.auth.scope import Scope
from server.ledger import queries
from server.models.inspections import Finding
from server.models.registry import Site, Unit
from server.vocab import BodyScope, ProviderKind, Sector, UnitKind
from tests.support.flow import answer_all, new_id, start
from tests.support.html import errors, soup, visible_text
from tests.test_rectification import order_for
from tests.test_review import decide

HX = {"HX-Request": "true"}
DISTRICT = Scope(BodyScope.district, None, None)


@pytest.fixture
async def client_site(world):
    """The school's gate is guarded by a property company from 官庄镇 (a self-recruiting unit
    serving outside its estate: focus area 6)."""
    estate = world.units.estate_co
    await Site.update({Site.provider_kind: ProviderKind.property_company, Site.provider: estate.id}).where(
        Site.id == world.sites.school.id)
    return world


async def row_of(world, scope: Scope):
    counts = await queries.count(world.campaign.id, clock.today(), scope)
    return counts.row(scope)


async def confirm_all(client_factory, key: str) -> list[Finding]:
    office = await client_factory("office")
    findings = await Finding.objects().where(Finding.inspection.uuid == key).order_by(Finding.id)
    for f in findings:
        r = await decide(office, key, "findings", f.id, "confirm")
        assert r.status_code == 303, r.text
    return findings


async def test_a_providers_violation_at_a_school_is_the_providers_case(client_factory, client_site):
    w = client_site
    officer = await client_factory("officer")
    key = await start(officer, w.sites.school.id)
    await answer_all(officer, key, violations={6: "物业公司派员在学校门岗从事保安服务"})
    page = soup(await officer.get(f"/inspections/{key}"))
    # Area 6 defaults to the provider posted at the site, and the page says so.
    assert "违法主体：蓟州区绿园物业服务有限公司" in visible_text(page.select_one("#findings"))
    assert (await officer.post(f"/inspections/{key}/submit")).status_code == 303
    [finding] = await confirm_all(client_factory, key)
    assert finding.unit == w.units.estate_co.id and finding.stat_column == 12

    # Columns 12 and 13 (a property company) in the provider's township row, not the school's.
    edu = Scope(BodyScope.sector, Sector.school, None)
    town = Scope(BodyScope.township, None, w.townships.guanzhuang.id)
    district = await row_of(w, DISTRICT)
    assert (district.cells[12].value, district.cells[13].value) == (1, 1)
    guanzhuang = await row_of(w, town)
    assert (guanzhuang.cells[12].value, guanzhuang.cells[13].value) == (1, 1)
    schools = await row_of(w, edu)
    assert (schools.cells[12].value, schools.cells[13].value) == (0, 0)

    # The order (and its notice) goes to the provider.
    office = await client_factory("office")
    pending = visible_text(soup(await office.get("/rectification")).select_one("#pending"))
    assert "蓟州区绿园物业服务有限公司" in pending and "蓟州区第一中学" not in pending
    order = await order_for(office, w.units.estate_co.id, [finding.id])
    assert order.unit == w.units.estate_co.id
    notice = visible_text(soup(await office.get(f"/rectification/orders/{order.id}/notice")))
    assert "蓟州区绿园物业服务有限公司" in notice
    assert "撤销备案" not in notice  # not a filing order


async def test_the_officer_names_another_party_or_an_unregistered_one(client_factory, client_site):
    w = client_site
    officer = await client_factory("officer")
    key = await start(officer, w.sites.school.id)
    # A guard of the security company is met on duty: its employer is one of the parties offered.
    r = await officer.post(f"/inspections/{key}/guards", headers=HX, data={
        "uuid": new_id(), "guard_id": str(w.guards.valid.id)})
    assert r.status_code == 200, r.text
    offered = [o.get_text() for o in soup(await officer.get(f"/inspections/{key}")).select(
        "details.add-finding select[name=offender] option")]
    assert offered[1:] == ["场所单位：蓟州区第一中学", "派驻服务单位：蓟州区绿园物业服务有限公司",
                           "保安员所属单位：蓟州区安泰保安服务有限公司"]
    # Area 1 defaults to the site's owner; the officer names the guard's employer instead.
    r = await officer.post(f"/inspections/{key}/findings", headers=HX, data={
        "uuid": new_id(), "area": "1", "stat_column": "15", "quantity": "1", "text": "一名保安员无证上岗",
        "offender": str(w.units.secco.id)})
    assert r.status_code == 200, r.text
    # Nobody's id outside the site's parties is accepted.
    other = await Unit.objects().create(name="无关单位", kind=UnitKind.using_unit)
    r = await officer.post(f"/inspections/{key}/findings", headers=HX, data={
        "uuid": new_id(), "area": "3", "quantity": "1", "text": "未培训", "offender": str(other.id)})
    assert "所选违法主体不是本场所的相关单位" in " ".join(errors(r))
    # An unregistered organisation typed by name: registered, flagged 需核查.
    uuid = new_id()
    for _ in range(2):  # a replay of the queued form makes one finding and one unit
        r = await officer.post(f"/inspections/{key}/findings", data={
            "uuid": uuid, "area": "4", "stat_column": "8", "quantity": "1", "text": "保洁公司派人冒充保安",
            "offender": "", "offender_name": "蓟州区洁美保洁服务部"})
        assert r.status_code == 303, r.text
    made = await Unit.objects().where(Unit.name == "蓟州区洁美保洁服务部")
    assert len(made) == 1 and made[0].to_verify and made[0].kind == UnitKind.illegal_org
    assert made[0].township == w.townships.yuyang.id
    findings = {f.area: f for f in await Finding.objects().where(Finding.inspection.uuid == key)}
    assert findings[1].unit == w.units.secco.id and findings[4].unit == made[0].id
    # The unit page says it needs checking.
    office = await client_factory("office")
    assert "需核查" in visible_text(soup(await office.get(f"/registry/units/{made[0].id}")))


async def test_the_office_corrects_the_offender_in_review(client_factory, client_site):
    w = client_site
    officer = await client_factory("officer")
    key = await start(officer, w.sites.school.id)
    await answer_all(officer, key, violations={4: "无证保安服务"})
    assert (await officer.post(f"/inspections/{key}/submit")).status_code == 303
    [finding] = await Finding.objects().where(Finding.inspection.uuid == key)
    assert finding.unit == w.units.estate_co.id  # area 4: the provider by default
    office = await client_factory("office")
    page = soup(await office.get(f"/office/inspections/{key}"))
    assert "违法主体：蓟州区绿园物业服务有限公司" in visible_text(page.select_one(f"#finding-{finding.id}"))
    r = await office.post(f"/office/inspections/{key}/findings/{finding.id}", data={
        "decision": "confirm", "note": "", "offender": str(w.units.school.id)})
    assert r.status_code == 303, r.text
    finding = await Finding.objects().get(Finding.id == finding.id)
    assert finding.unit == w.units.school.id and finding.status == "confirmed"
    district = await row_of(w, DISTRICT)
    assert district.cells[8].value == 1
    edu = await row_of(w, Scope(BodyScope.sector, Sector.school, None))
    assert edu.cells[8].value == 1


async def test_a_repeat_at_reinspection_is_linked_shown_and_counted_once(client_factory, client_site):
    """回头看 at the school finds the property company still serving outside its estate: the
    finding is linked to the earlier one, the order shows 复查仍未整改, column 12 stays 1."""
    w = client_site
    officer = await client_factory("officer")
    key = await start(officer, w.sites.school.id)
    await answer_all(officer, key, violations={6: "物业公司派员在学校门岗从事保安服务"})
    assert (await officer.post(f"/inspections/{key}/submit")).status_code == 303
    [first] = await confirm_all(client_factory, key)
    office = await client_factory("office")
    order = await order_for(office, w.units.estate_co.id, [first.id])

    officer2 = await client_factory("officer2")
    r = await officer2.post(f"/rectification/orders/{order.id}/reinspect", data={"uuid": new_id()})
    again = r.headers["location"].rsplit("/", 1)[1]
    await answer_all(officer2, again, violations={6: "仍由该物业公司派员值守", 3: "未开展培训"})
    page = visible_text(soup(await officer2.get(f"/inspections/{again}")).select_one("#findings"))
    assert "复查仍未整改" in page and order.number in page
    assert (await officer2.post(f"/inspections/{again}/submit")).status_code == 303
    repeat, other = sorted(await confirm_all(client_factory, again), key=lambda f: -f.area)
    assert repeat.repeat_of == first.id and other.repeat_of is None  # area 3 is against the school

    district = await row_of(w, DISTRICT)
    assert (district.cells[12].value, district.cells[13].value) == (1, 1)
    assert district.remarks == "未计入上列栏目的问题：教育培训 1 起"
    order_page = soup(await office.get(f"/rectification/orders/{order.id}"))
    assert "复查仍未整改" in visible_text(order_page.select_one("#findings"))
    notice = visible_text(soup(await office.get(f"/rectification/orders/{order.id}/notice")).select_one("article"))
    assert "（复查仍未整改）" in notice
    # The repeat waits for no second order.
    pending = visible_text(soup(await office.get("/rectification")).select_one("#pending"))
    assert "蓟州区绿园物业服务有限公司" not in pending


async def test_the_counting_notes_are_under_the_table_on_the_page_and_in_the_xlsx(client_factory, world):
    import io
    import json

    import openpyxl

    from server.models.campaign import Campaign

    office = await client_factory("office")
    page = soup(await office.get("/stats"))
    notes = [visible_text(li) for li in page.select("#stat-notes ol li")]
    assert len(notes) == 7 and notes[0].startswith("第5栏按“家”统计")
    assert "按发现之日（检查当日）计入当期" in notes[1]
    assert any(n.startswith("第22栏按人计") for n in notes) and any(n.startswith("第21栏只统计") for n in notes)
    r = await office.get("/stats/export")
    ws = openpyxl.load_workbook(io.BytesIO(r.content)).active
    texts = [ws.cell(row, 1).value for row in range(1, ws.max_row + 1)]
    at = texts.index("说明：")
    assert texts[at + 1:at + 8] == [f"{i}. {n}" for i, n in enumerate(notes, start=1)]
    # Counted by the day confirmed, the note says so.
    await Campaign.update({Campaign.options: json.dumps({"count_on": "confirmed"})}).where(
        Campaign.id == world.campaign.id)
    page = soup(await office.get("/stats"))
    assert "按办公室审核确认之日计入当期" in visible_text(page.select_one("#stat-notes"))


async def test_a_case_found_on_thursday_is_in_that_fridays_table(client_factory, world):
    """Found Thursday 2020-12-24, confirmed Monday 12-28: in Friday 12-25's table by default;
    with the campaign counting by the day confirmed, only from 12-28."""
    import datetime as dt
    import json

    from server.models.campaign import Campaign
    from tests.test_ledger import add_finding, at

    f = await add_finding(world, world.units.school, world.sites.school, 15, reviewed_at=at(2020, 12, 28))
    from server.models.inspections import Inspection
    await Inspection.update({Inspection.started_at: at(2020, 12, 24, 16)}).where(Inspection.id == f.inspection)
    friday = dt.date(2020, 12, 25)
    assert (await queries.count(world.campaign.id, friday)).row(DISTRICT).value(15) == 1
    await Campaign.update({Campaign.options: json.dumps({"count_on": "confirmed"})}).where(
        Campaign.id == world.campaign.id)
    assert (await queries.count(world.campaign.id, friday)).row(DISTRICT).value(15) == 0
    assert (await queries.count(world.campaign.id, dt.date(2020, 12, 28))).row(DISTRICT).value(15) == 1
