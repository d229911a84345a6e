"""The active campaign and where a date falls in it."""

from __future__ import annotations

import datetime as dt

from server.campaign.tables import Campaign, Phase


async def active_campaign() -> Campaign | None:
    return await Campaign.objects().where(Campaign.active == True).order_by(  # noqa: E712
        Campaign.starts_on, ascending=False).first()


async def phase_on(campaign_id: int, day: dt.date) -> Phase | None:
    """The phase whose dates contain the day; before the first phase, the first; after the
    last, the last (late entries still belong to the campaign)."""
    phases = await Phase.objects().where(Phase.campaign == campaign_id).order_by(Phase.starts_on)
    if not phases:
        return None
    for p in phases:
        if p.starts_on <= day <= p.ends_on:
            return p
    return phases[0] if day < phases[0].starts_on else phases[-1]
