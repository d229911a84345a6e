"""Onboarding real rosters: a hand-typed workbook is accepted where a person would accept it
(placeholders for "nothing", units the workbook itself defines, security companies without a
permit imported and flagged) and refused where the data cannot be right; .xls as well as .xlsx;
sheets bounded; the rejected rows downloadable with their reasons. And a fresh install: migrate,
load the Jizhou campaign file, import a roster, with no demo data at all."""

from __future__ import annotations

import io
import time
from pathlib import Path

import xlwt
from openpyxl import Workbook, load_workbook

from server.models.campaign import Township
from server.models.registry import Guard, Unit
from server.registry import import_jobs, roster_import
from server.registry.ids import id_check_digit, uscc_check_char
from tests.support.html import soup, visible_text
from tests.test_health_and_cli import cli

ROOT = Path(__file__).resolve().parents[1]


def uscc(body: str) -> str:
    return body + uscc_check_char(body)


def idn(body: str) -> str:
    return body + id_check_digit(body)


ANTAI = "蓟州区安泰保安服务有限公司"  # the world's registry already holds one of this name (渔阳镇, no USCC)
U_ANTAI = uscc("91120225MA07AT1A1")
U_HEIMAO = uscc("91120225MA07HM2B2")
U_SHOP = uscc("91120225MA07DP3C3")
U_WRONG = U_SHOP[:17] + ("0" if U_SHOP[17] != "0" else "1")
G1, G2, G3, G4, G5 = (idn(f"1202251988010{i}00{i}") for i in range(1, 6))

UNIT_HEADER = ["单位名称", "统一社会信用代码", "单位类型", "所属乡镇", "地址", "保安服务许可证号", "备案编号",
               "法定代表人", "联系电话"]
UNIT_ROWS = [
    # 2: a second 安泰 — this workbook's, in 官庄镇, with its permit; dashes and slashes are "nothing"
    [ANTAI, U_ANTAI, "保安服务公司", "官庄镇", "/", "津公保服许字[2020]017号", "——", "-", "N/A"],
    # 3: a security company with no permit: imported and flagged
    ["蓟州区黑猫安保服务有限公司", U_HEIMAO, "保安公司", "渔阳镇", "渔阳镇某街1号", "无", "空", "", "—"],
    # 4: a check character that cannot be right: refused
    ["蓟州区某商店", U_WRONG, "使用保安单位", "渔阳镇", None, None, None, None, None],
]
GUARD_HEADER = ["姓名", "身份证号", "所属单位", "保安员证号", "持证状态", "发证日期", "照片采集", "联系电话",
                "入职日期"]
GUARD_ROWS = [
    ["钱一", G1, ANTAI, "津保120200000201", "有效", "2020-05-06", "是", "13800000001", "2020-06-01"],  # 2
    ["孙二", G2, ANTAI, "——", "无", "/", "-", "空", "N/A"],                                             # 3 no card
    ["李三", G3, "蓟州区黑猫安保服务有限公司", "/", "无", None, "否", None, None],                       # 4
    ["周四", G4, ANTAI, "津保120200000204", "有效", "2021-02-30", "是", None, None],                     # 5 impossible date
    ["——", G5, ANTAI, None, None, None, None, None, None],                                               # 6 no name
]


