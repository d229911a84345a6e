"""Test session setup.

`pytest --backend sqlite` (default) runs against a SQLite file and local-disk objects;
`pytest --backend postgres` starts a throwaway PostgreSQL cluster and an S3 server (moto)
on loopback and runs the very same tests against them. `make test` runs both.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from tests.support.services import S3, Postgres

import logging

logging.getLogger("httpx").setLevel(logging.WARNING)

PASSWORD = "testpass1"
_state: dict = {}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--backend", choices=["sqlite", "postgres"],
                     default=os.environ.get("TEST_BACKEND", "sqlite"),
                     help="sqlite + local disk, or postgres + S3 (both started by the tests)")


def _stop_services() -> None:
    for service in _state.pop("services", []):
        service.stop()
    base = _state.pop("base", None)
    if base:
        shutil.rmtree(base, ignore_errors=True)


def pytest_configure(config: pytest.Config) -> None:
    backend = config.getoption("--backend")
    base = Path(tempfile.mkdtemp(prefix=f"inspect-test-{backend}-"))
    _state.update(base=base, services=[], backend=backend)
    atexit.register(_stop_services)
    env = {"DATA_DIR": str(base / "data"), "SECRET_KEY": "test-secret-key", "DEBUG": "false",
           "LOGIN_MAX_FAILURES": "5", "LOGIN_LOCKOUT_MINUTES": "15", "MAX_UPLOAD_MB": "2"}
    if backend == "postgres":
        pg = Postgres(base)
        _state["services"].append(pg)
        env["DATABASE_URL"] = pg.start()
        s3 = S3()
        _state["services"].append(s3)
        port = s3.start()
        env.update(MINIO_ENDPOINT=f"127.0.0.1:{port}", MINIO_ACCESS_KEY="test",
                   MINIO_SECRET_KEY="testsecret", MINIO_BUCKET="evidence", MINIO_REGION="us-east-1")
    _state["env"] = env


def pytest_unconfigure(config: pytest.Config) -> None:
    _stop_services()


def pytest_report_header(config: pytest.Config) -> str:
    return f"backend: {_state.get('backend')} (data in {_state.get('base')})"


@pytest.fixture(scope="session")
def backend() -> str:
    return _state["backend"]


@pytest.fixture(scope="session")
def running_services() -> list:
    """The PostgreSQL and S3 server this session started (none on sqlite): the fault suite
    stops and starts them."""
    return list(_state["services"])


@pytest.fixture(scope="session")
def service_env() -> dict[str, str]:
    """The environment a subprocess (CLI, a real server) needs to reach the same database."""
    return {**os.environ, **_state["env"]}


@pytest.fixture(scope="session")
def settings():
    """The settings of the app under test, made once from the tests' own environment."""
    from server.settings import Settings

    return Settings.from_env(_state["env"])


@pytest.fixture(scope="session")
async def app(settings):
    """The app under test; creating it installs its database engine for every table."""
    from server.app import create_app

    application = create_app(settings)
    await application.state.store.ensure_ready()
    return application


@pytest.fixture(scope="session")
async def migrated(app):
    from piccolo.apps.migrations.commands.forwards import run_forwards

    from server import db

    result = await run_forwards("all")
    assert result.success, result.message
    await db.start(app.state.engine)
    yield
    await db.stop(app.state.engine)


async def truncate_all() -> None:
    from server.db import engine, is_postgres
    from server.ledger import tally
    from server.piccolo_app import TABLES

    names = [t._meta.tablename for t in TABLES]
    if is_postgres():  # TRUNCATE fires no row trigger: the statistics tallies go too
        names += [t.table for t in tally.TALLIES]
        await engine().run_ddl(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE")
    else:
        for name in reversed(names):
            await engine().run_ddl(f"DELETE FROM {name}")


@pytest.fixture(autouse=True)
async def clean_db(migrated):
    from server.audit import views

    await views.flush()  # card views of the test before, queued for the access log
    await truncate_all()
    yield


@pytest.fixture
async def client_factory(app):
    clients: list[httpx.AsyncClient] = []

    async def make(username: str | None = None, password: str = PASSWORD) -> httpx.AsyncClient:
        c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 5555)),
                              base_url="http://testserver", follow_redirects=False)
        clients.append(c)
        if username:
            await login(c, username, password)
        return c

    yield make
    for c in clients:
        await c.aclose()


@pytest.fixture
async def client(client_factory):
    return await client_factory()


