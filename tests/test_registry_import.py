"""Roster import from Excel: a messy workbook imports exactly its valid rows and reports every
invalid one (sheet, row, column, reason); re-imports update; the command's exit status; the
office's upload → preview → confirm."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys
from pathlib import Path

from openpyxl import Workbook, load_workbook

from server.registry import import_jobs, roster_import
from server.registry.ids import id_check_digit, uscc_check_char
from server.models.registry import Guard, Unit
from tests.support.html import errors, soup, visible_text

ROOT = Path(__file__).resolve().parents[1]


def uscc(body: str) -> str:
    return body + uscc_check_char(body)


def idn(body: str) -> str:
    return body + id_check_digit(body)


U_NEW = uscc("91120225MA05TQ8R3")
U_BAD = U_NEW[:17] + ("0" if U_NEW[17] != "0" else "1")
U_TOWN = uscc("91120225MA06XY1P2")
ID1, ID2, ID7 = idn("12022519850312003"), idn("12022519900101002"), idn("12022519780808001")
ID_BAD = ID1[:17] + ("0" if ID1[17] != "0" else "1")


def messy_workbook() -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "单位名单"
    ws.append(["2020年蓟州区保安单位名册（第一批）"])  # a title above the header
    ws.append(["单位全称", " 统一社会信用代码（必填）", "单位类别", "所属乡镇", "许可证编号", "备案日期"])
    ws.append(["蓟州区盛安保安服务有限公司", U_NEW, "保安公司", "渔阳镇", "津公保服许字[2020]009号", None])  # row 3 ok
    ws.append(["坏代码公司", U_BAD, "使用保安单位", "渔阳镇", None, None])                                # row 4 bad USCC
    ws.append([None, None, None, None, None, None])                                                       # row 5 blank
    ws.append(["外乡镇公司", U_TOWN, "自招保安单位", "火星镇", None, None])                               # row 6 township
    ws.append(["盛安重复", U_NEW, "保安服务公司", "渔阳镇", "x", None])                                   # row 7 duplicate
    gs = wb.create_sheet("花名册")
    gs.append(["姓　名", "公民身份号码", "所属单位统一社会信用代码", "所属单位", "保安员证编号",
                "发证日期", "是否采集指纹", "照片采集", "备注"])
    gs.append(["周一", ID1, U_NEW, None, "津保120200000101", dt.datetime(2020, 6, 1), "是", "√", ""])   # 2 ok, new unit
    gs.append(["吴二", ID2, None, "蓟州区安泰保安服务有限公司", None, None, "否", "否", ""])            # 3 ok, unit by name
    gs.append(["郑三", ID_BAD, U_NEW, None, None, None, None, None, ""])                                # 4 bad ID
    gs.append(["王四", idn("12022519910202004"), U_BAD, None, None, None, None, None, ""])              # 5 unit rejected
    gs.append(["冯五", idn("12022519920303005"), U_NEW, None, None, "2020-02-30", None, None, ""])      # 6 bad date
    gs.append(["周一", ID1, U_NEW, None, None, None, None, None, "又录了一遍"])                          # 7 duplicate
    gs.append(["张伟", ID7, None, "蓟州区安泰保安服务有限公司", "津保１２０２０００００００１", "2019年3月5日", "已采集", "是", ""])  # 8 update
    gs.append(["陈八", idn("12022519930404006"), U_NEW, None, None, None, "也许", None, ""])             # 9 bad flag
    gs.append([None, idn("12022519940505007"), U_NEW, None, None, None, None, None, ""])                # 10 no name
    gs.append(["褚十", idn("12022519960707009"), U_TOWN, None, None, None, None, None, ""])             # 11 unit row rejected
    notes = wb.create_sheet("说明")
    notes.append(["本表由各单位填报"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# Columns are reported by the header as written (after folding full-width characters).
EXPECTED_PROBLEMS = {
    ("单位名单", 4, "统一社会信用代码(必填)"), ("单位名单", 6, "所属乡镇"), ("单位名单", 7, "统一社会信用代码"),
    ("花名册", 4, "公民身份号码"), ("花名册", 5, "所属单位统一社会信用代码"), ("花名册", 6, "发证日期"),
    ("花名册", 7, "身份证号"), ("花名册", 9, "是否采集指纹"), ("花名册", 10, "姓 名"), ("花名册", 11, "所属单位"),
}


def _problem_keys(problems) -> set[tuple[str, int, str]]:
    return {(p.sheet, p.row, p.column) for p in problems}


async def test_messy_workbook_imports_exactly_its_valid_rows(world):
    report = await roster_import.run(messy_workbook(), "tester", write=False)
    assert report.sheets == [("单位名单", "units"), ("花名册", "guards"), ("说明", "ignored")]
    assert report.rows_read == 14  # the blank row is not a row
    assert _problem_keys(report.problems) == EXPECTED_PROBLEMS
    rejected = sorted(report.rejected)
    assert rejected == [("单位名单", 4), ("单位名单", 6), ("单位名单", 7), ("花名册", 4), ("花名册", 5),
                        ("花名册", 6), ("花名册", 7), ("花名册", 9), ("花名册", 10), ("花名册", 11)]
    reasons = {(p.sheet, p.row): p.reason for p in report.problems}
    assert "校验位不正确（GB 32100）" in reasons[("单位名单", 4)]
    assert "火星镇" in reasons[("单位名单", 6)]
    assert "与单位名单第 3 行的统一社会信用代码重复" == reasons[("单位名单", 7)]
    assert "校验位不正确（GB 11643）" in reasons[("花名册", 4)]
    assert "校验位不正确（GB 32100）" in reasons[("花名册", 5)]  # the employer's code itself
    assert "发证日期不是有效日期" in reasons[("花名册", 6)]
    assert "与花名册第 2 行的身份证号重复" == reasons[("花名册", 7)]
    assert "“也许”不是 是/否" == reasons[("花名册", 9)]
    assert reasons[("花名册", 10)] == "请填写姓名"
    assert reasons[("花名册", 11)] == "所属单位在单位名单第 6 行有错误，未导入"
    assert report.counts() == {"rows": 14, "rejected": 10, "units_new": 1, "units_updated": 0,
                               "guards_new": 2, "guards_updated": 1}
    # A dry run writes nothing.
    assert await Unit.count() == 3 and await Guard.count() == 4

    report = await roster_import.run(messy_workbook(), "tester", write=True)
    assert report.committed
    unit = await Unit.objects().where(Unit.uscc == U_NEW).first()
    assert unit.kind == "security_company" and unit.township == world.townships.yuyang.id
    zhou = await Guard.objects().where(Guard.id_number == ID1).first()
    assert (zhou.employer, str(zhou.certificate_issued_on), zhou.fingerprint_collected, zhou.photo_collected,
            zhou.certificate_status, zhou.gender) == (unit.id, "2020-06-01", True, True, "valid", "男")
    wu = await Guard.objects().where(Guard.id_number == ID2).first()
    assert wu.employer == world.units.secco.id and wu.certificate_status == "none"
    zhang = await Guard.objects().where(Guard.id == world.guards.valid.id).first()  # matched on certificate number
    assert (zhang.id_number, str(zhang.certificate_issued_on), zhang.fingerprint_collected) == (ID7, "2019-03-05", True)
    assert await Unit.count() == 4 and await Guard.count() == 6

    # Importing the same file again updates and never duplicates.
    again = await roster_import.run(messy_workbook(), "tester", write=True)
    assert again.counts()["units_updated"] == 1 and again.counts()["guards_updated"] == 3
    assert again.counts()["units_new"] == again.counts()["guards_new"] == 0
    assert await Unit.count() == 4 and await Guard.count() == 6


async def test_a_guard_number_belonging_to_someone_else_is_rejected(world):
    await Guard.update({Guard.id_number: ID2}).where(Guard.id == world.guards.estate.id)
    wb = Workbook()
    ws = wb.active
    ws.append(["姓名", "身份证号", "单位名称", "保安员证号"])
    ws.append(["假赵敏", ID1, "蓟州区绿园物业服务有限公司", "津保120200000004"])
    out = io.BytesIO()
    wb.save(out)
    report = await roster_import.run(out.getvalue(), write=True)
    assert [(p.row, p.column) for p in report.problems] == [(2, "保安员证号")]
    assert "另一名保安员" in report.problems[0].reason
    assert await Guard.count() == 4


def test_template_round_trips_through_the_parser():
    data = roster_import.template_bytes()
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["单位", "保安员", "填写说明"]
    assert wb["保安员"]["B1"].value == "身份证号*"
    report = roster_import.parse(data, {"渔阳镇": 1})
    assert report.sheets == [("单位", "units"), ("保安员", "guards"), ("填写说明", "ignored")]
    assert report.rows_read == 0 and report.ok


def test_headers_are_matched_tolerantly():
    for raw in ("身份证号码", " 身份证号 ", "＊身份证号（必填）", "公民身份号码", "身份证号:"):
        assert roster_import._GUARD_LOOKUP[roster_import.norm_header(raw)] == "id_number"
    assert roster_import._UNIT_LOOKUP[roster_import.norm_header("统一社会信用代码【18位】")] == "uscc"


def _cli(service_env, *args):
    return subprocess.run([sys.executable, "-m", "server", "registry", "import", *args], cwd=ROOT,
                          env=service_env, capture_output=True, text=True, timeout=120)


async def test_command_exit_status_and_report(world, service_env, tmp_path):
    messy = tmp_path / "名册.xlsx"
    messy.write_bytes(messy_workbook())
    done = _cli(service_env, str(messy))
    assert done.returncode == 1, done.stderr
    lines = done.stdout.strip().splitlines()
    assert "花名册\t第9行\t是否采集指纹\t“也许”不是 是/否" in lines
    assert len([ln for ln in lines if ln.startswith(("单位名单\t", "花名册\t"))]) == 10
    assert "试运行" in lines[-1]
    assert await Guard.count() == 4

    done = _cli(service_env, str(messy), "--commit")
    assert done.returncode == 1 and "已写入" in done.stdout
    assert await Guard.count() == 6

    clean = tmp_path / "clean.xlsx"
    wb = Workbook()
    wb.active.append(["姓名", "身份证号", "所属单位统一社会信用代码"])
    wb.active.append(["钱九", idn("12022519950606008"), U_NEW])
    wb.save(clean)
    done = _cli(service_env, str(clean), "--commit")
    assert done.returncode == 0, done.stdout + done.stderr
    assert await Guard.count() == 7

    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 this is not really a workbook")
    done = _cli(service_env, str(broken))
    assert done.returncode == 2 and "不是有效的 Excel 工作簿" in done.stderr
    assert _cli(service_env, str(tmp_path / "missing.xlsx")).returncode == 2


async def test_office_uploads_previews_and_confirms(client_factory, app, world):
    office = await client_factory("office")
    page = soup(await office.get("/registry/import"))
    assert page.select_one("a[href='/registry/import/template.xlsx']") is not None
    r = await office.get("/registry/import/template.xlsx")
    assert r.status_code == 200 and r.content[:2] == b"PK"

    r = await office.post("/registry/import", files={"file": ("名册.xlsx", messy_workbook(), "application/octet-stream")})
    assert r.status_code == 303
    await import_jobs.wait_all()
    r = await office.get(r.headers["location"])
    assert r.status_code == 200
    report = soup(r).select_one("#import-report")
    text = visible_text(report)
    assert "读取数据行 14" in text and "有错误、将不导入的行 10" in text
    problems = [[visible_text(td) for td in tr.select("td")] for tr in report.select("table.problems tbody tr")]
    assert ["花名册", "10", "姓 名", "请填写姓名"] in problems and len(problems) == 10
    assert await Guard.count() == 4  # nothing written yet
    button = report.select_one("form button")
    assert visible_text(button) == "确认导入 4 行有效数据"
    action = report.select_one("form")["action"]
    r = await office.post(action)
    assert r.status_code == 200 and "导入完成" in visible_text(soup(r).select_one("#import-report"))
    assert await Guard.count() == 6
    assert (await office.post(action)).status_code == 409  # the upload is gone once used

    r = await office.post("/registry/import", files={"file": ("x.xlsx", b"hello", "application/octet-stream")})
    assert r.status_code == 422 and "不是有效的 Excel 工作簿" in " ".join(errors(r))
    r = await office.post("/registry/import", data={"x": "1"})
    assert r.status_code == 422 and "请选择要导入的 Excel 文件" in " ".join(errors(r))


def big_workbook(guards: int) -> bytes:
    """Two units (one a security company without a permit: flagged) and `guards` guards, every
    1000th without a name (rejected)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "单位"
    ws.append(["单位名称", "统一社会信用代码", "单位类型", "乡镇街", "保安服务许可证号"])
    ws.append(["蓟州区大批保安服务有限公司", U_NEW, "保安服务公司", "渔阳镇", None])
    ws.append(["蓟州区大批物业公司", U_TOWN, "物业公司", "渔阳镇", None])
    gs = wb.create_sheet("保安员")
    gs.append(["姓名", "身份证号", "所属单位统一社会信用代码"])
    born = dt.date(1960, 1, 1)
    for i in range(guards):
        body = f"120225{(born + dt.timedelta(days=i)):%Y%m%d}{i % 7 + 1:03d}"
        gs.append([None if i % 1000 == 999 else f"保安{i}", idn(body), U_NEW if i % 2 else U_TOWN])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


