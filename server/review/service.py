"""The office's review: the queue of submitted inspections, per-finding and per-photo decisions,
and finishing a review (reviewed, or sent back to the officer).

Who may do what: only the office reviews, never its own submissions; leaders read. Every
decision is written with its audit entry in one transaction. Rules are in rules.py.
"""

from __future__ import annotations

import datetime as dt
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, AsyncIterator

from litestar.exceptions import NotFoundException, PermissionDeniedException
from piccolo.query.functions.aggregate import Count

from server import clock
from server.audit import service as audit
from server.audit.service import snapshot
from server.auth.scope import CurrentUser
from server.models.auth import User
from server.models.campaign import Body, Campaign, Phase, Township
from server.db import atomic
from server.models.evidence import Photo
from server.errors import FormError
from server.inspections import service as inspections
from server.errors import Conflict
from server.models.inspections import Finding, Inspection
from server.review import rules
from server.review.rules import Filters
from server.vocab import InspectionStatus, PhotoReview, Role

PAGE_SIZE = 30

__all__ = ["PAGE_SIZE"]


# ---------------------------------------------------------------- the queue

def _conditions(user: CurrentUser, f: Filters | None, *, with_status: bool) -> list[Any]:
    where: list[Any] = [Inspection.status != InspectionStatus.draft]
    if user.role == Role.liaison:
        where.append(Inspection.body == user.body_id)
    if f is None:
        return where
    if with_status and f.status != rules.ALL:
        where.append(Inspection.status == f.status)
    if f.body is not None:
        where.append(Inspection.body == f.body)
    if f.township is not None:
        where.append(Inspection.site.township == f.township)
    if f.phase is not None:
        where.append(Inspection.phase == f.phase)
    if f.officer is not None:
        where.append(Inspection.officer == f.officer)
    if f.date_from is not None:
        start = dt.datetime.combine(f.date_from, dt.time(), tzinfo=clock.LOCAL_TZ)
        where.append(Inspection.submitted_at >= start)
    if f.date_to is not None:
        end = dt.datetime.combine(f.date_to + dt.timedelta(days=1), dt.time(), tzinfo=clock.LOCAL_TZ)
        where.append(Inspection.submitted_at < end)
    return where


def _apply(query: Any, where: list[Any]) -> Any:
    for condition in where:
        query = query.where(condition)
    return query


async def status_counts(user: CurrentUser, f: Filters | None = None) -> dict[str, int]:
    """How many inspections are in each status, under every filter but the status: one
    grouped count (one pass over the matching rows, not one per status)."""
    where = _conditions(user, f, with_status=False)
    found = {r["status"]: r["count"] for r in
             await _apply(Inspection.select(Inspection.status, Count()), where).group_by(Inspection.status)}
    return {status: found.get(status, 0) for status in rules.QUEUE_STATUSES}


def total_of(counts: dict[str, int], f: Filters) -> int:
    """The queue's length under `f`, from the counts per status."""
    return sum(counts.values()) if f.status == rules.ALL else counts.get(f.status, 0)


async def list_inspections(user: CurrentUser, f: Filters,
                           counts: dict[str, int] | None = None) -> tuple[list[dict], int]:
    """One page of the queue, newest submission first, with the findings per status.
    `counts` (from status_counts with the same filters) saves counting again."""
    where = _conditions(user, f, with_status=True)
    total = total_of(counts, f) if counts is not None else await _apply(Inspection.count(), where)
    # The page's ids first, joining only what the filters need; then the shown columns of
    # those 30 rows. A deep page then skips bare ids instead of six joined rows each.
    page_ids = [r["id"] for r in await _apply(Inspection.select(Inspection.id), where).order_by(
        Inspection.submitted_at, ascending=False).order_by(Inspection.id, ascending=False).limit(
        PAGE_SIZE).offset((f.page - 1) * PAGE_SIZE)]
    if not page_ids:
        return [], total
    found = {r["id"]: r for r in await Inspection.select(
        Inspection.id, Inspection.uuid, Inspection.kind, Inspection.status, Inspection.submitted_at,
        Inspection.reviewed_at, Inspection.site.name, Inspection.unit.name,
        Inspection.officer.display_name, Inspection.body.name, Inspection.phase.name,
        Inspection.site.township.name,
    ).where(Inspection.id.is_in(page_ids))}
    rows = [found[i] for i in page_ids]
    findings = await Finding.select(Finding.inspection, Finding.status, Count()).where(
        Finding.inspection.is_in(page_ids)).group_by(Finding.inspection, Finding.status)
    per: dict[int, dict[str, int]] = {}
    for x in findings:
        per.setdefault(x["inspection"], {})[x["status"]] = x["count"]
    for r in rows:
        r["finding_counts"] = per.get(r["id"], {})
        r["findings"] = sum(r["finding_counts"].values())
    return rows, total


