"""The responsible bodies' own reports (各责任单位报送): a body's row as counted from the
records, what the body adds, its typical cases, submission (the numbers freeze), the office's
answer (accept, or return with a reason), the board per report day and the district table
built from the accepted reports. The rules are rules.py; this file reads and writes."""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from litestar.exceptions import NotFoundException, PermissionDeniedException

from server import clock, images
from server.audit import service as audit
from server.audit.service import snapshot
from server.auth.scope import CurrentUser
from server.db import atomic, once
from server.errors import Conflict, FormError
from server.forms import new_uuid
from server.ledger import freeze, queries, weekly
from server.ledger import service as ledger
from server.ledger.row import StatRow
from server.models.campaign import Body, Campaign, ReportingDeadline
from server.models.ledger import WeeklyReport
from server.models.reports import BodyReport, ReportCase, ReportCasePhoto
from server.reports import rules
from server.reports.rules import Override
from server.settings import Settings
from server.storage import ObjectStore
from server.storage_stream import ObjectStream, open_stream
from server.vocab import BodyScope, ReportStatus, Role

log = logging.getLogger(__name__)

MAX_CASE_PHOTOS = 6
STATISTICS_KIND = "statistics"
"""ReportingDeadline.kind of the statistics table's due day (12-31): also a report day."""
BODY_FIELDS = (Body.id, Body.name, Body.short_name, Body.scope, Body.sector, Body.township, Body.is_police,
               Body.ordinal, Body.contact_name, Body.contact_phone, Body.active)


# ---------------------------------------------------------------- report days and bodies

async def report_days(campaign: Campaign) -> list[dt.date]:
    weeks = weekly.report_weeks(campaign.weekly_from, campaign.weekly_until, campaign.weekly_weekday)
    statistics = await ReportingDeadline.select(ReportingDeadline.due_on).where(
        (ReportingDeadline.campaign == campaign.id) & (ReportingDeadline.kind == STATISTICS_KIND)
        & ReportingDeadline.body.is_null())
    return rules.report_days([w.ending for w in weeks], [r["due_on"] for r in statistics])


async def require_day(campaign: Campaign, raw: str) -> dt.date:
    day = weekly.parse_day(raw)
    if day is None or day not in await report_days(campaign):
        raise NotFoundException("该日期不是本次专项行动的报送日")
    return day


def day_title(day: dt.date, weekly_days: list[dt.date]) -> str:
    if day in weekly_days:
        return f"第{weekly_days.index(day) + 1}期累计周报（截至 {day.isoformat()}）"
    return f"统计表（截至 {day.isoformat()}）"


def title_of(campaign: Campaign, day: dt.date) -> str:
    weeks = [w.ending for w in weekly.report_weeks(campaign.weekly_from, campaign.weekly_until,
                                                   campaign.weekly_weekday)]
    return day_title(day, weeks)


async def reporting_bodies() -> list[dict]:
    """Every active body: each reports on every report day."""
    return await Body.select(*BODY_FIELDS).where(Body.active == True).order_by(  # noqa: E712
        Body.ordinal).order_by(Body.id)


async def _body(body_id: int) -> dict:
    body = await Body.select(*BODY_FIELDS).where(Body.id == body_id).first()
    if body is None:
        raise NotFoundException("填报单位不存在")
    return body


def check_sees(user: CurrentUser, body_id: int) -> None:
    """The office and leaders see every body's report; a liaison its own body's only (another
    body's is not found, as any record out of reach)."""
    if user.role in (Role.office, Role.leader):
        return
    if user.role == Role.liaison and user.body_id == body_id:
        return
    raise NotFoundException("该报送不存在或不属于本单位")


def may_edit(user: CurrentUser, body_id: int) -> bool:
    return user.role == Role.office or (user.role == Role.liaison and user.body_id == body_id)


def key_of(campaign_id: int, body_id: int, day: dt.date) -> str:
    return f"{campaign_id}:{body_id}:{day.isoformat()}"


