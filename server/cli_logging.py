"""Log levels of the command line: an operator's command prints its own output, not the
libraries' INFO lines (Piccolo announces the SQLite version, Litestar configures the root
logger at INFO when the app loads).

`python -m server -v COMMAND` keeps INFO, `-vv` DEBUG; otherwise only warnings and errors are
logged, to stderr. `server/__main__.py` takes the flag off the command line before Litestar's
CLI parses it, and CLIPlugin.on_cli_init applies the level once the app (and with it Litestar's
logging configuration) is loaded.
"""

from __future__ import annotations

import logging
import sys

VERBOSE_FLAGS = {"-v": 1, "--verbose": 1, "-vv": 2}
verbosity = 0


def take_verbosity(argv: list[str]) -> list[str]:
    """Remove leading -v/--verbose/-vv flags from argv (after the program name) and remember them."""
    global verbosity
    rest = list(argv)
    while len(rest) > 1 and rest[1] in VERBOSE_FLAGS:
        verbosity += VERBOSE_FLAGS[rest.pop(1)]
    # Piccolo may log while piccolo_conf is imported, before the app has loaded.
    logging.getLogger("piccolo").setLevel(level())
    return rest


def level() -> int:
    return {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)


def apply() -> None:
    """Set the root logger and every already configured logger that would log below the
    chosen level (Litestar's own, Piccolo's) to it; handlers write to stderr."""
    chosen = level()
    root = logging.getLogger()
    root.setLevel(chosen)
    if not root.handlers:
        logging.basicConfig(stream=sys.stderr, level=chosen)
    for name in ("litestar", "piccolo"):
        logging.getLogger(name).setLevel(chosen)
