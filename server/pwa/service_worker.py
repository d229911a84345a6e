"""What the service worker pre-caches, and a version that changes whenever those files do."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# The app shell: enough to open a cached inspection and work on it offline. Pages are cached
# as the officer opens them (network first); evidence photos never are.
SHELL_STATIC = (
    "css/app.css",
    "js/app.js",
    "js/outbox.js",
    "js/photos.js",
    "js/offline.js",
    "vendor/htmx.min.js",
)
SHELL_ROUTES = ("/offline", "/outbox", "/manifest.webmanifest", "/icons/icon-192.png", "/icons/icon-512.png")


@lru_cache(maxsize=1)
def shell_version() -> str:
    """A digest of the shell files and the worker itself: a new deploy gets a new cache name."""
    h = hashlib.sha256()
    for rel in SHELL_STATIC:
        path = ROOT / "static" / rel
        h.update(rel.encode())
        h.update(path.read_bytes() if path.exists() else b"")
    h.update((ROOT / "templates" / "pwa" / "sw.js").read_bytes())
    return h.hexdigest()[:12]


def precache_urls() -> list[str]:
    return [f"/static/{rel}" for rel in SHELL_STATIC] + list(SHELL_ROUTES)
