"""The dashboard: read-only, for the office and the leaders."""

from __future__ import annotations

from litestar import Request, get
from litestar.response import Template

from server import clock
from server.dashboard import service
from server.ledger import service as ledger
from server.vocab import Role
from server.web import render, roles


@get("/dashboard", opt=roles(Role.office, Role.leader), name="dashboard")
async def dashboard(request: Request) -> Template:
    campaign = await ledger.require_campaign()
    today = clock.today()
    return render("dashboard/index.html", campaign=campaign, today=today, **await service.overview(campaign, today))


route_handlers = [dashboard]
