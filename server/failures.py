"""What the user sees, and what the log keeps, when a request fails (floor 0).

- An unexpected exception (a bug, a database or object store that failed) answers a Chinese
  page — for htmx a message in the toast, leaving the form and what was typed in it as it
  was — with an error number (错误编号) that the log line of the traceback carries too, so
  the officer can quote it and the operator find it. Logged once, here, with its traceback.
- An ordinary refusal (404, 405, 400 …: HTTPException below 500) is logged as one line,
  without a traceback: scanners and stale links make thousands of them.
- Other 4xx without an answer of their own (400, 405, 429 …) are shown like the 5xx, in the
  toast for htmx, so a tap never ends in silence.

app.py installs `log_exception` as Litestar's exception logging handler and `server_error`
as the handler of every exception no other handler takes.
"""

from __future__ import annotations

import logging
import secrets
import sys
from typing import Any

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
    answered 500 in Chinese, saying that what was typed is still there."""
    ref = request.scope.get("error_ref") or new_ref()  # type: ignore[typeddict-item]
    log.error("错误编号 %s: %s %s → 500 %s", ref, request.method, request.url.path, type(exc).__name__,
              exc_info=exc)
    return answer(request, 500, "服务器出错，本次操作没有完成", ref=ref,
                  detail="您填写的内容仍在页面上，没有丢失，请稍后重试")
