"""Small helpers shared by the route modules (floor 0): rendering pages and fragments,
redirects that work with and without htmx, role declarations, the client's address, and
`act`, the one place where a refused action becomes an answer (FormError → 422, Conflict → 409).
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from litestar import Request
from litestar.datastructures import Cookie
from litestar.enums import MediaType
from litestar.middleware.csrf import generate_csrf_token
from litestar.plugins.htmx import HXLocation
from litestar.response import Redirect, Template

from server.errors import Conflict, FormError
from server.forms import MAX_ID


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


CSRF_COOKIE = "csrftoken"
"""The CSRF cookie's name: the app's CSRFConfig, the login's rotation and the card page read it."""


def csrf_cookie(settings: Any) -> Cookie:
    """A CSRF cookie with a new token, as the CSRF middleware sets it (Litestar's token format,
    signed with SECRET_KEY)."""
    return Cookie(key=CSRF_COOKIE, value=generate_csrf_token(settings.secret_key), path="/",
                  secure=settings.cookie_secure, samesite="lax", httponly=False)


def client_ip(request: Request) -> str:
    # Behind the TLS proxy, server.asgi:proxied (granian's proxy-headers wrapper) fills client from X-Forwarded-For.
    return request.client.host if request.client else ""


async def sane_path(request: Request) -> None:
    """The app's before_request: a whole number in the path beyond any table's ids
    (forms.MAX_ID), or text with a NUL character (which PostgreSQL cannot hold), names no
    record — 404, as for any id not found, rather than a query the database refuses."""
    from litestar.exceptions import NotFoundException

    for value in request.path_params.values():
        if (isinstance(value, int) and not -MAX_ID <= value <= MAX_ID) or (
                isinstance(value, str) and "\x00" in value):
            raise NotFoundException("页面或记录不存在")


def roles(*names: Any) -> dict:
    """A handler's opt: the roles allowed there (the access guard in server/auth/guards.py
    checks it for every request). `@get(..., opt=roles(Role.office, Role.leader))`."""
    return {"roles": tuple(str(n.value if hasattr(n, "value") else n) for n in names)}


Context = Callable[[dict[str, str]], Awaitable[dict[str, Any]]]


async def act(request: Request, action: Callable[[], Awaitable[Any]], *, page: str, context: Context,
              redirect: str | Callable[[Any], str], fragment: str | None = None, prefix: str = "",
              conflict_field: str = "_", headers: dict[str, str] | None = None,
              fragment_on_refusal_only: bool = False) -> Any:
    """Run a user's action and answer it the htmx way.

    Refused with a FormError: 422 with each message beside its field (field names get
    `prefix` where one page holds several forms); with a Conflict: 409 with the message at
    `conflict_field`. The answer is the `fragment` for an htmx request (also on success, with
    `headers`, e.g. an HX-Trigger, unless `fragment_on_refusal_only`), else the whole `page` on a
    refusal, else a redirect (post/redirect/get) to `redirect` (a URL, or a function of what
    the action returned).
    `context(errors)` builds the template context; what the user typed is the caller's to keep.
    """
    status, errors, result = 200, {}, None
    try:
        result = await action()
    except FormError as exc:
        status, errors = 422, {prefix + k: v for k, v in exc.errors.items()}
    except Conflict as exc:
        status, errors = 409, {conflict_field: str(exc)}
    if fragment and is_htmx(request) and not (fragment_on_refusal_only and status == 200):
        return render(fragment, status_code=status, headers=headers if status == 200 else None,
                      **await context(errors))
    if status != 200:
        return render(page, status_code=status, **await context(errors))
    return go(request, redirect(result) if callable(redirect) else redirect)
