"""What the user sees, and what the log keeps, when a request fails (floor 0).

- An unexpected exception (a bug, a database or object store that failed) answers a Chinese
  page — for htmx a message in the toast, leaving the form and what was typed in it as it
  was — with an error number (错误编号) that the log line of the traceback carries too, so
  the officer can quote it and the operator find it. Logged once, here, with its traceback.
- An ordinary refusal (404, 405, 400 …: HTTPException below 500) is logged as one line,
  without a traceback: scanners and stale links make thousands of them.
- A dependency that is down — the database (PostgreSQL restarting, SQLite locked past its
  timeout) or the object store (S3 stopped, a photo folder that cannot be written) — is not
  a bug: `unavailable` recognises it and the answer is 503 saying which service is away and
  that nothing typed is lost (the phone's outbox keeps a 503 entry and sends it again later).
- Other 4xx without an answer of their own (400, 405, 429 …) are shown like the 5xx, in the
  toast for htmx, so a tap never ends in silence.

app.py installs `log_exception` as Litestar's exception logging handler and `server_error`
as the handler of every exception no other handler takes.
"""

from __future__ import annotations

import logging
import secrets
import sqlite3
import sys
from typing import Any

import asyncpg
import urllib3
from litestar import Request, Response
from litestar.exceptions import HTTPException

from server.web import is_htmx

log = logging.getLogger("server.errors")

SWAPPED_IN_PLACE = {401, 403, 404, 409, 413, 422}
"""Statuses whose htmx fragments go where the request asked (base.html's htmx config); the
others are shown in the toast (HX-Retarget)."""

MESSAGES = {
    400: "请求无法处理，请刷新页面后重试",
    405: "此操作不可用，请刷新页面后重试",
    429: "操作太频繁，请稍后重试",
}


UNAVAILABLE = {
    "database": "数据库暂时不可用，本次操作没有完成",
    "storage": "照片存储暂时不可用，本次操作没有完成",
}
UNAVAILABLE_DETAIL = "已填写的内容不会丢失，请稍后重试"
RETRY_AFTER_SECONDS = 5

_DB_ERRORS = (asyncpg.PostgresConnectionError, asyncpg.exceptions.OperatorInterventionError,
              asyncpg.TooManyConnectionsError)
_SQLITE_DOWN = ("database is locked", "unable to open database", "disk i/o error", "database or disk is full")


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    while exc is not None and exc not in seen and len(seen) < 10:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def _raised_in(exc: BaseException) -> str:
    """'database' or 'storage' by the library whose code raised `exc` (an OSError says only
    that a connection or a file failed, not whose)."""
    tb, found = exc.__traceback__, ""
    while tb is not None:
        name = tb.tb_frame.f_globals.get("__name__", "")
        if name.startswith(("asyncpg", "aiosqlite", "piccolo.engine")):
            found = "database"
        elif name.startswith(("minio", "urllib3", "server.storage")):
            found = "storage"
        tb = tb.tb_next
    return found


def unavailable(exc: BaseException) -> str:
    """'database' or 'storage' when `exc` means that service is down or unreachable, else ''."""
    from minio.error import ServerError

    for e in _chain(exc):
        if isinstance(e, _DB_ERRORS):
            return "database"
        if isinstance(e, asyncpg.InterfaceError) and ("closed" in str(e) or "closing" in str(e)):
            return "database"
        if isinstance(e, asyncpg.exceptions._base.InternalClientError):
            # A pooled connection left mid-operation as the server shut it down ("cannot switch
            # to state …; another operation is in progress"): the pool discards it on release.
            return "database"
        if isinstance(e, sqlite3.OperationalError) and any(m in str(e).lower() for m in _SQLITE_DOWN):
            return "database"
        if isinstance(e, (urllib3.exceptions.HTTPError, ServerError)):
            return "storage"
        if isinstance(e, (OSError, TimeoutError)):
            where = _raised_in(e)
            if where:
                return where
    return ""


def refused_input(exc: BaseException) -> bool:
    """The database refused a value the user sent (PostgreSQL holds no NUL character in
    text): the request is at fault, not the server."""
    return any(isinstance(e, (asyncpg.CharacterNotInRepertoireError, asyncpg.UntranslatableCharacterError))
               for e in _chain(exc))


BAD_CHARACTERS = "内容中含有无法保存的字符（如空字符），请删除后重试"


def new_ref() -> str:
    """An error number short enough to read out on the phone: 8 hex digits."""
    return secrets.token_hex(4).upper()


def _status(exc: BaseException) -> int:
    return exc.status_code if isinstance(exc, HTTPException) else 500


def log_exception(logger: Any, scope: Any, tb: list[str]) -> None:
    """Litestar's exception_logging_handler: one line for a refusal; a 5xx is logged by
    server_error (or here, if no page is made for it) with its error number."""
    exc = sys.exc_info()[1]
    status = _status(exc) if exc is not None else 500
    method, path = scope.get("method", ""), scope.get("path", "")
    if status < 500:
        log.info("%s %s → %s %s", method, path, status, type(exc).__name__ if exc else "")
        return
    if isinstance(exc, HTTPException):  # a 5xx HTTPException: its page is _error_page's
        ref = scope.setdefault("error_ref", new_ref())
        log.error("错误编号 %s: %s %s → %s", ref, method, path, status, exc_info=exc)


def answer(request: Request, status: int, message: str, *, ref: str = "", detail: str = "") -> Response:
    """The error as a page, or for htmx as a fragment: in place for the statuses the page
    expects, else in the toast, the form untouched."""
    headers = {"X-Error-Ref": ref} if ref else {}
    if is_htmx(request):
        template = "_error_fragment.html"
        if status not in SWAPPED_IN_PLACE:
            headers.update({"HX-Retarget": "#toast", "HX-Reswap": "innerHTML"})
    else:
        template = "error.html"
    html = request.app.template_engine.get_template(template).render(
        request=request, message=message, detail=detail, status=status, ref=ref)
    return Response(content=html, status_code=status, media_type="text/html", headers=headers)


def server_error(request: Request, exc: Exception) -> Response:
    """Any exception no other handler answers: logged once with its error number, and
    answered in Chinese, saying that what was typed is still there: 503 when a service is
    down (`unavailable`, logged in one line: an outage is not a bug), else 500."""
    ref = request.scope.get("error_ref") or new_ref()  # type: ignore[typeddict-item]
    if refused_input(exc):
        log.info("%s %s → 400 %s: %s", request.method, request.url.path, type(exc).__name__, exc)
        return answer(request, 400, BAD_CHARACTERS)
    service = unavailable(exc)
    if service:
        log.error("错误编号 %s: %s %s → 503 %s unavailable: %s: %s", ref, request.method, request.url.path,
                  service, type(exc).__name__, exc)
        response = answer(request, 503, UNAVAILABLE[service], ref=ref, detail=UNAVAILABLE_DETAIL)
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    log.error("错误编号 %s: %s %s → 500 %s", ref, request.method, request.url.path, type(exc).__name__,
              exc_info=exc)
    return answer(request, 500, "服务器出错，本次操作没有完成", ref=ref,
                  detail="您填写的内容仍在页面上，没有丢失，请稍后重试")