async def test_a_large_roster_shows_its_progress_then_the_report_and_imports_once(client_factory, world, monkeypatch):
    import asyncio
    import threading

    monkeypatch.setattr(import_jobs, "HEARTBEAT", 0.02)
    monkeypatch.setattr(roster_import, "PROGRESS_EVERY", 500)
    seen, release = threading.Event(), threading.Event()
    parse = roster_import.parse

    def held_parse(data, townships, on_progress=None):
        if on_progress is None:  # the confirmation's own run
            return parse(data, townships)

        def progress(sheet, done, total):
            on_progress(sheet, done, total)
            if sheet == "保安员" and done == 1500:  # hold the check half-way until the page has shown it
                seen.set()
                release.wait(timeout=20)
        return parse(data, townships, progress)

    monkeypatch.setattr(roster_import, "parse", held_parse)
    guards_before = await Guard.count()
    office = await client_factory("office")
    r = await office.post("/registry/import", files={"file": ("大名册.xlsx", big_workbook(3000), "application/octet-stream")})
    assert r.status_code == 303
    url = r.headers["location"]
    page = soup(await office.get(url))  # answered at once: the progress, not the report
    assert page.select_one("#import-report") is None
    fragment = page.select_one("#import-progress")
    assert fragment["data-state"] == "running" and fragment["hx-get"] == f"{url}/progress"
    assert "hx-trigger" in fragment.attrs
    assert page.select_one("noscript") is not None and "刷新" in page.select_one("noscript").decode()

    texts = []
    for _ in range(400):
        r = await office.get(f"{url}/progress", headers={"HX-Request": "true"})
        assert r.status_code == 200
        html = soup(r)
        if html.select_one("#import-report") is not None:  # the finished check answers with its report
            assert html.select_one("#import-report form[action$='/commit'] input[name=_csrf_token]") is not None
            break
        texts.append(visible_text(html.select_one("#import-progress")))
        if seen.is_set() and "已检查 1500 / 3000 行" in texts[-1]:
            assert "工作表“单位”：已检查 2 / 2 行" in texts[-1]
            release.set()
        await asyncio.sleep(0.02)
    release.set()
    assert any("工作表“保安员”：已检查 1500 / 3000 行" in t for t in texts), texts[-3:]
    await import_jobs.wait_all()
    assert await Guard.count() == guards_before  # nothing written by the check

    # Without htmx the same URL answers the whole page with the report.
    report = soup(await office.get(url)).select_one("#import-report")
    text = visible_text(report)
    assert "读取数据行 3002" in text and "有错误、将不导入的行 3" in text
    assert "单位：新增 2" in text and "保安员：新增 2997" in text
    assert roster_import.UNLICENSED in visible_text(report.select_one("table.flagged"))
    r = await office.get(report.select_one("a[href$='/rejected.xlsx']")["href"])
    ws = load_workbook(io.BytesIO(r.content))["保安员"]
    assert r.status_code == 200 and [ws.cell(row, 1).value for row in range(2, ws.max_row + 1)] == [None] * 3
    action = report.select_one("form")["action"]
    assert visible_text(report.select_one("form button")) == "确认导入 2999 行有效数据"
    r = await office.post(action)
    assert r.status_code == 200 and "导入完成" in visible_text(soup(r).select_one("#import-report"))
    assert await Guard.count() == guards_before + 2997
    assert (await office.post(action)).status_code == 409  # a retried confirmation imports nothing
    assert await Guard.count() == guards_before + 2997
    assert (await office.get(url)).status_code == 404  # the check is gone with its file


