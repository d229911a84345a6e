"""Backups that restore: a consistent copy of the database and of every object, with a
manifest of SHA-256s; and the restore that refuses a damaged backup or a non-empty install.

A backup is a folder:

    manifest.json          format, engine, when; the database file's and every object's
                           SHA-256 and size; the row count of every table; the audit head
    database.sqlite3       SQLite: made with sqlite3's online backup API (readers and the
                           writer carry on meanwhile); a single file in rollback-journal mode
    database.pgdump        PostgreSQL: `pg_dump --format=custom`, run on a snapshot exported
                           by the transaction that counted the rows, so counts and dump agree
    objects/<key>          every object in the store, byte for byte

The database is copied first, then the objects: an object stored after the copy is at worst
an orphan in the backup (`storage check` lists it); no row of the copy misses its object,
because the app stores an object before the row that points at it.

Restore checks everything before it writes anything: the manifest must parse, every file must
be there with its size and SHA-256; the backup's engine must be the install's; the install
must be empty (no rows in any table, no objects) unless `force`. Then the database is
restored (SQLite: the file is put in place atomically; PostgreSQL: `pg_restore --clean
--single-transaction`), the objects are uploaded, and the row counts are compared with the
manifest. Stop the app while restoring.
"""

from __future__ import annotations

import datetime as dt
import glob
import hashlib
import json
import mimetypes
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from anyio import to_thread

from server.settings import Settings
from server.storage import ObjectNotFound, ObjectStore
from server.storage_stream import put_file, save_to_file

FORMAT = 1
MANIFEST = "manifest.json"
OBJECTS = "objects"
DB_FILES = {"sqlite": "database.sqlite3", "postgres": "database.pgdump"}
AUDIT_TABLE = "audit_entry"


class BackupError(Exception):
    """A refusal or failure, with the message the operator reads."""


Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def table_names() -> list[str]:
    from server.models import TABLES

    return [t._meta.tablename for t in TABLES]


def engine_of(settings: Settings) -> str:
    return "postgres" if settings.uses_postgres else "sqlite"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------- counts and the audit head

def _sqlite_tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _sqlite_contents(path: Path) -> tuple[dict[str, int], str | None]:
    """Row counts of the app's tables that exist in the SQLite file, and the audit head."""
    if not path.exists():
        return {}, None
    conn = sqlite3.connect(path)
    try:
        existing = _sqlite_tables(conn)
        counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
                  for t in table_names() if t in existing}
        head = None
        if AUDIT_TABLE in existing:
            row = conn.execute(f'SELECT id, hash FROM "{AUDIT_TABLE}" ORDER BY id DESC LIMIT 1').fetchone()
            head = f"{row[0]}:{row[1]}" if row else None
        return counts, head
    finally:
        conn.close()


async def _pg_contents(conn: Any) -> tuple[dict[str, int], str | None]:
    existing = {r["tablename"] for r in await conn.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}
    counts = {t: await conn.fetchval(f'SELECT count(*) FROM "{t}"') for t in table_names() if t in existing}
    head = None
    if AUDIT_TABLE in existing:
        row = await conn.fetchrow(f'SELECT id, hash FROM "{AUDIT_TABLE}" ORDER BY id DESC LIMIT 1')
        head = f"{row['id']}:{row['hash']}" if row else None
    return counts, head


async def database_contents(settings: Settings) -> tuple[dict[str, int], str | None]:
    """Row counts of every app table present in the install's database, and the audit head."""
    if settings.uses_postgres:
        import asyncpg

        conn = await asyncpg.connect(settings.database_url)
        try:
            return await _pg_contents(conn)
        finally:
            await conn.close()
    return await to_thread.run_sync(_sqlite_contents, settings.sqlite_path)


# ---------------------------------------------------------------- PostgreSQL tools

def pg_tool(name: str, server_major: int) -> str:
    """pg_dump / pg_restore of the server's major version (Debian keeps one folder per
    version); else the oldest newer one; else the one on PATH."""
    found: dict[int, str] = {}
    for path in glob.glob(f"/usr/lib/postgresql/*/bin/{name}"):
        try:
            found[int(Path(path).parts[-3])] = path
        except ValueError:
            continue
    if server_major in found:
        return found[server_major]
    newer = sorted(v for v in found if v > server_major)
    if newer:
        return found[newer[0]]
    on_path = shutil.which(name)
    if on_path and not found:
        return on_path
    raise BackupError(f"找不到 PostgreSQL {server_major} 的 {name}（Debian: apt-get install "
                      f"postgresql-client-{server_major}）")


