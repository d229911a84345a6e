"""A send-back round trip in Chromium: the office (desktop) returns a finding and asks for a
re-shoot, the officer (Pixel 7) corrects, re-shoots and resubmits, the office confirms. And
the photo's full view zooms with a pinch on the phone and the wheel on the desktop."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import expect

from server.models.inspections import Finding, Inspection
from tests.browser.conftest import log_in
from tests.support.html import jpeg
from tests.test_review import submitted_inspection


async def scale_of(locator) -> float:
    return await locator.evaluate("el => new DOMMatrix(getComputedStyle(el).transform).a")


async def wait_for_scale(page, condition: str) -> None:
    """Wait until the photo's zoom scale satisfies e.g. '> 1.2' (Panzoom animates it)."""
    await page.wait_for_function(
        f"() => new DOMMatrix(getComputedStyle(document.getElementById('zoom-img')).transform).a {condition}",
        timeout=10_000)


async def test_send_back_round_trip_through_the_phone(desk, phone, client_factory, world, tmp_path: Path):
    s = await submitted_inspection(await client_factory("officer"), world.sites.school.id)

    # The office sends the filing finding back and asks for the photo to be re-shot.
    office = desk
    await log_in(office, "office")
    await office.get_by_role("navigation", name="主菜单").get_by_role("link", name="审核").click()
    await office.locator("tbody tr", has_text="第一中学校门").get_by_role("link", name="第一中学校门").click()
    await expect(office.get_by_role("heading", name="第一中学校门", level=1)).to_be_visible()

    training = office.locator(f"#finding-{s.training.id}")
    await training.get_by_label("确认").check()
    await training.get_by_role("button", name="保存审核结论").click()
    await expect(office.locator(f"#finding-{s.training.id} .badge")).to_have_text("已确认")

    filing = office.locator(f"#finding-{s.filing.id}")
    await filing.get_by_label("退回民警").check()
    await filing.get_by_role("button", name="保存审核结论").click()
    await expect(office.locator(f"#finding-{s.filing.id} .error")).to_have_text("请填写退回原因，民警会看到这段话")
    filing = office.locator(f"#finding-{s.filing.id}")
    await expect(filing.get_by_label("退回民警")).to_be_checked()
    await filing.get_by_label("审核意见（退回、驳回时必填）").fill("请写明自招保安人数")
    await filing.get_by_role("button", name="保存审核结论").click()
    await expect(office.locator(f"#finding-{s.filing.id} .badge")).to_have_text("已退回")
    await expect(office.locator("#finish")).to_contain_text("退回民警 1")

    proof = office.locator("figure.evidence", has=office.locator(f"img[src='/photos/{s.proof}/thumb']"))
    await proof.get_by_label("需重拍").check()
    await proof.get_by_label("重拍原因").fill("照片模糊")
    await proof.get_by_role("button", name="保存").click()
    await expect(office.locator("#finish")).to_contain_text("等待重拍的照片 1")
    await office.get_by_role("button", name="完成审核").click()
    await expect(office.locator(".review-head .badge")).to_have_text("已退回")

    # The officer sees why on the phone, corrects, re-shoots and resubmits.
    await log_in(phone, "officer")
    await phone.locator("li", has_text="第一中学校门").filter(has_text="已退回").get_by_role("link").click()
    await expect(phone.locator(".head")).to_contain_text("退回原因：1 条问题被退回、1 张照片需要重拍")
    finding = phone.locator(f"#finding-{s.filing.id}")
    await expect(finding).to_contain_text("审核意见：请写明自招保安人数")
    await expect(finding).to_contain_text("需重拍：照片模糊")
    await expect(phone.locator(f"#finding-{s.training.id} textarea")).to_have_count(0)  # confirmed: locked
    await phone.wait_for_load_state("networkidle")
    await finding.get_by_label("问题描述").fill("物业公司自招保安6人，未向公安机关备案")
    await phone.locator("#findings").evaluate("el => { el.dataset.before = 'save'; }")
    await finding.get_by_role("button", name="保存修改").click()
    await expect(phone.locator("#findings[data-before]")).to_have_count(0)  # the saved list came back
    await expect(phone.locator(f"#finding-{s.filing.id} textarea[name=text]")).to_have_value("物业公司自招保安6人，未向公安机关备案")
    shot = tmp_path / "clear.jpg"
    shot.write_bytes(jpeg(1200, 900, color=(20, 160, 20)))
    await phone.locator(f"#finding-{s.filing.id} input[type=file]").set_input_files(str(shot))
    await expect(phone.locator(f"#finding-{s.filing.id} .thumbs img")).to_have_count(2)
    await phone.get_by_role("button", name="提交检查").click()
    await expect(phone.locator(".head")).to_contain_text("已提交")
    assert (await Finding.objects().where(Finding.id == s.filing.id).first()).status == "submitted"

    # Second round: the office sees the correction and the re-shot, confirms, done.
    await office.reload()
    await expect(proof).to_contain_text("已补拍")
    filing = office.locator(f"#finding-{s.filing.id}")
    await expect(filing).to_contain_text("物业公司自招保安6人")
    await filing.get_by_label("确认").check()
    await filing.get_by_role("button", name="保存审核结论").click()
    await expect(office.locator(f"#finding-{s.filing.id} .badge")).to_have_text("已确认")
    await office.get_by_role("button", name="完成审核").click()
    await expect(office.locator(".review-head .badge")).to_have_text("已审核")
    insp = await Inspection.objects().where(Inspection.uuid == s.key).first()
    assert insp.status == "reviewed"
    assert await Finding.count().where((Finding.inspection == insp.id) & (Finding.status == "confirmed")) == 2


async def test_full_view_zooms_with_wheel_on_desktop_and_pinch_on_phone(desk, phone, client_factory, world):
    s = await submitted_inspection(await client_factory("officer"), world.sites.school.id)

    await log_in(desk, "office")
    await desk.goto(f"/office/inspections/{s.key}")
    await desk.locator("figure.evidence").first.get_by_role("link").first.click()
    img = desk.locator("#zoom-img")
    await expect(desk.get_by_role("button", name="复原")).to_be_visible()  # the zoom script is ready
    assert await scale_of(img) == pytest.approx(1)
    box = await img.bounding_box()
    await desk.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    await desk.mouse.wheel(0, -400)  # one notch in
    await wait_for_scale(desk, "> 1.1")
    await desk.get_by_role("button", name="复原").click()
    await wait_for_scale(desk, "< 1.01")
    await desk.get_by_role("button", name="放大").click()
    await wait_for_scale(desk, "> 1.2")
    # The views are on the photo's page.
    await desk.reload()
    await expect(desk.locator("#access-log")).to_contain_text("查看原图")

    await log_in(phone, "officer")
    await phone.goto(f"/photos/{s.scene}/view")
    img = phone.locator("#zoom-img")
    await expect(phone.get_by_role("button", name="复原")).to_be_visible()
    box = await img.bounding_box()
    cdp = await phone.context.new_cdp_session(phone)
    await cdp.send("Input.synthesizePinchGesture", {
        "x": box["x"] + box["width"] / 2, "y": box["y"] + box["height"] / 2,
        "scaleFactor": 2.5, "gestureSourceType": "touch"})
    await wait_for_scale(phone, "> 1.5")
