"""What every command of `python -m server` shares (floor 0): the app the Litestar CLI loaded,
and failing with a Chinese message and an exit code."""

from __future__ import annotations

import sys
from typing import NoReturn

import click
from litestar import Litestar


def loaded_app() -> Litestar:
    """The app the Litestar CLI loaded (LITESTAR_APP, server.asgi:app) before it ran the
    command: its settings (app.state.settings), its store, and the engine it installed."""
    return click.get_current_context().find_root().obj.app


def fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"错误: {message}", err=True)
    sys.exit(code)
