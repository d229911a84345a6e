"""Rectification through HTTP: ordering from confirmed findings with the default deadline, the
numbered notice with the configured legal basis, the status flow through 回头看 to closure or
punishment, outcomes counted in the statistics table, per-guard actions, the filing lifecycle
and the re-inspection list."""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import pytest

from server import clock
from server.models.audit import AuditEntry
from server.models.campaign import Campaign
from server.models.inspections import Finding, GuardCheck, Inspection
from server.rectification import service
from server.models.rectification import GuardAction, RectificationOrder, RectificationOutcome
from server.models.registry import Guard, Unit
from tests.support.flow import answer_all, new_id, start
from tests.support.html import errors, soup, visible_text
from tests.test_review import decide, upload

LEGAL = "依据《保安服务管理条例》及相关规定"


@pytest.fixture
async def configured(world):
    options = {"rectify_days": {"1": 15, "2": 7, "3": 15, "4": 15, "5": 10, "6": 15, "7": 30, "8": 15},
               "legal_basis": LEGAL, "notice_prefix": "蓟公保责改字"}
    await Campaign.update({Campaign.options: json.dumps(options, ensure_ascii=False)}).where(
        Campaign.id == world.campaign.id)
    return world


async def confirmed_inspection(client_factory, site_id: int, violations: dict[int, str],
                               officer: str = "officer") -> SimpleNamespace:
    """An officer's inspection with these violations, a photo of the first finding and a scene
    photo, submitted; the office confirms every finding."""
    c = await client_factory(officer)
    key = await start(c, site_id)
    await answer_all(c, key, violations=violations)
    findings = await Finding.objects().where(Finding.inspection.uuid == key).order_by(Finding.area)
    proof = await upload(c, key, f"finding:{findings[0].id}", color=(200, 30, 30))
    scene = await upload(c, key, "general", color=(30, 200, 30))
    assert (await c.post(f"/inspections/{key}/submit")).status_code == 303
    office = await client_factory("office")
    for f in findings:
        r = await decide(office, key, "findings", f.id, "confirm")
        assert r.status_code in (200, 303), r.text
    return SimpleNamespace(key=key, findings=findings, proof=proof, scene=scene, client=c)


async def order_for(office, unit_id: int, finding_ids: list[int], **data) -> RectificationOrder:
    r = await office.post("/rectification/orders", data={"unit_id": str(unit_id), "finding_ids": [str(i) for i in finding_ids], **data})
    assert r.status_code == 303, r.text
    order = await RectificationOrder.objects().order_by(RectificationOrder.id, ascending=False).first()
    assert r.headers["location"] == f"/rectification/orders/{order.id}"
    return order


# ---------------------------------------------------------------- ordering and the notice