def _loads(value: Any) -> dict:
    if isinstance(value, str):
        return json.loads(value or "{}")
    return value or {}


async def _report(campaign: Campaign, body_id: int, day: dt.date) -> BodyReport | None:
    return await BodyReport.objects().where(BodyReport.key == key_of(campaign.id, body_id, day)).first()


async def computed_row(campaign: Campaign, body: dict, day: dt.date) -> StatRow:
    """The body's row as the records give it now, as of the end of the report day."""
    scope = ledger.body_scope(body)
    counts = await queries.count(campaign.id, day, scope)
    return counts.row(scope)


# ---------------------------------------------------------------- one body's report

@dataclass
class ReportView:
    campaign: Campaign
    day: dt.date
    title: str
    body: dict
    report: BodyReport | None
    status: str
    computed: StatRow
    """Frozen once submitted, else counted now."""
    frozen: bool
    overrides: dict[int, Override]
    cases: list[dict] = field(default_factory=list)
    editable: bool = False

    @property
    def values(self) -> dict[int, int]:
        return rules.effective(self.computed.values(), self.overrides)


async def view(user: CurrentUser, campaign: Campaign, day: dt.date, body_id: int) -> ReportView:
    body = await _body(body_id)
    check_sees(user, body_id)
    report = await _report(campaign, body_id, day)
    stored = report.status if report else None
    frozen = report is not None and bool(_loads(report.computed)) and stored in rules.STORED \
        and stored != ReportStatus.returned.value
    computed = StatRow.from_data(_loads(report.computed)) if frozen else await computed_row(campaign, body, day)
    overrides = rules.overrides_from_data(_loads(report.overrides)) if report else {}
    editable = may_edit(user, body_id) and (report is None or report.status in rules.EDITABLE)
    return ReportView(campaign, day, title_of(campaign, day), body, report,
                      rules.status_of(stored, day, clock.today()), computed, frozen, overrides,
                      await cases_of(report.id) if report else [], editable)


async def cases_of(report_id: int) -> list[dict]:
    cases = await ReportCase.select().where(ReportCase.report == report_id).order_by(ReportCase.id)
    photos = await ReportCasePhoto.select(ReportCasePhoto.uuid, ReportCasePhoto.case).where(
        ReportCasePhoto.case.is_in([c["id"] for c in cases] or [0])).order_by(ReportCasePhoto.id)
    for c in cases:
        c["photos"] = [p["uuid"] for p in photos if p["case"] == c["id"]]
    return cases


async def _draft(user: CurrentUser, campaign: Campaign, body_id: int, day: dt.date) -> BodyReport:
    """The body's report for the day, made (as a draft, audited) if it has none yet."""
    key = key_of(campaign.id, body_id, day)

    async def create() -> BodyReport:
        async with atomic():
            return await audit.save(user, "body_report", BodyReport(
                campaign=campaign.id, body=body_id, report_day=day, key=key, status=ReportStatus.draft))

    report, _ = await once(BodyReport.key, key, create)
    return report


def _check_editable(user: CurrentUser, body_id: int, report: BodyReport | None) -> None:
    if not may_edit(user, body_id):
        raise PermissionDeniedException("只有本单位联络员可以填写本单位的报送")
    if report is not None and report.status not in rules.EDITABLE:
        raise Conflict("报告已报送，报送后不能修改；如需更正，请办公室退回")


