"""Logging in and out, throttling, CSRF, revocable sessions (the access matrix over every route:
tests/test_access_matrix.py)."""

from __future__ import annotations

from server.auth import service
from server.models.auth import Session
from tests.conftest import login
from tests.support.html import soup, visible_text


async def test_login_shows_who_and_logout_revokes_session(client, world):
    r = await login(client, "officer")
    assert r.status_code == 303 and r.headers["location"] == "/"
    sid = client.cookies.get("sid")
    page = soup(await client.get("/"))
    assert "王警官" in visible_text(page.select_one(".topbar"))
    r = await client.post("/logout")
    assert r.status_code == 303
    # The old cookie is dead even if a thief kept it.
    client.cookies.set("sid", sid)
    r = await client.get("/")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert await Session.count().where(Session.revoked_at.is_not_null()) == 1


async def test_wrong_password_message_and_throttling(client, world):
    for _ in range(5):
        r = await login(client, "officer", "wrong-password")
        assert r.status_code == 401
        assert "用户名或密码错误" in visible_text(soup(r).select_one(".error"))
    # Locked now, even with the right password.
    r = await login(client, "officer")
    assert r.status_code == 401
    assert "登录失败次数过多" in visible_text(soup(r).select_one(".error"))


async def test_unknown_user_gets_the_same_message(client, world):
    r = await login(client, "nobody", "whatever1")
    assert r.status_code == 401 and "用户名或密码错误" in r.text


async def test_post_without_csrf_token_is_refused(client_factory, world):
    c = await client_factory("officer")
    del c.headers["x-csrftoken"]
    r = await c.post("/inspections", data={"uuid": "00000000-0000-4000-8000-000000000000", "site_id": "1"})
    assert r.status_code == 403 and "页面已过期" in r.text


async def test_set_password_revokes_every_session(client_factory, world):
    c = await client_factory("officer")
    assert (await c.get("/")).status_code == 200
    await service.set_password("officer", "a-new-password")
    r = await c.get("/")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert (await login(c, "officer", "a-new-password")).status_code == 303


async def test_disabled_user_is_logged_out(client_factory, world):
    from server.models.auth import User

    c = await client_factory("officer")
    await User.update({User.active: False}).where(User.username == "officer")
    assert (await c.get("/")).status_code == 303


# The walk of every route for every role: tests/test_access_matrix.py.
