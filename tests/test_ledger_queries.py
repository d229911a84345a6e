"""The statistics table counted by the database (queries.py) against the plain-Python
reference (counting.py), on a varied made-up district: every body's row and the total, for
several days, the numbers, the remarks and the records behind every number; also the
weekly freeze's single pass and the dashboard's trend."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from server.auth.scope import Scope
from server.models.campaign import Body, Campaign, Township
from server.models.inspections import Finding, GuardCheck, Inspection
from server import db
from server.ledger import queries, service, tally
from server.ledger.columns import VIOLATION_COLUMNS
from server.ledger.row import REMARKS
from tests.support import counting
from server.clock import local_date
from tests.support.counting import Dataset
from server.models.rectification import RectificationOrder, RectificationOutcome
from server.models.registry import Guard, Site, Unit
from server.vocab import BodyScope, CertStatus, EmploymentStatus, FindingStatus, ProviderKind, Sector, UnitKind
from tests.support.flow import new_id

UTC = dt.timezone.utc
DAYS = [dt.date(2020, 12, 14), dt.date(2020, 12, 25), dt.date(2020, 12, 31), dt.date(2021, 1, 1), dt.date(2021, 1, 20)]


async def load_dataset(campaign_id: int) -> Dataset:
    """Everything the reference reads, loaded into Python (as the app did before counting
    moved into the database)."""
    units = {
        r["id"]: counting.UnitRec(r["id"], r["kind"], r["sector"], r["township"], local_date(r["created_at"]))
        for r in await Unit.select(Unit.id, Unit.kind, Unit.sector, Unit.township, Unit.created_at)
    }
    sites = [counting.SiteRec(r["id"], r["unit"], r["provider_kind"], local_date(r["created_at"]))
             for r in await Site.select(Site.id, Site.unit, Site.provider_kind, Site.created_at)]
    guards = [
        counting.GuardRec(
            r["id"], r["employer"], r["site_unit"], r["certificate_status"], r["certificate_issued_on"],
            r["employment_status"], r["hired_on"], r["left_on"], local_date(r["created_at"]),
            local_date(r["updated_at"]))
        for r in await Guard.select(
            Guard.id, Guard.employer, Guard.site.unit.as_alias("site_unit"), Guard.certificate_status,
            Guard.certificate_issued_on, Guard.employment_status, Guard.hired_on, Guard.left_on,
            Guard.created_at, Guard.updated_at)
    ]
    findings = [
        counting.FindingRec(r["id"], r["unit"], r["area"], r["stat_column"], r["quantity"], r["status"],
                            local_date(r["reviewed_at"] or r["updated_at"]), local_date(r["inspection.started_at"]),
                            r["repeat_of"])
        for r in await Finding.select(
            Finding.id, Finding.unit, Finding.area, Finding.stat_column, Finding.quantity, Finding.status,
            Finding.reviewed_at, Finding.updated_at, Finding.inspection.started_at, Finding.repeat_of,
        ).where((Finding.status == FindingStatus.confirmed) & (Finding.inspection.campaign == campaign_id))
    ]
    filing_orders: set[int] = set()
    marked: dict[int, set[int]] = {}
    for r in await Finding.select(Finding.order, Finding.area, Finding.stat_column, Finding.guard_check,
                                  Finding.guard_check.tejin_marking).where(Finding.order.is_not_null()):
        if r["area"] == 5 or r["stat_column"] in (10, 11):
            filing_orders.add(r["order"])
        if r["guard_check.tejin_marking"]:
            marked.setdefault(r["order"], set()).add(r["guard_check"])
    outcomes = [
        counting.OutcomeRec(r["id"], r["order.unit"], r["stat_column"], r["quantity"], r["recorded_on"],
                            r["order"] in filing_orders, len(marked.get(r["order"], ())))
        for r in await RectificationOutcome.select(
            RectificationOutcome.id, RectificationOutcome.order, RectificationOutcome.order.unit,
            RectificationOutcome.stat_column, RectificationOutcome.quantity, RectificationOutcome.recorded_on,
        ).where(RectificationOutcome.order.campaign == campaign_id)
    ]
    return Dataset(units, sites, guards, findings, outcomes)


def moment(rng: random.Random) -> dt.datetime:
    """A time in the campaign, often right at a Beijing midnight (16:00 UTC) or just before."""
    day = dt.date(2020, 12, 10) + dt.timedelta(days=rng.randrange(45))
    at = dt.datetime.combine(day, dt.time(16), UTC)
    return at + rng.choice([dt.timedelta(0), dt.timedelta(seconds=-1), dt.timedelta(microseconds=-1),
                            dt.timedelta(microseconds=1), dt.timedelta(hours=rng.randrange(1, 23)),
                            dt.timedelta(minutes=-rng.randrange(1, 600))])


def maybe_day(rng: random.Random, p: float = 0.5) -> dt.date | None:
    return dt.date(2020, 12, 10) + dt.timedelta(days=rng.randrange(45)) if rng.random() < p else None


@pytest.fixture
async def district(world):
    """The conftest world plus a random district: 4 townships with bodies, sector bodies,
    120 units of every kind, 160 sites, 400 guards, findings and outcomes of two campaigns."""
    rng = random.Random(20201214)
    towns = []
    for i in range(4):
        t = Township(name=f"测试镇{i}", ordinal=10 + i)
        await t.save()
        towns.append(t.id)
        await Body(name=f"测试镇{i}", scope=BodyScope.township, township=t.id, ordinal=20 + i).save()
    towns += [r["id"] for r in await Township.select(Township.id).where(Township.id.not_in(towns))]
    for sector in (Sector.property, Sector.hospital, Sector.security):
        await Body(name=f"测试{sector.value}", scope=BodyScope.sector, sector=sector, ordinal=40).save()
    other = Campaign(name="另一次专项行动", district="蓟州区", starts_on=dt.date(2020, 1, 1), ends_on=dt.date(2020, 2, 1),
                     active=False)
    await other.save()

    sectors = [s.value for s in Sector]
    kinds = [k.value for k in UnitKind]
    units = [Unit(name=f"单位{i}", kind=rng.choice(kinds), sector=rng.choice(sectors),
                  township=rng.choice(towns + [None]), created_at=moment(rng)) for i in range(120)]
    await Unit.insert(*units)
    unit_ids = [r["id"] for r in await Unit.select(Unit.id)]
    sites = [Site(unit=rng.choice(unit_ids), name=f"目标{i}", provider_kind=rng.choice([p.value for p in ProviderKind]),
                  created_at=moment(rng)) for i in range(160)]
    await Site.insert(*sites)
    site_ids = [r["id"] for r in await Site.select(Site.id)]
    guards = []
    for i in range(400):
        status = rng.choice([s.value for s in EmploymentStatus] + [EmploymentStatus.active.value] * 3)
        created = moment(rng)
        guards.append(Guard(
            name=f"保安{i}", employer=rng.choice(unit_ids), site=rng.choice(site_ids) if rng.random() < 0.8 else None,
            certificate_status=rng.choice([c.value for c in CertStatus]), certificate_issued_on=maybe_day(rng),
            employment_status=status, hired_on=maybe_day(rng, 0.3), left_on=maybe_day(rng, 0.3),
            created_at=created, updated_at=created + dt.timedelta(days=rng.randrange(0, 20), seconds=rng.randrange(-5, 5))))
    await Guard.insert(*guards)

    inspections = []
    for i in range(80):
        site = rng.choice(site_ids)
        unit = (await Site.select(Site.unit).where(Site.id == site).first())["unit"]
        inspections.append(Inspection(uuid=new_id(), campaign=world.campaign.id if rng.random() < 0.85 else other.id,
                                      officer=world.users.officer.id, body=world.bodies.police.id, site=site, unit=unit,
                                      status="reviewed", submitted_at=moment(rng), started_at=moment(rng)))
    await Inspection.insert(*inspections)
    insp = {r["id"]: r["unit"] for r in await Inspection.select(Inspection.id, Inspection.unit)}
    columns = [8, 9, 10, 11, 12, 13, 14, 15, 16, None, None, 17]
    findings = []
    for i in range(500):
        inspection = rng.choice(list(insp))
        status = rng.choice([s.value for s in FindingStatus] + [FindingStatus.confirmed.value] * 4)
        findings.append(Finding(
            uuid=new_id(), inspection=inspection, unit=insp[inspection] if rng.random() < 0.9 else rng.choice(unit_ids),
            area=rng.randrange(1, 10), stat_column=rng.choice(columns), quantity=rng.choice([1, 1, 1, 2, 3]),
            status=status, reviewed_at=moment(rng) if rng.random() < 0.8 else None, updated_at=moment(rng)))
    await Finding.insert(*findings)
    finding_ids = [r["id"] for r in await Finding.select(Finding.id).order_by(Finding.id)]
    for fid in rng.sample(finding_ids, 40):  # found again at 回头看: never a second case
        await Finding.update({Finding.repeat_of: rng.choice(finding_ids)}).where(Finding.id == fid)
    for fid in rng.sample(finding_ids, 250):  # guard-level findings, some with a 特勤 mark
        f = await Finding.select(Finding.inspection).where(Finding.id == fid).first()
        check = GuardCheck(uuid=new_id(), inspection=f["inspection"], tejin_marking=rng.random() < 0.5)
        await check.save()
        await Finding.update({Finding.guard_check: check.id}).where(Finding.id == fid)
    for i in range(40):
        order = RectificationOrder(number=f"T{i:03d}", campaign=world.campaign.id if rng.random() < 0.8 else other.id,
                                   unit=rng.choice(unit_ids), issued_by=world.users.office.id,
                                   deadline=dt.date(2021, 1, 10))
        await order.save()
        for fid in rng.sample(finding_ids, rng.randrange(0, 8)):
            await Finding.update({Finding.order: order.id}).where(Finding.id == fid)
        for _ in range(rng.randrange(0, 3)):
            await RectificationOutcome(order=order.id, stat_column=rng.randrange(17, 23), quantity=rng.choice([1, 2]),
                                       recorded_on=maybe_day(rng, 1.0), recorded_by=world.users.office.id).save()
    return world


async def scopes() -> list[tuple[str, Scope]]:
    bodies = await service.all_bodies()
    return [(b["name"], service.body_scope(b)) for b in bodies] + [("全区", service.DISTRICT_SCOPE)]


async def test_the_database_counts_what_the_reference_counts(district):
    campaign = district.campaign.id
    data = await load_dataset(campaign)
    assert len(data.findings) > 100 and len(data.guards) > 300
    seen_nonzero = set()
    for day in DAYS:
        counts = await queries.count(campaign, day)
        for name, scope in await scopes():
            expected = counting.count(data, scope, day)
            row = counts.row(scope)
            assert row.values() == expected.values(), (name, day)
            assert row.remarks == expected.remarks and row.remark_records == len(expected.remark_ids), (name, day)
            seen_nonzero |= {c for c, v in row.values().items() if v}
            # A body's own query (limited to its scope) gives its row too.
            if scope.kind != BodyScope.district:
                alone = (await queries.count(campaign, day, scope)).row(scope)
                assert alone.values() == expected.values() and alone.remarks == expected.remarks, (name, day)
    assert seen_nonzero == set(range(1, 23))  # the fixture exercises every column


async def test_the_records_behind_every_number_are_the_references(district):
    campaign = district.campaign.id
    data = await load_dataset(campaign)
    day = DAYS[2]
    for name, scope in await scopes():
        expected = counting.count(data, scope, day)
        counts = await queries.count(campaign, day, scope, records=range(1, 24))
        for column in range(1, 24):
            want = expected.remark_ids if column == REMARKS else expected.cells[column].ids
            got = await queries.ids(campaign, day, scope, column, limit=10_000)
            assert tuple(got) == want, (name, column)
            assert counts.records(scope, column) == len(want), (name, column)
        # Paging: the second page continues the first.
        first = await queries.ids(campaign, day, scope, 6, limit=5)
        second = await queries.ids(campaign, day, scope, 6, limit=5, offset=5)
        assert first + second == list(expected.cells[6].ids[:10])


async def test_the_weekly_freeze_pass_gives_the_same_numbers_and_records(district):
    campaign = district.campaign.id
    data = await load_dataset(campaign)
    day = DAYS[3]
    bodies = await service.all_bodies()
    counts, ids = await service._count_with_ids(campaign, day, bodies)
    rows = [(str(b["id"]), service.body_scope(b)) for b in bodies if b["scope"] != BodyScope.district]
    rows.append((service.DISTRICT, service.DISTRICT_SCOPE))
    for key, scope in rows:
        expected = counting.count(data, scope, day)
        row = counts.row(scope)
        assert row.values() == expected.values() and row.remarks == expected.remarks, key
        for column in range(1, 24):
            want = expected.remark_ids if column == REMARKS else expected.cells[column].ids
            assert tuple(ids[key].get(column, ())) == want, (key, column)


async def test_the_trend_counts_several_days_in_one_query(district):
    campaign = district.campaign.id
    data = await load_dataset(campaign)
    columns = (8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22)
    got = await queries.count_days(campaign, DAYS, columns)
    for day in DAYS:
        expected = counting.count(data, service.DISTRICT_SCOPE, day).values()
        assert got[day] == {c: expected[c] for c in columns}, day


async def test_findings_per_body_and_township_for_the_dashboard(district):
    campaign = district.campaign.id
    data = await load_dataset(campaign)
    day = DAYS[-1]
    counted = await queries.count(campaign, day, sources=[queries.FINDINGS])
    for name, scope in await scopes():
        expected = counting.count(data, scope, day)
        records = set(expected.remark_ids)
        for c in VIOLATION_COLUMNS:
            records.update(expected.cells[c].ids)
        assert counted.finding_records(scope) == len(records), name
    per_township: dict = {}
    for f in data.findings:
        if counting.finding_counts(f, day):
            t = data.units[f.unit_id].township_id
            per_township[t] = per_township.get(t, 0) + 1
    assert dict(counted.findings_by_township()) == per_township


async def test_the_tallies_follow_every_change_of_their_records(district, monkeypatch):
    """The statistics tallies and what orders count with (kept by triggers) after findings are
    confirmed, returned, moved to another unit, area, column or order, repeated and deleted,
    their unit and inspection change, guards leave, lose their certificate and move, units
    change kind and gain sites, 特勤 marks are corrected, orders move to another unit: the same
    sums as the records, the same table as the reference on every day; folded and rebuilt
    alike."""
    campaign = district.campaign.id

    async def not_now(_tally) -> int:
        return 0

    # The app's folder (tally.keeping, every minute) stays out of this test's row counts.
    monkeypatch.setattr(tally, "fold_if_piled_up", not_now)
    rng = random.Random(7)
    ids = [r["id"] for r in await Finding.select(Finding.id).order_by(Finding.id)]
    unit_ids = [r["id"] for r in await Unit.select(Unit.id)]
    guard_ids = [r["id"] for r in await Guard.select(Guard.id)]
    site_ids = [r["id"] for r in await Site.select(Site.id)]

    async def rows() -> dict[str, int]:
        return {t.table: (await db.raw(f"SELECT COUNT(*) AS n FROM {t.table}"))[0]["n"] for t in tally.TALLIES}

    before = await rows()
    for fid in rng.sample(ids, 30):
        await Finding.update({Finding.status: rng.choice([s.value for s in FindingStatus])}).where(Finding.id == fid)
    for fid in rng.sample(ids, 20):
        await Finding.update({Finding.unit: rng.choice(unit_ids), Finding.area: rng.randrange(1, 10),
                              Finding.stat_column: rng.choice([8, 10, 11, 13, None]),
                              Finding.quantity: rng.choice([1, 4])}).where(Finding.id == fid)
    for fid in rng.sample(ids, 10):
        await Finding.update({Finding.repeat_of: None}).where(Finding.id == fid)
    await Finding.delete().where(Finding.id.is_in(rng.sample(ids, 10)))
    for uid in rng.sample(unit_ids, 10):  # the copies on the unit's findings and guards change with it
        await Unit.update({Unit.kind: rng.choice([k.value for k in UnitKind]), Unit.sector: rng.choice(
            [s.value for s in Sector])}).where(Unit.id == uid)
    for uid in rng.sample(unit_ids, 10):  # a first site of a kind: since the day it was registered
        await Site(unit=uid, name="新目标", provider_kind=rng.choice([p.value for p in ProviderKind]),
                   created_at=moment(rng)).save()
    await Site.update({Site.unit: rng.choice(unit_ids)}).where(Site.id.is_in(rng.sample(site_ids, 5)))
    for gid in rng.sample(guard_ids, 40):
        await Guard.update({Guard.employment_status: rng.choice([s.value for s in EmploymentStatus]),
                            Guard.left_on: maybe_day(rng, 0.3), Guard.updated_at: moment(rng)}).where(Guard.id == gid)
    for gid in rng.sample(guard_ids, 20):
        await Guard.update({Guard.certificate_status: rng.choice([c.value for c in CertStatus]),
                            Guard.certificate_issued_on: maybe_day(rng),
                            Guard.site: rng.choice(site_ids + [None])}).where(Guard.id == gid)
    await Guard.delete().where(Guard.id.is_in(rng.sample(guard_ids, 5)))
    # What an order counts with: its findings, their guard checks' 特勤 marks, its unit.
    orders = [r["id"] for r in await RectificationOrder.select(RectificationOrder.id)]
    checks = [r["id"] for r in await GuardCheck.select(GuardCheck.id)]
    for cid in rng.sample(checks, 15):
        await GuardCheck.update({GuardCheck.tejin_marking: rng.random() < 0.5}).where(GuardCheck.id == cid)
    for fid in rng.sample(ids, 20):
        await Finding.update({Finding.order: rng.choice(orders + [None])}).where(Finding.id == fid)
    for oid in rng.sample(orders, 5):
        await RectificationOrder.update({RectificationOrder.unit: rng.choice(unit_ids)}).where(
            RectificationOrder.id == oid)
    await Unit.update({Unit.township: None}).where(Unit.id.is_in(rng.sample(unit_ids, 5)))
    inspection = await Inspection.select(Inspection.id).where(Inspection.campaign == campaign).first()
    await Inspection.update({Inspection.started_at: dt.datetime(2021, 1, 5, 3, tzinfo=UTC)}).where(
        Inspection.id == inspection["id"])
    other = await Inspection.select(Inspection.id).where(Inspection.campaign != campaign).first()
    await Inspection.update({Inspection.campaign: campaign}).where(Inspection.id == other["id"])
    await Inspection.delete().where(Inspection.id == (await Inspection.select(Inspection.id).where(
        (Inspection.campaign == campaign) & (Inspection.id != inspection["id"])).first())["id"])
    marks = await db.raw(  # an order whose column-22 outcome counts marked guards: its marks taken back
        'SELECT o."order" AS id FROM rectification_outcome o JOIN finding f ON f."order" = o."order" '
        "JOIN guard_check gc ON gc.id = f.guard_check JOIN rectification_order ro ON ro.id = o.\"order\" "
        "WHERE o.stat_column = 22 AND gc.tejin_marking = TRUE AND ro.campaign = {} AND o.recorded_on <= {} "
        "ORDER BY o.id LIMIT 1", campaign, DAYS[-1])
    assert marks, "the fixture has a column-22 outcome behind marked guard checks"
    marked_checks = [r["guard_check"] for r in await Finding.select(Finding.guard_check).where(
        (Finding.order == marks[0]["id"]) & Finding.guard_check.is_not_null())]
    await GuardCheck.update({GuardCheck.tejin_marking: False}).where(GuardCheck.id.is_in(marked_checks))
    appended = await rows()
    assert all(appended[t] > before[t] for t in before), (before, appended)

    async def same_as_reference() -> None:
        for kept in tally.TALLIES:
            assert await tally.differences(kept) == [], kept.table
        data = await load_dataset(campaign)
        for day in DAYS:
            counts = await queries.count(campaign, day)
            for name, scope in await scopes():
                expected = counting.count(data, scope, day)
                assert counts.row(scope).values() == expected.values(), (name, day)
                assert counts.row(scope).remarks == expected.remarks, (name, day)

    await same_as_reference()
    for kept in tally.TALLIES:
        assert await tally.fold(kept) == appended[kept.table]
    folded = await db.raw("SELECT COUNT(*) AS n, SUM(CASE WHEN folded THEN 0 ELSE 1 END) AS appended "
                          "FROM finding_tally")
    assert folded[0]["n"] < appended["finding_tally"] and folded[0]["appended"] == 0
    await same_as_reference()
    assert await tally.rebuild(tally.FINDINGS) == folded[0]["n"]
    for kept in (tally.GUARDS, tally.UNITS):
        await tally.rebuild(kept)
    await same_as_reference()
