"""Serving photo evidence through the app: access check, then a logged read. Never public,
never a redirect to the object store: the bytes always pass through this check."""

from __future__ import annotations

from litestar.params import FromPath
from litestar import Request, Response, get
from litestar.response import Template

from server.evidence import service
from server.vocab import Role
from server.web import client_ip, is_htmx, render

_HEADERS = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
_EXT = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


async def _send(request: Request, uuid: str, thumb: bool, download: bool = False) -> Response:
    from litestar.response import Stream

    stream, content_type = await service.open_photo(
        request.app.state.store, request.scope["user"], uuid, thumb=thumb, ip=client_ip(request),
        download=download)
    headers = {**_HEADERS, "Content-Length": str(stream.size)}
    if download:
        headers["Content-Disposition"] = f'attachment; filename="photo-{uuid}.{_EXT.get(content_type, "bin")}"'
    return Stream(content=stream.chunks, media_type=content_type, headers=headers)


@get("/photos/{uuid:str}", name="photo")
async def photo(request: Request, uuid: FromPath[str]) -> Response:
    return await _send(request, uuid, thumb=False)


@get("/photos/{uuid:str}/thumb", name="photo_thumb")
async def photo_thumb(request: Request, uuid: FromPath[str]) -> Response:
    return await _send(request, uuid, thumb=True)


@get("/photos/{uuid:str}/download", name="photo_download")
async def photo_download(request: Request, uuid: FromPath[str]) -> Response:
    return await _send(request, uuid, thumb=False, download=True)


async def _page(request: Request, uuid: str, **extra) -> dict:
    user = request.scope["user"]
    ctx = await service.photo_page(user, uuid)
    ctx["show_log"] = user.role in (Role.office, Role.leader)
    if ctx["show_log"]:
        ctx["log"], ctx["log_total"] = await service.access_log(ctx["photo"]["id"])
    ctx["back"] = (f"/office/inspections/{ctx['insp'].uuid}" if ctx["show_log"]
                   else f"/inspections/{ctx['insp'].uuid}")
    return {**ctx, "labels": service.ACCESS_LABELS, **extra}


@get("/photos/{uuid:str}/view", name="photo_page")
async def photo_page(request: Request, uuid: FromPath[str]) -> Template:
    """The full view (zoom on a phone and a desktop), what is known about the photo, and, for
    the office and leaders, every view and download of it."""
    return render("evidence/photo.html", **await _page(request, uuid))


@get("/photos/{uuid:str}/verify", name="photo_verify")
async def photo_verify(request: Request, uuid: FromPath[str]) -> Template:
    problem = await service.verify_photo(request.app.state.store, request.scope["user"], uuid,
                                         client_ip(request))
    if is_htmx(request):
        return render("evidence/_verify.html", problem=problem, checked=True)
    return render("evidence/photo.html", **await _page(request, uuid, problem=problem, checked=True))


route_handlers = [photo, photo_thumb, photo_download, photo_page, photo_verify]
