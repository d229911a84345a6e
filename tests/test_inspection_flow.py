"""The officer's inspection through the HTTP interface, checked as the officer and the office see it."""

from __future__ import annotations

from server.models.evidence import Photo
from server.models.inspections import ChecklistAnswer, Finding, GuardCheck, Inspection
from tests.support.flow import answer_all, new_id, start
from tests.support.html import errors, jpeg, soup, visible_text


async def test_officer_finds_site_and_starts_once_even_on_double_tap(client_factory, world):
    c = await client_factory("officer")
    r = await c.get("/sites", params={"q": "第一中学"})
    assert r.headers["content-type"].startswith("text/html")
    page = soup(r)
    assert "第一中学校门" in visible_text(page)
    form = page.select_one("form.start")
    key = form.select_one("input[name=uuid]")["value"]
    # Two taps on the same button send the same client UUID.
    await start(c, world.sites.school.id, key)
    await start(c, world.sites.school.id, key)
    assert await Inspection.count().where(Inspection.uuid == key) == 1
    r = await c.get(f"/inspections/{key}")
    assert r.headers["content-type"].startswith("text/html")
    page = soup(r)
    assert page.h1.get_text(strip=True) == "第一中学校门"
    assert len(page.select("form.area")) == 8
    home = visible_text(soup(await c.get("/")))
    assert "填写中的检查" in home and "第一中学校门" in home


async def test_a_start_without_a_valid_client_uuid_is_refused_in_chinese(client_factory, world):
    """A refusal raised outside a form's own page (here the start button's uuid) still reaches
    the user as a message, with 422, and writes nothing."""
    c = await client_factory("officer")
    before = await Inspection.count()
    r = await c.post("/inspections", data={"site_id": str(world.sites.school.id), "uuid": "not-a-uuid"})
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
    assert "请求缺少有效的编号，请刷新页面后重试" in visible_text(soup(r))
    r = await c.post("/inspections", data={"site_id": str(world.sites.school.id), "uuid": "x"},
                     headers={"HX-Request": "true"})
    assert r.status_code == 422 and errors(r) == ["请求缺少有效的编号，请刷新页面后重试"]
    assert await Inspection.count() == before


async def test_guards_checks_derive_findings(client_factory, world):
    c = await client_factory("officer")
    key = await start(c, world.sites.school.id)
    hx = {"HX-Request": "true"}
    r = await c.post(f"/inspections/{key}/guards", data={"uuid": new_id(), "guard_id": str(world.guards.valid.id)}, headers=hx)
    assert "有效" in visible_text(soup(r))
    r = await c.post(f"/inspections/{key}/guards", data={"uuid": new_id(), "guard_id": str(world.guards.none.id)}, headers=hx)
    r = await c.post(f"/inspections/{key}/guards", data={"uuid": new_id(), "certificate_no": "津保999"}, headers=hx)
    banners = [b.get_text(strip=True) for b in soup(r).select(".verdict")]
    assert banners == ["有效", "无证", "无法识别(可能伪造)"]
    # The same guard twice is refused beside the field.
    r = await c.post(f"/inspections/{key}/guards", data={"uuid": new_id(), "guard_id": str(world.guards.valid.id)}, headers=hx)
    assert r.status_code == 422 and any("已在本次检查的名单中" in e for e in errors(r))

    check = await GuardCheck.objects().where(GuardCheck.guard == world.guards.valid.id).first()
    r = await c.post(f"/inspections/{key}/guards/{check.id}", headers=hx, data={
        "certificate_shown": "yes", "uniform_ok": "no", "insignia_ok": "yes", "tejin_marking": "yes"})
    assert r.status_code == 200 and r.headers.get("hx-trigger") == "findings-changed"
    page = soup(await c.get(f"/inspections/{key}/findings"))
    texts = [visible_text(f) for f in page.select("article.finding")]
    assert len(texts) == 3
    assert any("李强" in t and "无证上岗" in t and "第15栏" in t for t in texts)
    assert any("津保999" in t and "可能伪造" in t for t in texts)
    assert any("张伟" in t and "特勤" in t and "未按规定穿着" in t and "第16栏" in t for t in texts)

    # Fixing the uniform answer removes that finding; the others stay.
    await c.post(f"/inspections/{key}/guards/{check.id}", headers=hx, data={
        "certificate_shown": "yes", "uniform_ok": "yes", "insignia_ok": "yes", "tejin_marking": "no"})
    assert await Finding.count().where(Finding.inspection.uuid == key) == 2