async def test_an_unreadable_upload_gets_its_message(client_factory, world, app):
    office = await client_factory("office")
    r = await office.post("/registry/import", files={"file": ("x.xlsx", b"", "application/octet-stream")})
    assert r.status_code == 422 and errors(r) == ["文件为空"]
    # Looks like a workbook, is not one: the check itself says so.
    r = await office.post("/registry/import", files={"file": ("y.xlsx", b"PK\x03\x04 broken", "application/octet-stream")})
    assert r.status_code == 303
    url = r.headers["location"]
    await import_jobs.wait_all()
    r = await office.get(url)
    assert r.status_code == 200 and "不是有效的 Excel 工作簿" in " ".join(errors(r))
    assert soup(r).select_one("#import-report") is None and soup(r).select_one("form[action$='/commit']") is None
    fragment = soup(await office.get(f"{url}/progress", headers={"HX-Request": "true"})).select_one("#import-progress")
    assert fragment["data-state"] == "failed" and not fragment.has_attr("hx-get")
    assert "不是有效的 Excel 工作簿" in visible_text(fragment)
    key = url.rsplit("/", 1)[1]
    assert not await app.state.store.exists(import_jobs.file_key(key))  # nothing left to confirm
    # Someone else's check is not theirs to see.
    from server.models.auth import User

    other = User(username="office2", password_hash=(await User.objects().get(User.username == "office")).password_hash,
                 role="office", body=world.bodies.police.id, display_name="另一位")
    await other.save()
    assert (await (await client_factory("office2")).get(url)).status_code == 404