async def test_order_from_confirmed_findings_with_default_deadline_and_printed_notice(client_factory, configured):
    w = configured
    s = await confirmed_inspection(client_factory, w.sites.estate.id, {2: "保安员着装不规范", 5: "物业公司自招保安未备案"})
    office = await client_factory("office")
    today = clock.today()

    page = soup(await office.get("/rectification"))
    pending = page.select_one("#pending")
    assert "蓟州区绿园物业服务有限公司" in visible_text(pending) and "2 项" in visible_text(pending)
    assert [visible_text(a) for a in page.select("nav.mainnav a")][-4:] == ["整改", "双随机", "线索", "专项设置"]

    form = soup(await office.get(f"/rectification/new?unit={w.units.estate_co.id}"))
    boxes = form.select("input[name=finding_ids]")
    assert {int(b["value"]) for b in boxes} == {f.id for f in s.findings} and all(b.has_attr("checked") for b in boxes)
    # The shortest period of the two areas (2: 7 days, 5: 10 days) is the default.
    assert form.select_one("input[name=deadline]")["value"] == (today + dt.timedelta(days=7)).isoformat()
    assert "第2项 7 天，第5项 10 天" in visible_text(form)

    order = await order_for(office, w.units.estate_co.id, [f.id for f in s.findings], deadline="")
    assert order.deadline == today + dt.timedelta(days=7) and order.status == "ordered"
    assert order.number == f"蓟公保责改字〔{today.year}〕001号"
    assert order.inspection == s.findings[0].inspection
    assert {f.order for f in await Finding.objects().where(Finding.inspection.uuid == s.key)} == {order.id}
    assert await AuditEntry.count().where((AuditEntry.table_name == "rectification_order")
                                          & (AuditEntry.action == "create")) == 1

    page = soup(await office.get(f"/rectification/orders/{order.id}"))
    head = visible_text(page.select_one("#order"))
    assert order.number in head and "限期整改中" in head and "还剩 7 天" in head
    assert "保安员着装不规范" in visible_text(page.select_one("#findings"))
    assert page.select_one(f"#findings img[src='/photos/{s.proof}/thumb']") is not None

    notice = soup(await office.get(f"/rectification/orders/{order.id}/notice"))
    text = visible_text(notice.select_one("article.notice"))
    assert "责令限期整改通知书" in text and order.number in text
    assert "蓟州区绿园物业服务有限公司：" in text
    assert "保安员着装不规范" in text and "物业公司自招保安未备案" in text
    d = order.deadline
    assert f"{LEGAL}，现责令你单位于 {d.year}年{d.month}月{d.day}日 前整改完毕" in text
    assert "公安蓟州分局" in text
    assert notice.select_one(".print-tools button").get_text() == "打印"

    # Ordered findings leave the pending list; the next notice of the year is 002.
    assert "绿园" not in visible_text(soup(await office.get("/rectification")).select_one("#pending"))
    s2 = await confirmed_inspection(client_factory, w.sites.school.id, {3: "未开展岗前培训"})
    order2 = await order_for(office, w.units.school.id, [f.id for f in s2.findings], deadline=(today + dt.timedelta(days=20)).isoformat())
    assert order2.number == f"蓟公保责改字〔{today.year}〕002号" and order2.deadline == today + dt.timedelta(days=20)


async def test_ordering_refuses_bad_input_with_chinese_messages(client_factory, configured):
    w = configured
    s = await confirmed_inspection(client_factory, w.sites.school.id, {3: "未开展岗前培训"})
    office = await client_factory("office")
    unit = str(w.units.school.id)
    ids = [str(f.id) for f in s.findings]
    today = clock.today()

    r = await office.post("/rectification/orders", data={"unit_id": unit})
    assert r.status_code == 422 and errors(r) == ["请至少选择一项已确认的问题"]
    r = await office.post("/rectification/orders", data={"unit_id": unit, "finding_ids": ids,
                                                         "deadline": (today - dt.timedelta(days=1)).isoformat()})
    assert r.status_code == 422 and errors(r) == ["整改期限不能早于下达日期"]
    r = await office.post("/rectification/orders", data={"unit_id": unit, "finding_ids": ids, "deadline": "下周五"})
    assert r.status_code == 422 and errors(r) == ["整改期限不是有效日期，请按 年-月-日 填写，例如 2021-01-15"]
    # A finding still awaiting review cannot be ordered.
    c = await client_factory("officer2")
    key = await start(c, w.sites.school.id)
    await answer_all(c, key, violations={7: "内部管理混乱"})
    assert (await c.post(f"/inspections/{key}/submit")).status_code == 303
    waiting = await Finding.objects().where(Finding.inspection.uuid == key).first()
    r = await office.post("/rectification/orders", data={"unit_id": unit, "finding_ids": [str(waiting.id)]})
    assert r.status_code == 422 and errors(r) == ["所选问题中有的已下达整改或尚未确认，请刷新页面后重新选择"]
    assert await RectificationOrder.count() == 0
    # Leaders read, but do not order.
    leader = await client_factory("leader")
    assert (await leader.post("/rectification/orders", data={"unit_id": unit, "finding_ids": ids})).status_code == 403


# ---------------------------------------------------------------- the status flow