async def test_submit_requires_every_answer_then_is_read_only(client_factory, world):
    c = await client_factory("officer")
    key = await start(c, world.sites.school.id)
    r = await c.post(f"/inspections/{key}/submit")
    assert r.status_code == 422
    page = soup(r)
    problems = visible_text(page.select_one("#problems"))
    assert "第1项" in problems and "第8项" in problems and "请选择" in problems

    await answer_all(c, key, violations={5: "未到公安机关备案"})
    r = await c.post(f"/inspections/{key}/submit")
    assert r.status_code == 303
    page = soup(await c.get(f"/inspections/{key}"))
    assert "已提交" in visible_text(page)
    assert not page.select("#submit-box") and page.select("form.area fieldset[disabled]")
    finding = await Finding.objects().where(Finding.inspection.uuid == key).first()
    assert finding.area == 5 and finding.stat_column == 10 and "未到公安机关备案" in finding.text
    assert finding.status == "submitted"

    # Read-only now: an edit is refused with a message, and nothing changes.
    r = await c.post(f"/inspections/{key}/checklist/5", data={"answer": "ok"}, headers={"HX-Request": "true"})
    assert r.status_code == 409 and "已提交" in r.text
    # Submitting again is harmless.
    assert (await c.post(f"/inspections/{key}/submit")).status_code == 303
    assert await Inspection.count() == 1

    office = await client_factory("office")
    page = soup(await office.get("/office/inspections"))
    rows = page.select("tbody tr")
    assert len(rows) == 1 and "第一中学校门" in visible_text(rows[0]) and "王警官" in visible_text(rows[0])


async def test_area_violation_contradicting_guard_checks_blocks_submit(client_factory, world):
    c = await client_factory("officer")
    key = await start(c, world.sites.school.id)
    await c.post(f"/inspections/{key}/guards", data={"uuid": new_id(), "guard_id": str(world.guards.none.id)},
                 headers={"HX-Request": "true"})
    await answer_all(c, key)  # area 1 says 符合 although an uncertified guard was found
    r = await c.post(f"/inspections/{key}/submit")
    assert r.status_code == 422
    assert "保安员核查发现问题" in visible_text(soup(r).select_one("#problems"))


async def test_checklist_note_too_long_is_refused_and_nothing_saved(client_factory, world):
    c = await client_factory("officer")
    key = await start(c, world.sites.school.id)
    r = await c.post(f"/inspections/{key}/checklist/2", data={"answer": "violation", "note": "长" * 501},
                     headers={"HX-Request": "true"})
    assert r.status_code == 422
    assert any("不能超过 500 字" in e for e in errors(r))
    assert await Finding.count() == 0


async def test_photo_upload_is_idempotent_and_checked(client_factory, world, app):
    c = await client_factory("officer")
    key = await start(c, world.sites.school.id)
    hx = {"HX-Request": "true"}
    photo_id = new_id()
    body = jpeg()
    for _ in range(2):  # a retry after a timeout sends the same UUID again
        r = await c.post(f"/inspections/{key}/photos", headers=hx,
                         data={"photo_uuid": photo_id, "target": "general", "captured_at": "2020-12-20T10:00:00+08:00"},
                         files={"file": ("p.jpg", body, "image/jpeg")})
        assert r.status_code == 200, r.text
        assert len(soup(r).select(".thumbs img")) == 1
    photo = await Photo.objects().where(Photo.uuid == photo_id).first()
    import hashlib
    assert photo.sha256 == hashlib.sha256(body).hexdigest() and photo.bytes == len(body)
    assert await app.state.store.get(photo.object_key) == body

    thumb = await c.get(f"/photos/{photo_id}/thumb")
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    assert (await c.get(f"/photos/{photo_id}")).content == body

    # Not an image: a clear message, no row, no object.
    bad_id = new_id()
    r = await c.post(f"/inspections/{key}/photos", headers=hx, data={"photo_uuid": bad_id, "target": "general"},
                     files={"file": ("x.jpg", b"%PDF-1.4 not a photo", "image/jpeg")})
    assert r.status_code == 422 and any("不是有效的图片" in e for e in errors(r))
    # Too big (the test limit is 2 MB).
    r = await c.post(f"/inspections/{key}/photos", headers=hx, data={"photo_uuid": new_id(), "target": "general"},
                     files={"file": ("big.jpg", b"\xff\xd8" + b"0" * (2 * 1024 * 1024 + 10), "image/jpeg")})
    assert r.status_code == 422 and any("照片过大" in e for e in errors(r))
    assert await Photo.count() == 1
    keys = await app.state.store.list_keys("photos/")
    assert [k for k in keys if bad_id in k] == []


async def test_other_officer_cannot_see_draft_or_photos(client_factory, world):
    c = await client_factory("officer")
    key = await start(c, world.sites.school.id)
    photo_id = new_id()
    await c.post(f"/inspections/{key}/photos", headers={"HX-Request": "true"},
                 data={"photo_uuid": photo_id, "target": "general"}, files={"file": ("p.jpg", jpeg(), "image/jpeg")})
    other = await client_factory("officer2")
    assert (await other.get(f"/inspections/{key}")).status_code == 404
    assert (await other.get(f"/photos/{photo_id}")).status_code == 404
    r = await other.post(f"/inspections/{key}/checklist/1", data={"answer": "ok"})
    assert r.status_code == 404


