"""Append to and verify the hash-chained audit log.

Each entry's hash covers its own content and the previous entry's hash, so altering,
inserting or deleting any entry breaks the chain from that point on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from server import clock
from server.audit.masking import MASKED_FIELDS, mask_id_number
from server.models.audit import AuditEntry
from server.db import WRITE_LOCK, atomic, lock

GENESIS = "0" * 64
_LOCK_KEY = WRITE_LOCK  # db.lock key that serialises appends across processes (atomic() takes it first)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def entry_hash(prev_hash: str, at: str, actor_name: str, action: str, table_name: str,
               record_id: str, before: Any, after: Any) -> str:
    payload = _canonical([prev_hash, at, actor_name, action, table_name, record_id, before, after])
    return hashlib.sha256(payload.encode()).hexdigest()


def _ts(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def snapshot(row: Any, fields: tuple[str, ...] | None = None) -> dict[str, Any]:
    """A JSON-safe dict of a Piccolo row (or dict) for before/after. Secrets are left out;
    personal information (a guard's ID number) is kept masked as the screen shows it: the
    log says that it was set or changed, never what it is. (Entries written before this
    rule keep what they hold: rewriting them would break the chain.)"""
    data = row if isinstance(row, dict) else row.to_dict()
    out = {}
    for k, v in data.items():
        if fields and k not in fields:
            continue
        if k in {"password_hash", "token_hash"}:
            continue
        if k in MASKED_FIELDS and isinstance(v, str):
            v = mask_id_number(v)
        out[k] = v if isinstance(v, (str, int, float, bool, type(None))) else str(v)
    return out


async def record(action: str, table_name: str, record_id: Any, *, actor: Any = None,
                 before: Any = None, after: Any = None) -> None:
    """Append one entry. Runs inside the caller's transaction, so the change and its entry
    commit (or roll back) together."""
    async with atomic():
        await lock(_LOCK_KEY)
        last = await AuditEntry.select(AuditEntry.hash).order_by(AuditEntry.id, ascending=False).first()
        prev = last["hash"] if last else GENESIS
        at = dt.datetime.now(dt.timezone.utc)
        actor_id = getattr(actor, "id", None)
        actor_name = getattr(actor, "username", "") or ("system" if actor is None else str(actor))
        before_j = json.loads(_canonical(before)) if before is not None else None
        after_j = json.loads(_canonical(after)) if after is not None else None
        h = entry_hash(prev, _ts(at), actor_name, action, table_name, str(record_id), before_j, after_j)
        await AuditEntry.insert(AuditEntry(
            at=at, actor=actor_id, actor_name=actor_name, action=action, table_name=table_name,
            record_id=str(record_id), before=_canonical(before_j) if before_j is not None else None,
            after=_canonical(after_j) if after_j is not None else None, prev_hash=prev, hash=h,
        ))


async def record_many(entries: list[tuple[str, str, Any, Any, Any]], *, actor: Any = None,
                      batch: int = 500) -> None:
    """Append many entries, each (action, table_name, record_id, before, after), in order: the
    chain's last hash read once and the rows inserted `batch` at a time (a roster import writes
    tens of thousands). Like record(), inside the caller's transaction."""
    if not entries:
        return
    async with atomic():
        await lock(_LOCK_KEY)
        last = await AuditEntry.select(AuditEntry.hash).order_by(AuditEntry.id, ascending=False).first()
        prev = last["hash"] if last else GENESIS
        actor_id = getattr(actor, "id", None)
        actor_name = getattr(actor, "username", "") or ("system" if actor is None else str(actor))
        rows = []
        for action, table_name, record_id, before, after in entries:
            at = dt.datetime.now(dt.timezone.utc)
            before_j = json.loads(_canonical(before)) if before is not None else None
            after_j = json.loads(_canonical(after)) if after is not None else None
            h = entry_hash(prev, _ts(at), actor_name, action, table_name, str(record_id), before_j, after_j)
            rows.append(AuditEntry(
                at=at, actor=actor_id, actor_name=actor_name, action=action, table_name=table_name,
                record_id=str(record_id), before=_canonical(before_j) if before_j is not None else None,
                after=_canonical(after_j) if after_j is not None else None, prev_hash=prev, hash=h))
            prev = h
            if len(rows) == batch:
                await AuditEntry.insert(*rows)
                rows = []
        if rows:
            await AuditEntry.insert(*rows)


@dataclass
class ChainProblem:
    entry_id: int
    reason: str


