"""The office's registry screens: search and filters, detail pages, edit forms with validation
(USCC and ID check characters, dates, required fields), the guard's e-file with a portrait
taken by the phone, training records, collection rates, masked ID numbers and logged reveals."""

from __future__ import annotations

import io

from PIL import Image

from server.models.audit import AuditEntry
from server.models.evidence import AccessLog
from server.registry.ids import id_check_digit, uscc_check_char
from server.models.registry import Guard, TrainingRecord, Unit
from tests.support.html import errors, soup, visible_text

USCC = "91120225MA05" + "TQ8R3" + uscc_check_char("91120225MA05TQ8R3")
BAD_USCC = USCC[:17] + ("0" if USCC[17] != "0" else "1")
ID1 = "12022519850312003" + id_check_digit("12022519850312003")
ID2 = "12022519900101002" + id_check_digit("12022519900101002")
BAD_ID = ID1[:17] + ("0" if ID1[17] != "0" else "1")


def rows(r) -> list[str]:
    return [visible_text(tr) for tr in soup(r).select("tbody tr")]


async def test_guard_list_filters_and_masks_id_numbers(client_factory, world):
    await Guard.update({Guard.id_number: ID1, Guard.fingerprint_collected: True,
                        Guard.photo_collected: True}).where(Guard.id == world.guards.valid.id)
    office = await client_factory("office")
    r = await office.get("/registry/guards")
    assert r.status_code == 200
    assert len(rows(r)) == 4
    assert ID1 not in r.text and (ID1[:4] + "*" * 10 + ID1[-4:]) in visible_text(soup(r))
    names = lambda r: sorted(t.split()[0] for t in rows(r))  # noqa: E731
    assert names(await office.get("/registry/guards?cert=none")) == ["李强"]
    assert names(await office.get("/registry/guards?cert=revoked")) == ["王磊"]
    assert names(await office.get(f"/registry/guards?unit={world.units.estate_co.id}")) == ["赵敏"]
    assert names(await office.get(f"/registry/guards?township={world.townships.guanzhuang.id}")) == ["赵敏"]
    assert names(await office.get("/registry/guards?sector=security")) == ["张伟", "李强", "王磊"]
    assert "张伟" not in names(await office.get("/registry/guards?gap=fingerprint"))
    assert names(await office.get("/registry/guards?q=津保120200000004")) == ["赵敏"]
    # Nonsense filter values are ignored, not errors.
    assert len(rows(await office.get("/registry/guards?cert=bogus&gap=bogus"))) == 4


async def test_guard_list_pages_and_searches_employer_names(client_factory, world, monkeypatch):
    from server.registry import service

    monkeypatch.setattr(service, "PAGE_SIZE", 3)
    office = await client_factory("office")
    names = lambda page: [visible_text(tr).split()[0] for tr in page.select("tbody tr")]  # noqa: E731
    first = soup(await office.get("/registry/guards?status=active"))
    assert len(names(first)) == 3
    assert "第 1 页" in visible_text(first) and first.find("a", string="上一页") is None
    following = first.find("a", string="下一页")["href"]
    assert "status=active" in following and "page=2" in following
    second = soup(await office.get(following))
    assert len(names(second)) == 1 and second.find("a", string="下一页") is None
    assert "page=1" in second.find("a", string="上一页")["href"]
    assert sorted(names(first) + names(second)) == ["张伟", "李强", "王磊", "赵敏"]
    # The search finds a guard by any part of the employer's name too; a page past the end is empty.
    assert names(soup(await office.get("/registry/guards", params={"q": "绿园物业"}))) == ["赵敏"]
    assert "第 9 页没有保安员" in visible_text(soup(await office.get("/registry/guards?page=9")))


async def test_unit_and_site_lists_filter(client_factory, world):
    office = await client_factory("office")
    r = await office.get("/registry/units?kind=property_company")
    assert [t.split()[0] for t in rows(r)] == ["蓟州区绿园物业服务有限公司"]
    r = await office.get(f"/registry/units?township={world.townships.yuyang.id}")
    assert len(rows(r)) == 2
    r = await office.get(f"/registry/units/{world.units.secco.id}")
    text = visible_text(soup(r).select_one("main"))
    assert "第一中学校门" in text and "张伟" in text and "李强" in text  # served site and its guards
    r = await office.get("/registry/sites?sector=school")
    assert [t.split()[0] for t in rows(r)] == ["第一中学校门"]
    r = await office.get(f"/registry/sites/{world.sites.school.id}")
    assert "蓟州区安泰保安服务有限公司" in visible_text(soup(r).select_one("main"))