async def test_liaison_only_reaches_sites_in_scope(client_factory, world):
    edu = await client_factory("liaison_edu")
    page = visible_text(soup(await edu.get("/sites", params={"q": ""})))
    assert "第一中学校门" in page and "绿园小区" not in page
    r = await edu.post("/inspections", data={"uuid": new_id(), "site_id": str(world.sites.estate.id)})
    assert r.status_code == 404
    key = await start(edu, world.sites.school.id)
    insp = await Inspection.objects().where(Inspection.uuid == key).first()
    assert insp.kind == "self_inspection" and insp.body == world.bodies.edu.id

    town = await client_factory("liaison_town")
    page = visible_text(soup(await town.get("/sites", params={"q": ""})))
    assert "绿园小区" in page and "第一中学校门" not in page
    assert (await town.get(f"/inspections/{key}")).status_code == 404


async def test_all_ok_answers_what_is_unanswered_and_agrees_with_the_guards(client_factory, world):
    """全部符合 in one tap: unanswered areas become 符合, what the officer already chose stays,
    and an area where a guard check found a problem becomes 不符合 (so submitting is not
    blocked by a contradiction)."""
    c = await client_factory("officer")
    key = await start(c, world.sites.school.id)
    hx = {"HX-Request": "true"}
    await c.post(f"/inspections/{key}/checklist/3", data={"answer": "na", "note": ""}, headers=hx)
    await c.post(f"/inspections/{key}/guards", data={"uuid": new_id(), "guard_id": str(world.guards.valid.id)}, headers=hx)
    check = await GuardCheck.objects().where(GuardCheck.guard == world.guards.valid.id).first()
    await c.post(f"/inspections/{key}/guards/{check.id}", headers=hx, data={"uniform_ok": "no"})
    page = soup(await c.get(f"/inspections/{key}"))
    todo = [li.get_text(strip=True) for li in page.select("#missing li")]
    assert [t for t in todo if t.endswith("请选择 符合 / 不符合 / 不适用")] == todo[:7] and len(todo) == 8
    assert todo[2].startswith("第4项")  # 3 is answered
    assert any("张伟" in t and "出示保安员证、服务标志、特勤字样未检查" in t for t in todo), todo

    r = await c.post(f"/inspections/{key}/checklist/all-ok", headers=hx)
    assert r.status_code == 200 and r.headers.get("hx-trigger") == "findings-changed"
    checked = {int(f["id"].split("-")[1]): f.select_one("input:checked")["value"]
               for f in soup(r).select("form.area") if f.select_one("input:checked")}
    assert checked == {1: "ok", 2: "violation", 3: "na", 4: "ok", 5: "ok", 6: "ok", 7: "ok", 8: "ok"}
    assert not soup(r).select("form.all-ok")  # nothing left to answer: the button is gone

    # 其余各项均正常 answers the guard's other three checks; the uniform stays 不规范.
    r = await c.post(f"/inspections/{key}/guards/{check.id}/all-ok", headers=hx)
    assert r.status_code == 200
    check = await GuardCheck.objects().where(GuardCheck.id == check.id).first()
    assert (check.certificate_shown, check.uniform_ok, check.insignia_ok, check.tejin_marking) == (True, False, True, False)
    guard = soup(r).select_one(f"#guard-{check.id}")
    assert "已检查：出示保安员证 已出示、按规定着保安服 不规范" in visible_text(guard.select_one("summary"))
    assert not guard.select("form.all-ok")
    missing = soup(await c.get(f"/inspections/{key}/missing"))
    assert visible_text(missing) == "各项均已填写，可以提交。"
    r = await c.post(f"/inspections/{key}/submit")
    assert r.status_code == 303
    assert (await Inspection.objects().where(Inspection.uuid == key).first()).status == "submitted"


async def test_all_ok_without_javascript_and_for_someone_elses_inspection(client_factory, world):
    c = await client_factory("officer")
    key = await start(c, world.sites.school.id)
    r = await c.post(f"/inspections/{key}/checklist/all-ok")
    assert r.status_code == 303 and r.headers["location"] == f"/inspections/{key}#checklist"
    assert await ChecklistAnswer.count().where(ChecklistAnswer.inspection.uuid == key) == 8
    other_key = await start(c, world.sites.estate.id)
    other = await client_factory("officer2")
    r = await other.post(f"/inspections/{other_key}/checklist/all-ok")
    assert r.status_code in (403, 404)  # only the officer who inspects answers
    assert await ChecklistAnswer.count().where(ChecklistAnswer.inspection.uuid == other_key) == 0
