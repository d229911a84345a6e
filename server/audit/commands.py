"""`python -m server audit verify [--anchor ID:HASH]` (registered in server/cli.py).

Walks the hash chain and names the first bad entry (exit 1). A chain alone cannot show that
its newest entries were cut off; note the printed head (id:hash) somewhere else, e.g. in the
weekly report, and pass it later as --anchor to prove the log still holds it.
"""

from __future__ import annotations

import sys

import anyio
import click


@click.group("audit", help="The hash-chained audit log.")
def audit_group() -> None:
    pass


async def _verify(anchor: str | None) -> tuple[int, str | None, dict | None]:
    from server.audit import service
    from server.models.audit import AuditEntry

    count, problem = await service.verify_chain()
    if problem is not None:
        row = await AuditEntry.select().where(AuditEntry.id == problem.entry_id).first()
        previous = await AuditEntry.select(AuditEntry.id).where(
            AuditEntry.id < problem.entry_id).order_by(AuditEntry.id, ascending=False).first()
        what = ""
        if row:
            what = (f" ({row['at']:%Y-%m-%d %H:%M:%S} {row['actor_name'] or '-'} {row['action']} "
                    f"{row['table_name']} {row['record_id']})")
        after = f", after entry #{previous['id']}" if previous else ", the first entry"
        return count, f"first bad entry: #{problem.entry_id}{what}{after}: {problem.reason}", None
    if anchor:
        ident, _, digest = anchor.partition(":")
        row = await AuditEntry.select(AuditEntry.hash).where(
            AuditEntry.id == int(ident)).first() if ident.isdigit() else None
        if row is None or row["hash"] != digest:
            return count, f"anchor #{ident} is gone or changed: entries up to it were deleted or rewritten", None
    return count, None, await service.head()


@audit_group.command("verify", help="Verify the hash chain; name the first bad entry.")
@click.option("--anchor", default=None, metavar="ID:HASH",
              help="A head printed by an earlier run; it must still be in the chain.")
def audit_verify(anchor: str | None) -> None:
    count, problem, head = anyio.run(_verify, anchor)
    if problem:
        click.echo(f"audit verify: {count} entries read; {problem}")
        click.echo("错误: 审计日志被改动、插入或删除，见上", err=True)
        sys.exit(1)
    where = f"; head {head['id']}:{head['hash']}" if head else ""
    click.echo(f"audit verify: {count} entries, chain intact{where}")