async def test_reinspection_verifies_or_escalates_and_closes(client_factory, configured):
    w = configured
    s = await confirmed_inspection(client_factory, w.sites.estate.id, {2: "保安员着装不规范"})
    office = await client_factory("office")
    order = await order_for(office, w.units.estate_co.id, [f.id for f in s.findings])

    # The unit reports it has rectified.
    r = await office.post(f"/rectification/orders/{order.id}/status", data={"action": "report", "note": "单位电话报告已更换服装"})
    assert r.status_code == 303
    page = soup(await office.get(f"/rectification/orders/{order.id}"))
    assert "已报整改" in visible_text(page.select_one("#order .badge")) and "单位电话报告已更换服装" in visible_text(page)
    # A result needs a re-inspection first.
    r = await office.post(f"/rectification/orders/{order.id}/status", data={"action": "verify"})
    assert r.status_code == 422 and errors(r) == ["请先开展回头看检查并提交，再记录复查结论"]

    # The officer starts 回头看 from the order: the same phone flow, kind reinspection.
    officer2 = await client_factory("officer2")
    due = soup(await officer2.get("/rectification/due"))
    assert order.number in visible_text(due) and "单位已报整改，待回头看" in visible_text(due)
    r = await officer2.post(f"/rectification/orders/{order.id}/reinspect", data={"uuid": new_id()})
    assert r.status_code == 303
    key = r.headers["location"].rsplit("/", 1)[1]
    insp = await Inspection.objects().where(Inspection.uuid == key).first()
    assert insp.kind == "reinspection" and insp.site == w.sites.estate.id
    assert (await RectificationOrder.objects().where(RectificationOrder.id == order.id).first()).reinspection == insp.id
    # Starting again opens the same re-inspection.
    again = await officer2.post(f"/rectification/orders/{order.id}/reinspect", data={"uuid": new_id()})
    assert again.headers["location"] == f"/inspections/{key}"

    # Before / after on the inspection page.
    page = soup(await officer2.get(f"/inspections/{key}"))
    compare = page.select_one("#before-after")
    assert "保安员着装不规范" in visible_text(compare.select_one(".compare-before"))
    assert compare.select_one(f".compare-before img[src='/photos/{s.proof}/thumb']") is not None
    assert compare.select_one(f".compare-before img[src='/photos/{s.scene}/thumb']") is not None
    assert "还没有本次照片" in visible_text(compare.select_one(".compare-after"))
    after = await upload(officer2, key, "general", color=(20, 20, 20))
    fragment = soup(await officer2.get(f"/rectification/reinspections/{key}/compare", headers={"HX-Request": "true"}))
    assert fragment.select_one(f".compare-after img[src='/photos/{after}/thumb']") is not None
    # Only a re-inspection has the comparison.
    assert soup(await s.client.get(f"/inspections/{s.key}")).select_one("#before-after") is None

    r = await office.post(f"/rectification/orders/{order.id}/status", data={"action": "fail"})
    assert r.status_code == 422 and errors(r) == ["回头看检查尚未提交，提交后才能记录复查结论"]
    await answer_all(officer2, key, violations={2: "仍有保安员着“特勤”字样服装"})
    assert (await officer2.post(f"/inspections/{key}/submit")).status_code == 303

    # Not rectified → escalated with the punishment → closed.
    assert (await office.post(f"/rectification/orders/{order.id}/status", data={"action": "fail"})).status_code == 303
    r = await office.post(f"/rectification/orders/{order.id}/status", data={"action": "escalate", "punishment": ""})
    assert r.status_code == 422 and errors(r) == ["请填写处罚情况（如处罚决定书文号和处罚内容）"]
    r = await office.post(f"/rectification/orders/{order.id}/status",
                          data={"action": "escalate", "punishment": "蓟公(治)行罚决字〔2021〕15号，警告"})
    assert r.status_code == 303
    r = await office.post(f"/rectification/orders/{order.id}/status", data={"action": "verify"})
    assert r.status_code == 422 and errors(r) == ["当前状态为“已立案处罚”，不能记录“复查合格”"]
    assert (await office.post(f"/rectification/orders/{order.id}/status", data={"action": "close"})).status_code == 303
    final = await RectificationOrder.objects().where(RectificationOrder.id == order.id).first()
    assert final.status == "closed" and final.punishment.startswith("蓟公(治)行罚决字")
    assert final.escalated_at is not None and final.closed_at is not None and final.reported_at is not None
    page = soup(await office.get(f"/rectification/orders/{order.id}"))
    assert "已结案" in visible_text(page.select_one("#order .badge"))
    assert "处罚情况：蓟公(治)行罚决字〔2021〕15号，警告" in visible_text(page.select_one("#order"))
    assert page.select_one("#status") is None  # nothing more to record
    actions = [e["after"] for e in await AuditEntry.select(AuditEntry.after).where(
        (AuditEntry.table_name == "rectification_order") & (AuditEntry.action == "status")).order_by(AuditEntry.id)]
    assert [json.loads(a)["status"] for a in actions] == ["reported", "not_rectified", "escalated", "closed"]


