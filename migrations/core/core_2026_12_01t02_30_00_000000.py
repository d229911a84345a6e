from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.sqlite import SQLiteEngine

# The district's statistics table read a province's 100,000 units, 500,000 guards and 550,000
# counted findings on every request (0.85 s). The records are now also kept summed by the
# database, per group of records the counting rules cannot tell apart in the long run:
#
# - finding_tally: the counted findings (confirmed, not a repeat found again at 回头看) per
#   campaign, sector, township, focus area, statistics column, kind of offender and, for the
#   filing columns 10 and 11, the offender itself (whose first own site the count reads);
#   m is the sum of their quantities, n their number;
# - guard_tally: the guards per sector, township, on duty for good (no leaving date, active)
#   and with a valid certificate as well;
# - unit_tally: the units per sector, township, kind and whether a site of theirs is guarded
#   by their own staff, a security company, a property company, an unqualified provider.
#
# Triggers append one row per change (+ for the record as it now is, - for what it was) in
# the transaction that makes it, whoever writes; rows are never updated in place, so
# concurrent writers never wait on each other for a tally row. server/ledger/tally.py folds
# the appended rows back into one per group when they pile up and can rebuild a tally from
# its records; server/ledger/queries.py reads the sums and corrects them for the records that
# differ on the day asked for (the few dated after it). The tables are not Piccolo models:
# only the counting SQL reads them.

ACTIVE, VALID, CONFIRMED = "'active'", "'valid'", "'confirmed'"
FILING_COLUMNS = "10, 11"
"""server/ledger/tally.py FILING_STAT_COLUMNS (literals here: a migration does not change)."""
KINDS = ("own", "security_company", "property_company", "unqualified")


def _on_duty(r: str) -> str:
    return f"{r}.left_on IS NULL AND {r}.employment_status = {ACTIVE}"


# table: (record table, keys: expression of the record as `{r}`, sums: expression, counted
# records (or None), record columns a change of which may move the record)
TALLIES = {
    "finding_tally": (
        "finding",
        {"campaign": "{r}.campaign", "sector": "{r}.scope_sector", "township": "{r}.scope_township",
         "area": "{r}.area", "stat_column": "{r}.stat_column", "kind": "{r}.unit_kind",
         "unit": f"CASE WHEN {{r}}.stat_column IN ({FILING_COLUMNS}) THEN {{r}}.unit END"},
        {"m": "{r}.quantity", "n": "1"},
        f"{{r}}.status = {CONFIRMED} AND {{r}}.repeat_of IS NULL AND {{r}}.campaign IS NOT NULL",
        ("status", "repeat_of", "campaign", "scope_sector", "scope_township", "area", "stat_column", "unit_kind",
         "unit", "quantity"),
    ),
    "guard_tally": (
        "guard",
        {"sector": "{r}.scope_sector", "township": "{r}.scope_township",
         "on_duty": f"CASE WHEN {_on_duty('{r}')} THEN 1 ELSE 0 END",
         "certified": f"CASE WHEN {_on_duty('{r}')} AND {{r}}.certificate_status = {VALID} THEN 1 ELSE 0 END"},
        {"n": "1"},
        None,
        ("scope_sector", "scope_township", "left_on", "employment_status", "certificate_status"),
    ),
    "unit_tally": (
        "unit",
        {"sector": "{r}.sector", "township": "{r}.township", "kind": "{r}.kind",
         **{f"has_{k}": f"CASE WHEN {{r}}.{k}_since IS NOT NULL THEN 1 ELSE 0 END" for k in KINDS}},
        {"n": "1"},
        None,
        ("sector", "township", "kind", *(f"{k}_since" for k in KINDS)),
    ),
}
TYPES = {"campaign": "INTEGER NOT NULL", "sector": "VARCHAR(32)", "kind": "VARCHAR(32)", "m": "INTEGER",
         "n": "INTEGER NOT NULL"}


def _table(name: str, sqlite: bool) -> str:
    _, keys, sums, _, _ = TALLIES[name]
    pk = "INTEGER PRIMARY KEY AUTOINCREMENT" if sqlite else "BIGSERIAL PRIMARY KEY"
    columns = ", ".join(f"{c} {TYPES.get(c, 'INTEGER')}" for c in (*keys, *sums))
    return f"CREATE TABLE {name} (id {pk}, {columns}, folded BOOLEAN NOT NULL DEFAULT FALSE)"


def _append(name: str, r: str, sign: str) -> str:
    _, keys, sums, _, _ = TALLIES[name]
    values = [e.format(r=r) for e in keys.values()] + [f"{sign}{e.format(r=r)}" for e in sums.values()]
    return f"INSERT INTO {name} ({', '.join((*keys, *sums))}) SELECT {', '.join(values)}"