async def filter_options() -> dict[str, list[dict]]:
    # The users who submitted something: a semi-join (one index probe per user) rather than
    # DISTINCT over every submitted inspection.
    officers = [{"officer.id": u["id"], "officer.display_name": u["display_name"],
                 "officer.username": u["username"]}
                for u in await User.select(User.id, User.display_name, User.username).where(
                    User.id.is_in(Inspection.select(Inspection.officer).where(
                        Inspection.status != InspectionStatus.draft)))]
    officers.sort(key=lambda o: (o["officer.display_name"] or o["officer.username"]))
    return {
        "bodies": await Body.select(Body.id, Body.name).order_by(Body.ordinal).order_by(Body.id),
        "townships": await Township.select(Township.id, Township.name).order_by(Township.ordinal),
        "phases": await Phase.select(Phase.id, Phase.name, Phase.campaign.name).order_by(
            Phase.campaign).order_by(Phase.ordinal),
        "officers": officers,
    }


# ---------------------------------------------------------------- one inspection

@dataclass
class ReviewDetail:
    d: inspections.Detail
    photos: list[dict]
    outcome: rules.Outcome
    officer: dict
    reviewer_names: dict[int, str]
    campaign_name: str = ""
    phase_name: str = ""

    @property
    def insp(self) -> Inspection:
        return self.d.insp

    def photos_for(self, target: str) -> list[dict]:
        return [p for p in self.photos if p["target"] == target]

    def target_label(self, target: str) -> str:
        """What a photo shows, in words: the scene, a guard, or a finding."""
        kind, _, ident = target.partition(":")
        if kind == "guard":
            for g in self.d.guards:
                if str(g["id"]) == ident:
                    return f"保安员 {g['guard.name'] or g['typed_name'] or '未登记人员'}"
        if kind == "finding":
            for f in self.d.findings:
                if str(f["id"]) == ident:
                    return f"第{f['area']}项问题"
        return "现场"


async def photos_of(insp: Inspection) -> list[dict]:
    rows = await Photo.select(
        Photo.all_columns(exclude=[Photo.object_key, Photo.thumb_key]),
        Photo.uploader.display_name, Photo.uploader.username,
    ).where(Photo.inspection == insp.id).order_by(Photo.id)
    # reviewed_at is the last send-back until the review completes; then nothing waits.
    waiting = (set() if insp.status == InspectionStatus.reviewed
               else set(rules.awaiting_reshoot(_facts(rows), insp.reviewed_at)))
    for n, p in enumerate(rows, start=1):
        p["number"] = n
        p["target"] = rules.photo_target(p["guard_check"], p["finding"])
        p["awaiting_reshoot"] = p["id"] in waiting
    return rows


def _facts(photos: list[dict]) -> list[rules.PhotoFacts]:
    return [rules.PhotoFacts(p["id"], rules.photo_target(p["guard_check"], p["finding"]),
                             p["review_status"], p["uploaded_at"]) for p in photos]


async def current_outcome(insp: Inspection, photos: list[dict] | None = None) -> rules.Outcome:
    statuses = await Finding.select(Finding.status).where(Finding.inspection == insp.id)
    if photos is None:
        photos = await Photo.select(Photo.id, Photo.guard_check, Photo.finding, Photo.review_status,
                                    Photo.uploaded_at).where(Photo.inspection == insp.id)
    return rules.outcome([s["status"] for s in statuses], _facts(photos), insp.reviewed_at)


async def review_detail(insp: Inspection) -> ReviewDetail:
    d = await inspections.detail(insp)
    photos = await photos_of(insp)
    officer = await User.select(User.id, User.username, User.display_name, User.body.name).where(
        User.id == insp.officer).first()
    reviewer_ids = {f["reviewed_by"] for f in d.findings if f["reviewed_by"]}
    names = {}
    if reviewer_ids:
        names = {u["id"]: u["display_name"] or u["username"] for u in
                 await User.select(User.id, User.display_name, User.username).where(
                     User.id.is_in(list(reviewer_ids)))}
    campaign = await Campaign.select(Campaign.name).where(Campaign.id == insp.campaign).first()
    phase = await Phase.select(Phase.name).where(Phase.id == insp.phase).first() if insp.phase else None
    return ReviewDetail(d, photos, await current_outcome(insp, photos), officer, names,
                        campaign["name"] if campaign else "", phase["name"] if phase else "")


# ---------------------------------------------------------------- decisions

def ensure_reviewer(user: CurrentUser, insp: Inspection) -> None:
    """Only the office reviews, never an inspection of its own, and only while it waits."""
    if user.role != Role.office:
        raise PermissionDeniedException("只有办公室可以审核")
    if insp.officer == user.id:
        raise PermissionDeniedException("不能审核本人提交的检查")
    if insp.status != InspectionStatus.submitted:
        raise Conflict("该检查当前不在待审核状态，不能再作审核决定")


def may_review(user: CurrentUser, insp: Inspection) -> bool:
    try:
        ensure_reviewer(user, insp)
    except (PermissionDeniedException, Conflict):
        return False
    return True


