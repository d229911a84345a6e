"""Photo evidence: ingest (check, hash, thumbnail, store, record) and access (check, log, read)."""

from __future__ import annotations

import datetime as dt
import logging
import secrets

from anyio import to_thread
from litestar.exceptions import NotFoundException

from server.errors import Conflict
from server.audit import service as audit
from server.audit.service import snapshot
from server.auth.scope import CurrentUser
from server.db import atomic, once
from server import failures, images
from server.evidence import integrity
from server.models.evidence import AccessLog, Photo
from server.inspections import service as inspections
from server.models.inspections import Inspection
from server.settings import Settings
from server.storage import ObjectStore
from server.storage_stream import ObjectStream, open_stream

log = logging.getLogger(__name__)


async def ingest(store: ObjectStore, settings: Settings, user: CurrentUser, insp: Inspection, *,
                 uuid: str, data: bytes, guard_check: int | None = None, finding: int | None = None,
                 captured_at: dt.datetime | None = None, lat: float | None = None,
                 lng: float | None = None) -> Photo:
    """Store a photo once. A retry with the same UUID returns the photo already stored; the
    objects are written before the row, and removed again if the row cannot be written, so
    no half record is ever left behind."""
    photo, made = await once(Photo.uuid, uuid, lambda: _ingest(
        store, settings, user, insp, uuid=uuid, data=data, guard_check=guard_check, finding=finding,
        captured_at=captured_at, lat=lat, lng=lng))
    if not made and photo.inspection != insp.id:
        raise Conflict("照片编号冲突，请重新拍照")
    return photo


async def _ingest(store: ObjectStore, settings: Settings, user: CurrentUser, insp: Inspection, *,
                  uuid: str, data: bytes, guard_check: int | None, finding: int | None,
                  captured_at: dt.datetime | None, lat: float | None, lng: float | None) -> Photo:
    inspections.ensure_editable(user, insp)
    if guard_check is not None:
        await inspections.get_guard_check(insp, guard_check)
    if finding is not None:
        await inspections.get_finding(insp, finding)
    checked, thumb = await to_thread.run_sync(
        images.check_and_thumbnail, data, settings.max_upload_mb * 1024 * 1024, settings.max_image_pixels)
    now = dt.datetime.now(dt.timezone.utc)
    # Each attempt writes objects of its own: a concurrent retry of the same photo that loses
    # the race removes its own objects, never those of the row that won.
    attempt = secrets.token_hex(4)
    key = f"photos/{now:%Y/%m}/{uuid}-{attempt}.{checked.extension}"
    thumb_key = f"thumbs/{now:%Y/%m}/{uuid}-{attempt}.jpg"
    try:
        await store.put(key, data, checked.content_type)
        await store.put(thumb_key, thumb, "image/jpeg")
    except Exception:  # the store went away between the two: leave neither behind
        await _discard(store, key, thumb_key)
        raise
    photo = Photo(
        uuid=uuid, object_key=key, thumb_key=thumb_key, sha256=checked.sha256, bytes=checked.size,
        width=checked.width, height=checked.height, content_type=checked.content_type,
        captured_at=captured_at, uploader=user.id, inspection=insp.id, guard_check=guard_check,
        finding=finding, lat=lat, lng=lng,
    )
    try:
        async with atomic():
            await photo.save()
            await audit.record("upload", "photo", photo.id, actor=user, after=snapshot(photo))
    except Exception as exc:
        # Refused: no row names the objects, remove them. The database gone away instead: it
        # may have committed before the answer was lost, so the objects stay (the retry finds
        # the row with them; else `storage check` lists them as leftovers).
        if failures.unavailable(exc) != "database":
            await _discard(store, key, thumb_key)
        raise
    return photo


async def _discard(store: ObjectStore, *keys: str) -> None:
    for key in keys:
        try:
            await store.delete(key)
        except Exception:  # noqa: BLE001 - best effort; `storage check` lists leftovers
            log.exception("could not remove object %s after a failed ingest", key)


# What each access-log action means, for the photo's page.
ACCESS_LABELS = {
    "thumb_view": "查看缩略图",
    "photo_view": "查看原图",
    "photo_download": "下载原图",
    "photo_verify": "校验原图",
}


async def load_photo(user: CurrentUser, uuid: str) -> tuple[Photo, Inspection]:
    """A photo the user may see (through its inspection), else 'not found'."""
    photo = await Photo.objects().where(Photo.uuid == uuid).first()
    if photo is None:
        raise NotFoundException("照片不存在")
    insp = await Inspection.objects().where(Inspection.id == photo.inspection).first()
    insp = await inspections.get_for(user, insp.uuid)  # raises NotFound when out of reach
    return photo, insp


async def log_access(user: CurrentUser, action: str, photo: Photo, ip: str) -> None:
    await AccessLog.insert(AccessLog(
        user=user.id, username=user.username, action=action, object_table="photo",
        object_id=str(photo.id), ip=ip[:64]))


async def open_photo(store: ObjectStore, user: CurrentUser, uuid: str, *, thumb: bool,
                     ip: str, download: bool = False) -> tuple[ObjectStream, str]:
    """Open a photo the user may see (streamed, not read whole), logging the view (or download)."""
    photo, _ = await load_photo(user, uuid)
    action = "thumb_view" if thumb else "photo_download" if download else "photo_view"
    await log_access(user, action, photo, ip)
    if thumb and photo.thumb_key:
        return await open_stream(store, photo.thumb_key), "image/jpeg"
    return await open_stream(store, photo.object_key), photo.content_type


async def photo_page(user: CurrentUser, uuid: str) -> dict:
    """What the photo's page shows: the photo with its uploader, inspection and site."""
    photo, insp = await load_photo(user, uuid)
    row = await Photo.select(
        Photo.all_columns(exclude=[Photo.object_key, Photo.thumb_key]),
        Photo.uploader.display_name, Photo.uploader.username, Photo.inspection.uuid,
        Photo.inspection.site.name, Photo.inspection.unit.name,
    ).where(Photo.id == photo.id).first()
    return {"photo": row, "insp": insp}


async def access_log(photo_id: int, limit: int = 200) -> tuple[list[dict], int]:
    """Who viewed or downloaded this photo, newest first."""
    where = (AccessLog.object_table == "photo") & (AccessLog.object_id == str(photo_id))
    rows = await AccessLog.select(
        AccessLog.at, AccessLog.username, AccessLog.user.display_name, AccessLog.action, AccessLog.ip,
    ).where(where).order_by(AccessLog.at, ascending=False).order_by(AccessLog.id, ascending=False).limit(limit)
    return rows, await AccessLog.count().where(where)


async def verify_photo(store: ObjectStore, user: CurrentUser, uuid: str, ip: str) -> integrity.PhotoProblem | None:
    """Re-hash the stored original now; None when it matches the SHA-256 recorded at ingest."""
    photo, _ = await load_photo(user, uuid)
    await log_access(user, "photo_verify", photo, ip)
    return await integrity.check_photo(store, {"id": photo.id, "object_key": photo.object_key,
                                               "sha256": photo.sha256})
