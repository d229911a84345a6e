"""A real server process and real Chromium (Debian's, through Playwright) for the phone flows."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.async_api import async_playwright

from tests.support.services import free_port, wait_for_http

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="session")
def live_server(service_env, migrated):
    port = free_port()
    log = open(Path(service_env["DATA_DIR"]).parent / "server.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "server.asgi:app", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=service_env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
async def browser():
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield b, p.devices["Pixel 7"]
        await b.close()


@pytest.fixture
async def phone(browser, live_server):
    b, device = browser
    context = await b.new_context(**device, base_url=live_server, locale="zh-CN")
    page = await context.new_page()
    yield page
    await context.close()


@pytest.fixture
async def desk(browser, live_server):
    """The office's desktop browser."""
    b, _ = browser
    context = await b.new_context(base_url=live_server, locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    yield page
    await context.close()


async def log_in(page, username: str, password: str = "testpass1") -> None:
    await page.goto("/login")
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码").fill(password)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url("**/")
