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
