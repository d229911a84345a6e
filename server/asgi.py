"""The ASGI app for servers (uvicorn server.asgi:app) and the CLI."""

import sys

from server.app import create_app

# Hand the GIL over every 0.5 ms instead of 5 ms: SQLite statements run in aiosqlite's threads
# and photos are processed in worker threads, and each result waited for the event loop to
# give up the GIL; under load that wait, not the query, set a page's latency (bench/README.md).
sys.setswitchinterval(0.0005)

app = create_app()
