"""How many taps an officer needs on a Pixel 7 (README: "The officer's form"): a clean site
with two guards chosen from the roster, and a site with one uniform violation and a photo.
Every tap a thumb makes is counted: a field to type into, a native picker's open and choice
(2), the camera's button, shutter and confirm (3)."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import expect

from server.models.inspections import ChecklistAnswer, Finding, Inspection
from server.models.registry import Guard
from tests.browser.conftest import log_in
from tests.support.html import jpeg

CLEAN_SITE_MAX, ONE_VIOLATION_MAX = 12, 20


class Thumb:
    def __init__(self, page) -> None:
        self.page, self.taps = page, 0

    async def tap(self, locator) -> None:
        await locator.click()
        self.taps += 1

    async def check(self, locator) -> None:
        await locator.check()
        self.taps += 1

    async def pick(self, select, label: str) -> None:
        await select.select_option(label=label)
        self.taps += 2  # open the picker, choose

    async def photograph(self, file_input, path: Path) -> None:
        await file_input.set_input_files(str(path))
        self.taps += 3  # 拍照, shutter, confirm

    async def find_and_start(self, query: str, site: str) -> None:
        box = self.page.get_by_label("查找服务目标（名称、地址或单位）")
        await self.tap(box)
        await box.fill(query)
        await self.tap(self.page.locator("#site-results li", has_text=site).get_by_role("button", name="开始检查"))
        await expect(self.page.get_by_role("heading", name=site, level=1)).to_be_visible()
        await self.page.wait_for_load_state("networkidle")


async def test_a_clean_site_with_two_guards_takes_at_most_twelve_taps(phone, world):
    await Guard(name="陈刚", employer=world.units.secco.id, site=world.sites.school.id,
                certificate_no="津保120200000009", certificate_status="valid", vetted=True, exam_passed=True).save()
    page = phone
    await log_in(page, "officer")
    thumb = Thumb(page)
    await thumb.find_and_start("第一中学", "第一中学校门")
    await thumb.tap(page.get_by_role("button", name="全部符合"))
    await expect(page.locator("#area-8").get_by_label("符合", exact=True)).to_be_checked()
    for name, cert in (("张伟", "津保120200000001"), ("陈刚", "津保120200000009")):
        await thumb.pick(page.get_by_label("从名册选择"), f"{name}（{cert}）")
        guard = page.locator("article.guard", has_text=name)
        await expect(guard.locator(".verdict")).to_have_text("有效")
        await thumb.tap(guard.get_by_role("button", name="其余各项均正常"))
        await expect(page.locator("article.guard", has_text=name).locator("summary")).to_contain_text("已检查")
    await expect(page.locator("#missing")).to_contain_text("各项均已填写，可以提交")
    await thumb.tap(page.get_by_role("button", name="提交检查"))
    await expect(page.locator(".head")).to_contain_text("已提交")

    insp = await Inspection.objects().first()
    assert insp.status == "submitted"
    assert await ChecklistAnswer.count().where((ChecklistAnswer.inspection == insp.id) & (ChecklistAnswer.answer == "ok")) == 8
    assert await Finding.count().where(Finding.inspection == insp.id) == 0
    print(f"\nclean site, two guards: {thumb.taps} taps")
    assert thumb.taps <= CLEAN_SITE_MAX


async def test_one_uniform_violation_with_a_photo_takes_at_most_twenty_taps(phone, world, tmp_path: Path):
    photo = tmp_path / "uniform.jpg"
    photo.write_bytes(jpeg(1600, 1200))
    page = phone
    await log_in(page, "officer")
    thumb = Thumb(page)
    await thumb.find_and_start("第一中学", "第一中学校门")
    await thumb.pick(page.get_by_label("从名册选择"), "张伟（津保120200000001）")
    guard = page.locator("article.guard", has_text="张伟")
    await thumb.check(guard.get_by_role("radiogroup", name="按规定着保安服").get_by_label("不规范"))
    await expect(page.locator("#findings article.finding", has_text="张伟")).to_contain_text("未按规定穿着保安员服装")
    await thumb.tap(guard.get_by_role("button", name="其余各项均正常"))
    guard = page.locator("article.guard", has_text="张伟")
    await expect(guard.locator("summary")).to_contain_text("按规定着保安服 不规范")
    await thumb.photograph(guard.locator("input[type=file]"), photo)
    await expect(page.locator("article.guard", has_text="张伟").locator(".thumbs img")).to_have_count(1)
    await thumb.tap(page.get_by_role("button", name="全部符合"))
    await expect(page.locator("#area-2").get_by_label("不符合", exact=True)).to_be_checked()
    await expect(page.locator("#area-2 .note")).to_be_visible()  # the note opens for 不符合
    await expect(page.locator("#area-1 .note")).to_be_hidden()
    await thumb.tap(page.get_by_role("button", name="提交检查"))
    await expect(page.locator(".head")).to_contain_text("已提交")

    insp = await Inspection.objects().first()
    assert insp.status == "submitted"
    findings = await Finding.select(Finding.area, Finding.stat_column).where(Finding.inspection == insp.id)
    assert [(f["area"], f["stat_column"]) for f in findings] == [(2, 16)]
    print(f"\none uniform violation and a photo: {thumb.taps} taps")
    assert thumb.taps <= ONE_VIOLATION_MAX
