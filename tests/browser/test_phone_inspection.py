"""The officer's inspection on a Pixel-sized phone in Chromium, then the office's list."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import expect

from server.models.evidence import Photo
from server.models.inspections import Inspection
from tests.browser.conftest import log_in
from tests.support.html import jpeg


async def test_officer_completes_inspection_with_photos_and_office_sees_it(phone, world, tmp_path: Path):
    page = phone
    await log_in(page, "officer")
    await expect(page.get_by_role("heading", name="开始检查")).to_be_visible()

    await page.get_by_label("查找服务目标（名称、地址或单位）").fill("第一中学")
    result = page.locator("#site-results li", has_text="第一中学校门")
    await expect(result).to_be_visible()
    await result.get_by_role("button", name="开始检查").click()
    await expect(page.get_by_role("heading", name="第一中学校门", level=1)).to_be_visible()
    await page.wait_for_load_state("networkidle")

    # Checklist: everything in order except 5 (not filed).
    for n in range(1, 9):
        area = page.locator(f"#area-{n}")
        choice = "不符合" if n == 5 else "符合"
        await area.get_by_label(choice, exact=True).check()
        await expect(page.locator(f"#area-{n}").get_by_label(choice, exact=True)).to_be_checked()
    await page.locator("#area-5").get_by_label("备注").fill("物业公司未到公安机关备案")
    await page.locator("#area-5").get_by_label("备注").blur()

    # A guard from the roster, in the wrong uniform, photographed.
    await page.get_by_label("从名册选择").select_option(label="张伟（津保120200000001）")  # chosen = added
    guard = page.locator("article.guard", has_text="张伟")
    await expect(guard.locator(".verdict")).to_have_text("有效")
    await guard.get_by_role("radiogroup", name="按规定着保安服").get_by_label("不规范").check()
    await expect(page.locator("#findings article.finding", has_text="张伟")).to_contain_text("未按规定穿着保安员服装")

    photo = tmp_path / "uniform.jpg"
    photo.write_bytes(jpeg(1600, 1200))
    guard = page.locator("article.guard", has_text="张伟")
    await guard.locator("input[type=file]").set_input_files(str(photo))
    await expect(page.locator("article.guard", has_text="张伟").locator(".thumbs img")).to_have_count(1)

    # A scene photo too.
    await page.locator("#general input[type=file]").set_input_files(str(photo))
    await expect(page.locator("#general .thumbs img")).to_have_count(1)

    findings = page.locator("#findings article.finding")
    await expect(findings).to_have_count(2)
    await expect(page.locator("#findings")).to_contain_text("物业公司未到公安机关备案")

    # Area 2 still says 符合 although the guard's uniform is wrong: the phone says so.
    await page.get_by_role("button", name="提交检查").click()
    await expect(page.locator("#problems")).to_contain_text("第2项（着装与标志）")
    await page.locator("#area-2").get_by_label("不符合", exact=True).check()
    await expect(page.locator("#area-2").get_by_label("不符合", exact=True)).to_be_checked()
    await expect(page.locator("#findings article.finding")).to_have_count(2)

    await page.get_by_role("button", name="提交检查").click()
    await expect(page.locator(".head")).to_contain_text("已提交")
    await expect(page.get_by_role("button", name="提交检查")).to_have_count(0)

    insp = await Inspection.objects().first()
    assert insp.status == "submitted"
    assert await Photo.count().where(Photo.inspection == insp.id) == 2

    # The office sees it in its list.
    await page.get_by_role("button", name="退出").click()
    await page.wait_for_url("**/login**")
    await log_in(page, "office")
    await page.get_by_role("link", name="查看已提交的检查").click()
    row = page.locator("tbody tr", has_text="第一中学校门")
    await expect(row).to_contain_text("王警官")
    await expect(row).to_contain_text("已提交")
    await row.get_by_role("link", name="第一中学校门").click()  # the review page (issue 4)
    await expect(page.locator("#findings article.finding")).to_have_count(2)
    await expect(page.locator("#gallery figure.evidence img")).to_have_count(2)


async def test_bad_photo_gets_a_chinese_message_on_the_phone(phone, world, tmp_path: Path):
    page = phone
    await log_in(page, "officer")
    await page.get_by_label("查找服务目标（名称、地址或单位）").fill("绿园")
    await page.locator("#site-results li", has_text="绿园小区").get_by_role("button", name="开始检查").click()
    await expect(page.get_by_role("heading", name="绿园小区", level=1)).to_be_visible()
    await page.wait_for_load_state("networkidle")
    bad = tmp_path / "notes.jpg"
    bad.write_bytes(b"this is not a picture")
    await page.locator("#general input[type=file]").set_input_files(str(bad))
    await expect(page.locator("#general .error")).to_contain_text("不是有效的图片")
    assert await Photo.count() == 0
