"""Services stopped under traffic (postgres backend; SQLite and local disk have no server to
stop): PostgreSQL restarted while officers save inspections, findings and photos; the S3
server stopped and started around a photo upload, a clue with a photo and the photo views.

While a service is away every answer is the Chinese 503 page naming it ("数据库暂时不可用" /
"照片存储暂时不可用", "已填写的内容不会丢失"), never a raw 500; nothing is half written (no
photo row without its objects); when it is back the app serves again without a restart,
and the retries the phone makes with the same client uuids leave exactly one record each."""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
import sys
import time

import httpx

from server import db
from server.models.audit import AuditEntry
from server.models.evidence import Photo
from server.models.inspections import Finding, Inspection
from server.models.rectification import CluePhoto, ClueReferral
from server.storage import ObjectNotFound
from tests.faults.conftest import ROOT, session
from tests.faults.test_faults import HX, once_each
from tests.support.flow import new_id
from tests.support.html import jpeg

DB, STORE = "数据库", "照片存储"


async def until_done(tally, send, ok: set[int], outage: str, limit: float = 90) -> httpx.Response:
    """Send, and send again after a 503 as the phone's outbox does, until the answer is `ok`."""
    deadline = time.monotonic() + limit
    while True:
        r = tally.answer(await send(), outage)
        if r.status_code != 503 or time.monotonic() > deadline:
            assert r.status_code in ok, f"{r.request.method} {r.request.url.path}: {r.status_code} {r.text[:300]}"
            return r
        await asyncio.sleep(0.2)


