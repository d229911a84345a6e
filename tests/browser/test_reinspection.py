"""回头看 on a Pixel-sized phone in Chromium: from the re-inspection list to the order, the
re-inspection with the earlier findings and photos beside the new ones (before / after), and
the result recorded on the order."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from playwright.async_api import expect

from server import clock
from server.models.rectification import RectificationOrder
from tests.browser.conftest import log_in
from tests.support.flow import answer_all
from tests.support.html import jpeg
from tests.test_rectification import confirmed_inspection, order_for

LOADED = "sel => { const imgs = [...document.querySelectorAll(sel)]; return imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0); }"


async def test_reinspection_shows_before_and_after_photos_and_closes_the_order(phone, client_factory, world, tmp_path: Path):
    s = await confirmed_inspection(client_factory, world.sites.estate.id, {2: "门岗保安员着“特勤”字样服装"})
    office = await client_factory("office")
    deadline = clock.today() + dt.timedelta(days=1)
    order = await order_for(office, world.units.estate_co.id, [f.id for f in s.findings], deadline=deadline.isoformat())

    page = phone
    await log_in(page, "officer2")
    await page.get_by_role("navigation", name="主菜单").get_by_role("link", name="回头看").click()
    item = page.locator(".due-list li", has_text="蓟州区绿园物业服务有限公司")
    await expect(item).to_contain_text(order.number)
    await expect(item.locator(".badge")).to_have_text("还剩 1 天")
    await item.get_by_role("link").click()
    await expect(page.get_by_role("heading", name="蓟州区绿园物业服务有限公司", level=1)).to_be_visible()
    await page.get_by_role("button", name="开始回头看").click()

    # The inspection page: the same phone flow, with the earlier findings and photos.
    await expect(page.get_by_role("heading", name="绿园小区", level=1)).to_be_visible()
    await expect(page.locator(".head")).to_contain_text("回头看")
    compare = page.locator("#before-after")
    await expect(compare.locator(".compare-before")).to_contain_text("门岗保安员着“特勤”字样服装")
    before = compare.locator(".compare-before img")
    await expect(before).to_have_count(2)  # the finding's photo and the scene photo
    await compare.scroll_into_view_if_needed()
    await page.wait_for_function(LOADED, arg="#before-after .compare-before img")  # the photos really show
    await expect(compare.locator(".compare-after")).to_contain_text("还没有本次照片")
    box_before = await compare.locator(".compare-before").bounding_box()
    box_after = await compare.locator(".compare-after").bounding_box()
    assert abs(box_before["y"] - box_after["y"]) < 2 and box_before["x"] < box_after["x"]  # side by side on the phone

    # A new photo of the gate: it appears on the "after" side without reloading the page.
    await page.wait_for_load_state("networkidle")
    shot = tmp_path / "after.jpg"
    shot.write_bytes(jpeg(1200, 900, color=(20, 160, 20)))
    await page.locator("#general input[type=file]").set_input_files(str(shot))
    await expect(page.locator("#general .thumbs img")).to_have_count(1)
    after = compare.locator(".compare-after img")
    await expect(after).to_have_count(1)
    await compare.scroll_into_view_if_needed()
    await page.wait_for_function(LOADED, arg="#before-after .compare-after img")
    await expect(compare.locator(".compare-before img")).to_have_count(2)

    # Answer and submit on the phone; then the result on the order.
    key = page.url.rstrip("/").rsplit("/", 1)[1]
    await answer_all(await client_factory("officer2"), key)
    await page.reload()
    await page.get_by_role("button", name="提交检查").click()
    await expect(page.locator(".head")).to_contain_text("已提交")
    await compare.get_by_role("link", name="整改单").click()
    await expect(page.locator("#reinspection")).to_contain_text("已提交")
    await page.locator("#status").get_by_label("复查合格").check()
    await page.locator("#status").get_by_role("button", name="保存结论").click()
    await expect(page.locator("#order .badge")).to_have_text("复查合格")
    await page.locator("#status").get_by_label("结案").check()
    await page.locator("#status").get_by_role("button", name="保存结论").click()
    await expect(page.locator("#order .badge")).to_have_text("已结案")
    final = await RectificationOrder.objects().where(RectificationOrder.id == order.id).first()
    assert final.status == "closed" and final.verified_at is not None

    # It has left the re-inspection list.
    await page.get_by_role("navigation", name="主菜单").get_by_role("link", name="回头看").click()
    await expect(page.locator("main")).to_contain_text("目前没有到期或逾期、需要回头看的整改单")
