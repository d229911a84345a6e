"""Objects as streams: serve, copy and upload them without holding one whole in memory.

The ObjectStore contract (server/storage.py) moves bytes; photos (up to MAX_UPLOAD_MB) and
ledger exports (tens of MB for a province) are better served and stored piecewise:

- `open_stream(store, key)` -> `ObjectStream`: the size and an async iterator of chunks, for
  Litestar's `Stream` response; raises ObjectNotFound before the first byte, so a route can
  still answer 404.
- `put_file(store, key, path, content_type)`: upload a file from disk (MinIO multipart via
  `fput_object`; on local disk a copy into a temp file, then an atomic rename).
- `save_to_file(store, key, path)`: download an object to a file, returning its SHA-256 and
  size (backups).
- `objects_with_age(store, prefix)`: keys with their last-modified time (lifecycle sweeps).

Kept beside storage.py, not in it, so that the two backends' basic contract stays small.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator

from anyio import to_thread
from minio.error import S3Error

from server.storage import LocalStore, MinioStore, ObjectNotFound, ObjectStore, validate_key

CHUNK = 256 * 1024
_MISSING_CODES = {"NoSuchKey", "NoSuchObject"}


@dataclass
class ObjectStream:
    key: str
    size: int
    chunks: AsyncIterator[bytes]


async def _chunks(read: Any, *closers: Any) -> AsyncIterator[bytes]:
    """Read CHUNK bytes at a time off the event loop; close the source however it ends."""
    try:
        while True:
            chunk = await to_thread.run_sync(read, CHUNK)
            if not chunk:
                return
            yield chunk
    finally:
        for close in closers:
            close()


async def open_stream(store: ObjectStore, key: str) -> ObjectStream:
    """The object's size and its bytes chunk by chunk; ObjectNotFound if it is not there."""
    if isinstance(store, LocalStore):
        path = store._path(key)
        try:
            fh = await to_thread.run_sync(path.open, "rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFound(key) from None
        return ObjectStream(key, os.fstat(fh.fileno()).st_size, _chunks(fh.read, fh.close))
    if isinstance(store, MinioStore):
        validate_key(key)
        try:
            response = await to_thread.run_sync(store.client.get_object, store.bucket, key)
        except S3Error as exc:
            if exc.code in _MISSING_CODES:
                raise ObjectNotFound(key) from None
            raise
        size = int(response.headers.get("Content-Length") or 0)
        return ObjectStream(key, size, _chunks(response.read, response.close, response.release_conn))
    data = await store.get(key)  # any other store: whole, but through the same shape

    async def whole() -> AsyncIterator[bytes]:
        yield data

    return ObjectStream(key, len(data), whole())


def _local_put_file(store: LocalStore, key: str, source: Path) -> None:
    path = store._path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
            shutil.copyfileobj(src, out, CHUNK)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


async def put_file(store: ObjectStore, key: str, source: Path, content_type: str) -> None:
    """Store the file at `source` under `key`, reading it piecewise."""
    if isinstance(store, LocalStore):
        await to_thread.run_sync(_local_put_file, store, key, Path(source))
    elif isinstance(store, MinioStore):
        validate_key(key)
        await to_thread.run_sync(lambda: store.client.fput_object(
            store.bucket, key, str(source), content_type=content_type))
    else:
        await store.put(key, Path(source).read_bytes(), content_type)


async def save_to_file(store: ObjectStore, key: str, target: Path) -> tuple[str, int]:
    """Write the object to `target` (created with its folders); its SHA-256 and size."""
    target.parent.mkdir(parents=True, exist_ok=True)
    stream = await open_stream(store, key)
    h, size = hashlib.sha256(), 0
    with open(target, "wb") as out:
        async for chunk in stream.chunks:
            h.update(chunk)
            size += len(chunk)
            await to_thread.run_sync(out.write, chunk)
    return h.hexdigest(), size


def _local_ages(store: LocalStore, prefix: str) -> list[tuple[str, dt.datetime]]:
    found = []
    for key in store._list(prefix):
        try:
            mtime = store._path(key).stat().st_mtime
        except FileNotFoundError:
            continue
        found.append((key, dt.datetime.fromtimestamp(mtime, dt.timezone.utc)))
    return found


def _minio_ages(store: MinioStore, prefix: str) -> list[tuple[str, dt.datetime]]:
    objects = store.client.list_objects(store.bucket, prefix=prefix or None, recursive=True)
    return [(o.object_name, o.last_modified) for o in objects
            if o.object_name and not o.is_dir and o.last_modified is not None]


async def objects_with_age(store: ObjectStore, prefix: str) -> list[tuple[str, dt.datetime]]:
    """Every key under `prefix` with its last-modified time (UTC)."""
    if isinstance(store, LocalStore):
        return await to_thread.run_sync(_local_ages, store, prefix)
    if isinstance(store, MinioStore):
        return await to_thread.run_sync(_minio_ages, store, prefix)
    return []
