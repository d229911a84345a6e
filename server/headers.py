"""Security headers on every answer, from the app itself (the proxy may add them too, but the
app does not rely on it): a Content-Security-Policy that admits no inline script, no framing,
no MIME sniffing, no referrer leaving the site, and `no-store` for everything but the static
files (pages carry names, ID numbers and photos; a shared phone must not keep them in its
HTTP cache). The service worker's own offline copies are cleared on logout and login
(Clear-Site-Data, server/auth/routes.py).
"""

from __future__ import annotations

from litestar.types import Message, Scope

# Scripts only from our own files (static/js, static/vendor); no inline script, no eval (htmx
# trigger filters and hx-on are therefore not used). Inline style attributes stay allowed
# (progress bars; htmx adds its indicator style). Photos preview from blob: URLs before upload.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob: mediastream:",
    "connect-src 'self'",
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(self), geolocation=(self), microphone=()",
}

CACHEABLE_PREFIXES = ("/static/",)

_ENCODED = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in SECURITY_HEADERS.items()]
_NO_STORE = (b"cache-control", b"no-store")


async def add_security_headers(message: Message, scope: Scope) -> None:
    """The app's before_send hook (it sees every answer, 404s of unknown paths included): adds
    SECURITY_HEADERS, and Cache-Control: no-store to every answer outside CACHEABLE_PREFIXES
    that does not set its own Cache-Control."""
    if message["type"] != "http.response.start":
        return
    # The message's raw header list, read once: every answer passes here, and Litestar's
    # MutableScopeHeaders decoded the whole list again for each name looked up.
    headers = message["headers"] = list(message.get("headers", ()))
    present = {name.lower() for name, _ in headers}
    headers.extend(h for h in _ENCODED if h[0] not in present)
    if b"cache-control" not in present and not scope.get("path", "").startswith(CACHEABLE_PREFIXES):
        headers.append(_NO_STORE)