async def test_unit_page_shows_the_first_guards_and_sites_and_links_to_the_rest(client_factory, world,
                                                                               monkeypatch):
    from server.registry import service

    monkeypatch.setattr(service, "UNIT_LIST_MAX", 2)
    office = await client_factory("office")
    page = soup(await office.get(f"/registry/units/{world.units.secco.id}"))
    guards = page.find("h2", string="保安员（3）").find_parent("section")
    assert len(guards.select("tbody tr")) == 2
    link = guards.find("a", string="查看全部 3 名保安员")
    assert link["href"] == f"/registry/guards?unit={world.units.secco.id}"
    assert "仅显示按姓名排列的前 2 人" in visible_text(guards)
    assert len(rows(await office.get(link["href"]))) == 3
    sites = page.find("h2", string="服务目标（1）").find_parent("section")
    assert "第一中学校门" in visible_text(sites) and sites.find("a", string=lambda t: t and "查看全部" in t) is None
    monkeypatch.setattr(service, "UNIT_LIST_MAX", 0)
    page = soup(await office.get(f"/registry/units/{world.units.secco.id}"))
    link = page.find("a", string="查看全部 1 个服务目标")
    assert link["href"] == f"/registry/sites?unit={world.units.secco.id}"
    assert "第一中学校门" in visible_text(soup(await office.get(link["href"])).select_one("main"))


async def test_unit_form_checks_uscc_and_required_fields(client_factory, world):
    office = await client_factory("office")
    r = await office.post("/registry/units", data={"name": "", "kind": "security_company", "uscc": BAD_USCC})
    assert r.status_code == 422
    msgs = " ".join(errors(r))
    assert "请填写单位名称" in msgs
    assert "统一社会信用代码校验位不正确（GB 32100）" in msgs
    assert "保安服务公司须填写保安服务许可证号" in msgs
    # What the user typed is kept.
    assert soup(r).select_one("input[name=uscc]")["value"] == BAD_USCC
    r = await office.post("/registry/units", data={"name": "新安保安", "kind": "self_recruiting", "uscc": "1234",
                                                   "filing_status": "filed", "filed_on": "2020-13-01"})
    msgs = " ".join(errors(r))
    assert "统一社会信用代码应为 18 位（现有 4 位）" in msgs and "备案日期不是有效日期" in msgs
    # Full-width input with spaces is normalised and accepted.
    wide = "".join(chr(ord(c) + 0xFEE0) for c in USCC[:9]) + " " + USCC[9:].lower()
    r = await office.post("/registry/units", data={
        "name": "蓟州区新安物业服务有限公司", "kind": "property_company", "uscc": wide, "sector": "property",
        "township": str(world.townships.yuyang.id), "filing_status": "filed", "filed_on": "2020/12/20"})
    assert r.status_code == 303, errors(r)
    unit = await Unit.objects().where(Unit.uscc == USCC).first()
    assert unit.name == "蓟州区新安物业服务有限公司" and str(unit.filed_on) == "2020-12-20"
    assert r.headers["location"] == f"/registry/units/{unit.id}"
    assert await AuditEntry.count().where((AuditEntry.table_name == "unit") & (AuditEntry.action == "create")) == 1
    # The same USCC cannot be registered twice.
    r = await office.post("/registry/units", data={"name": "另一家", "kind": "using_unit", "uscc": USCC})
    assert r.status_code == 422 and "该统一社会信用代码已登记为另一单位" in " ".join(errors(r))
    # Editing.
    r = await office.post(f"/registry/units/{unit.id}", data={
        "name": "蓟州区新安物业", "kind": "property_company", "uscc": USCC, "filing_status": "unfiled"})
    assert r.status_code == 303
    assert (await Unit.objects().where(Unit.id == unit.id).first()).name == "蓟州区新安物业"


