"""线索: a department or township refers a suspected violation to the police, with photos and
documents (contracts and the like, as PDF or photos of the paper); the police accept it (it becomes an inspection task for an officer) or decline it, and the
outcome goes back to the referring body. Both sides see the response deadline.

Who sees what: a liaison sees only the clues of their own body; the police (office, officers,
leaders) see all. Only the office answers.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from anyio import to_thread
from litestar.exceptions import NotFoundException, PermissionDeniedException

from server import clock
from server.audit import service as audit
from server.audit.service import snapshot
from server.auth.scope import CurrentUser
from server.models.auth import User
from server.campaign.options import options_of
from server.campaign.service import active_campaign, phase_on
from server.models.campaign import Body
from server.db import atomic, once
from server import failures, images
from server.models.evidence import AccessLog
from server.errors import FormError
from server.forms import new_uuid
from server.errors import Conflict
from server.models.inspections import Finding, Inspection
from server.rectification import rules
from server.documents.files import DocumentRejected, check_document
from server.models.rectification import ClueDocument, ClueReferral, CluePhoto, RectificationOrder
from server.registry import service as registry
from server.models.registry import Site, Unit
from server.settings import Settings
from server.storage import ObjectStore
from server.storage_stream import ObjectStream, open_stream
from server.vocab import ClueStatus, FindingStatus, InspectionKind, Role

log = logging.getLogger(__name__)
MAX_PHOTOS = 6
MAX_DOCUMENTS = 6
POLICE_ROLES = (Role.office.value, Role.officer.value, Role.leader.value)



async def police_body() -> dict | None:
    return await Body.select(Body.id, Body.name).where(Body.is_police == True).order_by(Body.id).first()  # noqa: E712


def _visible(user: CurrentUser) -> Any:
    """The clues a user may see, as a where-clause (None: all)."""
    if user.role == Role.liaison:
        return ClueReferral.from_body == (user.body_id or 0)
    if user.role in POLICE_ROLES:
        return None
    return ClueReferral.id == 0


COLUMNS = (
    ClueReferral.id, ClueReferral.uuid, ClueReferral.unit_name, ClueReferral.address, ClueReferral.description,
    ClueReferral.status, ClueReferral.response_due, ClueReferral.created_at, ClueReferral.accepted_at,
    ClueReferral.closed_at, ClueReferral.outcome, ClueReferral.from_body.name, ClueReferral.to_body.name,
    ClueReferral.unit.id, ClueReferral.unit.name, ClueReferral.created_by.display_name,
    ClueReferral.accepted_by.display_name, ClueReferral.inspection.id, ClueReferral.inspection.uuid,
    ClueReferral.inspection.status, ClueReferral.inspection.officer.id, ClueReferral.inspection.officer.display_name,
)


def _decorate(r: dict, day: dt.date) -> dict:
    r["due_label"], r["overdue"] = rules.clue_due_label(r["status"], r["response_due"], day)
    r["name"] = r["unit.name"] or r["unit_name"]
    return r


async def list_for(user: CurrentUser, status: str = "", day: dt.date | None = None) -> list[dict]:
    day = day or clock.today()
    query = ClueReferral.select(*COLUMNS)
    clause = _visible(user)
    if clause is not None:
        query = query.where(clause)
    if status:
        query = query.where(ClueReferral.status == status)
    rows = await query.order_by(ClueReferral.created_at, ascending=False).order_by(ClueReferral.id, ascending=False).limit(200)
    return [_decorate(r, day) for r in rows]


async def counts_for(user: CurrentUser) -> dict[str, int]:
    out = {}
    for s in ClueStatus:
        query = ClueReferral.count().where(ClueReferral.status == s.value)
        clause = _visible(user)
        if clause is not None:
            query = query.where(clause)
        out[s.value] = await query
    return out


async def get_for(user: CurrentUser, uuid: str) -> dict:
    query = ClueReferral.select(*COLUMNS).where(ClueReferral.uuid == uuid)
    clause = _visible(user)
    if clause is not None:
        query = query.where(clause)
    row = await query.first()
    if row is None:
        raise NotFoundException("线索不存在")
    row = _decorate(row, clock.today())
    row["photos"] = await CluePhoto.select(CluePhoto.uuid, CluePhoto.width, CluePhoto.height, CluePhoto.sha256).where(
        CluePhoto.clue == row["id"]).order_by(CluePhoto.id)
    row["documents"] = [{**d, "size": size_label(d["bytes"])} for d in await ClueDocument.select(
        ClueDocument.uuid, ClueDocument.file_name, ClueDocument.bytes, ClueDocument.content_type).where(
        ClueDocument.clue == row["id"]).order_by(ClueDocument.id)]
    return row


def size_label(size: int) -> str:
    """A file's size as the clue page lists it: 980 字节, 35 KB, 2.4 MB."""
    if size < 1024:
        return f"{size} 字节"
    if size < 1024 * 1024:
        return f"{round(size / 1024)} KB"
    return f"{size / 1048576:.1f} MB"


