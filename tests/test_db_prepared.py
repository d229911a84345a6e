"""server/db.py's two speed-ups answer exactly like the plain Piccolo paths they replace:
Prepared (a select built and compiled once) and, on SQLite, the pool of open connections."""

from __future__ import annotations

import asyncio
import datetime as dt

from server import db
from server.auth.service import load_session, token_hash
from server.models.auth import Session
from server.registry import service as registry
from server.models.registry import Guard, TrainingRecord

GUARD_WITH_EMPLOYER = db.Prepared(lambda employer_id, status: Guard.select(
    Guard.id, Guard.name, Guard.certificate_status, Guard.employer.name, Guard.site.name,
).where((Guard.employer == employer_id) & (Guard.certificate_status == status)).order_by(Guard.id))


def plain(employer_id: int, status: str):
    return Guard.select(
        Guard.id, Guard.name, Guard.certificate_status, Guard.employer.name, Guard.site.name,
    ).where((Guard.employer == employer_id) & (Guard.certificate_status == status)).order_by(Guard.id)


async def test_prepared_select_returns_what_the_plain_query_returns(world):
    secco, estate = world.units.secco.id, world.units.estate_co.id
    for employer, status in [(secco, "valid"), (secco, "revoked"), (estate, "valid"), (estate, "none")]:
        assert await GUARD_WITH_EMPLOYER.rows(employer, status) == await plain(employer, status)
    # the same prepared query, run again with other values, binds the new ones
    first = await GUARD_WITH_EMPLOYER.rows(secco, "valid")
    assert [r["name"] for r in first] == ["张伟"]
    assert [r["employer.name"] for r in first] == ["蓟州区安泰保安服务有限公司"]
    assert await GUARD_WITH_EMPLOYER.first(estate, "none") is None


async def test_session_lookup_and_guard_file_through_prepared_queries(world, client_factory):
    client = await client_factory("officer")
    row = await Session.select(Session.token_hash).first()
    assert row is not None
    cookie = client.cookies["sid"]
    assert token_hash(cookie) == row["token_hash"]
    user = await load_session(cookie)
    assert (user.username, user.display_name, user.role, user.body_name) == ("officer", "王警官", "officer", "公安蓟州分局")
    assert await load_session("not-a-session") is None

    await TrainingRecord(guard=world.guards.valid.id, kind="pre_job", hours=8,
                         held_on=dt.date(2020, 12, 1)).save()
    file = await registry.guard_file(world.guards.valid.id)
    assert file["guard"]["name"] == "张伟"
    assert file["guard"]["employer.name"] == "蓟州区安泰保安服务有限公司"
    assert [t["kind"] for t in file["training"]] == ["pre_job"]


async def test_sqlite_pool_serves_concurrent_statements_and_sees_committed_writes(world):
    engine = db.engine()
    if not isinstance(engine, db.PooledSQLiteEngine):
        return  # PostgreSQL: asyncpg's own pool
    await engine.open_pool(readers=2)
    try:
        secco = world.units.secco.id
        results = await asyncio.gather(*(GUARD_WITH_EMPLOYER.rows(secco, "valid") for _ in range(40)))
        assert all([r["name"] for r in rows] == ["张伟"] for rows in results)
        # a write through a pooled connection outside a transaction is committed at once …
        await Guard.update({Guard.name: "张伟伟"}).where(Guard.id == world.guards.valid.id)
        # … and a transaction (its own connection) sees it, then writes what the pool reads
        async with db.atomic():
            assert (await Guard.select(Guard.name).where(Guard.id == world.guards.valid.id).first())["name"] == "张伟伟"
            await Guard.update({Guard.name: "张伟"}).where(Guard.id == world.guards.valid.id)
        assert [r["name"] for r in await GUARD_WITH_EMPLOYER.rows(secco, "valid")] == ["张伟"]
    finally:
        await engine.close_pool()
        await engine.open_pool()


async def test_postgres_lookups_run_on_their_own_connections_and_outlive_losing_them(world):
    engine = db.engine()
    if not isinstance(engine, db.PooledPostgresEngine):
        return  # SQLite: the pool above
    await db.stop(engine)
    await db.start(engine)  # on this test's event loop
    try:
        secco = world.units.secco.id
        kept = list(engine._idle)
        assert len(kept) == db.LOOKUP_CONNECTIONS
        results = await asyncio.gather(*(GUARD_WITH_EMPLOYER.rows(secco, "valid") for _ in range(40)))
        expected = await plain(secco, "valid")
        assert expected and all(rows == expected for rows in results)
        assert sorted(map(id, engine._idle)) == sorted(map(id, kept)), "a lookup connection was not put back"

        # Inside a transaction a lookup sees the transaction's own writes (it takes its connection).
        async with db.atomic():
            await Guard.update({Guard.name: "张伟伟"}).where(Guard.id == world.guards.valid.id)
            assert [r["name"] for r in await GUARD_WITH_EMPLOYER.rows(secco, "valid")] == ["张伟伟"]
        assert [r["name"] for r in await GUARD_WITH_EMPLOYER.rows(secco, "valid")] == ["张伟伟"]

        # A statement that fails leaves its connection usable.
        try:
            await engine.lookup("SELECT 1 / 0", [])
        except Exception as exc:  # noqa: BLE001
            assert "division by zero" in str(exc)
        else:
            raise AssertionError("the failed statement raised nothing")
        assert len(engine._idle) == db.LOOKUP_CONNECTIONS

        # A lookup cancelled mid-statement does not put its connection back.
        slow = asyncio.create_task(engine.lookup("SELECT pg_sleep(5)", []))
        await asyncio.sleep(0.2)
        slow.cancel()
        await asyncio.gather(slow, return_exceptions=True)
        assert len(engine._idle) == db.LOOKUP_CONNECTIONS - 1

        # The server ends every lookup connection (a restart does the same): lookups still
        # answer (the pool), and replacements are opened.
        pids = [c.get_server_pid() for c in engine._idle]
        await db.raw("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = ANY({})", pids)
        for _ in range(100):  # the backends end a moment later
            if not await db.raw("SELECT pid FROM pg_stat_activity WHERE pid = ANY({})", pids):
                break
            await asyncio.sleep(0.05)
        for _ in range(100):
            # as many lookups at once as there are connections: each idle one is taken in turn
            found = await asyncio.gather(*(GUARD_WITH_EMPLOYER.rows(secco, "valid")
                                           for _ in range(db.LOOKUP_CONNECTIONS)))
            assert all([r["name"] for r in rows] == ["张伟伟"] for rows in found)
            live = {c.get_server_pid() for c in engine._idle if not c.is_closed()}
            if len(live) == db.LOOKUP_CONNECTIONS and not live & set(pids):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"no new lookup connections: {engine._idle}")
    finally:
        await db.stop(engine)
        await db.start(engine)
