"""8. The officer's flow end to end in Chromium at Lighthouse's mobile throttling: from tapping
开始检查 at a site to a submitted clean inspection with two guards, scripted with Playwright on
a Pixel 7 (Debian's Chromium), median of 5.

Throttling is what Lighthouse's devtools mode applies for its mobile default (slow 4G): 562.5 ms
request latency, 1,474.56 kbit/s down, 675 kbit/s up (Chrome DevTools Protocol
Network.emulateNetworkConditions), and the CPU slowed 4x (Emulation.setCPUThrottlingRate). The
app is the SQLite demo served by one granian process; the officer is the demo's `minjing`, the
site the first of the search 中学 with at least two guards on its roster.

Each run: type the search, tap 开始检查 (the clock starts), tap 全部符合, pick a guard from the
roster, tap 其余各项均正常, the same for a second guard, tap 提交检查, and the clock stops when
the page says 已提交.
"""

from __future__ import annotations

import time
from statistics import median

from bench.common import CHROMIUM, Row, Section, backend, seed_demo, serve

RUNS = 5
TARGET_S = None  # the issue names no number: reported only
QUERY = "中学"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
# Lighthouse's devtools throttling for mobile (lighthouse-core/config/constants.js, mobileSlow4G).
NETWORK = {"offline": False, "latency": 562.5, "downloadThroughput": 1474.56 * 1024 / 8,
           "uploadThroughput": 675 * 1024 / 8}
CPU_SLOWDOWN = 4


def _throttle(context, page) -> None:
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", NETWORK)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})


def one_run(page) -> tuple[float, str]:
    """Seconds from the tap on 开始检查 to 已提交, and the site's name."""
    from playwright.sync_api import expect

    page.goto("/")
    box = page.get_by_label("查找服务目标（名称、地址或单位）")
    box.fill(QUERY)
    item = page.locator("#site-results li").filter(has=page.get_by_role("button", name="开始检查")).first
    expect(item).to_be_visible(timeout=60_000)
    site = item.locator("strong").first.inner_text() if item.locator("strong").count() else ""
    t = time.perf_counter()
    item.get_by_role("button", name="开始检查").click()
    page.wait_for_url("**/inspections/*", timeout=60_000)
    page.get_by_role("button", name="全部符合").click()
    expect(page.locator("#area-8").get_by_label("符合", exact=True)).to_be_checked(timeout=60_000)
    picker = page.get_by_label("从名册选择")
    options = [o for o in picker.locator("option").evaluate_all(
        "els => els.map(e => [e.value, e.textContent])") if o[0]]
    if len(options) < 2:
        raise RuntimeError(f"the site {site!r} has fewer than two guards on its roster")
    for value, label in options[:2]:
        picker.select_option(value=value)
        name = label.split("（")[0]
        guard = page.locator("article.guard", has_text=name)
        guard.get_by_role("button", name="其余各项均正常").click(timeout=60_000)
        expect(page.locator("article.guard", has_text=name).locator("summary")).to_contain_text(
            "已检查", timeout=60_000)
    expect(page.locator("#missing")).to_contain_text("各项均已填写，可以提交", timeout=60_000)
    page.get_by_role("button", name="提交检查").click()
    expect(page.locator(".head")).to_contain_text("已提交", timeout=120_000)
    return time.perf_counter() - t, site


def flows(base: str) -> tuple[list[float], str]:
    from playwright.sync_api import sync_playwright

    times, site = [], ""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(**p.devices["Pixel 7"], base_url=base, locale="zh-CN")
            page = context.new_page()
            page.goto("/login")
            page.get_by_label("用户名").fill("minjing")
            page.get_by_label("密码").fill("demo1234")
            page.get_by_role("button", name="登录").click()
            page.wait_for_url("**/")
            _throttle(context, page)
            for i in range(RUNS + 1):  # the first warms the caches (service worker, static files)
                took, site = one_run(page)
                print(f"  flow run {i}: {took:.1f} s{' (warm-up)' if i == 0 else ''}", flush=True)
                if i:
                    times.append(took)
        finally:
            browser.close()
    return times, site


def run() -> Section:
    with backend("sqlite") as b:
        seed_demo(b)
        with serve(b) as (base,):
            times, site = flows(base)
    return Section("8. The officer's flow in Chromium at mobile throttling", notes=[
        "Playwright, Debian's Chromium headless, Pixel 7 emulation; throttled like Lighthouse's mobile default "
        f"in devtools mode: {NETWORK['latency']} ms latency, 1474.56 kbit/s down, 675 kbit/s up, CPU {CPU_SLOWDOWN}x "
        "slower (on this machine's CPU)",
        f"the demo officer `minjing` on the SQLite demo, one granian process; the first site of the search "
        f"{QUERY} ({site}); a warm-up run, then {RUNS} runs",
        "from the tap on 开始检查 to 已提交: 全部符合, two guards picked from the roster and 其余各项均正常 each, "
        "提交检查",
    ], rows=[
        Row(f"tap 开始检查 → clean inspection with two guards submitted, median of {RUNS}",
            f"{median(times):.1f} s ({', '.join(f'{t:.1f}' for t in times)})"),
    ])