async def audit_verified(tally, env) -> None:
    verify = subprocess.run([sys.executable, "-m", "server", "audit", "verify"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    if verify.returncode != 0:
        tally.lost.append(f"audit chain: {verify.stdout[-300:]}{verify.stderr[-300:]}")


async def original_sha(store, key: str) -> str:
    try:
        return hashlib.sha256(await store.get(key)).hexdigest()
    except ObjectNotFound:  # a row without its object: half written
        return "missing"


async def reachable() -> None:
    """The test's own pool finds the restarted server (asyncpg reconnects on acquire)."""
    for _ in range(50):
        try:
            await db.ping()
            return
        except Exception:  # noqa: BLE001 - the pool's old connections dying one by one
            await asyncio.sleep(0.2)
    await db.ping()


async def test_postgres_restarted_under_traffic(server, world, tally, services, app):
    pg, w = services.postgres, world
    clients = [await session(server.url, name) for name in ("officer", "officer2", "liaison_town")]
    sites = [w.sites.school.id, w.sites.school.id, w.sites.estate.id]
    pid = server.proc.pid
    outages_over = asyncio.Event()
    made: list[tuple[str, str, str, str]] = []  # (inspection, finding, photo, sha256)

    async def field_day(c: httpx.AsyncClient, site_id: int, colour: int) -> None:
        rounds = 0
        while not outages_over.is_set() or rounds < 2:
            rounds += 1
            key, finding, photo = new_id(), new_id(), new_id()
            data = jpeg(color=(colour, rounds % 250, 7))
            made.append((key, finding, photo, hashlib.sha256(data).hexdigest()))
            await until_done(tally, lambda: c.post("/inspections", data={"uuid": key, "site_id": str(site_id)}),
                             {303}, DB)
            await until_done(tally, lambda: c.post(f"/inspections/{key}/checklist/all-ok", headers=HX), {200}, DB)
            await until_done(tally, lambda: c.post(f"/inspections/{key}/findings", headers=HX, data={
                "uuid": finding, "area": "4", "stat_column": "", "quantity": "1", "text": "挂靠经营"}), {200}, DB)
            await until_done(tally, lambda: c.post(f"/inspections/{key}/photos", headers=HX, data={
                "photo_uuid": photo, "target": "general"}, files={"file": ("p.jpg", data, "image/jpeg")}), {200}, DB)
            await until_done(tally, lambda: c.post(f"/inspections/{key}/submit"), {303}, DB)

    down = False

    async def outages() -> None:
        nonlocal down
        try:
            # An orderly restart, then a crash. The test cluster acknowledges commits before
            # writing them (synchronous_commit=off: fast tests), which a crash may lose, by
            # design; a production server does not. So it crashes with durable commits.
            for mode, then in (("fast", "-c synchronous_commit=on"), ("immediate", "")):
                await asyncio.sleep(0.7)
                tally.faults += 1
                down = True
                await asyncio.to_thread(pg.halt, mode)
                await asyncio.sleep(2)
                await asyncio.to_thread(pg.resume, then)
                down = False
        finally:
            outages_over.set()

    seen_before = tally.unavailable
    try:
        await asyncio.gather(outages(), *(field_day(c, s, 40 * i) for i, (c, s) in enumerate(zip(clients, sites))))
    finally:
        if down:  # the session's later tests need their database
            await asyncio.to_thread(pg.resume)
    await reachable()

    assert tally.unavailable > seen_before, "no request met the outage: the test proved nothing"
    assert server.proc.pid == pid and server.proc.poll() is None, "the app was restarted"
    async with httpx.AsyncClient(base_url=server.url) as c:
        assert (await c.get("/healthz")).status_code == 200
    for key, finding, photo, sha in made:
        insp = await Inspection.objects().where(Inspection.uuid == key).first()
        await once_each(tally, f"inspection {key}", await Inspection.count().where(Inspection.uuid == key))
        if insp is None:
            continue
        if insp.status != "submitted":
            tally.lost.append(f"the submit of {key} ({insp.status})")
        await once_each(tally, f"submit of {key}", await AuditEntry.count().where(
            (AuditEntry.action == "submit") & (AuditEntry.record_id == str(insp.id))))
        await once_each(tally, f"finding {finding}", await Finding.count().where(Finding.uuid == finding))
        rows = await Photo.objects().where(Photo.uuid == photo)
        await once_each(tally, f"photo {photo}", len(rows))
        if rows and await original_sha(app.state.store, rows[0].object_key) != sha:
            tally.lost.append(f"the original of photo {photo}")
    await audit_verified(tally, server.env)


async def test_s3_stopped_and_started(server, world, tally, services, app):
    s3, store = services.s3, app.state.store
    officer = await session(server.url, "officer")
    town = await session(server.url, "liaison_town")
    key, before = new_id(), new_id()
    await until_done(tally, lambda: officer.post("/inspections", data={
        "uuid": key, "site_id": str(world.sites.school.id)}), {303}, "")
    await until_done(tally, lambda: officer.post(f"/inspections/{key}/photos", headers=HX, data={
        "photo_uuid": before, "target": "general"}, files={"file": ("p.jpg", jpeg(color=(1, 2, 3)), "image/jpeg")}),
        {200}, "")

    photo, clue = new_id(), new_id()
    data = jpeg(color=(200, 10, 10))
    upload = lambda: officer.post(f"/inspections/{key}/photos", headers=HX, data={  # noqa: E731
        "photo_uuid": photo, "target": "general"}, files={"file": ("p.jpg", data, "image/jpeg")})
    refer = lambda: town.post("/clues", data={  # noqa: E731
        "uuid": clue, "unit_id": str(world.units.estate_co.id), "description": "无证保安"},
        files=[("photos", ("p.jpg", jpeg(color=(5, 200, 5)), "image/jpeg"))])
    objects_before = set(await store.list_keys())

    tally.faults += 1
    await asyncio.to_thread(s3.halt)
    try:
        for send in (upload, refer):
            started = time.monotonic()
            r = tally.answer(await send(), STORE)
            assert r.status_code == 503 and "照片存储暂时不可用" in r.text, (r.status_code, r.text[:300])
            assert time.monotonic() - started < 20, "the outage made the officer wait"
        for view in ("", "/thumb", "/download"):
            r = tally.answer(await officer.get(f"/photos/{before}{view}"), STORE)
            assert r.status_code == 503 and "照片存储暂时不可用" in r.text, (view, r.status_code, r.text[:200])
        r = tally.answer(await officer.get(f"/photos/{before}/verify"), STORE)
        assert r.status_code in (200, 503), r.status_code
        assert r.status_code == 200 or "照片存储暂时不可用" in r.text
        r = tally.answer(await officer.get(f"/inspections/{key}"), STORE)  # the page itself needs no object
        assert r.status_code == 200, r.status_code
        async with httpx.AsyncClient(base_url=server.url) as c:
            health = (await c.get("/healthz")).json()
            assert health["storage"] != "ok" and health["database"] == "ok", health
        # Nothing half written: no row for the refused photo or clue.
        assert await Photo.count().where(Photo.uuid == photo) == 0
        assert await ClueReferral.count().where(ClueReferral.uuid == clue) == 0
    finally:
        await asyncio.to_thread(s3.resume)

    r = await until_done(tally, upload, {200}, STORE)
    await until_done(tally, upload, {200}, STORE)  # the outbox's second copy
    r = await until_done(tally, refer, {303}, STORE)
    await until_done(tally, refer, {303}, STORE)
    await once_each(tally, f"photo {photo}", await Photo.count().where(Photo.uuid == photo))
    await once_each(tally, f"clue {clue}", await ClueReferral.count().where(ClueReferral.uuid == clue))
    row = await Photo.objects().where(Photo.uuid == photo).first()
    if row is None or await original_sha(store, row.object_key) != hashlib.sha256(data).hexdigest():
        tally.lost.append(f"the original of photo {photo}")
    clue_row = await ClueReferral.objects().where(ClueReferral.uuid == clue).first()
    if clue_row is None or await CluePhoto.count().where(CluePhoto.clue == clue_row.id) != 1:
        tally.lost.append(f"the photo of clue {clue}")
    # Every object is one a row names: the refused attempts left none behind.
    named = {k for p in await Photo.select(Photo.object_key, Photo.thumb_key) for k in p.values()}
    named |= {k for p in await CluePhoto.select(CluePhoto.object_key, CluePhoto.thumb_key) for k in p.values()}
    leftovers = {k for k in set(await store.list_keys()) - objects_before
                 if k.startswith(("photos/", "thumbs/", "clues/")) and k not in named}
    assert leftovers == set(), leftovers
    r = tally.answer(await officer.get(f"/photos/{before}"))
    assert r.status_code == 200 and r.content[:2] == b"\xff\xd8"
    await audit_verified(tally, server.env)