async def save(user: CurrentUser, campaign: Campaign, day: dt.date, body_id: int, form: Any, *,
               submit: bool, today: dt.date, store: ObjectStore | None = None) -> BodyReport:
    """Save what the body adds (overrides with notes, 备注, 工作进展); with `submit`, freeze the
    numbers as the records give them now and hand the report in."""
    body = await _body(body_id)
    check_sees(user, body_id)
    existing = await _report(campaign, body_id, day)
    _check_editable(user, body_id, existing)
    computed = await computed_row(campaign, body, day)
    overrides, errors = rules.parse_overrides(form, computed.values())
    remarks = str(form.get("remarks") or "").strip()
    progress = str(form.get("progress") or "").strip()
    if len(remarks) > 1000:
        errors["remarks"] = "备注不能超过 1000 字"
    if len(progress) > 5000:
        errors["progress"] = "工作进展不能超过 5000 字"
    if submit and not progress:
        errors["progress"] = "请填写本期工作进展"
    if errors:
        raise FormError(errors)
    if submit and day > today:
        raise Conflict(f"报送日为 {day.isoformat()}，尚未到报送日，可先保存草稿")
    report = existing or await _draft(user, campaign, body_id, day)
    values: dict[str, Any] = {"overrides": json.dumps(rules.overrides_to_data(overrides), ensure_ascii=False),
                              "remarks": remarks, "progress": progress}
    async with atomic():
        report = await BodyReport.objects().where(BodyReport.id == report.id).first()
        if report.status not in rules.EDITABLE:  # submitted meanwhile (another tab, a second tap)
            raise Conflict("报告已报送，报送后不能修改；如需更正，请办公室退回")
        if submit:
            resubmit = report.status == ReportStatus.returned
            values.update(status=ReportStatus.submitted.value, submitted_by=user.id, submitted_at=clock.now(),
                          computed=json.dumps(computed.to_data(), ensure_ascii=False))
        await audit.save(user, "body_report", report, values)
        if submit:
            await audit.record("resubmit" if resubmit else "submit", "body_report", report.id, actor=user,
                               after={"body": body["name"], "day": day.isoformat(),
                                      "values": {str(c): v for c, v in rules.effective(
                                          computed.values(), overrides).items()},
                                      "overrides": rules.overrides_to_data(overrides)})
    if submit and body["is_police"] and body["scope"] == BodyScope.district:
        await _freeze_police_week(user, campaign, day, today, store)
    return report


async def _freeze_police_week(user: CurrentUser, campaign: Campaign, day: dt.date, today: dt.date,
                              store: ObjectStore | None) -> None:
    """The police branch's own report also freezes the records' numbers of the week for every
    body and the district (the /stats/weekly snapshot and the dashboard's trend), as the
    office's one click used to: as a background job given the store (the week page shows its
    progress), else here."""
    if user.role != Role.office:
        return
    weeks = weekly.report_weeks(campaign.weekly_from, campaign.weekly_until, campaign.weekly_weekday)
    if day not in [w.ending for w in weeks] or await WeeklyReport.exists().where(
            WeeklyReport.key == ledger.week_key(campaign.id, ledger.DISTRICT, day)):
        return
    try:
        if store is not None:
            await freeze.start(store, user, campaign, day, today)
        else:
            await ledger.submit_week(user, campaign, day, today)
    except Conflict:  # frozen meanwhile
        pass


async def decide(user: CurrentUser, campaign: Campaign, day: dt.date, body_id: int, decision: str,
                 reason: str = "") -> BodyReport:
    """The office accepts a submitted report, or returns it with a reason."""
    if user.role != Role.office:
        raise PermissionDeniedException("只有办公室可以接收或退回报送")
    body = await _body(body_id)
    if decision == "return" and not reason.strip():
        raise FormError({"reason": "请填写退回原因"})
    if len(reason) > 1000:
        raise FormError({"reason": "退回原因不能超过 1000 字"})
    async with atomic():
        report = await _report(campaign, body_id, day)
        if report is None or report.status != ReportStatus.submitted:
            raise Conflict(f"{body['name']}的报告当前不是待接收状态")
        status = ReportStatus.accepted if decision == "accept" else ReportStatus.returned
        await audit.save(user, "body_report", report, {
            "status": status.value, "decided_by": user.id, "decided_at": clock.now(),
            "return_reason": reason.strip() if decision == "return" else ""})
        await audit.record("accept" if decision == "accept" else "return", "body_report", report.id, actor=user,
                           after={"body": body["name"], "day": day.isoformat(), "reason": reason.strip()})
    return report


