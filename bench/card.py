"""1. The card verification page against a bare page of the same app, on SQLite and PostgreSQL.

The load comes from wrk (Debian's package), a C program in its own process, keeping 20
connections busy on loopback; the app runs as one uvicorn process. Three pages, alternated in
rounds so the noise of this shared machine hits all of them alike:

- bare: `/offline`, a Jinja page with no database work of its own, requested with the officer's
  session cookie, so it pays what every page pays (session lookup, CSRF, gzip);
- card (officer): `/c/<token>` with the same cookie — what an officer opens after a scan: the
  signature check, the card and guard, the guard's file and the logged view (AccessLog row);
- card (public): `/c/<token>` without a cookie — what anyone's phone camera opens.

The figure is the ratio of the officer's card page to the bare page (target ≥ 0.5) and the card
page's p99 latency under those 20 connections (target ≤ 50 ms).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from statistics import median

import httpx

from bench.common import Row, Section, backend, log_in, run_py, seed_demo, serve

CONNECTIONS = 20
WARMUP_S = 2
ROUND_S = 5
ROUNDS = 3
RATIO_TARGET = 0.5
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
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return parse_wrk(done.stdout)


def measure(name: str) -> list[Row]:
    with backend(name) as b:
        seed_demo(b)
        with serve(b) as (base,):
            card = httpx.URL(run_py(dict(b.env, BASE_URL=base), "-c", CARD_URL_SNIPPET).strip()).path
            with httpx.Client(base_url=base, timeout=10.0) as c:
                log_in(c, "minjing")
                cookie = f"sid={c.cookies['sid']}"
                officer_page = c.get(card).text
            if "执业电子档案" not in officer_page:
                raise RuntimeError("the officer's card page did not show the guard")
            targets = {"bare": (f"{base}/offline", cookie), "officer": (f"{base}{card}", cookie),
                       "public": (f"{base}{card}", None)}
            for url, ck in targets.values():
                wrk(url, WARMUP_S, ck)
            runs: dict[str, list[dict]] = {k: [] for k in targets}
            for i in range(ROUNDS):
                for key, (url, ck) in targets.items():
                    r = wrk(url, ROUND_S, ck)
                    runs[key].append(r)
                    print(f"  {name} round {i + 1}/{ROUNDS} {key:7}: {r['rps']:7.1f} req/s, "
                          f"p50 {r['p50']:5.1f} ms, p99 {r['p99']:6.1f} ms"
                          f"{', %d errors' % r['errors'] if r['errors'] else ''}", flush=True)
    rps = {k: median([r["rps"] for r in v]) for k, v in runs.items()}
    p99 = {k: median([r["p99"] for r in v]) for k, v in runs.items()}
    errors = sum(r["errors"] for v in runs.values() for r in v)
    rows = [
        Row(f"{name}: bare page `/offline` (officer's cookie)", f"{rps['bare']:.0f} req/s, p99 {p99['bare']:.1f} ms"),
        Row(f"{name}: card page, officer", f"{rps['officer']:.0f} req/s"),
        Row(f"{name}: card page, public", f"{rps['public']:.0f} req/s"),
        Row(f"{name}: ratio card (officer) / bare", f"{rps['officer'] / rps['bare']:.2f}",
            f"≥ {RATIO_TARGET}", rps["officer"] / rps["bare"] >= RATIO_TARGET),
        Row(f"{name}: ratio card (public) / bare", f"{rps['public'] / rps['bare']:.2f}",
            f"≥ {RATIO_TARGET}", rps["public"] / rps["bare"] >= RATIO_TARGET),
        Row(f"{name}: card page p99, officer", f"{p99['officer']:.1f} ms", f"≤ {P99_TARGET_MS:.0f} ms",
            p99["officer"] <= P99_TARGET_MS),
        Row(f"{name}: card page p99, public", f"{p99['public']:.1f} ms", f"≤ {P99_TARGET_MS:.0f} ms",
            p99["public"] <= P99_TARGET_MS),
    ]
    if errors:
        rows.append(Row(f"{name}: failed requests", str(errors), "0", False))
    return rows


def run() -> Section:
    if not shutil.which("wrk"):
        raise RuntimeError("wrk is missing: `make bench` installs it (apt-get install wrk)")
    section = Section("1. Card verification page vs a bare page", notes=[
        f"wrk, {CONNECTIONS} connections on loopback, one uvicorn process; after a {WARMUP_S} s "
        f"warm-up each, {ROUNDS} alternating rounds of {ROUND_S} s per page; req/s and p99 are "
        "medians of the rounds",
        "officer: the demo officer's session cookie (the guard's file and a logged view); "
        "public: no cookie (verdict and company only); bare: `/offline` with the officer's cookie",
        "sqlite: the embedded default (file in DATA_DIR); postgres: a throwaway local cluster "
        "(fsync off) with the app's connection pool",
    ])
    for name in ("sqlite", "postgres"):
        section.rows += measure(name)
    return section
