"""The installable app: manifest, service worker (at /sw.js for root scope), icons, the
offline page and the outbox screen."""

from __future__ import annotations

import json

from litestar import Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from server.pwa.icons import icon_png
from server.pwa.service_worker import precache_urls, shell_version
from server.web import render

PUBLIC = {"public": True}
ICON_SIZES = (192, 512)

MANIFEST = {
    "name": "保安服务市场清理整顿 · 现场检查",
    "short_name": "保安检查",
    "description": "民警现场检查、拍照取证、扫码核验保安员证",
    "lang": "zh-CN",
    "start_url": "/",
    "scope": "/",
    "display": "standalone",
    "orientation": "portrait",
    "background_color": "#f3f5f8",
    "theme_color": "#0b3d91",
    "icons": [
        *({"src": f"/icons/icon-{n}.png", "sizes": f"{n}x{n}", "type": "image/png", "purpose": "any"}
          for n in ICON_SIZES),
        {"src": "/icons/maskable-512.png", "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
    ],
}


@get("/manifest.webmanifest", opt=PUBLIC, include_in_schema=False)
async def manifest() -> Response:
    return Response(json.dumps(MANIFEST, ensure_ascii=False), media_type="application/manifest+json",
                    headers={"Cache-Control": "public, max-age=3600"})


@get("/icons/{name:str}", opt=PUBLIC, include_in_schema=False)
async def icon(name: FromPath[str]) -> Response:
    sizes = {f"icon-{n}.png": (n, False) for n in ICON_SIZES} | {"maskable-512.png": (512, True)}
    if name not in sizes:
        raise NotFoundException("图标不存在")
    size, maskable = sizes[name]
    return Response(icon_png(size, maskable), media_type="image/png",
                    headers={"Cache-Control": "public, max-age=86400"})


@get("/sw.js", opt=PUBLIC, include_in_schema=False)
async def service_worker() -> Template:
    return Template(
        template_name="pwa/sw.js", media_type="application/javascript",
        context={"version": shell_version(), "precache": json.dumps(precache_urls())},
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
    )


@get("/offline", opt=PUBLIC, include_in_schema=False)
async def offline() -> Template:
    return render("pwa/offline.html")


@get("/outbox", opt=PUBLIC, name="outbox")  # its content lives on the phone, not the server
async def outbox() -> Template:
    return render("pwa/outbox.html")


route_handlers = [manifest, icon, service_worker, offline, outbox]