def _run_tool(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} 失败: {done.stderr.strip() or done.stdout.strip()}")


# ---------------------------------------------------------------- backup

def _sqlite_copy(source: Path, target: Path) -> None:
    """sqlite3's online backup: a consistent copy while the app keeps reading and writing."""
    if not source.exists():
        raise BackupError(f"数据库文件不存在: {source}")
    src = sqlite3.connect(source, timeout=60)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst, pages=1024)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        dst.close()
        src.close()


async def _pg_dump(settings: Settings, target: Path) -> tuple[dict[str, int], str | None]:
    """Counts and audit head read in a repeatable-read transaction whose snapshot pg_dump uses."""
    import asyncpg

    conn = await asyncpg.connect(settings.database_url)
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            snapshot = await conn.fetchval("SELECT pg_export_snapshot()")
            major = int(await conn.fetchval("SHOW server_version_num")) // 10000
            counts, head = await _pg_contents(conn)
            tool = pg_tool("pg_dump", major)
            await to_thread.run_sync(_run_tool, [
                tool, "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
                "--file", str(target), "--dbname", settings.database_url])
    finally:
        await conn.close()
    return counts, head


@dataclass
class BackupReport:
    folder: Path
    manifest: dict[str, Any]

    @property
    def rows(self) -> int:
        return sum(self.manifest["counts"].values())

    @property
    def objects(self) -> int:
        return len(self.manifest["objects"])

    @property
    def object_bytes(self) -> int:
        return sum(o["size"] for o in self.manifest["objects"].values())


async def backup(settings: Settings, store: ObjectStore, folder: Path, progress: Progress = _quiet) -> BackupReport:
    """Copy the database, then every object, into `folder` (new or empty); manifest last."""
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"备份目录不是空的: {folder}")
    folder.mkdir(parents=True, exist_ok=True)
    engine = engine_of(settings)
    db_file = folder / DB_FILES[engine]
    progress(f"database ({engine}) -> {db_file.name}")
    if engine == "sqlite":
        await to_thread.run_sync(_sqlite_copy, settings.sqlite_path, db_file)
        counts, head = await to_thread.run_sync(_sqlite_contents, db_file)
    else:
        counts, head = await _pg_dump(settings, db_file)

    objects: dict[str, dict[str, Any]] = {}
    keys = await store.list_keys()
    progress(f"objects: {len(keys)} from {store.describe()}")
    for key in keys:
        try:
            digest, size = await save_to_file(store, key, folder / OBJECTS / key)
        except ObjectNotFound:  # deleted since the listing (an expired export)
            continue
        objects[key] = {"sha256": digest, "size": size,
                        "content_type": mimetypes.guess_type(key)[0] or "application/octet-stream"}

    manifest = {
        "format": FORMAT,
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "engine": engine,
        "database": {"file": db_file.name, "sha256": await to_thread.run_sync(sha256_file, db_file),
                     "size": db_file.stat().st_size},
        "counts": counts,
        "audit_head": head,
        "objects": objects,
    }
    tmp = folder / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True))
    os.replace(tmp, folder / MANIFEST)
    return BackupReport(folder, manifest)


# ---------------------------------------------------------------- verify

def _check_file(path: Path, expected: dict[str, Any], label: str) -> str | None:
    if not path.is_file():
        return f"缺少文件 {label}"
    if path.stat().st_size != expected.get("size"):
        return f"文件大小不符 {label}: {path.stat().st_size} 字节，清单记录 {expected.get('size')}"
    actual = sha256_file(path)
    if actual != expected.get("sha256"):
        return f"SHA-256 不符 {label}: {actual}，清单记录 {expected.get('sha256')}"
    return None


