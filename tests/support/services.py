"""Throwaway services for the test run: a PostgreSQL cluster and an S3 server on loopback.

Both are started by the test session itself and stopped when it ends (also on failure or
Ctrl-C), so `make test` needs nothing running beforehand.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not candidates:
        raise RuntimeError(f"PostgreSQL's {name} was not found; `make test` installs it (apt-get install postgresql)")
    return candidates[-1]


class Postgres:
    """initdb + pg_ctl in a temporary folder. PostgreSQL refuses to run as root, so as root
    the cluster belongs to the postgres user."""

    def __init__(self, base: Path, settings: str = ""):
        self.dir = base / "pg"
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        self.settings = settings  # extra server options, e.g. "-c shared_buffers=1GB" (benchmarks)

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed: {done.stderr.strip()}")

    def start(self) -> str:
        self.dir.mkdir(parents=True)
        if self.as_root:
            self.dir.parent.chmod(0o755)  # mkdtemp makes it 0700; postgres must pass through
            shutil.chown(self.dir, "postgres")
        data = self.dir / "data"
        self._run(_pg_bin("initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync",
                  "-E", "UTF8", "--locale=C")
        self.resume()
        url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        return url

    def resume(self, extra: str = "") -> None:
        """Start the server of the cluster (again, after `halt`); `extra` options override the
        test settings until the next start (e.g. "-c synchronous_commit=on" before a crash:
        with it off, a crash loses commits already acknowledged, by design)."""
        opts = f"-p {self.port} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -k {self.dir} {self.settings} {extra}"
        self._run(_pg_bin("pg_ctl"), "-D", str(self.dir / "data"), "-o", opts, "-l", str(self.dir / "log"), "-w", "start")

    def halt(self, mode: str = "fast") -> None:
        """Stop the server, keeping the cluster (the fault suite's outage): "fast" ends every
        session and rolls back what was open; "immediate" is a crash."""
        self._run(_pg_bin("pg_ctl"), "-D", str(self.dir / "data"), "-m", mode, "-w", "stop")

    def stop(self) -> None:
        data = self.dir / "data"
        if data.exists():
            try:
                self._run(_pg_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
            except RuntimeError:
                pass


class S3:
    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)

    def start(self) -> int:
        self.server.start()
        self.port = self.server.get_host_and_port()[1]
        return self.port

    def halt(self) -> None:
        """Stop serving and close the listening socket (connections are refused, not left
        waiting); the buckets and objects stay in this process (moto's backends)."""
        self.server.stop()
        self.server._server.server_close()

    def resume(self) -> None:
        from moto.server import ThreadedMotoServer

        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()

    def stop(self) -> None:
        self.server.stop()


def wait_for_http(url: str, timeout: float = 20.0) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer within {timeout}s")
        time.sleep(0.1)
