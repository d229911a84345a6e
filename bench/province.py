"""A synthetic province for the scale benchmark (issue 8), loaded into PostgreSQL in minutes.

    .venv/bin/python -m bench.province --database-url postgresql://user@host:port/db \
        [--units 100000] [--guards 500000] [--findings 1000000] [--seed 8]

It migrates the database and seeds the demo (`python -m server db migrate`, `demo seed`: the
townships, reporting bodies, the active campaign and the demo accounts), then adds, beside
the demo's rows and consistent with them:

- two earlier (inactive) campaigns with four phases each;
- officers, office staff, leaders and one liaison per reporting body (password demo1234);
- units of the six kinds over the townships and sectors, their sites (guarded by themselves,
  a security company, a property company or an unqualified employer), guards posted at the
  sites with a realistic mix of certificate, collection and employment status, training
  records and guard cards;
- inspections (one per four findings) in the three campaigns, in every status, with their eight
  checklist answers, guard checks, findings (statistics column, count unit, review status),
  photo rows (no objects: nothing reads the bytes in the benchmark), rectification orders with
  outcomes and per-guard actions.

Everything is drawn from one `random.Random(seed)`, so the same sizes and seed give the same
rows. Rows go in with COPY (asyncpg `copy_records_to_table`); the loaded tables' foreign keys,
unique constraints and secondary indexes are dropped before and re-made after the load (much
faster than checking each row), then the sequences are moved past the new ids and the
tables ANALYZEd. Identity numbers (USCC, ID number) carry valid check characters.

A database that already holds a province is refused (the generator adds; it never deletes).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from server import clock  # noqa: E402
from server.ledger import tally  # noqa: E402
from server.registry.ids import id_check_digit, org_code_check_char, uscc_check_char  # noqa: E402

MARKER_USER = "sj00001"  # the first generated officer: its presence means a province is loaded
UTC = timezone.utc
LOCAL = timezone(timedelta(hours=8))
COPIES_KEPT_BY_TRIGGERS = ("finding", "guard", "rectification_order", "site", "unit")
CHUNK = 10_000  # inspections generated and copied per batch (bounds the memory used)

# Tables the load writes, in an order that satisfies the foreign keys when they are re-made.
TABLES = ("campaign", "phase", "app_user", "unit", "site", "guard", "training_record", "guard_card",
          "inspection", "checklist_answer", "guard_check", "rectification_order", "finding",
          "photo", "rectification_outcome", "guard_action")

SURNAMES = ("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文")
GIVEN_M = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林阳建国志海东成亮松立新峰"
GIVEN_F = "芳娜敏静丽艳娟霞秀英玲桂兰燕红梅琳雪莉婷慧颖洁萍倩云"
WORDS = ("金盾 安泰 盛安 鑫源 宏达 恒通 华信 永兴 瑞丰 福源 嘉禾 兴业 创新 东方 长城 渔阳 蓟北 盘山 "
         "翠屏 府君 鼓楼 燕山 独乐 白塔 溪山 黄崖 州河 于桥 邦均 洇溜 新城 阳光 和谐 宏远 润泽 "
         "博大 中盛 天成 汇通 佳和 昌隆 聚源 信达 同心 富华 顺达 恒泰 众诚 百川 万家").split()
TOWNSHIP_STREETS = ("大街", "北路", "南路", "东路", "西路", "中路", "公路", "道")
UNIT_SUFFIX = {
    "security_company": ("保安服务有限公司",),
    "self_recruiting": ("商贸有限公司", "实业有限公司", "机械制造有限公司", "食品有限公司", "建材有限公司", "旅游开发有限公司"),
    "property_company": ("物业服务有限公司", "物业管理有限公司"),
    "using_unit": ("商厦有限公司", "超市有限公司", "酒店有限公司", "科技有限公司", "中学", "小学", "幼儿园",
                   "卫生院", "医院", "营业部", "客运站", "歌舞厅", "网吧", "社区服务中心"),
    "unqualified_employer": ("劳务派遣有限公司", "保洁服务有限公司", "人力资源服务有限公司"),
    "illegal_org": ("安保服务队", "护卫队", "特勤队"),
}
SITE_NAMES = ("小区", "家园", "花园", "营业大楼", "厂区", "办公楼", "仓库", "门店", "校区", "院区", "停车场", "广场")
KIND_WEIGHTS = (("security_company", 2), ("self_recruiting", 18), ("property_company", 10),
                ("using_unit", 60), ("unqualified_employer", 8), ("illegal_org", 2))
USER_SECTORS = (("enterprise", 35), ("school", 12), ("hospital", 6), ("finance", 8), ("entertainment", 8),
                ("transport", 3), ("gov_office", 4), ("party_office", 1), ("other", 23))
PROVIDER_FOR_USING = (("security_company", 45), ("property_company", 15), ("unqualified", 10), ("own", 30))
CERT_ODDS = {  # (valid, none) by employer kind; the rest revoked
    "security_company": (0.90, 0.07), "property_company": (0.78, 0.17), "self_recruiting": (0.76, 0.19),
    "using_unit": (0.70, 0.25), "unqualified_employer": (0.30, 0.60), "illegal_org": (0.10, 0.85),
}
AREA_WEIGHTS = ((1, 30), (2, 24), (3, 10), (4, 8), (5, 10), (6, 5), (7, 8), (8, 5))
AREA_TITLE = {1: "无证上岗", 2: "着装与标志", 3: "教育培训", 4: "无证经营与变相经营", 5: "未依法备案",
              6: "自招单位对外服务", 7: "内部管理", 8: "其他违法违规"}
AREA_COLUMN = {1: 15, 2: 16, 3: None, 4: 8, 5: 10, 6: 12, 7: None, 8: None}
ORDER_STATUSES = (("ordered", 20), ("reported", 20), ("verified", 35), ("not_rectified", 5),
                  ("escalated", 5), ("closed", 15))

# The earlier campaigns: (name, start, end); four phases each, like the demo's.
OLD_CAMPAIGNS = (
    ("蓟州区保安服务行业专项检查（2019年）", date(2019, 5, 6), date(2019, 6, 28)),
    ("蓟州区保安服务市场春季整治（2020年）", date(2020, 4, 7), date(2020, 5, 29)),
)
PHASE_CODES = (("survey", "调查摸底"), ("self_inspection", "自查整改"), ("concentrated", "集中整治"), ("summary", "总结提升"))


def _weighted(rng: random.Random, pairs: tuple) -> Callable[[], Any]:
    """A fast weighted draw over (value, weight) pairs."""
    values = [v for v, _ in pairs]
    cum, total = [], 0
    for _, w in pairs:
        total += w
        cum.append(total)
    import bisect

    def draw() -> Any:
        return values[bisect.bisect_right(cum, rng.random() * total)]
    return draw


def _at(day: date, minutes: int) -> datetime:
    """Local wall-clock time on `day`, `minutes` after midnight, as an aware UTC datetime."""
    return (datetime(day.year, day.month, day.day, tzinfo=LOCAL) + timedelta(minutes=minutes)).astimezone(UTC)


def _migration(name: str) -> Any:
    """A migration module of migrations/core (for the statements that fill what its triggers
    keep, run after a load with the triggers off)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "migrations" / "core" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _past(day: date) -> date:
    """Nothing is registered or found in the future: a day of the campaign still to come
    becomes yesterday (the run's)."""
    return min(day, clock.today() - timedelta(days=1))


