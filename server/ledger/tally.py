"""The statistics tallies: the records the statistics table counts, kept summed by the
database per group of records alike (migration "the statistics tallies").

- finding_tally: counted findings per campaign, sector, township, focus area, column, kind of
  offender (and, for the filing columns, the offender); m: sum of quantities, n: how many;
- guard_tally: guards per sector, township, on duty for good, and with a valid certificate;
- unit_tally: units per sector, township, kind, and per kind of provider guarding a site of
  theirs (own staff, security company, property company, unqualified).

Triggers append a row per change (+1 for a record as it now is, -1 for what it was), so a
group's numbers are the sums of its rows. The count (queries.py) reads those sums instead of
a province's records and corrects them for the few records that differ on the day asked for.

- `fold()` replaces a tally's rows with one per group (appended rows pile up as records are
  confirmed, moved and corrected; while the app runs, `keeping()` folds a tally every minute
  once more than FOLD_AFTER rows were appended to it since its last fold);
- `rebuild()` makes a tally again from its records (after a bulk load with the triggers off:
  bench/province.py; `python -m server ledger tally --rebuild`), and `differences()` lists
  the groups where a tally and its records disagree (`python -m server ledger tally`; the
  tests).
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import AsyncIterator

from server import db
from server.vocab import CertStatus, EmploymentStatus, FindingStatus, ProviderKind

log = logging.getLogger(__name__)

FILING_STAT_COLUMNS = (10, 11)
"""The columns whose rule reads the offender's first own site (queries.py: column 10 counts
only against a self-recruiting unit): the findings' tally keeps the offender for these."""
FOLD_AFTER = 5000
"""Rows appended to a tally since its last fold that make the app fold it."""
FOLD_EVERY = 60.0
PROVIDERS = tuple(k.value for k in ProviderKind)


@dataclass(frozen=True)
class Tally:
    table: str
    records: str
    keys: dict[str, str]
    """Each key of a group: its SQL expression on a record written as `{r}`."""
    sums: dict[str, str]
    counted: str = "TRUE"
    """Which records the tally holds (SQL on `{r}`)."""

    def group_of(self, r: str) -> list[str]:
        """The keys of record `r`, as SQL expressions, in order."""
        return [e.format(r=r) for e in self.keys.values()]

    @property
    def columns(self) -> str:
        return ", ".join((*self.keys, *self.sums))

    def from_records(self) -> str:
        """The tally's groups computed from its records."""
        keys = self.group_of("r")
        named = [f"{e} AS {k}" for e, k in zip(keys, self.keys)]
        sums = [f"SUM({e.format(r='r')}) AS {k}" for k, e in self.sums.items()]
        return (f"SELECT {', '.join(named + sums)} FROM {self.records} r "
                f"WHERE {self.counted.format(r='r')} GROUP BY {', '.join(keys)}")


def on_duty_for_good(r: str) -> str:
    """A guard on duty on every day to come: no leaving date, active."""
    return f"({r}.left_on IS NULL AND {r}.employment_status = '{EmploymentStatus.active.value}')"


def certified_for_good(r: str) -> str:
    return f"({on_duty_for_good(r)} AND {r}.certificate_status = '{CertStatus.valid.value}')"


FINDINGS = Tally(
    "finding_tally", "finding",
    {"campaign": "{r}.campaign", "sector": "{r}.scope_sector", "township": "{r}.scope_township",
     "area": "{r}.area", "stat_column": "{r}.stat_column", "kind": "{r}.unit_kind",
     "unit": f"CASE WHEN {{r}}.stat_column IN ({', '.join(map(str, FILING_STAT_COLUMNS))}) THEN {{r}}.unit END"},
    {"m": "{r}.quantity", "n": "1"},
    f"{{r}}.status = '{FindingStatus.confirmed.value}' AND {{r}}.repeat_of IS NULL AND {{r}}.campaign IS NOT NULL",
)
GUARDS = Tally(
    "guard_tally", "guard",
    {"sector": "{r}.scope_sector", "township": "{r}.scope_township",
     "on_duty": f"CASE WHEN {on_duty_for_good('{r}')} THEN 1 ELSE 0 END",
     "certified": f"CASE WHEN {certified_for_good('{r}')} THEN 1 ELSE 0 END"},
    {"n": "1"},
)
UNITS = Tally(
    "unit_tally", "unit",
    {"sector": "{r}.sector", "township": "{r}.township", "kind": "{r}.kind",
     **{f"has_{k}": f"CASE WHEN {{r}}.{k}_since IS NOT NULL THEN 1 ELSE 0 END" for k in PROVIDERS}},
    {"n": "1"},
)
TALLIES = (FINDINGS, GUARDS, UNITS)


