"""`python -m server <command>`: the Litestar CLI with the app loaded, plus our commands
(see server/cli.py)."""

import os
import sys

from litestar.cli.main import litestar_group


def main() -> None:
    os.environ.setdefault("LITESTAR_APP", "server.asgi:app")
    os.environ.setdefault("PICCOLO_CONF", "piccolo_conf")
    # piccolo_conf.py sits at the project root; make it importable from anywhere.
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if root not in sys.path:
        sys.path.insert(0, root)
    from server import cli_logging

    sys.argv = cli_logging.take_verbosity(sys.argv)  # -v / -vv: library logs at INFO / DEBUG
    litestar_group()


if __name__ == "__main__":
    main()