async def test_verified_order_leaves_the_reinspection_list(client_factory, configured):
    w = configured
    s = await confirmed_inspection(client_factory, w.sites.school.id, {3: "未开展岗前培训"})
    office = await client_factory("office")
    today = clock.today()
    order = await order_for(office, w.units.school.id, [f.id for f in s.findings],
                            deadline=(today + dt.timedelta(days=2)).isoformat())
    far = await confirmed_inspection(client_factory, w.sites.estate.id, {3: "未培训"}, officer="officer2")
    later = await order_for(office, w.units.estate_co.id, [f.id for f in far.findings],
                            deadline=(today + dt.timedelta(days=30)).isoformat())
    officer = await client_factory("officer")
    page = soup(await officer.get("/rectification/due"))
    text = visible_text(page)
    assert order.number in text and "还剩 2 天" in text and later.number not in text  # not due yet
    assert [visible_text(a) for a in page.select("nav.mainnav a")][-1] == "回头看"
    # Filters: by township and officer.
    assert order.number not in visible_text(soup(await officer.get(f"/rectification/due?township={w.townships.guanzhuang.id}")))
    assert order.number in visible_text(soup(await officer.get("/rectification/due?officer=me")))
    assert order.number not in visible_text(soup(await officer.get(f"/rectification/due?officer={w.users.officer2.id}")))

    r = await officer.post(f"/rectification/orders/{order.id}/reinspect", data={"uuid": new_id()})
    key = r.headers["location"].rsplit("/", 1)[1]
    await answer_all(officer, key)
    assert (await officer.post(f"/inspections/{key}/submit")).status_code == 303
    assert (await officer.post(f"/rectification/orders/{order.id}/status", data={"action": "verify"})).status_code == 303
    assert order.number not in visible_text(soup(await officer.get("/rectification/due")))
    assert (await officer.post(f"/rectification/orders/{order.id}/status", data={"action": "close"})).status_code == 303
    assert (await RectificationOrder.objects().where(RectificationOrder.id == order.id).first()).status == "closed"


async def test_the_officer_filter_follows_who_inspected_else_who_ordered(client_factory, configured):
    """The 回头看 list's officer filter reads a copy on the order that the database keeps:
    it follows the inspection's officer when that changes, and the orderer when the order
    no longer has its inspection."""
    w = configured
    s = await confirmed_inspection(client_factory, w.sites.school.id, {3: "未开展岗前培训"})
    office = await client_factory("office")
    order = await order_for(office, w.units.school.id, [f.id for f in s.findings],
                            deadline=(clock.today() + dt.timedelta(days=1)).isoformat())

    async def listed(officer_id: int) -> bool:
        return order.number in visible_text(soup(await office.get(f"/rectification/due?officer={officer_id}")))

    assert await listed(w.users.officer.id) and not await listed(w.users.officer2.id)
    assert not await listed(w.users.office.id)  # ordered by the office, inspected by the officer
    await Inspection.update({Inspection.officer: w.users.officer2.id}).where(Inspection.uuid == s.key)
    assert await listed(w.users.officer2.id) and not await listed(w.users.officer.id)
    await RectificationOrder.update({RectificationOrder.inspection: None}).where(RectificationOrder.id == order.id)
    assert await listed(w.users.office.id) and not await listed(w.users.officer2.id)


