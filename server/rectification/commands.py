"""`python -m server spotcheck ...` (registered in server/cli.py): the 双随机 draw from the
command line, so anyone can reproduce and audit a draw.

    python -m server spotcheck draw --n N --seed S [--township NAME] [--kind K] [--sector S]
                                    [--rectified] [--exclusion inspected|none] [--save --by USERNAME]
    python -m server spotcheck verify --draw ID

`draw` prints the same result for the same seed and data; with --save it also records it
(as the office's page does). `verify` redoes a recorded draw from its record alone.
"""

from __future__ import annotations


import anyio
import click

from server.console import fail

from server.vocab import Sector, UnitKind


@click.group("spotcheck", help="双随机 spot checks: draw (reproducibly) and verify recorded draws.")
def spotcheck_group() -> None:
    pass


async def _draw(n: int, seed: str, township: str | None, kind: str, sector: str, rectified: bool,
                exclusion: str, save: bool, by: str | None) -> list[str]:
    from server.campaign.service import active_campaign
    from server.models.campaign import Township
    from server.rectification import rules, spotcheck
    from server.models.registry import Unit
    from server.models.auth import User

    campaign = await active_campaign()
    if campaign is None:
        fail("当前没有进行中的专项行动")
    township_id = None
    if township:
        t = await Township.select(Township.id).where(Township.name == township).first()
        if t is None:
            fail(f"乡镇街不存在: {township}")
        township_id = t["id"]
    f = spotcheck.PoolFilter(township_id, kind, sector, rectified)
    try:
        plan = await spotcheck.plan(campaign, n, seed, f, exclusion)
    except rules.DrawError as exc:
        fail(str(exc))
    units = {u["id"]: u["name"] for u in await Unit.select(Unit.id, Unit.name).where(Unit.id.is_in(plan.pool or [0]))}
    officers = {u["id"]: u["username"] for u in await User.select(User.id, User.username).where(
        User.id.is_in(plan.officers or [0]))}
    lines = [
        f"双随机抽查  种子={seed}  抽取={n}",
        f"抽取范围: {await spotcheck.describe_filter(f)}，{len(plan.pool)} 家: {','.join(map(str, plan.pool))}",
        f"检查民警: {len(plan.officers)} 名: {','.join(map(str, plan.officers))}",
        f"回避: {spotcheck.EXCLUSION_RULES[exclusion]}，"
        f"{sum(len(v) for v in plan.exclusions.values())} 对: "
        + (";".join(f"{u}:{','.join(map(str, os))}" for u, os in plan.exclusions.items()) or "无"),
    ]
    for i, a in enumerate(plan.assignments, start=1):
        lines.append(f"{i}. 单位#{a.unit_id} {units.get(a.unit_id, '')} -> 民警#{a.officer_id} {officers.get(a.officer_id, '')}")
    if save:
        user = await _office_user(by or "")
        if user is None:
            fail("--save 需要 --by 指定一个办公室账号")
        row = await spotcheck.make_draw(user, campaign, n, seed, f, exclusion)
        lines.append(f"已记录为抽查 #{row.id}")
    return lines


async def _office_user(username: str):
    """The office account recording a draw made on the command line, as a CurrentUser."""
    from server.auth.scope import CurrentUser
    from server.models.auth import User

    row = await User.select(User.id, User.username, User.display_name, User.role, User.active, User.body.id,
                            User.body.name).where(User.username == username).first()
    if row is None or row["role"] != "office" or not row["active"]:
        return None
    return CurrentUser(id=row["id"], username=row["username"], display_name=row["display_name"], role="office",
                       body_id=row["body.id"], body_name=row["body.name"] or "", body_scope="district",
                       body_sector=None, body_township_id=None, session_id=0)


@spotcheck_group.command("draw", help="Draw N units and their officers with seed S; same seed and data, same draw.")
@click.option("--n", "n", required=True, type=click.IntRange(1, 500), help="How many units to draw.")
@click.option("--seed", required=True, help="The random seed (any text).")
@click.option("--township", default=None, help="Pool: units of this township (乡镇街 name).")
@click.option("--kind", default="", type=click.Choice(["", *[k.value for k in UnitKind]]), help="Pool: unit kind.")
@click.option("--sector", default="", type=click.Choice(["", *[s.value for s in Sector]]), help="Pool: sector.")
@click.option("--rectified", is_flag=True, help="Pool: only units with an order reported rectified (or verified/closed).")
@click.option("--exclusion", default="inspected", type=click.Choice(["inspected", "none"]),
              help="inspected: an officer never spot-checks a unit they inspected in this campaign (default).")
@click.option("--save", is_flag=True, help="Also record the draw and assign the officers.")
@click.option("--by", default=None, help="With --save: the office account recording it.")
def draw_command(n, seed, township, kind, sector, rectified, exclusion, save, by) -> None:
    for line in anyio.run(_draw, n, seed, township, kind, sector, rectified, exclusion, save, by):
        click.echo(line)


@spotcheck_group.command("verify", help="Redo a recorded draw from its seed, pool, officers and exclusions.")
@click.option("--draw", "draw_id", required=True, type=int)
def verify_command(draw_id: int) -> None:
    from litestar.exceptions import NotFoundException

    from server.rectification import spotcheck

    try:
        same, again, recorded = anyio.run(spotcheck.verify, draw_id)
    except NotFoundException:
        fail(f"抽查记录不存在: #{draw_id}")
    for a, b in zip(recorded, again):
        mark = "==" if a == b else "!="
        click.echo(f"单位#{a.unit_id} 民警#{a.officer_id}  {mark}  单位#{b.unit_id} 民警#{b.officer_id}")
    if same:
        click.echo(f"抽查 #{draw_id}: 复核一致")
    else:
        fail(f"抽查 #{draw_id}: 复核不一致（记录 {len(recorded)} 条，重新抽取 {len(again)} 条）")
