"""One contract suite for both object stores: LocalStore and MinioStore (against moto)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from server.settings import Settings
from server.storage import LocalStore, MinioStore, ObjectInfo, ObjectNotFound, make_store

BINARY = bytes(range(256)) * 40 + b"\x00\xff\r\n"


@pytest.fixture(scope="module")
def moto_port():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        yield server.get_host_and_port()[1]
    finally:
        server.stop()


def s3_settings(tmp_path: Path, port: int) -> Settings:
    return Settings.from_env(
        {
            "DATA_DIR": str(tmp_path),
            "MINIO_ENDPOINT": f"127.0.0.1:{port}",
            "MINIO_ACCESS_KEY": "test",
            "MINIO_SECRET_KEY": "testsecret",
            "MINIO_BUCKET": f"test-{uuid.uuid4().hex[:12]}",
            "MINIO_REGION": "us-east-1",
            "SECRET_KEY": "x",
        }
    )


@pytest.fixture(params=["local", "s3"])
async def store(request, tmp_path):
    if request.param == "local":
        s = LocalStore(tmp_path / "objects")
    else:
        s = MinioStore(s3_settings(tmp_path, request.getfixturevalue("moto_port")))
    await s.ensure_ready()
    return s


async def test_round_trip_binary(store):
    await store.put("photos/2026/11/a.jpg", BINARY, "image/jpeg")
    assert await store.get("photos/2026/11/a.jpg") == BINARY


async def test_overwrite(store):
    await store.put("photos/x.jpg", b"first version", "image/jpeg")
    await store.put("photos/x.jpg", b"second", "image/jpeg")
    assert await store.get("photos/x.jpg") == b"second"
    assert await store.stat("photos/x.jpg") == ObjectInfo("photos/x.jpg", 6)


async def test_exists_and_stat(store):
    assert await store.exists("photos/s.jpg") is False
    assert await store.stat("photos/s.jpg") is None
    await store.put("photos/s.jpg", BINARY, "image/jpeg")
    assert await store.exists("photos/s.jpg") is True
    assert await store.stat("photos/s.jpg") == ObjectInfo("photos/s.jpg", len(BINARY))


async def test_get_missing_raises(store):
    with pytest.raises(ObjectNotFound) as info:
        await store.get("photos/nope.jpg")
    assert info.value.key == "photos/nope.jpg"


async def test_delete(store):
    await store.put("photos/d.jpg", b"data", "image/jpeg")
    await store.delete("photos/d.jpg")
    assert await store.exists("photos/d.jpg") is False
    with pytest.raises(ObjectNotFound):
        await store.get("photos/d.jpg")


async def test_delete_missing_is_fine(store):
    await store.delete("photos/never-there.jpg")


async def test_list_keys_prefix(store):
    keys = [
        "photos/2026/11/b.jpg",
        "photos/2026/11/a.jpg",
        "photos/2026/12/c.jpg",
        "photos/2026/1/z.jpg",
        "exports/2026/11/r.xlsx",
    ]
    for key in keys:
        await store.put(key, b"k", "application/octet-stream")
    assert await store.list_keys("photos/2026/11/") == [
        "photos/2026/11/a.jpg",
        "photos/2026/11/b.jpg",
    ]
    # A prefix is a plain string prefix, as in S3.
    assert await store.list_keys("photos/2026/1") == [
        "photos/2026/1/z.jpg",
        "photos/2026/11/a.jpg",
        "photos/2026/11/b.jpg",
        "photos/2026/12/c.jpg",
    ]
    assert await store.list_keys() == sorted(keys)
    assert await store.list_keys("nothing/") == []


@pytest.mark.parametrize("key", ["../x", "/abs", "", "a/../b", "a\\b", "a//b", "a/"])
async def test_bad_keys_rejected(store, key):
    with pytest.raises(ValueError):
        await store.put(key, b"x", "text/plain")
    with pytest.raises(ValueError):
        await store.get(key)
    with pytest.raises(ValueError):
        await store.stat(key)
    with pytest.raises(ValueError):
        await store.delete(key)


async def test_ping(store):
    await store.ping()


async def test_ensure_ready_idempotent(store):
    await store.put("photos/keep.jpg", b"keep", "image/jpeg")
    await store.ensure_ready()
    await store.ensure_ready()
    assert await store.get("photos/keep.jpg") == b"keep"


def test_describe_and_make_store(tmp_path, moto_port):
    local = make_store(Settings.from_env({"DATA_DIR": str(tmp_path), "SECRET_KEY": "x"}))
    assert isinstance(local, LocalStore)
    assert local.describe() == f"local:{tmp_path.resolve() / 'objects'}"
    settings = s3_settings(tmp_path, moto_port)
    remote = make_store(settings)
    assert isinstance(remote, MinioStore)
    assert remote.describe() == f"minio:127.0.0.1:{moto_port}/{settings.minio_bucket}"


async def test_local_interrupted_write_leaves_nothing(tmp_path, monkeypatch):
    store = LocalStore(tmp_path / "objects")
    await store.ensure_ready()
    await store.put("photos/old.jpg", b"old", "image/jpeg")

    def boom(src, dst):
        raise OSError("simulated crash before rename")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="simulated crash"):
        await store.put("photos/new.jpg", BINARY, "image/jpeg")
    with pytest.raises(OSError, match="simulated crash"):
        await store.put("photos/old.jpg", BINARY, "image/jpeg")
    monkeypatch.undo()

    assert await store.exists("photos/new.jpg") is False
    assert await store.get("photos/old.jpg") == b"old"
    leftovers = [p.name for p in (tmp_path / "objects").rglob("*") if p.is_file()]
    assert leftovers == ["old.jpg"]


async def test_local_symlink_cannot_escape(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    store = LocalStore(tmp_path / "objects")
    await store.ensure_ready()
    (store.root / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ValueError):
        await store.put("link/evil.jpg", b"x", "image/jpeg")
    assert not (outside / "evil.jpg").exists()
