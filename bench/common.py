"""What every benchmark section shares: result rows, the machine's description, and the app
served for real (uvicorn subprocesses on loopback) over SQLite or PostgreSQL + S3.

A section is a module with `run() -> Section`; bench/run.py runs the sections and writes
bench/RESULTS.md. Sections start and stop their own servers, so each one can run alone
(`python bench/run.py photos`).
"""

from __future__ import annotations

import logging
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # bench/run.py is run as a script; tests.support lives at the root
    sys.path.insert(0, str(ROOT))

from tests.support.services import S3, Postgres, free_port  # noqa: E402  (the same throwaway services as the tests)

CHROMIUM = "/usr/bin/chromium"


# ---------------------------------------------------------------- results

@dataclass
class Row:
    figure: str
    value: str
    target: str = ""
    ok: bool | None = None  # None: a figure without a target

    @property
    def verdict(self) -> str:
        return "" if self.ok is None else ("ok" if self.ok else "MISSED")


@dataclass
class Section:
    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # how it was measured, in a line each
    seconds: float = 0.0

    def markdown(self) -> str:
        lines = [f"## {self.title}", ""]
        lines += [f"- {n}" for n in self.notes]
        lines += [f"- took {self.seconds:.0f} s", "", "| figure | value | target | |",
                  "| --- | ---: | ---: | --- |"]
        lines += [f"| {r.figure} | {r.value} | {r.target} | {r.verdict} |" for r in self.rows]
        return "\n".join(lines) + "\n"


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


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


# ---------------------------------------------------------------- the app, served for real

@dataclass
class Backend:
    """Where the app keeps its data: env entries for every process of one benchmark."""
    name: str  # "sqlite" or "postgres"
    data_dir: str
    env: dict[str, str]


@contextmanager
def backend(name: str = "sqlite", pg_settings: str = "") -> Iterator[Backend]:
    """A throwaway DATA_DIR; for "postgres" also a PostgreSQL cluster and an S3 server (moto),
    all stopped and removed on exit (also on failure or Ctrl-C). Your var/ is never touched."""
    with ExitStack() as stack:
        data_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-"))
        env = dict(os.environ)
        for key in ("DATABASE_URL", "MINIO_ENDPOINT", "MINIO_ACCESS_KEY", "MINIO_SECRET_KEY",
                    "MINIO_BUCKET", "MINIO_SECURE", "MINIO_REGION"):
            env.pop(key, None)
        env.update(DATA_DIR=data_dir, PYTHONUNBUFFERED="1", SECRET_KEY="bench-secret-" + "x" * 32)
        if name == "postgres":
            logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log
            pg = Postgres(Path(data_dir), settings=pg_settings)
            stack.callback(pg.stop)
            env["DATABASE_URL"] = pg.start()
            s3 = S3()
            port = s3.start()
            stack.callback(s3.stop)
            env.update(MINIO_ENDPOINT=f"127.0.0.1:{port}", MINIO_ACCESS_KEY="bench",
                       MINIO_SECRET_KEY="bench-secret", MINIO_BUCKET="evidence",
                       MINIO_REGION="us-east-1")
        yield Backend(name, data_dir, env)


def run_py(env: dict[str, str], *args: str) -> str:
    """Run `python <args>` in the project directory with env; return its stdout."""
    done = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"python {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def seed_demo(b: Backend) -> None:
    run_py(b.env, "-m", "server", "db", "migrate")
    run_py(b.env, "-m", "server", "demo", "seed")


def wait_healthy(base: str, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with code {proc.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{base} did not become healthy in time")


SERVERS = ("granian", "uvicorn")
"""The ASGI servers the card section compares; the first is the one the app is served with
(server/cli.py `run`, deploy/entrypoint.sh)."""


def server_command(server: str, port: int) -> list[str]:
    """The command line of one server process of the app on loopback, without access log."""
    if server == "granian":
        return [sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1",
                "--port", str(port), "--workers", "1", "--no-access-log", "server.asgi:app"]
    return [sys.executable, "-m", "uvicorn", "server.asgi:app", "--host", "127.0.0.1",
            "--port", str(port), "--no-access-log"]


def cores() -> tuple[str, str] | None:
    """(the app's cores, the load generator's core) for `taskset -c`: the last core for the
    load generator, the others for the app; None on one core or without taskset."""
    n = os.cpu_count() or 1
    if n < 2 or not shutil.which("taskset"):
        return None
    return (f"0-{n - 2}" if n > 2 else "0"), str(n - 1)


@contextmanager
def serve(b: Backend, processes: int = 1, base_url: str | None = None,
          server: str = SERVERS[0], pin: bool = False) -> Iterator[list[str]]:
    """Start `processes` server processes of the app (one port each; granian unless `server`
    says uvicorn) over backend `b`; yield their base URLs; always stop them. A process's log is
    printed when it fails."""
    procs: list[tuple[subprocess.Popen, Path, object]] = []
    bases: list[str] = []
    try:
        for i in range(processes):
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            env = dict(b.env, HOST="127.0.0.1", PORT=str(port), BASE_URL=base_url or base)
            log_path = Path(b.data_dir) / f"{server}-{port}.log"
            log = open(log_path, "w")  # not a pipe: a full pipe would block the server
            cmd = server_command(server, port)
            if pin and cores():  # off the load generator's core (bench/card.py)
                cmd = ["taskset", "-c", cores()[0], *cmd]
            proc = subprocess.Popen(cmd,
                                    cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
            procs.append((proc, log_path, log))
            bases.append(base)
        for (proc, _, _), base in zip(procs, bases):
            wait_healthy(base, proc)
        yield bases
    except BaseException:
        for _, log_path, log in procs:
            log.flush()
            sys.stderr.write(f"--- {log_path.name}\n{log_path.read_text()[-3000:]}\n")
        raise
    finally:  # always stop the servers, also on failure or Ctrl-C
        for proc, _, log in procs:
            proc.terminate()
        for proc, _, log in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()


def log_in(client: httpx.Client, username: str, password: str = "demo1234") -> str:
    """Log `client` in through the login form; return the CSRF token for later posts."""
    client.get("/login").raise_for_status()
    csrf = client.cookies["csrftoken"]
    r = client.post("/login", data={"username": username, "password": password, "next": "/",
                                    "_csrf_token": csrf})
    if r.status_code != 303:
        raise RuntimeError(f"login as {username} failed: HTTP {r.status_code}")
    return client.cookies.get("csrftoken") or csrf  # a login rotates the token
