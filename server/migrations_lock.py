"""Migrations that several processes may start at once (`python -m server db migrate`).

Every app container runs the migrations on start (deploy/entrypoint.sh), and compose may start
several. The first one takes a lock and migrates; the others wait for it, then find nothing to
do. On PostgreSQL the lock is a session-level advisory lock held on a connection of its own for
the whole run (Piccolo's connections are separate); on SQLite, an exclusive lock on a file beside
the database (processes sharing one DATA_DIR).
"""

from __future__ import annotations

import contextlib
import fcntl
from typing import Any, AsyncIterator, Callable

from anyio import to_thread

from server.settings import Settings

# pg_advisory_lock key: any bigint no other code of this database uses; ASCII "migrate".
ADVISORY_KEY = int.from_bytes(b"migrate", "big")


def lock_file(settings: Settings):
    return settings.data_dir / "migrate.lock"


@contextlib.asynccontextmanager
async def migration_lock(settings: Settings, on_wait: Callable[[], None] = lambda: None) -> AsyncIterator[None]:
    if settings.uses_postgres:
        import asyncpg

        conn = await asyncpg.connect(settings.database_url)
        try:
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", ADVISORY_KEY):
                on_wait()
                await conn.execute("SELECT pg_advisory_lock($1)", ADVISORY_KEY)
            try:
                yield
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", ADVISORY_KEY)
        finally:
            await conn.close()
        return
    path = lock_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            on_wait()
            await to_thread.run_sync(fcntl.flock, fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


async def migrate(settings: Settings, on_wait: Callable[[], None] = lambda: None) -> Any:
    """Apply every pending migration under the lock; Piccolo's result (success, message)."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    async with migration_lock(settings, on_wait):
        return await run_forwards("all")
