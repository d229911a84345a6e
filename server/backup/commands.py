"""Operator commands (registered in server/cli.py):

    python -m server backup DIR                 database + every object + manifest into DIR (new or empty)
    python -m server restore DIR [--force]      into an empty install; refuses a damaged backup
    python -m server restore DIR --check        only verify the backup's files against its manifest

Exit 0 on success, 1 on a refusal or failure (the reason on stderr, in Chinese like the UI).
"""

from __future__ import annotations

from pathlib import Path

import anyio
import click

from server.console import fail, loaded_app


def _settings_and_store():
    app = loaded_app()
    return app.state.settings, app.state.store


def _progress(message: str) -> None:
    click.echo(f"  {message}")


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f} MB"


@click.command("backup", help="Back up the database and every object into DIR (new or empty), with a manifest of SHA-256s.")
@click.argument("folder", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))
def backup_command(folder: Path) -> None:
    from server.backup import service

    settings, store = _settings_and_store()
    click.echo(f"backup {folder}:")
    try:
        report = anyio.run(lambda: service.backup(settings, store, folder, _progress))
    except service.BackupError as exc:
        fail(str(exc))
    m = report.manifest
    click.echo(f"backup done: {report.rows} rows in {len(m['counts'])} tables, {report.objects} objects "
               f"({_mb(report.object_bytes)}), database file {_mb(m['database']['size'])}")
    click.echo(f"audit head {m['audit_head'] or '-'} (keep it outside this server; check later with "
               f"`audit verify --anchor {m['audit_head'] or 'ID:HASH'}`)")


@click.command("restore", help="Restore a backup made by `backup` into an empty install (stop the app first).")
@click.argument("folder", metavar="DIR", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite a non-empty install (its data and objects are deleted).")
@click.option("--check", "check_only", is_flag=True, help="Only verify the backup against its manifest; write nothing.")
def restore_command(folder: Path, force: bool, check_only: bool) -> None:
    from server.backup import service

    if check_only:
        try:
            manifest, problems = service.verify(folder)
        except service.BackupError as exc:
            fail(str(exc))
        for problem in problems:
            click.echo(f"BAD  {problem}")
        click.echo(f"backup check {folder}: {len(manifest['objects'])} objects and the database file "
                   f"checked, {len(problems)} problems")
        if problems:
            fail("备份已损坏，见上")
        return

    settings, store = _settings_and_store()
    click.echo(f"restore {folder}:")
    try:
        report = anyio.run(lambda: service.restore(settings, store, folder, force=force, progress=_progress))
    except service.BackupError as exc:
        fail(str(exc))
    click.echo(f"restore done: {report.rows} rows in {len(report.counts)} tables, {report.objects} objects; "
               f"every count matches the manifest")
    head = report.manifest.get("audit_head")
    click.echo(f"next: python -m server evidence verify; python -m server storage check; "
               f"python -m server audit verify{f' --anchor {head}' if head else ''}")