def document_name(name: str, extension: str, n: int) -> str:
    """The name the liaison's file had, without any folder, control characters or more than
    120 characters (the extension kept); 材料N.ext when it had none."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>|:*?').strip().strip(".")
    if not name:
        return f"材料{n}.{extension}"
    if len(name) > 120:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:120 - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else name[:120]
    return name


async def units_in_scope(user: CurrentUser) -> list[dict]:
    query = Unit.select(Unit.id, Unit.name).order_by(Unit.name)
    clause = user.scope.where(Unit.sector, Unit.township)
    return await (query.where(clause) if clause is not None else query)


# ---------------------------------------------------------------- referring

async def create(user: CurrentUser, store: ObjectStore, settings: Settings, *, uuid: str, unit_id: int | None,
                 unit_name: str, address: str, description: str, photos: list[bytes],
                 documents: list[tuple[str, bytes]] = ()) -> ClueReferral:
    """Refer a clue with up to MAX_PHOTOS photos and MAX_DOCUMENTS documents ((file name,
    bytes): PDF or images, each up to MAX_UPLOAD_MB). Idempotent by uuid (a double tap, a
    replay). A refused file refuses the whole referral: nothing is stored."""
    clue, made = await once(ClueReferral.uuid, uuid, lambda: _create(
        user, store, settings, uuid=uuid, unit_id=unit_id, unit_name=unit_name, address=address,
        description=description, photos=photos, documents=list(documents)))
    if not made and clue.created_by != user.id:
        raise Conflict("编号冲突，请刷新页面后重试")
    return clue


async def _create(user: CurrentUser, store: ObjectStore, settings: Settings, *, uuid: str, unit_id: int | None,
                  unit_name: str, address: str, description: str, photos: list[bytes],
                  documents: list[tuple[str, bytes]]) -> ClueReferral:
    if user.role != Role.liaison or user.body_id is None:
        raise PermissionDeniedException("线索由各部门、乡镇街联络员移交")
    errors: dict[str, str] = {}
    if unit_id is not None:
        unit = await Unit.select(Unit.id, Unit.name, Unit.address, Unit.sector, Unit.township).where(
            Unit.id == unit_id).first()
        if unit is None or not user.scope.admits(unit["sector"], unit["township"]):
            errors["unit_id"] = "所选单位不存在或不在您的辖区范围内"
        else:
            unit_name, address = unit_name or unit["name"], address or unit["address"]
    elif not unit_name:
        errors["unit_name"] = "请选择单位，或填写单位名称"
    if len(photos) > MAX_PHOTOS:
        errors["photos"] = f"最多上传 {MAX_PHOTOS} 张照片"
    checked: list = []
    if not errors:
        checked, problem = await images.check_photos(photos, settings.max_upload_mb * 1024 * 1024,
                                                     settings.max_image_pixels, thumbnails=False)
        if problem:
            errors["photos"] = problem
    if len(documents) > MAX_DOCUMENTS:
        errors["documents"] = f"最多上传 {MAX_DOCUMENTS} 份材料"
    checked_docs = []
    if not errors:
        for n, (name, data) in enumerate(documents, start=1):
            try:
                checked_docs.append(await to_thread.run_sync(lambda: check_document(
                    data, settings.max_upload_mb * 1024 * 1024, settings.max_image_pixels, word=False)))
            except DocumentRejected as exc:
                errors["documents"] = f"第 {n} 份材料“{document_name(name, '', n).rstrip('.')}”：{exc}"
                break
    if errors:
        raise FormError(errors)
    police = await police_body()
    if police is None:
        raise Conflict("系统中没有登记公安机关，无法移交线索")
    campaign = await active_campaign()
    options = options_of(campaign) if campaign else {}
    clue = ClueReferral(uuid=uuid, from_body=user.body_id, to_body=police["id"], unit=unit_id,
                        unit_name=unit_name, address=address, description=description,
                        response_due=rules.clue_response_due(clock.today(), options), created_by=user.id)
    now = clock.now()
    stored: list[str] = []
    rows = []
    try:
        for data, c in zip(photos, checked):
            photo_uuid = new_uuid()
            key = f"clues/{now:%Y/%m}/{photo_uuid}.{c.extension}"
            thumb_key = f"clues/{now:%Y/%m}/{photo_uuid}.thumb.jpg"
            await store.put(key, data, c.content_type)
            stored.append(key)
            await store.put(thumb_key, await to_thread.run_sync(images.thumbnail, data), "image/jpeg")
            stored.append(thumb_key)
            rows.append(CluePhoto(uuid=photo_uuid, object_key=key, thumb_key=thumb_key, sha256=c.sha256,
                                  bytes=c.size, width=c.width, height=c.height, content_type=c.content_type,
                                  uploader=user.id))
        for n, ((name, data), d) in enumerate(zip(documents, checked_docs), start=1):
            doc_uuid = new_uuid()
            key = f"clues/{now:%Y/%m}/{doc_uuid}.{d.extension}"
            await store.put(key, data, d.content_type)
            stored.append(key)
            rows.append(ClueDocument(uuid=doc_uuid, object_key=key, file_name=document_name(name, d.extension, n),
                                     sha256=d.sha256, bytes=d.size, content_type=d.content_type, uploader=user.id))
        async with atomic():
            await clue.save()
            await audit.record("create", "clue_referral", clue.id, actor=user, after=snapshot(clue))
            for row in rows:
                row.clue = clue.id
                await row.save()
                await audit.record("upload", row._meta.tablename, row.id, actor=user, after=snapshot(row))
    except Exception as exc:
        if failures.unavailable(exc) == "database":  # perhaps committed: the objects stay
            raise
        for key in stored:
            try:
                await store.delete(key)
            except Exception:  # noqa: BLE001 - best effort; `storage check` lists leftovers
                log.exception("could not remove object %s after a failed clue", key)
        raise
    return clue


# ---------------------------------------------------------------- answering

def ensure_office(user: CurrentUser) -> None:
    if user.role != Role.office:
        raise PermissionDeniedException("只有办公室可以答复线索")


async def _clue(uuid: str) -> ClueReferral:
    clue = await ClueReferral.objects().where(ClueReferral.uuid == uuid).first()
    if clue is None:
        raise NotFoundException("线索不存在")
    return clue


async def accept(user: CurrentUser, uuid: str, officer_id: int | None, unit_id: int | None,
                 site_id: int | None) -> Inspection:
    """Accept: an inspection task (a draft inspection) for the chosen officer at a site of
    the unit. It appears on the officer's phone under 填写中的检查."""
    ensure_office(user)
    errors: dict[str, str] = {}
    officer = await User.select(User.id, User.body, User.role, User.active).where(User.id == (officer_id or 0)).first()
    if officer is None or officer["role"] != Role.officer or not officer["active"] or officer["body"] is None:
        errors["officer_id"] = "请选择承办民警"
    site = await Site.select(Site.id, Site.unit).where(Site.id == (site_id or 0)).first()
    if site is None:
        errors["site_id"] = "请选择要检查的服务目标"
    elif unit_id is not None and site["unit"] != unit_id:
        errors["site_id"] = "所选服务目标不属于该单位"
    if errors:
        raise FormError(errors)
    campaign = await active_campaign()
    if campaign is None:
        raise Conflict("当前没有进行中的专项行动")
    phase = await phase_on(campaign.id, clock.today())
    async with atomic():
        clue = await _clue(uuid)
        if clue.status != ClueStatus.referred:
            raise Conflict(f"该线索当前为“{ClueStatus.label_of(clue.status)}”，不能再受理")
        before = snapshot(clue)
        insp = Inspection(uuid=new_uuid(), campaign=campaign.id, phase=phase.id if phase else None,
                          kind=InspectionKind.routine, officer=officer["id"], body=officer["body"],
                          site=site["id"], unit=site["unit"], note=f"线索核查：{clue.description[:200]}")
        await insp.save()
        await audit.record("create", "inspection", insp.id, actor=user, after=snapshot(insp))
        clue.status, clue.accepted_by, clue.accepted_at = ClueStatus.accepted, user.id, clock.now()
        clue.inspection, clue.unit = insp.id, site["unit"]
        await clue.save()
        await audit.record("accept", "clue_referral", clue.id, actor=user, before=before, after=snapshot(clue))
    return insp


