"""The office's inspection list."""

from __future__ import annotations

from litestar import Request, get
from litestar.params import FromQuery
from litestar.response import Template

from server.review import service
from server.vocab import InspectionStatus, Role
from server.web import render


@get("/office/inspections", opt={"roles": (Role.office.value, Role.leader.value)}, name="office_inspections")
async def inspections(request: Request, status: FromQuery[str] = InspectionStatus.submitted.value,
                      page: FromQuery[int] = 1) -> Template:
    if status not in {s.value for s in InspectionStatus} - {InspectionStatus.draft.value}:
        status = InspectionStatus.submitted.value
    page = max(page, 1)
    rows, total = await service.list_inspections(request.scope["user"], status, page)
    counts = await service.status_counts(request.scope["user"])
    return render("review/inspections.html", rows=rows, total=total, status=status, page=page,
                  counts=counts, page_size=service.PAGE_SIZE)


route_handlers = [inspections]
