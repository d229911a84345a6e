"""The ledger (台账): units, guards and findings as the office and leaders see them, and the
streamed xlsx exports with their progress page and the command line's progress bar."""

from __future__ import annotations

import datetime as dt
import io
import json

import openpyxl

from server.models.auth import User
from server.ledger import exports
from server.models.rectification import RectificationOrder
from server.models.registry import Guard
from tests.support.html import errors, soup, visible_text
from tests.test_ledger import add_finding, add_outcome, cli


def rows_of(page) -> list[str]:
    return [visible_text(tr) for tr in page.select("table.ledger tbody tr")]


async def test_units_ledger_shows_findings_and_rectification(client_factory, world):
    await add_finding(world, world.units.estate_co, world.sites.estate, 10)
    await add_finding(world, world.units.estate_co, world.sites.estate, 12, status="submitted")
    await add_outcome(world, world.units.estate_co, 21, deadline=dt.date(2021, 1, 10), status="ordered")
    c = await client_factory("leader")
    page = soup(await c.get("/ledger/units"))
    estate = page.select_one(f"tr[data-id='{world.units.estate_co.id}']")
    text = visible_text(estate)
    assert "物业服务企业" in text and "未备案" in text and "官庄镇" in text
    assert visible_text(estate.select_one("td[data-label=问题]")) == "1 / 1"
    assert visible_text(estate.select_one("td[data-label=整改情况]")) == "整改中 1，逾期 1"
    assert "0 / 0" in visible_text(page.select_one(f"tr[data-id='{world.units.secco.id}']"))
    assert visible_text(page.select_one("#ledger-total")) == "共 3 条"
    # Leaders read; only the office exports.
    assert not page.select("form.export-form")

    page = soup(await c.get("/ledger/units", params={"kind": "security_company"}))
    assert [tr["data-id"] for tr in page.select("table.ledger tbody tr")] == [str(world.units.secco.id)]
    r = await c.get("/ledger/units", params={"kind": "bank"})
    assert r.status_code == 422 and errors(r) == ["单位类别的取值无效"]


async def test_guards_ledger_masks_id_numbers_and_filters(client_factory, world):
    await Guard.update({Guard.id_number: "120225198001011234", Guard.photo_collected: True,
                        Guard.fingerprint_collected: True}).where(Guard.id == world.guards.valid.id)
    c = await client_factory("office")
    r = await c.get("/ledger/guards")
    assert "1202**********1234" in r.text and "120225198001011234" not in r.text
    assert len(rows_of(soup(r))) == 4
    page = soup(await c.get("/ledger/guards", params={"cert": "none"}))
    assert [t.split()[0] for t in rows_of(page)] == ["李强"]
    page = soup(await c.get("/ledger/guards", params={"collection": "incomplete"}))
    assert sorted(t.split()[0] for t in rows_of(page)) == ["李强", "王磊", "赵敏"]
    page = soup(await c.get("/ledger/guards", params={"q": "张"}))
    assert "✓ 照片 · ✓ 指纹" in rows_of(page)[0]
    r = await c.get("/ledger/guards", params={"cert": "fake", "township": "x"})
    assert r.status_code == 422 and set(errors(r)) == {"持证状态的取值无效", "乡镇街须为整数"}
    assert (await c.get("/ledger/nothing")).status_code == 404


async def test_findings_ledger_lists_submitted_and_confirmed_not_drafts(client_factory, world):
    await add_finding(world, world.units.school, world.sites.school, 15, quantity=2, text="两名保安员无证上岗")
    await add_finding(world, world.units.school, world.sites.school, 16, status="submitted", text="着装不规范")
    await add_finding(world, world.units.school, world.sites.school, 16, status="draft", text="草稿中的问题")
    c = await client_factory("office")
    page = soup(await c.get("/ledger/findings"))
    texts = " ".join(rows_of(page))
    assert "两名保安员无证上岗" in texts and "着装不规范" in texts and "草稿中的问题" not in texts
    page = soup(await c.get("/ledger/findings", params={"status": "confirmed"}))
    assert len(rows_of(page)) == 1 and "2人" in rows_of(page)[0] and "15. 雇佣不符合规定人员从事保安服务" in rows_of(page)[0]
    r = await c.get("/ledger/findings", params={"column": "3"})
    assert r.status_code == 422 and errors(r) == ["统计栏目须在 8–16 之间"]


