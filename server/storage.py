"""Object storage for photos and other evidence files.

Two backends share one small async contract: LocalStore (files under DATA_DIR/objects,
the embedded default) and MinioStore (MinIO or any S3 endpoint). Keys are made by the
server, e.g. ``photos/2026/11/<uuid>.jpg``, and are validated before any I/O.
"""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from anyio import to_thread
import urllib3
from minio import Minio
from minio.error import S3Error

from server.settings import Settings

_MISSING_CODES = {"NoSuchKey", "NoSuchObject"}


class ObjectNotFound(LookupError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int


class ObjectStore(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> None: ...
    async def get(self, key: str) -> bytes: ...
    async def exists(self, key: str) -> bool: ...
    async def stat(self, key: str) -> ObjectInfo | None: ...
    async def delete(self, key: str) -> None: ...
    async def list_keys(self, prefix: str = "") -> list[str]: ...
    async def ping(self) -> None: ...
    async def ensure_ready(self) -> None: ...
    def describe(self) -> str: ...


def validate_key(key: str) -> str:
    """Accept only relative slash-separated keys whose segments are plain names.

    Segments starting with "." are refused too: that rules out "." and "..", and keeps
    LocalStore's hidden temp files apart from real objects.
    """
    if not isinstance(key, str) or not key:
        raise ValueError("empty object key")
    if key.startswith("/") or "\\" in key or "\x00" in key:
        raise ValueError(f"invalid object key: {key!r}")
    for segment in key.split("/"):
        if not segment or segment.startswith("."):
            raise ValueError(f"invalid object key: {key!r}")
    return key


class LocalStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / validate_key(key)).resolve()
        if not path.is_relative_to(self.root):  # belt and braces against symlinks
            raise ValueError(f"object key escapes the store: {key!r}")
        return path

    def _put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFound(key) from None

    def _stat(self, key: str) -> ObjectInfo | None:
        path = self._path(key)
        return ObjectInfo(key, path.stat().st_size) if path.is_file() else None

    def _list(self, prefix: str) -> list[str]:
        directory = prefix.rpartition("/")[0]
        base = self._path(directory) if directory else self.root
        if not base.is_dir():
            return []
        keys = []
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for name in filenames:
                key = (Path(dirpath) / name).relative_to(self.root).as_posix()
                if not name.startswith(".") and key.startswith(prefix):
                    keys.append(key)
        return sorted(keys)

    def _ping(self) -> None:
        if not self.root.is_dir() or not os.access(self.root, os.W_OK):
            raise OSError(f"object store not writable: {self.root}")

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await to_thread.run_sync(self._put, key, data)

    async def get(self, key: str) -> bytes:
        return await to_thread.run_sync(self._get, key)

    async def exists(self, key: str) -> bool:
        return await self.stat(key) is not None

    async def stat(self, key: str) -> ObjectInfo | None:
        return await to_thread.run_sync(self._stat, key)

    async def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    async def list_keys(self, prefix: str = "") -> list[str]:
        return await to_thread.run_sync(self._list, prefix)

    async def ping(self) -> None:
        await to_thread.run_sync(self._ping)

    async def ensure_ready(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)

    def describe(self) -> str:
        return f"local:{self.root}"


class MinioStore:
    def __init__(self, settings: Settings) -> None:
        assert settings.minio_endpoint, "MINIO_ENDPOINT is not set"
        self.endpoint = settings.minio_endpoint
        self.bucket = settings.minio_bucket
        self.region = settings.minio_region
        self.client = Minio(
            settings.minio_endpoint,
            access_key=settings.minio_access_key,
            secret_key=settings.minio_secret_key,
            secure=settings.minio_secure,
            region=settings.minio_region,
            # Fail fast when MinIO is down (the SDK's default retries for minutes), so a
            # health check or an upload reports the outage instead of hanging.
            http_client=urllib3.PoolManager(
                timeout=urllib3.Timeout(connect=3, read=60),
                retries=urllib3.Retry(total=2, backoff_factor=0.2,
                                      status_forcelist=(500, 502, 503, 504)),
                maxsize=16,
            ),
        )

    def _get(self, key: str) -> bytes:
        response = self.client.get_object(self.bucket, key)
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    def _stat(self, key: str) -> ObjectInfo | None:
        return ObjectInfo(key, self.client.stat_object(self.bucket, key).size or 0)

    def _list(self, prefix: str) -> list[str]:
        objects = self.client.list_objects(self.bucket, prefix=prefix or None, recursive=True)
        return sorted(o.object_name for o in objects if o.object_name and not o.is_dir)

    def _ping(self) -> None:
        if not self.client.bucket_exists(self.bucket):
            raise RuntimeError(f"bucket {self.bucket!r} does not exist")

    def _ensure_ready(self) -> None:
        if self.client.bucket_exists(self.bucket):
            return
        try:  # no bucket policy is ever set: the bucket stays private
            self.client.make_bucket(self.bucket, location=self.region)
        except S3Error as exc:
            if exc.code not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                raise

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        validate_key(key)
        await to_thread.run_sync(
            lambda: self.client.put_object(
                self.bucket, key, io.BytesIO(data), len(data), content_type=content_type
            )
        )

    async def get(self, key: str) -> bytes:
        validate_key(key)
        try:
            return await to_thread.run_sync(self._get, key)
        except S3Error as exc:
            if exc.code in _MISSING_CODES:
                raise ObjectNotFound(key) from None
            raise

    async def exists(self, key: str) -> bool:
        return await self.stat(key) is not None

    async def stat(self, key: str) -> ObjectInfo | None:
        validate_key(key)
        try:
            return await to_thread.run_sync(self._stat, key)
        except S3Error as exc:
            if exc.code in _MISSING_CODES:
                return None
            raise

    async def delete(self, key: str) -> None:
        validate_key(key)  # S3 DELETE of a missing key already succeeds
        await to_thread.run_sync(self.client.remove_object, self.bucket, key)

    async def list_keys(self, prefix: str = "") -> list[str]:
        return await to_thread.run_sync(self._list, prefix)

    async def ping(self) -> None:
        await to_thread.run_sync(self._ping)

    async def ensure_ready(self) -> None:
        await to_thread.run_sync(self._ensure_ready)

    def describe(self) -> str:
        return f"minio:{self.endpoint}/{self.bucket}"


def make_store(settings: Settings) -> ObjectStore:
    if settings.uses_minio:
        return MinioStore(settings)
    return LocalStore(settings.objects_dir)