async def test_guard_form_checks_id_number_dates_and_uniqueness(client_factory, world):
    office = await client_factory("office")
    base = {"name": "孙明", "employer": str(world.units.secco.id)}
    r = await office.post("/registry/guards", data={**base, "id_number": BAD_ID, "certificate_status": "valid",
                                                    "hired_on": "2020-05-01", "left_on": "2020-04-01",
                                                    "employment_status": "left"})
    assert r.status_code == 422
    msgs = " ".join(errors(r))
    assert "身份证号校验位不正确（GB 11643）" in msgs
    assert "持证（或已注销）的保安员须填写保安员证号" in msgs
    assert "离岗日期不能早于入职日期" in msgs
    r = await office.post("/registry/guards", data={"name": "", "id_number": "", "employer": ""})
    msgs = " ".join(errors(r))
    assert "请填写姓名" in msgs and "请填写身份证号" in msgs and "请选择所属单位" in msgs
    r = await office.post("/registry/guards", data={**base, "id_number": ID1.lower(), "certificate_no": "津保120200000001"})
    assert "该保安员证号已登记为另一名保安员" in " ".join(errors(r))
    r = await office.post("/registry/guards", data={
        **base, "id_number": ID1, "certificate_no": "津保120200000009", "certificate_issued_on": "2019年3月5日",
        "fingerprint_collected": "1", "hired_on": "2019-03-01"})
    assert r.status_code == 303, errors(r)
    g = await Guard.objects().where(Guard.id_number == ID1).first()
    assert (g.gender, g.certificate_status, g.fingerprint_collected, g.photo_collected) == ("男", "valid", True, False)
    r = await office.post("/registry/guards", data={**base, "id_number": ID1})
    assert "该身份证号已登记为另一名保安员" in " ".join(errors(r))


async def test_guard_file_reveal_is_logged_and_portrait_is_served_through_a_logged_route(client_factory, world):
    await Guard.update({Guard.id_number: ID2}).where(Guard.id == world.guards.estate.id)
    gid = world.guards.estate.id
    office = await client_factory("office")
    r = await office.get(f"/registry/guards/{gid}")
    page = soup(r)
    assert ID2 not in r.text
    assert visible_text(page.select_one(f"#id-number-{gid}")).startswith(ID2[:4] + "**********" + ID2[-4:])
    assert "未采集照片" in visible_text(page.select_one("#portrait"))
    assert await AccessLog.count().where(AccessLog.action == "guard_view") == 1

    # Reveal without JavaScript: the whole page again, with the number, logged.
    r = await office.post(f"/registry/guards/{gid}/reveal")
    assert ID2 in visible_text(soup(r).select_one(f"#id-number-{gid}"))
    log = await AccessLog.objects().where(AccessLog.action == "pii_reveal").first()
    assert (log.username, log.object_table, log.object_id) == ("office", "guard", str(gid))

    # Portrait taken with the phone: stored, guard marked as photographed, served only when logged in.
    buf = io.BytesIO()
    Image.new("RGB", (1200, 1600), (180, 150, 120)).save(buf, format="JPEG")
    r = await office.post(f"/registry/guards/{gid}/portrait", files={"file": ("me.jpg", buf.getvalue(), "image/jpeg")},
                          headers={"HX-Request": "true"})
    assert r.status_code == 200
    img = soup(r).select_one("#portrait img.portrait")
    assert img is not None
    g = await Guard.objects().where(Guard.id == gid).first()
    assert g.photo_collected and g.portrait_key.startswith(f"portraits/{gid}/")
    r = await office.get(img["src"])
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert max(Image.open(io.BytesIO(r.content)).size) == 800
    assert await AccessLog.count().where(AccessLog.action == "portrait_view") == 1
    # A file that is not a picture gets a Chinese message.
    r = await office.post(f"/registry/guards/{gid}/portrait", files={"file": ("x.jpg", b"nope", "image/jpeg")},
                          headers={"HX-Request": "true"})
    assert r.status_code == 422 and "不是有效的图片" in " ".join(errors(r))
    # The school's liaison is outside the estate's township: no portrait.
    liaison = await client_factory("liaison_edu")
    assert (await liaison.get(f"/registry/guards/{gid}/portrait")).status_code == 404
    town = await client_factory("liaison_town")
    assert (await town.get(f"/registry/guards/{gid}/portrait")).status_code == 200


