"""The demo seed: contents, consistency and idempotency.

Each test expects an empty, migrated database (provided by tests/conftest.py)."""

from datetime import date

from server.auth.passwords import verify_password
from server.models.auth import User
from server.models.campaign import Body, Campaign, Phase, ReportingDeadline, Township
from server.demo.seed import (
    CAMPAIGN_NAME,
    DEMO_ACCOUNTS,
    GUARD_COUNT,
    build_plan,
    seed_demo,
)
from server.registry.ids import is_valid_id_number, is_valid_uscc
from server.models.registry import Guard, GuardCard, Site, TrainingRecord, Unit
from server.vocab import CertStatus, FilingStatus, ProviderKind, Role, UnitKind

TABLES = {
    "townships": Township,
    "bodies": Body,
    "campaigns": Campaign,
    "phases": Phase,
    "deadlines": ReportingDeadline,
    "units": Unit,
    "sites": Site,
    "guards": Guard,
    "cards": GuardCard,
    "training_records": TrainingRecord,
    "users": User,
}


async def _row_counts() -> dict[str, int]:
    return {key: await table.count() for key, table in TABLES.items()}


def test_plan_is_deterministic():
    assert build_plan() == build_plan()


async def test_seed_counts_match_the_database():
    counts = await seed_demo()
    assert counts == await _row_counts()
    assert counts["guards"] == GUARD_COUNT == 200
    assert counts["users"] == len(DEMO_ACCOUNTS) == 6
    assert counts["phases"] == 4
    assert counts["campaigns"] == 1
    assert 35 <= counts["units"] <= 45
    assert counts["townships"] == 9
    assert counts["training_records"] > counts["guards"] * 0.7
    certified = await Guard.count().where(Guard.certificate_status == "valid")
    assert counts["cards"] == certified  # every certified guard can be scanned in the demo


async def test_second_run_creates_nothing():
    first = await seed_demo()
    assert all(n > 0 for n in first.values()), first
    before = await _row_counts()
    second = await seed_demo()
    assert set(second) == set(first)
    assert all(n == 0 for n in second.values()), second
    assert await _row_counts() == before


async def test_rerun_restores_only_what_is_missing():
    await seed_demo()
    await User.delete().where(User.username == "lingdao")
    guard = await Guard.objects().order_by(Guard.id).first()
    removed = await TrainingRecord.count().where(TrainingRecord.guard == guard.id)
    await TrainingRecord.delete().where(TrainingRecord.guard == guard.id)
    again = await seed_demo()
    assert again["users"] == 1
    assert again["training_records"] == removed
    assert sum(again.values()) == 1 + removed


async def test_units_cover_every_kind_with_valid_codes():
    await seed_demo()
    units = await Unit.select()
    kinds = {u["kind"] for u in units}
    assert kinds == {k.value for k in UnitKind}
    for kind in UnitKind:
        assert sum(u["kind"] == kind.value for u in units) >= 2, kind
    for u in units:
        if u["kind"] == UnitKind.illegal_org.value:
            assert u["uscc"] is None
        else:
            assert is_valid_uscc(u["uscc"]), (u["name"], u["uscc"])
    security = [u for u in units if u["kind"] == UnitKind.security_company.value]
    assert all(u["licence_no"].startswith("津公保服许字[") for u in security)
    property_filings = {
        u["filing_status"] for u in units if u["kind"] == UnitKind.property_company.value
    }
    assert {FilingStatus.filed.value, FilingStatus.unfiled.value} <= property_filings


async def test_sites_and_providers_are_consistent():
    await seed_demo()
    units = {u["id"]: u for u in await Unit.select()}
    sites = await Site.select()
    expected_provider = {
        ProviderKind.security_company.value: UnitKind.security_company.value,
        ProviderKind.property_company.value: UnitKind.property_company.value,
        ProviderKind.unqualified.value: UnitKind.unqualified_employer.value,
    }
    for s in sites:
        if s["provider_kind"] == ProviderKind.own.value:
            assert s["provider"] is None
        else:
            assert units[s["provider"]]["kind"] == expected_provider[s["provider_kind"]]
    assert {s["provider_kind"] for s in sites} == {p.value for p in ProviderKind}
    site_owners = {s["unit"] for s in sites}
    for u in units.values():
        if u["kind"] in (
            UnitKind.using_unit.value,
            UnitKind.self_recruiting.value,
            UnitKind.property_company.value,
        ):
            assert u["id"] in site_owners, u["name"]


async def test_guards_are_valid_and_placed_with_their_employer():
    await seed_demo()
    sites = {s["id"]: s for s in await Site.select()}
    guards = await Guard.select()
    assert len({g["id_number"] for g in guards}) == len(guards)
    statuses = {g["certificate_status"] for g in guards}
    assert statuses == {c.value for c in CertStatus}
    for g in guards:
        assert is_valid_id_number(g["id_number"]), g["id_number"]
        assert g["phone"].startswith("13") and len(g["phone"]) == 11
        site = sites[g["site"]]
        assert (site["provider"] or site["unit"]) == g["employer"]
        if g["certificate_status"] == CertStatus.none.value:
            assert g["certificate_no"] is None and not g["exam_passed"]
        else:
            assert g["certificate_no"].startswith("津保1202") and len(g["certificate_no"]) == 14
            assert g["vetted"] and g["exam_passed"]
    valid = sum(g["certificate_status"] == CertStatus.valid.value for g in guards)
    assert 0.7 * len(guards) <= valid <= 0.9 * len(guards)
    assert sum(g["photo_collected"] for g in guards) < len(guards)


async def test_campaign_phases_and_deadlines():
    await seed_demo(date(2021, 1, 16))  # a day in the order's own 集中整治: its own dates
    campaign = await Campaign.objects().get(Campaign.name == CAMPAIGN_NAME)
    assert campaign.starts_on == date(2020, 12, 14)
    assert campaign.ends_on == date(2021, 2, 5)
    phases = await Phase.select(Phase.code, Phase.name).order_by(Phase.ordinal)
    assert [p["name"] for p in phases] == ["调查摸底", "自查整改", "集中整治", "总结提升"]
    weekly = await ReportingDeadline.select(ReportingDeadline.due_on).where(
        ReportingDeadline.kind == "weekly"
    )
    dues = sorted(d["due_on"] for d in weekly)
    assert dues[0] == date(2021, 1, 1) and dues[-1] == date(2021, 2, 5)
    assert len(dues) == 6 and all(d.weekday() == 4 for d in dues)


async def test_demo_accounts_can_log_in():
    await seed_demo()
    for username, password, role, display, body_name in DEMO_ACCOUNTS:
        user = await User.objects(User.body).get(User.username == username)
        assert user is not None, username
        assert Role(user.role).value == role
        assert user.display_name == display
        assert user.body.name == body_name
    user = await User.objects().get(User.username == DEMO_ACCOUNTS[0][0])
    assert verify_password(user.password_hash, DEMO_ACCOUNTS[0][1])
