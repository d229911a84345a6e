"""Small helpers shared by the route modules: rendering pages and fragments, redirects that
work with and without htmx, and reading the client's address."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.enums import MediaType
from litestar.plugins.htmx import HXLocation
from litestar.response import Redirect, Template


def render(template: str, status_code: int = 200, headers: dict[str, str] | None = None,
           **context: Any) -> Template:
    return Template(template_name=template, context=context, status_code=status_code,
                    headers=headers, media_type=MediaType.HTML)


def is_htmx(request: Request) -> bool:
    """An htmx request for a fragment. Boosted links and forms want whole pages, like a
    browser without JavaScript, so they do not count."""
    return request.headers.get("hx-request") == "true" and request.headers.get("hx-boosted") != "true"


def go(request: Request, url: str) -> Any:
    """Post/redirect/get: a 303 for a plain form, an HX-Location for htmx (so the page,
    not just the target, is replaced and the URL updated)."""
    if is_htmx(request):
        return HXLocation(redirect_to=url)
    return Redirect(path=url, status_code=303)


def client_ip(request: Request) -> str:
    # Behind the TLS proxy, uvicorn's --proxy-headers fills client from X-Forwarded-For.
    return request.client.host if request.client else ""
