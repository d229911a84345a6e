"""Storage that cleans itself, and a shutdown that lets running work finish.

Three kinds of objects are temporary: ledger export jobs (`exports/<job>/`, their files hold
full ID numbers), roster previews waiting for the office to confirm or cancel
(`imports/<uuid>.xlsx`, also ID numbers, with the check's status `imports/<uuid>.json`), and
the progress of a week's freeze (`weekly/<campaign>-<day>/status.json`; the frozen week itself
is in the database). All expire after `TEMP_FILE_DAYS` (default 7):

- on MinIO / S3 the bucket gets lifecycle rules (one per prefix, ids `expire-exports`,
  `expire-imports` and `expire-weekly`; other rules of the bucket are kept), so the store
  deletes them itself;
- every app process also sweeps these prefixes at start and then hourly, deleting objects older
  than the limit: the only mechanism on local disk, and a safety net where the S3 server
  ignores lifecycle rules. `python -m server storage sweep` does the same once.

`running()` is entered by the app's lifespan: it applies the rules, runs the sweeper, and on
shutdown cancels it and waits (at most DRAIN_SECONDS) for the in-process jobs the app names
(the ledger's export tasks, the roster checks) to finish. This module sits beside storage.py
and imports nothing above it: the jobs are handed in.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator, Callable, Collection

from anyio import to_thread

from server.settings import Settings
from server.storage import MinioStore, ObjectStore
from server.storage_stream import objects_with_age

log = logging.getLogger(__name__)

TEMP_PREFIXES = {"exports": "exports/", "imports": "imports/", "weekly": "weekly/"}
SWEEP_EVERY = 3600.0
DRAIN_SECONDS = 30.0


def _rules(days: int) -> list:
    from minio.commonconfig import ENABLED, Filter
    from minio.lifecycleconfig import Expiration, Rule

    return [Rule(ENABLED, rule_filter=Filter(prefix=prefix), rule_id=f"expire-{name}",
                 expiration=Expiration(days=days))
            for name, prefix in TEMP_PREFIXES.items()]


def _set_rules(store: MinioStore, days: int) -> None:
    from minio.lifecycleconfig import LifecycleConfig

    ours = {f"expire-{name}" for name in TEMP_PREFIXES}
    current = store.client.get_bucket_lifecycle(store.bucket)
    kept = [r for r in (current.rules if current else []) if r.rule_id not in ours]
    store.client.set_bucket_lifecycle(store.bucket, LifecycleConfig(kept + _rules(days)))


async def apply_rules(store: ObjectStore, days: int) -> bool:
    """Give a MinIO / S3 bucket its expiry rules; False for a local store (the sweep does it)."""
    if not isinstance(store, MinioStore):
        return False
    await to_thread.run_sync(_set_rules, store, days)
    return True


async def sweep(store: ObjectStore, days: int, now: dt.datetime | None = None) -> list[str]:
    """Delete exports/ and imports/ objects last modified more than `days` ago; their keys."""
    cutoff = (now or dt.datetime.now(dt.timezone.utc)) - dt.timedelta(days=days)
    deleted = []
    for prefix in TEMP_PREFIXES.values():
        for key, modified in await objects_with_age(store, prefix):
            if modified < cutoff:
                await store.delete(key)
                deleted.append(key)
    return deleted


async def _sweeper(store: ObjectStore, days: int) -> None:
    while True:
        try:
            deleted = await sweep(store, days)
            if deleted:
                log.info("deleted %d expired export/import objects", len(deleted))
        except Exception:  # noqa: BLE001 - a failed sweep is retried at the next round
            log.warning("sweeping expired export/import objects failed", exc_info=True)
        await asyncio.sleep(SWEEP_EVERY)


Jobs = Callable[[], Collection[asyncio.Task]]


async def drain(jobs: Collection[asyncio.Task], timeout: float = DRAIN_SECONDS) -> bool:
    """Wait for the running jobs, at most `timeout` seconds; True if all finished."""
    jobs = {task for task in jobs if not task.done()}
    if not jobs:
        return True
    log.warning("waiting up to %.0f s for %d running export job(s)", timeout, len(jobs))
    _, pending = await asyncio.wait(jobs, timeout=timeout)  # does not cancel them
    if pending:
        log.warning("%d export job(s) still running at shutdown; their pages will report them broken off",
                    len(pending))
    return not pending


@asynccontextmanager
async def running(store: ObjectStore, settings: Settings, jobs: Jobs = frozenset) -> AsyncIterator[None]:
    try:
        await apply_rules(store, settings.temp_file_days)
    except Exception:  # noqa: BLE001 - the sweep still expires them
        log.warning("could not set the bucket's lifecycle rules", exc_info=True)
    sweeper = asyncio.get_running_loop().create_task(_sweeper(store, settings.temp_file_days))
    try:
        yield
    finally:
        sweeper.cancel()
        await asyncio.gather(sweeper, return_exceptions=True)
        await drain(jobs())


# ---------------------------------------------------------------- python -m server storage sweep

def sweep_command():
    """`storage sweep [--days N]` (added to the storage group in server/cli.py)."""
    import anyio
    import click

    @click.command("sweep", help="Delete export files and roster previews older than TEMP_FILE_DAYS "
                                 "(also done hourly by every app process).")
    @click.option("--days", type=click.IntRange(min=0), default=None,
                  help="Age limit in days instead of TEMP_FILE_DAYS (0: all of them).")
    def storage_sweep(days: int | None) -> None:
        from server.console import loaded_app

        app = loaded_app()
        settings, store = app.state.settings, app.state.store
        limit = settings.temp_file_days if days is None else days
        deleted = anyio.run(sweep, store, limit)
        for key in deleted:
            click.echo(f"DELETED  {key}")
        click.echo(f"storage sweep ({store.describe()}): {len(deleted)} objects under "
                   f"{' and '.join(TEMP_PREFIXES.values())} older than {limit} days deleted")

    return storage_sweep
