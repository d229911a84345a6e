"""The single access check: session → user (middleware), then role (guard).

A request that names its user (x-actor, see below) must name the session's user.

Every route requires a logged-in user unless its handler or router says opt={"public": True};
a route may narrow the roles with opt=roles(Role.office, …) (server/web.py). A liaison's sector or township scope
is applied through CurrentUser.scope in the services (server/auth/scope.py).
"""

from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from server.auth.service import SESSION_COOKIE, load_session

# Every htmx request and every replayed outbox entry names the user it was made for (the
# page's <body hx-headers>, static/js/outbox.js); the server refuses a mismatch.
ACTOR_HEADER = "x-actor"
REPLAY_HEADER = "x-outbox-replay"
ACTOR_REFUSED = "这条内容是另一位用户在本机保存的，不能以当前账号提交"


class SessionMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)
    exclude_path_pattern = ("^/static/", "^/healthz$")

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        connection: ASGIConnection = ASGIConnection(scope)
        settings = connection.app.state.settings
        scope["user"] = await load_session(connection.cookies.get(SESSION_COOKIE),
                                           settings.session_idle_minutes)
        scope["auth"] = None
        await next_app(scope, receive, send)


async def access_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    # async although it awaits nothing: Litestar runs a sync guard in a worker thread, a thread
    # hop on every request.
    if handler.opt.get("public"):
        return
    user = connection.scope.get("user")
    if user is None:
        raise NotAuthorizedException("请先登录")
    actor = connection.headers.get(ACTOR_HEADER)
    if (actor is not None or connection.headers.get(REPLAY_HEADER)) and actor != str(user.id):
        # A page or a queued request made for another user (a shared phone): the session
        # cookie alone does not make it this user's.
        raise PermissionDeniedException(ACTOR_REFUSED)
    roles = handler.opt.get("roles")
    if roles and user.role not in roles:
        raise PermissionDeniedException("您的角色无权访问此页面")
