"""Liaisons register units and guards of their own scope during the survey; the office sees
the unconfirmed additions and confirms them (after correcting them where needed)."""

from __future__ import annotations

from server.models.audit import AuditEntry
from server.models.registry import Guard, Unit
from server.registry.ids import id_check_digit, uscc_check_char
from server.vocab import Sector
from tests.support.html import soup, visible_text

USCC = "91120225MA05TQ8R3" + uscc_check_char("91120225MA05TQ8R3")
ID = "12010219900101123" + id_check_digit("12010219900101123")


async def test_a_township_liaison_adds_a_unit_and_a_guard_the_office_confirms(world, client_factory):
    town = await client_factory("liaison_town")
    r = await town.post("/survey/units", data={"name": "蓟州区康宁物业服务有限公司", "kind": "property_company",
                                               "uscc": USCC, "sector": Sector.property.value,
                                               "township": str(world.townships.yuyang.id), "address": "官庄镇康宁路2号"})
    assert r.status_code == 303 and r.headers["location"] == "/survey"
    unit = await Unit.objects().where(Unit.uscc == USCC).first()
    # The township is the liaison's own, whatever the form said; the addition waits for the office.
    assert unit.township == world.townships.guanzhuang.id and unit.added_by_body == world.bodies.town.id
    assert unit.confirmed is False
    page = visible_text(soup(await town.get("/survey")).select_one("#survey-units"))
    assert "蓟州区康宁物业服务有限公司" in page and "待办公室确认" in page

    # Refusals, in Chinese beside the field.
    r = await town.post("/survey/units", data={"name": "另一家", "kind": "property_company", "uscc": USCC})
    assert r.status_code == 422 and "该统一社会信用代码已登记为另一单位" in visible_text(soup(r))
    r = await town.post("/survey/units", data={"name": "某保安公司", "kind": "security_company", "uscc": ""})
    assert r.status_code == 422 and "由公安机关登记" in visible_text(soup(r))

    form = soup(await town.get("/survey/guards/new"))
    offered = [o.get_text() for o in form.select("select[name=employer] option") if o.get("value")]
    assert "蓟州区康宁物业服务有限公司" in offered and "蓟州区第一中学" not in offered  # the school is not in 官庄镇
    r = await town.post("/survey/guards", data={"name": "钱进", "id_number": ID, "employer": str(world.units.school.id)})
    assert r.status_code == 422 and "所选所属单位不存在" in visible_text(soup(r))
    r = await town.post("/survey/guards", data={"name": "钱进", "id_number": ID, "employer": str(unit.id)})
    assert r.status_code == 303
    guard = await Guard.objects().where(Guard.id_number == ID).first()
    assert guard.confirmed is False and guard.added_by_body == world.bodies.town.id

    # The sector liaison adds in its sector only.
    edu = await client_factory("liaison_edu")
    r = await edu.post("/survey/units", data={"name": "蓟州区第二小学", "kind": "using_unit",
                                              "uscc": "", "sector": Sector.property.value})
    assert r.status_code == 422  # a using unit needs its code
    assert "所属单位" in visible_text(soup(await edu.get("/survey/guards/new")))
    assert "蓟州区康宁物业服务有限公司" not in visible_text(soup(await edu.get("/survey")))

    office = await client_factory("office")
    listing = soup(await office.get("/registry/additions"))
    assert [visible_text(tr.select_one("td")) for tr in listing.select("#additions-units tbody tr")] == ["蓟州区康宁物业服务有限公司"]
    row = visible_text(listing.select_one("#additions-guards tbody tr"))
    assert "钱进" in row and "官庄镇" in row and ID not in row  # the ID number is masked
    # The office corrects the unit's address through the usual form, then confirms both.
    r = await office.post(f"/registry/units/{unit.id}", data={
        "name": "蓟州区康宁物业服务有限公司", "kind": "property_company", "uscc": USCC, "sector": "property",
        "township": str(world.townships.guanzhuang.id), "address": "官庄镇康宁路12号", "filing_status": "not_required"})
    assert r.status_code == 303, r.text
    assert (await office.post(f"/registry/additions/units/{unit.id}/confirm")).status_code == 303
    assert (await office.post(f"/registry/additions/guards/{guard.id}/confirm")).status_code == 303
    assert (await office.post(f"/registry/additions/units/{unit.id}/confirm")).status_code == 303  # again: no change
    assert (await office.post("/registry/additions/units/999999/confirm")).status_code == 404
    listing = soup(await office.get("/registry/additions"))
    assert not listing.select("#additions-units tbody tr") and not listing.select("#additions-guards tbody tr")
    unit = await Unit.objects().where(Unit.id == unit.id).first()
    assert unit.confirmed is True and unit.address == "官庄镇康宁路12号"
    assert "已确认" in visible_text(soup(await town.get("/survey")).select_one("#survey-units"))
    log = await AuditEntry.select(AuditEntry.action, AuditEntry.table_name).where(
        ((AuditEntry.table_name == "unit") & (AuditEntry.record_id == str(unit.id)))
        | ((AuditEntry.table_name == "guard") & (AuditEntry.record_id == str(guard.id)))).order_by(AuditEntry.id)
    assert [(e["table_name"], e["action"]) for e in log] == [
        ("unit", "create"), ("guard", "create"), ("unit", "update"), ("unit", "update"), ("guard", "update")]
