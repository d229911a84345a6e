"""The project's own commands, added to the Litestar CLI by CLIPlugin.

    python -m server users create --username U --role R [--body B]      (password: prompt or stdin)
    python -m server users set-password --username U                   (password: prompt or stdin)
    python -m server users list
    python -m server demo seed
    python -m server db migrate
    python -m server campaign load FILE.toml | campaign export FILE.toml      (server/campaign)
    python -m server evidence verify | storage check | audit verify   (server/evidence, server/audit)
    python -m server reports status --day YYYY-MM-DD                  (server/reports)
"""

from __future__ import annotations

import sys

import anyio
import click
from litestar.plugins import CLIPluginProtocol

from server.console import fail, loaded_app
from server.vocab import Role


def _run(fn, *args):
    return anyio.run(fn, *args)


class CLIPlugin(CLIPluginProtocol):
    def on_cli_init(self, cli: click.Group) -> None:
        # Each capability owns its commands; imported here, when the CLI starts, so that
        # loading the app for a web worker does not import them.
        from server.audit.commands import audit_group
        from server.backup.commands import backup_command, restore_command
        from server.campaign.commands import campaign_group
        from server.cards.commands import cards_group
        from server.evidence.commands import evidence_group, storage_group
        from server.ledger.cli import ledger
        from server.rectification.commands import spotcheck_group
        from server.registry.commands import registry_group
        from server.reports.commands import reports_group
        from server import cli_logging

        cli_logging.apply()  # the app has configured logging by now: WARNING unless -v

        from server.lifecycle import sweep_command

        storage_group.add_command(sweep_command())
        for group in (run_command, users, demo, db_group, registry_group, cards_group, ledger, evidence_group,
                      storage_group, audit_group, spotcheck_group, backup_command, restore_command,
                      campaign_group, reports_group):
            cli.add_command(group)


@click.command("run", help="Serve the app with granian (replaces Litestar's uvicorn `run`).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="Worker processes.")
def run_command(host: str, port: int, workers: int) -> None:
    """granian rather than uvicorn: it served every page of the card bench 1.03–2.5 times as
    fast (most on SQLite; bench/README.md, section 1). Replaces this process, like the
    container's entrypoint, so Ctrl-C and stop signals reach the server."""
    import os

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    os.execv(sys.executable, [sys.executable, "-m", "granian", "--interface", "asgi", "--host", host,
                              "--port", str(port), "--workers", str(workers), "--working-dir", root,
                              "server.asgi:app"])


_NO_PASSWORD_OPTION = ("不要在命令行中给出密码（会留在命令历史和进程列表中）：去掉 --password，"
                       "运行后按提示输入，或从标准输入传入，例如 python -m server users create ... < 密码文件")


def _password(given: str | None) -> str:
    """The password from a hidden prompt (typed twice) on a terminal, else the first line of
    stdin (a script, `docker compose exec -T`); never from the command line."""
    if given is not None:
        fail(_NO_PASSWORD_OPTION, 2)
    if sys.stdin.isatty():
        return click.prompt("密码", hide_input=True, confirmation_prompt="再次输入密码", err=True)
    return sys.stdin.readline().rstrip("\r\n")


@click.group(help="Accounts: create users, reset passwords.")
def users() -> None:
    pass


@users.command("create", help="Create a user; the password is asked for (or read from stdin).")
@click.option("--username", required=True)
@click.option("--password", default=None, hidden=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--body", default=None, help="Reporting body (填报单位) name; required for liaisons.")
@click.option("--display-name", default="", help="Name shown in the app.")
def users_create(username: str, password: str | None, role: str, body: str | None, display_name: str) -> None:
    from server.auth import service

    password = _password(password)
    try:
        _run(lambda: service.create_user(username, password, role, body, display_name))
    except service.AuthError as exc:
        fail(str(exc))
    click.echo(f"created user {username} ({role})")


@users.command("set-password", help="Set a user's password (asked for, or read from stdin) and end all their sessions.")
@click.option("--username", required=True)
@click.option("--password", default=None, hidden=True)
def users_set_password(username: str, password: str | None) -> None:
    from server.auth import service

    password = _password(password)
    try:
        _run(lambda: service.set_password(username, password))
    except service.AuthError as exc:
        fail(str(exc))
    click.echo(f"password set for {username}; their sessions were revoked")


@users.command("list", help="List users.")
def users_list() -> None:
    from server.models.auth import User

    rows = _run(lambda: User.select(User.username, User.role, User.display_name, User.body.name,
                                    User.active).order_by(User.username))
    for r in rows:
        state = "" if r["active"] else " (disabled)"
        click.echo(f"{r['username']:<16} {r['role']:<8} {r['display_name']} · {r['body.name'] or '-'}{state}")


@click.group(help="Demo data.")
def demo() -> None:
    pass


@demo.command("seed", help="Seed the demo campaign, registry and accounts, and work it (idempotent).")
@click.option("--today", default=None, help="The day the demo is shown (YYYY-MM-DD; default today): "
              "the campaign's dates are placed so that it falls in 集中整治.")
def demo_seed(today: str | None) -> None:
    import datetime as dt

    from server.cards.service import record_token_hashes
    from server.console import loaded_app
    from server.demo.activity import seed_activity
    from server.demo.seed import DEMO_ACCOUNTS, seed_demo

    try:
        day = dt.date.fromisoformat(today) if today else None
    except ValueError:
        fail(f"--today 应为 YYYY-MM-DD: {today}")
    state = loaded_app().state

    async def both() -> dict[str, int]:
        await state.store.ensure_ready()  # the demo's photos go to the bucket (made if missing)
        counts = await seed_demo(day)
        counts = {**counts, **await seed_activity(state.store, state.settings, day)}
        await record_token_hashes(state.settings)  # the seed's cards are checked as issued ones
        return counts

    counts = _run(both)
    added = sum(counts.values())
    click.echo("demo seed: " + (", ".join(f"{k} +{v}" for k, v in counts.items() if v) or "nothing to add"))
    if added:
        click.echo("demo accounts:")
        for username, password, role, display, body in DEMO_ACCOUNTS:
            click.echo(f"  {username:<12} {password:<10} {Role.label_of(role)} {display} · {body}")


@click.group("db", help="Database schema.")
def db_group() -> None:
    pass


@db_group.command("migrate", help="Apply all pending migrations (one process at a time; others wait).")
def db_migrate() -> None:
    from server.migrations_lock import migrate

    def waiting() -> None:
        click.echo("another process is migrating the database; waiting for it", err=True)

    result = _run(lambda: migrate(loaded_app().state.settings, waiting))
    if not result.success:
        fail(result.message or "migration failed")
    click.echo("database is up to date")
