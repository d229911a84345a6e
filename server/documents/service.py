"""A body's one-off documents (section 六(四) of the order: each body's work plan, and its
final summary): the liaison uploads the file, may replace it until the office accepts it;
the office accepts or returns it with a reason. The due date of a kind is the campaign's
reporting deadline of the same kind (the body's own, else the one due from every body);
a campaign without one has no due date for it and nothing is late.

Statuses: 已报送 / 已接收 / 已退回 are stored; a body without a document is 未报送 until the
due date and 逾期 after it. Every step goes through the audit; every download is an
attachment, which server/audit/downloads.py access-logs.
"""

from __future__ import annotations

import datetime as dt
import uuid as uuidlib
from dataclasses import dataclass
from typing import Any

from litestar.exceptions import NotFoundException

from server import clock
from server.audit import service as audit
from server.auth.scope import CurrentUser
from server.db import atomic
from server.documents.files import check_document
from server.errors import Conflict, FormError
from server.models.campaign import Body, Campaign, ReportingDeadline
from server.models.documents import BodyDocument
from server.storage import ObjectStore
from server.storage_stream import ObjectStream, open_stream
from server.vocab import DocumentKind, DocumentStatus, Role

PREFIX = "documents"
KINDS = tuple(DocumentKind)


def doc_key(campaign_id: int, body_id: int, kind: str) -> str:
    return f"{campaign_id}:{body_id}:{kind}"


def status_of(doc: dict | None, due_on: dt.date | None, today: dt.date) -> str:
    """Pure: a body's status for one kind of document."""
    if doc is not None:
        return doc["status"]
    if due_on is not None and today > due_on:
        return DocumentStatus.late.value
    return DocumentStatus.missing.value


def due_on_for(dues: dict[tuple[str, int | None], dt.date], kind: str, body_id: int) -> dt.date | None:
    """Pure: the body's own deadline of the kind, else the one due from every body."""
    return dues.get((kind, body_id)) or dues.get((kind, None))


@dataclass(frozen=True)
class Entry:
    """One body and one kind of document: what the board and the liaison's page show."""

    kind: str
    body: dict
    doc: dict | None
    due_on: dt.date | None
    status: str
    today: dt.date

    @property
    def kind_label(self) -> str:
        return DocumentKind.label_of(self.kind)

    @property
    def submitted_late(self) -> bool:
        """Sent after the due date (on the date itself is in time)."""
        if self.doc is None or self.due_on is None:
            return False
        return clock.local_date(self.doc["submitted_at"]) > self.due_on

    @property
    def days_late(self) -> int:
        return (self.today - self.due_on).days if self.due_on else 0

    @property
    def days_left(self) -> int | None:
        return (self.due_on - self.today).days if self.due_on else None

    @property
    def owed(self) -> bool:
        """Still the body's to do: nothing sent yet, or sent back."""
        return self.status in (DocumentStatus.missing, DocumentStatus.late, DocumentStatus.returned)

    @property
    def overdue(self) -> bool:
        return self.owed and self.due_on is not None and self.today > self.due_on

    @property
    def replaceable(self) -> bool:
        return self.status != DocumentStatus.accepted


async def due_dates(campaign_id: int) -> dict[tuple[str, int | None], dt.date]:
    rows = await ReportingDeadline.select(ReportingDeadline.kind, ReportingDeadline.body, ReportingDeadline.due_on).where(
        (ReportingDeadline.campaign == campaign_id) & ReportingDeadline.kind.is_in([k.value for k in KINDS]))
    out: dict[tuple[str, int | None], dt.date] = {}
    for r in rows:  # the earliest, where the office set two of one kind
        key = (r["kind"], r["body"])
        out[key] = min(out.get(key, r["due_on"]), r["due_on"])
    return out


_DOC_COLUMNS = (BodyDocument.id, BodyDocument.body, BodyDocument.kind, BodyDocument.status, BodyDocument.filename,
                BodyDocument.size, BodyDocument.content_type, BodyDocument.submitted_at, BodyDocument.decided_at,
                BodyDocument.return_reason, BodyDocument.submitted_by.display_name, BodyDocument.decided_by.display_name)


async def reporting_bodies() -> list[dict]:
    """The bodies that owe documents: every active body but the police (the office itself)."""
    return await Body.select(Body.id, Body.name, Body.short_name, Body.contact_name, Body.contact_phone).where(
        (Body.active == True) & (Body.is_police == False)).order_by(Body.ordinal).order_by(Body.id)  # noqa: E712


async def board(campaign: Campaign, kind: str, today: dt.date) -> list[Entry]:
    """Every reporting body's status for one kind of document (three queries in all)."""
    dues = await due_dates(campaign.id)
    docs = {d["body"]: d for d in await BodyDocument.select(*_DOC_COLUMNS).where(
        (BodyDocument.campaign == campaign.id) & (BodyDocument.kind == kind))}
    out = []
    for b in await reporting_bodies():
        due = due_on_for(dues, kind, b["id"])
        doc = docs.get(b["id"])
        out.append(Entry(kind, b, doc, due, status_of(doc, due, today), today))
    return out


def reminders(entries: list[Entry]) -> list[Entry]:
    """Pure: the bodies to remind — past the due date with nothing accepted or waiting."""
    return [e for e in entries if e.overdue]