# ---------------------------------------------------------------- typical cases

async def add_case(user: CurrentUser, store: ObjectStore, settings: Settings, campaign: Campaign, day: dt.date,
                   body_id: int, *, uuid: str, area: int | None, title: str, happened: str, done: str,
                   photos: list[bytes]) -> ReportCase:
    """A typical case with up to MAX_CASE_PHOTOS photos. Idempotent by uuid."""
    await _body(body_id)
    check_sees(user, body_id)
    existing = await _report(campaign, body_id, day)
    _check_editable(user, body_id, existing)
    case, made = await once(ReportCase.uuid, uuid, lambda: _add_case(
        user, store, settings, campaign, day, body_id, uuid=uuid, area=area, title=title, happened=happened,
        done=done, photos=photos))
    if not made and case.created_by != user.id:
        raise Conflict("编号冲突，请刷新页面后重试")
    return case


async def _add_case(user: CurrentUser, store: ObjectStore, settings: Settings, campaign: Campaign, day: dt.date,
                    body_id: int, *, uuid: str, area: int | None, title: str, happened: str, done: str,
                    photos: list[bytes]) -> ReportCase:
    errors: dict[str, str] = {}
    if not title:
        errors["title"] = "请填写案例标题"
    if not happened:
        errors["happened"] = "请填写基本情况"
    if len(photos) > MAX_CASE_PHOTOS:
        errors["photos"] = f"最多上传 {MAX_CASE_PHOTOS} 张照片"
    checked: list = []
    if not errors:
        checked, problem = await images.check_photos(photos, settings.max_upload_mb * 1024 * 1024,
                                                     settings.max_image_pixels, thumbnails=True)
        if problem:
            errors["photos"] = problem
    if errors:
        raise FormError(errors)
    report = await _draft(user, campaign, body_id, day)
    now = clock.now()
    stored: list[str] = []
    rows = []
    try:
        for data, (c, thumb) in zip(photos, checked):
            photo_uuid = new_uuid()
            key = f"reports/{now:%Y/%m}/{photo_uuid}.{c.extension}"
            thumb_key = f"reports/{now:%Y/%m}/{photo_uuid}.thumb.jpg"
            await store.put(key, data, c.content_type)
            stored.append(key)
            await store.put(thumb_key, thumb, "image/jpeg")
            stored.append(thumb_key)
            rows.append(ReportCasePhoto(uuid=photo_uuid, object_key=key, thumb_key=thumb_key, sha256=c.sha256,
                                        bytes=c.size, width=c.width, height=c.height, content_type=c.content_type,
                                        uploader=user.id))
        async with atomic():
            fresh = await BodyReport.select(BodyReport.status).where(BodyReport.id == report.id).first()
            if fresh["status"] not in rules.EDITABLE:
                raise Conflict("报告已报送，报送后不能修改；如需更正，请办公室退回")
            case = await audit.save(user, "report_case", ReportCase(
                uuid=uuid, report=report.id, area=area, title=title, happened=happened, done=done,
                created_by=user.id))
            for row in rows:
                row.case = case.id
                await row.save()
                await audit.record("upload", "report_case_photo", row.id, actor=user, after=snapshot(row))
    except Exception:
        for key in stored:
            try:
                await store.delete(key)
            except Exception:  # noqa: BLE001 - best effort; `storage check` lists leftovers
                log.exception("could not remove object %s after a failed case", key)
        raise
    return case


