"""Every file download is access-logged, in one place: the app's before_send hook sees each
answer, and one sent as an attachment (Content-Disposition: attachment — xlsx exports, the
statistics table, card images, templates, and whatever is added later) to a logged-in user
gets an AccessLog row: who, when, from where, which path. Photo downloads are logged by the
evidence service with the photo's id, and a clue's documents by the clue service with the
document's id (server/rectification/clues.py), so they are not logged twice.
"""

from __future__ import annotations

import re

from litestar.types import Message, Scope

from server.models.evidence import AccessLog

LOGGED_ELSEWHERE = ("/photos/",)
LOGGED_ELSEWHERE_RE = re.compile(r"^/clues/[^/]+/documents/")


async def log_download(message: Message, scope: Scope) -> None:
    if message["type"] != "http.response.start" or message.get("status", 200) >= 300:
        return
    disposition = next((value.decode("latin-1") for name, value in message.get("headers", ())
                        if name.lower() == b"content-disposition"), "")
    user = scope.get("user")
    path = scope.get("path", "")
    if (not disposition.lower().startswith("attachment") or user is None or path.startswith(LOGGED_ELSEWHERE)
            or LOGGED_ELSEWHERE_RE.match(path)):
        return
    client = scope.get("client")
    await AccessLog.insert(AccessLog(user=user.id, username=user.username, action="download",
                                     object_table="download", object_id=path[:64],
                                     ip=(client[0] if client else "")[:64]))
