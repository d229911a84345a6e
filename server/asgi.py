"""The ASGI app for servers (granian server.asgi:app; behind the TLS proxy server.asgi:proxied)
and the CLI (python -m server loads it): the one place the app's settings are read from the
environment."""

import sys

from granian.utils.proxies import wrap_asgi_with_proxy_headers

from server.app import create_app
from server.settings import Settings

# Hand the GIL over every 0.5 ms instead of 5 ms: SQLite statements run in aiosqlite's threads
# and photos are processed in worker threads, and each result waited for the event loop to
# give up the GIL; under load that wait, not the query, set a page's latency (bench/README.md).
sys.setswitchinterval(0.0005)

app = create_app(Settings.from_env())

# Behind the proxy (compose.yaml): the client's address and scheme from X-Forwarded-For /
# X-Forwarded-Proto. The app is reached only through the proxy on the internal network, so the
# headers are trusted from any peer (deploy/entrypoint.sh serves this one).
proxied = wrap_asgi_with_proxy_headers(app, trusted_hosts="*")
