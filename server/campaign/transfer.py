"""A campaign in one TOML file: `campaign load FILE.toml` and `campaign export FILE.toml`.

The file holds everything an install needs before its first roster import: the campaign
(name, district, dates, weekly report day), its options (rectification days per focus area,
notice prefix, legal basis, clue response days, the count date of the statistics table, the wording of the eight checklist items), its
phases and reporting deadlines, the district's townships and the reporting bodies with their
liaison contacts. Accounts are not in it (no passwords in files): the office creates them on
/campaign/bodies.

Loading is idempotent: rows are matched by natural key (campaign and township and body by
name, phase by code, deadline by kind + due date + body) and only what differs is written,
each change with its audit entry, all in one transaction. A wrong file is refused whole, with
the line and field of every problem. Nothing is deleted except reporting deadlines of the
campaign that the file no longer names (nothing points to a deadline); phases, townships and
bodies missing from the file are kept (records may point to them).

`export_text()` writes the file in one canonical layout, so exporting, loading the export into
an empty install and exporting again gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from dataclasses import dataclass, field
from typing import Any

from server.audit import service as audit
from server.audit.service import snapshot
from server.campaign.checklist import AREA_NUMBERS, FOCUS_AREAS
from server.campaign.options import COUNT_ON, COUNT_ON_CHOICES, COUNT_ON_FOUND, MAX_RECTIFY_DAYS, options_of
from server.db import atomic
from server.models.campaign import Body, Campaign, Phase, ReportingDeadline, Township
from server.vocab import BodyScope, Sector

ACTOR = "campaign-load"
FORMAT_VERSION = 1


class TransferError(Exception):
    """The file is refused; `problems` are (line, field, message), line 0 when unknown."""

    def __init__(self, problems: list[tuple[int, str, str]]):
        self.problems = problems
        super().__init__("\n".join(format_problem(p) for p in problems))


def format_problem(p: tuple[int, str, str]) -> str:
    line, where, message = p
    return f"第{line}行 {where}: {message}" if line else f"{where}: {message}"


# ---------------------------------------------------------------- reading and checking

def _locate(text: str, table: str, index: int | None, key: str | None) -> int:
    """The 1-based line of `key` in the `index`-th [[table]] (or in [table]); the table's
    header line when the key is absent; 0 when the table is absent."""
    lines = text.splitlines()
    header = re.compile(r"^\s*\[\[\s*" + re.escape(table) + r"\s*\]\]" if index is not None
                        else r"^\s*\[\s*" + re.escape(table) + r"\s*\]")
    seen, start = -1, None
    for i, line in enumerate(lines):
        if header.match(line):
            seen += 1
            if index is None or seen == index:
                start = i
                break
    if start is None:
        return 0
    if key is None:
        return start + 1
    key_re = re.compile(r"^\s*(\"?)" + re.escape(key) + r"\1\s*=")
    for j in range(start + 1, len(lines)):
        if re.match(r"^\s*\[", lines[j]):
            break
        if key_re.match(lines[j]):
            return j + 1
    return start + 1


@dataclass
class Checker:
    text: str
    problems: list[tuple[int, str, str]] = field(default_factory=list)

    def fail(self, table: str, index: int | None, key: str | None, message: str) -> None:
        where = table + (f"[{index + 1}]" if index is not None else "") + (f".{key}" if key else "")
        self.problems.append((_locate(self.text, table, index, key), where, message))

    def keys(self, row: dict, allowed: set[str], table: str, index: int | None) -> None:
        for key in row:
            if key not in allowed:
                self.fail(table, index, key, f"未知字段“{key}”（可用: {', '.join(sorted(allowed))}）")

    def string(self, row: dict, key: str, table: str, index: int | None, *, max_len: int,
               required: bool = False, default: str = "") -> str:
        value = row.get(key, None)
        if value is None:
            if required:
                self.fail(table, index, key, "必填")
            return default
        if not isinstance(value, str):
            self.fail(table, index, key, "应为文字（加英文双引号）")
            return default
        value = value.strip()
        if required and not value:
            self.fail(table, index, key, "不能为空")
        if len(value) > max_len:
            self.fail(table, index, key, f"不能超过 {max_len} 字")
        return value

    def date(self, row: dict, key: str, table: str, index: int | None, *, required: bool = True) -> dt.date | None:
        value = row.get(key)
        if value is None:
            if required:
                self.fail(table, index, key, "必填（日期，如 2020-12-14，不加引号）")
            return None
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            self.fail(table, index, key, "应为日期，如 2020-12-14（不加引号）")
            return None
        return value

    def integer(self, row: dict, key: str, table: str, index: int | None, *, lo: int, hi: int,
                default: int | None = None) -> int | None:
        value = row.get(key, default)
        if value is None:
            self.fail(table, index, key, "必填")
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            self.fail(table, index, key, f"应为 {lo}–{hi} 的整数")
            return None
        return value

    def boolean(self, row: dict, key: str, table: str, index: int | None, default: bool) -> bool:
        value = row.get(key, default)
        if not isinstance(value, bool):
            self.fail(table, index, key, "应为 true 或 false")
            return default
        return value

    def rows(self, data: dict, table: str) -> list[dict]:
        value = data.get(table, [])
        if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
            self.fail(table, None, None, f"应写成 [[{table}]] 表")
            return []
        return value


CAMPAIGN_KEYS = {"name", "district", "starts_on", "ends_on", "weekly_weekday", "weekly_from", "weekly_until",
                 "notice_prefix", "legal_basis", "clue_response_days", "count_on", "rectify_days", "checklist"}
PHASE_KEYS = {"code", "name", "starts_on", "ends_on", "description"}
DEADLINE_KEYS = {"kind", "title", "due_on", "body"}
TOWNSHIP_KEYS = {"name", "active"}
BODY_KEYS = {"name", "short_name", "scope", "sector", "township", "police", "contact_name", "contact_phone", "active"}
CHECKLIST_KEYS = {"number", "title", "question"}


@dataclass
class Parsed:
    campaign: dict[str, Any]
    options: dict[str, Any]
    phases: list[dict[str, Any]]
    deadlines: list[dict[str, Any]]
    townships: list[dict[str, Any]]
    bodies: list[dict[str, Any]]


def parse(text: str, known_townships: set[str] = frozenset(), known_bodies: set[str] = frozenset()) -> Parsed:
    """Check a campaign file; raise TransferError with every problem found. Townships and
    bodies may be named by the file or already be in the install (the known_ sets)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise TransferError([(int(m[1]) if m else 0, "文件格式", f"不是有效的 TOML: {exc}")]) from None
    c = Checker(text)
    for key in data:
        if key not in {"format", "campaign", "phases", "deadlines", "townships", "bodies"}:
            c.fail(key, None, None, f"未知的表“{key}”（可用: campaign, phases, deadlines, townships, bodies）")
    if data.get("format", FORMAT_VERSION) != FORMAT_VERSION:
        c.problems.append((_line_of_key(text, "format"), "format", f"只支持 format = {FORMAT_VERSION}"))

    raw = data.get("campaign")
    if not isinstance(raw, dict):
        c.fail("campaign", None, None, "缺少 [campaign] 表")
        raise TransferError(c.problems)
    t = "campaign"
    c.keys(raw, CAMPAIGN_KEYS, t, None)
    campaign = {
        "name": c.string(raw, "name", t, None, max_len=128, required=True),
        "district": c.string(raw, "district", t, None, max_len=32, required=True),
        "starts_on": c.date(raw, "starts_on", t, None),
        "ends_on": c.date(raw, "ends_on", t, None),
        "weekly_weekday": c.integer(raw, "weekly_weekday", t, None, lo=0, hi=6, default=4),
        "weekly_from": c.date(raw, "weekly_from", t, None, required=False),
        "weekly_until": c.date(raw, "weekly_until", t, None, required=False),
    }
    if campaign["starts_on"] and campaign["ends_on"] and campaign["starts_on"] > campaign["ends_on"]:
        c.fail(t, None, "ends_on", "结束日期早于开始日期")
    if campaign["weekly_from"] and campaign["weekly_until"] and campaign["weekly_from"] > campaign["weekly_until"]:
        c.fail(t, None, "weekly_until", "周报截止日期早于周报开始日期")
    options: dict[str, Any] = {
        "notice_prefix": c.string(raw, "notice_prefix", t, None, max_len=16),
        "legal_basis": c.string(raw, "legal_basis", t, None, max_len=1000),
        "clue_response_days": c.integer(raw, "clue_response_days", t, None, lo=1, hi=60, default=5),
        "count_on": c.string(raw, "count_on", t, None, max_len=16) or COUNT_ON_FOUND,
    }
    if options["count_on"] not in COUNT_ON:
        c.fail(t, None, "count_on", "应为 \"found\"（按发现日期）或 \"confirmed\"（按审核确认日期）")
    days = raw.get("rectify_days", {})
    if not isinstance(days, dict):
        c.fail("campaign.rectify_days", None, None, "应写成 [campaign.rectify_days] 表，如 1 = 15")
        days = {}
    rectify: dict[str, int] = {}
    for key, value in days.items():
        if key not in {str(a) for a in AREA_NUMBERS}:
            c.fail("campaign.rectify_days", None, key, "检查项编号应为 1–8")
        elif isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_RECTIFY_DAYS:
            c.fail("campaign.rectify_days", None, key, f"整改天数应为 1–{MAX_RECTIFY_DAYS} 的整数")
        else:
            rectify[key] = value
    options["rectify_days"] = {k: rectify[k] for k in sorted(rectify, key=int)}
    checklist: dict[str, dict[str, str]] = {}
    items = raw.get("checklist", [])
    if not isinstance(items, list) or not all(isinstance(r, dict) for r in items):
        c.fail("campaign.checklist", None, None, "应写成 [[campaign.checklist]] 表")
        items = []
    for i, item in enumerate(items):
        tt = "campaign.checklist"
        c.keys(item, CHECKLIST_KEYS, tt, i)
        number = c.integer(item, "number", tt, i, lo=1, hi=len(AREA_NUMBERS))
        title = c.string(item, "title", tt, i, max_len=32, required=True)
        question = c.string(item, "question", tt, i, max_len=200, required=True)
        if number is not None:
            if str(number) in checklist:
                c.fail(tt, i, "number", f"第{number}项重复")
            checklist[str(number)] = {"title": title, "question": question}
    if checklist:
        options["checklist"] = {k: checklist[k] for k in sorted(checklist, key=int)}

    townships = []
    names: set[str] = set()
    for i, row in enumerate(c.rows(data, "townships")):
        c.keys(row, TOWNSHIP_KEYS, "townships", i)
        name = c.string(row, "name", "townships", i, max_len=64, required=True)
        if name in names:
            c.fail("townships", i, "name", f"乡镇街“{name}”重复")
        names.add(name)
        townships.append({"name": name, "active": c.boolean(row, "active", "townships", i, True), "ordinal": i + 1})
    all_townships = names | set(known_townships)

    bodies = []
    body_names: set[str] = set()
    for i, row in enumerate(c.rows(data, "bodies")):
        tt = "bodies"
        c.keys(row, BODY_KEYS, tt, i)
        name = c.string(row, "name", tt, i, max_len=64, required=True)
        if name in body_names:
            c.fail(tt, i, "name", f"填报单位“{name}”重复")
        body_names.add(name)
        scope = c.string(row, "scope", tt, i, max_len=16, required=True)
        if scope and scope not in {s.value for s in BodyScope}:
            c.fail(tt, i, "scope", "应为 district（全区）、sector（行业）或 township（乡镇街）")
        sector = c.string(row, "sector", tt, i, max_len=32) or None
        if sector and sector not in {s.value for s in Sector}:
            c.fail(tt, i, "sector", f"行业代码无效（可用: {', '.join(s.value for s in Sector)}）")
        if scope == BodyScope.sector and not sector:
            c.fail(tt, i, "sector", "行业填报单位须指定 sector")
        township = c.string(row, "township", tt, i, max_len=64) or None
        if township and township not in all_townships:
            c.fail(tt, i, "township", f"乡镇街“{township}”不在 [[townships]] 中")
        if scope == BodyScope.township and not township:
            c.fail(tt, i, "township", "乡镇街填报单位须指定 township")
        bodies.append({
            "name": name, "short_name": c.string(row, "short_name", tt, i, max_len=32),
            "scope": scope, "sector": sector, "township": township,
            "is_police": c.boolean(row, "police", tt, i, False),
            "contact_name": c.string(row, "contact_name", tt, i, max_len=64),
            "contact_phone": c.string(row, "contact_phone", tt, i, max_len=32),
            "active": c.boolean(row, "active", tt, i, True), "ordinal": i + 1,
        })
    all_bodies = body_names | set(known_bodies)

    phases = []
    codes: set[str] = set()
    for i, row in enumerate(c.rows(data, "phases")):
        tt = "phases"
        c.keys(row, PHASE_KEYS, tt, i)
        code = c.string(row, "code", tt, i, max_len=32) or f"phase{i + 1}"
        if code in codes:
            c.fail(tt, i, "code", f"阶段代码“{code}”重复")
        codes.add(code)
        start, end = c.date(row, "starts_on", tt, i), c.date(row, "ends_on", tt, i)
        if start and end and start > end:
            c.fail(tt, i, "ends_on", "结束日期早于开始日期")
        if start and campaign["starts_on"] and start < campaign["starts_on"]:
            c.fail(tt, i, "starts_on", "早于专项行动开始日期")
        if end and campaign["ends_on"] and end > campaign["ends_on"]:
            c.fail(tt, i, "ends_on", "晚于专项行动结束日期")
        phases.append({"code": code, "name": c.string(row, "name", tt, i, max_len=64, required=True),
                       "starts_on": start, "ends_on": end,
                       "description": c.string(row, "description", tt, i, max_len=2000), "ordinal": i + 1})
    if not phases:
        c.fail("phases", None, None, "至少需要一个 [[phases]] 阶段")

    deadlines = []
    seen: set[tuple] = set()
    for i, row in enumerate(c.rows(data, "deadlines")):
        tt = "deadlines"
        c.keys(row, DEADLINE_KEYS, tt, i)
        body = c.string(row, "body", tt, i, max_len=64) or None
        if body and body not in all_bodies:
            c.fail(tt, i, "body", f"填报单位“{body}”不在 [[bodies]] 中")
        item = {"kind": c.string(row, "kind", tt, i, max_len=32) or "other",
                "title": c.string(row, "title", tt, i, max_len=128, required=True),
                "due_on": c.date(row, "due_on", tt, i), "body": body}
        key = (item["kind"], item["due_on"], body)
        if key in seen:
            c.fail(tt, i, "due_on", "同一类别、同一日期、同一填报单位的报送时限重复")
        seen.add(key)
        deadlines.append(item)

    if c.problems:
        raise TransferError(c.problems)
    return Parsed(campaign, options, phases, deadlines, townships, bodies)


