"""The database: one engine per process, built from the app's Settings, and everything that
differs between PostgreSQL and SQLite.

The engine: PostgreSQL when DATABASE_URL is set, else a SQLite file in DATA_DIR
(make_engine). create_app(settings) builds it from the Settings it is given and `install`s
it. Piccolo finds a table's engine in the table's Meta (`Table._meta.db`) and, when none is
set there, through `engine_finder()`, which reads `DB` from the piccolo_conf module; its
migrations and its own tables only ever use engine_finder. So `install` sets both: DB in the
piccolo_conf module Piccolo imports, and `_meta.db` of every table of its APP_REGISTRY (a
table keeps the first engine it found). piccolo_conf.py builds an engine from the
environment only when asked before anything was installed: for Piccolo's own command line.

Services never ask which engine runs; what differs between the two lives here: `atomic`
(BEGIN IMMEDIATE on SQLite), `lock` (an advisory lock on PostgreSQL), `raw` (SQL with `{}`
placeholders), `insert_many` (COPY on PostgreSQL), `id_list_sql` (array_agg or
group_concat), `json_rows_sql` (json_agg or json_group_array), `stream_rows` (a server-side
cursor on PostgreSQL) and `pages`, `contains` (LIKE or ILIKE), `timestamp_sql`/`timestamp_arg`
(timestamps are text on SQLite), and the connections: `start`/`stop` (the pools),
PooledSQLiteEngine, PooledPostgresEngine and Prepared.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import json
import logging
import re
import sqlite3
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Awaitable, Callable, Optional, TypeVar

import asyncpg

from piccolo.conf.apps import Finder
from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory
from piccolo.columns import Column
from piccolo.query.base import Query
from piccolo.columns.m2m import M2MSelect
from piccolo.query.methods.select import Select
from piccolo.querystring import QueryString
from piccolo.table import Table

from server.settings import Settings


SQLITE_POOL_SIZE = 4

T = TypeVar("T")
_log = logging.getLogger(__name__)


class PooledSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLiteEngine, reusing open connections for statements run outside a
    transaction while the app serves.

    The stock engine opens a new connection for every such statement: a thread, the file and a
    PRAGMA each time, which made a page's queries cost milliseconds each. The server opens the
    pool in its lifespan (db.start) and closes it on shutdown; everything else (CLI commands,
    migrations, tests' run_sync) keeps the stock behaviour. Reads share a few connections; all
    writes go through one connection, which runs them one after another: SQLite has a single
    writer anyway, and writers on several connections would wait in its busy handler's sleeps.
    Connections are autocommit (isolation_level=None), so a borrowed one carries nothing from
    one statement to the next.

    The writer is the only connection of the process that writes: single statements and whole
    transactions (db.atomic) take it in turn under one lock (`_write_lock`), so no two writes
    of the process ever meet in SQLite's lock, and a statement never finds the writer holding
    a half-read cursor of another (which made SQLite refuse the write at once, "database is
    locked", when a transaction had committed in between). Only reads (SELECT) go to the
    readers. Other processes (the command line) still meet the writer in SQLite's busy handler
    (the engine's `timeout`).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._readers: Optional[asyncio.LifoQueue] = None
        self._writer: Any = None
        self._write_lock: Optional[asyncio.Lock] = None
        self._pool_loop: Optional[asyncio.AbstractEventLoop] = None
        self._pool_connections: list[Any] = []
        self._inline: Optional[sqlite3.Connection] = None

    async def open_pool(self, readers: int = SQLITE_POOL_SIZE) -> None:
        await self.close_pool()
        queue: asyncio.LifoQueue = asyncio.LifoQueue()
        for _ in range(readers + 1):
            self._pool_connections.append(await self.get_connection())
        self._writer = self._pool_connections[0]
        # In WAL mode, NORMAL syncs the WAL at checkpoints rather than at every commit: still
        # safe from corruption, and an app crash loses nothing; an OS crash or power cut may
        # lose the last moments of these single-statement writes (access-log rows, session
        # touches). It halved the officer's card page, which logs every view. Transactions
        # (db.atomic: inspections, photos, reviews) run on their own connections at FULL.
        await self._writer.execute("PRAGMA synchronous=NORMAL")
        for connection in self._pool_connections[1:]:
            queue.put_nowait(connection)
        inline = sqlite3.connect(**{**self.connection_kwargs, "timeout": 0.05})
        inline.row_factory = dict_factory
        inline.execute("PRAGMA query_only=1")
        self._inline = inline
        self._readers, self._pool_loop = queue, asyncio.get_running_loop()
        self._write_lock = asyncio.Lock()

    def _pooled(self) -> bool:
        return self._readers is not None and asyncio.get_running_loop() is self._pool_loop

    def transaction(self, transaction_type: TransactionType = TransactionType.deferred,
                    allow_nested: bool = True) -> SQLiteTransaction:
        if not self._pooled():
            return super().transaction(transaction_type=transaction_type, allow_nested=allow_nested)
        return _WriterTransaction(engine=self, transaction_type=transaction_type, allow_nested=allow_nested)

    async def close_pool(self) -> None:
        self._readers, self._writer, self._pool_loop, self._write_lock = None, None, None, None
        if self._inline is not None:
            self._inline.close()
            self._inline = None
        connections, self._pool_connections = self._pool_connections, []
        for connection in connections:
            await connection.close()

    async def _run_in_new_connection(self, query: str, args: Optional[list[Any]] = None,
                                     query_type: str = "generic", table: Any = None) -> Any:
        readers = self._readers
        if readers is None or asyncio.get_running_loop() is not self._pool_loop:
            return await super()._run_in_new_connection(query, args, query_type, table)
        if query_type == "insert" or not _is_read(query):
            async with self._write_lock:
                return await self._execute(self._writer, query, args, query_type, table)
        connection = await readers.get()
        try:
            return await self._execute(connection, query, args, query_type, table)
        finally:
            readers.put_nowait(connection)

    def read_inline(self, query: str, args: list[Any]) -> Optional[list[dict]]:
        """Run a point lookup (a Prepared select by key) on the event loop's own thread.

        Such a read takes SQLite tens of microseconds, less than handing it to a connection's
        thread and waiting for the result to come back. A WAL reader never waits for the
        writer; should it meet a lock anyway (50 ms at most) or run inside a transaction (whose
        connection must see its own writes), None tells the caller to take the usual path."""
        if (self._inline is None or self.current_transaction.get() is not None
                or asyncio.get_running_loop() is not self._pool_loop):
            return None
        try:
            return self._inline.execute(query, args).fetchall()
        except sqlite3.OperationalError:
            return None

    async def _execute(self, connection: Any, query: str, args: Optional[list[Any]],
                       query_type: str, table: Any) -> Any:
        if query_type == "insert" and self.get_version_sync() < 3.35:  # no RETURNING: the cursor's rowid
            async with connection.execute(query, args or []) as cursor:
                return [{table._meta.primary_key._meta.db_column_name:
                         (await self._get_inserted_pk(cursor, table))}]
        # One trip to the connection's thread (execute, fetch, close the cursor there), not three:
        # under load each trip waited a turn of the busy event loop for its result.
        return await connection.execute_fetchall(query, args or [])


_READ = re.compile(r"\s*(SELECT|WITH)\b", re.IGNORECASE)
_WRITE = re.compile(r"\b(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


def _is_read(sql: str) -> bool:
    """A statement that only reads: SELECT, or WITH … SELECT (Piccolo marks only inserts)."""
    return bool(_READ.match(sql)) and (sql.lstrip()[:4].upper() != "WITH" or not _WRITE.search(sql))


class _WriterTransaction(SQLiteTransaction):
    """A transaction on the pool's one writer, holding the write lock from BEGIN to COMMIT.
    It runs at synchronous=FULL (the writer's single statements at NORMAL, see open_pool)."""

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        engine = self.engine
        await engine._write_lock.acquire()
        try:
            self.connection = engine._writer
            await self.connection.execute("PRAGMA synchronous=FULL")
            await self.begin()
        except BaseException:
            await self._settle()
            raise
        self.context = engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        try:
            if exception:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
        finally:
            self.engine.current_transaction.reset(self.context)
            await self._settle()
        return exception is None

    async def _settle(self) -> None:
        """Leave the writer as found (no open transaction, NORMAL) and let the next one in."""
        try:
            if self.connection.in_transaction:
                await self.connection.execute("ROLLBACK")
            await self.connection.execute("PRAGMA synchronous=NORMAL")
        finally:
            self.engine._write_lock.release()


LOOKUP_CONNECTIONS = 20
"""Connections PooledPostgresEngine keeps for Prepared lookups, beside the pool: one for each
request a worker has in flight under load (each has at most one lookup running). With 4, six
lookups in ten took the pool at 20 concurrent requests, and the card page cost 10 % more
(bench/README.md, issue 17)."""


class PooledPostgresEngine(PostgresEngine):
    """Piccolo's PostgresEngine with a few connections of its own for Prepared lookups (the
    session of every request, the card of every scan).

    A statement through asyncpg's pool cost the event loop ~80 µs more than the same statement
    on a connection at hand, about as much as the statement itself: the pool wraps each
    acquire in a proxy and shields each release in a new task (bench/README.md, section 1).
    The server opens LOOKUP_CONNECTIONS connections in its lifespan (db.start) with the pool; a
    lookup takes an idle one, runs its statement and puts it back. With none idle, inside a
    transaction (whose connection must see its own writes) or outside the server, `lookup`
    returns None and the caller takes the pool as before. The connections are autocommit and
    carry no session state, so nothing passes from one lookup to the next. A connection that
    was lost (the server restarted) or whose statement was cancelled is closed, not put back;
    the next lookup has replacements opened in the background, and one that found a lost
    connection is answered by the pool. Connections of an earlier start (the pool was
    closed while they ran a statement) are closed when they come back.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._idle: list[asyncpg.Connection] = []
        self._lookup_count = 0  # idle, busy and being opened, of this start
        self._lookup_loop: Optional[asyncio.AbstractEventLoop] = None
        self._generation = 0  # one per start_connection_pool
        self._opening: Optional[asyncio.Task] = None

    async def start_connection_pool(self, **kwargs: Any) -> None:
        await super().start_connection_pool(**kwargs)
        self._generation += 1
        self._lookup_loop = asyncio.get_running_loop()
        await asyncio.gather(*(self._open_lookup() for _ in range(LOOKUP_CONNECTIONS)))

    async def close_connection_pool(self) -> None:
        self._generation += 1
        self._lookup_loop = None
        if self._opening is not None:
            self._opening.cancel()
        idle, self._idle, self._lookup_count = self._idle, [], 0
        for connection in idle:
            await _close(connection)
        await super().close_connection_pool()

    async def _open_lookup(self) -> None:
        generation = self._generation
        self._lookup_count += 1
        try:
            connection = await asyncpg.connect(**self.config)
        except BaseException:
            if generation == self._generation:
                self._lookup_count -= 1
            raise
        self._put_back(connection, generation)

    def _replace(self) -> None:
        """Open connections in the background until there are LOOKUP_CONNECTIONS again."""
        if self._opening is not None:
            return
        generation = self._generation

        async def opening() -> None:
            try:
                while self._lookup_count < LOOKUP_CONNECTIONS and generation == self._generation:
                    await self._open_lookup()
            except Exception as exc:  # noqa: BLE001 - the pool answers meanwhile; a later lookup retries
                _log.info("lookup connection not opened (%s)", type(exc).__name__)
            finally:
                self._opening = None
        self._opening = asyncio.get_running_loop().create_task(opening())

    async def lookup(self, query: str, args: list[Any]) -> Optional[list]:
        """The records of a point lookup on an idle lookup connection; None: take the pool."""
        if (self._lookup_loop is not asyncio.get_running_loop()
                or self.current_transaction.get() is not None):
            return None
        if self._lookup_count < LOOKUP_CONNECTIONS:
            self._replace()
        if not self._idle:
            return None
        connection, generation = self._idle.pop(), self._generation
        if connection.is_closed():  # the server ended it while idle
            self._lost(connection, generation)
            return None
        try:
            records = await connection.fetch(query, *args)
        except BaseException as exc:
            if isinstance(exc, asyncpg.PostgresError) and not connection.is_closed():
                self._put_back(connection, generation)  # the statement failed, not the connection
                raise
            # Lost (the server restarted), or cancelled mid-statement: its state is unknown.
            self._lost(connection, generation)
            if isinstance(exc, Exception):
                _log.info("lookup connection dropped (%s): the pool answers", type(exc).__name__)
                return None
            raise
        self._put_back(connection, generation)
        return records

    def _put_back(self, connection: asyncpg.Connection, generation: int) -> None:
        if generation == self._generation and self._lookup_loop is not None:
            self._idle.append(connection)
        else:
            connection.terminate()

    def _lost(self, connection: asyncpg.Connection, generation: int) -> None:
        connection.terminate()
        if generation == self._generation:
            self._lookup_count -= 1


async def _close(connection: asyncpg.Connection) -> None:
    try:
        await connection.close(timeout=2)
    except Exception:  # noqa: BLE001 - a lost server: nothing to say goodbye to
        connection.terminate()


def make_engine(settings: Settings) -> Engine:
    if settings.uses_postgres:
        # No JIT: the app's queries are short, and the statistics table's (a dozen FILTERed sums
        # per source) are estimated dear enough that PostgreSQL compiled each one with LLVM
        # first — seconds of compiling for milliseconds of counting (bench/README.md, scale).
        return PooledPostgresEngine(config={"dsn": settings.database_url, "server_settings": {"jit": "off"}})
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return PooledSQLiteEngine(path=str(settings.sqlite_path), timeout=60)


_installed: Optional[Engine] = None


def install(db: Engine) -> Engine:
    """Make `db` the engine of every table and of Piccolo's own machinery (see above)."""
    global _installed
    finder = Finder()
    conf = finder.get_piccolo_conf_module()
    if conf is None:
        raise RuntimeError("piccolo_conf cannot be imported (PICCOLO_CONF, sys.path)")
    conf.DB = db
    for table in finder.get_table_classes():
        table._meta.db = db
    _installed = db
    return db


def engine() -> Engine:
    """The installed engine; before any, the one Piccolo finds (piccolo_conf.DB)."""
    if _installed is not None:
        return _installed
    db = engine_finder()
    assert db is not None, "piccolo_conf.DB is not configured"
    return db


def is_postgres() -> bool:
    return isinstance(engine(), PostgresEngine)


def contains(column: Any, q: str) -> Any:
    """Case-insensitive substring match. SQLite's LIKE has no default escape character, so
    the wildcards are dropped from the user's text instead of escaped. On PostgreSQL, text
    without upper/lower case (Chinese, digits) is matched with LIKE: the same rows, and
    several times faster than ILIKE, which folds the case of every row it reads."""
    pattern = "%" + q.replace("%", "").replace("_", "") + "%"
    if not is_postgres() or q.lower() == q.upper():
        return column.like(pattern)
    return column.ilike(pattern)


def timestamp_sql(expr: str) -> str:
    """A timestamp column (or expression) of raw SQL, comparable with a `timestamp_arg`. On
    SQLite, where timestamps are text, it is compared through datetime() (UTC, whole seconds)."""
    return expr if is_postgres() else f"datetime({expr})"


def timestamp_arg(value: dt.datetime) -> Any:
    """An aware datetime as the argument of raw SQL that compares it with `timestamp_sql`."""
    return value if is_postgres() else value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


WRITE_LOCK = 7_734_001
"""db.lock key of the one writer at a time on PostgreSQL: every atomic() takes it first; the
audit chain's appends (audit/service.py) take the same key."""


@asynccontextmanager
async def atomic() -> AsyncIterator[None]:
    """A write transaction, one at a time, like SQLite's single writer. On SQLite it takes the
    write lock up front (BEGIN IMMEDIATE), so two writers never deadlock on a lock upgrade.
    On PostgreSQL it takes WRITE_LOCK up front: every write transaction appends to the audit
    chain, which serialises them anyway at its lock; taken late, after row locks, that lock
    deadlocked two transactions (a card issue against another, a portrait against a checklist
    answer). Nested calls join the outer one."""
    db = engine()
    if db.transaction_exists():
        yield
        return
    if isinstance(db, SQLiteEngine):
        async with db.transaction(transaction_type=TransactionType.immediate):
            yield
    else:
        async with db.transaction():
            await lock(WRITE_LOCK)
            yield


def is_unique_violation(exc: BaseException) -> bool:
    """A unique constraint refused an insert or update, on either engine."""
    if isinstance(exc, sqlite3.IntegrityError):
        return "UNIQUE constraint failed" in str(exc)
    return isinstance(exc, asyncpg.UniqueViolationError)


async def once(key: Column, value: Any, create: Callable[[], Awaitable[T]]) -> tuple[T | Any, bool]:
    """Make a record at most once: its client-made `key` (a UUID the phone chose, so that an
    outbox replay or a second tap finds the first) with `value`. Returns (record, True) when
    `create()` made it, (the existing row as an object, False) when it was already there.

    A check before the insert is not enough: twenty copies of one post racing each other all
    find nothing. So when `create()` fails — the unique index refusing a concurrent twin, or
    any check the twin's commit made untrue ("already in this inspection") — and the row
    with this key exists now, that row is the answer: the work is already done. Otherwise the
    error goes on. `create()` writes in its own atomic() block; when called inside a larger
    transaction, a savepoint keeps that transaction usable after the refusal (PostgreSQL
    aborts it otherwise).
    """
    table = key._meta.table
    existing = await table.objects().where(key == value).first()
    if existing is not None:
        return existing, False
    db = engine()
    outer = db.current_transaction.get()
    try:
        if outer is None:
            return await create(), True
        savepoint = await outer.savepoint()
        try:
            made = await create()
        except BaseException:
            await savepoint.rollback_to()
            raise
        await savepoint.release()
        return made, True
    except Exception as exc:
        existing = await table.objects().where(key == value).first()
        if existing is None:
            raise
        if not is_unique_violation(exc):
            _log.info("%s %s=%s already made by a concurrent request (%s)", table._meta.tablename,
                      key._meta.name, value, type(exc).__name__)
        return existing, False


async def lock(key: int) -> None:
    """Inside a transaction (atomic): writers asking for the same `key`, in any process, wait
    for each other until it ends. PostgreSQL: a transaction-level advisory lock. SQLite needs
    none: atomic() already holds the database's single write lock."""
    db = engine()
    if isinstance(db, PostgresEngine):
        await db.run_ddl(f"SELECT pg_advisory_xact_lock({int(key)})")


async def _keep_session(connection: Any) -> None:
    """asyncpg's pool resets a connection's session (RESET ALL, UNLISTEN *, advisory unlocks…)
    on every release: a second round trip for each query outside a transaction. The app sets
    no session state (no SET, LISTEN or session-level locks; only transaction-level advisory
    locks), so there is nothing to reset; asyncpg still rolls back an unfinished transaction."""


async def start(db: Engine) -> None:
    """Open the connection pools of the app's engine (the app's lifespan)."""
    if isinstance(db, PostgresEngine):
        await db.start_connection_pool(min_size=1, max_size=10, reset=_keep_session)
    else:
        # WAL lets readers run beside the single writer.
        await db.run_ddl("PRAGMA journal_mode=WAL")
        if isinstance(db, PooledSQLiteEngine):
            await db.open_pool()


async def stop(db: Engine) -> None:
    if isinstance(db, PostgresEngine):
        await db.close_connection_pool()
    elif isinstance(db, PooledSQLiteEngine):
        await db.close_pool()


async def raw(sql: str, *args: Any) -> list[dict]:
    """The rows of a SQL statement as dicts. Write `{}` for each argument (Piccolo's
    QueryString makes it $1, $2… on PostgreSQL, ? on SQLite) and SQL both engines read:
    double-quoted identifiers, CASE rather than FILTER, no casts."""
    db = engine()
    rows = await db.run_querystring(QueryString(sql, *args), in_pool=True)
    return db.transform_response_to_dicts(rows) if rows else []


async def insert_many(table: type[Table], columns: list[str], rows: list[tuple], batch: int = 100) -> None:
    """Rows into a table (values of its `columns`, by name), in the open transaction if any:
    on PostgreSQL by COPY (thousands of rows in one round trip, no statement to parse), on
    SQLite in multi-row inserts of `batch` rows."""
    db = engine()
    if isinstance(db, PostgresEngine):
        async with db.transaction() as transaction:  # joins the open one
            await transaction.connection.copy_records_to_table(table._meta.tablename, records=rows, columns=columns)
        return
    for i in range(0, len(rows), batch):
        await table.insert(*(table(**dict(zip(columns, row))) for row in rows[i:i + batch]))


def id_list_sql(expr: str) -> str:
    """An aggregate of integers (ids) into one value per group, read back by `id_list`:
    array_agg on PostgreSQL, group_concat on SQLite (in no particular order)."""
    return f"array_agg({expr})" if is_postgres() else f"group_concat({expr})"


def id_list(value: Any) -> list[int]:
    """The integers of an `id_list_sql` aggregate."""
    if isinstance(value, list):
        return value
    return list(map(int, value.split(","))) if value else []


def json_rows_sql(columns: list[str], table: str, where: str, order_by: str) -> str:
    """A scalar subquery whose value is the rows of `table` matching `where` (raw SQL, which may
    name the outer query's columns), in `order_by` order, as one JSON array of objects of
    `columns` (column names), read back by `json_rows`: rows of a one-to-many child in the same
    round trip as their parent. json_agg/json_build_object on PostgreSQL; on SQLite, whose
    json_group_array has no ORDER BY before 3.44, json_group_array/json_object over an ordered
    subquery. Values come back as JSON has them: dates and timestamps as ISO text."""
    cols = ", ".join(f'"{c}"' for c in columns)
    pairs = ", ".join(f"'{c}', \"{c}\"" for c in columns)
    if is_postgres():
        return (f'(SELECT coalesce(json_agg(json_build_object({pairs}) ORDER BY {order_by}), \'[]\') '
                f'FROM "{table}" WHERE {where})')
    return (f'(SELECT json_group_array(json_object({pairs})) '
            f'FROM (SELECT {cols} FROM "{table}" WHERE {where} ORDER BY {order_by}))')


def json_rows(value: Any) -> list[dict]:
    """The rows of a `json_rows_sql` subquery."""
    if not value:
        return []
    return json.loads(value) if isinstance(value, (str, bytes)) else value


async def pages(select: Callable[[], Select], key: Column, batch: int) -> AsyncIterator[list[dict]]:
    """Every row of a select in `key` order, `batch` at a time, each page a query of its own:
    the rows after the last key of the page before. `select()` makes a fresh query each
    time; `key` is a column of its table that it selects (by its own name)."""
    name = key._meta.name
    last = None
    while True:
        query = select()
        if last is not None:
            query = query.where(key > last)
        rows = await query.order_by(key).limit(batch)
        if not rows:
            return
        last = rows[-1][name]
        yield rows
        if len(rows) < batch:
            return


async def stream_rows(select: Callable[[], Select], key: Column, batch: int) -> AsyncIterator[list]:
    """Every row of a select in `key` order, `batch` at a time, as tuples of the selected
    columns (a million rows without a dict each). On PostgreSQL, outside a transaction, it is
    one query read through a server-side cursor on a connection of the pool (or of its own
    outside the app), and the rows are asyncpg's records; otherwise it reads `pages`.

    The cursor is DECLAREd, not asyncpg's cursor (a portal of the wire protocol): PostgreSQL
    plans a DECLAREd cursor for its first rows (cursor_tuple_fraction), a portal for the
    whole result. For a province's findings the portal's plan joined and sorted them all
    before the first row (2.5 s in which the export waited); the cursor's walks the key's
    index and sends the first batch at once."""
    db = engine()
    if not isinstance(db, PostgresEngine) or db.transaction_exists():
        async for rows in pages(select, key, batch):
            yield [tuple(r.values()) for r in rows]
        return
    sql, args = select().order_by(key).querystrings[0].compile_string(db.engine_type)
    own = db.pool is None
    con = await db.get_new_connection() if own else await db.pool.acquire()
    try:
        async with con.transaction(readonly=True):
            await con.execute(f"DECLARE stream_rows NO SCROLL CURSOR FOR {sql}", *args)
            fetch = f"FETCH {int(batch)} FROM stream_rows"
            while True:
                rows = await con.fetch(fetch)
                if rows:
                    yield rows
                if len(rows) < batch:
                    break
    finally:
        if own:
            await con.close()
        else:
            await db.pool.release(con)


async def ping() -> None:
    await engine().run_ddl("SELECT 1")


class _Slot:
    """Stands for the i-th parameter while a Prepared query is built."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


def _plain(query: Query) -> bool:
    """Whether Piccolo's processing of the query's PostgreSQL records is only making them dicts:
    a select of columns (no many-to-many, no JSON loading, no objects)."""
    if not isinstance(query, Select) or hasattr(query, "_raw_response_callback"):
        return False
    output = query.output_delegate._output
    return (not (output.as_objects or output.load_json or output.nested)
            and not any(isinstance(c, M2MSelect) for c in query.columns_delegate.selected_columns))


class Prepared:
    """A Piccolo select built and compiled once per engine, then run with new values.

    For the queries behind every request (the session) and every scan (the card): building a
    joined select costs Piccolo more than the database spends answering it. `build` takes one
    argument per parameter and returns the query; the parameters may only be compared against
    (`Session.token_hash == token`), not transformed. Rows come back as from the query itself.
    It uses the mechanism of Piccolo's own frozen queries (QueryString's frozen compiled
    strings); tests/test_db_prepared.py checks it against the plain query on both engines.
    While the server runs, it reads on the event loop's thread on SQLite (read_inline) and on a
    connection kept for lookups on PostgreSQL (PooledPostgresEngine.lookup): keep Prepared for
    point lookups by key, never for scans.
    """

    def __init__(self, build: Callable[..., Query]) -> None:
        self._build = build
        self._arity = len(inspect.signature(build).parameters)
        self._compiled: dict[str, tuple[Query, QueryString, str, list[Any], bool]] = {}

    def _for(self, db: Engine) -> tuple[Query, QueryString, str, list[Any], bool]:
        found = self._compiled.get(db.engine_type)
        if found is None:
            query = self._build(*(_Slot(i) for i in range(self._arity)))
            (querystring,) = query.querystrings
            sql, args = querystring.compile_string(engine_type=db.engine_type)
            found = self._compiled[db.engine_type] = (query, querystring, sql, args, _plain(query))
        return found

    async def rows(self, *values: Any) -> list[dict]:
        db = engine()
        query, template, sql, args, plain = self._for(db)
        values = [values[a.index] if isinstance(a, _Slot) else a for a in args]
        if isinstance(db, PooledSQLiteEngine):
            found = db.read_inline(sql, values)
            if found is not None:
                return await query._process_results(found)
        elif isinstance(db, PooledPostgresEngine):
            found = await db.lookup(sql, values)
            if found is not None:
                return [dict(r) for r in found] if plain else await query._process_results(found)
        bound = QueryString(sql, query_type=template.query_type, table=template.table)
        bound._frozen_compiled_strings = (sql, values)
        return await query._process_results(await db.run_querystring(bound, in_pool=True))

    async def first(self, *values: Any) -> Optional[dict]:
        found = await self.rows(*values)
        return found[0] if found else None