# ---------------------------------------------------------------- outcomes and guards

async def stat_cell(c, column: int) -> tuple[str, list[str]]:
    page = soup(await c.get(f"/stats/cell?col={column}&body=district"))
    return visible_text(page.select_one("#cell-title")), [visible_text(tr) for tr in page.select("table.records tbody tr")]


async def test_outcomes_and_guard_actions_count_in_the_statistics_table(client_factory, configured):
    w = configured
    school = await confirmed_inspection(client_factory, w.sites.school.id, {1: "两名保安员无证上岗"})
    office = await client_factory("office")
    order = await order_for(office, w.units.school.id, [f.id for f in school.findings])
    url = f"/rectification/orders/{order.id}"
    # Column 22 is traceable to people: none with a 特勤 mark on this order yet.
    r = await office.post(f"{url}/outcomes", data={"stat_column": "22", "quantity": "1"})
    assert r.status_code == 422 and "没有在保安员核查时记录“特勤”字样的人员" in errors(r)[0]
    for g in (w.guards.valid, w.guards.none):  # two guards seen with 特勤 on their uniform
        check = GuardCheck(uuid=new_id(), inspection=school.findings[0].inspection, guard=g.id, tejin_marking=True)
        await check.save()
        await Finding(uuid=new_id(), inspection=check.inspection, unit=w.units.school.id, guard_check=check.id,
                      area=2, stat_column=16, count_unit="person", status="confirmed", order=order.id,
                      text=f"{g.name}服装有特勤字样").save()
    r = await office.post(f"{url}/outcomes", data={"stat_column": "22", "quantity": "3"})
    assert r.status_code == 422 and errors(r) == ["第22栏按人计：本整改单在保安员核查时记录“特勤”字样的共 2 人，数量不能超过此数"]

    # Column 22 in persons; 17 only for an illegal organisation; 20 and 21 not by hand.
    r = await office.post(f"{url}/outcomes", data={"stat_column": "22", "quantity": "2", "note": "已更换特勤字样服装"})
    assert r.status_code == 303
    r = await office.post(f"{url}/outcomes", data={"stat_column": "17", "quantity": "1"})
    assert r.status_code == 422 and errors(r) == ["“清理非法保安组织”只适用于登记为非法保安组织的单位"]
    r = await office.post(f"{url}/outcomes", data={"stat_column": "20", "quantity": "1"})
    assert r.status_code == 422 and "按人登记" in errors(r)[0]
    r = await office.post(f"{url}/outcomes", data={"stat_column": "22", "quantity": "abc"})
    assert r.status_code == 422 and errors(r) == ["数量须为整数"]
    r = await office.post(f"{url}/outcomes", data={"stat_column": "", "quantity": "1"})
    assert r.status_code == 422 and errors(r) == ["请选择统计栏目"]

    # Per guard: the guard without a certificate obtains one (column 20); the revoked one is dismissed.
    r = await office.post(f"{url}/guards", data={"guard_id": str(w.guards.none.id), "action": "certified"})
    assert r.status_code == 422 and errors(r) == ["请填写新办理的保安员证号"]
    r = await office.post(f"{url}/guards", data={"guard_id": str(w.guards.none.id), "action": "certified",
                                                 "certificate_no": "津保120200000004"})
    assert r.status_code == 422 and errors(r) == ["该保安员证号已登记给其他保安员"]
    r = await office.post(f"{url}/guards", data={"guard_id": str(w.guards.none.id), "action": "certified",
                                                 "certificate_no": "津保120210000099"})
    assert r.status_code == 303
    r = await office.post(f"{url}/guards", data={"guard_id": str(w.guards.valid.id), "action": "certified"})
    assert r.status_code == 422 and errors(r) == ["张伟 已持有有效的保安员证"]
    r = await office.post(f"{url}/guards", data={"guard_id": str(w.guards.revoked.id), "action": "dismissed"})
    assert r.status_code == 303
    r = await office.post(f"{url}/guards", data={"guard_id": str(w.guards.revoked.id), "action": "removed"})
    assert r.status_code == 422 and errors(r) == ["王磊 当前为“已辞退”，不在岗"]
    r = await office.post(f"{url}/guards", data={"guard_id": str(w.guards.estate.id), "action": "removed"})
    assert r.status_code == 422 and errors(r) == ["该保安员不属于此单位"]

    li = await Guard.objects().where(Guard.id == w.guards.none.id).first()
    assert (li.certificate_status, li.certificate_no) == ("valid", "津保120210000099")
    wang = await Guard.objects().where(Guard.id == w.guards.revoked.id).first()
    assert wang.employment_status == "dismissed" and wang.left_on == clock.today()
    assert await GuardAction.count().where(GuardAction.order == order.id) == 2
    assert await AuditEntry.count().where((AuditEntry.table_name == "guard") & (AuditEntry.record_id == str(li.id))) == 1

    page = soup(await office.get(url))
    outcomes = [visible_text(tr) for tr in page.select("#outcomes tbody tr")]
    assert any("22. 清整穿着仿警服" in t and "2 人" in t for t in outcomes)
    assert any("20. 经督促已办理保安员证" in t and "1 人" in t and "李强" in t for t in outcomes)
    assert "王磊：依法辞退" in visible_text(page.select_one("#guards"))

    # The statistics table counts them, traceable to the notice.
    title, rows = await stat_cell(office, 22)
    assert title.endswith("：2人") and order.number in rows[0]
    title, rows = await stat_cell(office, 20)
    assert title.endswith("：1人") and "李强" in rows[0]


