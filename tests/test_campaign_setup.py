"""From an empty install to a running campaign: the campaign file (load/export round trips,
refused files), the office's set-up screens (townships, bodies, liaison accounts, the campaign
and its checklist wording), every change audited."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from server.campaign import transfer
from server.models.audit import AuditEntry
from server.models.auth import User
from server.models.campaign import Body, Campaign, Phase, ReportingDeadline, Township
from tests.conftest import login
from tests.support.html import errors, soup, visible_text
from tests.test_health_and_cli import cli

ROOT = Path(__file__).resolve().parents[1]
JIZHOU = ROOT / "deploy" / "jizhou-2020.toml"


# ---------------------------------------------------------------- the campaign file

async def test_jizhou_file_loads_into_an_empty_install_and_exports_to_the_same_bytes():
    text = JIZHOU.read_text(encoding="utf-8")
    counts = await transfer.load_text(text)
    assert counts == {"townships": 28, "bodies": 37, "campaign": 1, "phases": 4, "deadlines": 10,
                      "deadlines_removed": 0}
    assert await transfer.export_text() == text
    # loading twice changes nothing, and writes no audit entry
    entries = await AuditEntry.count()
    assert set((await transfer.load_text(text)).values()) == {0}
    assert await AuditEntry.count() == entries

    campaign = await Campaign.objects().first()
    assert (campaign.name, campaign.starts_on.isoformat(), campaign.ends_on.isoformat(), campaign.weekly_weekday) == (
        "蓟州区保安服务市场清理整顿专项行动", "2020-12-14", "2021-02-05", 4)
    phases = await Phase.select(Phase.name, Phase.starts_on).order_by(Phase.starts_on)
    assert [p["name"] for p in phases] == ["调查摸底", "自查整改", "集中整治", "总结提升"]
    due = {d["title"]: d["due_on"].isoformat() for d in await ReportingDeadline.select()}
    assert due["报送分管领导、联络员及联系电话"] == "2020-12-15" and due["报送专项行动总结"] == "2021-02-08"
    assert sorted(d for t, d in due.items() if "周报" in t) == [
        "2021-01-01", "2021-01-08", "2021-01-15", "2021-01-22", "2021-01-29", "2021-02-05"]
    towns = {t["name"] for t in await Township.select(Township.name)}
    from server.demo.seed import TOWNSHIPS  # the demo's nine are among them, with the same names

    assert set(TOWNSHIPS) <= towns and {"文昌街道", "孙各庄满族乡", "东赵各庄镇"} <= towns
    edu = await Body.objects().get(Body.name == "区教育局")
    assert (edu.scope, edu.sector) == ("sector", "school")
    police = await Body.objects().get(Body.name == "公安蓟州分局")
    assert police.is_police and police.scope == "district"


async def test_an_edited_file_updates_only_what_changed_with_audit_entries():
    await transfer.load_text(JIZHOU.read_text(encoding="utf-8"))
    text = (JIZHOU.read_text(encoding="utf-8")
            .replace('name = "区教育局"\nshort_name = "教育局"', 'name = "区教育局"\nshort_name = "教育局"\n'
                     'contact_name = "赵老师"\ncontact_phone = "022-29142233"')
            .replace("7 = 30", "7 = 20"))
    before = await AuditEntry.count()
    counts = await transfer.load_text(text)
    assert counts["bodies"] == 1 and counts["campaign"] == 1 and counts["townships"] == 0
    edu = await Body.objects().get(Body.name == "区教育局")
    assert (edu.contact_name, edu.contact_phone) == ("赵老师", "022-29142233")
    campaign = await Campaign.objects().first()
    assert json.loads(campaign.options)["rectify_days"]["7"] == 20
    assert await AuditEntry.count() == before + 2
    assert 'contact_name = "赵老师"' in await transfer.export_text()


@pytest.mark.parametrize("edit, expected", [
    (lambda t: t.replace("ends_on = 2020-12-25", "ends_on = 2020-12-01"), "phases[1].ends_on: 结束日期早于开始日期"),
    (lambda t: t.replace('scope = "sector"\nsector = "school"', 'scope = "sector"\nsector = "schools"'),
     "bodies[7].sector: 行业代码无效"),
    (lambda t: t.replace('township = "渔阳镇"', 'township = "鱼阳镇"'), "bodies[12].township: 乡镇街“鱼阳镇”不在 [[townships]] 中"),
    (lambda t: t.replace('due_on = 2020-12-21', 'due_on = "12月21日"'), "deadlines[2].due_on: 应为日期"),
    (lambda t: t.replace('weekly_weekday = 4', 'weekly_weekday = 7'), "campaign.weekly_weekday: 应为 0–6 的整数"),
    (lambda t: t.replace('name = "调查摸底"', 'nmae = "调查摸底"'), "phases[1].nmae: 未知字段"),
    (lambda t: t.replace('count_on = "found"', 'count_on = "reviewed"'),
     'campaign.count_on: 应为 "found"（按发现日期）或 "confirmed"（按审核确认日期）'),
    (lambda t: t.replace('starts_on = 2020-12-14\nends_on = 2021-02-05', 'starts_on = 2020-12-14\nends_on = 2021-02-5'),
     "文件格式: 不是有效的 TOML"),
])
async def test_a_wrong_file_names_line_and_field_and_writes_nothing(edit, expected):
    text = edit(JIZHOU.read_text(encoding="utf-8"))
    with pytest.raises(transfer.TransferError) as caught:
        await transfer.load_text(text)
    messages = [transfer.format_problem(p) for p in caught.value.problems]
    assert any(expected in m for m in messages), messages
    line = caught.value.problems[0][0]
    assert line > 0 and messages[0].startswith(f"第{line}行")
    # the named line is where the mistake is
    key = caught.value.problems[0][1].split(".")[-1]
    if "文件格式" not in expected:
        assert text.splitlines()[line - 1].startswith(key)
    assert await Township.count() == 0 and await Campaign.count() == 0 and await AuditEntry.count() == 0


async def test_cli_load_and_export_round_trip(service_env, tmp_path):
    done = cli(service_env, "campaign", "load", str(JIZHOU))
    assert done.returncode == 0, done.stderr
    assert "townships 28" in done.stdout and "bodies 37" in done.stdout
    again = cli(service_env, "campaign", "load", str(JIZHOU))
    assert again.returncode == 0 and "nothing to change" in again.stdout
    out = tmp_path / "out.toml"
    assert cli(service_env, "campaign", "export", str(out)).returncode == 0
    assert out.read_text(encoding="utf-8") == JIZHOU.read_text(encoding="utf-8")

    bad = tmp_path / "bad.toml"
    bad.write_text(JIZHOU.read_text(encoding="utf-8").replace('name = "集中整治"', 'name = ""'), encoding="utf-8")
    done = cli(service_env, "campaign", "load", str(bad))
    assert done.returncode == 1 and "phases[3].name: 不能为空" in done.stderr and "未写入任何内容" in done.stderr
    assert cli(service_env, "campaign", "load", str(tmp_path / "missing.toml")).returncode == 2


# ---------------------------------------------------------------- the set-up screens

async def test_office_sets_up_a_district_from_nothing(client_factory, password_hash):
    """A new install: one office account (made by the CLI), no campaign, no township, no body."""
    police = Body(name="公安某某分局", scope="district", is_police=True)
    await police.save()
    await User(username="admin", password_hash=password_hash, role="office", body=police.id).save()
    office = await client_factory("admin")

    r = await office.get("/campaign")
    assert r.status_code == 303 and r.headers["location"] == "/campaign/new"
    page = soup(await office.get("/campaign/new"))
    assert "还没有乡镇街" in visible_text(page)

    r = await office.post("/campaign/townships", data={"name": "", "active": "on"})
    assert r.status_code == 422 and errors(r) == ["请填写乡镇街名称"]
    for name in ("城关街道", "北山镇"):
        assert (await office.post("/campaign/townships", data={"name": name, "active": "on"})).status_code == 303
    r = await office.post("/campaign/townships", data={"name": "北山镇", "active": "on"})
    assert r.status_code == 422 and errors(r) == ["已有名为“北山镇”的乡镇街"]
    beishan = await Township.objects().get(Township.name == "北山镇")

    r = await office.post("/campaign/bodies", data={"name": "北山镇", "scope": "township", "township": "",
                                                    "active": "on"})
    assert r.status_code == 422 and errors(r) == ["乡镇街填报单位须选择乡镇街"]
    assert soup(r).select_one("input[name=name]")["value"] == "北山镇"  # what was typed stays
    r = await office.post("/campaign/bodies", data={"name": "北山镇", "scope": "township", "township": str(beishan.id),
                                                    "contact_name": "钱联络员", "contact_phone": "13800001111",
                                                    "active": "on"})
    assert r.status_code == 303
    town_body = await Body.objects().get(Body.name == "北山镇")
    assert r.headers["location"] == f"/campaign/bodies/{town_body.id}"
    assert (town_body.township, town_body.contact_phone) == (beishan.id, "13800001111")
    listing = visible_text(soup(await office.get("/campaign/bodies")))
    assert "北山镇 乡镇街 · 北山镇 钱联络员 13800001111 0 启用" in listing

    # a liaison account for the body, from its page; it logs in and sees its own body
    url = f"/campaign/bodies/{town_body.id}/accounts"
    r = await office.post(url, data={"username": "beishan", "display_name": "钱联络员", "password": "short",
                                     "role": "liaison"})
    assert r.status_code == 422 and errors(r) == ["密码至少 8 位"]
    r = await office.post(url, data={"username": "beishan2", "display_name": "钱联络员", "password": "longenough1",
                                     "role": "office"})
    assert r.status_code == 422 and "只有公安机关" in errors(r)[0]
    r = await office.post(url, data={"username": "beishan", "display_name": "钱联络员", "password": "longenough1",
                                     "role": "liaison"})
    assert r.status_code == 303
    liaison = await client_factory()
    assert (await login(liaison, "beishan", "longenough1")).status_code == 303
    assert "钱联络员" in visible_text(soup(await liaison.get("/")))

    # reset the password: the old one stops working, the session ends
    account = await User.objects().get(User.username == "beishan")
    r = await office.post(f"{url}/{account.id}/password", data={"password": "newpassword2"})
    assert r.status_code == 303
    assert (await liaison.get("/")).status_code in (303, 401)
    assert (await login(await client_factory(), "beishan", "longenough1")).status_code != 303
    again = await client_factory()
    assert (await login(again, "beishan", "newpassword2")).status_code == 303
    # deactivate: logged out and refused
    r = await office.post(f"{url}/{account.id}/active", data={"active": "0"})
    assert r.status_code == 303
    assert (await again.get("/")).status_code in (303, 401)
    assert (await login(await client_factory(), "beishan", "newpassword2")).status_code != 303
    page = visible_text(soup(await office.get(f"/campaign/bodies/{town_body.id}")))
    assert "beishan 钱联络员 · 联络员 · 已停用" in page

    # retire the township (a body points to it): kept, marked, not offered for a new body
    r = await office.post(f"/campaign/townships/{beishan.id}", data={"name": "北山镇", "ordinal": "2"})
    assert r.status_code == 303 and not (await Township.objects().get(Township.id == beishan.id)).active
    new_body_form = soup(await office.get("/campaign/bodies")).select_one("form[aria-label=增加填报单位]")
    assert "北山镇" not in [o.text for o in new_body_form.select("select[name=township] option")]

    # the campaign itself
    r = await office.post("/campaign/new", data={"name": "某区保安服务市场清理整顿专项行动", "district": "某区",
                                                 "starts_on": "2021-03-01", "ends_on": "2021-02-01",
                                                 "weekly_weekday": "4"})
    assert r.status_code == 422 and errors(r) == ["结束日期不能早于开始日期"]
    r = await office.post("/campaign/new", data={"name": "某区保安服务市场清理整顿专项行动", "district": "某区",
                                                 "starts_on": "2021-03-01", "ends_on": "2021-05-31",
                                                 "weekly_weekday": "4", "weekly_from": "2021-03-05"})
    assert r.status_code == 303 and r.headers["location"] == "/campaign"
    page = soup(await office.get("/campaign"))
    assert "某区保安服务市场清理整顿专项行动 · 2021-03-01 至 2021-05-31" in visible_text(page)
    assert (await office.post("/campaign/phases", data={"name": "调查摸底", "starts_on": "2021-03-01",
                                                        "ends_on": "2021-03-20"})).status_code == 303

    # the checklist's wording, per campaign
    data = {**{f"title{a}": f"第{a}项" for a in range(1, 9)}, **{f"question{a}": f"内容{a}" for a in range(1, 9)}}
    r = await office.post("/campaign/checklist", data={**data, "title3": ""})
    assert r.status_code == 422 and errors(r) == ["请填写第3项名称"]
    r = await office.post("/campaign/checklist", data={**data, "title3": "岗前和在岗培训"})
    assert r.status_code == 303
    page = soup(await office.get("/campaign"))
    assert page.select_one("input[name=title3]")["value"] == "岗前和在岗培训"

    # every change has its audit entry
    tables = {r["table_name"] for r in await AuditEntry.select(AuditEntry.table_name)}
    assert {"township", "body", "app_user", "campaign", "phase"} <= tables
    actions = [r["action"] for r in await AuditEntry.select(AuditEntry.action).where(AuditEntry.table_name == "app_user")]
    assert actions == ["create", "set_password", "disable"]

    # and the install exports what was set up
    text = await transfer.export_text()
    assert 'name = "北山镇"\nactive = false' in text and 'title = "岗前和在岗培训"' in text


async def test_the_count_date_is_set_on_the_screen_and_in_the_file_and_moves_a_case_between_reports(
        client_factory, world):
    """统计日期: a case found on Thursday 2020-12-24 and confirmed on Monday 12-28 is in Friday
    12-25's table when counting by the day found (the default), and only from 12-28 when
    counting by the day confirmed; the choice is made on /campaign, audited, and carried by the
    campaign file both ways."""
    from server.models.inspections import Inspection
    from tests.test_ledger import add_finding, at

    f = await add_finding(world, world.units.school, world.sites.school, 15, reviewed_at=at(2020, 12, 28))
    await Inspection.update({Inspection.started_at: at(2020, 12, 24, 16)}).where(Inspection.id == f.inspection)
    office = await client_factory("office")

    async def district_col15(day: str) -> str:
        page = soup(await office.get(f"/stats?as_of={day}"))
        return visible_text(page.select_one("tr[data-row=district] td[data-col='15']"))

    def chosen(page) -> tuple[str, list[str]]:
        form = page.select_one("form[aria-label=统计口径]")
        return (form.select_one("input[name=count_on][checked]")["value"],
                [visible_text(label) for label in form.select("label")])

    assert chosen(soup(await office.get("/campaign"))) == ("found", ["按发现日期（默认）", "按审核确认日期"])
    assert (await district_col15("2020-12-25"), await district_col15("2020-12-28")) == ("1", "1")

    # refused: nothing chosen, a value the screen does not offer
    r = await office.post("/campaign/counting", data={})
    assert r.status_code == 422 and errors(r) == ["请选择统计日期"]
    r = await office.post("/campaign/counting", data={"count_on": "reviewed"})
    assert r.status_code == 422 and errors(r) == ["统计日期的取值无效"]
    entries = await AuditEntry.count()
    assert (await office.post("/campaign/counting", data={"count_on": "confirmed"})).status_code == 303
    entry = await AuditEntry.objects().order_by(AuditEntry.id, ascending=False).first()
    assert (entry.action, entry.table_name, await AuditEntry.count()) == ("update_options", "campaign", entries + 1)
    after = entry.after if isinstance(entry.after, dict) else json.loads(entry.after)
    assert after["options"]["count_on"] == "confirmed"
    page = soup(await office.get("/campaign"))
    assert chosen(page)[0] == "confirmed"
    assert (await district_col15("2020-12-25"), await district_col15("2020-12-28")) == ("0", "1")
    stats = soup(await office.get("/stats?as_of=2020-12-28"))
    assert "按办公室审核确认之日计入当期" in visible_text(stats.select_one("#stat-notes"))
    # saving the same choice again writes nothing
    assert (await office.post("/campaign/counting", data={"count_on": "confirmed"})).status_code == 303
    assert await AuditEntry.count() == entries + 1

    # the campaign file carries it: exported, edited back to the default, loaded
    text = await transfer.export_text()
    assert text.count('count_on = "confirmed"') == 1
    counts = await transfer.load_text(text.replace('count_on = "confirmed"', 'count_on = "found"'))
    assert counts["campaign"] == 1
    assert chosen(soup(await office.get("/campaign")))[0] == "found"
    assert (await district_col15("2020-12-25"), await district_col15("2020-12-28")) == ("1", "1")
    assert 'count_on = "found"' in await transfer.export_text()
    # a file that does not name it counts by the day found
    assert (await transfer.load_text(text.replace('count_on = "confirmed"\n', ""))).get("campaign") == 0


async def test_setup_screens_are_the_office_s(client_factory, world):
    for username in ("officer", "leader", "liaison_edu"):
        c = await client_factory(username)
        assert (await c.get("/campaign/bodies")).status_code == 403
        assert (await c.post("/campaign/townships", data={"name": "x"})).status_code == 403


async def test_the_campaign_s_checklist_wording_reaches_the_officer_s_phone(client_factory, world):
    from server.forms import new_uuid
    from tests.test_inspection_flow import start

    office = await client_factory("office")
    data = {**{f"title{a}": a_title for a, a_title in zip(range(1, 9), ["持证上岗", "着装", "培训", "无证经营",
                                                                        "备案", "对外服务", "内部管理", "其他"])},
            **{f"question{a}": f"检查内容{a}" for a in range(1, 9)}}
    assert (await office.post("/campaign/checklist", data=data)).status_code == 303
    officer = await client_factory("officer")
    key = new_uuid()
    await start(officer, world.sites.school.id, key)
    page = soup(await officer.get(f"/inspections/{key}"))
    legends = [visible_text(f.select_one("legend")) for f in page.select("form.area")]
    assert legends[0] == "1 持证上岗" and legends[7] == "8 其他"
    assert visible_text(page.select_one("#area-3 .question")) == "检查内容3"


async def test_retired_townships_and_bodies_are_not_offered_for_anything_new(client_factory, world):
    """Retired (停用), never deleted: records that point to them keep showing them; nothing new
    may choose them."""
    from server.models.registry import Unit

    await Township.update({Township.active: False}).where(Township.id == world.townships.yuyang.id)
    await Body.update({Body.active: False}).where(Body.id == world.bodies.edu.id)
    office = await client_factory("office")

    def township_options(page) -> list[str]:
        return [visible_text(o) for o in page.select("select[name=township] option") if o.get("value")]

    # a new unit or site: only the active townships
    assert township_options(soup(await office.get("/registry/units/new"))) == ["官庄镇"]
    assert township_options(soup(await office.get("/registry/sites/new"))) == ["官庄镇"]
    r = await office.post("/registry/units", data={"name": "新单位", "kind": "using_unit", "sector": "school",
                                                  "township": str(world.townships.yuyang.id)})
    assert r.status_code == 422 and await Unit.count().where(Unit.name == "新单位") == 0
    # an existing unit in the retired township keeps it, and may be saved with it
    school = world.units.school
    page = soup(await office.get(f"/registry/units/{school.id}/edit"))
    assert township_options(page) == ["渔阳镇", "官庄镇"]
    assert page.select_one("select[name=township] option[selected]")["value"] == str(world.townships.yuyang.id)
    data = {i["name"]: i.get("value", "") for i in page.select("form input[name]") if i.get("type") != "checkbox"}
    data.update({s["name"]: (s.select_one("option[selected]") or {"value": ""})["value"] for s in page.select("form select")})
    from server.registry.ids import uscc_check_char

    data.update(address="渔阳镇新址", uscc="91120225MA05TQ8R3" + uscc_check_char("91120225MA05TQ8R3"))
    r = await office.post(f"/registry/units/{school.id}", data=data)
    assert r.status_code == 303, errors(r)
    assert (await Unit.objects().get(Unit.id == school.id)).township == world.townships.yuyang.id
    assert township_options(soup(await office.get(f"/registry/sites/{world.sites.school.id}/edit"))) == ["渔阳镇", "官庄镇"]
    # the lists' filters still find records by a retired township
    assert "渔阳镇" in township_options(soup(await office.get("/registry/units")))

    # a retired body: no new deadline for it, not in the office's list of what is due
    settings = soup(await office.get("/campaign"))
    offered = [visible_text(o) for o in settings.select("#deadlines select[name=body] option")]
    assert "区教育局" not in offered and "官庄镇" in offered
    r = await office.post("/campaign/deadlines", data={"title": "报送方案", "due_on": "2030-01-01",
                                                       "body": str(world.bodies.edu.id)})
    assert r.status_code == 422 and errors(r) == ["所选填报单位已停用"]
    due = [visible_text(h) for h in soup(await office.get("/campaign/due")).select("section.body-due h2")]
    assert "区教育局" not in due and "官庄镇" in due
