"""Offline first: work in a basement, submit when the signal returns, lose nothing."""

from __future__ import annotations

import io
import random
from pathlib import Path

from PIL import Image
from playwright.async_api import expect

from server.models.evidence import Photo
from server.models.inspections import ChecklistAnswer, Inspection
from tests.browser.conftest import log_in
from tests.support.html import jpeg


async def open_inspection(page, site_name: str, query: str) -> None:
    await page.get_by_label("查找服务目标（名称、地址或单位）").fill(query)
    await page.locator("#site-results li", has_text=site_name).get_by_role("button", name="开始检查").click()
    await expect(page.get_by_role("heading", name=site_name, level=1)).to_be_visible()
    await page.wait_for_load_state("networkidle")
    # The service worker controls the page before the signal goes.
    await page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    # (installing precaches the shell: slow on a loaded machine, so a generous wait)
    await page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=90_000)


async def outbox_entries(page) -> list[dict]:
    return await page.evaluate(
        "InspectOutbox.list().then(es => es.map(e => ({status: e.status, message: e.message, url: e.url})))")


async def test_offline_inspection_reaches_the_server_exactly_once(phone, world, tmp_path: Path):
    page = phone
    await log_in(page, "officer")
    await open_inspection(page, "第一中学校门", "第一中学")
    for n in range(1, 8):
        await page.locator(f"#area-{n}").get_by_label("符合", exact=True).check()
        await expect(page.locator(f"#area-{n}").get_by_label("符合", exact=True)).to_be_checked()
    await page.wait_for_load_state("networkidle")

    await page.context.set_offline(True)
    await page.locator("#area-8").get_by_label("不适用", exact=True).check()
    photo = tmp_path / "gate.jpg"
    photo.write_bytes(jpeg(1200, 900))
    await page.locator("#general input[type=file]").set_input_files(str(photo))
    await expect(page.locator("#general .thumbs li.pending")).to_have_count(1)
    await page.locator("#general input[type=file]").set_input_files(str(photo))
    await expect(page.locator("#general .thumbs li.pending")).to_have_count(2)
    await page.get_by_role("button", name="提交检查").click()
    await expect(page.locator("[data-outbox-badge]")).to_contain_text("4")
    assert [e["status"] for e in await outbox_entries(page)] == ["pending"] * 4

    # A reload in the basement still shows the inspection, from the phone's cache.
    await page.reload()
    await expect(page.get_by_role("heading", name="第一中学校门", level=1)).to_be_visible()
    await expect(page.locator("[data-outbox-badge]")).to_contain_text("4")
    assert await Inspection.count().where(Inspection.status == "submitted") == 0

    await page.context.set_offline(False)
    await page.evaluate("window.dispatchEvent(new Event('online'))")
    await expect(page.locator("[data-outbox-badge]")).to_be_hidden(timeout=15000)

    insp = await Inspection.objects().first()
    assert await Inspection.count() == 1
    assert insp.status == "submitted"
    assert await Photo.count().where(Photo.inspection == insp.id) == 2
    assert await ChecklistAnswer.count().where(ChecklistAnswer.inspection == insp.id) == 8


async def test_replaying_one_entry_many_times_makes_one_photo(phone, world):
    page = phone
    await log_in(page, "officer")
    await open_inspection(page, "绿园小区", "绿园")
    key = page.url.rsplit("/", 1)[1]
    body = list(jpeg(800, 600))
    await page.evaluate("""async ([key, bytes]) => {
        const headers = JSON.parse(document.body.getAttribute('hx-headers'));
        const token = headers['x-csrftoken'], actor = headers['x-actor'];  // the outbox entry's owner
        const photoId = crypto.randomUUID();
        for (let i = 0; i < 5; i++) {
            const fd = new FormData();
            fd.append('photo_uuid', photoId); fd.append('target', 'general');
            fd.append('file', new File([new Uint8Array(bytes)], 'p.jpg', {type: 'image/jpeg'}));
            await InspectOutbox.enqueue({url: `/inspections/${key}/photos`, body: fd, csrf: token, actor});
        }
        await InspectOutbox.flush();
    }""", [key, body])
    assert await outbox_entries(page) == []
    assert await Photo.count() == 1


async def test_a_refused_entry_stays_with_its_message(phone, world):
    page = phone
    await log_in(page, "officer")
    await open_inspection(page, "绿园小区", "绿园")
    key = page.url.rsplit("/", 1)[1]
    await page.evaluate("""async (key) => {
        const headers = JSON.parse(document.body.getAttribute('hx-headers'));
        const token = headers['x-csrftoken'], actor = headers['x-actor'];  // the outbox entry's owner
        const fd = new FormData();
        fd.append('photo_uuid', crypto.randomUUID()); fd.append('target', 'general');
        fd.append('file', new File([new TextEncoder().encode('not a photo')], 'x.jpg', {type: 'image/jpeg'}));
        await InspectOutbox.enqueue({url: `/inspections/${key}/photos`, body: fd, csrf: token, actor});
        await InspectOutbox.flush();
        await InspectOutbox.flush();  // not retried blindly: still one failed entry
    }""", key)
    entries = await outbox_entries(page)
    assert len(entries) == 1 and entries[0]["status"] == "failed"
    assert "不是有效的图片" in entries[0]["message"]
    await page.goto("/outbox")
    await expect(page.locator(".outbox-item")).to_contain_text("不是有效的图片")
    await expect(page.locator("[data-outbox-badge]")).to_contain_text("1")
    page.once("dialog", lambda d: d.accept())
    await page.locator(".outbox-item").get_by_role("button", name="删除").click()
    await expect(page.locator(".outbox-item")).to_have_count(0)
    assert await Photo.count() == 0


