"""Faults against real server processes (see conftest.py): twenty copies of every replayable
post at once; SIGKILL in the middle of a photo upload and of a submit, then the retry the
phone's outbox would make. Afterwards every record exists exactly once, the audit chain is
whole, and no answer was a 5xx."""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
import sys

import httpx

from server.models.audit import AuditEntry
from server.models.evidence import Photo
from server.models.inspections import ChecklistAnswer, Finding, GuardCheck, Inspection
from server.models.rectification import ClueReferral
from tests.faults.conftest import ROOT, session
from tests.support.flow import new_id
from tests.support.html import jpeg

N = 20
HX = {"HX-Request": "true"}


async def once_each(tally, what: str, count: int) -> None:
    if count == 0:
        tally.lost.append(what)
    elif count > 1:
        tally.duplicated.append(f"{what} ×{count}")


async def burst(tally, send) -> set[int]:
    tally.faults += 1
    answers = await asyncio.gather(*(send() for _ in range(N)), return_exceptions=True)
    statuses = set()
    for a in answers:
        if isinstance(a, Exception):
            tally.server_errors.append(f"no answer: {a!r}")
        else:
            statuses.add(tally.answer(a).status_code)
    return statuses


async def test_every_replayable_post_twenty_at_once(server, world, tally):
    w = world
    c = await session(server.url, "officer")
    key = new_id()
    assert await burst(tally, lambda: c.post("/inspections", data={"uuid": key, "site_id": str(w.sites.school.id)})) == {303}
    await once_each(tally, f"inspection {key}", await Inspection.count().where(Inspection.uuid == key))

    check = new_id()
    assert await burst(tally, lambda: c.post(f"/inspections/{key}/guards", headers=HX, data={
        "uuid": check, "guard_id": str(w.guards.none.id)})) == {200}
    await once_each(tally, f"guard check {check}", await GuardCheck.count().where(GuardCheck.uuid == check))

    finding = new_id()
    assert await burst(tally, lambda: c.post(f"/inspections/{key}/findings", headers=HX, data={
        "uuid": finding, "area": "4", "stat_column": "", "quantity": "1", "text": "挂靠经营"})) == {200}
    await once_each(tally, f"finding {finding}", await Finding.count().where(Finding.uuid == finding))

    photo, data = new_id(), jpeg(color=(3, 4, 5))
    assert await burst(tally, lambda: c.post(f"/inspections/{key}/photos", headers=HX, data={
        "photo_uuid": photo, "target": "general"}, files={"file": ("p.jpg", data, "image/jpeg")})) == {200}
    await once_each(tally, f"photo {photo}", await Photo.count().where(Photo.uuid == photo))

    for area in range(1, 9):
        assert await burst(tally, lambda: c.post(f"/inspections/{key}/checklist/{area}", headers=HX, data={
            "answer": "violation" if area in (1, 4) else "ok", "note": "问题" if area in (1, 4) else ""})) == {200}
    await once_each(tally, "checklist answers", await ChecklistAnswer.count().where(
        ChecklistAnswer.inspection.uuid == key) - 7)
    derived = await Finding.select(Finding.derived_key).where(
        (Finding.inspection.uuid == key) & Finding.derived_key.is_not_null())
    if len(derived) != len({d["derived_key"] for d in derived}):
        tally.duplicated.append("derived findings")

    assert await burst(tally, lambda: c.post(f"/inspections/{key}/submit")) == {303}
    insp = await Inspection.objects().where(Inspection.uuid == key).first()
    await once_each(tally, "submit", await AuditEntry.count().where(
        (AuditEntry.action == "submit") & (AuditEntry.record_id == str(insp.id))))

    town = await session(server.url, "liaison_town")
    clue = new_id()
    assert await burst(tally, lambda: town.post("/clues", data={
        "uuid": clue, "unit_id": str(w.units.estate_co.id), "description": "线索"},
        files=[("photos", ("p.jpg", jpeg(color=(9, 9, 9)), "image/jpeg"))])) == {303}
    await once_each(tally, f"clue {clue}", await ClueReferral.count().where(ClueReferral.uuid == clue))


