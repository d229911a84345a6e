"""The office opens any record's history; `audit verify` names the first bad entry."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from server.audit import service as audit
from server.models.audit import AuditEntry
from tests.support.html import errors, soup, visible_text
from tests.test_review import decide, submitted_inspection

ROOT = Path(__file__).resolve().parents[1]


def cli(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "server", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


async def test_office_opens_an_inspections_history(client_factory, world):
    officer = await client_factory("officer")
    s = await submitted_inspection(officer, world.sites.school.id)
    office = await client_factory("office")
    await decide(office, s.key, "findings", s.filing.id, "send_back", "请补充备案情况")

    page = soup(await office.get(f"/office/inspections/{s.key}"))
    link = page.select_one(".review-head").find("a", string="变更记录")
    assert link["href"] == f"/audit/inspection/{s.insp.id}"
    page = soup(await office.get(link["href"]))
    assert page.h1.get_text(strip=True) == f"检查 {s.insp.id} 的变更记录"
    entries = [visible_text(li) for li in page.select("ol.history > li")]
    assert "officer · 新建 · 检查" in entries[0]
    assert any("officer · 填写检查项 · 检查项" in e for e in entries)
    assert any("officer · 上传照片 · 照片" in e for e in entries)
    assert any("officer · 提交 · 检查" in e and "status draft submitted" in e for e in entries)
    review = entries[-1]
    assert f"office · 审核 · 问题 {s.filing.id}" in review
    assert "status submitted sent_back" in review and "review_note 请补充备案情况" in review

    # One record alone, found through the lookup form.
    r = await office.get("/audit", params={"table": "finding", "record": str(s.filing.id)})
    assert r.status_code == 303 and r.headers["location"] == f"/audit/finding/{s.filing.id}"
    page = soup(await office.get(r.headers["location"]))
    assert [visible_text(li).split(" · ")[2] for li in page.select("ol.history > li")] == ["审核"]

    # The newest entries, linking to each record's history.
    page = soup(await office.get("/audit", params={"table": "finding"}))
    assert page.select_one("tbody tr a")["href"] == f"/audit/finding/{s.filing.id}"
    r = await office.get("/audit", params={"record": "12a"})
    assert r.status_code == 422 and errors(r) == ["记录编号须为数字"]
    assert "变更记录" in [visible_text(a) for a in soup(r).select("nav.mainnav a")]

    for who in ("leader", "officer", "liaison_edu"):
        c = await client_factory(who)
        assert (await c.get(f"/audit/inspection/{s.insp.id}")).status_code == 403
        assert (await c.get("/audit")).status_code == 403


async def test_history_masks_id_numbers(client_factory, world):
    await audit.record("update", "guard", world.guards.valid.id, before={"id_number": None, "name": "张伟"},
                       after={"id_number": "120225198001011234", "name": "张伟"})
    office = await client_factory("office")
    page = soup(await office.get(f"/audit/guard/{world.guards.valid.id}"))
    text = visible_text(page.select_one("ol.history"))
    assert "id_number 1202**********1234" in text and "120225198001011234" not in text


async def test_cli_audit_verify_names_the_first_bad_entry(service_env, world):
    for i in range(5):
        await audit.record("update", "unit", i, after={"name": f"单位{i}"})
    done = cli(service_env, "audit", "verify")
    assert done.returncode == 0, done.stderr
    head = await audit.head()
    assert done.stdout.strip() == f"audit verify: 5 entries, chain intact; head {head['id']}:{head['hash']}"
    rows = await AuditEntry.select().order_by(AuditEntry.id)

    # Altered: someone rewrites what an entry says.
    await AuditEntry.update({AuditEntry.after: '{"name":"篡改"}'}).where(AuditEntry.id == rows[2]["id"])
    done = cli(service_env, "audit", "verify")
    assert done.returncode == 1
    assert f"first bad entry: #{rows[2]['id']} (" in done.stdout and "update unit 2" in done.stdout
    assert "内容与哈希不符(记录被篡改)" in done.stdout and "审计日志被改动" in done.stderr
    await AuditEntry.update({AuditEntry.after: rows[2]["after"]}).where(AuditEntry.id == rows[2]["id"])
    assert cli(service_env, "audit", "verify").returncode == 0

    # Deleted: the entry after the gap no longer follows its predecessor.
    await AuditEntry.delete().where(AuditEntry.id == rows[1]["id"])
    done = cli(service_env, "audit", "verify")
    assert done.returncode == 1
    assert f"first bad entry: #{rows[2]['id']}" in done.stdout and f"after entry #{rows[0]['id']}" in done.stdout
    assert "上一条哈希不匹配(记录被删除或插入)" in done.stdout

    # Inserted: a forged entry slipped into the gap.
    await AuditEntry.insert(AuditEntry(
        id=rows[1]["id"], at=rows[1]["at"], actor_name="x", action="update", table_name="unit",
        record_id="1", prev_hash=rows[0]["hash"], hash="f" * 64))
    done = cli(service_env, "audit", "verify")
    assert done.returncode == 1 and f"first bad entry: #{rows[1]['id']}" in done.stdout


async def test_cli_audit_verify_anchor_detects_a_cut_off_tail(service_env, world):
    for i in range(3):
        await audit.record("update", "unit", i, after={"name": f"单位{i}"})
    head = await audit.head()
    anchor = f"{head['id']}:{head['hash']}"
    assert cli(service_env, "audit", "verify", "--anchor", anchor).returncode == 0
    await AuditEntry.delete().where(AuditEntry.id == head["id"])
    assert cli(service_env, "audit", "verify").returncode == 0  # the rest is still a valid chain …
    done = cli(service_env, "audit", "verify", "--anchor", anchor)
    assert done.returncode == 1 and f"anchor #{head['id']} is gone or changed" in done.stdout  # … the anchor is not
