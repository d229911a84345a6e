"""Guard cards: the verification page behind every QR code, scanning (live camera, photo of
the card, typed number) inside an inspection and on its own, issuing and printing cards."""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from litestar.utils.scope.state import ScopeState


from server import clock
from server.audit import views
from server.cards import qr, service
from server.errors import FormError
from server.forms import record_id
from server.registry import service as registry
from server.vocab import Role
from server.web import CSRF_COOKIE, client_ip, csrf_cookie, go, render, roles

OFFICE = roles(Role.office)
SCAN = roles(Role.officer, Role.liaison)
FILE_ROLES = (Role.officer, Role.office, Role.leader)
"""Who sees the guard's file behind a card; everyone else sees only the verdict and company."""


def _may_see_file(request: Request) -> bool:
    user = request.scope.get("user")
    return bool(user and user.role in FILE_ROLES)


def _form_token(request: Request, page: Template) -> Template:
    """The CSRF token of a signed-in viewer's card page, as the CSRF middleware gives a page:
    the CSRF cookie's, or a new one set with the page. The card URL is left out of the
    middleware (opt exclude_from_csrf; it only answers GET): anyone's phone camera opens it,
    and an anonymous visitor's page has no form, so it sets no cookie. A signed-in viewer's
    page posts (the ID number's reveal; htmx sends the token from <body hx-headers>)."""
    if request.scope.get("user") is None:
        return page
    token = request.cookies.get(CSRF_COOKIE)
    if not token:  # the browser kept the session but not the CSRF cookie (closed and reopened)
        cookie = csrf_cookie(request.app.state.settings)
        token = cookie.value
        page.set_cookie(cookie)
    ScopeState.from_scope(request.scope).csrf_token = token
    return page


async def _verify_page(request: Request, result: service.ScanResult) -> Template:
    """The verification page; for a viewer who may see the guard's file, the file too, and the
    view logged (an AccessLog row, queued for the next group commit: audit/views.py)."""
    user = request.scope.get("user")
    show_file = bool(_may_see_file(request) and result.guard)
    ctx: dict[str, Any] = {"result": result, "show_file": show_file, "user": user}
    if not show_file:
        return render("cards/verify.html", **ctx)
    gid = result.guard["id"]
    if result.training is not None:  # read with the card (service.check with_file)
        # The file as the card page shows it: the guard and the training records (the last
        # checks are the office's guard page's, registry/guard.html).
        ctx.update(guard=result.guard, training=result.training)
    else:
        ctx.update(await registry.guard_file(gid))
    await views.log_view(user.id, user.username, "guard_view", "guard", gid, client_ip(request), clock.now())
    return render("cards/verify.html", **ctx)


@get("/c/{token:str}", opt={"public": True, "exclude_from_csrf": True}, name="card_verify")
async def verify(request: Request, token: FromPath[str]) -> Template:
    """Where every card's QR code leads: any phone camera or WeChat opens it."""
    result = await service.check(request.app.state.settings, token, with_file=_may_see_file(request))
    return _form_token(request, await _verify_page(request, result))


@get("/cards/public-key", opt={"public": True}, include_in_schema=False)
async def public_key(request: Request) -> Response:
    """The Ed25519 public key that verifies card tokens (for offline checks on the phone)."""
    return Response({"alg": "Ed25519", "key": service.public_key(request.app.state.settings),
                     "format": "raw-32-bytes-base64url"},
                    headers={"Cache-Control": "public, max-age=3600"})


# ---------------------------------------------------------------- scanning

@get("/scan", opt=SCAN)
async def scan_page() -> Template:
    return render("cards/scan.html", errors={})


@post("/scan", opt=SCAN)
async def scan_standalone(request: Request) -> Any:
    """A scan outside an inspection: the same verification page as opening the URL."""
    form = await request.form()
    try:
        text = await service.scanned_text(request.app.state.settings, form)
    except FormError as exc:
        return render("cards/scan.html", status_code=422, errors=exc.errors)
    if text.startswith("cert:"):
        guard = await registry.guard_by_certificate(text[5:], request.scope["user"].scope)
        if guard is None:
            return render("cards/scan.html", status_code=422,
                          errors={"scan": f"名册中没有保安员证号 {text[5:]}：此人可能无证或证号有误"})
        card = await registry.current_card(guard["id"])
        if card is None:
            return render("cards/scan.html", status_code=422,
                          errors={"scan": f"{guard['name']} 尚未制作现场核验卡，请到检查中按证号添加"})
        text = service.card_url(request.app.state.settings, guard["id"], card["serial"])
    result = await service.check(request.app.state.settings, text, with_file=_may_see_file(request))
    return await _verify_page(request, result)