def _line_of_key(text: str, key: str) -> int:
    for i, line in enumerate(text.splitlines(), start=1):
        if re.match(r"^\s*" + re.escape(key) + r"\s*=", line):
            return i
    return 0


# ---------------------------------------------------------------- writing to the database

def _differs(row: Any, values: dict[str, Any]) -> bool:
    return any(getattr(row, k) != v for k, v in values.items())


async def _upsert(actor: Any, table_name: str, row: Any, values: dict[str, Any]) -> bool:
    if row._exists_in_db and not _differs(row, values):
        return False
    await audit.save(actor, table_name, row, values)
    return True


async def load_text(text: str, actor: Any = ACTOR) -> dict[str, int]:
    """Check the file, then create or update everything in it in one transaction. Returns
    how many rows of each kind were written (all zero when the install already matched)."""
    known_t = {r["name"] for r in await Township.select(Township.name)}
    known_b = {r["name"] for r in await Body.select(Body.name)}
    parsed = parse(text, known_t, known_b)
    counts = {"townships": 0, "bodies": 0, "campaign": 0, "phases": 0, "deadlines": 0, "deadlines_removed": 0}
    async with atomic():
        townships = {t.name: t for t in await Township.objects()}
        for values in parsed.townships:
            row = townships.get(values["name"]) or Township()
            counts["townships"] += await _upsert(actor, "township", row, values)
            townships[values["name"]] = row
        bodies = {b.name: b for b in await Body.objects()}
        for values in parsed.bodies:
            row = bodies.get(values["name"]) or Body()
            values = {**values, "township": townships[values["township"]].id if values["township"] else None}
            counts["bodies"] += await _upsert(actor, "body", row, values)
            bodies[values["name"]] = row

        campaign = await Campaign.objects().where(Campaign.name == parsed.campaign["name"]).first()
        before_options = options_of(campaign) if campaign else {}
        options = {**before_options, **parsed.options}
        if "checklist" not in parsed.options:
            options.pop("checklist", None)
        values = {**parsed.campaign, "active": True}
        if campaign is None:
            campaign = Campaign()
        changed = _differs(campaign, values) if campaign._exists_in_db else True
        if changed or options != before_options:
            values["options"] = json.dumps(options, ensure_ascii=False)
            await audit.save(actor, "campaign", campaign, values)
            counts["campaign"] = 1
        for other in await Campaign.objects().where((Campaign.active == True) & (Campaign.id != campaign.id)):  # noqa: E712
            await audit.save(actor, "campaign", other, {"active": False})

        phases = {p.code: p for p in await Phase.objects().where(Phase.campaign == campaign.id)}
        for values in parsed.phases:
            row = phases.get(values["code"]) or Phase(campaign=campaign.id)
            counts["phases"] += await _upsert(actor, "phase", row, values)

        existing = await ReportingDeadline.objects().where(ReportingDeadline.campaign == campaign.id)
        by_key = {(d.kind, d.due_on, d.body): d for d in existing}
        kept = set()
        for values in parsed.deadlines:
            values = {**values, "body": bodies[values["body"]].id if values["body"] else None}
            key = (values["kind"], values["due_on"], values["body"])
            row = by_key.get(key) or ReportingDeadline(campaign=campaign.id)
            counts["deadlines"] += await _upsert(actor, "reporting_deadline", row, values)
            kept.add(row.id)
        for row in existing:
            if row.id not in kept:
                await ReportingDeadline.delete().where(ReportingDeadline.id == row.id)
                await audit.record("delete", "reporting_deadline", row.id, actor=actor, before=snapshot(row))
                counts["deadlines_removed"] += 1
    return counts