async def decline(user: CurrentUser, uuid: str, reason: str) -> None:
    ensure_office(user)
    if not reason:
        raise FormError({"reason": "请填写不予受理的理由，移交单位会看到这段话"})
    async with atomic():
        clue = await _clue(uuid)
        if clue.status != ClueStatus.referred:
            raise Conflict(f"该线索当前为“{ClueStatus.label_of(clue.status)}”，不能再答复")
        before = snapshot(clue)
        clue.status, clue.outcome, clue.closed_at = ClueStatus.declined, reason, clock.now()
        clue.accepted_by = user.id
        await clue.save()
        await audit.record("decline", "clue_referral", clue.id, actor=user, before=before, after=snapshot(clue))


async def close(user: CurrentUser, uuid: str, outcome: str) -> None:
    """The outcome goes back to the referring body."""
    ensure_office(user)
    if not outcome:
        raise FormError({"outcome": "请填写核查结果，移交单位会看到这段话"})
    async with atomic():
        clue = await _clue(uuid)
        if clue.status != ClueStatus.accepted:
            raise Conflict("只有已受理的线索才能反馈结果")
        before = snapshot(clue)
        clue.status, clue.outcome, clue.closed_at = ClueStatus.closed, outcome, clock.now()
        await clue.save()
        await audit.record("close", "clue_referral", clue.id, actor=user, before=before, after=snapshot(clue))


