"""A township liaison sends its body's work plan from a phone: the home page says it is owed,
a wrong file is refused in Chinese, the PDF is accepted and the page says 已报送."""

from __future__ import annotations

import datetime as dt

from playwright.async_api import expect

from server import clock
from server.models.campaign import ReportingDeadline
from tests.browser.conftest import log_in

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


async def test_a_liaison_uploads_its_plan_on_a_phone(phone, world):
    await ReportingDeadline(campaign=world.campaign.id, kind="plan", title="报送本单位专项工作方案",
                            due_on=clock.today() + dt.timedelta(days=2)).save()
    page = phone
    await log_in(page, "liaison_town")
    owed = page.locator("#home-documents")
    await expect(owed).to_contain_text("工作方案")
    await expect(owed).to_contain_text("未报送")
    await owed.get_by_role("link", name="工作方案").click()
    plan = page.locator("#doc-plan")
    await expect(plan).to_contain_text("还有 2 天")

    await plan.get_by_label("上传工作方案").set_input_files(
        files=[{"name": "方案.txt", "mimeType": "text/plain", "buffer": "这不是方案".encode()}])
    await plan.get_by_role("button", name="报送工作方案").click()
    await expect(page.locator("#doc-plan .error")).to_contain_text("只接受 PDF、Word")

    plan = page.locator("#doc-plan")
    await plan.get_by_label("上传工作方案").set_input_files(
        files=[{"name": "官庄镇工作方案.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    await plan.get_by_role("button", name="报送工作方案").click()
    await expect(page.locator("#doc-plan")).to_contain_text("已报送")
    await expect(page.locator("#doc-plan")).to_contain_text("官庄镇工作方案.pdf")
    width = page.viewport_size["width"]
    assert await page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scroll
    await page.get_by_role("link", name="首页").first.click()
    await expect(page.locator("#home-documents")).not_to_contain_text("工作方案")
