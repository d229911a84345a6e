"""Storage that cleans itself: export files and roster previews expire (bucket lifecycle rules on
MinIO / S3, a sweep everywhere), `storage check` knows both prefixes, photos and exports are
streamed rather than read whole, and shutdown waits (bounded) for running export jobs."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import dataclasses
import os
import time
import uuid

import pytest

from server import lifecycle
from server.evidence.integrity import storage_check
from server.ledger import exports
from server.settings import Settings
from server.storage import LocalStore, MinioStore, ObjectNotFound, make_store
from server.storage_stream import open_stream, put_file, save_to_file
from tests.test_health_and_cli import cli


@pytest.fixture
async def store(tmp_path, backend, settings):
    """A store of the backend under test holding nothing from other tests."""
    if backend == "postgres":
        s = MinioStore(dataclasses.replace(settings, minio_bucket=f"life-{uuid.uuid4().hex[:12]}"))
    else:
        s = LocalStore(tmp_path / "objects")
    assert type(s) is type(make_store(settings))
    await s.ensure_ready()
    return s


async def put_temp_and_photo(store) -> None:
    await store.put("exports/0b6c4d1e-0000-4000-8000-000000000001/status.json", b"{}", "application/json")
    await store.put("exports/0b6c4d1e-0000-4000-8000-000000000001/export.xlsx", b"PK xlsx", "application/zip")
    await store.put("imports/6f1e2d3c-0000-4000-8000-000000000002.xlsx", b"PK roster", "application/zip")
    await store.put("photos/2026/11/keep.jpg", b"\xff\xd8 photo", "image/jpeg")


def test_expiry_age_comes_from_the_environment(tmp_path):
    base = {"DATA_DIR": str(tmp_path), "SECRET_KEY": "x", "CARD_SIGNING_KEY": "00" * 32}
    assert Settings.from_env(base).temp_file_days == 7
    assert Settings.from_env({**base, "TEMP_FILE_DAYS": "3"}).temp_file_days == 3


async def test_sweep_deletes_only_expired_exports_and_imports(store):
    await put_temp_and_photo(store)
    now = dt.datetime.now(dt.timezone.utc)
    assert await lifecycle.sweep(store, 7, now=now) == []  # all fresh
    assert await lifecycle.sweep(store, 7, now=now + dt.timedelta(days=6, hours=23)) == []
    deleted = await lifecycle.sweep(store, 7, now=now + dt.timedelta(days=7, minutes=10))
    assert sorted(deleted) == [
        "exports/0b6c4d1e-0000-4000-8000-000000000001/export.xlsx",
        "exports/0b6c4d1e-0000-4000-8000-000000000001/status.json",
        "imports/6f1e2d3c-0000-4000-8000-000000000002.xlsx",
    ]
    assert await store.list_keys() == ["photos/2026/11/keep.jpg"]  # evidence never expires


async def test_sweep_on_local_disk_goes_by_file_age(tmp_path):
    store = LocalStore(tmp_path / "objects")
    await store.ensure_ready()
    await put_temp_and_photo(store)
    old = time.time() - 8 * 86400
    for key in ("imports/6f1e2d3c-0000-4000-8000-000000000002.xlsx", "photos/2026/11/keep.jpg"):
        os.utime(store.root / key, (old, old))
    assert await lifecycle.sweep(store, 7) == ["imports/6f1e2d3c-0000-4000-8000-000000000002.xlsx"]
    assert len(await store.list_keys()) == 3


async def test_minio_bucket_gets_expiry_rules_and_keeps_its_own(store, backend):
    if backend != "postgres":
        assert await lifecycle.apply_rules(store, 7) is False  # local disk: the sweep does it
        return
    from minio.commonconfig import ENABLED, Filter
    from minio.lifecycleconfig import Expiration, LifecycleConfig, Rule

    operator_rule = Rule(ENABLED, rule_filter=Filter(prefix="scratch/"), rule_id="operators-own",
                         expiration=Expiration(days=1))
    store.client.set_bucket_lifecycle(store.bucket, LifecycleConfig([operator_rule]))
    assert await lifecycle.apply_rules(store, 5) is True
    assert await lifecycle.apply_rules(store, 5) is True  # idempotent
    rules = {r.rule_id: (r.rule_filter.prefix, r.expiration.days)
             for r in store.client.get_bucket_lifecycle(store.bucket).rules}
    assert rules == {"operators-own": ("scratch/", 1), "expire-exports": ("exports/", 5),
                     "expire-imports": ("imports/", 5), "expire-weekly": ("weekly/", 5)}


async def test_storage_check_counts_neither_exports_nor_imports_as_orphans(store):
    await store.put("exports/0b6c4d1e-0000-4000-8000-000000000001/status.json", b"{}", "application/json")
    await store.put("imports/6f1e2d3c-0000-4000-8000-000000000002.xlsx", b"PK roster", "application/zip")
    report = await storage_check(store)
    assert report.ok and report.orphans == [] and report.objects == 0
    await store.put("photos/2026/11/stray.jpg", b"x", "image/jpeg")
    assert (await storage_check(store)).orphans == ["photos/2026/11/stray.jpg"]


async def test_storage_sweep_command(app, service_env):
    store = app.state.store
    await put_temp_and_photo(store)
    done = cli(service_env, "storage", "sweep", "--days", "0")
    assert done.returncode == 0, done.stderr
    assert "DELETED  imports/6f1e2d3c-0000-4000-8000-000000000002.xlsx" in done.stdout
    assert "older than 0 days deleted" in done.stdout
    assert await store.exists("photos/2026/11/keep.jpg")
    assert not await store.exists("imports/6f1e2d3c-0000-4000-8000-000000000002.xlsx")
    await store.delete("photos/2026/11/keep.jpg")


async def test_objects_stream_in_chunks_and_upload_from_files(store, tmp_path):
    data = os.urandom(1_000_000)
    source = tmp_path / "big.xlsx"
    source.write_bytes(data)
    await put_file(store, "exports/0b6c4d1e-0000-4000-8000-000000000003/export.xlsx", source, "application/zip")
    stream = await open_stream(store, "exports/0b6c4d1e-0000-4000-8000-000000000003/export.xlsx")
    chunks = [c async for c in stream.chunks]
    assert stream.size == len(data) and len(chunks) > 1 and max(map(len, chunks)) <= 256 * 1024
    assert b"".join(chunks) == data
    digest, size = await save_to_file(store, "exports/0b6c4d1e-0000-4000-8000-000000000003/export.xlsx",
                                      tmp_path / "copy" / "x.xlsx")
    assert (digest, size) == (hashlib.sha256(data).hexdigest(), len(data))
    with pytest.raises(ObjectNotFound):
        await open_stream(store, "exports/none/export.xlsx")


async def test_photo_download_is_streamed_with_its_length(client_factory, world, app):
    from tests.test_review import submitted_inspection

    officer, office = await client_factory("officer"), await client_factory("office")
    s = await submitted_inspection(officer, world.sites.school.id)
    for path in (f"/photos/{s.scene}", f"/photos/{s.scene}/download", f"/photos/{s.scene}/thumb"):
        r = await office.get(path, headers={"Accept-Encoding": "identity"})
        assert r.status_code == 200
        assert int(r.headers["content-length"]) == len(r.content) > 0
        assert r.headers["cache-control"] == "private, no-store"


async def test_shutdown_waits_for_running_export_jobs_but_not_forever():
    finished = []

    async def job(seconds: float) -> None:
        await asyncio.sleep(seconds)
        finished.append(seconds)

    quick = asyncio.get_running_loop().create_task(job(0.2))
    exports._running.add(quick)  # as exports.start() registers a job
    quick.add_done_callback(exports._running.discard)
    assert exports.running_jobs() == {quick}
    assert await lifecycle.drain(exports.running_jobs(), timeout=5) is True and finished == [0.2]
    assert exports.running_jobs() == set()

    slow = asyncio.get_running_loop().create_task(job(30))
    exports._running.add(slow)
    slow.add_done_callback(exports._running.discard)
    started = time.monotonic()
    assert await lifecycle.drain(exports.running_jobs(), timeout=0.3) is False
    assert time.monotonic() - started < 2 and not slow.cancelled()  # left to the process's exit
    slow.cancel()
    await asyncio.gather(slow, return_exceptions=True)
