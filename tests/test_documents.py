"""One-off documents (the body's work plan, its final summary): a liaison uploads, may replace
until the office accepts; the office accepts or returns with a reason; the board per kind
with the statuses, the time of submission and the reminder list of late bodies."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest

from server import clock
from server.documents.files import DocumentRejected, check_document
from server.models.audit import AuditEntry
from server.models.campaign import Body, ReportingDeadline
from server.models.documents import BodyDocument
from server.models.evidence import AccessLog
from server.vocab import BodyScope, Sector
from tests.support.flow import new_id
from tests.support.html import errors, jpeg, soup, visible_text

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def plain_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("a.txt", "hello")
    return out.getvalue()


def test_the_content_decides_not_the_name():
    assert check_document(PDF, 10 << 20, 10**8).content_type == "application/pdf"
    assert check_document(docx(), 10 << 20, 10**8).extension == "docx"
    assert check_document(jpeg(), 10 << 20, 10**8).extension == "jpg"
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100 + "WordDocument".encode("utf-16-le")
    assert check_document(ole, 10 << 20, 10**8).content_type == "application/msword"
    for bad, message in [(b"", "文件为空"), (b"MZ\x90\x00 not a document", "只接受 PDF"),
                         (plain_zip(), "不是 Word 文档"), (PDF[:-7], "PDF 文件不完整"),
                         (PDF + b"x" * 2048 * 1024, "文件过大")]:
        with pytest.raises(DocumentRejected, match=message):
            check_document(bad, 2 << 20, 10**8)


@pytest.fixture
async def setup(world):
    """The plan was due three days ago, the summary is due in ten; 区教育局 named its liaison;
    a third body, 区卫生健康委, sent nothing and named nobody."""
    today = clock.today()
    for kind, title, due in [("plan", "报送本单位专项工作方案", today - dt.timedelta(days=3)),
                             ("summary", "报送专项行动总结", today + dt.timedelta(days=10))]:
        await ReportingDeadline(campaign=world.campaign.id, kind=kind, title=title, due_on=due).save()
    await Body.update({Body.contact_name: "赵联络员", Body.contact_phone: "13800000001"}).where(
        Body.id == world.bodies.edu.id)
    await Body(name="区卫生健康委", scope=BodyScope.sector, sector=Sector.hospital, ordinal=9).save()
    return world


async def _upload(c, kind: str, name: str, data: bytes, uuid: str | None = None):
    return await c.post(f"/documents/{kind}", data={"uuid": uuid or new_id()}, files={"file": (name, data)})


def _board_rows(page) -> dict[str, str]:
    return {visible_text(tr.select_one("td")): visible_text(tr) for tr in soup(page).select("#board tbody tr")}


async def test_a_liaison_uploads_the_plan_and_the_office_accepts_it(setup, client_factory, app):
    town = await client_factory("liaison_town")
    home = visible_text(soup(await town.get("/")).select_one("#home-documents"))
    assert "工作方案" in home and "逾期" in home and "工作总结" in home and "未报送" in home
    r = await _upload(town, "plan", "官庄镇方案.pdf", PDF)
    assert r.status_code == 303 and r.headers["location"] == "/documents"
    page = visible_text(soup(await town.get("/documents")).select_one("#doc-plan"))
    assert "已报送" in page and "官庄镇方案.pdf" in page and "逾期报送" in page
    assert "工作方案" not in visible_text(soup(await town.get("/")).select_one("#home-documents"))

    office = await client_factory("office")
    board = await office.get("/documents/board?kind=plan")
    rows = _board_rows(board)
    assert "已报送" in rows["官庄镇"] and "逾期" in rows["区教育局"] and "逾期" in rows["区卫生健康委"]
    assert "公安蓟州分局" not in rows  # the police is the office: it owes itself nothing
    reminders = {visible_text(tr.select_one("td")): visible_text(tr) for tr in soup(board).select("#reminders tbody tr")}
    assert set(reminders) == {"区教育局", "区卫生健康委"}
    assert "赵联络员" in reminders["区教育局"] and "13800000001" in reminders["区教育局"] and "3 天" in reminders["区教育局"]
    assert "未报送联络员" in reminders["区卫生健康委"]
    counts = visible_text(soup(board).select_one("#doc-counts"))
    assert "1已报送" in counts.replace(" ", "") and "2逾期" in counts.replace(" ", "")
    summary = _board_rows(await office.get("/documents/board?kind=summary"))
    assert all("未报送" in v for v in summary.values()) and len(summary) == 3

    doc = await BodyDocument.objects().first()
    r = await office.get(f"/documents/{doc.id}/file")
    assert r.status_code == 200 and r.content == PDF
    assert r.headers["content-disposition"].startswith("attachment")
    assert r.headers["content-type"].startswith("application/pdf")
    assert await AccessLog.count().where((AccessLog.action == "download")
                                         & (AccessLog.object_id == f"/documents/{doc.id}/file")) == 1
    assert (await app.state.store.get(doc.object_key)) == PDF and doc.object_key.startswith("documents/")

    leader = await client_factory("leader")
    assert (await leader.get("/documents/board")).status_code == 200
    assert (await leader.post(f"/documents/{doc.id}/accept")).status_code == 403
    r = await office.post(f"/documents/{doc.id}/accept")
    assert r.status_code == 303
    assert "已接收" in _board_rows(await office.get("/documents/board?kind=plan"))["官庄镇"]
    # Accepted: the liaison may no longer replace it.
    r = await _upload(town, "plan", "新方案.pdf", PDF)
    assert r.status_code == 409 and "不能再替换" in visible_text(soup(r))
    assert "重新上传" not in visible_text(soup(await town.get("/documents")).select_one("#doc-plan"))
    actions = await AuditEntry.select(AuditEntry.action).where(AuditEntry.table_name == "body_document")
    assert [a["action"] for a in actions] == ["create", "update"]


async def test_returned_replaced_and_refused_uploads(setup, client_factory, app):
    town = await client_factory("liaison_town")
    r = await _upload(town, "plan", "evil.pdf", b"MZ\x90\x00 an executable")
    assert r.status_code == 422 and any("只接受 PDF" in e for e in errors(r))
    r = await _upload(town, "plan", "a.zip", plain_zip())
    assert r.status_code == 422 and any("不是 Word 文档" in e for e in errors(r))
    r = await town.post("/documents/plan", data={"uuid": new_id()})
    assert r.status_code == 422 and any("请选择要上传的文件" in e for e in errors(r))
    assert (await town.post("/documents/budget", data={"uuid": new_id()})).status_code == 404
    assert await BodyDocument.count() == 0

    key = new_id()
    assert (await _upload(town, "plan", "第一稿.pdf", PDF, key)).status_code == 303
    assert (await _upload(town, "plan", "第一稿.pdf", PDF, key)).status_code == 303  # the same upload again
    assert await AuditEntry.count().where(AuditEntry.table_name == "body_document") == 1
    first = await BodyDocument.objects().first()

    office = await client_factory("office")
    r = await office.post(f"/documents/{first.id}/return", data={"reason": ""})
    assert r.status_code == 422 and "请填写退回理由" in visible_text(soup(r))
    r = await office.post(f"/documents/{first.id}/return", data={"reason": "缺少单位盖章"})
    assert r.status_code == 303
    home = visible_text(soup(await town.get("/")).select_one("#home-documents"))
    assert "已退回" in home and "缺少单位盖章" in home
    assert "已退回" in _board_rows(await office.get("/documents/board?kind=plan"))["官庄镇"]
    r = await office.post(f"/documents/{first.id}/accept")
    assert r.status_code == 409

    word = docx()
    assert (await _upload(town, "plan", "第二稿.docx", word)).status_code == 303
    again = await BodyDocument.objects().first()
    assert (again.id, again.status, again.filename, again.return_reason) == (first.id, "submitted", "第二稿.docx", "")
    assert again.object_key != first.object_key and await app.state.store.exists(first.object_key)
    r = await town.get(f"/documents/{again.id}/file")
    assert r.status_code == 200 and r.content == word

    # Another body's liaison never reaches the file; an officer has no business here.
    edu = await client_factory("liaison_edu")
    assert (await edu.get(f"/documents/{again.id}/file")).status_code == 404
    assert (await (await client_factory("officer")).get("/documents")).status_code == 403
    # The office's /documents is the board.
    r = await office.get("/documents")
    assert r.status_code == 303 and r.headers["location"] == "/documents/board"


async def test_storage_check_knows_documents_and_their_replaced_files(setup, client_factory, app):
    """The current file of a document and each file it replaced (named by the audit entry of
    the replacement) are the document's: `storage check` finds no leftovers."""
    from server.evidence.integrity import storage_check

    earlier = set((await storage_check(app.state.store)).orphans)  # objects of earlier tests' rows
    town = await client_factory("liaison_town")
    assert (await _upload(town, "plan", "第一稿.pdf", PDF)).status_code == 303
    assert (await _upload(town, "plan", "第二稿.docx", docx())).status_code == 303
    report = await storage_check(app.state.store)
    assert report.missing == [] and set(report.orphans) == earlier
    assert sum(1 for k in await app.state.store.list_keys() if k.startswith("documents/")) - sum(
        1 for k in earlier if k.startswith("documents/")) == 2
