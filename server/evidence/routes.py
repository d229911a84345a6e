"""Serving photo evidence through the app: access check, then a logged read. Never public."""

from __future__ import annotations

from litestar.params import FromPath
from litestar import Request, Response, get

from server.evidence import service
from server.web import client_ip

_HEADERS = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}


async def _send(request: Request, uuid: str, thumb: bool) -> Response:
    data, content_type = await service.open_photo(
        request.app.state.store, request.scope["user"], uuid, thumb=thumb, ip=client_ip(request))
    return Response(content=data, media_type=content_type, headers=_HEADERS)


@get("/photos/{uuid:str}", name="photo")
async def photo(request: Request, uuid: FromPath[str]) -> Response:
    return await _send(request, uuid, thumb=False)


@get("/photos/{uuid:str}/thumb", name="photo_thumb")
async def photo_thumb(request: Request, uuid: FromPath[str]) -> Response:
    return await _send(request, uuid, thumb=True)


route_handlers = [photo, photo_thumb]