async def test_training_records(client_factory, world):
    gid = world.guards.valid.id
    office = await client_factory("office")
    r = await office.post(f"/registry/guards/{gid}/training", data={"kind": "", "held_on": "昨天", "hours": "-1"},
                          headers={"HX-Request": "true"})
    assert r.status_code == 422
    msgs = " ".join(errors(r))
    assert "请选择培训类型" in msgs and "培训日期不是有效日期" in msgs and "学时须为 0–500 的整数" in msgs
    r = await office.post(f"/registry/guards/{gid}/training", data={
        "kind": "pre_job", "held_on": "2020-11-02", "hours": "24", "topic": "保安服务管理条例"},
        headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert "岗前培训" in visible_text(soup(r).select_one("#training tbody"))
    record = await TrainingRecord.objects().first()
    r = await office.post(f"/registry/guards/{gid}/training/{record.id}/delete")
    assert r.status_code == 303 and await TrainingRecord.count() == 0


async def test_collection_rates_per_company_and_district_with_missing_guards(client_factory, world):
    await Guard.update({Guard.photo_collected: True, Guard.fingerprint_collected: True}).where(
        Guard.id.is_in([world.guards.valid.id, world.guards.estate.id]))
    await Guard.update({Guard.photo_collected: True}).where(Guard.id == world.guards.none.id)
    office = await client_factory("office")
    r = await office.get("/registry/collection")
    page = soup(r)
    district = visible_text(page.select_one("#district-rate"))
    assert "在岗保安员 4 人" in district and "照片 3 人 75.0%" in district and "指纹 2 人 50.0%" in district
    assert "尚缺 2 人" in district
    companies = {visible_text(tr.select_one("td")): visible_text(tr) for tr in page.select("#company-rates tbody tr")}
    assert "100.0%" in companies["蓟州区绿园物业服务有限公司"]
    assert "33.3%" in companies["蓟州区安泰保安服务有限公司"]
    missing = [visible_text(tr.select_one("td")) for tr in page.select("#missing tbody tr")]
    assert sorted(missing) == ["李强", "王磊"]
    r = await office.get(f"/registry/collection?unit={world.units.estate_co.id}")
    assert "全部在岗保安员均已采集" in visible_text(soup(r).select_one("#missing"))


async def test_collection_rates_page_the_companies_and_the_missing_guards(client_factory, world, monkeypatch):
    from server.registry import service

    await Guard.update({Guard.photo_collected: True, Guard.fingerprint_collected: True}).where(
        Guard.id.is_in([world.guards.valid.id, world.guards.estate.id]))
    monkeypatch.setattr(service, "PAGE_SIZE", 1)
    office = await client_factory("office")
    first = soup(await office.get("/registry/collection"))
    # The district figures still count every guard on duty.
    assert "在岗保安员 4 人" in visible_text(first.select_one("#district-rate"))
    companies = lambda page: [visible_text(tr.select_one("td")) for tr in page.select("#company-rates tbody tr")]  # noqa: E731
    assert companies(first) == ["蓟州区安泰保安服务有限公司"]  # the lowest rate first
    following = first.select_one("#company-rates").find_parent("section").find("a", string="下一页")["href"]
    assert "page=2" in following and following.endswith("#company-rates")
    second = soup(await office.get(following))
    assert companies(second) == ["蓟州区绿园物业服务有限公司"] and "第 2 页" in visible_text(second)
    # The missing list pages on its own, keeping the company page; its heading counts them all.
    missing = lambda page: [visible_text(tr.select_one("td")) for tr in page.select("#missing tbody tr")]  # noqa: E731
    assert "尚未完成采集的在岗保安员（2）" in visible_text(first.select_one("#missing"))
    assert len(missing(first)) == 1
    more = first.select_one("#missing").find("a", string="下一页")["href"]
    assert "missing_page=2" in more and more.endswith("#missing")
    other = soup(await office.get(more))
    assert sorted(missing(first) + missing(other)) == ["李强", "王磊"]
    assert other.select_one("#missing").find("a", string="下一页") is None
    assert companies(other) == ["蓟州区安泰保安服务有限公司"]
    # One company's missing guards, counted for that company.
    r = await office.get(f"/registry/collection?unit={world.units.secco.id}")
    assert "尚未完成采集的在岗保安员（2）" in visible_text(soup(r).select_one("#missing"))


async def test_leader_reads_but_cannot_edit(client_factory, world):
    leader = await client_factory("leader")
    assert (await leader.get(f"/registry/guards/{world.guards.valid.id}")).status_code == 200
    r = await leader.post(f"/registry/guards/{world.guards.valid.id}", data={"name": "x"})
    assert r.status_code == 403
    assert (await leader.post(f"/registry/guards/{world.guards.valid.id}/reveal")).status_code == 403
    page = soup(await leader.get("/registry/guards"))
    assert page.select("input[name=guard]") == [] and "新增保安员" not in visible_text(page)


def radios(page, name: str) -> dict[str, str]:
    """The choices a search picker shows: label text → value."""
    return {visible_text(i.parent): i["value"] for i in page.select(f"input[type=radio][name={name}]")}


def checked(page, name: str) -> str | None:
    box = page.select_one(f"input[type=radio][name={name}][checked]")
    return box["value"] if box else None


async def test_small_registry_forms_keep_the_full_select(client_factory, world):
    office = await client_factory("office")
    page = soup(await office.get("/registry/guards/new"))
    options = [visible_text(o) for o in page.select("select[name=employer] option")]
    assert "蓟州区绿园物业服务有限公司" in options and "蓟州区安泰保安服务有限公司" in options
    assert "第一中学校门（蓟州区第一中学）" in [visible_text(o) for o in page.select("select[name=site] option")]
    assert page.select_one("input[name=employer_q]") is None


async def test_guard_form_picks_the_employer_and_site_by_searching_in_a_big_registry(client_factory, world,
                                                                                      monkeypatch):
    from server.registry import service

    monkeypatch.setattr(service, "SELECT_MAX", 1)  # the test registry counts as province-sized
    office = await client_factory("office")
    page = soup(await office.get("/registry/guards/new"))
    assert page.select_one("select[name=employer]") is None and page.select_one("select[name=site]") is None
    assert page.select_one("input[name=employer_q]") is not None
    assert radios(page, "employer") == {} and "—— 无 ——" in radios(page, "site")
    # Typing part of a name offers the matching units (htmx fragment), nothing else.
    r = await office.get("/registry/pick/employer", params={"employer_q": "绿园"})
    assert radios(soup(r), "employer") == {"蓟州区绿园物业服务有限公司": str(world.units.estate_co.id)}
    r = await office.get("/registry/pick/site", params={"site_q": "中学"})
    assert radios(soup(r), "site") == {"第一中学校门（蓟州区第一中学）": str(world.sites.school.id)}
    r = await office.get("/registry/pick/employer", params={"employer_q": "不存在的公司"})
    assert "没有名称包含“不存在的公司”的结果" in visible_text(soup(r))
    # The choice made so far stays at the top, checked, while another search runs.
    r = soup(await office.get("/registry/pick/employer", params={
        "employer": str(world.units.secco.id), "employer_q": "绿园"}))
    assert list(radios(r, "employer")) == ["蓟州区安泰保安服务有限公司", "蓟州区绿园物业服务有限公司"]
    assert checked(r, "employer") == str(world.units.secco.id)
    assert (await office.get("/registry/pick/password", params={"password_q": "x"})).status_code == 404
    # Saving without choosing a unit: the Chinese message beside the field, what was typed kept.
    r = await office.post("/registry/guards", data={"name": "孙明", "id_number": ID1, "employer_q": "绿园"})
    assert r.status_code == 422 and "请选择所属单位" in errors(r)
    assert soup(r).select_one("input[name=name]")["value"] == "孙明"
    assert "蓟州区绿园物业服务有限公司" in radios(soup(r), "employer")  # the search's matches, to pick from
    # Without JavaScript, 查找 posts the form: it comes back with the matches, nothing saved.
    r = await office.post("/registry/guards", data={"name": "孙明", "id_number": ID1, "_pick": "site",
                                                    "site_q": "绿园", "employer": str(world.units.estate_co.id)})
    assert r.status_code == 200 and errors(r) == []
    assert radios(soup(r), "site") == {"—— 无 ——": "", "绿园小区（蓟州区绿园物业服务有限公司）": str(world.sites.estate.id)}
    assert checked(soup(r), "employer") == str(world.units.estate_co.id)
    assert await Guard.count().where(Guard.id_number == ID1) == 0
    # Saving with the picked unit and site.
    r = await office.post("/registry/guards", data={"name": "孙明", "id_number": ID1, "employer_q": "绿园",
                                                    "employer": str(world.units.estate_co.id),
                                                    "site": str(world.sites.estate.id)})
    assert r.status_code == 303, errors(r)
    g = await Guard.objects().where(Guard.id_number == ID1).first()
    assert (g.employer, g.site) == (world.units.estate_co.id, world.sites.estate.id)
    # Editing shows the current choice by name, checked; a unit id that does not exist is refused.
    page = soup(await office.get(f"/registry/guards/{g.id}/edit"))
    assert radios(page, "employer") == {"蓟州区绿园物业服务有限公司": str(world.units.estate_co.id)}
    assert checked(page, "employer") == str(world.units.estate_co.id)
    assert checked(page, "site") == str(world.sites.estate.id)
    r = await office.post(f"/registry/guards/{g.id}", data={"name": "孙明", "id_number": ID1, "employer": "999999"})
    assert r.status_code == 422 and "所选所属单位不存在" in errors(r)


async def test_site_form_picks_its_unit_and_provider_by_searching(client_factory, world, monkeypatch):
    from server.registry import service
    from server.models.registry import Site

    monkeypatch.setattr(service, "SELECT_MAX", 1)
    office = await client_factory("office")
    page = soup(await office.get(f"/registry/sites/{world.sites.school.id}/edit"))
    assert page.select_one("select[name=unit]") is None
    assert radios(page, "unit") == {"蓟州区第一中学": str(world.units.school.id)}
    assert checked(page, "provider") == str(world.units.secco.id)
    r = await office.post("/registry/sites", data={"name": "北门", "provider_kind": "own"})
    assert r.status_code == 422 and "请选择所属单位" in errors(r)
    r = await office.post("/registry/sites", data={"name": "北门", "unit": str(world.units.school.id),
                                                   "provider_kind": "security_company", "provider": ""})
    assert r.status_code == 422 and "请选择提供保安服务的单位" in errors(r)
    r = await office.post("/registry/sites", data={"name": "北门", "unit": str(world.units.school.id),
                                                   "provider_kind": "security_company",
                                                   "provider": str(world.units.secco.id)})
    assert r.status_code == 303, errors(r)
    site = await Site.objects().where(Site.name == "北门").first()
    assert (site.unit, site.provider) == (world.units.school.id, world.units.secco.id)


async def test_unit_and_site_lists_page(client_factory, world, monkeypatch):
    from server.registry import service

    monkeypatch.setattr(service, "PAGE_SIZE", 2)
    office = await client_factory("office")
    names = lambda page: [visible_text(tr).split()[0] for tr in page.select("tbody tr")]  # noqa: E731
    first = soup(await office.get("/registry/units?sector="))
    assert len(names(first)) == 2 and "第 1 页" in visible_text(first)
    second = soup(await office.get(first.find("a", string="下一页")["href"]))
    assert len(names(second)) == 1 and second.find("a", string="下一页") is None
    assert "page=1" in second.find("a", string="上一页")["href"]
    assert sorted(names(first) + names(second)) == sorted(
        ["蓟州区安泰保安服务有限公司", "蓟州区第一中学", "蓟州区绿园物业服务有限公司"])
    # Filters are kept across pages.
    page = soup(await office.get(f"/registry/units?township={world.townships.yuyang.id}"))
    assert len(names(page)) == 2 and "（共 2 个单位）" in visible_text(page) and page.find("a", string="下一页") is None
    monkeypatch.setattr(service, "PAGE_SIZE", 1)
    first = soup(await office.get(f"/registry/units?township={world.townships.yuyang.id}"))
    assert f"township={world.townships.yuyang.id}" in first.find("a", string="下一页")["href"]
    sites = soup(await office.get("/registry/sites"))
    assert names(sites) == ["第一中学校门"]
    following = soup(await office.get(sites.find("a", string="下一页")["href"]))
    assert names(following) == ["绿园小区"] and "第 2 页" in visible_text(following)
    assert "第 5 页没有服务目标" in visible_text(soup(await office.get("/registry/sites?page=5")))
