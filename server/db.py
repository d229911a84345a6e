"""Database engine choice: PostgreSQL when DATABASE_URL is set, else a SQLite file in DATA_DIR."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import AsyncIterator

from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from server.settings import Settings


def make_engine(settings: Settings) -> Engine:
    if settings.uses_postgres:
        return PostgresEngine(config={"dsn": settings.database_url})
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SQLiteEngine(path=str(settings.sqlite_path), timeout=60)


def engine() -> Engine:
    db = engine_finder()
    assert db is not None, "piccolo_conf.DB is not configured"
    return db


def is_postgres() -> bool:
    return isinstance(engine(), PostgresEngine)


@asynccontextmanager
async def atomic() -> AsyncIterator[None]:
    """A write transaction. On SQLite it takes the write lock up front (BEGIN IMMEDIATE),
    so two writers never deadlock on a lock upgrade; nested calls join the outer one."""
    db = engine()
    if db.transaction_exists():
        yield
        return
    if isinstance(db, SQLiteEngine):
        async with db.transaction(transaction_type=TransactionType.immediate):
            yield
    else:
        async with db.transaction():
            yield


async def start(settings: Settings) -> None:
    db = engine()
    if isinstance(db, PostgresEngine):
        await db.start_connection_pool(min_size=1, max_size=10)
    else:
        # WAL lets readers run beside the single writer.
        await db.run_ddl("PRAGMA journal_mode=WAL")


async def stop() -> None:
    db = engine()
    if isinstance(db, PostgresEngine):
        await db.close_connection_pool()


async def ping() -> None:
    await engine().run_ddl("SELECT 1")
