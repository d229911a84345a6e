"""One phone, two shifts (issue 16): an officer's unsent work stays theirs, logging out needs
the network, the next officer is told that something waits but never sees it, and the pages
run under the Content-Security-Policy without a violation."""

from __future__ import annotations

import datetime as dt

from playwright.async_api import expect

from server import clock
from server.models.auth import Session
from server.models.inspections import ChecklistAnswer
from tests.browser.conftest import log_in
from tests.browser.test_offline import open_inspection, outbox_entries


async def queue_an_answer_offline_then_walk_away(page, world) -> str:
    """Officer A answers area 1 in a basement, cannot log out there, and leaves the phone;
    their session then ends (idle). Returns the inspection's key."""
    await log_in(page, "officer")
    await open_inspection(page, "绿园小区", "绿园")
    key = page.url.rsplit("/", 1)[1]
    await page.context.set_offline(True)
    await page.locator("#area-1").get_by_label("符合", exact=True).check()
    await expect(page.locator("[data-outbox-badge]")).to_contain_text("1")

    await page.get_by_role("button", name="退出").click()
    await expect(page.locator("form[data-logout] .logout-refused")).to_contain_text("没有网络，无法退出")
    await expect(page.locator(".topbar")).to_contain_text("王警官")  # still logged in, nothing wiped
    assert len(await outbox_entries(page)) == 1

    await Session.update({Session.last_seen_at: clock.now() - dt.timedelta(hours=2)}).where(
        Session.user == world.users.officer.id)
    await page.context.set_offline(False)
    await page.goto("/login")
    notice = page.locator("[data-outbox-others]")
    await expect(notice).to_be_visible()
    await expect(notice).to_contain_text("上一位用户未发送的 1 条内容")
    await expect(page.locator("[data-outbox-list], .outbox-item")).to_have_count(0)  # never shown
    return key


async def test_the_next_officer_is_told_but_never_sends_or_sees_the_last_ones_work(phone, world):
    page = phone
    key = await queue_an_answer_offline_then_walk_away(page, world)

    await page.get_by_label("用户名").fill("officer2")
    await page.get_by_label("密码").fill("testpass1")
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url("**/")
    await expect(page.locator(".topbar")).to_contain_text("李警官")
    await page.wait_for_load_state("networkidle")
    await expect(page.locator("[data-outbox-badge]")).to_be_hidden()
    assert await outbox_entries(page) == []  # Clear-Site-Data wiped the phone at login
    assert await ChecklistAnswer.count() == 0  # not replayed under officer2's session

    # Forced: the same request, with officer2's cookie and CSRF token, naming officer A.
    status, text = await page.evaluate("""async ([key, actor]) => {
        const token = JSON.parse(document.body.getAttribute('hx-headers'))['x-csrftoken'];
        const fd = new FormData(); fd.append('answer', 'ok'); fd.append('note', '');
        const r = await fetch(`/inspections/${key}/checklist/1`, {method: 'POST', body: fd,
            headers: {'x-csrftoken': token, 'x-actor': actor, 'HX-Request': 'true', 'X-Outbox-Replay': '1'}});
        return [r.status, await r.text()];
    }""", [key, str(world.users.officer.id)])
    assert status == 403 and "另一位用户" in text
    assert await ChecklistAnswer.count() == 0


async def test_the_officer_logging_back_in_sends_their_own_work(phone, world):
    page = phone
    await queue_an_answer_offline_then_walk_away(page, world)

    await page.get_by_label("用户名").fill("officer")
    await page.get_by_label("密码").fill("testpass1")
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url("**/")
    await expect(page.locator("[data-outbox-badge]")).to_contain_text("1")  # kept for its owner
    await page.goto("/outbox")
    await expect(page.locator(".outbox-item")).to_have_count(1)
    await page.get_by_role("button", name="立即重试").click()
    await expect(page.locator("[data-outbox-badge]")).to_be_hidden(timeout=15000)
    assert await ChecklistAnswer.count() == 1


WATCH_CSP = """
    window.__csp = [];
    document.addEventListener('securitypolicyviolation',
        e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


async def test_pages_run_under_the_content_security_policy(phone, desk, world):
    page = phone
    await page.add_init_script(WATCH_CSP)
    await log_in(page, "officer")
    await open_inspection(page, "第一中学校门", "第一中学")
    assert await page.evaluate("window.__csp") == []
    for path in ("/", "/outbox", "/scan"):
        await page.goto(path)
        await page.wait_for_load_state("networkidle")
        assert await page.evaluate("window.__csp") == [], path

    await desk.add_init_script(WATCH_CSP)
    await log_in(desk, "office")
    for path in ("/office/inspections", "/registry/guards", f"/registry/guards/{world.guards.valid.id}",
                 "/stats", "/dashboard", "/spotchecks", f"/cards/sheet?guard={world.guards.valid.id}"):
        response = await desk.goto(path)
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        await desk.wait_for_load_state("networkidle")
        assert await desk.evaluate("window.__csp") == [], path
    # The watch itself works: an inline script is refused and reported.
    await desk.evaluate("""() => { const s = document.createElement('script');
        s.textContent = 'window.__ran = true'; document.body.append(s); }""")
    await desk.wait_for_function("window.__csp.length > 0")
    assert await desk.evaluate("window.__ran === undefined")
