"""The demo in motion: on top of the seeded registry and campaign (seed.py), a campaign that has
been worked — written through the app's own services, so every row has its audit entry and
the numbers are counted as the app counts them.

    inspections awaiting review, with photos        findings confirmed, one sent back
    orders due within days and overdue               a re-inspection done, its order verified
    a drawn spot check                               the bodies' reports due so far: most accepted,
                                                     one returned, 区交通局 late
    a clue in progress (accepted: a task on an officer's phone)

Idempotent: every record is made under a fixed UUID (uuid5 of its name), and the whole run is
skipped when its first inspection exists. Dates follow the seeded campaign: the services stamp
today, and orders are issued as of earlier days so that some are due and some overdue.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid as uuidlib
from typing import Any

from PIL import Image, ImageDraw

from server import clock
from server.auth.scope import CurrentUser
from server.documents import service as documents
from server.evidence import service as evidence
from server.inspections import service as inspections
from server.models.auth import User
from server.models.campaign import Campaign
from server.models.inspections import Finding, Inspection
from server.models.ledger import WeeklyReport
from server.models.campaign import Body
from server.models.reports import BodyReport
from server.reports import service as reports
from server.models.rectification import ClueReferral, SpotCheckDraw
from server.models.registry import Site, Unit
from server.rectification import clues, spotcheck
from server.rectification import service as rectification
from server.registry import survey
from server.review import service as review
from server.vocab import Answer

_NS = uuidlib.UUID("6f1d2c7e-5a4b-4c3d-9e8f-20201214beef")


def _uuid(name: str) -> str:
    return str(uuidlib.uuid5(_NS, name))


def _photo(label: str, color: tuple[int, int, int]) -> bytes:
    """A plain scene photo (JPEG) with a caption-like band, made here, so no file is shipped."""
    image = Image.new("RGB", (960, 720), color)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 600, 960, 720), fill=(30, 30, 30))
    draw.rectangle((80, 120, 880, 520), outline=(250, 250, 250), width=8)
    draw.text((100, 640), label.encode("ascii", "replace").decode(), fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return out.getvalue()


async def _user(username: str) -> CurrentUser:
    row = await User.select(User.id, User.username, User.display_name, User.role, User.body.id, User.body.name,
                            User.body.scope, User.body.sector, User.body.township).where(
        User.username == username).first()
    return CurrentUser(id=row["id"], username=row["username"], display_name=row["display_name"], role=row["role"],
                       body_id=row["body.id"], body_name=row["body.name"] or "", body_scope=row["body.scope"] or "district",
                       body_sector=row["body.sector"], body_township_id=row["body.township"], session_id=0)


async def _site(unit_name: str, site_name: str) -> dict:
    return await Site.select(Site.id, Site.unit).where(
        (Site.unit.name == unit_name) & (Site.name == site_name)).first()


# (key, officer, unit, site, {area: (stat column, quantity, finding text)}, what the office does)
SCENES: list[tuple[str, str, str, str, dict[int, tuple[int | None, int, str]], str]] = [
    ("mashenqiao", "minjing", "天津市蓟州区马伸桥中学", "校本部",
     {4: (14, 1, "学校由劳务公司人员从事门卫保安，劳务公司无保安服务许可"), 3: (None, 1, "门卫人员未经岗前培训")},
     "order_due"),
    ("panshan", "minjing", "天津盘山物业管理有限公司", "盘山家园小区",
     {5: (10, 1, "物业公司自招保安员，未向公安机关备案")}, "order_overdue"),
    ("xingguang", "minjing2", "天津市蓟州区星光文化娱乐有限公司", "经营场所",
     {4: (14, 1, "娱乐场所雇佣劳务派遣公司人员从事保安服务")}, "order_reinspected"),
    ("jikai", "minjing", "天津蓟开精密机械有限公司", "厂区",
     {5: (10, 1, "自招保安单位未备案")}, "await_review"),
    ("keyunzhan", "minjing2", "天津市蓟州区长途汽车客运站", "停车场",
     {4: (14, 1, "停车场看护由劳务派遣公司人员承担"), 8: (None, 1, "值守记录缺失")}, "await_review"),
    ("huangyaguan", "minjing", "天津市蓟州区下营长城旅游开发有限公司", "黄崖关景区游客服务中心",
     {6: (12, 1, "自招保安员被派往景区外停车场提供服务")}, "send_back"),
    ("diyizhongxue", "minjing2", "天津市蓟州区第一中学", "校本部", {}, "confirm_clean"),
]
COLORS = [(70, 110, 160), (120, 140, 90), (150, 90, 80), (90, 90, 140), (140, 120, 70), (80, 130, 130), (110, 110, 110)]


async def seed_activity(store: Any, settings: Any, today: dt.date | None = None) -> dict[str, int]:
    """Work the seeded campaign as its officers, office and a liaison would. Returns counts."""
    counts = {"inspections": 0, "photos": 0, "orders": 0, "reinspections": 0, "spot_checks": 0,
              "weekly_reports": 0, "body_reports": 0, "clues": 0, "documents": 0, "liaison_additions": 0}
    campaign = await Campaign.objects().where(Campaign.active == True).first()  # noqa: E712
    if campaign is None or await Inspection.exists().where(Inspection.uuid == _uuid("inspection:mashenqiao")):
        return counts
    today = today or clock.today()
    office = await _user("bangongshi")
    officers = {name: await _user(name) for name in ("minjing", "minjing2")}

    made: dict[str, tuple[Inspection, list[int]]] = {}
    for (key, officer_name, unit_name, site_name, areas, plan), color in zip(SCENES, COLORS):
        officer = officers[officer_name]
        site = await _site(unit_name, site_name)
        if site is None:
            continue
        insp = await inspections.start(officer, site["id"], _uuid(f"inspection:{key}"))
        for area in range(1, 9):
            answer = Answer.violation if area in areas else (Answer.na if area in (1, 2) else Answer.ok)
            await inspections.save_answer(officer, insp, area, answer.value, areas[area][2] if area in areas else "")
        finding_ids = []
        for area, (column, quantity, text) in areas.items():
            # A "violation" answer derives the area's finding; the officer sets its column and text.
            f = await Finding.objects().where((Finding.inspection == insp.id) & (Finding.area == area)).first()
            if f is None:
                f = await inspections.add_finding(officer, insp, _uuid(f"finding:{key}:{area}"), area, column,
                                                  quantity, text)
            elif (f.stat_column, f.text) != (column, text):
                await inspections.update_finding(officer, insp, f.id, column, quantity, text)
            finding_ids.append(f.id)
            await evidence.ingest(store, settings, officer, insp, uuid=_uuid(f"photo:{key}:{area}"),
                                  data=_photo(f"{key} {area}", color), finding=f.id, captured_at=clock.now())
            counts["photos"] += 1
        await evidence.ingest(store, settings, officer, insp, uuid=_uuid(f"photo:{key}:scene"),
                              data=_photo(f"{key} scene", color), captured_at=clock.now())
        counts["photos"] += 1
        problems = await inspections.submit(officer, insp)
        if problems:
            raise RuntimeError(f"demo inspection {key} could not be submitted: {problems}")
        insp = await Inspection.objects().where(Inspection.id == insp.id).first()
        counts["inspections"] += 1
        if plan == "await_review":
            continue
        for fid in finding_ids:
            decision = "send_back" if plan == "send_back" else "confirm"
            await review.decide_finding(office, insp, fid, decision, "请补拍服务范围外停车场的照片" if decision == "send_back" else "")
        await review.finish(office, insp, "")
        made[key] = (insp, finding_ids)

    # Orders: issued as of earlier days, so that one is due within days and one overdue.
    issued = {"mashenqiao": 13, "panshan": 20, "xingguang": 16}
    orders = {}
    for key, days_ago in issued.items():
        if key not in made:
            continue
        insp, finding_ids = made[key]
        # One order per offender (违法主体: the site's owner, or the provider posted there for
        # areas 4 and 6); the site owner's order is the one the demo goes on with.
        owner = (await Site.select(Site.unit).where(Site.id == insp.site).first())["unit"]
        by_offender: dict[int, list[int]] = {}
        for f in await Finding.select(Finding.id, Finding.unit).where(Finding.id.is_in(finding_ids)):
            by_offender.setdefault(f["unit"], []).append(f["id"])
        for unit_id, ids in sorted(by_offender.items(), key=lambda kv: kv[0] != owner):
            order = await rectification.create_order(office, campaign, unit_id, sorted(ids), None, "",
                                                     day=today - dt.timedelta(days=days_ago))
            orders.setdefault(key, order)
            counts["orders"] += 1

    # A re-inspection done: the unit signed a contract with a licensed company; verified.
    if "xingguang" in orders:
        officer = officers["minjing2"]
        re = await rectification.start_reinspection(officer, orders["xingguang"].id, None, _uuid("reinspection:xingguang"))
        for area in range(1, 9):
            await inspections.save_answer(officer, re, area, (Answer.na if area in (1, 2) else Answer.ok).value,
                                          "已与保安服务公司签订合同" if area == 4 else "")
        await evidence.ingest(store, settings, officer, re, uuid=_uuid("photo:reinspection:xingguang"),
                              data=_photo("after", (60, 140, 90)), captured_at=clock.now())
        await inspections.submit(officer, re)
        await rectification.change_status(office, orders["xingguang"].id, "verify", note="回头看合格")
        await rectification.add_outcome(office, orders["xingguang"].id, 19, 3, today,
                                        "与天津渔阳保安服务有限公司签订保安服务合同，3 名看护人员改由持证保安员担任")
        counts["reinspections"] += 1
        counts["photos"] += 1

    # A drawn spot check (双随机) of property companies.
    if not await SpotCheckDraw.exists().where(SpotCheckDraw.campaign == campaign.id):
        await spotcheck.make_draw(office, campaign, 3, spotcheck.PoolFilter(kind="property_company"))
        counts["spot_checks"] += 1

    # The bodies' reports due so far: each body hands in its row and progress (the two bodies with
    # a liaison account through it, the rest keyed in by the office from their paper report);
    # the police branch's own report freezes the week. 区交通局 never reports (逾期). On the
    # latest day the education bureau has added a typical case and awaits acceptance, 渔阳镇's
    # report is returned with a reason; every earlier report is accepted.
    counts["body_reports"], counts["weekly_reports"] = await _body_reports(store, settings, campaign, office, today)

    # A clue in progress: the education bureau refers a school's guard company; accepted.
    liaison = await _user("lianluoyuan")
    clue_uuid = _uuid("clue:banjun")
    if not await ClueReferral.exists().where(ClueReferral.uuid == clue_uuid):
        school = await Unit.select(Unit.id).where(Unit.name == "天津市蓟州区邦均中学").first()
        await clues.create(liaison, store, settings, uuid=clue_uuid, unit_id=school["id"] if school else None,
                           unit_name="" if school else "天津市蓟州区邦均中学", address="",
                           description="学校反映门卫保安员中有人未持保安员证上岗，请公安机关核查。",
                           photos=[_photo("clue", (150, 130, 100))])
        site = await Site.select(Site.id).where(Site.unit == school["id"]).first() if school else None
        await clues.accept(office, clue_uuid, officers["minjing"].id, school["id"] if school else None,
                           site["id"] if site else None)
        counts["clues"] += 1

    # One-off documents: the education bureau's plan accepted, 渔阳镇's returned; every other
    # body is late with its plan (its due date has passed) and owes its summary.
    counts["documents"] += await _documents(store, settings, campaign, office, liaison, await _user("xiangzhen"))
    # A liaison's survey addition, waiting for the office to confirm it.
    counts["liaison_additions"] += await _liaison_addition(await _user("xiangzhen"))
    return counts


DEMO_PLAN = (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n"
             b"% \xe4\xb8\x93\xe9\xa1\xb9\xe5\xb7\xa5\xe4\xbd\x9c\xe6\x96\xb9\xe6\xa1\x88\ntrailer << /Root 1 0 R >>\n%%EOF\n")
DEMO_ADDITION_USCC = "91120225MA06KN2Q8M"


async def _documents(store: Any, settings: Any, campaign: Campaign, office: CurrentUser, edu: CurrentUser,
                     town: CurrentUser) -> int:
    from server.models.documents import BodyDocument

    made = 0
    for liaison, name, decision in ((edu, "区教育局保安市场清理整顿工作方案.pdf", "accept"),
                                    (town, "渔阳镇工作方案.pdf", "return")):
        if await BodyDocument.exists().where(BodyDocument.key == documents.doc_key(campaign.id, liaison.body_id, "plan")):
            continue
        doc = await documents.upload(liaison, store, settings, campaign, "plan", _uuid(f"document:{liaison.username}:plan"),
                                     name, DEMO_PLAN)
        if decision == "accept":
            await documents.accept(office, doc.id)
        else:
            await documents.send_back(office, doc.id, "方案未加盖单位公章，请补充后重新上传")
        made += 1
    return made


async def _liaison_addition(liaison: CurrentUser) -> int:
    if await Unit.exists().where(Unit.uscc == DEMO_ADDITION_USCC):
        return 0
    await survey.add_unit(liaison, {
        "name": "天津市蓟州区渔阳康宁物业服务有限公司", "kind": "property_company", "uscc": DEMO_ADDITION_USCC,
        "sector": "property", "township": liaison.body_township_id, "address": "渔阳镇康宁路2号",
        "contact_name": "周经理", "contact_phone": "13612345678"})
    return 1


LATE_BODY = "区交通局"
RETURNED_BODY = "渔阳镇"
LIAISONS = {"区教育局": "lianluoyuan", "渔阳镇": "xiangzhen"}


async def _body_reports(store: Any, settings: Any, campaign: Campaign, office: CurrentUser,
                        today: dt.date) -> tuple[int, int]:
    """Returns (reports submitted, weeks frozen by the police branch's report)."""
    days = [d for d in await reports.report_days(campaign) if d <= today]
    if not days:
        return 0, 0
    frozen_before = await WeeklyReport.count().where(WeeklyReport.body.is_null())
    bodies = await Body.select(Body.id, Body.name).where(Body.active == True).order_by(Body.ordinal)  # noqa: E712
    liaisons = {name: await _user(username) for name, username in LIAISONS.items()}
    made = 0
    for day in days:
        latest = day == days[-1]
        for body in bodies:
            if body["name"] == LATE_BODY or await BodyReport.exists().where(
                    BodyReport.key == reports.key_of(campaign.id, body["id"], day)):
                continue
            user = liaisons.get(body["name"], office)
            form: dict[str, str] = {"progress": f"{body['name']}本期继续开展保安服务市场清理整顿，按辖区台账逐一排查。"}
            if body["name"] == "区教育局" and latest:
                form.update(v16="2", n16="学校自查发现两名门卫穿着仿警服，尚未录入检查记录",
                            progress="组织全区中小学、幼儿园开展保安员持证和着装自查。")
                await reports.add_case(user, store, settings, campaign, day, body["id"],
                                       uuid=_uuid(f"case:{day}:edu"), area=2,
                                       title="中学门卫穿着仿警服",
                                       happened="自查发现某中学两名门卫穿着带有“特勤”字样的服装。",
                                       done="已责令更换统一保安服，并督促保安公司开展着装培训。",
                                       photos=[_photo("case", (90, 90, 140))])
            await reports.save(user, campaign, day, body["id"], form, submit=True, today=today)
            made += 1
            if latest and body["name"] == RETURNED_BODY:
                await reports.decide(office, campaign, day, body["id"], "return", "请补充辖区物业公司自查情况和整改进展")
            elif not (latest and body["name"] == "区教育局"):
                await reports.decide(office, campaign, day, body["id"], "accept")
    frozen = await WeeklyReport.count().where(WeeklyReport.body.is_null()) - frozen_before
    return made, frozen


async def finding_status_counts() -> dict[str, int]:
    """For tests and the CLI's summary: findings by status."""
    out: dict[str, int] = {}
    for r in await Finding.select(Finding.status):
        out[r["status"]] = out.get(r["status"], 0) + 1
    return out
