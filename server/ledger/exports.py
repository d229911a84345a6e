"""Ledger exports (台账导出) that may be large: streamed into a write-only workbook batch by
batch, with progress the page can poll.

A job keeps no state in the process: its status (a small JSON object) and, when done, the
file live in the object store under ``exports/<job>/``, so any app process can answer the
progress poll and the download. The job itself runs as a task of the process that took the
request; if that process dies, the status stops moving and the page says the export broke
off (after STALE_AFTER). The command line builds the same file with a progress bar.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import tempfile
import uuid as uuidlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable, Sequence

from anyio import to_thread

from server import clock
from server.audit import service as audit
from server.auth.scope import CurrentUser, Scope
from server.models.campaign import Campaign
from server.campaign.checklist import BY_NUMBER as AREAS
from server.ledger import service
from server.ledger.columns import BY_NUMBER as COLUMNS
from server.ledger.xlsx import XLSX_TYPE, LedgerColumn, LedgerWriter
from server.storage import ObjectNotFound, ObjectStore
from server.storage_stream import put_file
from server.vocab import (
    CertStatus,
    CountUnit,
    EmploymentStatus,
    FilingStatus,
    FindingStatus,
    OrderStatus,
    Sector,
    UnitKind,
)

log = logging.getLogger(__name__)

PREFIX = "exports"
STALE_AFTER = dt.timedelta(minutes=10)
_running: set[asyncio.Task] = set()  # keeps the tasks referenced until they finish


def _yn(value: Any) -> str:
    return "是" if value else "否"


def _unit_row(r: dict) -> list:
    return [r["name"], r["uscc"] or "", UnitKind.label_of(r["kind"]), Sector.label_of(r["sector"]),
            r["township.name"] or "", r["address"], FilingStatus.label_of(r["filing_status"]), r["filing_no"],
            r["sites"], r["guards"], r["confirmed"], r["pending"], r["rectification"],
            r["contact_name"], r["contact_phone"]]


def _guard_row(r: Sequence) -> list:
    """A row of service.GUARD_FIELDS, in that order."""
    (_, name, id_number, gender, certificate_no, certificate_status, vetted, exam_passed, photo, fingerprint,
     employment_status, hired_on, left_on, employer, site, site_unit) = r
    return [name, id_number or "", gender, certificate_no or "", CertStatus.label_of(certificate_status),
            _yn(vetted), _yn(exam_passed), _yn(photo), _yn(fingerprint),
            EmploymentStatus.label_of(employment_status), employer or "", site_unit or "", site or "",
            hired_on, left_on]


_AREA_TEXT = {no: f"{no}. {a.title}" for no, a in AREAS.items()}
_COLUMN_TEXT = {no: f"{c.number}. {c.label}" for no, c in COLUMNS.items()}
# What the findings' columns show for a value read (by the sheet's column index): the
# select (service.finding_export_fields) reads them in the sheet's order, so the rows go to
# the writer as read.
FINDING_SHOWS: dict[int, Callable[[Any], Any]] = {
    1: clock.local_date,  # PostgreSQL reads the timestamps as local days already
    10: clock.local_date,
    4: lambda area_no: _AREA_TEXT.get(area_no, area_no),
    5: lambda stat_column: _COLUMN_TEXT.get(stat_column, "备注") if stat_column else "备注",
    7: CountUnit.label_of,
    9: FindingStatus.label_of,
    13: lambda order_status: OrderStatus.label_of(order_status) if order_status else "",
}


@dataclass(frozen=True)
class Spec:
    label: str
    columns: tuple[LedgerColumn, ...]
    row: Callable[[Any], Sequence[Any]] | None
    """Turns a row read into the cells' values: a dict for units (with their counts added), a
    tuple in the order of the select for the others (service.ledger_batches); None: the row
    read is the cells' values (a column with `shows` turns its value read into the value
    shown itself)."""


# Column kinds: T text (str or None), L label (few distinct values), N number, D date, A any
# (see xlsx.CELL_WRITERS).
_KINDS = {"T": "text", "L": "label", "N": "number", "D": "date", "A": "any"}


def _columns(spec: list[tuple[str, float, str]], shows: dict[int, Callable[[Any], Any]] | None = None,
             ) -> tuple[LedgerColumn, ...]:
    shows = shows or {}
    return tuple(LedgerColumn(h, w, _KINDS[k], shows.get(i)) for i, (h, w, k) in enumerate(spec))


SPECS: dict[str, Spec] = {
    "units": Spec("单位台账", _columns([
        ("单位名称", 36, "T"), ("统一社会信用代码", 22, "T"), ("单位类别", 16, "L"), ("行业", 12, "L"),
        ("乡镇街", 12, "L"), ("地址", 36, "T"), ("备案状态", 10, "L"), ("备案编号", 16, "T"), ("服务目标数", 10, "N"),
        ("本单位在岗保安员", 12, "N"), ("已确认问题", 10, "N"), ("待审核问题", 10, "N"), ("整改情况", 22, "L"),
        ("联系人", 10, "T"), ("联系电话", 14, "T")]), _unit_row),
    "guards": Spec("保安员台账", _columns([
        ("姓名", 10, "T"), ("身份证号", 22, "T"), ("性别", 6, "L"), ("保安员证号", 20, "T"), ("持证状态", 10, "L"),
        ("已审查", 8, "L"), ("已考试", 8, "L"), ("已采集照片", 10, "L"), ("已采集指纹", 10, "L"), ("在岗状态", 10, "L"),
        ("所属单位", 34, "T"), ("服务单位", 34, "T"), ("服务目标", 20, "T"), ("入职日期", 12, "D"),
        ("离职日期", 12, "D")]), _guard_row),
    "findings": Spec("问题台账", _columns([
        ("编号", 8, "N"), ("检查日期", 12, "D"), ("单位", 34, "T"), ("乡镇街", 12, "L"), ("检查项", 18, "L"),
        ("统计栏目", 30, "L"), ("数量", 6, "N"), ("单位(量词)", 8, "L"), ("问题描述", 48, "T"), ("状态", 8, "L"),
        ("确认日期", 12, "D"), ("检查人", 10, "L"), ("整改通知书", 16, "T"), ("整改状态", 12, "L"),
        ("整改期限", 12, "D")], FINDING_SHOWS), None),
}


def file_name(kind: str, today: dt.date) -> str:
    return f"{SPECS[kind].label}_{today.isoformat()}.xlsx"


async def build_file(path: Path, kind: str, scope: Scope, filters: service.LedgerFilters, campaign: Campaign,
                     today: dt.date, on_batch: Callable[[int], Awaitable[None] | None] | None = None) -> int:
    """Write the ledger of `kind` to `path`, calling on_batch(rows so far) after each batch."""
    spec = SPECS[kind]
    writer = LedgerWriter(path, spec.label, f"{campaign.name} · {spec.label}（导出日期 {today.isoformat()}）",
                          spec.columns)

    def write(rows: list) -> None:
        writer.append(rows if spec.row is None else map(spec.row, rows))

    writing: asyncio.Future | None = None
    try:
        async for rows in service.ledger_batches(kind, scope, filters, campaign.id, today):
            # Formatting and deflating a batch takes a while: off the event loop, while the
            # next batch is read.
            if writing is not None:
                await writing
            writing = asyncio.ensure_future(to_thread.run_sync(write, rows))
            if on_batch is not None:
                maybe = on_batch(writer.rows)
                if maybe is not None:
                    await maybe
        if writing is not None:
            await writing
            writing = None
            if on_batch is not None:
                maybe = on_batch(writer.rows)
                if maybe is not None:
                    await maybe
    finally:
        if writing is not None:  # broke off: let the batch being written finish first
            await asyncio.gather(writing, return_exceptions=True)
        await to_thread.run_sync(writer.close)
    return writer.rows


# ---------------------------------------------------------------- jobs in the object store

def status_key(job: str) -> str:
    return f"{PREFIX}/{job}/status.json"


def file_key(job: str) -> str:
    return f"{PREFIX}/{job}/export.xlsx"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat()


async def _put_status(store: ObjectStore, job: str, status: dict) -> None:
    status["updated_at"] = _now()
    await store.put(status_key(job), json.dumps(status, ensure_ascii=False).encode(), "application/json")


def valid_job(job: str) -> str | None:
    try:
        return str(uuidlib.UUID(job))
    except ValueError:
        return None


async def start(store: ObjectStore, user: CurrentUser, kind: str, filters: service.LedgerFilters,
                campaign: Campaign, today: dt.date) -> str:
    job = str(uuidlib.uuid4())
    total = await service.ledger_total(kind, user.scope, filters, campaign.id)
    status = {"job": job, "kind": kind, "label": SPECS[kind].label, "user_id": user.id, "state": "running",
              "done": 0, "total": total, "filename": file_name(kind, today), "message": "",
              "filters": filters.as_query(), "started_at": _now()}
    await _put_status(store, job, status)
    await audit.record("export", "ledger", job, actor=user,
                       after={"kind": kind, "filters": filters.as_query(), "rows": total})
    task = asyncio.get_running_loop().create_task(_run(store, job, status, user.scope, filters, campaign, today))
    _running.add(task)
    task.add_done_callback(_running.discard)
    return job


async def _run(store: ObjectStore, job: str, status: dict, scope: Scope, filters: service.LedgerFilters,
               campaign: Campaign, today: dt.date) -> None:
    with tempfile.TemporaryDirectory(prefix="ledger-export-") as tmp:
        path = Path(tmp) / "export.xlsx"
        try:
            async def progress(done: int) -> None:
                status["done"] = done
                await _put_status(store, job, status)

            rows = await build_file(path, status["kind"], scope, filters, campaign, today, progress)
            await put_file(store, file_key(job), path, XLSX_TYPE)  # from the file, not read whole
            status.update(state="done", done=rows, total=max(rows, status["total"]))
        except Exception as exc:  # noqa: BLE001 - reported to the user on the progress page
            log.exception("ledger export %s failed", job)
            status.update(state="failed", message=f"导出失败（{type(exc).__name__}），请重新导出")
        await _put_status(store, job, status)


def running_jobs() -> set[asyncio.Task]:
    """The export tasks of this process still running (the app waits for them at shutdown)."""
    return set(_running)


async def wait_all() -> None:
    """Let running export tasks finish (tests, shutdown)."""
    while _running:
        await asyncio.gather(*list(_running), return_exceptions=True)


async def status_for(store: ObjectStore, user: CurrentUser, job: str) -> dict:
    """The job's status if it is this user's; a job left running too long is reported broken."""
    from litestar.exceptions import NotFoundException

    key = valid_job(job)
    try:
        status = json.loads(await store.get(status_key(key))) if key else None
    except ObjectNotFound:
        status = None
    if status is None or status.get("user_id") != user.id:
        raise NotFoundException("导出任务不存在")
    if status["state"] == "running":
        updated = dt.datetime.fromisoformat(status["updated_at"])
        if dt.datetime.now(dt.timezone.utc) - updated > STALE_AFTER:
            status.update(state="failed", message="导出已中断，请重新导出")
    total = status.get("total") or 0
    status["percent"] = 100 if status["state"] == "done" else (int(status["done"] * 100 / total) if total else 0)
    return status
