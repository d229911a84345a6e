"""The office exports a ledger on a phone and watches the progress; a leader reads the
dashboard and the statistics table on a phone-sized screen."""

from __future__ import annotations

import openpyxl
from playwright.async_api import expect

from tests.browser.conftest import log_in


async def test_office_exports_the_guard_ledger_with_progress_on_a_phone(phone, world, tmp_path):
    page = phone
    await log_in(page, "office")
    await page.get_by_role("link", name="台账").click()
    await page.get_by_role("link", name="保安员台账").click()
    await expect(page.locator("table.ledger tbody tr")).to_have_count(4)
    await page.get_by_label("持证状态").select_option(label="持证")
    await page.get_by_role("button", name="筛选").click()
    await expect(page.locator("#ledger-total")).to_have_text("共 2 条")
    await page.get_by_role("button", name="导出 Excel（2 条）").click()
    await expect(page.get_by_role("heading", name="导出保安员台账")).to_be_visible()
    # The progress fragment polls itself until the file is ready.
    await expect(page.locator("#export-progress")).to_have_attribute("data-state", "done")
    await expect(page.locator("#export-progress")).to_contain_text("导出完成，共 2 条")
    async with page.expect_download() as info:
        await page.get_by_role("link", name="下载").click()
    download = await info.value
    path = tmp_path / "guards.xlsx"
    await download.save_as(path)
    ws = openpyxl.load_workbook(path)["保安员台账"]
    assert sorted(ws.cell(r, 1).value for r in range(3, ws.max_row + 1)) == sorted(["张伟", "赵敏"])


async def test_leader_reads_dashboard_and_statistics_on_a_phone(phone, world):
    page = phone
    await log_in(page, "leader")
    await page.get_by_role("link", name="看板").click()
    await expect(page.get_by_role("heading", name="已确认问题（按整顿重点）")).to_be_visible()
    chart = page.get_by_role("img", name="已确认问题按整顿重点")
    await expect(chart).to_be_visible()
    box = await chart.bounding_box()
    width = page.viewport_size["width"]
    assert box["width"] <= width and box["x"] >= 0  # the chart fits the screen
    assert await page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways page scroll

    await page.get_by_role("link", name="统计表").click()
    await expect(page.locator("#stat-table tbody tr")).to_have_count(3)
    # The wide form scrolls inside its own box; the body names stay visible at the left.
    assert await page.evaluate("document.documentElement.scrollWidth") <= width
    scroller = page.locator(".stat-scroll")
    assert await scroller.evaluate("el => el.scrollWidth > el.clientWidth")
    await scroller.evaluate("el => el.scrollLeft = 600")
    await expect(page.locator("#stat-table tbody tr").first.locator("th")).to_be_in_viewport()
    # A number opens the records behind it.
    await page.locator("#stat-table tr[data-row=district] td[data-col='6'] a").click()
    await expect(page.locator("#cell-title")).to_have_text("第6栏 保安员：4人")
    await expect(page.locator("table.records tbody tr")).to_have_count(4)