def messy_xlsx() -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "单位"
    ws.append(UNIT_HEADER)
    for row in UNIT_ROWS:
        ws.append(row)
    gs = wb.create_sheet("保安员")
    gs.append(GUARD_HEADER)
    for row in GUARD_ROWS:
        gs.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def messy_xls() -> bytes:
    book = xlwt.Workbook(encoding="utf-8")
    for title, header, rows in (("单位", UNIT_HEADER, UNIT_ROWS), ("保安员", GUARD_HEADER, GUARD_ROWS)):
        sheet = book.add_sheet(title)
        for r, row in enumerate([header, *rows]):
            for c, value in enumerate(row):
                if value is not None:
                    sheet.write(r, c, value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


EXPECTED = [("单位", 4, "统一社会信用代码", "校验位不正确"), ("保安员", 5, "发证日期", "不是有效日期"),
            ("保安员", 6, "姓名", "请填写姓名")]


def _problems(report) -> list[tuple]:
    return sorted((p.sheet, p.row, p.column, p.reason) for p in report.problems)


async def _check_messy(data: bytes, world) -> None:
    report = await roster_import.run(data, "tester", write=False)
    problems = _problems(report)
    assert [(s, r, c) for s, r, c, _ in problems] == [e[:3] for e in sorted(EXPECTED)]
    for (_, _, _, reason), (_, _, _, part) in zip(problems, sorted(EXPECTED)):
        assert part in reason
    assert [(w.sheet, w.row, w.column) for w in report.flagged()] == [("单位", 3, "保安服务许可证号")]
    assert report.counts() == {"rows": 8, "rejected": 3, "units_new": 2, "units_updated": 0,
                               "guards_new": 3, "guards_updated": 0}

    await roster_import.run(data, "tester", write=True)
    antai = await Unit.objects().where(Unit.uscc == U_ANTAI).first()
    guanzhuang = world.townships.guanzhuang.id
    assert (antai.township, antai.address, antai.filing_no, antai.legal_rep, antai.contact_phone) == (
        guanzhuang, "", "", "", "")
    heimao = await Unit.objects().where(Unit.uscc == U_HEIMAO).first()
    assert heimao.kind == "security_company" and heimao.licence_no == "" and "疑似无证经营" in heimao.notes
    qian = await Guard.objects().where(Guard.id_number == G1).first()
    sun = await Guard.objects().where(Guard.id_number == G2).first()
    li = await Guard.objects().where(Guard.id_number == G3).first()
    # the workbook's own 安泰, not the registry's one of the same name
    assert qian.employer == sun.employer == antai.id != world.units.secco.id
    assert (sun.certificate_no, sun.certificate_status, sun.photo_collected, sun.phone, sun.hired_on) == (
        None, "none", False, "", None)
    assert (li.employer, li.certificate_status) == (heimao.id, "none")
    assert await Guard.count().where(Guard.id_number.is_in([G4, G5])) == 0


async def test_messy_xlsx_accepts_what_a_person_would(world):
    await _check_messy(messy_xlsx(), world)


async def test_the_same_roster_as_xls(world):
    data = messy_xls()
    assert data[:8] == roster_import.XLS_MAGIC
    await _check_messy(data, world)


def _bomb() -> bytes:
    wb = Workbook()
    wb.active.append(["姓名", "身份证号"])
    wb.active.cell(row=1_048_576, column=1, value="x")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


async def test_office_sees_flags_downloads_rejected_rows_and_huge_sheets_are_refused(client_factory, world):
    office = await client_factory("office")
    page = soup(await office.get("/registry/import"))
    assert ".xls" in page.select_one("input[type=file]")["accept"].split(",")

    data = _bomb()
    assert len(data) < 8000
    started = time.monotonic()
    r = await office.post("/registry/import", files={"file": ("big.xlsx", data, "application/octet-stream")})
    assert r.status_code == 303  # checked in the background: the page shows how it went
    await import_jobs.wait_all()
    assert time.monotonic() - started < 5
    r = await office.get(r.headers["location"])
    assert "有 1048576 行，超过每表 30000 行的上限" in visible_text(soup(r))
    assert soup(r).select_one("form[action$='/commit']") is None

    r = await office.post("/registry/import", files={"file": ("名册.xls", messy_xls(), "application/vnd.ms-excel")})
    assert r.status_code == 303
    await import_jobs.wait_all()
    r = await office.get(r.headers["location"])
    assert r.status_code == 200
    page = soup(r)
    flagged = page.select("table.flagged tbody tr")
    assert [visible_text(tr) for tr in flagged] == [
        "单位 3 保安服务许可证号 " + roster_import.UNLICENSED]
    link = page.select_one("a[href$='/rejected.xlsx']")
    download = await office.get(link["href"])
    assert download.status_code == 200
    wb = load_workbook(io.BytesIO(download.content))
    assert wb.sheetnames == ["单位", "保安员"]
    rows = [list(r) for r in wb["保安员"].iter_rows(values_only=True)]
    assert rows[0][-2:] == ["原行号", "错误原因"] and rows[0][:2] == ["姓名", "身份证号"]
    assert [(r[0], r[-2]) for r in rows[1:]] == [("周四", 5), ("——", 6)]  # as typed, to fix and resend
    assert "发证日期" in rows[1][-1] and rows[2][-1] == "姓名：请填写姓名"
    assert [r[1] for r in wb["单位"].iter_rows(min_row=2, values_only=True)] == [U_WRONG]

    confirm = page.select_one("form[action$='/commit']")
    r = await office.post(confirm["action"])
    assert r.status_code == 200 and "导入完成" in visible_text(soup(r))
    after = soup(r).select_one("a[href$='/rejected.xlsx']")
    again = await office.get(after["href"])  # still there after the file waiting for confirmation is gone
    assert again.status_code == 200
    kept = load_workbook(io.BytesIO(again.content))
    assert [list(r) for r in kept["保安员"].iter_rows(values_only=True)] == rows
    assert await Guard.count().where(Guard.id_number.is_in([G1, G2, G3])) == 3


async def test_a_fresh_install_loads_the_campaign_file_and_imports_a_roster(service_env, client_factory, tmp_path):
    """No demo data at all: the database is migrated and empty."""
    assert await Township.count() == 0
    assert cli(service_env, "db", "migrate").returncode == 0
    done = cli(service_env, "campaign", "load", str(ROOT / "deploy" / "jizhou-2020.toml"))
    assert done.returncode == 0, done.stderr
    done = cli(service_env, "users", "create", "--username", "admin",
               "--role", "office", "--body", "公安蓟州分局", input="first-office-1\n")
    assert done.returncode == 0, done.stderr

    roster = tmp_path / "roster.xlsx"
    wb = Workbook()
    wb.active.title = "单位"
    wb.active.append(UNIT_HEADER)
    wb.active.append(["蓟州区下营长城保安服务有限公司", U_ANTAI, "保安服务公司", "下营镇", "-", "津公保服许字[2020]021号",
                      None, "赵某", "022-29881234"])
    wb.active.append(["蓟州区孙各庄物业服务有限公司", U_SHOP, "物业服务企业", "孙各庄满族乡", None, None, None, None, None])
    gs = wb.create_sheet("保安员")
    gs.append(GUARD_HEADER)
    gs.append(["钱一", G1, "蓟州区下营长城保安服务有限公司", "津保120200000201", "有效", "2020-05-06", "是", None, None])
    gs.append(["孙二", G2, "蓟州区孙各庄物业服务有限公司", "/", "无", None, None, None, None])
    wb.save(roster)
    done = cli(service_env, "registry", "import", str(roster), "--commit")
    assert done.returncode == 0, done.stdout + done.stderr

    office = await client_factory("admin", "first-office-1")
    units = visible_text(soup(await office.get("/registry/units")))
    assert "蓟州区下营长城保安服务有限公司" in units and "孙各庄满族乡" in units
    campaign = visible_text(soup(await office.get("/campaign")))
    assert "蓟州区保安服务市场清理整顿专项行动 · 2020-12-14 至 2021-02-05" in campaign
    stats = soup(await office.get("/stats?as_of=2021-01-15"))
    text = visible_text(stats)
    assert "下营镇" in text and "区教育局" in text
