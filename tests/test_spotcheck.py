"""双随机、一公开: the draw is a pure function of (seed, pool, officers, exclusions), recorded so
it can be redone; the server draws the seed (nobody picks it) and previews are logged; the office
UI shows every seed; the CLI prints the same draw for the same seed and data; officers get their
tasks; the published results hold no personal data, live at an unguessable address and name a
unit only once its inspection is submitted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from server.models.audit import AuditEntry
from server.rectification import rules, spotcheck
from server.models.rectification import SpotCheckDraw, SpotCheckTarget
from server.models.inspections import Inspection
from tests.support.flow import answer_all, new_id, start
from tests.support.html import errors, soup, visible_text
from tests.test_review import decide

ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------- the pure draw

def test_the_same_seed_gives_the_same_draw_whatever_the_input_order():
    pool, officers = list(range(1, 41)), [7, 8, 9]
    first = rules.draw("2021-01-15-办公室", pool, officers, 6, {})
    assert first == rules.draw("2021-01-15-办公室", list(reversed(pool)), [9, 7, 8, 8], 6, {})
    assert len({a.unit_id for a in first}) == 6 and {a.unit_id for a in first} <= set(pool)
    assert first != rules.draw("another seed", pool, officers, 6, {})
    # The work is spread: 6 units over 3 officers is 2 each.
    assert sorted(sum(1 for a in first if a.officer_id == o) for o in officers) == [2, 2, 2]
    # Asking for more than the pool takes the whole pool.
    assert {a.unit_id for a in rules.draw("s", [3, 1, 2], officers, 10, {})} == {1, 2, 3}


def test_the_draw_never_assigns_an_excluded_officer():
    pool, officers = list(range(1, 21)), [1, 2, 3]
    exclusions = {u: [1 + u % 3] for u in pool}  # every unit excludes one officer
    exclusions[5] = [1, 2]  # and unit 5 two of them
    for seed in range(200):
        for a in rules.draw(str(seed), pool, officers, 8, exclusions):
            assert a.officer_id not in exclusions[a.unit_id], (seed, a)
    # JSON round trip: keys come back as strings.
    assert rules.draw("x", pool, officers, 8, {str(k): v for k, v in exclusions.items()}) == \
        rules.draw("x", pool, officers, 8, exclusions)


def test_draw_errors_are_for_the_user():
    with pytest.raises(rules.DrawError, match="抽取范围内没有单位"):
        rules.draw("s", [], [1], 1, {})
    with pytest.raises(rules.DrawError, match="没有可派的检查人员"):
        rules.draw("s", [1], [], 1, {})
    with pytest.raises(rules.DrawError, match="至少为 1"):
        rules.draw("s", [1], [1], 0, {})
    with pytest.raises(rules.DrawError) as info:
        rules.draw("s", [1], [1, 2], 1, {1: [1, 2]})
    assert info.value.unit_id == 1


# ---------------------------------------------------------------- through the office's pages

async def inspected_school(client_factory, world) -> str:
    """officer inspects the school in this campaign: officer must not spot-check it."""
    c = await client_factory("officer")
    key = await start(c, world.sites.school.id)
    await answer_all(c, key)
    assert (await c.post(f"/inspections/{key}/submit")).status_code == 303
    return key


async def test_office_draws_with_exclusions_and_every_draw_can_be_redone(client_factory, world):
    await inspected_school(client_factory, world)
    office = await client_factory("office")
    school_only = {"township": str(world.townships.yuyang.id), "kind": "using_unit", "rule": "inspected"}

    # Preview: an illustrative draw (officer, who inspected, is excluded), no seed to reuse, logged.
    r = await office.post("/spotchecks", data={**school_only, "n": "1", "save": "0"})
    preview = visible_text(soup(r).select_one("#preview"))
    assert r.status_code == 200 and "蓟州区第一中学 → 李警官" in preview
    assert not soup(r).select("#preview code.seed")  # no seed shown that could be reused
    assert "仅为示意" in preview and "另行生成随机种子" in preview
    assert await SpotCheckDraw.count() == 0
    logged = await AuditEntry.objects().where(AuditEntry.action == "preview").first()
    assert logged is not None and logged.actor == world.users.office.id
    # Drawing: a seed sent with the form (a hand-picked one) is not used; the server draws one.
    for _ in range(5):
        r = await office.post("/spotchecks", data={**school_only, "n": "1", "seed": "s1", "save": "1"})
        assert r.status_code == 303, r.text
    targets = await SpotCheckTarget.select(SpotCheckTarget.officer, SpotCheckTarget.unit)
    assert {t["officer"] for t in targets} == {world.users.officer2.id}
    assert {t["unit"] for t in targets} == {world.units.school.id}
    seeds = [d["seed"] for d in await SpotCheckDraw.select(SpotCheckDraw.seed).order_by(SpotCheckDraw.id)]
    assert "s1" not in seeds and len(set(seeds)) == 5 and all(len(x) == 16 for x in seeds)

    draw = await SpotCheckDraw.objects().order_by(SpotCheckDraw.id).first()
    assert draw.n == 1
    page = soup(await office.get(f"/spotchecks/{draw.id}"))
    text = visible_text(page)
    assert f"随机种子 {draw.seed}" in text and "复核一致" in text and "本专项行动中检查过该单位的民警" in text
    assert "（1 对）" in text
    listing = soup(await office.get("/spotchecks"))
    assert [visible_text(c) for c in listing.select("#draws code.seed")] == seeds[::-1]

    # Without exclusions the inspecting officer may be drawn too.
    r = await office.post("/spotchecks", data={**school_only, "rule": "none", "n": "1", "save": "1"})
    assert r.status_code == 303

    # Tampering with a recorded target is caught by redoing the draw.
    await SpotCheckTarget.update({SpotCheckTarget.officer: world.users.officer.id}).where(
        SpotCheckTarget.draw == draw.id)
    assert "复核不一致" in visible_text(soup(await office.get(f"/spotchecks/{draw.id}")))

    # Leaders read the draws; only the office draws.
    leader = await client_factory("leader")
    assert (await leader.get(f"/spotchecks/{draw.id}")).status_code == 200
    assert (await leader.post("/spotchecks", data={**school_only, "n": "1", "save": "1"})).status_code == 403


async def test_draw_refuses_bad_input(client_factory, world):
    await inspected_school(client_factory, world)
    office = await client_factory("office")
    r = await office.post("/spotchecks", data={"n": "0", "rule": "inspected"})
    assert r.status_code == 422 and errors(r) == ["抽取数量须在 1–500 之间"]
    r = await office.post("/spotchecks", data={"n": "", "rule": "inspected"})
    assert r.status_code == 422 and errors(r) == ["请填写抽取数量"]
    r = await office.post("/spotchecks", data={"n": "2", "rule": "inspected", "kind": "illegal_org"})
    assert r.status_code == 422 and errors(r) == ["抽取范围内没有单位，请放宽筛选条件"]
    r = await office.post("/spotchecks", data={"n": "2", "rule": "inspected", "kind": "bogus"})
    assert r.status_code == 422 and errors(r) == ["单位类型的取值无效"]
    # Only officer is left on the roster and officer must not check the school.
    from server.models.auth import User

    await User.update({User.active: False}).where(User.username == "officer2")
    r = await office.post("/spotchecks", data={"n": "1", "rule": "inspected", "kind": "using_unit", "save": "1"})
    assert r.status_code == 422
    assert errors(r) == ["抽中的单位“蓟州区第一中学”没有可派的检查人员（名单中的民警均须回避），请调整回避规则或抽取范围"]
    assert await SpotCheckDraw.count() == 0


def _cli(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "server", "spotcheck", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


async def test_cli_prints_the_same_draw_for_the_same_seed_and_matches_the_office(client_factory, world, service_env):
    await inspected_school(client_factory, world)
    office = await client_factory("office")
    r = await office.post("/spotchecks", data={"n": "2", "rule": "inspected", "save": "1"})
    assert r.status_code == 303
    draw = await SpotCheckDraw.objects().first()

    first = _cli(service_env, "draw", "--n", "2", "--seed", draw.seed)
    second = _cli(service_env, "draw", "--n", "2", "--seed", draw.seed)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    lines = first.stdout.splitlines()
    assert lines[0] == f"双随机抽查  种子={draw.seed}  抽取=2"
    assert f"2 家: {world.units.school.id},{world.units.estate_co.id}" in lines[1]  # units with a site
    recorded = [(t["unit"], t["officer"]) for t in await SpotCheckTarget.select(
        SpotCheckTarget.unit, SpotCheckTarget.officer).where(SpotCheckTarget.draw == draw.id).order_by(SpotCheckTarget.id)]
    printed = [line.split(". ", 1)[1] for line in lines if line[:1].isdigit()]
    assert [(int(p.split()[0][3:]), int(p.split("-> 民警#")[1].split()[0])) for p in printed] == recorded
    assert all(o != world.users.officer.id or u != world.units.school.id for u, o in recorded)

    other = _cli(service_env, "draw", "--n", "2", "--seed", "x", "--township", "官庄镇")
    assert other.returncode == 0 and "1 家" in other.stdout.splitlines()[1]
    bad = _cli(service_env, "draw", "--n", "1", "--seed", "x", "--township", "不存在镇")
    assert bad.returncode == 1 and "乡镇街不存在: 不存在镇" in bad.stderr

    # Recording from the command line: the server draws the seed; a chosen one is refused.
    chosen = _cli(service_env, "draw", "--n", "1", "--seed", "mine", "--save", "--by", "office")
    assert chosen.returncode == 2 and "随机种子由系统生成" in chosen.stderr
    assert _cli(service_env, "draw", "--n", "1").returncode == 2
    saved = _cli(service_env, "draw", "--n", "1", "--save", "--by", "office")
    assert saved.returncode == 0, saved.stderr
    recorded_seed = (await SpotCheckDraw.objects().order_by(SpotCheckDraw.id, ascending=False).first()).seed
    assert saved.stdout.splitlines()[0] == f"双随机抽查  种子={recorded_seed}  抽取=1"
    assert "已记录为抽查 #" in saved.stdout

    ok = _cli(service_env, "verify", "--draw", str(draw.id))
    assert ok.returncode == 0 and f"抽查 #{draw.id}: 复核一致" in ok.stdout
    await SpotCheckTarget.update({SpotCheckTarget.officer: world.users.officer.id}).where(SpotCheckTarget.draw == draw.id)
    tampered = _cli(service_env, "verify", "--draw", str(draw.id))
    assert tampered.returncode == 1 and "复核不一致" in tampered.stderr


async def test_officer_does_the_task_and_results_are_published_without_personal_data(client_factory, world, client,
                                                                                    settings):
    office = await client_factory("office")
    r = await office.post("/spotchecks", data={"n": "1", "rule": "none", "kind": "property_company",
                                               "save": "1"})
    assert r.status_code == 303
    draw = await SpotCheckDraw.objects().first()
    target = await SpotCheckTarget.objects().first()
    assert target.unit == world.units.estate_co.id
    username = "officer" if target.officer == world.users.officer.id else "officer2"
    officer = await client_factory(username)

    public_url = f"/public/spotchecks/{spotcheck.public_key(settings.secret_key, draw.id)}"
    assert public_url in (await office.get(f"/spotchecks/{draw.id}")).text  # linked from the draw page
    public = soup(await client.get(public_url))  # no login
    # Before the inspection is submitted the unit is not named: it must not learn it was drawn.
    assert public.select("tbody tr") == []
    assert "另有 1 家单位的检查尚未提交，提交后公开" in visible_text(public)
    assert "绿园" not in visible_text(public)

    tasks = soup(await officer.get("/rectification/due")).select_one("#spot-tasks")
    assert "蓟州区绿园物业服务有限公司" in visible_text(tasks)
    r = await officer.post(f"/spotchecks/targets/{target.id}/start", data={"uuid": new_id()})
    assert r.status_code == 303
    key = r.headers["location"].rsplit("/", 1)[1]
    insp = await Inspection.objects().where(Inspection.uuid == key).first()
    assert insp.kind == "spot_check" and insp.site == world.sites.estate.id
    other = await client_factory("officer2" if username == "officer" else "officer")
    assert (await other.post(f"/spotchecks/targets/{target.id}/start", data={"uuid": new_id()})).status_code == 404

    await answer_all(officer, key, violations={5: "未备案"})
    assert (await officer.post(f"/inspections/{key}/submit")).status_code == 303
    rows = [visible_text(tr) for tr in soup(await client.get(public_url)).select("tbody tr")]
    assert rows[0].startswith("蓟州区绿园物业服务有限公司 已检查，结果审核中")
    finding = await _finding(key)
    await decide(office, key, "findings", finding, "confirm")
    await office.post(f"/office/inspections/{key}/finish", data={"note": ""})
    public = soup(await client.get(public_url))
    row = visible_text(public.select_one("tbody tr"))
    assert row.startswith("蓟州区绿园物业服务有限公司 发现违法违规问题 ")
    text = visible_text(public)
    for personal in ("王警官", "李警官", "张主任", "officer", "赵敏"):
        assert personal not in text
    assert "不公开检查人员姓名及任何个人信息" in text
    assert f"随机种子 {draw.seed}" in text
    # The address cannot be guessed by counting or altered.
    for guess in (f"/public/spotchecks/{draw.id}", "/public/spotchecks/999", public_url[:-1] + "0",
                  f"/public/spotchecks/{draw.id + 1}-{public_url.rsplit('-', 1)[1]}"):
        if guess != public_url:
            assert (await client.get(guess)).status_code == 404, guess


async def test_a_target_cannot_take_over_another_sites_inspection(client_factory, world):
    office = await client_factory("office")
    r = await office.post("/spotchecks", data={"n": "1", "rule": "none", "kind": "property_company", "save": "1"})
    assert r.status_code == 303
    target = await SpotCheckTarget.objects().first()
    username = "officer" if target.officer == world.users.officer.id else "officer2"
    officer = await client_factory(username)
    school_key = await start(officer, world.sites.school.id)  # a routine inspection at the school
    r = await officer.post(f"/spotchecks/targets/{target.id}/start", data={"uuid": school_key})
    assert r.status_code == 409 and "编号冲突" in visible_text(soup(r))
    assert (await SpotCheckTarget.objects().first()).inspection is None
    # A fresh id works, and a replay of it finds the same inspection.
    key = new_id()
    for _ in range(2):
        r = await officer.post(f"/spotchecks/targets/{target.id}/start", data={"uuid": key})
        assert r.status_code == 303 and r.headers["location"] == f"/inspections/{key}"


async def _finding(key: str) -> int:
    from server.models.inspections import Finding

    return (await Finding.objects().where(Finding.inspection.uuid == key).first()).id