def _uuid(rng: random.Random) -> str:
    """A version-4 UUID from the seeded generator (uuid4() would not be reproducible)."""
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"


class FastRandom(random.Random):
    """random.Random with cheaper integer draws (the standard ones reject and retry on
    getrandbits, which costs more than everything else of a generated row). Uniform enough."""

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:  # type: ignore[override]
        if stop is None:
            start, stop = 0, start
        return start + int(self.random() * (stop - start))

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))

    def choice(self, seq):  # type: ignore[override]
        return seq[int(self.random() * len(seq))]


@dataclass
class Sizes:
    units: int = 100_000
    guards: int = 500_000
    findings: int = 1_000_000

    @property
    def inspections(self) -> int:
        return max(1, self.findings // 4)


@dataclass
class Ref:
    """What the demo seed made and the load refers to."""
    townships: list[int]
    bodies: list[dict]
    campaign: int
    campaign_start: date
    campaign_end: date
    phases: list[tuple[int, date, date]]
    office_ids: list[int]
    police_body: int
    taken: set[str] = field(default_factory=set)
    """USCCs and ID numbers already in the database (the demo's): never drawn again."""
    next_id: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------- loading machinery

async def _constraints(conn: asyncpg.Connection, table: str) -> tuple[list[str], list[str]]:
    """(drop statements, re-create statements) for a table's foreign keys, unique constraints
    and secondary indexes; the primary key stays."""
    drops, makes = [], []
    for r in await conn.fetch(
            "SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint "
            "WHERE conrelid = $1::regclass AND contype IN ('f', 'u') ORDER BY contype DESC, conname", table):
        drops.append(f'ALTER TABLE "{table}" DROP CONSTRAINT "{r["conname"]}"')
        makes.append(f'ALTER TABLE "{table}" ADD CONSTRAINT "{r["conname"]}" {r["def"]}')
    for r in await conn.fetch(
            "SELECT i.relname AS name, pg_get_indexdef(i.oid) AS def FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = $1::regclass "
            "AND NOT x.indisprimary AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)",
            table):
        drops.append(f'DROP INDEX "{r["name"]}"')
        makes.append(r["def"])
    # Unique constraints before foreign keys on re-creation; foreign keys after all tables.
    return drops, makes


class Loader:
    def __init__(self, conn: asyncpg.Connection, say: Callable[[str], None]):
        self.conn = conn
        self.say = say
        self.counts: dict[str, int] = {}
        self.columns: dict[str, list[str]] = {}

    async def copy(self, table: str, columns: list[str], rows: list[tuple]) -> None:
        if rows:
            await self.conn.copy_records_to_table(table, records=rows, columns=columns)
            self.counts[table] = self.counts.get(table, 0) + len(rows)


# ---------------------------------------------------------------- reference data

UNITS_PER_TOWNSHIP = 500
"""A province has hundreds of townships, not the demo district's nine: the load adds townships
(each with its government as a township-scope reporting body) up to one per this many units,
so that one township's body sees a township's share of the province, as it would."""


async def _add_townships(conn: asyncpg.Connection, wanted: int) -> None:
    have = await conn.fetchval("SELECT count(*) FROM township")
    ordinal = await conn.fetchval("SELECT coalesce(max(ordinal), 0) FROM township")
    body_ordinal = await conn.fetchval("SELECT coalesce(max(ordinal), 0) FROM body")
    for i in range(1, max(0, wanted - have) + 1):
        name = f"省内第{i:03d}乡镇"
        township = await conn.fetchval("INSERT INTO township (name, ordinal) VALUES ($1, $2) RETURNING id",
                                       name, ordinal + i)
        await conn.execute(
            "INSERT INTO body (name, short_name, scope, sector, township, is_police, ordinal) "
            "VALUES ($1, $2, 'township', NULL, $3, false, $4)",
            f"{name}人民政府", name, township, body_ordinal + i)


async def _reference(conn: asyncpg.Connection) -> Ref:
    campaign = await conn.fetchrow("SELECT id, starts_on, ends_on FROM campaign WHERE active "
                                   "ORDER BY starts_on DESC LIMIT 1")
    if campaign is None:
        raise SystemExit("no active campaign: run `python -m server demo seed` first")
    townships = [r["id"] for r in await conn.fetch("SELECT id FROM township ORDER BY ordinal, id")]
    bodies = [dict(r) for r in await conn.fetch(
        "SELECT id, name, scope, sector, township, is_police FROM body ORDER BY ordinal, id")]
    phases = [(r["id"], r["starts_on"], r["ends_on"]) for r in await conn.fetch(
        "SELECT id, starts_on, ends_on FROM phase WHERE campaign = $1 ORDER BY starts_on", campaign["id"])]
    office = [r["id"] for r in await conn.fetch("SELECT id FROM app_user WHERE role = 'office' ORDER BY id")]
    police = next(b["id"] for b in bodies if b["is_police"])
    ref = Ref(townships, bodies, campaign["id"], campaign["starts_on"], campaign["ends_on"], phases, office, police)
    for r in await conn.fetch("SELECT uscc AS v FROM unit WHERE uscc IS NOT NULL UNION ALL "
                              "SELECT id_number FROM guard WHERE id_number IS NOT NULL"):
        ref.taken.add(r["v"])
    for t in TABLES:
        ref.next_id[t] = (await conn.fetchval(f'SELECT coalesce(max(id), 0) FROM "{t}"')) + 1
    return ref


# ---------------------------------------------------------------- generation

class Province:
    def __init__(self, sizes: Sizes, seed: int, ref: Ref, password_hash: str):
        self.s = sizes
        self.rng = FastRandom(seed)
        self.ref = ref
        self.password_hash = password_hash
        self.ids = dict(ref.next_id)

    def take(self, table: str) -> int:
        i = self.ids[table]
        self.ids[table] = i + 1
        return i

    def person(self, female: bool) -> str:
        rng = self.rng
        given = GIVEN_F if female else GIVEN_M
        name = rng.choice(SURNAMES) + rng.choice(given)
        return name + rng.choice(given) if rng.random() < 0.7 else name

    def phone(self) -> str:
        return "1" + self.rng.choice("3578") + f"{self.rng.randrange(10**9):09d}"

    # -- campaigns, users

    def campaigns(self) -> tuple[list[tuple], list[tuple], list[tuple[int, date, date, list]]]:
        """Rows of campaign and phase; and (campaign id, start, end, phases) for every campaign,
        the active one first."""
        campaigns, phases = [], []
        spans = [(self.ref.campaign, self.ref.campaign_start, self.ref.campaign_end, self.ref.phases)]
        for name, start, end in OLD_CAMPAIGNS:
            cid = self.take("campaign")
            campaigns.append((cid, name, "蓟州区", start, end, 4, None, None, False, "{}"))
            span = (end - start).days
            cuts = [start + timedelta(days=span * k // 4) for k in range(5)]
            ps = []
            for k, (code, pname) in enumerate(PHASE_CODES):
                pid = self.take("phase")
                ends = cuts[k + 1] - timedelta(days=1) if k < 3 else end
                phases.append((pid, cid, code, pname, "", cuts[k], ends, k + 1))
                ps.append((pid, cuts[k], ends))
            spans.append((cid, start, end, ps))
        return campaigns, phases, spans

    def users(self) -> tuple[list[tuple], list[int], dict[int, int]]:
        """Officers (one per ~300 units), office staff, leaders and a liaison per non-police
        body. Returns rows, the officer ids and body id -> its liaison's id."""
        rows, officers, liaisons = [], [], {}
        created = datetime(2020, 12, 1, 1, 0, tzinfo=UTC)

        def add(username: str, role: str, body: int) -> int:
            uid = self.take("app_user")
            rows.append((uid, username, self.person(self.rng.random() < 0.3), self.password_hash, role, body,
                         True, created, created))
            return uid
        for n in range(1, max(20, self.s.units // 300) + 1):
            officers.append(add(f"sj{n:05d}", "officer", self.ref.police_body))
        for n in range(1, 6):
            self.ref.office_ids.append(add(f"bgs{n:02d}", "office", self.ref.police_body))
        for n in range(1, 4):
            add(f"ld{n:02d}", "leader", self.ref.police_body)
        for b in self.ref.bodies:
            if not b["is_police"]:
                liaisons[b["id"]] = add(f"llyb{b['id']:03d}", "liaison", b["id"])
        return rows, officers, liaisons

    # -- the registry

    def registry(self):
        """Units, sites, guards, training records and guard cards."""
        rng, ref = self.rng, self.ref
        kind_of = _weighted(rng, KIND_WEIGHTS)
        sector_of = _weighted(rng, USER_SECTORS)
        provider_of = _weighted(rng, PROVIDER_FOR_USING)
        township_of = _weighted(rng, tuple((t, 30 if i < 2 else 10) for i, t in enumerate(ref.townships)))
        survey = ref.campaign_start
        units, sites, guards, trainings, cards = [], [], [], [], []
        unit_kind: dict[int, str] = {}
        unit_info: dict[int, tuple[str, str, int]] = {}  # id -> (kind, sector, township)
        by_kind: dict[str, list[int]] = {k: [] for k, _ in KIND_WEIGHTS}
        for n in range(self.s.units):
            uid = self.take("unit")
            kind = kind_of()
            sector = {"security_company": "security", "illegal_org": "security", "unqualified_employer": "labour",
                      "property_company": "property"}.get(kind) or sector_of()
            township = township_of()
            name = f"天津市蓟州区{rng.choice(WORDS)}{rng.choice(WORDS)}{rng.choice(UNIT_SUFFIX[kind])}"
            if kind == "illegal_org":
                name = f"蓟州区“{rng.choice(WORDS)}”{rng.choice(UNIT_SUFFIX[kind])}"
                uscc = None
            else:
                code = "12" if sector in ("school", "hospital") else "11" if sector in ("gov_office", "party_office") else "91"
                body8 = f"{(n * 7919 + 1234567) % 10**8:08d}" if code != "91" else f"MA{(n * 7919 + 12345) % 10**6:06d}"
                for area in ("120225", "120221", "120222", "120223"):  # another area on a clash with the demo
                    first17 = code + area + body8 + org_code_check_char(body8)
                    uscc = first17 + uscc_check_char(first17)
                    if uscc not in ref.taken:
                        break
            filing, filing_no, filed_on = "not_required", "", None
            if kind in ("self_recruiting", "property_company"):
                if rng.random() < 0.6:
                    filed_on = date(2016, 1, 1) + timedelta(days=rng.randrange(1700))
                    filing, filing_no = "filed", f"津公蓟保备字[{filed_on.year}]{n % 1000:03d}号"
                else:
                    filing = "unfiled"
            licence = f"津公保服许字[2018]{n % 10000:04d}号" if kind == "security_company" else ""
            # Most of the registry was built in the survey phase; some units were found later.
            day = _past(survey + timedelta(days=rng.randrange(9) if rng.random() < 0.9 else rng.randrange(9, 50)))
            created = _at(day, rng.randrange(8 * 60, 18 * 60))
            address = f"天津市蓟州区{rng.choice(WORDS)}{rng.choice(TOWNSHIP_STREETS)}{rng.randint(1, 399)}号"
            units.append((uid, name, uscc, kind, sector, township, address, licence, filing, filing_no, filed_on,
                          self.person(False) if kind != "illegal_org" else "", self.person(rng.random() < 0.4),
                          self.phone(), "", created, created))
            unit_kind[uid] = kind
            unit_info[uid] = (kind, sector, township)
            by_kind[kind].append(uid)
        providers = {"security_company": by_kind["security_company"], "property_company": by_kind["property_company"],
                     "unqualified": by_kind["unqualified_employer"]}
        site_rows_meta = []  # (site id, unit id, employer id, posts)
        for uid, (kind, sector, township) in unit_info.items():
            if kind in ("security_company", "unqualified_employer", "illegal_org"):
                continue
            for _ in range(1 if rng.random() < 0.7 else rng.randint(2, 4)):
                sid = self.take("site")
                pkind = provider_of() if kind == "using_unit" else "own"
                provider = rng.choice(providers[pkind]) if pkind != "own" and providers[pkind] else None
                if pkind != "own" and provider is None:
                    pkind = "own"
                posts = rng.randint(1, 8)
                created = _at(survey + timedelta(days=rng.randrange(9)), rng.randrange(8 * 60, 18 * 60))
                sites.append((sid, uid, f"{rng.choice(WORDS)}{rng.choice(SITE_NAMES)}",
                              f"天津市蓟州区{rng.choice(WORDS)}{rng.choice(TOWNSHIP_STREETS)}{rng.randint(1, 399)}号",
                              township, sector, pkind, provider, posts,
                              39.9 + rng.random() * 0.4, 117.2 + rng.random() * 0.4, created, created))
                site_rows_meta.append((sid, uid, provider or uid, posts))
        # Guards: posted at sites in proportion to their posts; a few providers' guards wait unposted.
        import bisect
        cum, total = [], 0
        for meta in site_rows_meta:
            total += meta[3]
            cum.append(total)
        employed: list[tuple[int, int | None]] = []
        for k in range(self.s.guards):
            if k < len(site_rows_meta):
                meta = site_rows_meta[k]  # every site has at least one guard
            else:
                meta = site_rows_meta[bisect.bisect_right(cum, rng.random() * total)]
            if rng.random() < 0.05 and by_kind["security_company"]:
                employed.append((rng.choice(by_kind["security_company"]), None))
            else:
                employed.append((meta[2], meta[0]))
        site_guards: dict[int, list[int]] = {}
        guard_cert: dict[int, str] = {}
        site_unit = {m[0]: m[1] for m in site_rows_meta}
        for k, (employer, site) in enumerate(employed):
            gid = self.take("guard")
            female = rng.random() < 0.12
            born = date(1960, 1, 1) + timedelta(days=(k * 7919) % 14600)
            seq = (k // 14600) % 500 * 2 + (0 if female else 1)
            drawn = rng.choice(("120225", "120225", "120225", "120119", "130229", "131082"))
            for area in (drawn, "120221", "120222", "120223"):  # another area on a clash with the demo
                first17 = area + born.strftime("%Y%m%d") + f"{seq:03d}"
                if first17 + id_check_digit(first17) not in ref.taken:
                    break
            valid, none = CERT_ODDS[unit_kind[employer]]
            roll = rng.random()
            cert = "valid" if roll < valid else "none" if roll < valid + none else "revoked"
            hired = max(date(born.year + 18, 1, 1), date(2010, 1, 1)) + timedelta(days=rng.randrange(2000))
            hired = min(hired, date(2020, 11, 30))
            cert_no, issued, vetted, exam = None, None, rng.random() < 0.4, False
            if cert != "none":
                cert_no = f"津保1225{(k * 7919 + 4242) % 10**8:08d}"  # the demo's are 津保1202…
                issued, vetted, exam = hired + timedelta(days=rng.randrange(60)), True, True
            photo = rng.random() < (0.93 if cert == "valid" else 0.5)
            finger = rng.random() < (0.90 if cert == "valid" else 0.4)
            roll = rng.random()
            status, left = ("active", None) if roll < 0.9 else ("left", date(2020, 12, 20) + timedelta(
                days=rng.randrange(40))) if roll < 0.95 else ("removed", None) if roll < 0.97 else ("dismissed", None)
            day = _past(survey + timedelta(days=rng.randrange(9) if rng.random() < 0.92 else rng.randrange(9, 50)))
            created = _at(day, rng.randrange(8 * 60, 18 * 60))
            updated = created if status == "active" else _at(_past(day + timedelta(days=rng.randrange(1, 30))), 19 * 60)
            guards.append((gid, self.person(female), first17 + id_check_digit(first17), "女" if female else "男",
                           self.phone(), employer, site, cert_no, cert, issued, vetted, exam, photo, finger, None,
                           status, hired, left, created, updated,
                           *unit_info[site_unit[site] if site is not None else employer][1:]))
            if site is not None and status == "active":
                site_guards.setdefault(site, []).append(gid)
            guard_cert[gid] = cert
            if rng.random() < 0.6:
                trainings.append((self.take("training_record"), gid, "pre_job",
                                  hired - timedelta(days=rng.randint(1, 10)), 24, "保安员岗前培训：法律法规、职业道德与服务技能"))
            if cert == "valid" and rng.random() < 0.4:
                issued_at = created + timedelta(days=rng.randrange(1, 40))
                if rng.random() < 0.03:  # reissued: the first card revoked
                    cards.append((self.take("guard_card"), gid, 1, issued_at, issued_at + timedelta(days=5)))
                    cards.append((self.take("guard_card"), gid, 2, issued_at + timedelta(days=5), None))
                else:
                    cards.append((self.take("guard_card"), gid, 1, issued_at, None))
        site_meta = {m[0]: m for m in site_rows_meta}
        return (units, sites, guards, trainings, cards), unit_info, site_meta, site_guards, guard_cert

    # -- inspections and everything under them

    def inspections(self, spans, officers, liaisons, unit_info, site_meta, site_guards, guard_cert):
        """Yields batches: dict table -> rows, CHUNK inspections at a time."""
        rng, ref = self.rng, self.ref
        area_of = _weighted(rng, AREA_WEIGHTS)
        order_status_of = _weighted(rng, ORDER_STATUSES)
        campaign_of = _weighted(rng, tuple((i, w) for i, w in zip(range(len(spans)), (80, 10, 10))))
        site_ids = list(site_meta)
        body_for_township = {b["township"]: b["id"] for b in ref.bodies if b["scope"] == "township"}
        body_for_sector = {b["sector"]: b["id"] for b in ref.bodies if b["scope"] == "sector"}
        n_insp = self.s.inspections
        left = self.s.findings
        order_seq = 0
        batch: dict[str, list[tuple]] = {}
        for n in range(n_insp):
            iid = self.take("inspection")
            c_index = campaign_of()
            cid, start, end, phases = spans[c_index]
            active = c_index == 0
            sid = rng.choice(site_ids)
            _, unit, _, _ = site_meta[sid]
            kind_u, sector, township = unit_info[unit]
            # About one in eight inspections is a department's or township's self-inspection.
            body, officer, kind = ref.police_body, rng.choice(officers), "routine"
            if rng.random() < 0.12:
                body = body_for_sector.get(sector) or body_for_township.get(township) or ref.police_body
                if body != ref.police_body:
                    officer, kind = liaisons[body], "self_inspection"
            elif rng.random() < 0.1:
                kind = rng.choice(("reinspection", "spot_check"))
            last = _past(end) if active else end
            day = start + timedelta(days=rng.randrange(max(0, (last - start).days) + 1))
            started = _at(day, rng.randrange(8 * 60, 18 * 60))
            phase = next((p for p, a, b in phases if a <= day <= b), phases[-1][0])
            if active:
                roll = rng.random()
                status = "draft" if roll < 0.03 else "submitted" if roll < 0.23 else "sent_back" if roll < 0.28 else "reviewed"
            else:
                status = "reviewed"
            submitted = started + timedelta(minutes=rng.randint(15, 120)) if status != "draft" else None
            reviewed = submitted + timedelta(hours=rng.randint(2, 96)) if status in ("reviewed", "sent_back") else None
            # Findings: the remaining count spread evenly over the remaining inspections.
            remaining = n_insp - n
            mean = left / remaining
            nf = left if remaining == 1 else min(left, max(0, int(mean * 2 * rng.random() + 0.5)))
            left -= nf
            insp_uuid = _uuid(rng)
            lat, lng = 39.9 + rng.random() * 0.4, 117.2 + rng.random() * 0.4
            add = batch.setdefault
            add("inspection", []).append((
                iid, insp_uuid, cid, phase, kind, status, officer, body, sid, unit, started, submitted, reviewed,
                lat, lng, float(rng.randint(5, 40)), "", "已退回：请补拍现场照片" if status == "sent_back" else ""))
            # Guards met on duty.
            posted = site_guards.get(sid) or []
            checks = []
            for _ in range(min(len(posted), rng.choice((0, 1, 1, 2, 2, 3, 4)))):
                gid = rng.choice(posted)
                cert = guard_cert[gid]
                verdict = {"valid": "valid", "none": "no_certificate", "revoked": "revoked"}[cert]
                if rng.random() < 0.03:
                    verdict = "unrecognised"
                cid_ = self.take("guard_check")
                uniform = rng.random() > 0.12
                tejin = rng.random() < 0.03
                checks.append((cid_, gid, verdict, uniform, tejin))
                add("guard_check", []).append((cid_, _uuid(rng), iid, gid, "", "", verdict, verdict == "valid",
                                               uniform, rng.random() > 0.08, tejin, "", started + timedelta(minutes=5)))
            # Findings of this inspection.
            areas = [area_of() for _ in range(nf)]
            finding_status = {"draft": "draft", "submitted": "submitted"}.get(status)
            order_id = None
            confirmed_violation = False
            rows = []
            used_keys = set()
            for j, area in enumerate(areas):
                fid = self.take("finding")
                column = AREA_COLUMN[area]
                if area == 4:
                    column = 8 if kind_u == "illegal_org" else rng.choice((8, 9, 14))
                if area == 5 and kind_u not in ("self_recruiting", "property_company"):
                    column = None
                if area == 6 and kind_u not in ("self_recruiting", "property_company"):
                    column = None
                count_unit = "person" if area in (1, 2) and column else "case"
                guard = check = None
                if area in (1, 2) and checks:
                    check, guard = checks[j % len(checks)][0], checks[j % len(checks)][1]
                key = f"{iid}:guard:{check}:{area}" if check else f"{iid}:area:{area}"
                derived = key not in used_keys and rng.random() < 0.8
                if derived:
                    used_keys.add(key)
                fstatus = finding_status
                if fstatus is None:  # reviewed (or sent back: some findings still sent back)
                    roll = rng.random()
                    fstatus = "rejected" if roll < 0.08 else "sent_back" if status == "sent_back" and roll < 0.5 else "confirmed"
                confirmed_violation |= fstatus == "confirmed" and column is not None
                reviewer = rng.choice(ref.office_ids) if fstatus in ("confirmed", "rejected", "sent_back") else None
                r_at = reviewed if reviewer else None
                text = f"{AREA_TITLE[area]}：现场检查发现问题（第{j + 1}项）"
                rows.append([fid, _uuid(rng), iid, unit, guard, check, area, column, count_unit, 1, text,
                             "derived" if derived else "manual", key if derived else None, False, fstatus,
                             "" if fstatus in ("confirmed", "submitted", "draft") else "证据不足",
                             reviewer, r_at, None, started + timedelta(minutes=10), r_at or submitted or started,
                             sector, township, kind_u, cid, started])
            # About four in ten reviewed inspections with confirmed violations got an order.
            if status == "reviewed" and confirmed_violation and rng.random() < 0.4:
                order_id = self.take("rectification_order")
                order_seq += 1
                ostatus = order_status_of()
                issued = reviewed + timedelta(hours=rng.randint(1, 48))
                deadline = (issued + timedelta(days=15)).astimezone(LOCAL).date()
                reported = issued + timedelta(days=rng.randint(3, 14)) if ostatus != "ordered" else None
                verified = reported + timedelta(days=rng.randint(1, 5)) if ostatus in ("verified", "closed", "not_rectified", "escalated") else None
                escalated = verified + timedelta(days=2) if ostatus == "escalated" else None
                closed = verified + timedelta(days=rng.randint(1, 10)) if ostatus == "closed" else None
                add("rectification_order", []).append((
                    order_id, f"蓟公保整字[{day.year}]{order_seq:06d}号", cid, unit, iid, rng.choice(ref.office_ids),
                    issued, deadline, ostatus, reported, None, verified, escalated,
                    "依法予以警告" if ostatus == "escalated" else "", closed, "", officer))
                confirmed = [r for r in rows if r[14] == "confirmed" and r[7] is not None]
                for r in confirmed:
                    r[18] = order_id
                if ostatus in ("verified", "closed"):
                    recorded = (verified or issued).astimezone(LOCAL).date()
                    recorder = rng.choice(ref.office_ids)
                    no_cert = [r for r in confirmed if r[6] == 1]
                    if kind_u == "illegal_org":
                        add("rectification_outcome", []).append((self.take("rectification_outcome"), order_id, 17, 1, recorded, recorder, ""))
                    if no_cert:
                        add("rectification_outcome", []).append((self.take("rectification_outcome"), order_id, 20, len(no_cert), recorded, recorder, ""))
                        for r in no_cert:
                            if r[4]:
                                add("guard_action", []).append((self.take("guard_action"), order_id, r[4],
                                                                rng.choice(("certified", "removed", "dismissed")), recorded, recorder))
                    if any(r[6] == 5 for r in confirmed):
                        add("rectification_outcome", []).append((self.take("rectification_outcome"), order_id, 21, 1, recorded, recorder, ""))
                    if any(r[6] == 4 for r in confirmed) and kind_u == "using_unit":
                        add("rectification_outcome", []).append((self.take("rectification_outcome"), order_id, 19, 1, recorded, recorder, ""))
                    if any(r[6] == 2 for r in confirmed) and rng.random() < 0.3:
                        add("rectification_outcome", []).append((self.take("rectification_outcome"), order_id, 22, 1, recorded, recorder, ""))
            add("finding", []).extend(tuple(r) for r in rows)
            # Checklist answers (all eight once submitted), photos.
            if status != "draft" or rng.random() < 0.5:
                bad = set(areas)
                for area in range(1, 9):
                    answer = "violation" if area in bad else ("na" if rng.random() < 0.08 else "ok")
                    add("checklist_answer", []).append((self.take("checklist_answer"), iid, area, answer, "", f"{iid}:{area}"))
            photo_review = "accepted" if status == "reviewed" else "pending"
            targets = [(None, None)] + [(None, r[0]) for r in rows[:2]] + [(c[0], None) for c in checks[:1]]
            for check_id, finding_id in targets:
                pid = self.take("photo")
                puuid = _uuid(rng)
                taken = started + timedelta(minutes=rng.randint(1, 30))
                add("photo", []).append((
                    pid, puuid, f"evidence/{insp_uuid}/{puuid}.jpg", f"evidence/{insp_uuid}/{puuid}.thumb.jpg",
                    f"{rng.getrandbits(256):064x}", rng.randint(180_000, 900_000), 2048, 1536, "image/jpeg",
                    taken, taken + timedelta(seconds=rng.randint(2, 90)), officer, iid, check_id, finding_id,
                    lat, lng, "reshoot" if status == "sent_back" and finding_id and rng.random() < 0.3 else photo_review,
                    ""))
            if (n + 1) % CHUNK == 0 or n + 1 == n_insp:
                yield n + 1, batch
                batch = {}


COLUMNS = {
    "campaign": ["id", "name", "district", "starts_on", "ends_on", "weekly_weekday", "weekly_from",
                 "weekly_until", "active", "options"],
    "phase": ["id", "campaign", "code", "name", "description", "starts_on", "ends_on", "ordinal"],
    "app_user": ["id", "username", "display_name", "password_hash", "role", "body", "active", "created_at",
                 "password_changed_at"],
    "unit": ["id", "name", "uscc", "kind", "sector", "township", "address", "licence_no", "filing_status",
             "filing_no", "filed_on", "legal_rep", "contact_name", "contact_phone", "notes", "created_at",
             "updated_at"],
    "site": ["id", "unit", "name", "address", "township", "sector", "provider_kind", "provider", "posts", "lat",
             "lng", "created_at", "updated_at"],
    "guard": ["id", "name", "id_number", "gender", "phone", "employer", "site", "certificate_no",
              "certificate_status", "certificate_issued_on", "vetted", "exam_passed", "photo_collected",
              "fingerprint_collected", "portrait_key", "employment_status", "hired_on", "left_on", "created_at",
              "updated_at", "scope_sector", "scope_township"],
    "training_record": ["id", "guard", "kind", "held_on", "hours", "topic"],
    "guard_card": ["id", "guard", "serial", "issued_at", "revoked_at"],
    "inspection": ["id", "uuid", "campaign", "phase", "kind", "status", "officer", "body", "site", "unit",
                   "started_at", "submitted_at", "reviewed_at", "lat", "lng", "gps_accuracy", "note", "review_note"],
    "checklist_answer": ["id", "inspection", "area", "answer", "note", "key"],
    "guard_check": ["id", "uuid", "inspection", "guard", "typed_certificate_no", "typed_name", "verdict",
                    "certificate_shown", "uniform_ok", "insignia_ok", "tejin_marking", "note", "created_at"],
    "finding": ["id", "uuid", "inspection", "unit", "guard", "guard_check", "area", "stat_column", "count_unit",
                "quantity", "text", "source", "derived_key", "edited", "status", "review_note", "reviewed_by",
                "reviewed_at", "order", "created_at", "updated_at", "scope_sector", "scope_township", "unit_kind",
                "campaign", "found_at"],
    "photo": ["id", "uuid", "object_key", "thumb_key", "sha256", "bytes", "width", "height", "content_type",
              "captured_at", "uploaded_at", "uploader", "inspection", "guard_check", "finding", "lat", "lng",
              "review_status", "review_note"],
    "rectification_order": ["id", "number", "campaign", "unit", "inspection", "issued_by", "issued_at", "deadline",
                            "status", "reported_at", "reinspection", "verified_at", "escalated_at", "punishment",
                            "closed_at", "note", "officer"],
    "rectification_outcome": ["id", "order", "stat_column", "quantity", "recorded_on", "recorded_by", "note"],
    "guard_action": ["id", "order", "guard", "action", "done_on", "recorded_by"],
}


# ---------------------------------------------------------------- the whole load

async def load(dsn: str, sizes: Sizes, seed: int = 8, say: Callable[[str], None] = print) -> dict[str, int]:
    """Generate and COPY a province into an already migrated and demo-seeded database.
    Returns the rows written per table."""
    from server.auth.passwords import hash_password

    t0 = time.monotonic()
    conn = await asyncpg.connect(dsn)
    try:
        if await conn.fetchval("SELECT 1 FROM app_user WHERE username = $1", MARKER_USER):
            raise SystemExit("this database already holds a province (user sj00001 exists); use a fresh one")
        await _add_townships(conn, sizes.units // UNITS_PER_TOWNSHIP)
        ref = await _reference(conn)
        prov = Province(sizes, seed, ref, hash_password("demo1234"))
        loader = Loader(conn, say)
        await conn.execute("SET synchronous_commit = off")
        await conn.execute("SET maintenance_work_mem = '512MB'")
        fk_drops, other_drops, makes_unique, makes_fk = [], [], [], []
        for t in TABLES:
            d, m = await _constraints(conn, t)
            fk_drops += [s for s, make in zip(d, m) if "FOREIGN KEY" in make]
            other_drops += [s for s, make in zip(d, m) if "FOREIGN KEY" not in make]
            makes_unique += [s for s in m if "FOREIGN KEY" not in s]
            makes_fk += [s for s in m if "FOREIGN KEY" in s]
        drops = fk_drops + other_drops
        # The copies on findings and guards (migration "counting copies") and an order's officer
        # (migration "order officer") come with the rows; a unit's first site per kind of provider
        # (migration "first site per kind of provider on the unit") and the statistics tallies
        # (migration "the statistics tallies") are made once after the load: the triggers
        # that keep them are off during the load (one lookup or insert per row).
        for table in COPIES_KEPT_BY_TRIGGERS:
            await conn.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
        # Drop foreign keys first (they may lean on the unique indexes), then the rest.
        for stmt in drops:  # the foreign keys came first
            await conn.execute(stmt)
        say(f"  dropped {len(drops)} constraints and indexes of {len(TABLES)} tables for the load")

        campaigns, phases, spans = prov.campaigns()
        await loader.copy("campaign", COLUMNS["campaign"], campaigns)
        await loader.copy("phase", COLUMNS["phase"], phases)
        users, officers, liaisons = prov.users()
        await loader.copy("app_user", COLUMNS["app_user"], users)

        t = time.monotonic()
        (units, sites, guards, trainings, cards), unit_info, site_meta, site_guards, guard_cert = prov.registry()
        say(f"  registry drawn in {time.monotonic() - t:.0f} s: {len(units)} units, {len(sites)} sites, "
            f"{len(guards)} guards")
        for table, rows in (("unit", units), ("site", sites), ("guard", guards), ("training_record", trainings),
                            ("guard_card", cards)):
            await loader.copy(table, COLUMNS[table], rows)
        del units, sites, guards, trainings, cards
        say(f"  registry loaded at {time.monotonic() - t0:.0f} s")

        total = sizes.inspections
        for done, batch in prov.inspections(spans, officers, liaisons, unit_info, site_meta, site_guards, guard_cert):
            for table, rows in batch.items():
                await loader.copy(table, COLUMNS[table], rows)
            if done % (CHUNK * 5) == 0 or done == total:
                say(f"  inspections {done}/{total}, findings {loader.counts.get('finding', 0)} "
                    f"at {time.monotonic() - t0:.0f} s")

        kinds = ("own", "security_company", "property_company", "unqualified")
        await conn.execute(
            "UPDATE unit SET " + ", ".join(f"{k}_since = s.{k}" for k in kinds)
            + " FROM (SELECT unit, " + ", ".join(f"MIN(created_at) FILTER (WHERE provider_kind = '{k}') AS {k}"
                                             for k in kinds)
            + " FROM site GROUP BY unit) s WHERE s.unit = unit.id")
        for table in COPIES_KEPT_BY_TRIGGERS:
            await conn.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER USER')
        t = time.monotonic()
        for stmt in makes_unique:
            await conn.execute(stmt)
        say(f"  unique constraints and indexes re-made in {time.monotonic() - t:.0f} s")
        t = time.monotonic()
        for stmt in makes_fk:
            await conn.execute(stmt)
        say(f"  foreign keys re-made (and checked) in {time.monotonic() - t:.0f} s")
        # With the indexes back: the statistics tallies, and what an order counts with (its
        # lookups go by finding."order"), whose triggers were off too.
        t = time.monotonic()
        for kept in tally.TALLIES:
            for stmt in tally.rebuild_statements(kept):
                await conn.execute(stmt)
        await conn.execute(_migration("core_2026_12_01t02_40_00_000000").BACKFILL)
        say(f"  statistics tallies and orders' counting columns made in {time.monotonic() - t:.0f} s")
        for table in TABLES:
            await conn.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                               f"(SELECT coalesce(max(id), 1) FROM \"{table}\"))")
        t = time.monotonic()
        await conn.execute("VACUUM ANALYZE")
        say(f"  VACUUM ANALYZE in {time.monotonic() - t:.0f} s")
    finally:
        await conn.close()
    say(f"province loaded in {time.monotonic() - t0:.0f} s: "
        + ", ".join(f"{t} {n}" for t, n in loader.counts.items()))
    return loader.counts


def prepare(dsn: str) -> None:
    """Migrate and seed the demo (idempotent) in the database at `dsn`."""
    with tempfile.TemporaryDirectory(prefix="province-") as data_dir:
        env = dict(os.environ, DATABASE_URL=dsn, DATA_DIR=data_dir)
        for args in (("db", "migrate"), ("demo", "seed")):
            done = subprocess.run([sys.executable, "-m", "server", *args], cwd=ROOT, env=env,
                                  capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(f"python -m server {' '.join(args)} failed:\n{done.stderr[-3000:]}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.province", description=__doc__.split("\n\n")[0])
    p.add_argument("--database-url", default=os.environ.get("DATABASE_URL"),
                   help="postgresql://user:pass@host:port/db (default: $DATABASE_URL)")
    p.add_argument("--units", type=int, default=Sizes.units)
    p.add_argument("--guards", type=int, default=Sizes.guards)
    p.add_argument("--findings", type=int, default=Sizes.findings)
    p.add_argument("--seed", type=int, default=8)
    a = p.parse_args(argv)
    if not a.database_url or not a.database_url.startswith(("postgresql://", "postgres://")):
        p.error("--database-url postgresql://... is required (PostgreSQL only)")
    t0 = time.monotonic()
    print("migrating and seeding the demo ...", flush=True)
    prepare(a.database_url)
    print(f"generating a province: {a.units} units, {a.guards} guards, {a.findings} findings", flush=True)
    asyncio.run(load(a.database_url, Sizes(a.units, a.guards, a.findings), a.seed,
                     say=lambda s: print(s, flush=True)))
    print(f"done in {time.monotonic() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
