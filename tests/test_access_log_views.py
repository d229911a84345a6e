"""The group commit of card views (server/audit/views.py): every queued view becomes exactly
one AccessLog row as it was queued, however many arrive together."""

from __future__ import annotations

import asyncio
import datetime as dt

from server.audit import views
from server.models.auth import User
from server.models.evidence import AccessLog


async def test_a_burst_of_views_is_written_row_for_row(world):
    at = dt.datetime(2026, 12, 1, 8, 30, tzinfo=dt.timezone.utc)
    n = views.MAX_BATCH * 2 + 37  # more than one insert's worth, queued while the first runs
    users = [u["id"] for u in await User.select(User.id)]

    def user(i: int) -> int | None:
        return None if i % 7 == 0 else users[i % len(users)]

    await asyncio.gather(*(views.log_view(user(i), f"officer-{i}", "guard_view", "guard",
                                          i, f"10.0.{i // 256}.{i % 256}", at + dt.timedelta(seconds=i))
                           for i in range(n)))
    await views.log_view(users[0], "x" * 80, "guard_view", "guard", "y" * 80, "z" * 80, at)  # cut to the columns
    await views.flush()
    rows = await AccessLog.select().order_by(AccessLog.id)
    assert len(rows) == n + 1
    by_object = {r["object_id"]: r for r in rows}
    for i in (0, 1, 500, n - 1):
        r = by_object[str(i)]
        assert (r["user"], r["username"], r["action"], r["object_table"], r["ip"]) == (
            user(i), f"officer-{i}", "guard_view", "guard", f"10.0.{i // 256}.{i % 256}")
        assert r["at"] == at + dt.timedelta(seconds=i)
    assert (rows[-1]["username"], rows[-1]["object_id"], rows[-1]["ip"]) == ("x" * 64, "y" * 64, "z" * 64)
