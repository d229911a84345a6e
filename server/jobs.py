"""Background jobs of an app process, with their status in the object store for a page to poll.

A job runs as a task of the process that took the request; its status (a small JSON object:
state running / done / failed, progress, a message) lives in the object store under
``<prefix>/<key>/status.json``, so any app process answers the progress poll. If the process
dies the status stops moving, and a running status older than `stale_after` reads as broken
off. `spawn` keeps one task per name in the process (a second click finds the first) and a
reference to it until it ends; the app waits for running jobs at shutdown (running_jobs).

The weekly freeze (ledger/freeze.py) runs on this; the roster check and the ledger exports
keep their own copy of the same shape (registry/import_jobs.py, ledger/exports.py).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any, Coroutine

from server.storage import ObjectNotFound, ObjectStore

_running: dict[str, asyncio.Task] = {}


def status_key(prefix: str, key: str) -> str:
    return f"{prefix}/{key}/status.json"


def now_text() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat()


async def put_status(store: ObjectStore, prefix: str, key: str, status: dict) -> None:
    status["updated_at"] = now_text()
    await store.put(status_key(prefix, key), json.dumps(status, ensure_ascii=False).encode(), "application/json")


async def read_status(store: ObjectStore, prefix: str, key: str, stale_after: dt.timedelta,
                      broke_off: str) -> dict | None:
    """The job's status (None: never started or expired); a running job whose status has not
    moved for `stale_after` is reported failed with the message `broke_off`."""
    try:
        status = json.loads(await store.get(status_key(prefix, key)))
    except ObjectNotFound:
        return None
    if status.get("state") == "running":
        updated = dt.datetime.fromisoformat(status["updated_at"])
        if dt.datetime.now(dt.timezone.utc) - updated > stale_after:
            status.update(state="failed", message=broke_off)
    return status


def spawn(name: str, work: Coroutine[Any, Any, Any]) -> bool:
    """Run `work` as a task named `name`, unless this process already runs one by that name
    (then `work` is closed unrun). True when started."""
    task = _running.get(name)
    if task is not None and not task.done():
        work.close()
        return False
    task = asyncio.get_running_loop().create_task(work)
    _running[name] = task
    task.add_done_callback(lambda t: _running.pop(name, None) if _running.get(name) is t else None)
    return True


def is_running(name: str) -> bool:
    task = _running.get(name)
    return task is not None and not task.done()


def running_jobs() -> set[asyncio.Task]:
    return set(_running.values())


async def wait_all() -> None:
    """Let running jobs finish (tests, shutdown)."""
    while _running:
        await asyncio.gather(*list(_running.values()), return_exceptions=True)