async def test_an_export_streams_with_progress_and_downloads(client_factory, app, world):
    await Guard.update({Guard.id_number: "120225198001011234"}).where(Guard.id == world.guards.valid.id)
    c = await client_factory("office")
    page = soup(await c.get("/ledger/guards", params={"cert": "valid"}))
    form = page.select_one("form.export-form")
    data = {i["name"]: i["value"] for i in form.select("input[type=hidden]")}
    assert data["kind"] == "guards" and data["cert"] == "valid"
    r = await c.post("/ledger/exports", data=data)
    assert r.status_code == 303
    job_url = r.headers["location"]
    await exports.wait_all()
    r = await c.get(f"{job_url}/progress", headers={"HX-Request": "true"})
    fragment = soup(r).select_one("#export-progress")
    assert fragment["data-state"] == "done" and not fragment.has_attr("hx-get")
    assert "导出完成，共 2 条" in visible_text(fragment)
    link = fragment.select_one("a[download]")
    r = await c.get(link["href"])
    assert r.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(r.content))["保安员台账"]
    assert ws["A1"].value.startswith("蓟州区保安服务市场清理整顿专项行动 · 保安员台账")
    assert [ws.cell(2, i).value for i in (1, 2, 5)] == ["姓名", "身份证号", "持证状态"]
    people = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(3, ws.max_row + 1)}
    assert people == {"张伟": "120225198001011234", "赵敏": None}  # the office's export holds the full number
    assert ws.freeze_panes == "A3"

    # Someone else's export is not theirs to see.
    other = User(username="office2", password_hash=(await User.objects().get(User.username == "office")).password_hash,
                 role="office", body=world.bodies.police.id, display_name="另一位")
    await other.save()
    c2 = await client_factory("office2")
    assert (await c2.get(job_url)).status_code == 404
    assert (await c2.get(f"{job_url}/file")).status_code == 404
    assert (await c.get("/ledger/exports/not-a-job")).status_code == 404


async def test_the_progress_fragment_polls_while_running_and_reports_a_broken_job(client_factory, app, world):
    c = await client_factory("office")
    office = await User.objects().get(User.username == "office")
    store = app.state.store
    job = "5b0e8d4e-5f0c-4a53-9a43-0f4d8a1b2c3d"
    status = {"job": job, "kind": "guards", "label": "保安员台账", "user_id": office.id, "state": "running",
              "done": 300, "total": 1000, "filename": "x.xlsx", "message": "",
              "updated_at": dt.datetime.now(dt.timezone.utc).isoformat()}
    await store.put(exports.status_key(job), json.dumps(status).encode(), "application/json")
    r = await c.get(f"/ledger/exports/{job}/progress", headers={"HX-Request": "true"})
    fragment = soup(r).select_one("#export-progress")
    assert fragment["hx-get"] == f"/ledger/exports/{job}/progress" and "load delay:1s" in fragment["hx-trigger"]
    assert "正在导出：已写入 300 / 1000 条" in visible_text(fragment)
    assert fragment.select_one("progress")["value"] == "30"
    # Without JavaScript the whole page is served, with a link to refresh.
    page = soup(await c.get(f"/ledger/exports/{job}"))
    assert page.select_one("noscript") and page.select_one("h1").get_text() == "导出保安员台账"
    # A job whose process stopped updating it is reported as broken off.
    status["updated_at"] = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=30)).isoformat()
    await store.put(exports.status_key(job), json.dumps(status).encode(), "application/json")
    r = await c.get(f"/ledger/exports/{job}/progress", headers={"HX-Request": "true"})
    assert errors(r) == ["导出已中断，请重新导出"]
    assert (await c.get(f"/ledger/exports/{job}/file")).status_code == 404


