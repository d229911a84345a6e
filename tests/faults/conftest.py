"""The fault suite: the app as real server processes, hurt on purpose — concurrent replays of
every replayable post, the process killed with SIGKILL in the middle of an upload and of a
submit and started again, PostgreSQL restarted and the S3 server stopped under traffic
(postgres backend), and a fuzzer over every form field of the route table — then checked for
lost, duplicated or half-saved records and for any 5xx. A 503 with the Chinese "temporarily
unavailable" page while a service is down on purpose is the expected answer, counted apart;
any other 5xx is a defect. Each test adds to one tally, printed at the end of the session
and failed on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from tests.conftest import PASSWORD
from tests.support.services import free_port, wait_for_http

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Tally:
    faults: int = 0
    requests: int = 0
    server_errors: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    unavailable: int = 0

    def answer(self, r: httpx.Response, outage: str = "") -> httpx.Response:
        """Count an answer; a 5xx is a defect, except a 503 naming the service (`outage`:
        "数据库" or "照片存储") that a test stopped on purpose."""
        self.requests += 1
        if r.status_code == 503 and outage and f"{outage}暂时不可用" in r.text and "不会丢失" in r.text:
            self.unavailable += 1
        elif r.status_code >= 500:
            self.server_errors.append(f"{r.request.method} {r.request.url.path}: {r.status_code}")
        return r

    def line(self) -> str:
        return (f"faults tried {self.faults}, requests {self.requests}, 5xx seen {len(self.server_errors)}, "
                f"records lost {len(self.lost)}, duplicated {len(self.duplicated)}"
                f"; 503 while a service was down on purpose {self.unavailable}")

    def problems(self) -> list[str]:
        return self.server_errors + [f"lost: {x}" for x in self.lost] + [f"duplicated: {x}" for x in self.duplicated]


TALLY = Tally()


@pytest.fixture
def tally() -> Tally:
    """The session's tally; a test fails on what it added itself."""
    before = (len(TALLY.server_errors), len(TALLY.lost), len(TALLY.duplicated))
    yield TALLY
    after = (len(TALLY.server_errors), len(TALLY.lost), len(TALLY.duplicated))
    assert after == before, "\n".join(TALLY.problems())


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if TALLY.faults or TALLY.requests:
        terminalreporter.write_sep("=", "fault suite")
        terminalreporter.write_line(TALLY.line())
        for p in TALLY.problems()[:20]:
            terminalreporter.write_line(f"  {p}")


class Server:
    """One uvicorn process of the app on a fixed port, that can be killed and started again."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env, self.port = env, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        # FAULT_LOG_DIR keeps the servers' logs (the tracebacks behind an 错误编号) after the run.
        logs = Path(os.environ.get("FAULT_LOG_DIR") or Path(env["DATA_DIR"]).parent)
        self.log = open(logs / f"fault-server-{self.port}.log", "a")

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "server.asgi:app", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        wait_for_http(f"{self.url}/healthz", timeout=60)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, no rollback by the app."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


@pytest.fixture
def services(backend, running_services):
    """The session's PostgreSQL and S3 server (tests/support/services.py), to stop and start."""
    if backend != "postgres":
        pytest.skip("PostgreSQL and the S3 server run only with --backend postgres (SQLite and "
                    "local disk have no server to stop)")
    from tests.support.services import S3, Postgres

    found = running_services
    return SimpleNamespace(postgres=next(s for s in found if isinstance(s, Postgres)),
                           s3=next(s for s in found if isinstance(s, S3)))


@pytest.fixture
def server(service_env, migrated):
    s = Server(service_env)
    s.start()
    yield s
    s.stop()


async def session(base: str, username: str) -> httpx.AsyncClient:
    c = httpx.AsyncClient(base_url=base, follow_redirects=False, timeout=60)
    await c.get("/login")
    token = c.cookies.get("csrftoken")
    r = await c.post("/login", data={"username": username, "password": PASSWORD, "next": "/", "_csrf_token": token})
    assert r.status_code == 303, r.text
    c.headers["x-csrftoken"] = c.cookies.get("csrftoken")  # a login rotates the token
    return c
