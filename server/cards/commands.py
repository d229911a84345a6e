"""`python -m server cards public-key` (registered in server/cli.py)."""

from __future__ import annotations

import click


@click.group("cards", help="Guard cards: signing key.")
def cards_group() -> None:
    pass


@cards_group.command("public-key", help="Print the Ed25519 public key that verifies card QR tokens.")
def public_key_command() -> None:
    from server.cards.service import public_key

    # The app the Litestar CLI loaded (server/cli.py's loaded_app; not imported: a capability
    # never imports the wiring).
    click.echo(public_key(click.get_current_context().find_root().obj.app.state.settings))