async def test_filing_lifecycle_alerts_and_an_unfiled_unit_gets_a_deadline(client_factory, configured):
    w = configured
    today = clock.today()
    stopped = Unit(name="蓟州区旧城物业有限公司", kind="self_recruiting", sector="property",
                   township=w.townships.yuyang.id, filing_status="filed", filing_no="津公备2019-8",
                   service_stopped_on=today - dt.timedelta(days=45))
    recent = Unit(name="蓟州区新近停业物业有限公司", kind="self_recruiting", sector="property",
                  township=w.townships.yuyang.id, filing_status="filed",
                  service_stopped_on=today - dt.timedelta(days=10))
    await stopped.save()
    await recent.save()
    office = await client_factory("office")
    page = soup(await office.get("/rectification"))
    rows = {visible_text(tr.select_one("td")): visible_text(tr) for tr in page.select("#filing tbody tr")}
    assert "已停止服务 45 天，仍未撤销备案（应在 30 日内撤销）" in rows["蓟州区旧城物业有限公司 自招保安单位"]
    assert "自招保安单位未依法备案" in rows["蓟州区绿园物业服务有限公司 物业服务企业"]
    assert not any("新近停业" in k for k in rows)
    assert not any("第一中学" in k for k in rows)  # a using unit files nothing

    # The unfiled unit is ordered like a finding of area 5 (10 days here), without an inspection.
    form = soup(await office.get(f"/rectification/new?unit={w.units.estate_co.id}"))
    assert form.select_one("input[name=filing]").has_attr("checked")
    assert form.select_one("input[name=deadline]")["value"] == (today + dt.timedelta(days=10)).isoformat()
    order = await order_for(office, w.units.estate_co.id, [], filing="1", deadline="")
    assert order.deadline == today + dt.timedelta(days=10) and order.note == "自招保安单位未依法向公安机关备案"
    page = soup(await office.get("/rectification"))
    row = next(tr for tr in page.select("#filing tbody tr") if "绿园" in visible_text(tr))
    assert order.number in visible_text(row) and "还剩 10 天" in visible_text(row)
    notice = visible_text(soup(await office.get(f"/rectification/orders/{order.id}/notice")).select_one("article"))
    assert "自招保安单位未依法向公安机关备案" in notice
    # A filing order tells the unit to revoke its filing within 30 days of stopping service.
    assert "停止保安服务的，应当自停止保安服务之日起30日内到备案的公安机关撤销备案" in notice

    # Filing done: the registry says so and column 21 counts it (家).
    r = await office.post(f"/rectification/orders/{order.id}/filing", data={"filing_no": ""})
    assert r.status_code == 422 and errors(r) == ["请填写备案编号"]
    r = await office.post(f"/rectification/orders/{order.id}/filing", data={"filing_no": "津公备2021-031"})
    assert r.status_code == 303
    unit = await Unit.objects().where(Unit.id == w.units.estate_co.id).first()
    assert (unit.filing_status, unit.filing_no, unit.filed_on) == ("filed", "津公备2021-031", today)
    assert await RectificationOutcome.count().where((RectificationOutcome.order == order.id)
                                                    & (RectificationOutcome.stat_column == 21)) == 1
    # Column 21 counts only a filing that answers a finding: this order came from the filing
    # alert alone (no 未备案 finding, so nothing in column 10 either).
    title, rows = await stat_cell(office, 21)
    assert title.endswith("：0家") and not rows
    r = await office.post(f"/rectification/orders/{order.id}/filing", data={"filing_no": "津公备2021-032"})
    assert r.status_code == 422 and errors(r) == ["该整改单已登记过备案结果"]

    # The stopped unit revokes its filing: the alert ends.
    r = await office.post(f"/rectification/units/{stopped.id}/revoke-filing", data={"revoked_on": today.isoformat()})
    assert r.status_code == 303
    page = soup(await office.get("/rectification"))
    assert "旧城物业" not in visible_text(page.select_one("#filing"))
    r = await office.post(f"/rectification/units/{recent.id}/revoke-filing", data={"revoked_on": "not-a-date"})
    assert r.status_code == 422 and errors(r) == ["撤销日期不是有效日期，请按 年-月-日 填写，例如 2021-01-15"]