async def login(c: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    await c.get("/login")
    token = c.cookies.get("csrftoken")
    r = await c.post("/login", data={"username": username, "password": password, "next": "/",
                                     "_csrf_token": token})
    c.headers["x-csrftoken"] = c.cookies.get("csrftoken")  # a login rotates the token
    return r


@pytest.fixture(scope="session")
def password_hash() -> str:
    from server.auth.passwords import hash_password

    return hash_password(PASSWORD)


@pytest.fixture
async def world(password_hash):
    """A small district: two townships, three bodies, a campaign, a school guarded by a
    security company, a housing estate guarding itself, guards of every card status, and
    one user for each role."""
    import datetime as dt

    from server.models.auth import User
    from server.models.campaign import Body, Campaign, Phase, Township
    from server.models.registry import Guard, Site, Unit
    from server.vocab import BodyScope, CertStatus, FilingStatus, ProviderKind, Sector, UnitKind

    async def add(row):
        await row.save()
        return row

    yuyang = await add(Township(name="渔阳镇", ordinal=1))
    guanzhuang = await add(Township(name="官庄镇", ordinal=2))
    police = await add(Body(name="公安蓟州分局", scope=BodyScope.district, is_police=True))
    edu = await add(Body(name="区教育局", scope=BodyScope.sector, sector=Sector.school))
    town = await add(Body(name="官庄镇", scope=BodyScope.township, township=guanzhuang.id))
    campaign = await add(Campaign(name="蓟州区保安服务市场清理整顿专项行动", district="蓟州区",
                                  starts_on=dt.date(2020, 12, 14), ends_on=dt.date(2021, 2, 5)))
    for i, (code, name, a, b) in enumerate([
        ("survey", "调查摸底", (2020, 12, 14), (2020, 12, 25)),
        ("self_inspection", "自查整改", (2020, 12, 26), (2021, 1, 10)),
        ("concentrated", "集中整治", (2021, 1, 11), (2021, 1, 25)),
        ("summary", "总结提升", (2021, 1, 25), (2021, 2, 5)),
    ], start=1):
        await add(Phase(campaign=campaign.id, code=code, name=name, starts_on=dt.date(*a),
                        ends_on=dt.date(*b), ordinal=i))
    secco = await add(Unit(name="蓟州区安泰保安服务有限公司", uscc=None,
                           kind=UnitKind.security_company, sector=Sector.security, township=yuyang.id,
                           licence_no="津公保服许字[2018]001号"))
    school = await add(Unit(name="蓟州区第一中学", kind=UnitKind.using_unit, sector=Sector.school,
                            township=yuyang.id))
    estate_co = await add(Unit(name="蓟州区绿园物业服务有限公司", kind=UnitKind.property_company,
                               sector=Sector.property, township=guanzhuang.id,
                               filing_status=FilingStatus.unfiled))
    school_site = await add(Site(unit=school.id, name="第一中学校门", address="渔阳镇文昌街1号",
                                 township=yuyang.id, sector=Sector.school,
                                 provider_kind=ProviderKind.security_company, provider=secco.id))
    estate_site = await add(Site(unit=estate_co.id, name="绿园小区", address="官庄镇花园路8号",
                                 township=guanzhuang.id, sector=Sector.property,
                                 provider_kind=ProviderKind.own))

    def guard(name, employer, site, cert, status):
        return add(Guard(name=name, employer=employer.id, site=site.id, certificate_no=cert,
                         certificate_status=status, vetted=status == CertStatus.valid,
                         exam_passed=status == CertStatus.valid))

    g_valid = await guard("张伟", secco, school_site, "津保120200000001", CertStatus.valid)
    g_none = await guard("李强", secco, school_site, None, CertStatus.none)
    g_revoked = await guard("王磊", secco, school_site, "津保120200000003", CertStatus.revoked)
    g_estate = await guard("赵敏", estate_co, estate_site, "津保120200000004", CertStatus.valid)

    users = {}
    for username, role, body, display in [
        ("officer", "officer", police, "王警官"), ("officer2", "officer", police, "李警官"),
        ("office", "office", police, "张主任"), ("leader", "leader", police, "刘组长"),
        ("liaison_edu", "liaison", edu, "赵联络员"), ("liaison_town", "liaison", town, "孙联络员"),
    ]:
        users[username] = await add(User(username=username, password_hash=password_hash, role=role,
                                          body=body.id, display_name=display))
    return SimpleNamespace(
        townships=SimpleNamespace(yuyang=yuyang, guanzhuang=guanzhuang),
        bodies=SimpleNamespace(police=police, edu=edu, town=town), campaign=campaign,
        units=SimpleNamespace(secco=secco, school=school, estate_co=estate_co),
        sites=SimpleNamespace(school=school_site, estate=estate_site),
        guards=SimpleNamespace(valid=g_valid, none=g_none, revoked=g_revoked, estate=g_estate),
        users=SimpleNamespace(**users),
    )