# ---------------------------------------------------------------- issuing and printing

@post("/cards/guards/{guard_id:int}/issue", opt=OFFICE)
async def issue(request: Request, guard_id: FromPath[int]) -> Any:
    """Issue (or reissue) the guard's card; any earlier card stops being valid."""
    try:
        await service.issue(request.app.state.settings, request.scope["user"], guard_id)
    except service.CardRefused as exc:
        return render("error.html", status_code=409, message=str(exc), detail="", status=409)
    return go(request, f"/registry/guards/{guard_id}#card")


@post("/cards/guards/{guard_id:int}/revoke", opt=OFFICE)
async def revoke(request: Request, guard_id: FromPath[int]) -> Any:
    await service.revoke(request.scope["user"], guard_id)
    return go(request, f"/registry/guards/{guard_id}#card")


def _ids(values: list[str]) -> list[int]:
    return sorted({i for i in map(record_id, values) if i is not None})[:500]


async def _selection(guard: list[str], unit: str) -> list[int]:
    ids = _ids(guard)
    if record_id(unit) is not None:
        ids += [g["id"] for g in await registry.list_guards(unit=record_id(unit), status="active", limit=500)]
    return sorted(set(ids))


@get("/cards/sheet", opt=OFFICE)
async def sheet(request: Request, guard: FromQuery[list[str] | None] = None, unit: FromQuery[str] = "") -> Template:
    """Printable A4 pages of CR80 cards for one guard, a unit, or a selection."""
    ids = await _selection(guard or [], unit)
    printable, missing = await service.sheet(request.app.state.settings, ids)
    return render("cards/sheet.html", cards=printable, missing=missing, ids=ids, unit=unit)


@post("/cards/sheet/issue", opt=OFFICE)
async def sheet_issue(request: Request) -> Any:
    """Issue cards to the guards of a sheet that have none yet (never reissues)."""
    form = await request.form()
    ids = _ids(form.getall("guard", []) if hasattr(form, "getall") else form.get("guard", []))
    refused = []
    for gid in ids:
        if await registry.current_card(gid) is None:
            try:
                await service.issue(request.app.state.settings, request.scope["user"], gid)
            except service.CardRefused as exc:
                refused.append(str(exc))
    query = "&".join(f"guard={i}" for i in ids)
    if refused:
        printable, missing = await service.sheet(request.app.state.settings, ids)
        return render("cards/sheet.html", status_code=409, cards=printable, missing=missing, ids=ids,
                      unit="", refused=refused)
    return go(request, f"/cards/sheet?{query}")


@get("/cards/guards/{guard_id:int}/card.png", opt=OFFICE)
async def card_png(request: Request, guard_id: FromPath[int]) -> Response:
    """The guard's current card as a 300 dpi PNG, for printers that want an image."""
    from litestar.exceptions import NotFoundException

    card = await registry.current_card(guard_id)
    if card is None:
        raise NotFoundException("该保安员尚未制卡")
    user = request.scope["user"]
    g = (await service.sheet(request.app.state.settings, [guard_id]))[0][0]
    portrait = None
    if g["guard"]["portrait_key"]:
        portrait = await registry.open_portrait(request.app.state.store, user, guard_id, client_ip(request))
    image = await to_thread.run_sync(lambda: qr.png_bytes(qr.card_image(
        url=g["url"], name=g["guard"]["name"], certificate_no=g["guard"]["certificate_no"] or "",
        employer=g["guard"]["employer.name"], serial=card["serial"],
        issued_on=card["issued_at"].strftime("%Y-%m-%d"), portrait=portrait)))
    return Response(content=image, media_type="image/png", headers={
        "Cache-Control": "private, no-store",
        "Content-Disposition": f'attachment; filename="card-{guard_id}-{card["serial"]}.png"'})


route_handlers = [verify, public_key, scan_page, scan_standalone,
                  issue, revoke, sheet, sheet_issue, card_png]
