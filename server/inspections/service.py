"""The officer's inspection: start, checklist, guards on duty, findings, submit.

Rules live in rules.py; this module loads, checks access and writes (each write in one
transaction with its audit entry)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from litestar.exceptions import NotFoundException, PermissionDeniedException

from server import clock
from server.db import lock, once
from server.audit import service as audit
from server.audit.service import snapshot
from server.auth.scope import CurrentUser
from server.campaign.service import active_campaign, phase_on
from server.db import atomic
from server.models.campaign import Campaign
from server.models.evidence import Photo
from server.errors import Conflict, FormError
from server.forms import new_uuid
from server.inspections import rules
from server.campaign.checklist import BY_NUMBER as AREAS, worded
from server.campaign.options import options_of
from server.models.inspections import ChecklistAnswer, Finding, GuardCheck, Inspection
from server.models.rectification import RectificationOrder
from server.registry import service as registry
from server.vocab import (
    CountUnit,
    FindingSource,
    FindingStatus,
    InspectionKind,
    InspectionStatus,
    Role,
)

EDITABLE = (InspectionStatus.draft, InspectionStatus.sent_back)
DECIDED = (FindingStatus.confirmed, FindingStatus.rejected)
"""Findings the office has decided on: the officer can no longer change them (review)."""


_INSPECTION_LOCK = 1 << 40  # db.lock keys from here on: one writer per inspection at a time


async def lock_inspection(insp: Inspection) -> None:
    """Inside a transaction: writers of this inspection's derived findings and its submit take
    turns. db.atomic already runs one write transaction at a time on both engines; this keeps
    it so for this inspection should that ever be loosened."""
    await lock(_INSPECTION_LOCK + int(insp.id))


# ---------------------------------------------------------------- access

async def get_for(user: CurrentUser, uuid: str) -> Inspection:
    """Load an inspection the user may see: their own; any for the office and leaders;
    a liaison's own body's. Anything else is 'not found' (no existence leak)."""
    insp = await Inspection.objects().where(Inspection.uuid == uuid).first()
    if insp is None:
        raise NotFoundException("检查记录不存在")
    if insp.officer == user.id or user.role in (Role.office, Role.leader):
        return insp
    if user.role == Role.liaison and insp.body == user.body_id:
        return insp
    if user.role == Role.officer and user.scope.is_district:
        # Officers of the police see each other's submitted work (not drafts).
        if insp.status != InspectionStatus.draft:
            return insp
    raise NotFoundException("检查记录不存在")


def ensure_editable(user: CurrentUser, insp: Inspection) -> None:
    if insp.officer != user.id:
        raise PermissionDeniedException("只有检查人本人可以修改")
    if insp.status not in EDITABLE:
        raise Conflict("该检查已提交，不能再修改")


# ---------------------------------------------------------------- start

async def start(user: CurrentUser, site_id: int, uuid: str, kind: str = InspectionKind.routine,
                lat: float | None = None, lng: float | None = None) -> Inspection:
    insp, made = await once(Inspection.uuid, uuid, lambda: _start(user, site_id, uuid, kind, lat, lng))
    if not made and insp.officer != user.id:  # a replay (or a double tap): already done
        raise Conflict("编号冲突，请刷新页面后重试")
    return insp


async def _start(user: CurrentUser, site_id: int, uuid: str, kind: str, lat: float | None,
                 lng: float | None) -> Inspection:
    if user.role not in (Role.officer, Role.liaison):
        raise PermissionDeniedException("只有民警和联络员可以开展检查")
    if user.body_id is None:
        raise Conflict("您的账号没有所属填报单位，请联系办公室")
    site = await registry.get_site(user.scope, site_id)
    if site is None:
        raise NotFoundException("服务目标不存在或不在您的辖区范围内")
    campaign = await active_campaign()
    if campaign is None:
        raise Conflict("当前没有进行中的专项行动")
    if user.role == Role.liaison:
        kind = InspectionKind.self_inspection
    phase = await phase_on(campaign.id, clock.today())
    insp = Inspection(
        uuid=uuid, campaign=campaign.id, phase=phase.id if phase else None, kind=kind,
        officer=user.id, body=user.body_id, site=site["id"], unit=site["unit.id"], lat=lat, lng=lng,
    )
    async with atomic():
        await insp.save()
        await audit.record("create", "inspection", insp.id, actor=user, after=snapshot(insp))
    return insp


# ---------------------------------------------------------------- reading

@dataclass
class Detail:
    insp: Inspection
    site: dict
    answers: dict[int, dict]
    guards: list[dict]
    findings: list[dict]
    photos: list[dict]
    roster: list[dict]
    offenders: list[rules.OffenderChoice] = field(default_factory=list)
    """The parties a finding here can name as offender (违法主体)."""

    def photos_for(self, *, guard_check: int | None = None, finding: int | None = None) -> list[dict]:
        if guard_check is not None:
            return [p for p in self.photos if p["guard_check"] == guard_check]
        if finding is not None:
            return [p for p in self.photos if p["finding"] == finding]
        return [p for p in self.photos if p["guard_check"] is None and p["finding"] is None]

    @property
    def editable(self) -> bool:
        return self.insp.status in EDITABLE

    def missing(self) -> list[str]:
        """What is still to do before this inspection can be submitted (shown above the
        button), from what the page already holds."""
        answers = {a: (r["answer"], r["note"]) for a, r in self.answers.items()}
        derived = [rules.DerivedFinding("", f["area"], None, "", 1, f["text"], f["guard_check"])
                   for f in self.findings]
        problems = rules.submit_problems(answers, derived, [f["text"] for f in self.findings])
        guards = [(g["guard.name"] or g["typed_name"] or g["guard.certificate_no"] or g["typed_certificate_no"]
                   or "未登记人员", rules.unchecked(g)) for g in self.guards]
        return rules.still_missing(problems, guards)


async def detail(insp: Inspection, with_roster: bool = False) -> Detail:
    from server.models.registry import Site

    site = await Site.select(*registry.SITE_COLUMNS).where(Site.id == insp.site).first()
    answers = {a["area"]: a for a in await ChecklistAnswer.select().where(ChecklistAnswer.inspection == insp.id)}
    guards = await GuardCheck.select(
        GuardCheck.all_columns(), GuardCheck.guard.name, GuardCheck.guard.certificate_no,
        GuardCheck.guard.employer.name, GuardCheck.guard.portrait_key,
    ).where(GuardCheck.inspection == insp.id).order_by(GuardCheck.id)
    findings = await Finding.select(Finding.all_columns(), Finding.unit.name, Finding.repeat_of.order.number).where(
        Finding.inspection == insp.id).order_by(Finding.area, Finding.id)
    photos = await Photo.select(
        Photo.id, Photo.uuid, Photo.guard_check, Photo.finding, Photo.sha256, Photo.bytes,
        Photo.width, Photo.height, Photo.captured_at, Photo.uploaded_at, Photo.review_status,
        Photo.review_note,
    ).where(Photo.inspection == insp.id).order_by(Photo.id)
    roster = await registry.roster(site) if with_roster else []
    return Detail(insp, site, answers, guards, findings, photos, roster, await offender_choices(insp))


# ---------------------------------------------------------------- checklist

async def save_answer(user: CurrentUser, insp: Inspection, area: int, answer: str, note: str) -> None:
    if area not in AREAS:
        raise NotFoundException("检查项不存在")
    key = f"{insp.id}:{area}"
    row = await ChecklistAnswer.objects().where(ChecklistAnswer.key == key).first()
    if row is not None and (row.answer, row.note) == (answer, note) and insp.officer == user.id:
        return  # a replay of what is already recorded
    ensure_editable(user, insp)
    async with atomic():
        await _write_answer(user, insp, area, answer, note)
        await sync_derived_findings(insp)


async def _write_answer(user: CurrentUser, insp: Inspection, area: int, answer: str, note: str) -> None:
    key = f"{insp.id}:{area}"
    row = await ChecklistAnswer.objects().where(ChecklistAnswer.key == key).first()
    before = snapshot(row) if row else None
    if row is None:
        row = ChecklistAnswer(inspection=insp.id, area=area, answer=answer, note=note, key=key)
    else:
        row.answer, row.note = answer, note
    await row.save()
    await audit.record("answer", "checklist_answer", row.id, actor=user, before=before, after=snapshot(row))


async def answer_all_ok(user: CurrentUser, insp: Inspection) -> None:
    """全部符合 in one tap: every area not yet answered becomes 符合 (an area where a guard check
    already found a problem becomes 不符合); the officer then changes the exceptions."""
    ensure_editable(user, insp)
    async with atomic():
        await sync_derived_findings(insp)
        answered = {a["area"] for a in await ChecklistAnswer.select(ChecklistAnswer.area).where(
            ChecklistAnswer.inspection == insp.id)}
        guard_areas = {f["area"] for f in await Finding.select(Finding.area).where(
            (Finding.inspection == insp.id) & Finding.guard_check.is_not_null())}
        for area, answer in rules.all_ok_answers(answered, guard_areas).items():
            await _write_answer(user, insp, area, answer, "")
        await sync_derived_findings(insp)


# ---------------------------------------------------------------- guards on duty

async def add_guard(user: CurrentUser, insp: Inspection, uuid: str, guard_id: int | None,
                    certificate_no: str, typed_name: str, *, verdict: str | None = None) -> GuardCheck:
    """verdict: already decided from a scanned card (server.cards.verdict); used as given, and
    then a person with no guard, number or name may be recorded (a forged card's holder)."""
    check, made = await once(GuardCheck.uuid, uuid, lambda: _add_guard(
        user, insp, uuid, guard_id, certificate_no, typed_name, verdict))
    if not made and check.inspection != insp.id:  # a replay: already done, even if submitted since
        raise Conflict("编号冲突，请刷新页面后重试")
    return check


async def _add_guard(user: CurrentUser, insp: Inspection, uuid: str, guard_id: int | None,
                     certificate_no: str, typed_name: str, verdict: str | None) -> GuardCheck:
    ensure_editable(user, insp)
    site = await registry.get_site(user.scope, insp.site) or {}
    guard = None
    if guard_id:
        guard = await registry.guard_by_id(guard_id, user.scope, site or None)
        if guard is None:
            raise FormError({"guard_id": "所选保安员不存在"})
    elif certificate_no:
        guard = await registry.guard_by_certificate(certificate_no, user.scope, site or None)
    elif not typed_name and verdict is None:
        raise FormError({"certificate_no": "请从名册中选择，或填写保安员证号或姓名"})
    if guard is not None:
        already = await GuardCheck.exists().where(
            (GuardCheck.inspection == insp.id) & (GuardCheck.guard == guard["id"]))
        if already:
            raise FormError({"certificate_no": f"{guard['name']} 已在本次检查的名单中"})
    if verdict is None:
        verdict = rules.card_verdict(
            guard is not None, guard["certificate_status"] if guard else None,
            guard["employer.id"] if guard else None, registry.site_employer_ids(site) if site else set())
        if guard is None and not certificate_no:
            verdict = rules.CardVerdict.no_certificate  # a person with no card at all
    check = GuardCheck(
        uuid=uuid, inspection=insp.id, guard=guard["id"] if guard else None,
        typed_certificate_no=certificate_no, typed_name=typed_name, verdict=verdict,
    )
    async with atomic():
        await check.save()
        await audit.record("add_guard", "guard_check", check.id, actor=user, after=snapshot(check))
        await sync_derived_findings(insp)
    return check


async def get_guard_check(insp: Inspection, check_id: int) -> GuardCheck:
    check = await GuardCheck.objects().where(
        (GuardCheck.id == check_id) & (GuardCheck.inspection == insp.id)).first()
    if check is None:
        raise NotFoundException("保安员核查记录不存在")
    return check


async def update_guard(user: CurrentUser, insp: Inspection, check_id: int, values: dict[str, Any]) -> None:
    ensure_editable(user, insp)
    check = await get_guard_check(insp, check_id)
    before = snapshot(check)
    for name in ("certificate_shown", "uniform_ok", "insignia_ok", "tejin_marking", "note"):
        if name in values:
            setattr(check, name, values[name])
    async with atomic():
        await check.save()
        await audit.record("update", "guard_check", check.id, actor=user, before=before, after=snapshot(check))
        await sync_derived_findings(insp)


async def guard_all_ok(user: CurrentUser, insp: Inspection, check_id: int) -> None:
    """其余各项均正常: the checks of this guard not yet answered get the answer that is in order;
    one already answered (a problem the officer saw) keeps it."""
    check = await get_guard_check(insp, check_id)
    await update_guard(user, insp, check_id, {k: ok for k, ok in rules.GUARD_CHECKS.items()
                                              if getattr(check, k) is None})


async def remove_guard(user: CurrentUser, insp: Inspection, check_id: int) -> None:
    ensure_editable(user, insp)
    check = await get_guard_check(insp, check_id)
    if await Finding.exists().where((Finding.guard_check == check.id) & Finding.status.is_in(list(DECIDED))):
        raise Conflict("此人的问题已经办公室审核，不能从本次检查中移除")
    async with atomic():
        await Photo.update({Photo.guard_check: None}).where(Photo.guard_check == check.id)
        await GuardCheck.delete().where(GuardCheck.id == check.id)
        await audit.record("remove_guard", "guard_check", check.id, actor=user, before=snapshot(check))
        await sync_derived_findings(insp)


# ---------------------------------------------------------------- the offender (违法主体)

async def _provider_of(insp: Inspection) -> int | None:
    from server.models.registry import Site

    row = await Site.select(Site.provider).where(Site.id == insp.site).first()
    return row["provider"] if row else None


async def offender_choices(insp: Inspection) -> list[rules.OffenderChoice]:
    """The site's owner, the provider posted there and the employers of the guards checked."""
    from server.models.registry import Site

    site = await Site.select(Site.unit.id, Site.unit.name, Site.provider.id, Site.provider.name).where(
        Site.id == insp.site).first()
    owner = (insp.unit, site["unit.name"] if site and site["unit.id"] == insp.unit else "")
    if not owner[1]:
        from server.models.registry import Unit

        row = await Unit.select(Unit.name).where(Unit.id == insp.unit).first()
        owner = (insp.unit, row["name"] if row else "")
    provider = (site["provider.id"], site["provider.name"]) if site and site["provider.id"] else None
    employers = [(r["guard.employer.id"], r["guard.employer.name"]) for r in await GuardCheck.select(
        GuardCheck.guard.employer.id, GuardCheck.guard.employer.name,
    ).where((GuardCheck.inspection == insp.id) & GuardCheck.guard.is_not_null()).order_by(GuardCheck.id)]
    return rules.offender_choices(owner, provider, employers)


async def named_offender(insp: Inspection, chosen: int | None, name: str, prefix: str,
                          current: int | None = None) -> tuple[str, Any]:
    allowed = {c.unit_id for c in await offender_choices(insp)} | ({current} if current else set())
    try:
        return rules.offender_named(chosen, name, allowed)
    except ValueError as exc:
        raise FormError({f"{prefix}offender": str(exc)}) from None


async def resolve_offender(user: CurrentUser, insp: Inspection, area: int, named: tuple[str, Any],
                           prefix: str = "") -> int:
    """The unit id of what the form named (rules.offender_named); inside a transaction, as a
    unit typed by name may be registered here (flagged 需核查)."""
    kind, value = named
    if kind == "unit":
        return int(value)
    if kind == "name":
        from server.models.registry import Site

        site = await Site.select(Site.township).where(Site.id == insp.site).first()
        try:
            return await registry.unit_named(user, str(value), site["township"] if site else None)
        except FormError as exc:
            raise FormError({f"{prefix}offender": m for m in exc.errors.values()}) from None
    return rules.default_offender(area, insp.unit, await _provider_of(insp))


async def repeat_of(insp: Inspection, offender: int, area: int) -> int | None:
    """At a re-inspection (回头看): the finding of the order being re-inspected with the same
    offender and focus area, which this one finds again (复查仍未整改); else None."""
    if insp.kind != InspectionKind.reinspection:
        return None
    order = await RectificationOrder.select(RectificationOrder.id).where(
        RectificationOrder.reinspection == insp.id).first()
    if order is None:
        return None
    earlier = await Finding.select(Finding.id).where(
        (Finding.order == order["id"]) & (Finding.unit == offender) & (Finding.area == area)
        & (Finding.inspection != insp.id)).order_by(Finding.id).first()
    return earlier["id"] if earlier else None


# ---------------------------------------------------------------- findings

async def sync_derived_findings(insp: Inspection) -> None:
    """Make the derived findings match the rules: add new ones, refresh untouched ones, drop
    those whose cause is gone. Text the officer edited is kept. Call inside a transaction."""
    await lock_inspection(insp)
    answers = {a["area"]: (a["answer"], a["note"]) for a in
               await ChecklistAnswer.select().where(ChecklistAnswer.inspection == insp.id)}
    checks = await GuardCheck.select(
        GuardCheck.all_columns(), GuardCheck.guard.name, GuardCheck.guard.certificate_no,
    ).where(GuardCheck.inspection == insp.id)
    facts = [rules.GuardFacts(
        check_id=c["id"], guard_id=c["guard"], name=c["guard.name"] or c["typed_name"],
        certificate_no=c["guard.certificate_no"] or c["typed_certificate_no"], verdict=c["verdict"],
        uniform_ok=c["uniform_ok"], insignia_ok=c["insignia_ok"], tejin_marking=c["tejin_marking"],
    ) for c in checks]
    wanted = {f"{insp.id}:{d.key}": d for d in rules.derive_findings(answers, facts)}
    provider = await _provider_of(insp)
    existing = await Finding.objects().where(
        (Finding.inspection == insp.id) & (Finding.source == FindingSource.derived))
    have = {f.derived_key: f for f in existing}
    for key, f in have.items():
        if key not in wanted and f.status not in DECIDED:
            await Photo.update({Photo.finding: None}).where(Photo.finding == f.id)
            await Finding.delete().where(Finding.id == f.id)
    for key, d in wanted.items():
        f = have.get(key)
        if f is None:
            offender = rules.default_offender(d.area, insp.unit, provider)
            await Finding.insert(Finding(
                uuid=new_uuid(), inspection=insp.id, unit=offender, guard=d.guard_id,
                guard_check=d.guard_check_id, area=d.area, stat_column=d.stat_column,
                count_unit=d.count_unit, quantity=d.quantity, text=d.text,
                source=FindingSource.derived, derived_key=key,
                repeat_of=await repeat_of(insp, offender, d.area),
            ))
        elif f.status not in DECIDED and not f.edited and (f.text, f.stat_column) != (d.text, d.stat_column):
            await Finding.update({Finding.text: d.text, Finding.stat_column: d.stat_column,
                                  Finding.updated_at: clock.now()}).where(Finding.id == f.id)


async def get_finding(insp: Inspection, finding_id: int) -> Finding:
    f = await Finding.objects().where((Finding.id == finding_id) & (Finding.inspection == insp.id)).first()
    if f is None:
        raise NotFoundException("问题记录不存在")
    return f


def ensure_undecided(f: Finding) -> None:
    if f.status in DECIDED:
        raise Conflict("该问题已经办公室审核（已确认或已驳回），不能再修改")


async def add_finding(user: CurrentUser, insp: Inspection, uuid: str, area: int, stat_column: int | None,
                      quantity: int, text: str, guard_id: int | None = None, *,
                      offender_id: int | None = None, offender_name: str = "") -> Finding:
    """offender_id / offender_name: the 违法主体 the officer named (one of the parties offered,
    or another unit by name or credit code); neither: the default of the focus area."""
    async def create() -> Finding:
        ensure_editable(user, insp)
        a = AREAS[area]
        named = await named_offender(insp, offender_id, offender_name, "new.")
        async with atomic():
            offender = await resolve_offender(user, insp, area, named, "new.")
            f = Finding(uuid=uuid, inspection=insp.id, unit=offender, guard=guard_id, area=area,
                        stat_column=stat_column, count_unit=a.count_unit if stat_column else CountUnit.case,
                        quantity=quantity, text=text, source=FindingSource.manual,
                        repeat_of=await repeat_of(insp, offender, area))
            await f.save()
            await audit.record("create", "finding", f.id, actor=user, after=snapshot(f))
        return f

    f, made = await once(Finding.uuid, uuid, create)
    if not made and f.inspection != insp.id:  # a replay
        raise Conflict("编号冲突，请刷新页面后重试")
    return f


async def update_finding(user: CurrentUser, insp: Inspection, finding_id: int, stat_column: int | None,
                         quantity: int, text: str, *, offender_id: int | None = None,
                         offender_name: str = "") -> None:
    ensure_editable(user, insp)
    f = await get_finding(insp, finding_id)
    ensure_undecided(f)
    before = snapshot(f)
    named = await named_offender(insp, offender_id, offender_name, f"finding{finding_id}.", f.unit)
    f.stat_column, f.quantity, f.text, f.edited, f.updated_at = stat_column, quantity, text, True, clock.now()
    async with atomic():
        if named[0] != "default":
            f.unit = await resolve_offender(user, insp, f.area, named, f"finding{finding_id}.")
            f.repeat_of = await repeat_of(insp, f.unit, f.area)
        await f.save()
        await audit.record("update", "finding", f.id, actor=user, before=before, after=snapshot(f))


async def delete_finding(user: CurrentUser, insp: Inspection, finding_id: int) -> None:
    ensure_editable(user, insp)
    f = await get_finding(insp, finding_id)
    ensure_undecided(f)
    if f.source == FindingSource.derived:
        raise Conflict("由检查项生成的问题不能删除，请修改对应的检查结果")
    async with atomic():
        await Photo.update({Photo.finding: None}).where(Photo.finding == f.id)
        await Finding.delete().where(Finding.id == f.id)
        await audit.record("delete", "finding", f.id, actor=user, before=snapshot(f))


# ---------------------------------------------------------------- submit

async def submit(user: CurrentUser, insp: Inspection) -> rules.SubmitProblems:
    """Submit for review. Idempotent: submitting a submitted inspection changes nothing."""
    if insp.officer != user.id:
        raise PermissionDeniedException("只有检查人本人可以提交")
    if insp.status not in EDITABLE:
        return rules.SubmitProblems()
    async with atomic():
        await lock_inspection(insp)
        status = (await Inspection.select(Inspection.status).where(Inspection.id == insp.id).first())["status"]
        if status not in EDITABLE:  # a concurrent replay of this submit came first
            insp.status = status
            return rules.SubmitProblems()
        await sync_derived_findings(insp)
        answers = {a["area"]: (a["answer"], a["note"]) for a in
                   await ChecklistAnswer.select().where(ChecklistAnswer.inspection == insp.id)}
        findings = await Finding.select(Finding.text, Finding.guard_check, Finding.area).where(
            Finding.inspection == insp.id)
        derived = [rules.DerivedFinding("", f["area"], None, "", 1, f["text"], f["guard_check"])
                   for f in findings]
        problems = rules.submit_problems(answers, derived, [f["text"] for f in findings])
        if problems:
            return problems
        now = clock.now()
        await Inspection.update({Inspection.status: InspectionStatus.submitted,
                                 Inspection.submitted_at: now}).where(Inspection.id == insp.id)
        await Finding.update({Finding.status: FindingStatus.submitted}).where(
            (Finding.inspection == insp.id)
            & Finding.status.is_in([FindingStatus.draft, FindingStatus.sent_back]))
        await audit.record("submit", "inspection", insp.id, actor=user,
                           before={"status": insp.status}, after={"status": InspectionStatus.submitted})
        insp.status, insp.submitted_at = InspectionStatus.submitted, now
    return problems


async def list_for_officer(user: CurrentUser, statuses: tuple[str, ...], limit: int = 20) -> list[dict]:
    return await Inspection.select(
        Inspection.uuid, Inspection.status, Inspection.kind, Inspection.started_at,
        Inspection.submitted_at, Inspection.site.name, Inspection.unit.name,
    ).where((Inspection.officer == user.id) & Inspection.status.is_in(list(statuses))).order_by(
        Inspection.started_at, ascending=False).limit(limit)


# ---------------------------------------------------------------- the inspection's page

async def page_context(user: CurrentUser, insp: Inspection, **extra: Any) -> dict[str, Any]:
    """What the inspection page and its fragments show: the details, whether this user may
    edit, and for a re-inspection (回头看) the earlier findings beside these."""
    d = await detail(insp, with_roster=insp.officer == user.id)
    campaign = await Campaign.select(Campaign.options).where(Campaign.id == insp.campaign).first()
    return {"d": d, "insp": d.insp, "can_edit": d.editable and insp.officer == user.id,
            "new_uuid": new_uuid, "errors": {}, "before_after": await before_after(insp),
            "areas": worded(options_of(campaign or {})), **extra}


async def findings_with_photos(where: Any) -> list[dict]:
    """Findings matching `where`, each with its inspection's site, the uuids of its photos and
    whether a re-inspection found it again (`repeated`)."""
    rows = await Finding.select(
        Finding.id, Finding.area, Finding.text, Finding.quantity, Finding.count_unit, Finding.stat_column,
        Finding.status, Finding.reviewed_at, Finding.inspection.uuid, Finding.inspection.submitted_at,
        Finding.inspection.site.name, Finding.guard.name,
    ).where(where).order_by(Finding.area).order_by(Finding.id)
    if rows:
        photos = await Photo.select(Photo.uuid, Photo.finding).where(
            Photo.finding.is_in([r["id"] for r in rows])).order_by(Photo.id)
        per: dict[int, list[str]] = defaultdict(list)
        for p in photos:
            per[p["finding"]].append(p["uuid"])
        repeated = {r["repeat_of"] for r in await Finding.select(Finding.repeat_of).where(
            Finding.repeat_of.is_in([r["id"] for r in rows]) & (Finding.status != FindingStatus.rejected))}
        for r in rows:
            r["photos"] = per.get(r["id"], [])
            r["repeated"] = r["id"] in repeated  # found again at 回头看: 复查仍未整改
    return rows


async def before_after(insp: Inspection) -> dict | None:
    """For a re-inspection's page: the order it checks, the earlier findings with their photos
    and the earlier scene photos (before), and this inspection's photos (after)."""
    if insp.kind != InspectionKind.reinspection:
        return None
    order = await RectificationOrder.select(
        RectificationOrder.id, RectificationOrder.number, RectificationOrder.deadline, RectificationOrder.status,
        RectificationOrder.inspection, RectificationOrder.note,
    ).where(RectificationOrder.reinspection == insp.id).first()
    if order is None:
        return None
    findings = await findings_with_photos(Finding.order == order["id"])
    scene = []
    if order["inspection"]:
        scene = [p["uuid"] for p in await Photo.select(Photo.uuid).where(
            (Photo.inspection == order["inspection"]) & Photo.finding.is_null() & Photo.guard_check.is_null()
        ).order_by(Photo.id)]
    after = [p["uuid"] for p in await Photo.select(Photo.uuid).where(Photo.inspection == insp.id).order_by(Photo.id)]
    return {"order": order, "findings": findings, "scene": scene, "after": after, "insp_uuid": insp.uuid}
