"""Finding a site to inspect (phone)."""

from __future__ import annotations

from litestar import Request, get
from litestar.params import FromQuery
from litestar.response import Template

from server.forms import new_uuid
from server.registry import service
from server.vocab import Role
from server.web import is_htmx, render


@get("/sites", opt={"roles": (Role.officer.value, Role.liaison.value)}, name="sites")
async def sites(request: Request, q: FromQuery[str] = "") -> Template:
    user = request.scope["user"]
    results = await service.search_sites(user.scope, q)
    template = "registry/_site_results.html" if is_htmx(request) else "registry/sites.html"
    return render(template, q=q, results=results, new_uuid=new_uuid)


route_handlers = [sites]
