"""The start page, by role."""

from __future__ import annotations

from litestar import Request, get
from litestar.response import Template

from server.forms import new_uuid
from server.inspections import service as inspections
from server.registry import service as registry
from server.review import service as review
from server.vocab import InspectionStatus, Role
from server.web import render


@get("/", name="home")
async def home(request: Request) -> Template:
    user = request.scope["user"]
    ctx: dict = {"new_uuid": new_uuid}
    if user.role in (Role.officer, Role.liaison):
        ctx["recent"] = await registry.recent_sites(user.scope, user.id)
        ctx["drafts"] = await inspections.list_for_officer(
            user, (InspectionStatus.draft, InspectionStatus.returned))
        ctx["submitted"] = await inspections.list_for_officer(
            user, (InspectionStatus.submitted, InspectionStatus.reviewed), limit=10)
    else:
        ctx["counts"] = await review.status_counts(user)
    return render("home/index.html", **ctx)


route_handlers = [home]