async def test_leaders_and_liaisons_cannot_export(client_factory, world):
    for username in ("leader", "liaison_edu", "officer"):
        c = await client_factory(username)
        r = await c.post("/ledger/exports", data={"kind": "guards"})
        assert r.status_code == 403, username
    c = await client_factory("liaison_edu")
    assert (await c.get("/ledger/units")).status_code == 403


async def test_cli_export_with_a_progress_bar(service_env, world, tmp_path):
    await add_finding(world, world.units.estate_co, world.sites.estate, 10, text="物业公司未备案")
    out = tmp_path / "units.xlsx"
    done = cli(service_env, "ledger", "export", "units", "--xlsx", str(out))
    assert done.returncode == 0, done.stderr
    assert "单位台账" in done.stderr and "wrote" in done.stdout and "(3 rows)" in done.stdout
    ws = openpyxl.load_workbook(out)["单位台账"]
    names = [ws.cell(r, 1).value for r in range(3, ws.max_row + 1)]
    assert sorted(names) == sorted(["蓟州区安泰保安服务有限公司", "蓟州区第一中学", "蓟州区绿园物业服务有限公司"])
    out = tmp_path / "findings.xlsx"
    done = cli(service_env, "ledger", "export", "findings", "--body", "区教育局", "--xlsx", str(out))
    assert done.returncode == 0 and "(0 rows)" in done.stdout
    done = cli(service_env, "ledger", "export", "findings", "--body", "官庄镇", "--xlsx", str(out))
    assert done.returncode == 0 and "(1 rows)" in done.stdout
    ws = openpyxl.load_workbook(out)["问题台账"]
    assert ws.cell(3, 9).value == "物业公司未备案"


async def test_findings_export_shows_local_days_labels_and_orders(service_env, world, tmp_path):
    # Reviewed at 20:00 UTC: the next day in Beijing, the day the sheet shows.
    evening = dt.datetime(2021, 1, 5, 20, 0, tzinfo=dt.timezone.utc)
    confirmed = await add_finding(world, world.units.estate_co, world.sites.estate, 10, quantity=2,
                                  reviewed_at=evening, text="物业公司未备案")
    await add_outcome(world, world.units.estate_co, 21, deadline=dt.date(2021, 1, 20), status="ordered",
                      answers=confirmed)
    pending = await add_finding(world, world.units.estate_co, world.sites.estate, 9, status="submitted",
                                text="  <挂靠>&劳务派遣 ")
    out = tmp_path / "findings.xlsx"
    done = cli(service_env, "ledger", "export", "findings", "--xlsx", str(out))
    assert done.returncode == 0 and "(2 rows)" in done.stdout, done.stderr
    ws = openpyxl.load_workbook(out)["问题台账"]
    order = await RectificationOrder.select(RectificationOrder.number).first()
    rows = [[ws.cell(r, c).value for c in range(1, 16)] for r in (3, 4)]
    assert rows[0] == [confirmed.id, dt.datetime(2021, 1, 6), "蓟州区绿园物业服务有限公司", "官庄镇",
                       "5. 未依法备案", "10. 自招保安员单位未备案", 2, "起", "物业公司未备案", "已确认",
                       dt.datetime(2021, 1, 6), "王警官", order["number"], "限期整改中", dt.datetime(2021, 1, 20)]
    today = dt.datetime.combine(dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date(), dt.time())
    assert rows[1] == [pending.id, today, "蓟州区绿园物业服务有限公司", "官庄镇", "4. 无证经营与变相经营",
                       "9. 挂靠、承包、委托加盟劳务派遣", 1, "起", "  <挂靠>&劳务派遣 ", "待审核",
                       None, "王警官", None, None, None]
    assert ws.cell(3, 2).number_format == "yyyy-mm-dd" and ws.cell(3, 15).number_format == "yyyy-mm-dd"
