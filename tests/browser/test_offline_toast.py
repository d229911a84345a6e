"""The offline toast in a basement: it says what happened, takes no taps, clears itself, and is
never part of the copy of the page the phone keeps for an offline reload."""

from __future__ import annotations

from playwright.async_api import expect

from tests.browser.conftest import log_in
from tests.browser.test_offline import open_inspection, outbox_entries

OFFLINE = "网络不可用，已保存到待发送，恢复网络后自动提交"

# What the finger meets at the middle of the button, the button scrolled to the screen's foot
# (where the toast sits).
TAP_TARGET = """(name) => {
    const button = [...document.querySelectorAll('button')].find(b => b.textContent.trim() === name);
    button.scrollIntoView({block: 'end'});
    const box = button.getBoundingClientRect();
    const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    return hit === button || button.contains(hit);
}"""


async def test_after_an_offline_reload_the_submit_button_takes_the_tap(phone, world):
    page = phone
    await log_in(page, "officer")
    await open_inspection(page, "绿园小区", "绿园")
    await page.context.set_offline(True)

    await page.locator("#area-1").get_by_label("符合", exact=True).check()
    toast = page.locator("#toast")
    await expect(toast).to_have_text(OFFLINE)
    assert await toast.evaluate("el => getComputedStyle(el).pointerEvents") == "none"
    assert await page.evaluate(TAP_TARGET, "提交检查")  # even while the toast shows

    # The phone reopens the page in the basement: from its cache, without the toast.
    await page.reload()
    await expect(page.get_by_role("heading", name="绿园小区", level=1)).to_be_visible()
    await expect(page.locator("[data-outbox-badge]")).to_contain_text("1")
    await expect(toast).to_be_empty()
    assert await page.evaluate(TAP_TARGET, "提交检查")

    await page.get_by_role("button", name="提交检查").click()
    await expect(page.locator("[data-outbox-badge]")).to_contain_text("2")
    entries = await outbox_entries(page)
    assert [e["url"].rsplit("/", 1)[1] for e in entries] == ["1", "submit"]
    assert [e["status"] for e in entries] == ["pending", "pending"]
    await expect(toast).to_have_text(OFFLINE)
    await expect(toast).to_be_empty(timeout=10000)  # it goes by itself


async def test_the_offline_toast_goes_when_the_network_returns(phone, world):
    page = phone
    await log_in(page, "officer")
    await open_inspection(page, "绿园小区", "绿园")
    await page.context.set_offline(True)
    await page.locator("#area-2").get_by_label("符合", exact=True).check()
    await expect(page.locator("#toast")).to_have_text(OFFLINE)
    await page.context.set_offline(False)
    await page.evaluate("window.dispatchEvent(new Event('online'))")
    await expect(page.locator("#toast")).to_be_empty(timeout=2000)
    await expect(page.locator("[data-outbox-badge]")).to_be_hidden(timeout=15000)
