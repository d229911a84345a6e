"""A real server process under a mixed load: twenty clients at once, the office viewing guard
files and photos, revealing ID numbers, issuing cards and taking portraits, while officers
start, answer, photograph and submit inspections. No answer may be a 5xx (on SQLite every
write of the process goes through its one writer: server/db.py), and nothing is lost."""

from __future__ import annotations

import asyncio
import io
import re
from pathlib import Path

import httpx
from PIL import Image

from server.models.evidence import AccessLog, Photo
from server.models.inspections import Inspection
from server.models.registry import GuardCard
from tests.browser.conftest import live_server  # noqa: F401 - the uvicorn process
from tests.conftest import PASSWORD
from tests.support.flow import new_id
from tests.support.html import jpeg

ROUNDS = 2  # each client's script, twice: 20 clients, 320 requests in all


async def session(base: str, username: str) -> httpx.AsyncClient:
    c = httpx.AsyncClient(base_url=base, follow_redirects=False, timeout=120)
    await c.get("/login")
    token = c.cookies.get("csrftoken")
    r = await c.post("/login", data={"username": username, "password": PASSWORD, "next": "/", "_csrf_token": token})
    assert r.status_code in (302, 303), r.text
    c.headers["x-csrftoken"] = c.cookies.get("csrftoken")  # a login rotates the token
    return c


def portrait(shade: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (300, 400), (shade, 120, 90)).save(out, format="JPEG")
    return out.getvalue()


async def test_twenty_clients_mixing_reads_and_writes_get_no_5xx(live_server, world, service_env):  # noqa: F811
    base = live_server
    w = world
    answers: list[tuple[str, str, int]] = []

    async def call(c: httpx.AsyncClient, method: str, url: str, **kw) -> httpx.Response:
        r = await c.request(method, url, **kw)
        answers.append((method, url, r.status_code))
        return r

    # Something to look at: a submitted inspection with a photo, and a guard's portrait.
    officer = await session(base, "officer")
    key = new_id()
    await call(officer, "POST", "/inspections", data={"uuid": key, "site_id": str(w.sites.school.id)})
    photo = new_id()
    await call(officer, "POST", f"/inspections/{key}/photos", data={"photo_uuid": photo, "target": "general"},
               files={"file": ("p.jpg", jpeg(color=(1, 2, 3)), "image/jpeg")})
    office = await session(base, "office")
    gid = w.guards.valid.id
    await call(office, "POST", f"/registry/guards/{gid}/portrait", files={"file": ("me.jpg", portrait(10), "image/jpeg")})
    assert all(s < 400 for _, _, s in answers), answers

    async def office_client(n: int) -> None:
        c = await session(base, "office")
        for _ in range(ROUNDS):
            await call(c, "GET", f"/registry/guards/{gid}")
            await call(c, "POST", f"/registry/guards/{gid}/reveal", headers={"HX-Request": "true"})
            await call(c, "GET", f"/photos/{photo}/thumb")
            await call(c, "GET", f"/photos/{photo}")
            await call(c, "GET", f"/photos/{photo}/download")
            await call(c, "GET", f"/registry/guards/{gid}/portrait")
            await call(c, "POST", f"/cards/guards/{gid}/issue")
            await call(c, "POST", f"/registry/guards/{w.guards.estate.id}/portrait",
                       files={"file": ("me.jpg", portrait(n * 10), "image/jpeg")})
        await c.aclose()

    started: list[str] = []

    async def officer_client(n: int) -> None:
        c = await session(base, "officer" if n % 2 else "officer2")
        for r in range(ROUNDS):
            k = new_id()
            started.append(k)
            await call(c, "POST", "/inspections", data={"uuid": k, "site_id": str(w.sites.estate.id)})
            for area in range(1, 9):
                await call(c, "POST", f"/inspections/{k}/checklist/{area}", headers={"HX-Request": "true"},
                           data={"answer": "ok", "note": ""}) if area in (1, 8) or r == 0 else None
            await call(c, "POST", f"/inspections/{k}/photos", headers={"HX-Request": "true"},
                       data={"photo_uuid": new_id(), "target": "general"},
                       files={"file": ("p.jpg", jpeg(color=(n, r, 9)), "image/jpeg")})
            await call(c, "GET", f"/inspections/{k}")
        await c.aclose()

    before = len(answers)
    await asyncio.gather(*[office_client(n) for n in range(10)], *[officer_client(n) for n in range(10)])
    load = answers[before:]
    failed = [a for a in load if a[2] >= 500]
    log = (Path(service_env["DATA_DIR"]).parent / "server.log").read_text(errors="replace")
    causes = [line for line in log.splitlines() if "错误编号" in line or re.match(r"^\w[\w.]*(Error|Exception)\b", line)]
    assert not failed, f"{len(failed)} of {len(load)} answered 5xx: {failed[:5]}\n" + "\n".join(causes[-20:])
    assert len(load) >= 300 and all(s < 400 for _, _, s in load), sorted({a for a in load if a[2] >= 400})[:5]

    # Nothing lost: every inspection, every photo, every logged view.
    assert await Inspection.count().where(Inspection.uuid.is_in(started)) == len(started) == 10 * ROUNDS
    assert await Photo.count() == 1 + 10 * ROUNDS
    assert await AccessLog.count().where(AccessLog.action == "pii_reveal") == 10 * ROUNDS
    assert await AccessLog.count().where(AccessLog.object_table == "photo") == 3 * 10 * ROUNDS
    assert await GuardCard.count().where(GuardCard.guard == gid) == 10 * ROUNDS
    assert "database is locked" not in log
