"""Photo evidence: taking it in (an inspection's uploads) and serving it through the app: access
check, then a logged read. Never public, never a redirect to the object store: the bytes always
pass through this check."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath
from litestar.response import Template

from server.errors import FormError
from server.evidence import service
from server.forms import client_uuid, number
from server.images import ImageRejected
from server.inspections import service as inspections
from server.vocab import Role
from server.web import act, client_ip, is_htmx, render, roles

def _parse_target(raw: str) -> tuple[str, int | None, int | None]:
    kind, _, ident = raw.partition(":")
    if kind == "guard" and ident.isdigit():
        return raw, int(ident), None
    if kind == "finding" and ident.isdigit():
        return raw, None, int(ident)
    return "general", None, None


def _parse_time(raw: str) -> dt.datetime | None:
    try:
        value = dt.datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))


@post("/inspections/{uuid:str}/photos", opt=roles(Role.officer, Role.liaison))
async def upload_photo(request: Request, uuid: FromPath[str]) -> Any:
    """A photo taken in an inspection (of the scene, a guard or a finding); a retry with the
    same photo uuid stores nothing twice."""
    user = request.scope["user"]
    insp = await inspections.get_for(user, uuid)
    form = await request.form()
    target, guard_check, finding = _parse_target(str(form.get("target") or ""))
    field = f"photo:{target}"

    async def action():
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise FormError({field: "请选择或拍摄一张照片"})
        data = await upload.read()
        try:
            await service.ingest(
                request.app.state.store, request.app.state.settings, user, insp,
                uuid=client_uuid(form, "photo_uuid"), data=data, guard_check=guard_check,
                finding=finding, captured_at=_parse_time(str(form.get("captured_at") or "")),
                lat=number(form, "lat", lo=-90, hi=90), lng=number(form, "lng", lo=-180, hi=180))
        except ImageRejected as exc:
            raise FormError({field: str(exc)}) from None

    return await act(
        request, action, fragment="inspections/_photos.html", page="inspections/page.html",
        context=lambda errors: inspections.page_context(user, insp, errors=errors, target=target,
                                                        guard_check=guard_check, finding=finding),
        redirect=f"/inspections/{insp.uuid}#{target.replace(':', '-')}")


# ---------------------------------------------------------------- reading

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


async def _photo_context(request: Request, uuid: str, **extra) -> dict:
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
    return render("evidence/photo.html", **await _photo_context(request, uuid))


@get("/photos/{uuid:str}/verify", name="photo_verify")
async def photo_verify(request: Request, uuid: FromPath[str]) -> Template:
    problem = await service.verify_photo(request.app.state.store, request.scope["user"], uuid,
                                         client_ip(request))
    if is_htmx(request):
        return render("evidence/_verify.html", problem=problem, checked=True)
    return render("evidence/photo.html", **await _photo_context(request, uuid, problem=problem, checked=True))


route_handlers = [photo, photo_thumb, photo_download, photo_page, photo_verify, upload_photo]