async def delete_case(user: CurrentUser, store: ObjectStore, campaign: Campaign, day: dt.date, body_id: int,
                      case_uuid: str) -> None:
    await _body(body_id)
    check_sees(user, body_id)
    report = await _report(campaign, body_id, day)
    case = await ReportCase.objects().where(ReportCase.uuid == case_uuid).first()
    if report is None or case is None or case.report != report.id:
        raise NotFoundException("典型案例不存在")
    _check_editable(user, body_id, report)
    photos = await ReportCasePhoto.select(ReportCasePhoto.object_key, ReportCasePhoto.thumb_key).where(
        ReportCasePhoto.case == case.id)
    async with atomic():
        await audit.record("delete", "report_case", case.id, actor=user, before=snapshot(case))
        await ReportCase.delete().where(ReportCase.id == case.id)
    # The photos' rows went with the case (a draft's case, never submitted): their objects too.
    for key in (k for p in photos for k in (p["object_key"], p["thumb_key"]) if k):
        try:
            await store.delete(key)
        except Exception:  # noqa: BLE001 - best effort; `storage check` lists leftovers
            log.exception("could not remove object %s of a deleted case", key)


async def open_photo(store: ObjectStore, user: CurrentUser, photo_uuid: str, *, thumb: bool
                     ) -> tuple[ObjectStream, str]:
    photo = await ReportCasePhoto.select(
        ReportCasePhoto.object_key, ReportCasePhoto.thumb_key, ReportCasePhoto.content_type,
        ReportCasePhoto.case.report.body).where(ReportCasePhoto.uuid == photo_uuid).first()
    if photo is None:
        raise NotFoundException("照片不存在")
    if user.role == Role.liaison and photo["case.report.body"] != user.body_id:
        raise NotFoundException("照片不存在")
    if thumb and photo["thumb_key"]:
        return await open_stream(store, photo["thumb_key"]), "image/jpeg"
    return await open_stream(store, photo["object_key"]), photo["content_type"]


# ---------------------------------------------------------------- the office's board

@dataclass
class BoardRow:
    body: dict
    status: str
    report: dict | None
    late_submission: bool
    has_draft: bool

    @property
    def waiting(self) -> bool:
        return self.status == ReportStatus.submitted


async def board(campaign: Campaign, day: dt.date, today: dt.date) -> list[BoardRow]:
    """Every active body and where it stands on the report day."""
    reports = {r["body"]: r for r in await BodyReport.select(
        BodyReport.id, BodyReport.body, BodyReport.status, BodyReport.submitted_at, BodyReport.decided_at,
        BodyReport.return_reason, BodyReport.submitted_by.display_name,
    ).where((BodyReport.campaign == campaign.id) & (BodyReport.report_day == day))}
    out = []
    for b in await reporting_bodies():
        r = reports.get(b["id"])
        stored = r["status"] if r else None
        out.append(BoardRow(b, rules.status_of(stored, day, today), r,
                            rules.submitted_late(clock.local_date(r["submitted_at"]) if r else None, day),
                            stored == ReportStatus.draft))
    return out


async def overview(campaign: Campaign, today: dt.date, body_id: int | None = None) -> list[dict]:
    """Every report day with, per status, how many bodies (or one body's status)."""
    days = await report_days(campaign)
    rows = await BodyReport.select(BodyReport.body, BodyReport.report_day, BodyReport.status).where(
        BodyReport.campaign == campaign.id)
    bodies = [b["id"] for b in await reporting_bodies()] if body_id is None else [body_id]
    stored = {(r["body"], r["report_day"]): r["status"] for r in rows}
    out = []
    for day in days:
        statuses = [rules.status_of(stored.get((b, day)), day, today) for b in bodies]
        counts = {s.value: statuses.count(s.value) for s in ReportStatus if s != ReportStatus.draft}
        out.append({"day": day, "counts": counts, "status": statuses[0] if body_id is not None and statuses else None,
                    "due": day >= today})
    return out


# ---------------------------------------------------------------- the district table

@dataclass
class DistrictRow:
    label: str
    key: str
    status: str
    given: StatRow | None
    """The accepted report's row (its numbers, its 备注), None when none is accepted."""
    derived: dict[int, int]
    """What the records give now for the same scope and day."""

    @property
    def differs(self) -> set[int]:
        return rules.differences(self.given.values(), self.derived) if self.given else set()


