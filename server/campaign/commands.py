"""`python -m server campaign load FILE.toml` and `campaign export FILE.toml` (registered in
server/cli.py): a campaign, its phases, deadlines, options, the townships and the reporting
bodies, moved between installs in one file (server/campaign/transfer.py).

Exit status of load: 0 loaded (or nothing to change), 1 the file was refused (every problem
listed with its line and field; nothing written), 2 the file cannot be read."""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
import click


@click.group("campaign", help="Campaign set-up: load or export a campaign file (TOML).")
def campaign_group() -> None:
    pass


@campaign_group.command("load", help="Create or update the campaign, townships and bodies from FILE.toml (idempotent).")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def load_command(file: Path) -> None:
    from server.campaign import transfer

    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        click.echo(f"错误: 无法读取文件 {file}: {exc}", err=True)
        sys.exit(2)
    try:
        counts = anyio.run(lambda: transfer.load_text(text))
    except transfer.TransferError as exc:
        click.echo(f"错误: {file} 未导入，请修改后重试（未写入任何内容）:", err=True)
        for p in exc.problems:
            click.echo(f"  {transfer.format_problem(p)}", err=True)
        sys.exit(1)
    written = {k: v for k, v in counts.items() if v}
    click.echo("campaign load: " + (", ".join(f"{k} {v}" for k, v in written.items()) if written
                                    else "nothing to change"))


@campaign_group.command("export", help="Write the active campaign, townships and bodies to FILE.toml.")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def export_command(file: Path) -> None:
    from server.campaign import transfer

    try:
        text = anyio.run(transfer.export_text)
    except transfer.TransferError as exc:
        click.echo(f"错误: {exc}", err=True)
        sys.exit(1)
    file.write_text(text, encoding="utf-8")
    click.echo(f"exported to {file}")
