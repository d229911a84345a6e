"""The office uploads a roster of a few thousand rows on a phone: the page answers at once,
polls its progress and turns into the report; the confirmation imports the rows."""

from __future__ import annotations

from playwright.async_api import expect

from tests.browser.conftest import log_in
from tests.test_registry_import import big_workbook


async def test_office_uploads_a_large_roster_and_watches_the_check(phone, world):
    page = phone
    await log_in(page, "office")
    await page.goto("/registry/import")
    await page.set_input_files("input[name=file]", files=[{
        "name": "大名册.xlsx", "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "buffer": big_workbook(3000)}])
    await page.get_by_role("button", name="检查文件（不写入）").click()
    await page.wait_for_url("**/registry/import/*")
    # The progress polls itself until the report replaces it, without a reload.
    report = page.locator("#import-report")
    await expect(report).to_contain_text("读取数据行 3002", timeout=60_000)
    await expect(report).to_contain_text("有错误、将不导入的行 3")
    await expect(page.locator("#import-progress")).to_have_count(0)
    width = page.viewport_size["width"]
    assert await page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways page scroll
    await page.get_by_role("button", name="确认导入 2999 行有效数据").click()
    await expect(page.locator("#import-report")).to_contain_text("导入完成", timeout=60_000)
