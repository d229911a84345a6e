"""Evidence you can defend: server-made thumbnails, untouched originals, logged access listed
on the photo's page, on-demand verification, and the operator's integrity commands."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from server import images
from server.models.evidence import AccessLog, Photo
from tests.support.flow import new_id, start
from tests.support.html import errors, soup, visible_text
from tests.test_review import HX, submitted_inspection

ROOT = Path(__file__).resolve().parents[1]


def rotated_jpeg(width: int = 300, height: int = 120) -> bytes:
    """A landscape JPEG whose EXIF says 'rotate 90° clockwise to view' (orientation 6)."""
    img = Image.new("RGB", (width, height), (10, 120, 200))
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def cli(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "server", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_thumbnail_is_turned_upright_by_exif():
    thumb = images.thumbnail(rotated_jpeg())
    with Image.open(io.BytesIO(thumb)) as t:
        assert t.format == "JPEG" and t.size == (120, 300)


def camera_like_jpeg(width: int = 1600, height: int = 1200) -> bytes:
    """A JPEG with detail everywhere, so that cutting it cuts the compressed picture data."""
    img = Image.merge("RGB", [Image.effect_noise((width, height), 60) for _ in range(3)])
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


def test_a_large_photo_gets_an_upright_thumbnail_of_the_full_picture():
    checked, thumb = images.check_and_thumbnail(camera_like_jpeg(), 15 * 2**20, 50_000_000)
    assert (checked.width, checked.height) == (1600, 1200)  # as stored
    with Image.open(io.BytesIO(thumb)) as t:
        assert t.size == (300, 400)  # upright, 400 px on the long side


def test_a_truncated_photo_is_refused_by_every_check():
    data = camera_like_jpeg()
    for cut in (0.2, 0.6, 0.95):
        part = data[: int(len(data) * cut)]
        for check in (images.check_image, images.check_and_thumbnail):
            with pytest.raises(images.ImageRejected, match="文件不是有效的图片，或图片已损坏"):
                check(part, 15 * 2**20, 50_000_000)


async def test_a_truncated_upload_gets_a_chinese_message_and_stores_nothing(client_factory, world, app):
    c = await client_factory("officer")
    key = await start(c, world.sites.school.id)
    data = camera_like_jpeg()
    store = app.state.store
    before = await store.list_keys("photos/") + await store.list_keys("thumbs/")  # other tests' objects
    r = await c.post(f"/inspections/{key}/photos", headers=HX, data={"photo_uuid": new_id(), "target": "general"},
                     files={"file": ("cut.jpg", data[: len(data) // 2], "image/jpeg")})
    assert r.status_code == 422 and "文件不是有效的图片，或图片已损坏" in errors(r)
    assert await Photo.count() == 0
    assert await store.list_keys("photos/") + await store.list_keys("thumbs/") == before


async def test_original_is_stored_byte_for_byte_with_an_upright_thumbnail(client_factory, world, app):
    c = await client_factory("officer")
    key = await start(c, world.sites.school.id)
    data = rotated_jpeg()
    r = await c.post(f"/inspections/{key}/photos", headers=HX, data={"photo_uuid": "6b1d2c0e-8a55-4b57-9d4e-0f3f6a1c2b3d", "target": "general"},
                     files={"file": ("p.jpg", data, "image/jpeg")})
    assert r.status_code == 200
    photo = await Photo.objects().first()
    stored = await app.state.store.get(photo.object_key)
    assert stored == data and photo.sha256 == hashlib.sha256(data).hexdigest()
    assert (photo.width, photo.height) == (300, 120)  # as taken
    with Image.open(io.BytesIO(await app.state.store.get(photo.thumb_key))) as t:
        assert t.size == (120, 300)  # as seen
    assert photo.thumb_key.startswith("thumbs/") and photo.object_key.startswith("photos/")


async def test_photo_page_lists_every_view_and_download(client_factory, world, app):
    officer = await client_factory("officer")
    s = await submitted_inspection(officer, world.sites.school.id)
    office = await client_factory("office")

    r = await office.get(f"/photos/{s.scene}/view")
    assert r.status_code == 200
    page = soup(r)
    assert page.select_one("#zoom-img")["src"] == f"/photos/{s.scene}"
    meta = visible_text(page.select_one("dl.meta"))
    photo = await Photo.objects().where(Photo.uuid == s.scene).first()
    assert "拍摄时间 2021-01-05 10:15:00" in meta and "上传人 王警官" in meta
    assert "位置 40.045123, 117.408321" in meta and photo.sha256 in meta and "640 × 480 像素" in meta
    assert "暂无访问记录" in visible_text(page.select_one("#access-log"))

    assert (await office.get(f"/photos/{s.scene}")).content == await _original(app, photo)
    r = await office.get(f"/photos/{s.scene}/download")
    assert r.status_code == 200 and r.headers["content-disposition"] == f'attachment; filename="photo-{s.scene}.jpg"'
    assert r.headers["cache-control"] == "private, no-store"
    assert (await office.get(f"/photos/{s.scene}/thumb")).status_code == 200
    leader = await client_factory("leader")
    assert (await leader.get(f"/photos/{s.scene}")).status_code == 200

    page = soup(await office.get(f"/photos/{s.scene}/view"))
    log = page.select_one("#access-log")
    assert "访问记录（4）" in visible_text(log)
    rows = [(visible_text(tr.select_one("td[data-label=人员]")), visible_text(tr.select_one("td[data-label=操作]")))
            for tr in log.select("tbody tr")]
    assert rows == [("刘组长（leader）", "查看原图"), ("张主任（office）", "查看缩略图"),
                    ("张主任（office）", "下载原图"), ("张主任（office）", "查看原图")]
    assert all(visible_text(td) == "127.0.0.1" for td in log.select("td[data-label='IP 地址']"))

    # The officer sees the photo page, but not who looked at it.
    page = soup(await officer.get(f"/photos/{s.scene}/view"))
    assert page.select_one("#zoom-img") is not None and page.select_one("#access-log") is None


async def _original(app, photo: Photo) -> bytes:
    return await app.state.store.get(photo.object_key)


async def test_evidence_is_reachable_only_after_the_access_check(client_factory, client, world):
    officer = await client_factory("officer")
    s = await submitted_inspection(officer, world.sites.school.id)
    before = await AccessLog.count()
    for path in (f"/photos/{s.scene}", f"/photos/{s.scene}/thumb", f"/photos/{s.scene}/download",
                 f"/photos/{s.scene}/view", f"/photos/{s.scene}/verify"):
        r = await client.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), path
        outsider = await client_factory("liaison_town")
        r = await outsider.get(path)
        assert r.status_code == 404 and "页面或记录不存在" in visible_text(soup(r)), path
    assert await AccessLog.count() == before  # a refused request reads nothing and logs nothing


async def test_verify_on_the_photo_page_detects_a_changed_or_missing_original(client_factory, world, app):
    officer = await client_factory("officer")
    s = await submitted_inspection(officer, world.sites.school.id)
    office = await client_factory("office")
    photo = await Photo.objects().where(Photo.uuid == s.scene).first()

    r = await office.get(f"/photos/{s.scene}/verify", headers=HX)
    assert visible_text(soup(r)) == "校验通过：存储的原图与入库时的 SHA-256 一致，未被改动。"
    forged = b"\xff\xd8" + b"forged" * 100
    await app.state.store.put(photo.object_key, forged, "image/jpeg")
    r = await office.get(f"/photos/{s.scene}/verify")  # without htmx: the whole page with the result
    result = visible_text(soup(r).select_one("#verify-result"))
    assert "校验失败：存储的原图与入库时的 SHA-256 不一致" in result and hashlib.sha256(forged).hexdigest() in result
    await app.state.store.delete(photo.object_key)
    r = await office.get(f"/photos/{s.scene}/verify", headers=HX)
    assert "校验失败：存储中找不到原图文件" in visible_text(soup(r))
    logged = await AccessLog.select(AccessLog.action).where(AccessLog.object_id == str(photo.id))
    assert [x["action"] for x in logged] == ["photo_verify"] * 3


async def test_cli_evidence_verify_reports_every_mismatch_and_missing_object(client_factory, world, app, service_env):
    officer = await client_factory("officer")
    s = await submitted_inspection(officer, world.sites.school.id)
    done = cli(service_env, "evidence", "verify")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 photos checked, 0 mismatched, 0 missing" in done.stdout

    scene = await Photo.objects().where(Photo.uuid == s.scene).first()
    proof = await Photo.objects().where(Photo.uuid == s.proof).first()
    original = await app.state.store.get(scene.object_key)
    tampered = bytearray(original)
    tampered[-10] ^= 0xFF  # one flipped byte
    await app.state.store.put(scene.object_key, bytes(tampered), "image/jpeg")
    await app.state.store.delete(proof.object_key)

    done = cli(service_env, "evidence", "verify")
    assert done.returncode == 1
    assert f"MISMATCH photo {scene.id}: object {scene.object_key} hashes to {hashlib.sha256(bytes(tampered)).hexdigest()}" in done.stdout
    assert f"recorded at ingest {scene.sha256}" in done.stdout
    assert f"MISSING  photo {proof.id}: object {proof.object_key} is not in the store" in done.stdout
    assert "2 photos checked, 1 mismatched, 1 missing" in done.stdout
    assert "有照片原图被改动或缺失" in done.stderr


async def test_cli_storage_check_finds_rows_without_objects_and_objects_without_rows(client_factory, world, app, service_env):
    store = app.state.store
    for key in await store.list_keys():  # leftovers of earlier tests: their rows are gone
        await store.delete(key)
    officer = await client_factory("officer")
    s = await submitted_inspection(officer, world.sites.school.id)
    done = cli(service_env, "storage", "check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 keys referenced, 4 objects stored, 0 rows without objects, 0 objects without rows" in done.stdout

    scene = await Photo.objects().where(Photo.uuid == s.scene).first()
    await store.delete(scene.thumb_key)
    await store.put("photos/2021/01/stray.jpg", b"left behind", "image/jpeg")
    await store.put("exports/job-1/status.json", b"{}", "application/json")  # rowless by design
    done = cli(service_env, "storage", "check")
    assert done.returncode == 1
    assert f"NO OBJECT  photo {scene.id} thumb_key: {scene.thumb_key}" in done.stdout
    assert "NO ROW     photos/2021/01/stray.jpg" in done.stdout
    assert "1 rows without objects, 1 objects without rows" in done.stdout and "exports/" not in done.stdout