def multipart(fields: dict[str, str], data: bytes) -> tuple[bytes, str]:
    boundary = "fault" + new_id().replace("-", "")
    out = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                   for k, v in fields.items())
    out += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.jpg"\r\n'
            f"Content-Type: image/jpeg\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"


async def killed_during(server, tally, send, delay: float) -> None:
    """Start a request, SIGKILL the server after `delay` seconds, start it again."""
    tally.faults += 1
    task = asyncio.ensure_future(send())
    await asyncio.sleep(delay)
    server.kill()
    try:
        r = await task
        tally.answer(r)
    except httpx.HTTPError:
        pass  # the phone saw the network fail: the outbox keeps the entry and retries
    server.start()


def fresh(c: httpx.AsyncClient, base: str) -> httpx.AsyncClient:
    """The same session on new connections (the old ones died with the process)."""
    return httpx.AsyncClient(base_url=base, cookies=c.cookies, headers=c.headers, timeout=60)


async def test_kill_mid_upload_and_mid_submit_then_retry(server, world, tally, app):
    w = world
    c = await session(server.url, "officer")
    data = jpeg(1600, 1200, color=(90, 30, 160))
    expected_photos: dict[str, str] = {}
    keys = []

    for n, delay in enumerate([0.0, 0.01, 0.03, 0.08, 0.15, 0.3]):
        key = new_id()
        keys.append(key)
        c = fresh(c, server.url)
        tally.answer(await c.post("/inspections", data={"uuid": key, "site_id": str(w.sites.estate.id)}))
        for area in range(1, 9):
            tally.answer(await c.post(f"/inspections/{key}/checklist/{area}", headers=HX,
                                      data={"answer": "ok", "note": ""}))

        # The upload: half the body sent, or all of it, when the process dies.
        photo = new_id()
        body, content_type = multipart({"photo_uuid": photo, "target": "general"}, data)
        expected_photos[photo] = hashlib.sha256(data).hexdigest()

        async def slow_body(pause=delay):
            yield body[: len(body) // 2]
            await asyncio.sleep(pause + 1)
            yield body[len(body) // 2:]

        # Even rounds: killed while the body is still arriving; odd rounds: the whole body sent,
        # killed while (or after) the server checks, stores and records it.
        await killed_during(server, tally, lambda: c.post(
            f"/inspections/{key}/photos", headers={**HX, "Content-Type": content_type},
            content=slow_body() if n % 2 == 0 else body), delay)
        c = fresh(c, server.url)
        r = tally.answer(await c.post(f"/inspections/{key}/photos", headers={**HX, "Content-Type": content_type},
                                      content=body))
        assert r.status_code == 200, r.text[:300]

        # The submit, killed after `delay`.
        await killed_during(server, tally, lambda: c.post(f"/inspections/{key}/submit"), delay / 10)
        c = fresh(c, server.url)
        r = tally.answer(await c.post(f"/inspections/{key}/submit"))
        assert r.status_code == 303, r.text[:300]

    for key in keys:
        insp = await Inspection.objects().where(Inspection.uuid == key).first()
        if insp is None or insp.status != "submitted":
            tally.lost.append(f"inspection {key} ({insp.status if insp else 'missing'})")
            continue
        await once_each(tally, f"submit of {key}", await AuditEntry.count().where(
            (AuditEntry.action == "submit") & (AuditEntry.record_id == str(insp.id))))
        if await ChecklistAnswer.count().where(ChecklistAnswer.inspection == insp.id) != 8:
            tally.lost.append(f"answers of {key}")
    store = app.state.store
    for photo, sha in expected_photos.items():
        rows = await Photo.objects().where(Photo.uuid == photo)
        await once_each(tally, f"photo {photo}", len(rows))
        if rows and (rows[0].sha256 != sha or hashlib.sha256(await store.get(rows[0].object_key)).hexdigest() != sha):
            tally.lost.append(f"the original of photo {photo}")

    verify = subprocess.run([sys.executable, "-m", "server", "audit", "verify"], cwd=ROOT, env=server.env,
                            capture_output=True, text=True, timeout=120)
    if verify.returncode != 0:
        tally.lost.append(f"audit chain: {verify.stdout[-300:]}")