async def suggested_outcome(clue: dict) -> str:
    """A starting text for the feedback, from the inspection the clue became."""
    if not clue.get("inspection.id"):
        return ""
    status = clue["inspection.status"]
    if status in ("draft", "sent_back"):
        return ""
    confirmed = await Finding.count().where((Finding.inspection == clue["inspection.id"])
                                            & (Finding.status == FindingStatus.confirmed))
    orders = await RectificationOrder.select(RectificationOrder.number).where(
        RectificationOrder.id.is_in([r["order"] for r in await Finding.select(Finding.order).where(
            (Finding.inspection == clue["inspection.id"]) & Finding.order.is_not_null())] or [0]))
    if status == "submitted":
        return "已现场检查，检查结果正在审核。"
    if not confirmed:
        return "经现场检查，未发现违法违规问题。"
    text = f"经现场检查，发现违法违规问题 {confirmed} 项"
    if orders:
        text += "，已责令限期整改（" + "、".join(o["number"] for o in orders) + "）"
    return text + "。"


async def accept_options(clue: dict, user: CurrentUser, site: Any = None, q: Any = "") -> dict:
    """Sites to inspect: the referred unit's; any site when the clue names no registered unit,
    offered by the registry's picker (a search once the registry is too big for a select)."""
    officers = await User.select(User.id, User.display_name, User.username).where(
        (User.role == Role.officer) & (User.active == True)).order_by(User.display_name)  # noqa: E712
    if not clue.get("unit.id"):
        return {"sites": [], "picker": await registry.picker("sites", "site_id", user.scope, site, q),
                "officers": officers}
    sites = await Site.select(Site.id, Site.name, Site.unit.name).where(
        Site.unit == clue["unit.id"]).order_by(Site.name)
    return {"sites": sites, "picker": None, "officers": officers}


# ---------------------------------------------------------------- photos and documents

async def open_photo(store: ObjectStore, user: CurrentUser, clue_uuid: str, photo_uuid: str, *, thumb: bool,
                     ip: str) -> tuple[ObjectStream, str]:
    clue = await get_for(user, clue_uuid)  # raises NotFound when out of reach
    photo = await CluePhoto.objects().where((CluePhoto.uuid == photo_uuid) & (CluePhoto.clue == clue["id"])).first()
    if photo is None:
        raise NotFoundException("照片不存在")
    await AccessLog.insert(AccessLog(user=user.id, username=user.username,
                                     action="thumb_view" if thumb else "photo_view", object_table="clue_photo",
                                     object_id=str(photo.id), ip=ip[:64]))
    if thumb and photo.thumb_key:  # streamed, not read whole (server/storage_stream.py)
        return await open_stream(store, photo.thumb_key), "image/jpeg"
    return await open_stream(store, photo.object_key), photo.content_type


async def open_document(store: ObjectStore, user: CurrentUser, clue_uuid: str, doc_uuid: str, *,
                        ip: str) -> tuple[ObjectStream, ClueDocument]:
    """A clue's document, for those who see the clue (its referring body, the police); the
    download is access-logged here with the document's id (server/audit/downloads.py leaves
    it to us)."""
    clue = await get_for(user, clue_uuid)  # raises NotFound when out of reach
    doc = await ClueDocument.objects().where((ClueDocument.uuid == doc_uuid) & (ClueDocument.clue == clue["id"])).first()
    if doc is None:
        raise NotFoundException("材料不存在")
    await AccessLog.insert(AccessLog(user=user.id, username=user.username, action="download",
                                     object_table="clue_document", object_id=str(doc.id), ip=ip[:64]))
    return await open_stream(store, doc.object_key), doc
