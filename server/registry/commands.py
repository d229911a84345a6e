"""`python -m server registry import FILE.xlsx [--commit]` (registered in server/cli.py).

Exit status: 0 every row valid, 1 some rows rejected (listed), 2 the file cannot be read."""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
import click


@click.group("registry", help="Registry: import rosters from Excel.")
def registry_group() -> None:
    pass


@registry_group.command("import", help="Check a roster workbook (dry run); --commit writes the valid rows.")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--commit", "write", is_flag=True, help="Write the valid rows (all together, or none).")
@click.option("--rejected", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the rejected rows, as typed, with a reason column to this .xlsx.")
def import_command(file: Path, write: bool, rejected: Path | None) -> None:
    from server.registry import roster_import

    try:
        data = file.read_bytes()
    except OSError as exc:
        click.echo(f"错误: 无法读取文件 {file}: {exc.strerror}", err=True)
        sys.exit(2)
    try:
        report = anyio.run(lambda: roster_import.run(data, "cli-import", write=write))
    except roster_import.Unreadable as exc:
        click.echo(f"错误: {exc}", err=True)
        sys.exit(2)
    for p in report.problems:
        click.echo(f"{p.sheet}\t第{p.row}行\t{p.column}\t{p.reason}")
    for p in report.flagged():
        click.echo(f"{p.sheet}\t第{p.row}行\t{p.column}\t需核查: {p.reason}")
    if rejected is not None and report.problems:
        rejected.write_bytes(roster_import.rejected_workbook(report))
    c = report.counts()
    mode = "已写入" if report.committed else ("未写入（试运行，加 --commit 写入）" if not write else "未写入")
    click.echo(f"读取 {c['rows']} 行；单位 新增 {c['units_new']} 更新 {c['units_updated']}；"
               f"保安员 新增 {c['guards_new']} 更新 {c['guards_updated']}；有错误 {c['rejected']} 行；{mode}")
    sys.exit(0 if report.ok else 1)
