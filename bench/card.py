"""1. The card verification page against a bare page of the same app, on SQLite and PostgreSQL.

The load comes from wrk (Debian's package), a C program in its own process, keeping 20
connections busy on loopback, pinned to a core of its own (taskset); the app runs as one
granian process and one uvicorn process side by side on the other cores. Three pages of each,
alternated in rounds so the noise of this shared machine hits all of them alike:

- bare: `/offline`, a Jinja page with no database work of its own, requested with the officer's
  cookies (session and CSRF), so it pays what every page pays (session lookup, CSRF, gzip);
- card (officer): `/c/<token>` with the same cookie — what an officer opens after a scan: the
  token's check (by the hash its card keeps), the card and guard, the guard's file and the
  logged view (AccessLog row);
- card (public): `/c/<token>` without a cookie — what anyone's phone camera opens.

The figures are the ratios of the card pages to the bare page (officer ≥ 0.5, public ≥ 0.8), the
card page's p50 and p99 latency under those 20 connections beside the bare page's (p99 target
≤ 50 ms), and granian's req/s over uvicorn's for each page.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from statistics import median

import httpx

from contextlib import ExitStack

from bench.common import SERVERS, Row, Section, backend, cores, log_in, run_py, seed_demo, serve

CONNECTIONS = 20
WARMUP_S = 2
ROUND_S = 3
ROUNDS = 3
RATIO_TARGET = 0.5
PUBLIC_RATIO_TARGET = 0.8
P99_TARGET_MS = 50.0

# Prints the card URL of one demo guard with a valid certificate (the seed issues serial 1).
CARD_URL_SNIPPET = """
from server.cards.service import card_url
from server.models.registry import Guard
from server.settings import Settings
row = Guard.select(Guard.id).where(Guard.certificate_status == 'valid').first().run_sync()
print(card_url(Settings.from_env(), row['id'], 1))
"""

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse_wrk(output: str) -> dict:
    """Requests/s, p50 and p99 (ms) and non-2xx/socket errors from `wrk --latency` output."""
    def latency(pct: str) -> float:
        value, unit = re.search(rf"^\s*{pct}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M).groups()
        return float(value) * _UNITS_MS[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": latency("50"),
        "p99": latency("99"),
        "errors": int(errors.group(1)) if errors else 0
        + (sum(int(n) for n in socket_errors.groups()) if socket_errors else 0),
    }


def wrk(url: str, seconds: int, cookie: str | None = None) -> dict:
    cmd = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", url]
    if cookie:
        cmd[1:1] = ["-H", f"Cookie: {cookie}"]
    if cores():  # the load generator on a core of its own (the app on the others)
        cmd = ["taskset", "-c", cores()[1], *cmd]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return parse_wrk(done.stdout)


PAGES = ("bare", "officer", "public")


def measure(name: str) -> list[Row]:
    """Both servers of the app over one backend, side by side: every round requests each page
    from each server in turn, so the machine's noise hits them alike."""
    with backend(name) as b:
        seed_demo(b)
        with ExitStack() as stack:
            bases = {srv: stack.enter_context(serve(b, server=srv, pin=True))[0] for srv in SERVERS}
            first = bases[SERVERS[0]]
            card = httpx.URL(run_py(dict(b.env, BASE_URL=first), "-c", CARD_URL_SNIPPET).strip()).path
            with httpx.Client(base_url=first, timeout=10.0) as c:
                log_in(c, "minjing")
                # What the officer's browser sends: the session and the CSRF cookie it was given
                # at login (sessions are rows: valid on both servers). Without the CSRF cookie
                # every answer would make and set a new one, which no browser asks for twice.
                cookie = f"sid={c.cookies['sid']}; csrftoken={c.cookies['csrftoken']}"
                officer_page = c.get(card).text
            if "执业电子档案" not in officer_page:
                raise RuntimeError("the officer's card page did not show the guard")
            targets = {(srv, page): url_and_cookie
                       for srv, base in bases.items()
                       for page, url_and_cookie in {"bare": (f"{base}/offline", cookie),
                                                    "officer": (f"{base}{card}", cookie),
                                                    "public": (f"{base}{card}", None)}.items()}
            for url, ck in targets.values():
                wrk(url, WARMUP_S, ck)
            runs: dict[tuple[str, str], list[dict]] = {k: [] for k in targets}
            for i in range(ROUNDS):
                for key, (url, ck) in targets.items():
                    r = wrk(url, ROUND_S, ck)
                    runs[key].append(r)
                    print(f"  {name} round {i + 1}/{ROUNDS} {key[0]:8} {key[1]:7}: {r['rps']:7.1f} req/s, "
                          f"p50 {r['p50']:5.1f} ms, p99 {r['p99']:6.1f} ms"
                          f"{', %d errors' % r['errors'] if r['errors'] else ''}", flush=True)
    rps = {k: median([r["rps"] for r in v]) for k, v in runs.items()}
    p50 = {k: median([r["p50"] for r in v]) for k, v in runs.items()}
    p99 = {k: median([r["p99"] for r in v]) for k, v in runs.items()}
    errors = sum(r["errors"] for v in runs.values() for r in v)
    rows = []
    for srv in SERVERS:
        def lat(page: str) -> str:
            return f"p50 {p50[srv, page]:.1f} ms, p99 {p99[srv, page]:.1f} ms"
        officer, public = rps[srv, "officer"] / rps[srv, "bare"], rps[srv, "public"] / rps[srv, "bare"]
        served = " (serves the app)" if srv == SERVERS[0] else ""
        rows += [
            Row(f"{name}, {srv}{served}: bare page `/offline` (officer's cookie)",
                f"{rps[srv, 'bare']:.0f} req/s; {lat('bare')}"),
            Row(f"{name}, {srv}: card page, officer", f"{rps[srv, 'officer']:.0f} req/s; {lat('officer')}"),
            Row(f"{name}, {srv}: card page, public", f"{rps[srv, 'public']:.0f} req/s; {lat('public')}"),
            Row(f"{name}, {srv}: ratio card (officer) / bare", f"{officer:.2f}", f"≥ {RATIO_TARGET}",
                officer >= RATIO_TARGET),
            Row(f"{name}, {srv}: ratio card (public) / bare", f"{public:.2f}", f"≥ {PUBLIC_RATIO_TARGET}",
                public >= PUBLIC_RATIO_TARGET),
            Row(f"{name}, {srv}: card page p99, officer", f"{p99[srv, 'officer']:.1f} ms",
                f"≤ {P99_TARGET_MS:.0f} ms", p99[srv, "officer"] <= P99_TARGET_MS),
            Row(f"{name}, {srv}: card page p99, public", f"{p99[srv, 'public']:.1f} ms",
                f"≤ {P99_TARGET_MS:.0f} ms", p99[srv, "public"] <= P99_TARGET_MS),
        ]
    a, b_ = SERVERS
    rows += [Row(f"{name}: {a} ÷ {b_}, req/s of the same page",
                 ", ".join(f"{page} {rps[a, page] / rps[b_, page]:.2f}" for page in PAGES))]
    if errors:
        rows.append(Row(f"{name}: failed requests", str(errors), "0", False))
    return rows


def run() -> Section:
    if not shutil.which("wrk"):
        raise RuntimeError("wrk is missing: `make bench` installs it (apt-get install wrk)")
    pinned = (f"wrk pinned to core {cores()[1]} and the app to cores {cores()[0]} (taskset)" if cores()
              else "nothing pinned (one core or no taskset)")
    section = Section("1. Card verification page vs a bare page", notes=[
        f"wrk, {CONNECTIONS} connections on loopback, one server process each of {' and '.join(SERVERS)} "
        f"(both running, requested in turn); after a {WARMUP_S} s warm-up each, {ROUNDS} alternating "
        f"rounds of {ROUND_S} s per page and server; req/s, p50 and p99 are medians of the rounds; {pinned}",
        "officer: the demo officer's cookies, session and CSRF, as the browser sends them (the guard's "
        "file and a logged view); public: no cookie (verdict and company only); bare: `/offline` "
        "with the officer's cookies",
        "sqlite: the embedded default (file in DATA_DIR); postgres: a throwaway local cluster "
        "(fsync off, not pinned) with the app's connection pool",
    ])
    for name in ("sqlite", "postgres"):
        section.rows += measure(name)
    return section
