"""A body's liaison hands in the week's report on a phone: its row as labelled numbers (no
sideways scrolling), its own figure with a note, a typical case with a photo, submit."""

from __future__ import annotations

import datetime as dt

from playwright.async_api import expect

from server.models.campaign import Campaign
from server.models.reports import BodyReport
from tests.browser.conftest import log_in
from tests.support.html import jpeg
from tests.test_ledger import add_finding, at


async def test_a_liaison_submits_the_weekly_report_on_a_phone(phone, world):
    await Campaign.update({Campaign.weekly_from: dt.date(2020, 12, 25), Campaign.weekly_until: dt.date(2021, 1, 8),
                           Campaign.weekly_weekday: 4}).where(Campaign.id == world.campaign.id)
    await add_finding(world, world.units.school, world.sites.school, 15, quantity=2, reviewed_at=at(2020, 12, 22))
    page = phone
    width = page.viewport_size["width"]
    await log_in(page, "liaison_edu")
    due = page.locator("#reports-due")
    await expect(due).to_contain_text("逾期")
    await due.get_by_role("link", name="第1期累计周报（截至 2020-12-25）").click()
    await expect(page.locator("h1")).to_have_text("第1期累计周报（截至 2020-12-25）")
    await expect(page.locator("#figures li")).to_have_count(22)
    await expect(page.locator("#figures li[data-col='15'] .figure-value")).to_have_text("2")
    assert await page.evaluate("document.documentElement.scrollWidth") <= width  # a list, not a wide table

    # A typical case with a photo.
    await page.get_by_text("添加典型案例").click()
    form = page.locator("#case-form")
    await form.get_by_label("案例标题").fill("学校门卫未持证上岗")
    await form.get_by_label("基本情况").fill("自查发现两名门卫无保安员证")
    await form.get_by_label("处置情况").fill("已调离岗位")
    await form.get_by_label("照片").set_input_files({"name": "p.jpg", "mimeType": "image/jpeg", "buffer": jpeg()})
    await form.get_by_role("button", name="添加案例").click()
    await expect(page.locator("#cases")).to_contain_text("学校门卫未持证上岗")
    await expect(page.locator("#cases img")).to_have_count(1)

    # The body's own figure needs a note; then the progress, and submit.
    row = page.locator("#figures li[data-col='16']")
    await row.get_by_text("按自查填报").click()
    await row.get_by_label("本单位数字").fill("3")
    await page.get_by_label("工作进展").fill("全区学校开展保安员持证自查")
    await page.get_by_role("button", name="提交").click()
    await expect(page.locator("#figures li[data-col='16'] .error")).to_contain_text("请说明原因")
    row = page.locator("#figures li[data-col='16']")
    await row.get_by_label("说明（与记录不同的原因）").fill("学校自查发现三人着仿警服")
    await page.get_by_role("button", name="提交").click()

    await expect(page.locator("#report-status")).to_contain_text("已报送")
    await expect(page.locator("#figures [data-col='16'] .figure-value")).to_have_text("3")
    await expect(page.locator("#figures [data-col='16']")).to_contain_text("学校自查发现三人着仿警服")
    await expect(page.locator("#report-form")).to_have_count(0)
    assert await page.evaluate("document.documentElement.scrollWidth") <= width
    report = await BodyReport.objects().first()
    assert report.status == "submitted" and report.progress == "全区学校开展保安员持证自查"