# ---------------------------------------------------------------- exporting

def _s(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(value, ensure_ascii=False)


def _v(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, dt.date)):
        return str(value)
    return _s(str(value))


def _table(lines: list[str], header: str, pairs: list[tuple[str, Any]]) -> None:
    lines.append("")
    lines.append(header)
    for key, value in pairs:
        if value is not None:
            lines.append(f"{key} = {_v(value)}")


async def export_text(campaign: Campaign | None = None) -> str:
    """The active campaign (or the one given), with every township and body, as TOML."""
    if campaign is None:
        campaign = await Campaign.objects().where(Campaign.active == True).order_by(  # noqa: E712
            Campaign.starts_on, ascending=False).first()
    if campaign is None:
        raise TransferError([(0, "campaign", "本系统中还没有专项行动，无可导出")])
    options = options_of(campaign)
    lines = [
        "# 专项行动设置（python -m server campaign load 本文件 / campaign export 本文件）",
        "# 日期写作 2020-12-14（不加引号）；weekly_weekday: 0 周一 … 4 周五 … 6 周日。",
        "# bodies.scope: district 全区 / sector 行业 / township 乡镇街；sector 取值: "
        + ", ".join(f"{s.value} {s.label}" for s in Sector),
        "# campaign.count_on（统计日期）: " + " / ".join(f"{k} {v}" for k, v in COUNT_ON_CHOICES.items()),
        f"format = {FORMAT_VERSION}",
    ]
    _table(lines, "[campaign]", [
        ("name", campaign.name), ("district", campaign.district), ("starts_on", campaign.starts_on),
        ("ends_on", campaign.ends_on), ("weekly_weekday", campaign.weekly_weekday),
        ("weekly_from", campaign.weekly_from), ("weekly_until", campaign.weekly_until),
        ("notice_prefix", options.get("notice_prefix") or ""), ("legal_basis", options.get("legal_basis") or ""),
        ("clue_response_days", options.get("clue_response_days", 5)),
        ("count_on", options.get("count_on") if options.get("count_on") in COUNT_ON else COUNT_ON_FOUND),
    ])
    days = options.get("rectify_days") or {}
    if days:
        _table(lines, "[campaign.rectify_days]  # 各检查项默认整改天数",
               [(str(a), int(days[str(a)])) for a in AREA_NUMBERS if str(a) in days])
    for a in AREA_NUMBERS:
        item = (options.get("checklist") or {}).get(str(a))
        if item:
            _table(lines, "[[campaign.checklist]]", [("number", a), ("title", item.get("title", "")),
                                                     ("question", item.get("question", ""))])
    for p in await Phase.objects().where(Phase.campaign == campaign.id).order_by(Phase.starts_on).order_by(Phase.id):
        _table(lines, "[[phases]]", [("code", p.code), ("name", p.name), ("starts_on", p.starts_on),
                                     ("ends_on", p.ends_on), ("description", p.description or None)])
    deadlines = await ReportingDeadline.select(ReportingDeadline.all_columns(), ReportingDeadline.body.name).where(
        ReportingDeadline.campaign == campaign.id).order_by(ReportingDeadline.due_on).order_by(ReportingDeadline.id)
    for d in deadlines:
        _table(lines, "[[deadlines]]", [("kind", d["kind"]), ("title", d["title"]), ("due_on", d["due_on"]),
                                        ("body", d["body.name"])])
    for t in await Township.objects().order_by(Township.ordinal).order_by(Township.id):
        _table(lines, "[[townships]]", [("name", t.name), ("active", None if t.active else False)])
    rows = await Body.select(Body.all_columns(), Body.township.name).order_by(Body.ordinal).order_by(Body.id)
    for b in rows:
        _table(lines, "[[bodies]]", [
            ("name", b["name"]), ("short_name", b["short_name"] or None), ("scope", b["scope"]),
            ("sector", b["sector"]), ("township", b["township.name"]), ("police", True if b["is_police"] else None),
            ("contact_name", b["contact_name"] or None), ("contact_phone", b["contact_phone"] or None),
            ("active", None if b["active"] else False)])
    return "\n".join(lines) + "\n"


def default_checklist() -> dict[str, dict[str, str]]:
    return {str(a.number): {"title": a.title, "question": a.question} for a in FOCUS_AREAS}