async def test_filing_alerts_are_selected_by_the_database_like_the_rule_and_paged(client_factory, configured,
                                                                                  monkeypatch):
    from server.rectification import rules

    w = configured
    today = clock.today()
    ago = lambda days: today - dt.timedelta(days=days)  # noqa: E731
    for name, kind, status, stopped, revoked in [
        ("蓟州区甲物业有限公司", "self_recruiting", "filed", ago(31), None),       # stale
        ("蓟州区乙物业有限公司", "self_recruiting", "filed", ago(30), None),       # not yet
        ("蓟州区丙物业有限公司", "property_company", "filed", ago(90), ago(1)),    # revoked (dated)
        ("蓟州区丁物业有限公司", "property_company", "unfiled", ago(90), None),    # stopped: nothing to file
        ("蓟州区戊物业有限公司", "property_company", "not_required", None, None),  # must file
        ("蓟州区己保安服务有限公司", "security_company", "unfiled", None, None),   # not self-recruiting
    ]:
        await Unit(name=name, kind=kind, sector="property", township=w.townships.yuyang.id, filing_status=status,
                   service_stopped_on=stopped, filing_revoked_on=revoked).save()
    everyone = await Unit.select(Unit.name, Unit.kind, Unit.filing_status, Unit.service_stopped_on,
                                 Unit.filing_revoked_on).order_by(Unit.name).order_by(Unit.id)
    expected = [u["name"] for u in everyone if rules.filing_alert(
        u["kind"], u["filing_status"], u["service_stopped_on"], u["filing_revoked_on"], today)]
    assert "蓟州区甲物业有限公司" in expected and "蓟州区乙物业有限公司" not in expected

    monkeypatch.setattr(service, "FILING_PAGE_SIZE", 2)
    office = await client_factory("office")
    shown, href, pages = [], "/rectification", 0
    while href:
        page = soup(await office.get(href))
        section = page.select_one("#filing")
        shown += [visible_text(tr.select_one("td")).split()[0] for tr in section.select("tbody tr")]
        link = section.find("a", string="下一页")
        href = link["href"] if link else None
        if href:
            assert "filing_page=" in href and href.endswith("#filing") and "status=open" in href
        pages += 1
    assert shown == expected and pages == (len(expected) + 1) // 2
    assert "第 2 页" in visible_text(soup(await office.get("/rectification?filing_page=2")).select_one("#filing"))
    past = visible_text(soup(await office.get("/rectification?filing_page=99")).select_one("#filing"))
    assert "第 99 页没有需要提醒的单位" in past