def rebuild_statements(tally: Tally) -> tuple[str, str]:
    """rebuild()'s statements (bench/province.py runs them after its load)."""
    return (f"DELETE FROM {tally.table}",
            f"INSERT INTO {tally.table} ({tally.columns}, folded) SELECT *, TRUE FROM ({tally.from_records()}) g "
            f"ORDER BY {', '.join(tally.keys)}")


async def rebuild(tally: Tally) -> int:
    """The tally made again from its records, folded; its number of groups."""
    async with db.atomic():
        for statement in rebuild_statements(tally):
            await db.raw(statement)
        rows = await db.raw(f"SELECT COUNT(*) AS n FROM {tally.table}")
    return int(rows[0]["n"])


async def fold(tally: Tally) -> int:
    """Every group's rows replaced by one (a group whose records all went, by none); the
    number of rows folded. Concurrent writers go on appending: on PostgreSQL the rows folded
    are those the statement saw (a second fold at the same time waits, then finds them gone);
    on SQLite the one writer at a time folds up to the highest id."""
    keys = ", ".join(tally.keys)
    sums = (f"SELECT {keys}, {', '.join(f'SUM({s})' for s in tally.sums)}, TRUE FROM {{rows}} "
            f"GROUP BY {keys} HAVING SUM(n) <> 0 ORDER BY {keys}")
    insert = f"INSERT INTO {tally.table} ({tally.columns}, folded) {sums}"
    async with db.atomic():
        if db.is_postgres():
            rows = await db.raw(
                f"WITH gone AS (DELETE FROM {tally.table} RETURNING {tally.columns}), "
                f"kept AS ({insert.format(rows='gone')} RETURNING 1) SELECT (SELECT COUNT(*) FROM gone) AS n")
            return int(rows[0]["n"])
        top = (await db.raw(f"SELECT COALESCE(MAX(id), 0) AS id, COUNT(*) AS n FROM {tally.table}"))[0]
        await db.raw(insert.format(rows=f"(SELECT * FROM {tally.table} WHERE id <= {int(top['id'])})"))
        await db.raw(f"DELETE FROM {tally.table} WHERE id <= {{}}", int(top["id"]))
        return int(top["n"])


async def fold_if_piled_up(tally: Tally) -> int:
    """fold() when more than FOLD_AFTER rows were appended since the last fold; rows folded."""
    appended = await db.raw(f"SELECT COUNT(*) AS n FROM (SELECT 1 FROM {tally.table} WHERE NOT folded "
                            f"LIMIT {FOLD_AFTER + 1}) a")
    return await fold(tally) if int(appended[0]["n"]) > FOLD_AFTER else 0


@asynccontextmanager
async def keeping(every: float = FOLD_EVERY) -> AsyncIterator[None]:
    """While the app runs: fold_if_piled_up() every `every` seconds for each tally (a failed
    fold loses nothing: the rows stay, and the next round tries again)."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(every)
            for tally in TALLIES:
                try:
                    if n := await fold_if_piled_up(tally):
                        log.info("%s: %d rows folded", tally.table, n)
                except Exception:
                    log.exception("%s: fold failed", tally.table)

    task = asyncio.get_running_loop().create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


async def differences(tally: Tally) -> list[dict]:
    """Groups where the tally's sums differ from its records' (empty: the tally is right)."""
    keys = ", ".join(tally.keys)
    sums = ", ".join(tally.sums)
    both = (f"SELECT {keys}, {', '.join(f'SUM({s}) AS {s}' for s in tally.sums)} FROM ("
            f"SELECT {keys}, {sums} FROM {tally.table} UNION ALL "
            f"SELECT {keys}, {', '.join(f'-{s}' for s in tally.sums)} FROM ({tally.from_records()}) f) d "
            f"GROUP BY {keys} HAVING {' OR '.join(f'SUM({s}) <> 0' for s in tally.sums)}")
    return await db.raw(both)