async def verify_chain() -> tuple[int, ChainProblem | None]:
    """Walk the chain in id order; return (entries checked, first problem or None)."""
    prev = GENESIS
    count = 0
    rows = await AuditEntry.select().order_by(AuditEntry.id)
    for row in rows:
        count += 1
        before = json.loads(row["before"]) if isinstance(row["before"], str) else row["before"]
        after = json.loads(row["after"]) if isinstance(row["after"], str) else row["after"]
        if row["prev_hash"] != prev:
            return count, ChainProblem(row["id"], "上一条哈希不匹配(记录被删除或插入)")
        expect = entry_hash(prev, _ts(row["at"]), row["actor_name"], row["action"],
                            row["table_name"], row["record_id"], before, after)
        if expect != row["hash"]:
            return count, ChainProblem(row["id"], "内容与哈希不符(记录被篡改)")
        prev = row["hash"]
    return count, None



async def save(actor: Any, table_name: str, row: Any, values: dict[str, Any] | None = None) -> Any:
    """Write a row with its audit entry in one transaction: insert it when it is new, else set
    `values` on it and update it (stamping `updated_at` where the table has one)."""
    async with atomic():
        before = snapshot(row) if row._exists_in_db else None
        for key, value in (values or {}).items():
            setattr(row, key, value)
        if before is not None and "updated_at" in row.to_dict():
            row.updated_at = clock.now()
        await row.save()
        await record("create" if before is None else "update", table_name, row.id, actor=actor,
                     before=before, after=snapshot(row))
    return row

# ---------------------------------------------------------------- reading the history

# Child records shown with an inspection's history: (table_name in the log, Piccolo table).
def _children() -> list[tuple[str, Any]]:
    from server.models.evidence import Photo
    from server.models.inspections import ChecklistAnswer, Finding, GuardCheck

    return [("checklist_answer", ChecklistAnswer), ("guard_check", GuardCheck),
            ("finding", Finding), ("photo", Photo)]


def _load(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def changes(before: Any, after: Any) -> list[tuple[str, Any, Any]]:
    """Pure: the fields that differ between two snapshots, as (field, before, after)."""
    b = before if isinstance(before, dict) else {}
    a = after if isinstance(after, dict) else {}
    out = []
    for key in sorted(set(b) | set(a)):
        if b.get(key) != a.get(key):
            out.append((key, b.get(key), a.get(key)))
    return out


async def history(table_name: str, record_id: str, *, with_children: bool = True) -> list[dict]:
    """Every entry about one record, oldest first. An inspection's history also holds the
    entries of its checklist answers, guard checks, findings and photos."""
    wanted = [(table_name, str(record_id))]
    if table_name == "inspection" and with_children and str(record_id).isdigit():
        for name, table in _children():
            ids = await table.select(table.id).where(table.inspection == int(record_id))
            wanted += [(name, str(r["id"])) for r in ids]
    rows: list[dict] = []
    by_table: dict[str, list[str]] = {}
    for name, rid in wanted:
        by_table.setdefault(name, []).append(rid)
    for name, ids in by_table.items():
        rows += await AuditEntry.select().where(
            (AuditEntry.table_name == name) & AuditEntry.record_id.is_in(ids))
    rows.sort(key=lambda r: r["id"])
    for r in rows:
        r["before"], r["after"] = _load(r["before"]), _load(r["after"])
        r["changes"] = changes(r["before"], r["after"])
    return rows


async def recent(table_name: str = "", actor: str = "", limit: int = 100,
                 before_id: int | None = None) -> list[dict]:
    """The newest entries, optionally for one table or one actor (username)."""
    query = AuditEntry.select(
        AuditEntry.id, AuditEntry.at, AuditEntry.actor_name, AuditEntry.action,
        AuditEntry.table_name, AuditEntry.record_id,
    )
    if table_name:
        query = query.where(AuditEntry.table_name == table_name)
    if actor:
        query = query.where(AuditEntry.actor_name == actor)
    if before_id:
        query = query.where(AuditEntry.id < before_id)
    return await query.order_by(AuditEntry.id, ascending=False).limit(limit)


async def table_names() -> list[str]:
    rows = await AuditEntry.select(AuditEntry.table_name).distinct()
    return sorted(r["table_name"] for r in rows)


async def head() -> dict | None:
    """The newest entry's id and hash: note it down to detect a later truncation."""
    return await AuditEntry.select(AuditEntry.id, AuditEntry.hash).order_by(
        AuditEntry.id, ascending=False).first()
