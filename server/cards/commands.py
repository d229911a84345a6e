"""`python -m server cards public-key` (registered in server/cli.py)."""

from __future__ import annotations

import click


@click.group("cards", help="Guard cards: signing key.")
def cards_group() -> None:
    pass


@cards_group.command("public-key", help="Print the Ed25519 public key that verifies card QR tokens.")
def public_key_command() -> None:
    from server.cards.service import public_key
    from server.console import loaded_app

    click.echo(public_key(loaded_app().state.settings))