async def _fresh(insp: Inspection) -> Inspection:
    """Reload inside the transaction, so a concurrent change of status is seen."""
    row = await Inspection.objects().where(Inspection.id == insp.id).first()
    assert row is not None
    return row


@asynccontextmanager
async def _deciding(user: CurrentUser, insp: Inspection, decision: str, note: str,
                    decisions: dict[str, str]) -> AsyncIterator[None]:
    """Check the reviewer and the decision, then hold the transaction that records it (the
    reviewer is checked again inside, so a concurrent change of status is seen)."""
    ensure_reviewer(user, insp)
    errors = rules.decision_errors(decision, note, decisions)
    if errors:
        raise FormError(errors)
    async with atomic():
        ensure_reviewer(user, await _fresh(insp))
        yield


async def decide_finding(user: CurrentUser, insp: Inspection, finding_id: int, decision: str,
                         note: str, *, offender_id: int | None = None, offender_name: str = "") -> Finding:
    """offender_id / offender_name: the office corrects the 违法主体 (as on the officer's form;
    neither keeps it)."""
    async with _deciding(user, insp, decision, note, rules.FINDING_DECISIONS):
        f = await inspections.get_finding(insp, finding_id)
        before = snapshot(f)
        prefix = f"finding{finding_id}."
        if offender_id not in (None, f.unit) or offender_name.strip():
            named = await inspections.named_offender(insp, offender_id, offender_name, prefix, f.unit)
            f.unit = await inspections.resolve_offender(user, insp, f.area, named, prefix)
            f.repeat_of = await inspections.repeat_of(insp, f.unit, f.area)
        f.status = rules.FINDING_DECISIONS[decision]
        f.review_note = note.strip() if decision != "confirm" or note.strip() else ""
        f.reviewed_by, f.reviewed_at = user.id, clock.now()
        await f.save()
        await audit.record("review", "finding", f.id, actor=user, before=before, after=snapshot(f))
    return f


async def get_photo(insp: Inspection, photo_id: int) -> Photo:
    photo = await Photo.objects().where((Photo.id == photo_id) & (Photo.inspection == insp.id)).first()
    if photo is None:
        raise NotFoundException("照片不存在")
    return photo


async def decide_photo(user: CurrentUser, insp: Inspection, photo_id: int, decision: str,
                       note: str) -> Photo:
    async with _deciding(user, insp, decision, note, rules.PHOTO_DECISIONS):
        photo = await get_photo(insp, photo_id)
        before = snapshot(photo, ("review_status", "review_note"))
        status = rules.PHOTO_DECISIONS[decision]
        # Only the review columns change: the object, its hash and its metadata never do.
        await Photo.update({Photo.review_status: status, Photo.review_note: note.strip()}).where(
            Photo.id == photo.id)
        photo.review_status, photo.review_note = status, note.strip()
        await audit.record("review", "photo", photo.id, actor=user, before=before,
                           after=snapshot(photo, ("review_status", "review_note")))
    return photo


async def finish(user: CurrentUser, insp: Inspection, note: str) -> rules.Outcome:
    """Close this round of review: 已审核 when every finding is confirmed or rejected and no
    photo awaits a re-shoot, else 已退回 with the reason for the officer."""
    ensure_reviewer(user, insp)
    if len(note) > rules.MAX_NOTE:
        raise FormError({"finish": f"审核意见不能超过 {rules.MAX_NOTE} 字（现有 {len(note)} 字）"})
    async with atomic():
        fresh = await _fresh(insp)
        ensure_reviewer(user, fresh)
        result = await current_outcome(fresh)
        if not result.can_finish:
            raise FormError({"finish": result.blocking_message()})
        status = result.status
        review_note = note.strip()
        if status == InspectionStatus.sent_back and not review_note:
            review_note = result.summary()
        now = clock.now()
        before = snapshot(fresh, ("status", "reviewed_at", "review_note"))
        await Inspection.update({Inspection.status: status, Inspection.reviewed_at: now,
                                 Inspection.review_note: review_note}).where(Inspection.id == fresh.id)
        if status == InspectionStatus.reviewed:
            # Photos nobody objected to are part of the accepted record.
            pending = await Photo.select(Photo.id).where(
                (Photo.inspection == fresh.id) & (Photo.review_status == PhotoReview.pending))
            if pending:
                await Photo.update({Photo.review_status: PhotoReview.accepted}).where(
                    Photo.id.is_in([p["id"] for p in pending]))
                for p in pending:
                    await audit.record("review", "photo", p["id"], actor=user,
                                       before={"review_status": PhotoReview.pending.value},
                                       after={"review_status": PhotoReview.accepted.value})
        await audit.record("finish_review", "inspection", fresh.id, actor=user, before=before,
                           after={"status": status, "reviewed_at": str(now), "review_note": review_note})
    insp.status, insp.reviewed_at, insp.review_note = status, now, review_note
    return result