def read_manifest(folder: Path) -> dict[str, Any]:
    path = Path(folder) / MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise BackupError(f"不是完整的备份: 缺少 {path}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BackupError(f"备份清单已损坏: {path} ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or \
            manifest.get("engine") not in DB_FILES:
        raise BackupError(f"不认识的备份清单格式: {path}")
    return manifest


def verify(folder: Path) -> tuple[dict[str, Any], list[str]]:
    """The manifest and every problem found: missing files, wrong sizes or hashes."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    problems = []
    db = manifest["database"]
    if db.get("file") != DB_FILES[manifest["engine"]]:
        problems.append(f"清单中的数据库文件名不对: {db.get('file')}")
    else:
        problem = _check_file(folder / db["file"], db, db["file"])
        if problem:
            problems.append(problem)
    objects_dir = (folder / OBJECTS).resolve()
    for key, entry in sorted(manifest["objects"].items()):
        path = (objects_dir / key).resolve()
        if not path.is_relative_to(objects_dir):
            problems.append(f"清单中的对象键非法: {key!r}")
            continue
        problem = _check_file(path, entry, f"{OBJECTS}/{key}")
        if problem:
            problems.append(problem)
    return manifest, problems


# ---------------------------------------------------------------- restore

def _sqlite_restore(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.restoring")
    shutil.copyfile(source, tmp)
    conn = sqlite3.connect(tmp)
    try:
        ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()
    if ok != "ok":
        tmp.unlink(missing_ok=True)
        raise BackupError(f"备份中的 SQLite 文件未通过完整性检查: {ok}")
    for suffix in ("-wal", "-shm"):  # the old file's log must not be replayed onto the new one
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    os.replace(tmp, target)


async def _pg_restore(settings: Settings, source: Path) -> None:
    import asyncpg

    conn = await asyncpg.connect(settings.database_url)
    try:
        major = int(await conn.fetchval("SHOW server_version_num")) // 10000
    finally:
        await conn.close()
    tool = pg_tool("pg_restore", major)
    # --clean --if-exists: drop what the dump creates (tables an empty, migrated install
    # already has); one transaction: all or nothing.
    await to_thread.run_sync(_run_tool, [
        tool, "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
        "--exit-on-error", "--dbname", settings.database_url, str(source)])


@dataclass
class RestoreReport:
    manifest: dict[str, Any]
    counts: dict[str, int] = field(default_factory=dict)
    objects: int = 0

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


async def install_contents(settings: Settings, store: ObjectStore) -> tuple[int, int]:
    """Rows in the app's tables and objects in the store: (0, 0) is an empty install."""
    counts, _ = await database_contents(settings)
    try:
        keys = await store.list_keys()
    except Exception:  # noqa: BLE001 - a bucket that does not exist yet holds nothing
        keys = []
    return sum(counts.values()), len(keys)


async def restore(settings: Settings, store: ObjectStore, folder: Path, *, force: bool = False,
                  progress: Progress = _quiet) -> RestoreReport:
    folder = Path(folder)
    manifest, problems = await to_thread.run_sync(verify, folder)
    if problems:
        raise BackupError("备份已损坏，未恢复任何内容:\n  " + "\n  ".join(problems))
    engine = engine_of(settings)
    if manifest["engine"] != engine:
        raise BackupError(f"备份来自 {manifest['engine']}，本安装使用 {engine}：不能跨数据库恢复")
    rows, objects = await install_contents(settings, store)
    if (rows or objects) and not force:
        raise BackupError(f"目标不是空的（{rows} 行数据，{objects} 个对象），未恢复任何内容；"
                          f"确需覆盖请加 --force")

    await store.ensure_ready()
    if force:
        for key in await store.list_keys():
            await store.delete(key)
    db_file = folder / manifest["database"]["file"]
    progress(f"database ({engine}) <- {db_file.name}")
    if engine == "sqlite":
        await to_thread.run_sync(_sqlite_restore, db_file, settings.sqlite_path)
    else:
        await _pg_restore(settings, db_file)

    progress(f"objects: {len(manifest['objects'])} -> {store.describe()}")
    for key, entry in sorted(manifest["objects"].items()):
        await put_file(store, key, folder / OBJECTS / key, entry.get("content_type") or "application/octet-stream")

    counts, head = await database_contents(settings)
    expected = manifest["counts"]
    wrong = [f"{t}: {counts.get(t)} 行，备份时 {n} 行" for t, n in sorted(expected.items()) if counts.get(t) != n]
    if wrong:
        raise BackupError("恢复后行数与备份清单不符:\n  " + "\n  ".join(wrong))
    if head != manifest.get("audit_head"):
        raise BackupError(f"恢复后审计日志头 {head} 与备份清单 {manifest.get('audit_head')} 不符")
    wrong_objects = []
    for key, entry in sorted(manifest["objects"].items()):
        info = await store.stat(key)
        if info is None or info.size != entry["size"]:
            wrong_objects.append(f"{key}: {'缺失' if info is None else f'{info.size} 字节'}，备份时 {entry['size']} 字节")
    if wrong_objects:
        raise BackupError("恢复后对象与备份清单不符:\n  " + "\n  ".join(wrong_objects[:20]))
    return RestoreReport(manifest, counts, len(manifest["objects"]))