async def test_pending_units_are_grouped_by_the_database_like_the_findings_and_paged(client_factory, configured,
                                                                                     monkeypatch):
    import random

    from server.models.registry import Site

    w = configured
    rng = random.Random(8)
    other = Campaign(name="另一次专项行动", district="蓟州区", starts_on=dt.date(2020, 1, 1),
                     ends_on=dt.date(2020, 2, 1), active=False)
    await other.save()
    units = []
    for i in range(9):  # two share a name; some have no township
        unit = Unit(name=f"蓟州区待整改{min(i, 7)}号单位", kind="using_unit", sector="property",
                    township=rng.choice([w.townships.yuyang.id, None]))
        await unit.save()
        site = Site(unit=unit.id, name=f"待整改目标{i}", provider_kind="own")
        await site.save()
        units.append((unit, site))
    order = RectificationOrder(number="T-PENDING-1", campaign=w.campaign.id, unit=units[0][0].id,
                               issued_by=w.users.office.id, deadline=dt.date(2021, 1, 10))
    await order.save()
    for _ in range(60):
        unit, site = rng.choice(units)
        insp = Inspection(uuid=new_id(), campaign=rng.choice([w.campaign.id] * 4 + [other.id]),
                          officer=w.users.officer.id, body=w.bodies.police.id, site=site.id, unit=unit.id,
                          status="reviewed", submitted_at=dt.datetime.now(dt.timezone.utc))
        await insp.save()
        await Finding(uuid=new_id(), inspection=insp.id, unit=unit.id, area=rng.randrange(1, 9), text="问题",
                      status=rng.choice(["confirmed"] * 4 + ["submitted", "rejected"]),
                      order=order.id if rng.random() < 0.15 else None,
                      reviewed_at=dt.datetime.now(dt.timezone.utc)).save()

    # What the page showed before it was grouped in SQL: every waiting finding, by id.
    rows = await Finding.select(Finding.id, Finding.area, Finding.unit.id, Finding.unit.name,
                                Finding.unit.township.name, Finding.status, Finding.order,
                                Finding.inspection.campaign).order_by(Finding.id)
    expected: dict[int, dict] = {}
    for r in rows:
        if r["status"] == "confirmed" and r["order"] is None and r["inspection.campaign"] == w.campaign.id:
            u = expected.setdefault(r["unit.id"], {"name": r["unit.name"], "township": r["unit.township.name"] or "",
                                                   "findings": 0, "areas": set()})
            u["findings"] += 1
            u["areas"].add(r["area"])
    expected_rows = [[u["name"], u["township"], f"{u['findings']} 项",
                      "、".join(f"第{a}项" for a in sorted(u["areas"]))] for u in expected.values()]
    assert len(expected_rows) >= 7

    monkeypatch.setattr(service, "PENDING_PAGE_SIZE", 3)
    office = await client_factory("office")
    shown, href, pages = [], "/rectification?status=ordered&filing_page=2", 0
    while href:
        section = soup(await office.get(href)).select_one("#pending")
        shown += [[visible_text(td) for td in tr.select("td")[:4]] for tr in section.select("tbody tr")]
        link = section.find("a", string="下一页")
        href = link["href"] if link else None
        if href:
            assert "pending_page=" in href and href.endswith("#pending")
            assert "status=ordered" in href and "filing_page=2" in href
        pages += 1
    assert shown == expected_rows and pages == (len(expected_rows) + 2) // 3
    page2 = soup(await office.get("/rectification?pending_page=2&filing_page=2"))
    assert "第 2 页" in visible_text(page2.select_one("#pending"))
    back = page2.select_one("#filing").find("a", string="上一页")["href"]  # the filing list keeps this page
    assert "pending_page=2" in back and back.endswith("#filing")
    past = visible_text(soup(await office.get("/rectification?pending_page=99")).select_one("#pending"))
    assert "第 99 页没有待下达整改的单位" in past