def _counted(name: str, r: str) -> str:
    counted = TALLIES[name][3]
    return counted.format(r=r) if counted else "TRUE"


def _backfill(name: str) -> str:
    table, keys, sums, _, _ = TALLIES[name]
    exprs = [e.format(r="r") for e in keys.values()]
    totals = [f"SUM({e.format(r='r')})" for e in sums.values()]
    return (f"INSERT INTO {name} ({', '.join((*keys, *sums))}, folded) "
            f"SELECT {', '.join(exprs + totals)}, TRUE "
            f"FROM {table} r WHERE {_counted(name, 'r')} GROUP BY {', '.join(exprs)}")


def _pg(name: str) -> tuple[str, ...]:
    table, _, _, _, changes = TALLIES[name]
    return (
        f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'INSERT' AND {_counted(name, 'OLD')} THEN
                {_append(name, 'OLD', '-')};
            END IF;
            IF TG_OP <> 'DELETE' AND {_counted(name, 'NEW')} THEN
                {_append(name, 'NEW', '')};
            END IF;
            RETURN NULL;
        END $$""",
        f"CREATE TRIGGER {name} AFTER INSERT OR DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()",
        f"CREATE TRIGGER {name}_update AFTER UPDATE ON {table} FOR EACH ROW WHEN ("
        + " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in changes) + f") EXECUTE FUNCTION {name}()",
    )


def _sqlite(name: str) -> tuple[str, ...]:
    table, _, _, _, changes = TALLIES[name]
    return (
        f"CREATE TRIGGER {name}_insert AFTER INSERT ON {table} WHEN {_counted(name, 'NEW')} "
        f"BEGIN {_append(name, 'NEW', '')}; END",
        f"CREATE TRIGGER {name}_delete AFTER DELETE ON {table} WHEN {_counted(name, 'OLD')} "
        f"BEGIN {_append(name, 'OLD', '-')}; END",
        f"CREATE TRIGGER {name}_update AFTER UPDATE ON {table} WHEN ("
        + " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in changes) + ") BEGIN "
        f"{_append(name, 'OLD', '-')} WHERE {_counted(name, 'OLD')}; "
        f"{_append(name, 'NEW', '')} WHERE {_counted(name, 'NEW')}; END",
    )


INDEXES = (
    "CREATE INDEX finding_tally_campaign ON finding_tally (campaign, sector, township)",
    *(f"CREATE INDEX {name}_appended ON {name} (id) WHERE NOT folded" for name in TALLIES),
)
# What the count corrects on PostgreSQL, found by index: the findings counted after a day
# (by the day they count on), the guards and units changed or dated after it.
PG_INDEXES = (
    "CREATE INDEX finding_counted_found ON finding (campaign, found_at) "
    "WHERE status = 'confirmed' AND repeat_of IS NULL",
    "CREATE INDEX finding_counted_confirmed ON finding (campaign, (COALESCE(reviewed_at, updated_at))) "
    "WHERE status = 'confirmed' AND repeat_of IS NULL",
    "CREATE INDEX guard_changed ON guard ((GREATEST(created_at, updated_at)))",
    "CREATE INDEX guard_dated ON guard ((GREATEST(hired_on, left_on, certificate_issued_on)))",
    "CREATE INDEX unit_changed ON unit ((GREATEST(created_at, " + ", ".join(f"{k}_since" for k in KINDS) + ")))",
)


async def _forwards() -> None:
    db = engine_finder()
    sqlite = isinstance(db, SQLiteEngine)
    for name in TALLIES:
        await db.run_ddl(_table(name, sqlite))
        await db.run_ddl(_backfill(name))
    for statement in INDEXES if sqlite else INDEXES + PG_INDEXES:
        await db.run_ddl(statement)
    for name in TALLIES:
        for statement in _sqlite(name) if sqlite else _pg(name):
            await db.run_ddl(statement)


async def _backwards() -> None:
    db = engine_finder()
    sqlite = isinstance(db, SQLiteEngine)
    for name, (table, *_) in TALLIES.items():
        if sqlite:
            for suffix in ("insert", "delete", "update"):
                await db.run_ddl(f"DROP TRIGGER IF EXISTS {name}_{suffix}")
        else:
            await db.run_ddl(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            await db.run_ddl(f"DROP TRIGGER IF EXISTS {name}_update ON {table}")
            await db.run_ddl(f"DROP FUNCTION IF EXISTS {name}()")
        await db.run_ddl(f"DROP TABLE IF EXISTS {name}")
    if not sqlite:
        for statement in PG_INDEXES:
            await db.run_ddl(f"DROP INDEX IF EXISTS {statement.split()[2]}")


ID = "2026-12-01T02:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "the statistics tallies"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    manager.add_raw(_forwards)
    manager.add_raw_backwards(_backwards)
    return manager
