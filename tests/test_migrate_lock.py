"""Several app containers start at once and each runs `db migrate`: one migrates, the others
wait for its lock, then find nothing to do (PostgreSQL: advisory lock; SQLite: a file lock)."""

from __future__ import annotations

import fcntl
import subprocess
import sys
import time
from pathlib import Path

from server.migrations_lock import ADVISORY_KEY
from server.settings import Settings
from tests.test_backup import empty_install

ROOT = Path(__file__).resolve().parents[1]
MIGRATIONS = len(list((ROOT / "migrations" / "core").glob("core_*.py")))


def start_migrate(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "server", "db", "migrate"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


async def applied(env: dict[str, str]) -> list[str]:
    """The migrations recorded in the install's database ([] before the first run)."""
    settings = Settings.from_env(env)
    if settings.uses_postgres:
        import asyncpg

        conn = await asyncpg.connect(settings.database_url)
        try:
            if not await conn.fetchval("SELECT to_regclass('migration') IS NOT NULL"):
                return []
            return [r["name"] for r in await conn.fetch("SELECT name FROM migration ORDER BY id")]
        finally:
            await conn.close()
    import sqlite3

    if not settings.sqlite_path.exists():
        return []
    conn = sqlite3.connect(settings.sqlite_path)
    try:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'migration'").fetchone():
            return []
        return [r[0] for r in conn.execute("SELECT name FROM migration ORDER BY id")]
    finally:
        conn.close()


async def hold_lock(env: dict[str, str]):
    """Take the migration lock as another process would; returns a release function."""
    settings = Settings.from_env(env)
    if settings.uses_postgres:
        import asyncpg

        conn = await asyncpg.connect(settings.database_url)
        assert await conn.fetchval("SELECT pg_try_advisory_lock($1)", ADVISORY_KEY)

        async def release() -> None:
            await conn.close()  # ends the session, and with it the lock
        return release
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    fh = open(settings.data_dir / "migrate.lock", "a")
    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)

    async def release() -> None:
        fh.close()
    return release


async def test_a_second_migrate_waits_for_the_first_then_finds_nothing_to_do(service_env, backend, tmp_path):
    env = await empty_install(service_env, backend, tmp_path)
    release = await hold_lock(env)
    waiting = start_migrate(env)
    seen = []
    while not seen or "waiting for it" not in seen[-1]:  # the process says it waits (or dies: '')
        seen.append(waiting.stderr.readline())
        assert seen[-1], f"exited without waiting: {seen} {waiting.communicate()}"
    assert seen[-1].strip() == "another process is migrating the database; waiting for it"
    time.sleep(1)
    assert waiting.poll() is None  # still waiting for the lock
    assert await applied(env) == []
    await release()
    out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err
    assert "database is up to date" in out
    assert len(await applied(env)) == MIGRATIONS

    again = subprocess.run([sys.executable, "-m", "server", "db", "migrate"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "No migrations need to be run" in again.stdout
    assert len(await applied(env)) == MIGRATIONS


async def test_two_containers_migrating_at_once_both_succeed(service_env, backend, tmp_path):
    env = await empty_install(service_env, backend, tmp_path)
    both = [start_migrate(env), start_migrate(env)]
    results = [p.communicate(timeout=180) for p in both]
    assert [p.returncode for p in both] == [0, 0], results
    names = await applied(env)
    assert len(names) == len(set(names)) == MIGRATIONS
