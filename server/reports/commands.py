"""`python -m server reports ...`: the bodies' reports from the command line (registered in
server/cli.py).

    python -m server reports status --day YYYY-MM-DD     one line per body: its status that day
"""

from __future__ import annotations

import anyio
import click

from server import clock
from server.console import fail


@click.group("reports", help="The responsible bodies' reports (各单位报送).")
def reports_group() -> None:
    pass



@reports_group.command("status", help="One line per body with its status for a report day (the morning check).")
@click.option("--day", "day_text", required=True, help="The report day, YYYY-MM-DD.")
def status(day_text: str) -> None:
    from server.campaign.service import active_campaign
    from server.ledger import weekly
    from server.reports import service

    day = weekly.parse_day(day_text)
    if day is None:
        fail(f"日期格式不正确: {day_text}（应为 YYYY-MM-DD，例如 2021-01-08）", 2)

    async def lines() -> tuple[list[str] | None, str]:
        campaign = await active_campaign()
        if campaign is None:
            return None, "当前没有进行中的专项行动"
        days = await service.report_days(campaign)
        if day not in days:
            shown = "、".join(d.isoformat() for d in days) or "无"
            return None, f"{day.isoformat()} 不是本次专项行动的报送日（报送日：{shown}）"
        return await service.status_lines(campaign, day, clock.today()), ""

    found, problem = anyio.run(lines)
    if found is None:
        fail(problem, 2)
    for line in found:
        click.echo(line)
