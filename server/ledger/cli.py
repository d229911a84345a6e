"""`python -m server ledger ...`: the statistics table and the ledger exports from the
command line (registered in server/cli.py).

    python -m server ledger stats [--body NAME] [--as-of YYYY-MM-DD] --xlsx OUT.xlsx
    python -m server ledger export units|guards|findings [--body NAME] --xlsx OUT.xlsx
    python -m server ledger tally [--rebuild]
"""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
import click

from server.console import fail

from server import clock


async def _campaign_and_body(body_name: str | None):
    from server.ledger import service

    campaign = await service.active_campaign()
    if campaign is None:
        fail("当前没有进行中的专项行动")
    bodies = await service.all_bodies()
    if body_name is None:
        return campaign, bodies, None
    body = next((b for b in bodies if b["name"] == body_name), None)
    if body is None:
        fail(f"填报单位不存在: {body_name}（可选: {'、'.join(b['name'] for b in bodies)}）")
    return campaign, bodies, body


@click.group(help="The statistics table (统计表) and the ledger (台账) exports.")
def ledger() -> None:
    pass


@ledger.command("stats", help="Write the statistics table as xlsx: one body's, or the district's (every body and the total).")
@click.option("--body", "body_name", default=None, help="Reporting body (填报单位) name; default: the whole district.")
@click.option("--as-of", "as_of", default=None, help="Count as of the end of this day, YYYY-MM-DD (default: today).")
@click.option("--xlsx", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Output file.")
def stats(body_name: str | None, as_of: str | None, out: Path) -> None:
    from server.ledger import service, weekly, xlsx

    day = clock.today()
    if as_of:
        day = weekly.parse_day(as_of)
        if day is None:
            fail(f"日期格式不正确: {as_of}（应为 YYYY-MM-DD）")

    async def build():
        campaign, bodies, body = await _campaign_and_body(body_name)
        target = str(body["id"]) if body else service.DISTRICT
        return await service.build_table(campaign, bodies, target, day)

    table = anyio.run(build)
    out.write_bytes(xlsx.write_workbook([xlsx.stats_layout(
        table.title, table.body_line, service.date_line(day), table.labelled_rows, body_column=table.district,
        notes=table.notes)]))
    total = table.rows[-1]
    click.echo(f"{table.title} · {table.body_line} · 截至 {day.isoformat()}")
    click.echo("  " + " ".join(f"{c}:{v}" for c, v in total[2].values().items()))
    click.echo(f"wrote {out} ({len(table.rows)} row{'s' if len(table.rows) != 1 else ''})")


@ledger.command("export", help="Export a ledger (units, guards or findings) as xlsx, streamed, with a progress bar.")
@click.argument("kind", type=click.Choice(["units", "guards", "findings"]))
@click.option("--body", "body_name", default=None, help="Only this reporting body's scope.")
@click.option("--xlsx", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Output file.")
def export(kind: str, body_name: str | None, out: Path) -> None:
    from server.auth.scope import Scope
    from server.ledger import exports, service
    from server.vocab import BodyScope

    async def run() -> int:
        campaign, _, body = await _campaign_and_body(body_name)
        scope = service.body_scope(body) if body else Scope(BodyScope.district, None, None)
        filters = service.LedgerFilters()
        total = await service.ledger_total(kind, scope, filters, campaign.id)
        with click.progressbar(length=total, label=f"{exports.SPECS[kind].label}", file=sys.stderr,
                               show_pos=True) as bar:
            seen = 0

            def step(done: int) -> None:
                nonlocal seen
                bar.update(done - seen)
                seen = done

            return await exports.build_file(out, kind, scope, filters, campaign, clock.today(), step)

    rows = anyio.run(run)
    click.echo(f"wrote {out} ({rows} rows)")


@ledger.command("tally", help="Check the statistics tallies (kept by the database) against their records; "
                              "exit 1 when one differs. --rebuild makes them again from the records.")
@click.option("--rebuild", is_flag=True, help="Make every tally again from its records (after a bulk load "
                                               "with the triggers off).")
def tally_command(rebuild: bool) -> None:
    from server.ledger import tally

    async def run() -> list[tuple[str, int]]:
        if rebuild:
            return [(t.table, await tally.rebuild(t)) for t in tally.TALLIES]
        return [(t.table, len(await tally.differences(t))) for t in tally.TALLIES]

    wrong = 0
    for table, n in anyio.run(run):
        if rebuild:
            click.echo(f"{table}: 已重建，{n} 组")
        else:
            click.echo(f"{table}: {'与记录一致' if n == 0 else f'{n} 组与记录不一致'}")
            wrong += n
    if wrong:
        fail("统计汇总与记录不一致：请运行 python -m server ledger tally --rebuild")
