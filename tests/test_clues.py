"""线索: a township liaison refers a clue with photos and documents (a contract as PDF or a
photo of it); the police inbox; acceptance becomes an
officer's inspection task; the outcome goes back to the referring body; the response deadline
is shown to both sides; other bodies see nothing of it."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

from server import clock
from server.models.evidence import AccessLog
from server.models.inspections import Finding, Inspection
from server.models.rectification import ClueDocument, ClueReferral, CluePhoto
from tests.support.flow import answer_all, new_id
from tests.support.html import errors, jpeg, soup, visible_text
from tests.test_review import decide

ROOT = Path(__file__).resolve().parents[1]
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def photo_files(*colors):
    return [("photos", (f"p{i}.jpg", jpeg(color=c), "image/jpeg")) for i, c in enumerate(colors)]


async def refer(c, **data) -> str:
    key = new_id()
    files = data.pop("files", None)
    r = await c.post("/clues", data={"uuid": key, **data}, files=files)
    assert r.status_code == 303, r.text
    assert r.headers["location"] == f"/clues/{key}"
    return key


async def test_referral_round_trip(client_factory, world, app, service_env):
    for key in await app.state.store.list_keys():  # leftovers of earlier tests: their rows are gone
        await app.state.store.delete(key)
    town = await client_factory("liaison_town")
    today = clock.today()

    # The liaison picks from the units of their own township only.
    form = soup(await town.get("/clues/new"))
    assert [visible_text(o) for o in form.select("select[name=unit_id] option")][1:] == ["蓟州区绿园物业服务有限公司"]
    assert "线索" in [visible_text(a) for a in soup(await town.get("/clues")).select("nav.mainnav a")]

    key = await refer(town, unit_id=str(world.units.estate_co.id), description="小区门岗保安员服装印有“特勤”字样",
                      files=photo_files((200, 0, 0), (0, 0, 200)))
    clue = await ClueReferral.objects().where(ClueReferral.uuid == key).first()
    assert (clue.from_body, clue.to_body, clue.status) == (world.bodies.town.id, world.bodies.police.id, "referred")
    assert clue.response_due == today + dt.timedelta(days=5) and clue.unit_name == "蓟州区绿园物业服务有限公司"
    photos = await CluePhoto.objects().where(CluePhoto.clue == clue.id).order_by(CluePhoto.id)
    assert len(photos) == 2 and all(len(p.sha256) == 64 for p in photos)
    # The objects are stored through the object store and accounted for by `storage check`.
    check = subprocess.run([sys.executable, "-m", "server", "storage", "check"], cwd=ROOT, env=service_env,
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "4 keys referenced, 4 objects stored, 0 rows without objects, 0 objects without rows" in check.stdout

    page = soup(await town.get(f"/clues/{key}"))
    head = visible_text(page.select_one("#clue"))
    assert "已移交" in head and f"答复期限：{clue.response_due} · 须在 5 天内答复" in head
    assert len(page.select("#clue .thumbs img")) == 2

    # The police inbox: from whom, and by when to answer.
    office = await client_factory("office")
    inbox = soup(await office.get("/clues"))
    row = visible_text(inbox.select_one("tbody tr"))
    assert "蓟州区绿园物业服务有限公司" in row and "官庄镇" in row and "须在 5 天内答复" in row
    assert "待答复的线索 1 条" in visible_text(inbox.select_one(".due-box"))
    r = await office.get(f"/clues/{key}/photos/{photos[0].uuid}/thumb")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg" and r.content[:2] == b"\xff\xd8"
    assert await AccessLog.count().where((AccessLog.object_table == "clue_photo") & (AccessLog.username == "office")) == 1

    # Accepting makes an inspection task for the officer.
    r = await office.post(f"/clues/{key}/accept", data={"site_id": str(world.sites.estate.id)})
    assert r.status_code == 422 and errors(r) == ["请选择承办民警"]
    r = await office.post(f"/clues/{key}/accept", data={"site_id": str(world.sites.school.id),
                                                         "officer_id": str(world.users.officer.id)})
    assert r.status_code == 422 and errors(r) == ["所选服务目标不属于该单位"]
    r = await office.post(f"/clues/{key}/accept", data={"site_id": str(world.sites.estate.id),
                                                         "officer_id": str(world.users.officer.id)})
    assert r.status_code == 303
    clue = await ClueReferral.objects().where(ClueReferral.uuid == key).first()
    insp = await Inspection.objects().where(Inspection.id == clue.inspection).first()
    assert clue.status == "accepted" and (insp.officer, insp.site, insp.status) == (world.users.officer.id, world.sites.estate.id, "draft")
    r = await office.post(f"/clues/{key}/accept", data={"site_id": str(world.sites.estate.id),
                                                         "officer_id": str(world.users.officer.id)})
    assert r.status_code == 409 and errors(r) == ["该线索当前为“已受理”，不能再受理"]

    officer = await client_factory("officer")
    home = soup(await officer.get("/"))
    assert any("绿园小区" in visible_text(li) for li in home.select("li"))
    await answer_all(officer, insp.uuid, violations={2: "两名保安员服装有“特勤”字样"})
    assert (await officer.post(f"/inspections/{insp.uuid}/submit")).status_code == 303
    found = await Finding.objects().where(Finding.inspection == insp.id).first()
    await decide(office, insp.uuid, "findings", found.id, "confirm")
    page = soup(await office.get(f"/clues/{key}"))
    assert visible_text(page.select_one("#close textarea")) == "已现场检查，检查结果正在审核。"
    assert (await office.post(f"/office/inspections/{insp.uuid}/finish", data={"note": ""})).status_code == 303

    # The outcome goes back to the referring body.
    page = soup(await office.get(f"/clues/{key}"))
    assert visible_text(page.select_one("#close textarea")) == "经现场检查，发现违法违规问题 1 项。"
    r = await office.post(f"/clues/{key}/close", data={"outcome": ""})
    assert r.status_code == 422 and errors(r) == ["请填写核查结果，移交单位会看到这段话"]
    r = await office.post(f"/clues/{key}/close", data={"outcome": "经现场检查，发现违法违规问题 1 项，已责令限期整改。"})
    assert r.status_code == 303
    page = soup(await town.get(f"/clues/{key}"))
    assert "已反馈结果" in visible_text(page.select_one("#clue .badge"))
    assert "经现场检查，发现违法违规问题 1 项，已责令限期整改。" in visible_text(page.select_one("#answer"))
    assert page.select_one("#answer a[href^='/inspections/']") is None  # the police record stays with the police


async def test_referral_refuses_bad_input_and_stores_nothing(client_factory, world, app):
    town = await client_factory("liaison_town")
    stored = set(await app.state.store.list_keys("clues/"))  # the store outlives each test's database
    r = await town.post("/clues", data={"uuid": new_id(), "unit_name": "某公司"})
    assert r.status_code == 422 and errors(r) == ["请填写问题描述"]
    r = await town.post("/clues", data={"uuid": new_id(), "description": "无证保安"})
    assert r.status_code == 422 and errors(r) == ["请选择单位，或填写单位名称"]
    r = await town.post("/clues", data={"uuid": new_id(), "description": "无证保安", "unit_id": str(world.units.school.id)})
    assert r.status_code == 422 and errors(r) == ["所选单位不存在或不在您的辖区范围内"]
    r = await town.post("/clues", data={"uuid": new_id(), "description": "无证保安", "unit_name": "某劳务公司"},
                        files=[("photos", ("x.jpg", b"not an image", "image/jpeg"))])
    assert r.status_code == 422 and errors(r) == ["第 1 张照片：文件不是有效的图片，或图片已损坏"]
    # What the liaison typed is kept.
    assert soup(r).select_one("input[name=unit_name]")["value"] == "某劳务公司"
    assert await ClueReferral.count() == 0 and await CluePhoto.count() == 0
    assert set(await app.state.store.list_keys("clues/")) == stored
    # Only liaisons refer clues.
    office = await client_factory("office")
    assert (await office.post("/clues", data={"uuid": new_id(), "description": "x", "unit_name": "y"})).status_code == 403
    # A free-text unit outside the registry is fine; a double tap makes one clue.
    key = new_id()
    for _ in range(2):
        r = await town.post("/clues", data={"uuid": key, "description": "无证保安", "unit_name": "某劳务公司",
                                            "address": "官庄镇东街"})
        assert r.status_code == 303
    assert await ClueReferral.count() == 1


async def test_decline_overdue_reminders_and_other_bodies_see_nothing(client_factory, world):
    town = await client_factory("liaison_town")
    key = await refer(town, unit_name="官庄镇某保洁公司", description="保洁公司派人在超市做保安", files=photo_files((9, 9, 9)))
    clue = await ClueReferral.objects().where(ClueReferral.uuid == key).first()
    photo = await CluePhoto.objects().first()
    await ClueReferral.update({ClueReferral.response_due: clock.today() - dt.timedelta(days=2)}).where(
        ClueReferral.id == clue.id)

    # Overdue, for both sides.
    office = await client_factory("office")
    assert "答复已逾期 2 天" in visible_text(soup(await office.get("/clues")).select_one("tbody tr"))
    assert "待答复的线索 1 条（其中逾期 1 条）" in visible_text(soup(await office.get("/clues")).select_one(".due-box"))
    mine = soup(await town.get("/clues"))
    assert "答复已逾期 2 天" in visible_text(mine.select_one("tbody tr"))
    assert "已移交、公安机关尚未答复的线索 1 条（其中逾期 1 条）" in visible_text(mine.select_one(".due-box"))

    # Another body's liaison sees none of it: not in the list, not the page, not the photo.
    edu = await client_factory("liaison_edu")
    assert soup(await edu.get("/clues")).select("tbody tr") == []
    assert "保洁公司" not in (await edu.get("/clues")).text
    assert (await edu.get(f"/clues/{key}")).status_code == 404
    assert (await edu.get(f"/clues/{key}/photos/{photo.uuid}/thumb")).status_code == 404
    assert (await edu.post(f"/clues/{key}/decline", data={"reason": "x"})).status_code == 403
    # Nor can the referring liaison answer their own clue.
    assert (await town.post(f"/clues/{key}/decline", data={"reason": "x"})).status_code == 403

    r = await office.post(f"/clues/{key}/decline", data={"reason": ""})
    assert r.status_code == 422 and errors(r) == ["请填写不予受理的理由，移交单位会看到这段话"]
    r = await office.post(f"/clues/{key}/decline", data={"reason": "经核实该超市保安由持证保安公司派驻，不属违规"})
    assert r.status_code == 303
    page = soup(await town.get(f"/clues/{key}"))
    assert "不予受理" in visible_text(page.select_one("#clue .badge"))
    assert "经核实该超市保安由持证保安公司派驻" in visible_text(page.select_one("#answer"))
    assert "逾期" not in visible_text(page.select_one("#clue"))
    assert soup(await town.get("/clues")).select_one(".due-box") is None


async def test_clue_without_a_registered_unit_is_sent_to_a_site_found_by_searching(client_factory, world,
                                                                                   monkeypatch):
    from server.registry import service as registry

    monkeypatch.setattr(registry, "SELECT_MAX", 1)  # a registry too big to list every site
    town = await client_factory("liaison_town")
    key = await refer(town, unit_name="某劳务公司", description="无证保安在绿园小区值守")
    office = await client_factory("office")
    page = soup(await office.get(f"/clues/{key}"))
    assert page.select_one("select[name=site_id]") is None and page.select_one("input[name=site_id_q]")
    # Without JavaScript, 查找 posts the form and comes back with the matches; nothing is accepted.
    r = await office.post(f"/clues/{key}/accept", data={"_pick": "site_id", "site_id_q": "绿园",
                                                         "officer_id": str(world.users.officer.id)})
    found = {visible_text(i.parent): i["value"] for i in soup(r).select("input[type=radio][name=site_id]")}
    assert r.status_code == 200 and found == {"绿园小区（蓟州区绿园物业服务有限公司）": str(world.sites.estate.id)}
    assert (await ClueReferral.objects().where(ClueReferral.uuid == key).first()).status == "referred"
    r = await office.post(f"/clues/{key}/accept", data={"site_id_q": "绿园", "officer_id": str(world.users.officer.id)})
    assert r.status_code == 422 and "请选择要检查的服务目标" in errors(r)
    r = await office.post(f"/clues/{key}/accept", data={"site_id": str(world.sites.estate.id), "site_id_q": "绿园",
                                                         "officer_id": str(world.users.officer.id)})
    assert r.status_code == 303, errors(r)
    insp = await Inspection.objects().where(Inspection.site == world.sites.estate.id).first()
    assert insp is not None and insp.officer == world.users.officer.id


async def test_a_clue_carries_documents_that_its_body_and_the_police_download(client_factory, world, app):
    """A contract as PDF and a photo of a signed page go with the clue; the page lists them by
    name and size; a download is an attachment under the file's name, access-logged once with
    the document's id; another body's liaison gets nothing."""
    town = await client_factory("liaison_town")
    form = soup(await town.get("/clues/new"))
    field = form.select_one("input[type=file][name=documents]")
    assert field["accept"] == "application/pdf,image/jpeg,image/png,image/webp"
    assert "合同等材料（PDF 或图片，最多 6 份，每份不超过 2 MB）" in visible_text(field.parent)
    signed = jpeg(color=(10, 120, 10))
    key = await refer(town, unit_name="某劳务派遣公司", description="以劳务派遣名义向超市派驻保安",
                      files=[*photo_files((200, 0, 0)),
                             ("documents", ("劳务派遣合同 2020.pdf", PDF, "application/pdf")),
                             ("documents", ("C:\\扫描\\合同签字页.jpg", signed, "image/jpeg"))])
    clue = await ClueReferral.objects().where(ClueReferral.uuid == key).first()
    docs = await ClueDocument.objects().where(ClueDocument.clue == clue.id).order_by(ClueDocument.id)
    assert [(d.file_name, d.content_type, d.bytes) for d in docs] == [
        ("劳务派遣合同 2020.pdf", "application/pdf", len(PDF)), ("合同签字页.jpg", "image/jpeg", len(signed))]
    assert await CluePhoto.count().where(CluePhoto.clue == clue.id) == 1
    assert {d.object_key.rsplit(".", 1)[-1] for d in docs} == {"pdf", "jpg"}

    listed = [visible_text(li) for li in soup(await town.get(f"/clues/{key}")).select("#clue-documents li")]
    assert listed == [f"劳务派遣合同 2020.pdf {len(PDF)} 字节", f"合同签字页.jpg {round(len(signed) / 1024)} KB"]
    office = await client_factory("office")
    links = soup(await office.get(f"/clues/{key}")).select("#clue-documents a")
    assert [a["href"] for a in links] == [f"/clues/{key}/documents/{d.uuid}" for d in docs]

    r = await office.get(links[0]["href"])
    assert r.status_code == 200 and r.content == PDF and r.headers["content-type"].startswith("application/pdf")
    assert r.headers["content-disposition"] == (
        "attachment; filename=\"clue-document.pdf\"; filename*=UTF-8''%E5%8A%B3%E5%8A%A1%E6%B4%BE%E9%81%A3"
        "%E5%90%88%E5%90%8C%202020.pdf")
    assert (await town.get(links[1]["href"])).content == signed
    logged = await AccessLog.select(AccessLog.username, AccessLog.action, AccessLog.object_table,
                                    AccessLog.object_id).where(AccessLog.action == "download").order_by(AccessLog.id)
    assert logged == [{"username": "office", "action": "download", "object_table": "clue_document",
                       "object_id": str(docs[0].id)},
                      {"username": "liaison_town", "action": "download", "object_table": "clue_document",
                       "object_id": str(docs[1].id)}]
    officer = await client_factory("officer")
    assert (await officer.get(links[0]["href"])).status_code == 200

    # Out of reach: another body's liaison, another clue's address, a document that is not there.
    edu = await client_factory("liaison_edu")
    assert (await edu.get(links[0]["href"])).status_code == 404
    other = await refer(town, unit_name="另一单位", description="另一条线索")
    assert (await office.get(f"/clues/{other}/documents/{docs[0].uuid}")).status_code == 404
    assert (await office.get(f"/clues/{key}/documents/{new_id()}")).status_code == 404
    assert await AccessLog.count().where(AccessLog.action == "download") == 3


async def test_a_refused_document_refuses_the_clue_and_stores_nothing(client_factory, world, app):
    town = await client_factory("liaison_town")
    stored = set(await app.state.store.list_keys("clues/"))
    base = {"description": "无证保安", "unit_name": "某劳务公司"}

    async def refused(documents, photos=()) -> str:
        files = [*photos, *[("documents", (name, data, "application/octet-stream")) for name, data in documents]]
        r = await town.post("/clues", data={"uuid": new_id(), **base}, files=files)
        assert r.status_code == 422
        assert soup(r).select_one("input[name=unit_name]")["value"] == "某劳务公司"  # what was typed stays
        (message,) = errors(r)
        return message

    assert await refused([("合同.pdf", PDF[:-7])], photo_files((1, 2, 3))) == (
        "第 1 份材料“合同.pdf”：PDF 文件不完整或已损坏，请重新导出后上传")
    assert await refused([("合同.pdf", PDF), ("合同.docx", b"PK\x03\x04" + b"\0" * 64)]) == (
        "第 2 份材料“合同.docx”：只接受 PDF 或图片（JPEG、PNG、WebP） 文件；Word 等 Office 文件请另存为 PDF 后上传")
    assert await refused([("合同.pdf", b"MZ\x90\x00 an executable")]) == (
        "第 1 份材料“合同.pdf”：只接受 PDF 或图片（JPEG、PNG、WebP） 文件，所选文件的内容不是这些格式或已损坏")
    big = b"%PDF-1.4\n" + b"0" * (2 * 1024 * 1024 + 300_000) + b"\n%%EOF\n"
    assert await refused([("扫描件.pdf", big)]) == "第 1 份材料“扫描件.pdf”：文件过大（2.3 MB），上限 2 MB"
    assert await refused([(f"合同{i}.pdf", PDF) for i in range(7)]) == "最多上传 6 份材料"
    assert await refused([("空.pdf", b"")]) == "第 1 份材料“空.pdf”：文件为空，请重新选择"
    assert await ClueReferral.count() == 0 and await CluePhoto.count() == 0 and await ClueDocument.count() == 0
    assert set(await app.state.store.list_keys("clues/")) == stored
