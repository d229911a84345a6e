"""Login and logout."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from litestar import Request, get, post
from litestar.datastructures import Cookie
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect

from server.auth import service
from server.web import client_ip, csrf_cookie, render


@dataclass
class LoginForm:
    username: str = ""
    password: str = ""
    next: str = "/"
    outbox_actors: str = ""
    """Ids of the users whose unsent work waits on this phone (static/js/offline.js)."""


# Phones are shared between shifts: logging out and logging in wipe what the browser keeps
# for this site (HTTP cache; Cache Storage, IndexedDB, service worker), so the next user finds
# nothing of the last one's. One exception: a user logging back in to send their own unsent
# work keeps the storage that holds it (their session ended while they were offline).
CLEAR_ALL = '"cache", "storage"'
CLEAR_CACHE = '"cache"'


def _rotate_csrf(response: Redirect, settings) -> None:
    """A new CSRF token with every new (or ended) session: a page or a queued request from
    before no longer passes."""
    response.set_cookie(csrf_cookie(settings))


def _safe_next(url: str) -> str:
    return url if url.startswith("/") and not url.startswith("//") else "/"


@get("/login", opt={"public": True}, name="login")
async def login_page(request: Request, next: FromQuery[str] = "/") -> object:
    if request.scope.get("user"):
        return Redirect(path=_safe_next(next))
    return render("auth/login.html", next=_safe_next(next), error=None, username="")


@post("/login", opt={"public": True})
async def login(request: Request,
                data: Annotated[LoginForm, Body(media_type=RequestEncodingType.URL_ENCODED)]) -> object:
    settings = request.app.state.settings
    try:
        user = await service.authenticate(settings, data.username, data.password, client_ip(request))
    except service.AuthError as exc:
        return render("auth/login.html", status_code=401, next=_safe_next(data.next),
                      error=str(exc), username=data.username[:64])
    token = await service.open_session(settings, user, client_ip(request),
                                       request.headers.get("user-agent", ""))
    own_work = str(user.id) in data.outbox_actors.split(",")
    response = Redirect(path=_safe_next(data.next), status_code=303,
                        headers={"Clear-Site-Data": CLEAR_CACHE if own_work else CLEAR_ALL})
    response.set_cookie(Cookie(key=service.SESSION_COOKIE, value=token, httponly=True,
                               secure=settings.cookie_secure, samesite="lax", path="/",
                               max_age=settings.session_hours * 3600))
    _rotate_csrf(response, settings)
    return response


@post("/logout", name="logout")
async def logout(request: Request) -> Redirect:
    user = request.scope.get("user")
    if user is not None:
        await service.revoke_session(user.session_id)
    response = Redirect(path="/login", status_code=303, headers={"Clear-Site-Data": CLEAR_ALL})
    response.delete_cookie(service.SESSION_COOKIE, path="/")
    _rotate_csrf(response, request.app.state.settings)
    return response


route_handlers = [login_page, login, logout]