async def test_an_entry_met_by_a_503_stays_pending_and_goes_when_the_service_is_back(phone, world):
    page = phone
    await log_in(page, "officer")
    await open_inspection(page, "绿园小区", "绿园")
    key = page.url.rsplit("/", 1)[1]
    body = list(jpeg(800, 600))
    sent = await page.evaluate("""async ([key, bytes]) => {
        const headers = JSON.parse(document.body.getAttribute('hx-headers'));
        const fd = new FormData();
        fd.append('photo_uuid', crypto.randomUUID()); fd.append('target', 'general');
        fd.append('file', new File([new Uint8Array(bytes)], 'p.jpg', {type: 'image/jpeg'}));
        await InspectOutbox.enqueue({url: `/inspections/${key}/photos`, body: fd,
                                     csrf: headers['x-csrftoken'], actor: headers['x-actor']});
        // The database restarting: the server answers its 503 page.
        const real = window.fetch;
        window.fetch = async () => new Response('<p class="error">数据库暂时不可用，本次操作没有完成</p>',
                                                {status: 503, headers: {'Retry-After': '5'}});
        try { return await InspectOutbox.flush(); } finally { window.fetch = real; }
    }""", [key, body])
    assert sent == 0
    assert [(e["status"], e["message"]) for e in await outbox_entries(page)] == [("pending", "")]
    assert await Photo.count() == 0
    assert await page.evaluate("InspectOutbox.flush()") == 1  # back: sent without the officer's tap
    assert await outbox_entries(page) == []
    assert await Photo.count() == 1


async def test_logout_empties_outbox_and_caches(phone, world):
    page = phone
    await log_in(page, "officer")
    await open_inspection(page, "绿园小区", "绿园")
    await page.context.set_offline(True)
    await page.locator("#area-1").get_by_label("符合", exact=True).check()
    await expect(page.locator("[data-outbox-badge]")).to_contain_text("1")
    assert await page.evaluate("caches.keys().then(k => k.length)") > 0
    await page.context.set_offline(False)
    await page.evaluate("InspectOutbox.list().then(() => true)")
    page.once("dialog", lambda d: d.accept())  # "还有 1 条内容未发送，退出将删除它们"
    await page.get_by_role("button", name="退出").click()
    await page.wait_for_url("**/login**")
    assert await outbox_entries(page) == []
    assert await page.evaluate("caches.keys().then(k => k.filter(n => n.startsWith('inspect-pages')).length)") == 0


def camera_jpeg(width: int, height: int) -> bytes:
    """A 12-megapixel photo with texture, like a camera's, not a flat colour."""
    rnd = random.Random(7)
    small = Image.new("RGB", (width // 16, height // 16))
    small.putdata([(rnd.randrange(256), rnd.randrange(256), rnd.randrange(256)) for _ in range(small.width * small.height)])
    out = io.BytesIO()
    small.resize((width, height), Image.BICUBIC).save(out, format="JPEG", quality=92)
    return out.getvalue()


async def test_photos_leave_the_phone_downscaled(phone, world, tmp_path: Path):
    page = phone
    await log_in(page, "officer")
    await open_inspection(page, "绿园小区", "绿园")
    original = camera_jpeg(4000, 3000)
    big = tmp_path / "camera.jpg"
    big.write_bytes(original)
    await page.locator("#general input[type=file]").set_input_files(str(big))
    await expect(page.locator("#general .thumbs img")).to_have_count(1)
    photo = await Photo.objects().first()
    assert (photo.width, photo.height) == (2048, 1536)
    assert photo.content_type == "image/jpeg" and photo.bytes < len(original)
    assert photo.captured_at is not None


async def test_a_card_scanned_offline_is_checked_from_the_cached_roster(phone, world, app):
    from server.cards.service import card_url
    from server.models.inspections import GuardCheck
    from server.models.registry import GuardCard

    await GuardCard.insert(GuardCard(guard=world.guards.valid.id, serial=1),
                           GuardCard(guard=world.guards.revoked.id, serial=1))
    page = phone
    await log_in(page, "officer")
    await open_inspection(page, "第一中学校门", "第一中学")
    await page.context.set_offline(True)
    code = card_url(app.state.settings, world.guards.valid.id, 1)
    form = page.locator("#guards form[data-scanner]")
    await form.locator("input[name=code]").evaluate("(el, v) => { el.value = v; el.form.requestSubmit(); }", code)
    scan = page.locator(".offline-scan")
    await expect(scan.locator(".verdict")).to_have_text("有效")
    await expect(scan).to_contain_text("张伟")
    await expect(scan).to_contain_text("离线核验，数据截至")
    await expect(page.locator("[data-outbox-badge]")).to_contain_text("1")

    await page.context.set_offline(False)
    await page.evaluate("window.dispatchEvent(new Event('online'))")
    await expect(page.locator("[data-outbox-badge]")).to_be_hidden(timeout=15000)
    check = await GuardCheck.objects().where(GuardCheck.guard == world.guards.valid.id).first()
    assert check is not None and check.verdict == "valid"
