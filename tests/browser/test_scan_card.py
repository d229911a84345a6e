"""Scanning a guard card in Chromium on a Pixel-sized phone.

Headless Chromium has no BarcodeDetector, so this drives the JS decoder (jsQR, loaded only
when the scanner opens). The camera is Chromium's fake capture device fed with a .y4m video
of a printed card, made here with Pillow (a y4m is a text header plus raw YUV 4:2:0 frames).
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from PIL import Image
from playwright.async_api import async_playwright, expect

from server.cards import qr, service
from server.models.inspections import GuardCheck
from tests.browser.conftest import CHROMIUM_ARGS, log_in

pytestmark = pytest.mark.browser


def card_frame(url: str, size=(640, 480)) -> Image.Image:
    card = qr.card_image(url=url, name="张伟", certificate_no="津保120200000001",
                         employer="蓟州区安泰保安服务有限公司", serial=1, issued_on="2020-12-20")
    frame = Image.new("RGB", size, (96, 88, 80))
    w = 600
    small = card.resize((w, round(w * card.height / card.width)), Image.LANCZOS).rotate(
        4, expand=True, fillcolor=(96, 88, 80))
    frame.paste(small, ((size[0] - small.width) // 2, (size[1] - small.height) // 2))
    return frame


def write_y4m(path: Path, frame: Image.Image, frames: int = 5) -> None:
    w, h = frame.size
    y, cb, cr = frame.convert("YCbCr").split()
    half = (w // 2, h // 2)
    planes = y.tobytes() + cb.resize(half, Image.BILINEAR).tobytes() + cr.resize(half, Image.BILINEAR).tobytes()
    with open(path, "wb") as fh:
        fh.write(f"YUV4MPEG2 W{w} H{h} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            fh.write(b"FRAME\n" + planes)


@pytest.fixture
async def camera_phone(live_server, world, tmp_path, settings):
    """A phone whose camera films a printed card of 张伟 (valid, serving the school)."""
    card = await service.issue(settings, None, world.guards.valid.id)
    url = service.card_url(settings, world.guards.valid.id, card.serial)
    video = tmp_path / "card.y4m"
    write_y4m(video, card_frame(url))
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    args = [*CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={video}"]
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=executable, args=args)
        context = await browser.new_context(**p.devices["Pixel 7"], base_url=live_server, locale="zh-CN")
        await context.grant_permissions(["camera"], origin=live_server)
        page = await context.new_page()
        yield page, url
        await context.close()
        await browser.close()


async def start_at_school(page) -> None:
    await log_in(page, "officer")
    await page.get_by_label("查找服务目标（名称、地址或单位）").fill("第一中学")
    await page.locator("#site-results li", has_text="第一中学校门").get_by_role("button", name="开始检查").click()
    await expect(page.get_by_role("heading", name="第一中学校门", level=1)).to_be_visible()
    await page.wait_for_load_state("networkidle")


async def test_live_camera_scan_adds_the_guard_with_its_verdict(camera_phone, world):
    page, url = camera_phone
    vendor_requests: list[str] = []
    page.on("request", lambda r: vendor_requests.append(r.url) if "jsQR" in r.url else None)
    await start_at_school(page)
    assert await page.evaluate("'BarcodeDetector' in window") is False
    assert vendor_requests == []  # the decoder is not loaded until the scanner opens

    await expect(page.locator("form[data-scanner] .scanner-view")).to_be_hidden()
    await page.get_by_role("button", name="扫码（摄像头）").click()
    result = page.locator("#scan-result")
    await expect(result.locator(".verdict")).to_have_text("有效", timeout=20000)
    await expect(result).to_contain_text("张伟")
    await expect(page.locator("article.guard", has_text="张伟").locator(".verdict")).to_have_text("有效")
    assert any(u.endswith("/static/vendor/jsQR.js") for u in vendor_requests)
    assert await page.evaluate("document.documentElement.dataset.qrDecoder") == "jsQR"
    checks = await GuardCheck.select(GuardCheck.guard, GuardCheck.verdict)
    assert checks == [{"guard": world.guards.valid.id, "verdict": "valid"}]


async def test_photo_of_the_card_path_in_chromium(camera_phone, world, tmp_path):
    page, url = camera_phone
    await start_at_school(page)
    photo = tmp_path / "card.jpg"
    buf = io.BytesIO()
    card_frame(url, (1280, 960)).save(buf, format="JPEG", quality=50)
    photo.write_bytes(buf.getvalue())
    await page.locator("form[data-scanner] input[name=card_photo]").set_input_files(str(photo))
    await expect(page.locator("#scan-result .verdict")).to_have_text("有效", timeout=20000)
    # A picture with no code gets a Chinese message beside the scanner.
    blank = tmp_path / "blank.jpg"
    Image.new("RGB", (640, 480), (200, 200, 200)).save(blank, format="JPEG")
    await page.locator("form[data-scanner] input[name=card_photo]").set_input_files(str(blank))
    await expect(page.locator("form[data-scanner] .error")).to_contain_text("照片中没有找到二维码")
    assert await GuardCheck.count() == 1
