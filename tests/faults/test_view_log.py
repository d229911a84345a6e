"""Every view of a guard's file behind a card is logged, although the AccessLog row is written
after the page has been sent (server/audit/views.py): the server killed with SIGKILL half a
second after a burst of views has committed every one of them."""

from __future__ import annotations

import asyncio
import time

from server.cards.service import card_url
from server.models.evidence import AccessLog
from server.models.registry import GuardCard
from tests.faults.conftest import session

VIEWS = 20
WINDOW_S = 0.5
"""README "Access log of card views": a view's row is committed within milliseconds of its page
being sent; this allows for a busy machine."""


async def test_card_views_are_logged_when_the_server_is_killed_right_after(server, world, tally, settings):
    gid = world.guards.valid.id
    await GuardCard(guard=gid, serial=1).save()
    url = card_url(settings, gid, 1)
    path = url[url.index("/c/"):]
    officer = await session(server.url, "officer")
    tally.faults += 1
    pages = await asyncio.gather(*(officer.get(path) for _ in range(VIEWS)))
    sent = time.monotonic()
    for r in pages:
        assert tally.answer(r).status_code == 200
        assert "执业电子档案" in r.text
    await asyncio.sleep(max(0.0, WINDOW_S - (time.monotonic() - sent)))
    server.kill()
    await officer.aclose()
    logged = await AccessLog.count().where((AccessLog.action == "guard_view") & (AccessLog.object_id == str(gid))
                                           & (AccessLog.username == "officer"))
    if logged < VIEWS:
        tally.lost.append(f"{VIEWS - logged} of {VIEWS} card views not in the access log after SIGKILL")
    assert logged == VIEWS
