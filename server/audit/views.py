"""The access log of views that happen on every scan (an officer opening a guard's card), written
beside the response and together: group commit.

The card page is the busiest page of the app, and a durable row per view was a third of its
cost: building the insert, a turn of the database's single writer, a commit. Here the page
hands its row to `log_view`, which queues it and returns: the first waiting row starts an
insert at once, in a task of its own that runs while the page is rendered and sent; rows that
arrive while it runs go together into the next one, as one multi-row INSERT. So there is never
more than one insert in flight, no timer, and no added wait when the app is idle: a row is
committed a few milliseconds after its response (behind at most one insert under load). The
window in which a crash can lose a view already shown is that gap (README "Access log of card
views"; tests/faults/test_view_log.py kills the server with SIGKILL right after views and
finds them).

`log_view` queues the row and returns; it does not wait for the commit. A request that waited
kept everything it had made (its scope, its response, the page's context, the middleware's
frames) alive for the length of an insert, ~100 ms under load; those objects outlived the young
garbage collections and every second or so a full collection of ~100 ms stopped the event loop
(the card page's p99; bench/README.md, issue 17). It waits only when more than MAX_PENDING rows
are queued (the database is not keeping up: back-pressure instead of unbounded memory). The
app's shutdown waits for the queued rows (`flush`); a failed insert is logged as an error with
the number of views it lost.

Rows that must be counted right away (reveals of an ID number, which are rate-limited by
counting them) keep the synchronous write (registry.service.log_access).
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import logging
from typing import Any, Optional

from server import clock, db

_log = logging.getLogger(__name__)

_COLUMNS = '"at", "user", "username", "action", "object_table", "object_id", "ip"'
_ROW = "(" + ", ".join(["{}"] * 7) + ")"
MAX_BATCH = 500
"""Rows per INSERT (7 parameters each: well below SQLite's and asyncpg's parameter limits)."""
MAX_PENDING = 5000
"""Queued rows above which log_view waits for the commit of its own row (back-pressure)."""


class _GroupCommit:
    """Rows waiting for the next insert, and the insert running now (one per event loop)."""

    def __init__(self) -> None:
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self.pending: list[tuple] = []
        self.done: Optional[asyncio.Future] = None  # resolved when `pending` is written
        self.writer: Optional[asyncio.Task] = None

    def add(self, row: tuple) -> asyncio.Future:
        loop = asyncio.get_running_loop()
        if loop is not self.loop:  # a new event loop (tests, a CLI's run_sync): start afresh
            self.loop, self.pending, self.done, self.writer = loop, [], None, None
        if self.done is None:
            self.done = loop.create_future()
        self.pending.append(row)
        done = self.done
        if self.writer is None:
            # a context of its own: not the first waiter's (its request, any transaction of it)
            self.writer = loop.create_task(self._write(), context=contextvars.Context())
        return done

    async def _write(self) -> None:
        try:
            while self.pending:
                rows, done = self.pending, self.done
                self.pending, self.done = [], None
                try:
                    for i in range(0, len(rows), MAX_BATCH):
                        await _insert(rows[i:i + MAX_BATCH])
                except BaseException as exc:  # noqa: BLE001 - handed to every waiter
                    _log.error("access log: %d views were not written", len(rows), exc_info=exc)
                    if not done.done():
                        done.set_exception(exc)
                        done.exception()  # retrieved: nobody may be waiting for it
                    if not isinstance(exc, Exception):
                        raise
                else:
                    if not done.done():
                        done.set_result(len(rows))
        finally:
            self.writer = None


_group = _GroupCommit()


# PostgreSQL: the batch as one array per column, so the statement is the same whatever the
# batch's size (asyncpg prepares it once) and its parameters are seven, not seven per row.
_PG_INSERT = (f'INSERT INTO "access_log" ({_COLUMNS}) SELECT * FROM unnest('
              '{}::timestamptz[], {}::integer[], {}::text[], {}::text[], {}::text[], {}::text[], {}::text[])')


async def _insert(rows: list[tuple]) -> None:
    if db.is_postgres():
        await db.raw(_PG_INSERT, *map(list, zip(*rows)))
        return
    values = ", ".join([_ROW] * len(rows))
    await db.raw(f'INSERT INTO "access_log" ({_COLUMNS}) VALUES {values}', *(v for r in rows for v in r))


async def log_view(user_id: int, username: str, action: str, table: str, object_id: Any, ip: str,
                   at: Optional[dt.datetime] = None) -> None:
    """Queue one AccessLog row for the next insert (batched with the rows of concurrent views)
    and return; with more than MAX_PENDING rows queued, wait for its commit (and raise what the
    insert raised). `at` is when the view was served."""
    row = (at or clock.now(), user_id, username[:64], action[:32], table[:32], str(object_id)[:64], ip[:64])
    done = _group.add(row)
    if len(_group.pending) > MAX_PENDING:
        await asyncio.shield(done)


async def flush() -> None:
    """Wait until every row queued so far on this event loop is committed (or its insert failed,
    which the writer has logged): the app's shutdown, before the database closes."""
    writer = _group.writer
    if writer is not None and _group.loop is asyncio.get_running_loop():
        await asyncio.shield(writer)
