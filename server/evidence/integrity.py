"""Proving the evidence is unaltered, and that the database and the object store agree.

`verify_photos` re-reads every stored original and compares its SHA-256 with the one recorded
at ingest (`python -m server evidence verify`). `storage_check` lists rows that point at
missing objects and objects no row points at (`python -m server storage check`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, AsyncIterator

from server.models.audit import AuditEntry
from server.models.documents import BodyDocument
from server.models.evidence import Photo
from server.models.rectification import ClueDocument, CluePhoto
from server.models.registry import Guard
from server.models.reports import ReportCasePhoto
from server.storage import ObjectNotFound, ObjectStore

MISSING = "missing"
MISMATCH = "mismatch"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class PhotoProblem:
    photo_id: int
    key: str
    kind: str
    """MISSING: the object is gone; MISMATCH: its bytes no longer hash to the recorded SHA-256."""
    expected: str = ""
    actual: str = ""

    def describe(self) -> str:
        if self.kind == MISSING:
            return f"MISSING  photo {self.photo_id}: object {self.key} is not in the store"
        return (f"MISMATCH photo {self.photo_id}: object {self.key} hashes to {self.actual}, "
                f"recorded at ingest {self.expected}")


def check_bytes(photo_id: int, key: str, expected: str, data: bytes | None) -> PhotoProblem | None:
    """Pure: the problem with one stored original, or None when it is intact."""
    if data is None:
        return PhotoProblem(photo_id, key, MISSING, expected)
    actual = digest(data)
    if actual != expected:
        return PhotoProblem(photo_id, key, MISMATCH, expected, actual)
    return None


async def check_photo(store: ObjectStore, photo: dict[str, Any]) -> PhotoProblem | None:
    try:
        data = await store.get(photo["object_key"])
    except ObjectNotFound:
        data = None
    return check_bytes(photo["id"], photo["object_key"], photo["sha256"], data)


@dataclass
class VerifyReport:
    checked: int = 0
    problems: list[PhotoProblem] = field(default_factory=list)


async def _photos(batch: int = 500) -> AsyncIterator[dict[str, Any]]:
    last = 0
    while True:
        rows = await Photo.select(Photo.id, Photo.object_key, Photo.sha256).where(
            Photo.id > last).order_by(Photo.id).limit(batch)
        if not rows:
            return
        for row in rows:
            yield row
        last = rows[-1]["id"]


async def verify_photos(store: ObjectStore) -> VerifyReport:
    """Re-hash every stored original, one at a time (memory stays at one photo)."""
    report = VerifyReport()
    async for photo in _photos():
        report.checked += 1
        problem = await check_photo(store, photo)
        if problem:
            report.problems.append(problem)
    return report


# ---------------------------------------------------------------- rows vs objects

# Every column that holds an object key. A capability that stores objects adds its column here.
KEY_COLUMNS: tuple[tuple[Any, str], ...] = (
    (Photo, "object_key"),
    (Photo, "thumb_key"),
    (Guard, "portrait_key"),
    (CluePhoto, "object_key"),  # clue referrals' photos (server/rectification)
    (CluePhoto, "thumb_key"),
    (ClueDocument, "object_key"),  # and their documents
    (BodyDocument, "object_key"),  # the bodies' one-off documents (server/documents)
    (ReportCasePhoto, "object_key"),  # the typical cases of the bodies' reports (server/reports)
    (ReportCasePhoto, "thumb_key"),
)

# Records that keep their earlier files: a one-off document replaced before the office
# accepted it stays in the store, named by the `before` of the audit entry that replaced it.
HISTORY_KEYS: tuple[tuple[str, str], ...] = (("body_document", "object_key"),)


# Prefixes of objects that have no row by design (they describe themselves and expire, see
# server/lifecycle.py): the ledger's xlsx export jobs keep their status and file under
# exports/<job>/; roster previews wait under imports/ for the office to confirm or cancel;
# a week's freeze keeps its progress under weekly/ (the frozen week is in the database).
UNTRACKED_PREFIXES: tuple[str, ...] = ("exports/", "imports/", "weekly/")


@dataclass(frozen=True)
class MissingObject:
    table: str
    row_id: int
    column: str
    key: str

    def describe(self) -> str:
        return f"NO OBJECT  {self.table} {self.row_id} {self.column}: {self.key}"


@dataclass
class StorageReport:
    rows: int = 0
    objects: int = 0
    missing: list[MissingObject] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.orphans


def compare(referenced: dict[str, tuple[str, int, str]], stored: set[str]) -> tuple[list[MissingObject], list[str]]:
    """Pure: rows whose key is not stored, and stored keys no row references."""
    missing = [MissingObject(t, i, c, k) for k, (t, i, c) in sorted(referenced.items()) if k not in stored]
    orphans = sorted(stored - set(referenced))
    return missing, orphans


async def storage_check(store: ObjectStore) -> StorageReport:
    referenced: dict[str, tuple[str, int, str]] = {}
    for table, column in KEY_COLUMNS:
        col = getattr(table, column)
        rows = await table.select(table.id, col).where(col.is_not_null() & (col != ""))
        for row in rows:
            referenced[row[column]] = (table._meta.tablename, row["id"], column)
    for table_name, column in HISTORY_KEYS:
        for entry in await AuditEntry.select(AuditEntry.record_id, AuditEntry.before).where(
                (AuditEntry.table_name == table_name) & AuditEntry.before.is_not_null()):
            before = json.loads(entry["before"]) if isinstance(entry["before"], str) else entry["before"]
            key = (before or {}).get(column) if isinstance(before, dict) else None
            if key and key not in referenced:
                referenced[key] = (table_name, int(entry["record_id"]), f"{column} (earlier file)")
    stored = {k for k in await store.list_keys() if not k.startswith(UNTRACKED_PREFIXES)}
    missing, orphans = compare(referenced, stored)
    return StorageReport(rows=len(referenced), objects=len(stored), missing=missing, orphans=orphans)
