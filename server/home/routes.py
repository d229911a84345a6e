"""The start page, by role."""

from __future__ import annotations

from litestar import Request, get
from litestar.response import Template

from server import clock
from server.campaign import service as campaigns
from server.models.campaign import Body
from server.forms import new_uuid
from server.documents import service as documents
from server.inspections import service as inspections
from server.ledger import coverage
from server.registry import service as registry
from server.reports import service as reports
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
            user, (InspectionStatus.draft, InspectionStatus.sent_back))
        ctx["submitted"] = await inspections.list_for_officer(
            user, (InspectionStatus.submitted, InspectionStatus.reviewed), limit=10)
    else:
        ctx["counts"] = await review.status_counts(user)
    campaign = await campaigns.active_campaign()
    today = clock.today()
    ctx["due_items"] = await _due_items(user, campaign, today)
    if user.role == Role.liaison and campaign is not None:
        ctx["coverage"] = await coverage.coverage_for(campaign.id, user.scope)
        ctx["documents_owed"] = await documents.owed_by(campaign, user.body_id, today) if user.body_id else []
    ctx["reports_due"] = await reports.due_for(user, campaign, today)
    return render("home/index.html", **ctx)


async def _due_items(user, campaign, today) -> list:
    """Reporting deadlines and waiting work for the user's body (officers see theirs on 回头看)."""
    if user.role == Role.officer or not user.body_id or campaign is None:
        return []
    body = await Body.select(Body.id, Body.is_police).where(Body.id == user.body_id).first()
    # A liaison's page lists its reports and documents with their status (reports.due_for,
    # documents.owed_by): their deadlines are not repeated among the reminders.
    elsewhere = ("weekly", "statistics", "plan", "summary") if user.role == Role.liaison else ()
    return await campaigns.due_for_body(campaign, body, today, elsewhere) if body else []


route_handlers = [home]
