"""One-off documents: the liaison's page (upload, replace), the office's board per kind of
document (accept, return), and the file's download (an attachment: access-logged)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Stream, Template

from server import clock
from server.campaign.service import require_active
from server.documents import service
from server.documents.files import download_name
from server.errors import FormError
from server.forms import client_uuid, new_uuid, text
from server.storage import ObjectNotFound
from server.vocab import DocumentKind, DocumentStatus, Role
from server.web import act, render, roles

LIAISON = roles(Role.liaison)
READ = roles(Role.office, Role.leader)
OFFICE = roles(Role.office)
FILE = roles(Role.office, Role.leader, Role.liaison)


async def _mine(request: Request, errors: dict[str, str] | None = None) -> dict[str, Any]:
    campaign = await require_active()
    user = request.scope["user"]
    return {"entries": await service.for_body(campaign, user.body_id, clock.today()) if user.body_id else [],
            "errors": errors or {}, "new_uuid": new_uuid, "body_name": user.body_name}


@get("/documents", opt=FILE, name="documents")
async def documents_page(request: Request) -> Any:
    """A liaison's own documents; the office and leaders go to the board."""
    if request.scope["user"].role != Role.liaison:
        return Redirect("/documents/board", status_code=303)
    return render("documents/mine.html", **await _mine(request))


@post("/documents/{doc_kind:str}", opt=LIAISON)
async def upload(request: Request, doc_kind: FromPath[str]) -> Any:
    if doc_kind not in {k.value for k in DocumentKind}:
        raise NotFoundException("没有这种报送材料")
    form = await request.form()
    file = form.get("file")
    user = request.scope["user"]

    async def action() -> Any:
        if not isinstance(file, UploadFile) or not file.filename:
            raise FormError({"file": "请选择要上传的文件"})
        campaign = await require_active()
        return await service.upload(user, request.app.state.store, request.app.state.settings, campaign,
                                    doc_kind, client_uuid(form), file.filename, await file.read())

    return await act(request, action, page="documents/mine.html",
                     context=lambda errors: _mine(request, {f"{doc_kind}_{k}": v for k, v in errors.items()}),
                     redirect="/documents")


async def _board(request: Request, kind: str, errors: dict[str, str] | None = None) -> dict[str, Any]:
    campaign = await require_active()
    entries = await service.board(campaign, kind, clock.today())
    return {"entries": entries, "kind": kind, "kinds": DocumentKind.options(), "counts": service.counts(entries),
            "late": service.reminders(entries), "statuses": DocumentStatus.options(), "errors": errors or {}}


@get("/documents/board", opt=READ)
async def board_page(request: Request) -> Template:
    kind = request.query_params.get("kind") or DocumentKind.plan.value
    if kind not in {k.value for k in DocumentKind}:
        raise NotFoundException("没有这种报送材料")
    return render("documents/board.html", **await _board(request, kind))


async def _decide(request: Request, doc_id: int, action) -> Any:
    row = await service.get_for(request.scope["user"], doc_id)
    return await act(request, action, page="documents/board.html",
                     context=lambda errors: _board(request, row.kind, {f"doc{doc_id}": e for e in errors.values()}),
                     redirect=f"/documents/board?kind={row.kind}#doc-{doc_id}")


@post("/documents/{doc_id:int}/accept", opt=OFFICE)
async def accept(request: Request, doc_id: FromPath[int]) -> Any:
    return await _decide(request, doc_id, lambda: service.accept(request.scope["user"], doc_id))


@post("/documents/{doc_id:int}/return", opt=OFFICE)
async def send_back(request: Request, doc_id: FromPath[int]) -> Any:
    form = await request.form()

    async def action() -> Any:
        errors: dict[str, str] = {}
        reason = text(form, "reason", label="退回理由", max_len=500, errors=errors)
        if errors:
            raise FormError(errors)
        return await service.send_back(request.scope["user"], doc_id, reason)

    return await _decide(request, doc_id, action)


@get("/documents/{doc_id:int}/file", opt=FILE)
async def download(request: Request, doc_id: FromPath[int]) -> Stream:
    try:
        stream, row, body_name = await service.open_file(request.app.state.store, request.scope["user"], doc_id)
    except ObjectNotFound:
        raise NotFoundException("文件不存在") from None
    name = download_name(body_name, DocumentKind.label_of(row.kind), row.object_key.rsplit(".", 1)[-1])
    return Stream(content=stream.chunks, media_type=row.content_type, headers={
        "Content-Length": str(stream.size), "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f"attachment; filename=\"document.{row.object_key.rsplit('.', 1)[-1]}\"; "
                               f"filename*=UTF-8''{quote(name)}"})


route_handlers = [documents_page, board_page, upload, accept, send_back, download]
