"""Shared phones and the field (issue 16): headers, sessions, the outbox's owner, what a
liaison's guard lookup shows, what the offline roster carries, and login throttling."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from pathlib import Path

import httpx

from server import clock
from server.cards import service as cards
from server.models.auth import LoginAttempt, Session
from server.models.inspections import GuardCheck
from server.models.registry import GuardCard
from tests.conftest import login
from tests.support.flow import new_id, start
from tests.support.html import soup, visible_text

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


# ---------------------------------------------------------------- headers


async def test_pages_carry_the_security_headers_and_are_not_cached(client_factory, world):
    c = await client_factory("office")
    r = await c.get(f"/registry/guards/{world.guards.valid.id}")
    assert r.status_code == 200
    csp = dict(part.strip().split(" ", 1) for part in r.headers["content-security-policy"].split(";"))
    assert csp["script-src"] == "'self'"  # no inline script, no eval
    assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"
    assert r.headers["cache-control"] == "no-store"  # a guard's file stays out of the HTTP cache
    # The login page and an unknown path too; static files may be cached.
    anon = await client_factory()
    for path in ("/login", "/no-such-page"):
        assert "frame-ancestors 'none'" in (await anon.get(path)).headers["content-security-policy"]
    static = await anon.get("/static/js/app.js")
    assert static.status_code == 200 and "no-store" not in static.headers.get("cache-control", "")


def test_no_template_has_inline_script_or_event_handler_attributes():
    found = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"<script\b([^>]*)>", text):
            attrs = m.group(1)
            if "src=" not in attrs and 'type="application/json"' not in attrs:
                found.append(f"{path.relative_to(TEMPLATES)}: inline <script>")
        for m in re.finditer(r"<[a-z][^>]*\s(on[a-z]+)=", text):
            found.append(f"{path.relative_to(TEMPLATES)}: {m.group(1)}=")
        for m in re.finditer(r'hx-trigger="[^"]*\[', text):
            found.append(f"{path.relative_to(TEMPLATES)}: hx-trigger filter (needs eval)")
    assert found == []


# ---------------------------------------------------------------- sessions


async def test_login_rotates_the_csrf_token_and_clears_the_phone(client, world):
    await client.get("/login")
    before = client.cookies.get("csrftoken")
    r = await client.post("/login", data={"username": "officer", "password": "testpass1", "_csrf_token": before})
    assert r.status_code == 303
    assert r.headers["clear-site-data"] == '"cache", "storage"'
    after = client.cookies.get("csrftoken")
    assert after and after != before
    # A form made before the login no longer passes.
    r = await client.post("/inspections", data={"uuid": new_id(), "site_id": str(world.sites.school.id)},
                          headers={"x-csrftoken": before})
    assert r.status_code == 403 and "页面已过期" in r.text
    r = await client.post("/inspections", data={"uuid": new_id(), "site_id": str(world.sites.school.id)},
                          headers={"x-csrftoken": after})
    assert r.status_code == 303

    r = await client.post("/logout", headers={"x-csrftoken": after})
    assert r.status_code == 303 and r.headers["clear-site-data"] == '"cache", "storage"'
    assert client.cookies.get("csrftoken") != after


async def test_logging_back_in_to_send_ones_own_unsent_work_keeps_it(client, world):
    await client.get("/login")
    token = client.cookies.get("csrftoken")
    officer = world.users.officer.id
    r = await client.post("/login", data={"username": "officer", "password": "testpass1", "_csrf_token": token,
                                          "outbox_actors": f"{world.users.officer2.id},{officer}"})
    assert r.headers["clear-site-data"] == '"cache"'  # the storage holding the outbox stays
    c2 = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
    await c2.get("/login")
    r = await c2.post("/login", data={"username": "officer2", "password": "testpass1",
                                      "_csrf_token": c2.cookies.get("csrftoken"), "outbox_actors": str(officer)})
    assert r.headers["clear-site-data"] == '"cache", "storage"'  # someone else's: wiped
    await c2.aclose()


async def test_an_idle_session_ends(client_factory, world):
    c = await client_factory("officer")
    assert (await c.get("/")).status_code == 200
    await Session.update({Session.last_seen_at: clock.now() - dt.timedelta(minutes=59)}).where(
        Session.revoked_at.is_null())
    assert (await c.get("/")).status_code == 200  # used within the hour: still on
    await Session.update({Session.last_seen_at: clock.now() - dt.timedelta(minutes=62)}).where(
        Session.revoked_at.is_null())
    r = await c.get("/")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


# ---------------------------------------------------------------- the outbox's owner


async def test_a_request_made_for_another_user_is_refused(client_factory, world):
    from server.models.inspections import ChecklistAnswer

    officer = await client_factory("officer")
    key = await start(officer, world.sites.school.id)
    other = await client_factory("officer2")
    # officer2's own page works: it names officer2.
    r = await other.post("/inspections", data={"uuid": new_id(), "site_id": str(world.sites.school.id)},
                         headers={"x-actor": str(world.users.officer2.id), "HX-Request": "true"})
    assert r.status_code < 300, r.text
    # An answer officer queued on this phone, replayed in officer2's session (the cookie is
    # officer2's, the CSRF token valid): refused, and nothing recorded.
    for headers in ({"x-actor": str(world.users.officer.id), "x-outbox-replay": "1"},
                    {"x-outbox-replay": "1"},  # a replay that names nobody
                    {"x-actor": str(world.users.officer.id)}):  # officer's page left open
        r = await other.post(f"/inspections/{key}/checklist/1", data={"answer": "ok", "note": ""},
                             headers={**headers, "HX-Request": "true"})
        assert r.status_code == 403
        assert "另一位用户" in visible_text(soup(r).select_one(".error"))
    assert await ChecklistAnswer.count() == 0
    # The owner's own replay goes through.
    r = await officer.post(f"/inspections/{key}/checklist/1", data={"answer": "ok", "note": ""},
                           headers={"x-actor": str(world.users.officer.id), "x-outbox-replay": "1",
                                    "HX-Request": "true"})
    assert r.status_code == 200 and await ChecklistAnswer.count() == 1


# ---------------------------------------------------------------- a liaison's guard lookup


async def test_a_liaison_cannot_read_a_guard_outside_its_scope_by_id_or_number(client_factory, world):
    edu = await client_factory("liaison_edu")
    key = await start(edu, world.sites.school.id)
    outside = world.guards.estate  # 赵敏, a property company's guard in another township
    r = await edu.post(f"/inspections/{key}/guards", data={"uuid": new_id(), "guard_id": str(outside.id)},
                       headers={"HX-Request": "true"})
    assert r.status_code == 422 and "所选保安员不存在" in r.text
    assert "赵敏" not in r.text and "绿园物业" not in r.text
    r = await edu.post(f"/inspections/{key}/guards", data={"uuid": new_id(), "certificate_no": outside.certificate_no},
                       headers={"HX-Request": "true"})
    assert "赵敏" not in r.text and "绿园物业" not in r.text
    check = await GuardCheck.objects().where(GuardCheck.typed_certificate_no == outside.certificate_no).first()
    assert check is not None and check.guard is None  # recorded as typed, not linked to the guard
    # The school's own roster (the security company's guard posted there) is in reach.
    r = await edu.post(f"/inspections/{key}/guards", data={"uuid": new_id(), "guard_id": str(world.guards.valid.id)},
                       headers={"HX-Request": "true"})
    assert r.status_code == 200 and "张伟" in r.text
    # The standalone scan page: a number outside the scope is "not in the roster".
    r = await edu.post("/scan", data={"certificate_no": outside.certificate_no})
    assert r.status_code == 422 and "赵敏" not in r.text
    # An officer (district-wide) still finds anyone.
    officer = await client_factory("officer")
    key2 = await start(officer, world.sites.school.id)
    r = await officer.post(f"/inspections/{key2}/guards", data={"uuid": new_id(), "guard_id": str(outside.id)},
                           headers={"HX-Request": "true"})
    assert r.status_code == 200 and "赵敏" in r.text


# ---------------------------------------------------------------- the offline roster


async def test_the_offline_roster_carries_no_card_token(settings, client_factory, world):
    from server.models.registry import Guard

    office = await client_factory("office")
    for _ in range(2):  # issued, then reissued: the first card is superseded
        assert (await office.post(f"/cards/guards/{world.guards.valid.id}/issue")).status_code == 303
    # A card printed before the certificate was revoked, and one of a guard dismissed since.
    await GuardCard.insert(GuardCard(guard=world.guards.revoked.id, serial=1),
                           GuardCard(guard=world.guards.none.id, serial=1))
    await Guard.update({Guard.employment_status: "dismissed"}).where(Guard.id == world.guards.none.id)
    cards_now = {c["guard"]: c["serial"] for c in await GuardCard.select().where(GuardCard.revoked_at.is_null())}
    officer = await client_factory("officer")
    key = await start(officer, world.sites.school.id)
    r = await officer.get(f"/inspections/{key}")
    page = r.text
    roster = json.loads(soup(r).select_one("#offline-cards").string)
    valid_url = cards.card_url(settings, world.guards.valid.id, cards_now[world.guards.valid.id])
    token = valid_url.rsplit("/c/", 1)[1]
    old_token = cards.card_url(settings, world.guards.valid.id, 1).rsplit("/c/", 1)[1]
    assert token not in page and old_token not in page  # a copied page cannot print a card
    salt = bytes.fromhex(roster["salt"])
    digest = hmac.new(salt, token.encode(), hashlib.sha256).hexdigest()
    assert roster["cards"][digest]["name"] == "张伟" and roster["cards"][digest]["label"] == "有效"
    # Only current cards of active guards: not the superseded card, not the dismissed guard's;
    # the revoked certificate's card is there, with its verdict.
    assert hmac.new(salt, old_token.encode(), hashlib.sha256).hexdigest() not in roster["cards"]
    assert sorted(e["name"] for e in roster["cards"].values()) == ["张伟", "王磊"]
    assert "李强" not in page
    # Each page gets its own salt.
    again = json.loads(soup(await officer.get(f"/inspections/{key}")).select_one("#offline-cards").string)
    assert again["salt"] != roster["salt"]


# ---------------------------------------------------------------- login throttling


def _client_at(app, ip: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(ip, 5555)),
                             base_url="http://testserver")


async def _age_failures(seconds: int) -> None:
    await LoginAttempt.update({LoginAttempt.at: LoginAttempt.at - dt.timedelta(seconds=seconds)}).where(
        LoginAttempt.success == False)  # noqa: E712


async def test_an_attacker_cannot_lock_an_officer_out(app, world):
    attacker = _client_at(app, "203.0.113.9")
    for _ in range(5):
        assert (await login(attacker, "officer", "guess-guess")).status_code == 401
    r = await login(attacker, "officer", "guess-guess")
    assert r.status_code == 401 and "登录失败次数过多，请 2 秒后再试" in visible_text(soup(r).select_one(".error"))
    # The waits grow with every failure the attacker gets in (and a refused try costs no hash).
    waits = []
    for _ in range(5):
        await _age_failures(70)
        await login(attacker, "officer", "guess-guess")
        r = await login(attacker, "officer", "guess-guess")
        waits.append(int(re.search(r"请 (\d+) 秒", r.text).group(1)))
    assert waits == sorted(waits) and waits[-1] == 60  # capped at a minute for a username
    # The real officer, a minute after the last failure, gets in.
    await _age_failures(61)
    officer = _client_at(app, "198.51.100.7")
    assert (await login(officer, "officer")).status_code == 303
    await attacker.aclose()
    await officer.aclose()


async def test_one_address_trying_many_usernames_is_slowed_down(app, world):
    bot = _client_at(app, "203.0.113.66")
    for n in range(20):
        assert "用户名或密码错误" in (await login(bot, f"nobody{n}", "guess-guess")).text
    r = await login(bot, "nobody-else", "guess-guess")
    assert r.status_code == 401 and "登录失败次数过多" in r.text
    assert await LoginAttempt.count() == 20  # refused before any hash: nothing recorded
    # Another address is not affected.
    other = _client_at(app, "198.51.100.8")
    assert (await login(other, "officer")).status_code == 303
    await bot.aclose()
    await other.aclose()


# ---------------------------------------------------------------- ID numbers and downloads

ID_NUMBER = "12022519850312003"


async def test_the_guard_edit_form_shows_the_id_number_masked_and_blank_keeps_it(client_factory, world):
    from server.models.evidence import AccessLog
    from server.models.registry import Guard
    from server.registry.ids import id_check_digit

    number = ID_NUMBER + id_check_digit(ID_NUMBER)
    other = "12022519900101002" + id_check_digit("12022519900101002")
    gid = world.guards.valid.id
    await Guard.update({Guard.id_number: number}).where(Guard.id == gid)
    office = await client_factory("office")
    r = await office.get(f"/registry/guards/{gid}/edit")
    assert r.status_code == 200 and number not in r.text
    field = soup(r).select_one("input[name=id_number]")
    assert field.get("value", "") == ""
    assert number[:4] + "*" * 10 + number[-4:] in visible_text(soup(r))
    assert await AccessLog.count().where(AccessLog.action == "pii_reveal") == 0

    form = {"name": "张伟", "employer": str(world.units.secco.id), "site": str(world.sites.school.id),
            "certificate_no": "津保120200000001", "employment_status": "active"}
    r = await office.post(f"/registry/guards/{gid}", data={**form, "id_number": ""})
    assert r.status_code == 303, r.text
    assert (await Guard.objects().get(Guard.id == gid)).id_number == number  # blank: unchanged
    r = await office.post(f"/registry/guards/{gid}", data={**form, "id_number": other})
    assert r.status_code == 303
    assert (await Guard.objects().get(Guard.id == gid)).id_number == other  # typed: replaced


async def test_id_number_reveals_are_rate_limited(client_factory, world, settings):
    from server.models.evidence import AccessLog
    from server.models.registry import Guard
    from server.registry.ids import id_check_digit

    number = ID_NUMBER + id_check_digit(ID_NUMBER)
    gid = world.guards.valid.id
    await Guard.update({Guard.id_number: number}).where(Guard.id == gid)
    office = await client_factory("office")
    limit = settings.reveal_max_per_hour
    for _ in range(limit):
        r = await office.post(f"/registry/guards/{gid}/reveal", headers={"HX-Request": "true"})
        assert r.status_code == 200 and number in r.text
    r = await office.post(f"/registry/guards/{gid}/reveal", headers={"HX-Request": "true"})
    assert r.status_code == 409 and number not in r.text
    assert f"每小时最多 {limit} 次" in visible_text(soup(r).select_one(".error"))
    assert await AccessLog.count().where(AccessLog.action == "pii_reveal") == limit
    # An hour later it works again.
    await AccessLog.update({AccessLog.at: clock.now() - dt.timedelta(minutes=61)}).where(
        AccessLog.action == "pii_reveal")
    r = await office.post(f"/registry/guards/{gid}/reveal", headers={"HX-Request": "true"})
    assert r.status_code == 200 and number in r.text


async def test_every_download_is_access_logged(client_factory, world):
    from server.models.evidence import AccessLog

    office = await client_factory("office")
    assert (await office.post(f"/cards/guards/{world.guards.valid.id}/issue")).status_code == 303
    paths = ["/stats/export", "/registry/import/template.xlsx", f"/cards/guards/{world.guards.valid.id}/card.png"]
    for path in paths:
        r = await office.get(path)
        assert r.status_code == 200, (path, r.status_code)
        assert r.headers["content-disposition"].startswith("attachment")
    logged = await AccessLog.select(AccessLog.username, AccessLog.object_id, AccessLog.ip).where(
        AccessLog.action == "download").order_by(AccessLog.id)
    assert [(x["username"], x["object_id"]) for x in logged] == [("office", p) for p in paths]
    assert all(x["ip"] == "127.0.0.1" for x in logged)
    # A page is not a download.
    await office.get("/registry/guards")
    assert await AccessLog.count().where(AccessLog.action == "download") == len(paths)


async def test_password_hashing_does_not_stall_the_server(app, world):
    """Eight logins at once: the event loop keeps serving while they hash (worker threads
    under a small limiter); hashing in the loop would stall it for seconds."""
    import asyncio
    import time

    from server.auth.passwords import hash_password, verify_password

    started = time.perf_counter()
    verify_password(hash_password("x-x-x-x-x"), "wrong")
    one_hash = (time.perf_counter() - started) / 2
    gaps: list[float] = []
    done = asyncio.Event()

    async def tick() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.002)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(tick())
    clients = [_client_at(app, "192.0.2.10") for _ in range(8)]
    answers = await asyncio.gather(*[login(c, f"guess{i}", "wrong-password") for i, c in enumerate(clients)])
    done.set()
    await ticker
    assert [r.status_code for r in answers] == [401] * 8
    # Hashing in the loop stalls it for the eight hashes in a row (seconds); threads on two
    # busy cores still let a tick wait on the GIL now and then, so the bound is a few hashes.
    assert max(gaps) < 4 * one_hash, (max(gaps), one_hash)
    for c in clients:
        await c.aclose()
