"""server/db.py's engine-neutral helpers answer alike on both engines: rows streamed or paged
in key order, raw SQL, the case-insensitive match."""

from __future__ import annotations

from server import db
from server.models.registry import Guard


def guards():
    return Guard.select(Guard.id, Guard.name, Guard.certificate_status).where(Guard.name != "")


async def test_stream_rows_and_pages_read_every_row_in_key_order_in_batches(world):
    everything = await guards().order_by(Guard.id)
    assert len(everything) == 4
    as_tuples = [tuple(r.values()) for r in everything]
    for batch in (1, 2, 3, 4, 5):
        pages = [rows async for rows in db.pages(guards, Guard.id, batch)]
        assert [r for rows in pages for r in rows] == everything
        assert [len(rows) for rows in pages] == [len(everything[i:i + batch]) for i in range(0, 4, batch)]
        streamed = [rows async for rows in db.stream_rows(guards, Guard.id, batch)]
        assert [tuple(r) for rows in streamed for r in rows] == as_tuples
        assert [len(rows) for rows in streamed] == [len(rows) for rows in pages]
    # inside a transaction (whose connection a cursor cannot share): the same rows
    async with db.atomic():
        streamed = [rows async for rows in db.stream_rows(guards, Guard.id, 3)]
    assert [tuple(r) for rows in streamed for r in rows] == as_tuples


async def test_raw_binds_its_arguments_on_either_engine(world):
    rows = await db.raw("SELECT g.name AS name FROM guard g WHERE g.employer = {} AND g.certificate_status = {}"
                        " ORDER BY g.id", world.units.secco.id, "valid")
    assert rows == [{"name": "张伟"}]
    assert await db.raw('SELECT COUNT(*) AS n FROM finding f WHERE f."order" IS NULL') == [{"n": 0}]


async def test_contains_ignores_case_and_the_users_wildcards(world):
    from server.models.registry import Unit

    await Unit.update({Unit.name: "ABC物业"}).where(Unit.id == world.units.estate_co.id)

    async def found(q: str) -> list[str]:
        return [r["name"] for r in await Unit.select(Unit.name).where(db.contains(Unit.name, q)).order_by(Unit.id)]

    assert await found("abc") == await found("ABC") == ["ABC物业"]
    assert await found("物业") == ["ABC物业"]
    assert await found("第一中学") == ["蓟州区第一中学"]
    assert await found("a%c") == await found("a_c") == []
