"""`python -m server cards public-key | hash` (registered in server/cli.py)."""

from __future__ import annotations

import click


@click.group("cards", help="Guard cards: signing key, token hashes.")
def cards_group() -> None:
    pass


@cards_group.command("public-key", help="Print the Ed25519 public key that verifies card QR tokens.")
def public_key_command() -> None:
    from server.cards.service import public_key
    from server.console import loaded_app

    click.echo(public_key(loaded_app().state.settings))


@cards_group.command("hash", help="Record the token hash of every current card that has none or one made "
                     "with another key (cards issued before hashes were kept, or before CARD_SIGNING_KEY "
                     "changed): their scans are then checked without the signature arithmetic.")
def hash_command() -> None:
    import anyio

    from server.cards.service import record_token_hashes
    from server.console import loaded_app

    settings = loaded_app().state.settings
    written = anyio.run(lambda: record_token_hashes(settings))
    click.echo(f"cards hash: {written} cards")