def counts(entries: list[Entry]) -> dict[str, int]:
    out = {s.value: 0 for s in DocumentStatus}
    for e in entries:
        out[e.status] += 1
    return out


async def for_body(campaign: Campaign, body_id: int, today: dt.date) -> list[Entry]:
    """A body's documents of every kind."""
    body = await Body.select(Body.id, Body.name, Body.short_name, Body.contact_name, Body.contact_phone).where(
        Body.id == body_id).first()
    if body is None:
        return []
    dues = await due_dates(campaign.id)
    docs = {d["kind"]: d for d in await BodyDocument.select(*_DOC_COLUMNS).where(
        (BodyDocument.campaign == campaign.id) & (BodyDocument.body == body_id))}
    return [Entry(k.value, body, docs.get(k.value), due_on_for(dues, k.value, body_id),
                  status_of(docs.get(k.value), due_on_for(dues, k.value, body_id), today), today) for k in KINDS]


async def owed_by(campaign: Campaign, body_id: int, today: dt.date) -> list[Entry]:
    """For the liaison's home: documents not sent yet, and those sent back."""
    return [e for e in await for_body(campaign, body_id, today) if e.owed]


# ---------------------------------------------------------------- writing

def _require_kind(kind: str) -> str:
    if kind not in {k.value for k in KINDS}:
        raise NotFoundException("没有这种报送材料")
    return kind


async def upload(user: CurrentUser, store: ObjectStore, settings: Any, campaign: Campaign, kind: str,
                 upload_uuid: str, filename: str, data: bytes) -> BodyDocument:
    """The liaison's body's document of the kind, new or replacing the one not yet accepted.
    The same upload (its client-made uuid) sent again finds the document as it is."""
    _require_kind(kind)
    if not user.body_id:
        raise Conflict("您的账号没有所属填报单位，不能报送材料")
    key = doc_key(campaign.id, user.body_id, kind)
    existing = await BodyDocument.objects().where(BodyDocument.key == key).first()
    if existing is not None and existing.upload_uuid == upload_uuid:
        return existing
    if existing is not None and existing.status == DocumentStatus.accepted:
        raise Conflict("办公室已接收该材料，不能再替换")
    from server.documents.files import DocumentRejected

    try:
        checked = check_document(data, settings.max_upload_mb * 1024 * 1024, settings.max_image_pixels)
    except DocumentRejected as exc:
        raise FormError({"file": str(exc)}) from None
    object_key = f"{PREFIX}/{campaign.id}/{user.body_id}/{kind}/{uuidlib.uuid4().hex}.{checked.extension}"
    await store.put(object_key, data, checked.content_type)
    values = {"status": DocumentStatus.submitted.value, "upload_uuid": upload_uuid, "object_key": object_key,
              "filename": (filename or "")[-128:], "content_type": checked.content_type, "size": checked.size,
              "sha256": checked.sha256, "submitted_by": user.id, "submitted_at": clock.now(),
              "decided_by": None, "decided_at": None, "return_reason": ""}
    async with atomic():
        row = await BodyDocument.objects().where(BodyDocument.key == key).first()
        twin = row is not None and row.upload_uuid == upload_uuid  # a twin of this upload got here first
        accepted = row is not None and row.status == DocumentStatus.accepted
        if not (twin or accepted):
            if row is None:
                row = BodyDocument(key=key, campaign=campaign.id, body=user.body_id, kind=kind)
            return await audit.save(user, "body_document", row, values)
    await store.delete(object_key)  # this upload's file is nobody's
    if accepted:
        raise Conflict("办公室已接收该材料，不能再替换")
    return row


async def get_for(user: CurrentUser, doc_id: int) -> BodyDocument:
    """A document the user may see: the office and leaders any, a liaison its own body's
    (another body's is 404, as if it did not exist)."""
    row = await BodyDocument.objects().where(BodyDocument.id == doc_id).first()
    if row is None or (user.role == Role.liaison and row.body != user.body_id):
        raise NotFoundException("材料不存在")
    return row


async def accept(user: CurrentUser, doc_id: int) -> BodyDocument:
    async with atomic():
        row = await get_for(user, doc_id)
        if row.status == DocumentStatus.accepted:
            return row
        if row.status == DocumentStatus.returned:
            raise Conflict("该材料已退回，须等报送单位重新上传")
        return await audit.save(user, "body_document", row, {
            "status": DocumentStatus.accepted.value, "decided_by": user.id, "decided_at": clock.now()})


async def send_back(user: CurrentUser, doc_id: int, reason: str) -> BodyDocument:
    if not reason:
        raise FormError({"reason": "请填写退回理由"})
    async with atomic():
        row = await get_for(user, doc_id)
        if row.status == DocumentStatus.accepted:
            raise Conflict("该材料已接收，不能再退回")
        if row.status == DocumentStatus.returned:
            return row
        return await audit.save(user, "body_document", row, {
            "status": DocumentStatus.returned.value, "decided_by": user.id, "decided_at": clock.now(),
            "return_reason": reason})


async def open_file(store: ObjectStore, user: CurrentUser, doc_id: int) -> tuple[ObjectStream, BodyDocument, str]:
    """The file, streamed, with its row and the body's name (for the download's name)."""
    row = await get_for(user, doc_id)
    body = await Body.select(Body.name).where(Body.id == row.body).first()
    return await open_stream(store, row.object_key), row, body["name"] if body else ""
