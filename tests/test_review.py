"""The office's review through HTTP: the queue, the review page, decisions and who may make
them, the outcome of a round, the send-back round trip, and the printable record."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from litestar.exceptions import PermissionDeniedException

from server.models.audit import AuditEntry
from server.auth.scope import CurrentUser
from server.models.auth import User
from server.models.evidence import Photo
from server.models.inspections import Finding, Inspection
from server.review import service as review
from tests.support.flow import answer_all, new_id, start
from tests.support.html import errors, jpeg, soup, visible_text

HX = {"HX-Request": "true"}


async def upload(c, key: str, target: str = "general", *, color=(200, 30, 30), **fields) -> str:
    photo_uuid = new_id()
    r = await c.post(f"/inspections/{key}/photos", headers=HX,
                     data={"photo_uuid": photo_uuid, "target": target, **fields},
                     files={"file": ("p.jpg", jpeg(color=color), "image/jpeg")})
    assert r.status_code == 200, r.text
    return photo_uuid


async def submitted_inspection(c, site_id: int) -> SimpleNamespace:
    """An inspection with two findings (area 3: no training; area 5: not filed), a scene photo
    and a photo of the filing finding, submitted."""
    key = await start(c, site_id)
    await answer_all(c, key, violations={3: "保安员未参加岗前培训", 5: "物业公司未到公安机关备案"})
    findings = await Finding.objects().where(Finding.inspection.uuid == key).order_by(Finding.area)
    training, filing = findings
    scene = await upload(c, key, "general", captured_at="2021-01-05T10:15:00+08:00", lat="40.045123", lng="117.408321")
    proof = await upload(c, key, f"finding:{filing.id}", color=(30, 30, 200))
    r = await c.post(f"/inspections/{key}/submit")
    assert r.status_code == 303, r.text
    insp = await Inspection.objects().where(Inspection.uuid == key).first()
    return SimpleNamespace(key=key, insp=insp, training=training, filing=filing, scene=scene, proof=proof)


async def photo_id(photo_uuid: str) -> int:
    return (await Photo.objects().where(Photo.uuid == photo_uuid).first()).id


async def decide(c, key: str, what: str, ident: int, decision: str, note: str = "", htmx: bool = False):
    return await c.post(f"/office/inspections/{key}/{what}/{ident}", data={"decision": decision, "note": note},
                        headers=HX if htmx else {})


# ---------------------------------------------------------------- the queue

async def test_queue_filters_counts_and_newest_first(client_factory, world):
    officer, officer2 = await client_factory("officer"), await client_factory("officer2")
    school = await submitted_inspection(officer, world.sites.school.id)
    estate = await submitted_inspection(officer2, world.sites.estate.id)
    office = await client_factory("office")

    page = soup(await office.get("/office/inspections"))
    rows = [visible_text(tr) for tr in page.select("tbody tr")]
    assert len(rows) == 2 and "绿园小区" in rows[0] and "第一中学校门" in rows[1]  # newest first
    tabs = {visible_text(a) for a in page.select("nav.tabs a")}
    assert {"已提交 2", "已退回 0", "已审核 0", "全部 2"} <= tabs
    assert [visible_text(a) for a in page.select("nav.mainnav a")][:2] == ["首页", "审核"]

    # Township, officer, body and phase filters; the counts follow the filters.
    r = await office.get("/office/inspections", params={"township": world.townships.guanzhuang.id})
    page = soup(r)
    assert [visible_text(tr.select_one("td[data-label=服务目标]")) for tr in page.select("tbody tr")] == ["绿园小区"]
    assert "已提交 1" in {visible_text(a) for a in page.select("nav.tabs a")}
    r = await office.get("/office/inspections", params={"officer": world.users.officer.id})
    assert [visible_text(tr.select_one("td[data-label=检查人]")) for tr in soup(r).select("tbody tr")] == ["王警官（公安蓟州分局）"]
    r = await office.get("/office/inspections", params={"body": world.bodies.edu.id})
    assert soup(r).select("tbody tr") == [] and "没有符合条件的检查记录" in visible_text(soup(r))
    assert school.insp.phase is not None
    r = await office.get("/office/inspections", params={"phase": school.insp.phase})
    assert len(soup(r).select("tbody tr")) == 2

    # Dates are the local submission day.
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
    r = await office.get("/office/inspections", params={"date_from": today.isoformat(), "date_to": today.isoformat()})
    assert len(soup(r).select("tbody tr")) == 2
    r = await office.get("/office/inspections", params={"date_from": (today + dt.timedelta(days=1)).isoformat()})
    assert soup(r).select("tbody tr") == []

    # After a review the inspection moves to its tab.
    await decide(office, estate.key, "findings", estate.training.id, "confirm")
    await decide(office, estate.key, "findings", estate.filing.id, "confirm")
    assert (await office.post(f"/office/inspections/{estate.key}/finish", data={"note": ""})).status_code == 303
    page = soup(await office.get("/office/inspections", params={"status": "reviewed"}))
    assert [visible_text(tr.select_one("td[data-label=状态]")) for tr in page.select("tbody tr")] == ["已审核"]
    assert "已审核 1" in {visible_text(a) for a in page.select("nav.tabs a")}


async def test_bad_filters_get_chinese_messages(client_factory, world):
    office = await client_factory("office")
    r = await office.get("/office/inspections", params={"date_from": "2021-13-40", "officer": "abc"})
    assert r.status_code == 422
    assert set(errors(r)) == {"开始日期不是有效日期，请按 年-月-日 填写，例如 2021-01-15", "检查人的取值无效"}
    r = await office.get("/office/inspections", params={"date_from": "2021-02-01", "date_to": "2021-01-01"})
    assert r.status_code == 422 and errors(r) == ["结束日期不能早于开始日期"]


async def test_leader_reads_but_officers_and_liaisons_do_not_see_the_queue(client_factory, world):
    officer = await client_factory("officer")
    s = await submitted_inspection(officer, world.sites.school.id)
    leader = await client_factory("leader")
    page = soup(await leader.get(f"/office/inspections/{s.key}"))
    assert "三、发现的问题（2）" in visible_text(page)
    assert page.select("form.decision") == [] and page.select("#finish form") == []
    assert [visible_text(a) for a in page.select("nav.mainnav a")][:2] == ["首页", "检查记录"]
    for who in ("officer", "liaison_edu"):
        c = await client_factory(who)
        assert (await c.get("/office/inspections")).status_code == 403
        assert (await c.get(f"/office/inspections/{s.key}")).status_code == 403


# ---------------------------------------------------------------- the review page

async def test_review_page_shows_answers_guards_findings_and_photo_evidence(client_factory, world):
    officer = await client_factory("officer")
    key = await start(officer, world.sites.school.id)
    await officer.post(f"/inspections/{key}/guards", headers=HX,
                       data={"uuid": new_id(), "guard_id": str(world.guards.valid.id)})
    check = (await Inspection.objects().where(Inspection.uuid == key).first())
    from server.models.inspections import GuardCheck
    gc = await GuardCheck.objects().where(GuardCheck.inspection == check.id).first()
    await officer.post(f"/inspections/{key}/guards/{gc.id}", headers=HX, data={
        "certificate_shown": "yes", "uniform_ok": "no", "insignia_ok": "yes", "tejin_marking": "no"})
    await answer_all(officer, key, violations={2: "着装不规范"})
    guard_photo = await upload(officer, key, f"guard:{gc.id}", captured_at="2021-01-06T09:30:05+08:00",
                               lat="40.045123", lng="117.408321")
    assert (await officer.post(f"/inspections/{key}/submit")).status_code == 303

    office = await client_factory("office")
    page = soup(await office.get(f"/office/inspections/{key}"))
    assert page.h1.get_text(strip=True) == "第一中学校门"
    answers = {visible_text(tr.select_one("td[data-label=检查项]")): visible_text(tr.select_one("td[data-label=结果]"))
               for tr in page.select("#answers tbody tr")}
    assert answers["2. 着装与标志"] == "不符合" and answers["1. 无证上岗"] == "符合"
    guard_row = visible_text(page.select_one("#guards tbody tr"))
    assert "张伟" in guard_row and "津保120200000001" in guard_row and "有效" in guard_row and "不规范" in guard_row
    finding = visible_text(page.select_one("#findings article.finding"))
    assert "张伟" in finding and "未按规定穿着保安员服装" in finding and "第16栏" in finding and "待审核" in finding

    photo = await Photo.objects().where(Photo.uuid == guard_photo).first()
    card = page.select_one(f"#photo-{photo.id}")
    text = visible_text(card)
    assert "拍摄对象 保安员 张伟" in text
    assert "拍摄时间 2021-01-06 09:30:05" in text
    assert "上传人 王警官" in text
    assert "位置 40.045123, 117.408321" in text
    assert photo.sha256 in text
    assert card.select_one("img")["src"] == f"/photos/{guard_photo}/thumb"
    assert card.select_one("a")["href"] == f"/photos/{guard_photo}/view"
    # The guard's row points at its photo in the gallery.
    assert page.select_one("#guards tbody tr a")["href"] == f"#photo-{photo.id}"


# ---------------------------------------------------------------- decisions and outcomes

async def test_confirm_and_reject_then_finish_as_reviewed(client_factory, world):
    officer = await client_factory("officer")
    s = await submitted_inspection(officer, world.sites.school.id)
    office = await client_factory("office")

    r = await decide(office, s.key, "findings", s.filing.id, "confirm", htmx=True)
    assert r.status_code == 200
    page = soup(r)
    assert "已确认" in visible_text(page.select_one(f"#finding-{s.filing.id}"))
    # The outcome box comes along out of band with the new counts.
    finish = page.select_one("#finish[hx-swap-oob]")
    assert "已确认 1" in visible_text(finish) and "待审核 1" in visible_text(finish)

    r = await decide(office, s.key, "findings", s.training.id, "reject", "培训记录已补交，情况属实不构成问题")
    assert r.status_code == 303 and r.headers["location"] == f"/office/inspections/{s.key}#finding-{s.training.id}"
    r = await decide(office, s.key, "photos", await photo_id(s.proof), "accept")
    assert r.status_code == 303

    r = await office.post(f"/office/inspections/{s.key}/finish", data={"note": "证据充分"})
    assert r.status_code == 303
    insp = await Inspection.objects().where(Inspection.uuid == s.key).first()
    assert insp.status == "reviewed" and insp.reviewed_at is not None and insp.review_note == "证据充分"
    statuses = {f["id"]: f["status"] for f in await Finding.select(Finding.id, Finding.status)}
    assert statuses == {s.filing.id: "confirmed", s.training.id: "rejected"}
    # Only confirmed findings count in the ledger.
    counted = await Finding.select(Finding.id).where(Finding.status == "confirmed")
    assert [f["id"] for f in counted] == [s.filing.id]
    # Photos nobody objected to become accepted evidence.
    assert {p["review_status"] for p in await Photo.select(Photo.review_status)} == {"accepted"}

    page = soup(await office.get(f"/office/inspections/{s.key}"))
    assert "已审核" in visible_text(page.select_one(".review-head"))
    assert page.select("form.decision") == [] and page.select("#finish form") == []
    finding = visible_text(page.select_one(f"#finding-{s.training.id}"))
    assert "已驳回" in finding and "培训记录已补交" in finding and "张主任" in finding

    # A reviewed inspection is final.
    r = await decide(office, s.key, "findings", s.filing.id, "reject", "改主意")
    assert r.status_code == 409 and "不在待审核状态" in " ".join(errors(r))
    actions = [(e["action"], e["table_name"], e["actor_name"]) for e in await AuditEntry.select()]
    assert ("review", "finding", "office") in actions and ("finish_review", "inspection", "office") in actions


async def test_decisions_need_reasons_and_finishing_needs_every_finding(client_factory, world):
    officer = await client_factory("officer")
    s = await submitted_inspection(officer, world.sites.school.id)
    office = await client_factory("office")

    r = await decide(office, s.key, "findings", s.filing.id, "send_back", "", htmx=True)
    assert r.status_code == 422 and errors(r) == ["请填写退回原因，民警会看到这段话"]
    # What the office chose is still chosen.
    assert soup(r).select_one(f"#finding-{s.filing.id} input[value=send_back]").has_attr("checked")
    r = await decide(office, s.key, "findings", s.filing.id, "")
    assert r.status_code == 422 and "请选择审核结论" in errors(r)
    r = await decide(office, s.key, "photos", await photo_id(s.scene), "reshoot", "")
    assert r.status_code == 422 and "请说明需要重拍的原因" in errors(r)
    r = await decide(office, s.key, "findings", 999999, "confirm")
    assert r.status_code == 404

    await decide(office, s.key, "findings", s.filing.id, "confirm")
    r = await office.post(f"/office/inspections/{s.key}/finish", data={"note": ""})
    assert r.status_code == 422 and errors(r) == ["还有 1 条问题未审核，请逐条确认、退回或驳回后再完成审核"]
    assert (await Inspection.objects().where(Inspection.uuid == s.key).first()).status == "submitted"
    assert await Finding.count().where(Finding.status == "sent_back") == 0


async def test_who_may_review(client_factory, world):
    officer = await client_factory("officer")
    s = await submitted_inspection(officer, world.sites.school.id)
    for who in ("leader", "officer", "officer2", "liaison_edu"):
        c = await client_factory(who)
        r = await decide(c, s.key, "findings", s.filing.id, "confirm")
        assert r.status_code == 403 and "无权" in visible_text(soup(r)), who
        assert (await c.post(f"/office/inspections/{s.key}/finish", data={})).status_code == 403
    assert await Finding.count().where(Finding.status == "confirmed") == 0

    # An officer moved to the office still cannot review what they submitted themselves.
    await User.update({User.role: "office"}).where(User.id == world.users.officer.id)
    r = await decide(officer, s.key, "findings", s.filing.id, "confirm")
    assert r.status_code == 403 and "不能审核本人提交的检查" in visible_text(soup(r))
    r = await officer.post(f"/office/inspections/{s.key}/finish", data={})
    assert r.status_code == 403
    page = soup(await officer.get(f"/office/inspections/{s.key}"))
    assert "这是您本人提交的检查，不能由您审核" in visible_text(page) and page.select("form.decision") == []
    assert await Finding.count().where(Finding.status == "confirmed") == 0

    # The service refuses it too, whoever calls it.
    me = CurrentUser(id=world.users.officer.id, username="officer", display_name="", role="office",
                     body_id=world.bodies.police.id, body_name="", body_scope="district", body_sector=None,
                     body_township_id=None, session_id=0)
    with pytest.raises(PermissionDeniedException, match="不能审核本人提交的检查"):
        await review.decide_finding(me, s.insp, s.filing.id, "confirm", "")
    with pytest.raises(PermissionDeniedException, match="不能审核本人提交的检查"):
        await review.finish(me, s.insp, "")


async def test_send_back_round_trip(client_factory, world):
    officer = await client_factory("officer")
    s = await submitted_inspection(officer, world.sites.school.id)
    office = await client_factory("office")
    proof = await photo_id(s.proof)

    await decide(office, s.key, "findings", s.training.id, "confirm")
    await decide(office, s.key, "findings", s.filing.id, "send_back", "请写明备案的具体情况，并补拍营业执照")
    await decide(office, s.key, "photos", proof, "reshoot", "照片模糊，看不清")
    r = await office.post(f"/office/inspections/{s.key}/finish", data={"note": ""})
    assert r.status_code == 303
    insp = await Inspection.objects().where(Inspection.uuid == s.key).first()
    assert insp.status == "sent_back"
    assert insp.review_note == "1 条问题被退回、1 张照片需要重拍，请按审核意见补充或更正后重新提交"

    # The officer sees why, on the inspection and beside the finding and the photo.
    page = soup(await officer.get(f"/inspections/{s.key}"))
    assert "退回原因：1 条问题被退回、1 张照片需要重拍" in visible_text(page.select_one(".head"))
    filing = visible_text(page.select_one(f"#finding-{s.filing.id}"))
    assert "审核意见：请写明备案的具体情况，并补拍营业执照" in filing and "已退回" in filing
    assert "需重拍：照片模糊，看不清" in filing
    # The confirmed finding is locked; the one sent back can be corrected.
    assert page.select_one(f"#finding-{s.training.id} textarea[name=text]") is None
    r = await officer.post(f"/inspections/{s.key}/findings/{s.training.id}", headers=HX,
                           data={"text": "改掉已确认的问题", "quantity": "1"})
    assert r.status_code == 409 and "已经办公室审核" in " ".join(errors(r))
    r = await officer.post(f"/inspections/{s.key}/findings/{s.filing.id}", headers=HX,
                           data={"text": "物业公司自2020年起自招保安6人，未向公安机关备案", "stat_column": "10", "quantity": "1"})
    assert r.status_code == 200
    await upload(officer, s.key, f"finding:{s.filing.id}", color=(10, 120, 10))
    assert (await officer.post(f"/inspections/{s.key}/submit")).status_code == 303
    statuses = {f["id"]: f["status"] for f in await Finding.select(Finding.id, Finding.status)}
    assert statuses == {s.training.id: "confirmed", s.filing.id: "submitted"}

    # Second round: the old photo is marked re-shot, the corrected finding waits again.
    page = soup(await office.get(f"/office/inspections/{s.key}"))
    assert "已补拍" in visible_text(page.select_one(f"#photo-{proof}"))
    assert "自招保安6人" in visible_text(page.select_one(f"#finding-{s.filing.id}"))
    await decide(office, s.key, "findings", s.filing.id, "confirm", "")
    assert (await office.post(f"/office/inspections/{s.key}/finish", data={})).status_code == 303
    insp = await Inspection.objects().where(Inspection.uuid == s.key).first()
    assert insp.status == "reviewed"
    # The original stays as it was, still marked for a re-shot; the new photo is accepted.
    photos = {p["id"]: p["review_status"] for p in await Photo.select(Photo.id, Photo.review_status)}
    assert photos[proof] == "reshoot" and sorted(photos.values()) == ["accepted", "accepted", "reshoot"]
    page = soup(await office.get(f"/office/inspections/{s.key}"))
    assert "已补拍" in visible_text(page.select_one(f"#photo-{proof}"))
    assert "等待重拍" not in visible_text(page.select_one("#gallery"))


async def test_a_photo_sent_back_without_a_new_one_is_sent_back_again(client_factory, world):
    officer = await client_factory("officer")
    s = await submitted_inspection(officer, world.sites.school.id)
    office = await client_factory("office")
    for f in (s.training, s.filing):
        await decide(office, s.key, "findings", f.id, "confirm")
    await decide(office, s.key, "photos", await photo_id(s.scene), "reshoot", "未拍到门岗")
    await office.post(f"/office/inspections/{s.key}/finish", data={"note": "请补拍门岗"})
    insp = await Inspection.objects().where(Inspection.uuid == s.key).first()
    assert insp.status == "sent_back" and insp.review_note == "请补拍门岗"
    # Resubmitted without a new photo of the scene: it goes back again.
    assert (await officer.post(f"/inspections/{s.key}/submit")).status_code == 303
    page = soup(await office.get(f"/office/inspections/{s.key}"))
    assert "等待重拍" in visible_text(page.select_one(f"#photo-{await photo_id(s.scene)}"))
    await office.post(f"/office/inspections/{s.key}/finish", data={})
    assert (await Inspection.objects().where(Inspection.uuid == s.key).first()).status == "sent_back"


async def test_printable_record(client_factory, world):
    officer = await client_factory("officer")
    s = await submitted_inspection(officer, world.sites.school.id)
    office = await client_factory("office")
    await decide(office, s.key, "findings", s.filing.id, "confirm")
    r = await office.get(f"/office/inspections/{s.key}/print")
    assert r.status_code == 200
    page = soup(r)
    assert page.select_one("link[rel=stylesheet]")["href"] == "/static/css/app.css"
    sheet = page.select_one("article.sheet")
    text = visible_text(sheet)
    assert page.h1.get_text(strip=True) == "检查记录"
    assert "蓟州区保安服务市场清理整顿专项行动" in text and f"记录编号：{s.key}" in text
    assert "蓟州区第一中学" in text and "第一中学校门" in text and "王警官" in text
    rows = [visible_text(tr) for tr in sheet.select("table.findings tbody tr")]
    assert any("物业公司未到公安机关备案" in x and "已确认" in x and "第10栏" in x for x in rows)
    assert any("保安员未参加岗前培训" in x and "待审核" in x for x in rows)
    scene = await Photo.objects().where(Photo.uuid == s.scene).first()
    assert f"SHA-256：{scene.sha256}" in text and "40.045123, 117.408321" in text
    assert len(sheet.select(".sheet-photos img")) == 2
    for who in ("检查人（签名）", "被检查单位负责人（签名）", "审核人（签名）"):
        assert who in visible_text(sheet.select_one(".signatures"))
    assert "打印人：张主任" in text
    assert (await (await client_factory("liaison_edu")).get(f"/office/inspections/{s.key}/print")).status_code == 403
