"""The project's own commands, added to the Litestar CLI by CLIPlugin.

    python -m server users create --username U --password P --role R [--body B]
    python -m server users set-password --username U --password P
    python -m server users list
    python -m server demo seed
    python -m server db migrate
    python -m server evidence verify | storage check | audit verify   (server/evidence, server/audit)
"""

from __future__ import annotations


import anyio
import click
from litestar.plugins import CLIPluginProtocol

from server.console import fail
from server.vocab import Role


def _run(fn, *args):
    return anyio.run(fn, *args)


class CLIPlugin(CLIPluginProtocol):
    def on_cli_init(self, cli: click.Group) -> None:
        # Each capability owns its commands; imported here, when the CLI starts, so that
        # loading the app for a web worker does not import them.
        from server.audit.commands import audit_group
        from server.cards.commands import cards_group
        from server.evidence.commands import evidence_group, storage_group
        from server.ledger.cli import ledger
        from server.rectification.commands import spotcheck_group
        from server.registry.commands import registry_group

        for group in (users, demo, db_group, registry_group, cards_group, ledger, evidence_group,
                      storage_group, audit_group, spotcheck_group):
            cli.add_command(group)


@click.group(help="Accounts: create users, reset passwords.")
def users() -> None:
    pass


@users.command("create", help="Create a user.")
@click.option("--username", required=True)
@click.option("--password", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--body", default=None, help="Reporting body (填报单位) name; required for liaisons.")
@click.option("--display-name", default="", help="Name shown in the app.")
def users_create(username: str, password: str, role: str, body: str | None, display_name: str) -> None:
    from server.auth import service

    try:
        _run(lambda: service.create_user(username, password, role, body, display_name))
    except service.AuthError as exc:
        fail(str(exc))
    click.echo(f"created user {username} ({role})")


@users.command("set-password", help="Set a user's password and end all their sessions.")
@click.option("--username", required=True)
@click.option("--password", required=True)
def users_set_password(username: str, password: str) -> None:
    from server.auth import service

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


@demo.command("seed", help="Seed the demo campaign, registry and accounts (idempotent).")
def demo_seed() -> None:
    from server.demo.seed import DEMO_ACCOUNTS, seed_demo

    counts = _run(seed_demo)
    added = sum(counts.values())
    click.echo("demo seed: " + (", ".join(f"{k} +{v}" for k, v in counts.items() if v) or "nothing to add"))
    if added:
        click.echo("demo accounts:")
        for username, password, role, display, body in DEMO_ACCOUNTS:
            click.echo(f"  {username:<12} {password:<10} {Role.label_of(role)} {display} · {body}")


@click.group("db", help="Database schema.")
def db_group() -> None:
    pass


@db_group.command("migrate", help="Apply all pending migrations.")
def db_migrate() -> None:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    result = _run(lambda: run_forwards("all"))
    if not result.success:
        fail(result.message or "migration failed")
    click.echo("database is up to date")
