"""Backups that restore: back up a seeded install, restore it into an empty one, and the
operator's checks pass there with the same counts and hashes; a damaged backup and a
non-empty target are refused without writing anything. Runs on both backends (SQLite + local
disk: a second DATA_DIR; PostgreSQL + S3: a second database and bucket)."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from server.piccolo_app import TABLES
from tests.test_health_and_cli import cli
from tests.test_review import decide, submitted_inspection


async def empty_install(service_env: dict[str, str], backend: str, base: Path) -> dict[str, str]:
    """The environment of a second, empty install beside the test session's."""
    env = {**service_env, "DATA_DIR": str(base / "data")}
    if backend == "postgres":
        import asyncpg

        name = f"restore_{uuid.uuid4().hex[:10]}"
        conn = await asyncpg.connect(service_env["DATABASE_URL"])
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        url = urlsplit(service_env["DATABASE_URL"])
        env["DATABASE_URL"] = urlunsplit(url._replace(path=f"/{name}"))
        env["MINIO_BUCKET"] = f"restore-{uuid.uuid4().hex[:10]}"
    return env


@pytest.fixture
async def seeded(app, client_factory, world, service_env):
    """The session's install holding a district, two submitted inspections with photos, a
    review decision (audit entries) and nothing else in its object store."""
    store = app.state.store
    for key in await store.list_keys():  # objects left by other test files
        await store.delete(key)
    officer, office = await client_factory("officer"), await client_factory("office")
    first = await submitted_inspection(officer, world.sites.school.id)
    await submitted_inspection(officer, world.sites.estate.id)
    r = await decide(office, first.key, "findings", first.filing.id, "confirm")
    assert r.status_code in (200, 303), r.text
    return store


async def live_counts() -> dict[str, int]:
    return {t._meta.tablename: await t.count() for t in TABLES}


def manifest_of(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


async def test_backup_restores_into_an_empty_install_with_the_same_counts_and_hashes(
        seeded, service_env, backend, tmp_path):
    store = seeded
    source = tmp_path / "backup"
    done = cli(service_env, "backup", str(source))
    assert done.returncode == 0, done.stderr
    assert "INFO" not in done.stdout + done.stderr
    manifest = manifest_of(source)

    # The manifest describes the install as it is.
    counts = await live_counts()
    assert manifest["counts"] == counts
    assert counts["photo"] == 4 and counts["audit_entry"] > 0
    keys = await store.list_keys()
    assert sorted(manifest["objects"]) == keys and len(keys) == 8  # 4 originals, 4 thumbnails
    for key in keys:
        entry = manifest["objects"][key]
        data = await store.get(key)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest() == \
            hashlib.sha256((source / "objects" / key).read_bytes()).hexdigest()
    db_file = source / manifest["database"]["file"]
    assert manifest["database"]["sha256"] == hashlib.sha256(db_file.read_bytes()).hexdigest()
    head = manifest["audit_head"]
    assert re.fullmatch(r"\d+:[0-9a-f]{64}", head) and f"audit head {head}" in done.stdout

    # A fresh install, migrated as the container's entrypoint would.
    target = await empty_install(service_env, backend, tmp_path / "target")
    migrated = cli(target, "db", "migrate")
    assert migrated.returncode == 0, migrated.stderr

    # A damaged copy is refused and nothing is written.
    damaged = tmp_path / "damaged"
    shutil.copytree(source, damaged)
    photo_key = next(k for k in keys if k.startswith("photos/"))
    photo_file = damaged / "objects" / photo_key
    data = bytearray(photo_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    photo_file.write_bytes(bytes(data))
    refused = cli(target, "restore", str(damaged))
    assert refused.returncode == 1
    assert "备份已损坏，未恢复任何内容" in refused.stderr and f"objects/{photo_key}" in refused.stderr
    checked = cli(target, "restore", str(damaged), "--check")
    assert checked.returncode == 1 and "1 problems" in checked.stdout
    assert cli(target, "restore", str(source), "--check").returncode == 0

    # The intact backup restores (which it would refuse if the damaged one had written anything).
    restored = cli(target, "restore", str(source))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert f"restore done: {sum(counts.values())} rows in {len(counts)} tables, 8 objects" in restored.stdout
    assert "every count matches the manifest" in restored.stdout

    # The operator's checks pass on the restored install.
    verified = cli(target, "evidence", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "4 photos checked, 0 mismatched, 0 missing" in verified.stdout
    storage = cli(target, "storage", "check")
    assert storage.returncode == 0, storage.stdout + storage.stderr
    assert "0 rows without objects, 0 objects without rows" in storage.stdout
    audit = cli(target, "audit", "verify", "--anchor", head)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert f"{counts['audit_entry']} entries, chain intact; head {head}" in audit.stdout

    # The restored install takes new rows (PostgreSQL's sequences came along).
    created = cli(target, "users", "create", "--username", "after_restore",
                  "--role", "office", "--body", "公安蓟州分局", input="longenough1\n")
    assert created.returncode == 0, created.stderr

    # A backup of the restored install holds the same rows, objects and hashes.
    again = tmp_path / "again"
    assert cli(target, "backup", str(again)).returncode == 0
    second = manifest_of(again)
    assert second["counts"] == {**manifest["counts"], "app_user": counts["app_user"] + 1,
                                "audit_entry": counts["audit_entry"] + 1}  # the new user and its entry
    assert second["objects"] == manifest["objects"]
    assert second["audit_head"] != head
    assert cli(target, "audit", "verify", "--anchor", head).returncode == 0  # the old head is still in the chain

    # Restoring over a non-empty install needs --force.
    refused = cli(target, "restore", str(source))
    assert refused.returncode == 1 and "目标不是空的" in refused.stderr
    forced = cli(target, "restore", str(source), "--force")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert cli(target, "storage", "check").returncode == 0


async def test_backup_refuses_a_folder_that_is_not_empty(service_env, tmp_path):
    (tmp_path / "old.txt").write_text("x")
    done = cli(service_env, "backup", str(tmp_path))
    assert done.returncode == 1 and "备份目录不是空的" in done.stderr


async def test_restore_refuses_a_folder_without_manifest(service_env, tmp_path):
    done = cli(service_env, "restore", str(tmp_path))
    assert done.returncode == 1 and "不是完整的备份" in done.stderr
