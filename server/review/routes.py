"""The office's review: the queue, an inspection's review page, decisions, the printable record.

Only the office decides (opt roles); leaders read. Handlers read the form, call the service,
and answer with a fragment for htmx or a redirect (post/redirect/get) for a plain form."""

from __future__ import annotations

import datetime as dt
from typing import Any, Awaitable, Callable

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Template

from server.errors import FormError
from server.forms import integer, text
from server.inspections import service as inspections
from server.review import rules, service
from server.vocab import Role
from server.web import act, is_htmx, render, roles

READ = roles(Role.office, Role.leader)
DECIDE = roles(Role.office)


def _page_url(uuid: str, anchor: str = "") -> str:
    return f"/office/inspections/{uuid}{anchor}"


@get("/office/inspections", opt=READ, name="office_inspections")
async def queue(request: Request) -> Template:
    user = request.scope["user"]
    filters, errors = rules.parse_filters(request.query_params)
    counts = await service.status_counts(user, filters)
    rows, total = await service.list_inspections(user, filters, counts)
    return render("review/inspections.html", status_code=422 if errors else 200, rows=rows,
                  total=total, f=filters, counts=counts, errors=errors,
                  options=await service.filter_options(), page_size=service.PAGE_SIZE)


async def _context(request: Request, insp: Any, **extra: Any) -> dict[str, Any]:
    user = request.scope["user"]
    r = await service.review_detail(insp)
    return {"r": r, "d": r.d, "insp": r.insp, "can_review": service.may_review(user, insp),
            "own": insp.officer == user.id, "errors": {}, **extra}


@get("/office/inspections/{uuid:str}", opt=READ, name="review_inspection")
async def review_page(request: Request, uuid: FromPath[str]) -> Template:
    insp = await inspections.get_for(request.scope["user"], uuid)
    return render("review/inspection.html", **await _context(request, insp))


@get("/office/inspections/{uuid:str}/print", opt=READ, name="inspection_record")
async def print_record(request: Request, uuid: FromPath[str]) -> Template:
    insp = await inspections.get_for(request.scope["user"], uuid)
    return render("review/print.html", now=dt.datetime.now(dt.timezone.utc),
                  **await _context(request, insp))


async def _decide(request: Request, uuid: str, kind: str, item_id: int,
                  decide: Callable[..., Awaitable[Any]]) -> Any:
    """The office's decision on one finding or photo (`kind`): the item's fragment comes back
    (with the finish box out of band), or the page with the message beside the item."""
    user = request.scope["user"]
    insp = await inspections.get_for(user, uuid)
    form = await request.form()
    prefix = f"{kind}{item_id}"

    async def context(errors: dict[str, str]) -> dict[str, Any]:
        # What the user chose and typed is shown again beside the message, never overwritten.
        posted = {"item": prefix, "decision": str(form.get("decision") or ""),
                  "note": str(form.get("note") or "")} if errors else None
        swap = {"oob": True, f"{kind}_id": item_id} if is_htmx(request) else {}
        return await _context(request, insp, errors=errors, posted=posted, **swap)

    return await act(
        request, lambda: decide(user, insp, item_id, str(form.get("decision") or ""), str(form.get("note") or "")),
        fragment=f"review/_{kind}_swap.html", page="review/inspection.html", context=context,
        redirect=_page_url(insp.uuid, f"#{kind}-{item_id}"), prefix=f"{prefix}.", conflict_field=f"{prefix}._")


@post("/office/inspections/{uuid:str}/findings/{finding_id:int}", opt=DECIDE)
async def decide_finding(request: Request, uuid: FromPath[str], finding_id: FromPath[int]) -> Any:
    form = await request.form()
    errors: dict[str, str] = {}
    offender = integer(form, "offender", label="违法主体", minimum=1, maximum=2**31, errors=errors)
    name = text(form, "offender_name", label="其他单位名称", max_len=128, errors=errors)

    async def decide(user: Any, insp: Any, item_id: int, decision: str, note: str) -> Any:
        if errors:
            raise FormError({f"finding{item_id}.offender": next(iter(errors.values()))})
        return await service.decide_finding(user, insp, item_id, decision, note, offender_id=offender,
                                            offender_name=name)

    return await _decide(request, uuid, "finding", finding_id, decide)


@post("/office/inspections/{uuid:str}/photos/{photo_id:int}", opt=DECIDE)
async def decide_photo(request: Request, uuid: FromPath[str], photo_id: FromPath[int]) -> Any:
    return await _decide(request, uuid, "photo", photo_id, service.decide_photo)


@post("/office/inspections/{uuid:str}/finish", opt=DECIDE)
async def finish(request: Request, uuid: FromPath[str]) -> Any:
    user = request.scope["user"]
    insp = await inspections.get_for(user, uuid)
    form = await request.form()
    return await act(request, lambda: service.finish(user, insp, str(form.get("note") or "")),
                     fragment="review/_finish.html", page="review/inspection.html",
                     context=lambda errors: _context(request, insp, errors=errors),
                     redirect=_page_url(insp.uuid), conflict_field="finish", fragment_on_refusal_only=True)


route_handlers = [queue, review_page, print_record, decide_finding, decide_photo, finish]
