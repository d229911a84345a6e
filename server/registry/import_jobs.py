"""Checking an uploaded roster as a background job, with progress the page can poll.

The upload waits in the object store as ``imports/<key>.xlsx`` (never public; expired with the
rest of imports/, server/lifecycle.py). Beside it, ``imports/<key>.json`` is the job's status:
state (running / done / failed), rows checked of rows in each sheet, and when done the report
the preview page shows (counts, sheets, rejected and flagged rows); ``imports/<key>-rejected.xlsx``
is the rejected rows as typed (下载未导入的行). Like the ledger's exports
(server/ledger/exports.py) the job keeps no state in the process, so any app process answers
the poll; the check runs as a task of the process that took the upload, and if that process
dies the status stops moving and the page says the check broke off (after STALE_AFTER).

Nothing is written to the registry here: the office's confirmation runs the import again from
the waiting file (routes.import_commit), in one transaction, and deletes the file.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import uuid as uuidlib
from dataclasses import dataclass, field
from typing import Any

from anyio import to_thread

from server.registry import roster_import
from server.registry.roster_import import Problem
from server.storage import ObjectNotFound, ObjectStore

log = logging.getLogger(__name__)

STALE_AFTER = dt.timedelta(minutes=2)
HEARTBEAT = 0.5
"""Seconds between writes of the status while the check runs (only when something moved,
and at least every few seconds so a living job never looks stale)."""
_running: set[asyncio.Task] = set()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def file_key(key: str) -> str:
    return f"imports/{key}.xlsx"


def status_key(key: str) -> str:
    return f"imports/{key}.json"


def rejected_key(key: str) -> str:
    """The rejected rows as the check found them (下载未导入的行 before the confirmation)."""
    return f"imports/{key}-rejected.xlsx"


def valid_key(key: str) -> str | None:
    try:
        return str(uuidlib.UUID(key))
    except ValueError:
        return None


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat()


async def _put_status(store: ObjectStore, key: str, status: dict) -> None:
    status["updated_at"] = _now()
    await store.put(status_key(key), json.dumps(status, ensure_ascii=False).encode(), "application/json")


@dataclass
class Summary:
    """What the preview page shows of a roster_import.Report, kept as JSON in the status."""
    sheets: list[tuple[str, str]]
    problems: list[Problem]
    warnings: list[Problem]
    totals: dict[str, int]
    committed: bool = False
    rows_read: int = 0
    _flagged: list[Problem] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return dict(self.totals)

    def flagged(self) -> list[Problem]:
        return list(self._flagged)

    @staticmethod
    def of(report: roster_import.Report) -> dict:
        def rows(problems: list[Problem]) -> list[list]:
            return [[p.sheet, p.row, p.column, p.reason] for p in problems]

        return {"sheets": [list(s) for s in report.sheets], "problems": rows(report.problems),
                "flagged": rows(report.flagged()), "counts": report.counts()}

    @classmethod
    def load(cls, data: dict) -> "Summary":
        def problems(rows: list[list]) -> list[Problem]:
            return [Problem(*r) for r in rows]

        return cls(sheets=[tuple(s) for s in data["sheets"]], problems=problems(data["problems"]),
                   warnings=problems(data["flagged"]), totals=data["counts"], rows_read=data["counts"]["rows"],
                   _flagged=problems(data["flagged"]))


async def start(store: ObjectStore, user: Any, data: bytes, filename: str) -> str:
    """Keep the upload, write the first status, start the check; the key."""
    key = str(uuidlib.uuid4())
    await store.put(file_key(key), data, "application/octet-stream")
    status = {"key": key, "user_id": user.id, "filename": filename, "state": "running", "stage": "reading",
              "sheets": [], "message": "", "started_at": _now()}
    await _put_status(store, key, status)
    task = asyncio.get_running_loop().create_task(_run(store, key, status, data))
    _running.add(task)
    task.add_done_callback(_running.discard)
    return key


async def _run(store: ObjectStore, key: str, status: dict, data: bytes) -> None:
    sheets: dict[str, list[int]] = {}  # written by parse's thread, read here

    def progress(sheet: str, done: int, total: int) -> None:
        sheets[sheet] = [done, total]

    stop = asyncio.Event()

    async def heartbeat() -> None:
        last, quiet = None, 0.0
        while True:
            try:
                await asyncio.wait_for(stop.wait(), HEARTBEAT)
                return
            except asyncio.TimeoutError:
                pass
            now = [[name, *counts] for name, counts in list(sheets.items())]
            quiet += HEARTBEAT
            if now != last or quiet >= 5:
                status.update(sheets=now, stage="checking" if now else "reading")
                await _put_status(store, key, status)
                last, quiet = now, 0.0

    beating = asyncio.ensure_future(heartbeat())
    try:
        report = await roster_import.run(data, on_progress=progress)
        if report.problems:
            rejected = await to_thread.run_sync(roster_import.rejected_workbook, report)
            await store.put(rejected_key(key), rejected, XLSX)
        status.update(state="done", stage="done", sheets=[[n, *c] for n, c in sheets.items()],
                      result=Summary.of(report))
    except roster_import.Unreadable as exc:
        status.update(state="failed", message=str(exc))
    except Exception as exc:  # noqa: BLE001 - reported to the user on the progress page
        log.exception("roster check %s failed", key)
        status.update(state="failed", message=f"检查失败（{type(exc).__name__}），请重新上传")
    finally:
        # Stopped, not cancelled: a status write of the heartbeat still in flight (the store's
        # put runs in a thread, which a cancel does not stop) could land after the final one
        # below and show the finished check as running again.
        stop.set()
        await asyncio.gather(beating, return_exceptions=True)
    if status["state"] == "failed":
        await store.delete(file_key(key))  # nothing to confirm
    await _put_status(store, key, status)


def running_jobs() -> set[asyncio.Task]:
    """The checks of this process still running (the app waits for them at shutdown)."""
    return set(_running)


async def wait_all() -> None:
    while _running:
        await asyncio.gather(*list(_running), return_exceptions=True)


async def status_for(store: ObjectStore, user: Any, key: str) -> dict:
    """The check's status if it is this user's (404 otherwise); a check left running too long
    is reported broken off. A finished one carries `report` (a Summary)."""
    from litestar.exceptions import NotFoundException

    valid = valid_key(key)
    try:
        status = json.loads(await store.get(status_key(valid))) if valid else None
    except ObjectNotFound:
        status = None
    if status is None or status.get("user_id") != user.id:
        raise NotFoundException("导入记录不存在或已过期")
    if status["state"] == "running":
        updated = dt.datetime.fromisoformat(status["updated_at"])
        if dt.datetime.now(dt.timezone.utc) - updated > STALE_AFTER:
            status.update(state="failed", message="检查已中断，请重新上传文件")
    done = sum(s[1] for s in status["sheets"])
    total = sum(s[2] for s in status["sheets"])
    status["percent"] = 100 if status["state"] == "done" else (int(done * 100 / total) if total else 0)
    status["report"] = Summary.load(status["result"]) if status["state"] == "done" else None
    return status


async def forget(store: ObjectStore, key: str) -> None:
    """After the confirmation: the waiting file and the status go."""
    for done in (file_key(key), status_key(key), rejected_key(key)):
        await store.delete(done)
