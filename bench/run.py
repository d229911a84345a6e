"""The benchmark suite (issue 8), first two measurements: card page throughput and page weight.

Run with `make bench` (or `.venv/bin/python bench/run.py` after `make install-test vendor`).
It seeds a throwaway SQLite demo, starts one uvicorn process on a free loopback port, measures,
always stops the server, prints a table and writes bench/RESULTS.md. See bench/README.md.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"

# Load settings: 20 concurrent connections, 2 s warm-up per target, then 3 alternating rounds
# of 8 s per target. MAX_REQUESTS bounds a round by count as well as by time.
CONCURRENCY = 20
WARMUP_S = 2.0
ROUND_S = 8.0
ROUNDS = 3
MAX_REQUESTS = 200_000

# Targets from issue 8.
RATIO_TARGET = 0.5          # card page req/s ÷ bare page req/s, at least
P99_TARGET_MS = 50.0        # card page p99 latency, at most
WEIGHT_TARGET_KB = 60.0     # HTML + CSS + JS gzipped, per phone page, at most

LAZY_SCRIPTS = {"/static/vendor/jsQR.js"}  # loaded only when the camera scanner starts


# ---------------------------------------------------------------- server lifecycle

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_env(data_dir: str, port: int) -> dict[str, str]:
    """The environment of every subprocess: SQLite and local-disk photos in a fresh DATA_DIR."""
    env = dict(os.environ)
    for key in ("DATABASE_URL", "MINIO_ENDPOINT", "MINIO_ACCESS_KEY", "MINIO_SECRET_KEY"):
        env.pop(key, None)
    env.update(DATA_DIR=data_dir, HOST="127.0.0.1", PORT=str(port),
               BASE_URL=f"http://127.0.0.1:{port}", PYTHONUNBUFFERED="1")
    return env


def run_py(env: dict[str, str], *args: str) -> str:
    """Run `python <args>` in the project directory with env; return its stdout."""
    done = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True)
    return done.stdout


# Prints the card URL of one demo guard with a valid certificate (the seed issues serial 1).
CARD_URL_SNIPPET = """
from server.cards.service import card_url
from server.registry.tables import Guard
from server.settings import get_settings
row = Guard.select(Guard.id).where(Guard.certificate_status == 'valid').first().run_sync()
print(card_url(get_settings(), row['id'], 1))
"""


def wait_healthy(base: str, server: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"uvicorn exited with code {server.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not become healthy in time")


# ---------------------------------------------------------------- 1. card page vs bare page

async def load(url: str, seconds: float) -> tuple[float, list[float], int, float]:
    """Keep CONCURRENCY requests in flight on `url` for `seconds`.
    Returns (requests per second, latencies in ms of successful requests, failures,
    share of one core this client process used: it competes with the server for the CPUs)."""
    latencies: list[float] = []
    failures = 0
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits, timeout=10.0) as client:
        start, cpu_start = time.perf_counter(), time.process_time()
        deadline = start + seconds

        async def worker() -> None:
            nonlocal failures
            while time.perf_counter() < deadline and len(latencies) + failures < MAX_REQUESTS:
                t0 = time.perf_counter()
                try:
                    r = await client.get(url)
                    ok = r.status_code == 200
                except httpx.HTTPError:
                    ok = False
                if ok:
                    latencies.append((time.perf_counter() - t0) * 1000)
                else:
                    failures += 1

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - start
        client_cpu = (time.process_time() - cpu_start) / elapsed
    return len(latencies) / elapsed, latencies, failures, client_cpu


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) >= 2 else float("nan")


def throughput(base: str, card_path: str) -> dict:
    targets = {"card": f"{base}{card_path}", "bare": f"{base}/offline"}
    for url in targets.values():  # warm-up: imports, template cache, SQLite page cache
        asyncio.run(load(url, WARMUP_S))
    rps: dict[str, list[float]] = {"card": [], "bare": []}
    card_latencies: list[float] = []
    failures = 0
    client_cpu: list[float] = []
    for i in range(ROUNDS):  # alternate the two targets so machine noise hits both alike
        for name, url in targets.items():
            r, lat, failed, cpu = asyncio.run(load(url, ROUND_S))
            rps[name].append(r)
            failures += failed
            if name == "card":
                card_latencies += lat
            client_cpu.append(cpu)
            print(f"  round {i + 1}/{ROUNDS} {name:4}: {r:7.1f} req/s, p99 {p99(lat):6.1f} ms, "
                  f"client CPU {cpu:.0%}"
                  f"{f', {failed} failed' if failed else ''}", flush=True)
    card, bare = statistics.median(rps["card"]), statistics.median(rps["bare"])
    return {"card_rps": card, "bare_rps": bare, "ratio": card / bare,
            "card_p99": p99(card_latencies), "failures": failures,
            "client_cpu": statistics.median(client_cpu)}


# ---------------------------------------------------------------- 2. page weight

def wire_bytes(client: httpx.Client, path: str) -> tuple[int, str]:
    """Bytes on the wire of one response body, as served with Accept-Encoding: gzip.
    Falls back to gzip level 6 done here when the server sent the body uncompressed."""
    r = client.get(path)
    r.raise_for_status()
    if r.headers.get("content-encoding") == "gzip":
        return r.num_bytes_downloaded, "server"
    return len(gzip.compress(r.content, compresslevel=6)), "bench"


def page_weight(client: httpx.Client, path: str) -> dict:
    html = client.get(path)
    html.raise_for_status()
    assets = ["/static/css/app.css"]
    assets += [s for s in re.findall(r'<script[^>]*\bsrc="([^"]+)"', html.text)
               if s.split("?")[0] not in LAZY_SCRIPTS]
    total, by = 0, set()
    for p in [path, *assets]:
        n, who = wire_bytes(client, p)
        total += n
        by.add(who)
    label = "/inspections/<uuid>" if path.startswith("/inspections/") else path
    return {"page": label, "files": 1 + len(assets), "kb": total / 1024, "gzip_by": "+".join(sorted(by))}


def weights(base: str) -> list[dict]:
    with httpx.Client(base_url=base, headers={"Accept-Encoding": "gzip"}, timeout=10.0) as c:
        # Log in as the demo officer, with the CSRF cookie as the form token.
        c.get("/login").raise_for_status()
        csrf = c.cookies["csrftoken"]
        r = c.post("/login", data={"username": "minjing", "password": "demo1234", "next": "/",
                                   "_csrf_token": csrf})
        assert r.status_code == 303, f"login failed: {r.status_code}"
        # Start an inspection at the first site the search finds.
        search = c.get("/sites", params={"q": "中学"})
        site_id = re.search(r'name="site_id" value="(\d+)"', search.text).group(1)
        r = c.post("/inspections", data={"uuid": str(uuid.uuid4()), "site_id": site_id,
                                         "_csrf_token": csrf}, headers={"x-csrftoken": csrf})
        inspection = r.headers["location"]
        assert r.is_redirect and inspection.startswith("/inspections/"), r.status_code
        pages = ["/", "/sites?q=中学", inspection, "/scan", "/outbox"]
        return [page_weight(c, p) for p in pages]


# ---------------------------------------------------------------- report

def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{os.cpu_count()} cores, {mem_gb:.1f} GiB RAM, {cpu}; "
            f"Python {platform.python_version()} on {platform.system()} {platform.release()}")


def report(tp: dict, pages: list[dict], elapsed: float) -> str:
    def verdict(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    rows = [
        "| figure | value | target | |",
        "| --- | ---: | ---: | --- |",
        f"| card page `/c/<token>` | {tp['card_rps']:.1f} req/s | | |",
        f"| bare page `/offline` | {tp['bare_rps']:.1f} req/s | | |",
        f"| ratio card / bare | {tp['ratio']:.2f} | ≥ {RATIO_TARGET} | {verdict(tp['ratio'] >= RATIO_TARGET)} |",
        f"| card page p99 latency | {tp['card_p99']:.1f} ms | ≤ {P99_TARGET_MS:.0f} ms "
        f"| {verdict(tp['card_p99'] <= P99_TARGET_MS)} |",
    ]
    rows += [f"| page weight `{p['page']}` ({p['files']} files, gzip by {p['gzip_by']}) "
             f"| {p['kb']:.1f} KB | ≤ {WEIGHT_TARGET_KB:.0f} KB | {verdict(p['kb'] <= WEIGHT_TARGET_KB)} |"
             for p in pages]
    return "\n".join([
        "# Benchmark results",
        "",
        f"- date: {dt.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"- machine: {machine()}",
        f"- load: {CONCURRENCY} concurrent connections (httpx), {ROUNDS} alternating rounds of "
        f"{ROUND_S:.0f} s per target after {WARMUP_S:.0f} s warm-up; req/s is the median of rounds",
        f"- failed requests: {tp['failures']}; the load client itself used "
        f"{tp['client_cpu']:.0%} of one core (median of rounds)",
        f"- run took {elapsed:.0f} s",
        "",
        *rows,
        "",
    ])


def main() -> None:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-") as data_dir:
        port = free_port()
        env = make_env(data_dir, port)
        base = f"http://127.0.0.1:{port}"
        print("seeding a throwaway SQLite demo ...", flush=True)
        run_py(env, "-m", "server", "db", "migrate")
        run_py(env, "-m", "server", "demo", "seed")
        card_path = httpx.URL(run_py(env, "-c", CARD_URL_SNIPPET).strip()).path
        log = open(Path(data_dir) / "uvicorn.log", "w")  # not a pipe: a full pipe would block the server
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "server.asgi:app", "--host", "127.0.0.1",
             "--port", str(port), "--no-access-log"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_healthy(base, server)
            print(f"1. card page vs bare page on {base} ...", flush=True)
            tp = throughput(base, card_path)
            print("2. page weight ...", flush=True)
            pages = weights(base)
        except BaseException:
            log.flush()
            sys.stderr.write((Path(data_dir) / "uvicorn.log").read_text()[-3000:])
            raise
        finally:  # always stop the server, also on failure or Ctrl-C
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            log.close()
    text = report(tp, pages, time.monotonic() - started)
    RESULTS.write_text(text, encoding="utf-8")
    print()
    print(text)
    print(f"written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
