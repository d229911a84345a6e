"""Operator commands for evidence and storage (registered in server/cli.py):

    python -m server evidence verify   re-hash every stored photo; exit 1 on any mismatch or missing object
    python -m server storage check     rows without objects, objects without rows; exit 1 if any
"""

from __future__ import annotations

import sys

import anyio
import click


def _store():
    from server.console import loaded_app

    return loaded_app().state.store


@click.group("evidence", help="Photo evidence: integrity checks.")
def evidence_group() -> None:
    pass


@evidence_group.command("verify", help="Re-hash every stored photo against the SHA-256 recorded at ingest.")
def evidence_verify() -> None:
    from server.evidence.integrity import verify_photos

    store = _store()
    report = anyio.run(verify_photos, store)
    for problem in report.problems:
        click.echo(problem.describe())
    missing = sum(1 for p in report.problems if p.kind == "missing")
    mismatched = len(report.problems) - missing
    click.echo(f"evidence verify ({store.describe()}): {report.checked} photos checked, "
               f"{mismatched} mismatched, {missing} missing")
    if report.problems:
        click.echo("错误: 有照片原图被改动或缺失，见上", err=True)
        sys.exit(1)


@click.group("storage", help="Object storage: consistency with the database.")
def storage_group() -> None:
    pass


@storage_group.command("check", help="List database rows without objects and objects without rows.")
def storage_check() -> None:
    from server.evidence.integrity import storage_check as run_check

    store = _store()
    report = anyio.run(run_check, store)
    for m in report.missing:
        click.echo(m.describe())
    for key in report.orphans:
        click.echo(f"NO ROW     {key}")
    click.echo(f"storage check ({store.describe()}): {report.rows} keys referenced, {report.objects} objects stored, "
               f"{len(report.missing)} rows without objects, {len(report.orphans)} objects without rows")
    if not report.ok:
        click.echo("错误: 数据库与对象存储不一致，见上", err=True)
        sys.exit(1)