@dataclass
class DistrictTable:
    title: str
    body_line: str
    day: dt.date
    rows: list[DistrictRow]

    @property
    def accepted_rows(self) -> list[tuple[str, StatRow]]:
        return [(r.label, r.given) for r in self.rows if r.given is not None]


async def district(campaign: Campaign, day: dt.date, today: dt.date) -> DistrictTable:
    """The district's table for a report day from the accepted reports: one row per sector or
    township body, then the total, which is the police branch's own (whole-district) report —
    the bodies' scopes overlap, so their rows do not add up to it. Beside each, the numbers
    the records give now."""
    bodies = await ledger.all_bodies()
    counts = await queries.count(campaign.id, day)
    reports = {r["body"]: r for r in await BodyReport.select(
        BodyReport.body, BodyReport.status, BodyReport.computed, BodyReport.overrides, BodyReport.remarks,
    ).where((BodyReport.campaign == campaign.id) & (BodyReport.report_day == day))}
    rows = []
    police = None
    for b in bodies:
        if not b["active"]:
            continue
        r = reports.get(b["id"])
        status = rules.status_of(r["status"] if r else None, day, today)
        given = None
        if r and r["status"] == ReportStatus.accepted:
            given = rules.report_row(StatRow.from_data(_loads(r["computed"])),
                                     rules.overrides_from_data(_loads(r["overrides"])), r["remarks"])
        scope = ledger.body_scope(b)
        row = DistrictRow(b["name"], str(b["id"]), status, given, counts.row(scope).values())
        if b["scope"] == BodyScope.district:
            if b["is_police"] and police is None:
                police = row
            continue
        rows.append(row)
    line = f"填报单位：{police.label if police else campaign.district}（全区汇总）"
    if police is not None:
        police.label, police.key = ledger.TOTAL_LABEL, ledger.DISTRICT
        rows.append(police)
    return DistrictTable(f"{ledger.title_of(campaign)}（{title_of(campaign, day)}）", line, day, rows)


# ---------------------------------------------------------------- what a liaison has due

@dataclass(frozen=True)
class DueReport:
    day: dt.date
    title: str
    status: str
    url: str
    reason: str = ""


async def due_for(user: CurrentUser, campaign: Campaign | None, today: dt.date) -> list[DueReport]:
    """For a body's liaison: the report of the current report day (the first one not ended
    yet) unless handed in, every earlier one not handed in (逾期), and the returned ones."""
    if user.role != Role.liaison or not user.body_id or campaign is None:
        return []
    days = await report_days(campaign)
    reports = {r["report_day"]: r for r in await BodyReport.select(
        BodyReport.report_day, BodyReport.status, BodyReport.return_reason).where(
        (BodyReport.campaign == campaign.id) & (BodyReport.body == user.body_id))}
    current = next((d for d in days if d >= today), None)
    out = []
    for day in days:
        if day > today and day != current:
            break
        r = reports.get(day)
        status = rules.status_of(r["status"] if r else None, day, today)
        if status in (ReportStatus.late, ReportStatus.returned) or (day == current and status == ReportStatus.missing):
            out.append(DueReport(day, title_of(campaign, day), status,
                                 f"/reports/{day.isoformat()}/{user.body_id}",
                                 r["return_reason"] if r and status == ReportStatus.returned else ""))
    return out


# ---------------------------------------------------------------- the command line

async def status_lines(campaign: Campaign, day: dt.date, today: dt.date) -> list[str]:
    lines = []
    for row in await board(campaign, day, today):
        when = clock.local_dt(row.report["submitted_at"]) if row.report and row.report["submitted_at"] else ""
        contact = "  ".join(x for x in (row.body["contact_name"], row.body["contact_phone"]) if x)
        extra = [when, "（逾期报送）" if row.late_submission else ""]
        if row.status in (ReportStatus.late, ReportStatus.missing) and contact:
            extra.append(f"联系人 {contact}")
        lines.append("\t".join([row.body["name"], ReportStatus.label_of(row.status), *[e for e in extra if e]]))
    return lines
