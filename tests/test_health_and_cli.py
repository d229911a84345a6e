"""The health check operators and balancers use, and the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from server.models.auth import User
from server.storage import LocalStore

ROOT = Path(__file__).resolve().parents[1]


async def test_healthz_reports_database_and_storage(client):
    r = await client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok", "storage": "ok"}


async def test_healthz_is_503_when_storage_is_broken(app, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    good = app.state.store
    app.state.store = LocalStore(blocker)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            r = await c.get("/healthz")
    finally:
        app.state.store = good
    assert r.status_code == 503
    body = r.json()
    assert body["database"] == "ok" and body["storage"].startswith("error")


def cli(env, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "server", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, input=input)


async def test_cli_users_and_idempotent_demo_seed(service_env, world):
    done = cli(service_env, "users", "create", "--username", "newcop",
               "--role", "officer", "--body", "公安蓟州分局", "--display-name", "新警官", input="longenough1\n")
    assert done.returncode == 0, done.stderr
    user = await User.objects().get(User.username == "newcop")
    assert user.role == "officer" and user.display_name == "新警官"

    done = cli(service_env, "users", "create", "--username", "x", "--role", "officer", input="short\n")
    assert done.returncode == 1 and "密码至少 8 位" in done.stderr
    done = cli(service_env, "users", "create", "--username", "y", "--role", "liaison", input="longenough1\n")
    assert done.returncode == 1 and "联络员必须指定所属填报单位" in done.stderr

    done = cli(service_env, "users", "set-password", "--username", "newcop", input="another-one1\n")
    assert done.returncode == 0, done.stderr
    # A password on the command line (shell history, the process list) is refused.
    done = cli(service_env, "users", "set-password", "--username", "newcop", "--password", "on-the-line1")
    assert done.returncode == 2 and "不要在命令行中给出密码" in done.stderr
    assert "newcop" in cli(service_env, "users", "list").stdout


async def test_cli_demo_seed_twice_adds_nothing_the_second_time(service_env):
    first = cli(service_env, "demo", "seed")
    assert first.returncode == 0, first.stderr
    assert "guards +200" in first.stdout and "minjing" in first.stdout
    second = cli(service_env, "demo", "seed")
    assert second.returncode == 0 and "nothing to add" in second.stdout


async def test_cli_db_migrate_is_repeatable(service_env):
    done = cli(service_env, "db", "migrate")
    assert done.returncode == 0 and "up to date" in done.stdout
