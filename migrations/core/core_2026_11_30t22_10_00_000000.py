from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.sqlite import SQLiteEngine

# Survey columns 1-5 of the statistics table ask, for each unit, whether a site of it guarded
# by its own staff, a security company, a property company or an unqualified provider existed
# by the day. Joining a province's 100,000 units with their 141,000 sites for that took a
# quarter to a third of a second; the unit now carries, per kind of provider, when its first
# such site was registered (<kind>_since, NULL: none), kept by the database: triggers on site
# recompute the unit's four columns in the transaction that adds, moves, re-kinds or deletes
# a site, whoever writes. The columns are not in the Piccolo model on purpose: only the
# counting SQL (server/ledger/queries.py) reads them, and a unit saved from a stale read (the
# forms save every column of the model) cannot overwrite them.

KINDS = ("own", "security_company", "property_company", "unqualified")
COLUMNS = tuple(f"{k}_since" for k in KINDS)


def _recompute(unit: str) -> str:
    """SET clause values: each kind's first site of `unit` (an SQL expression)."""
    return ", ".join(f"{k}_since = (SELECT MIN(s.created_at) FROM site s WHERE s.unit = {unit} "
                     f"AND s.provider_kind = '{k}')" for k in KINDS)


PG = (
    f"""CREATE OR REPLACE FUNCTION site_since() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            UPDATE unit SET {_recompute('OLD.unit')} WHERE id = OLD.unit;
        END IF;
        IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.unit IS DISTINCT FROM OLD.unit) THEN
            UPDATE unit SET {_recompute('NEW.unit')} WHERE id = NEW.unit;
        END IF;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER site_since AFTER INSERT OR DELETE OR UPDATE OF unit, provider_kind, created_at ON site "
    "FOR EACH ROW EXECUTE FUNCTION site_since()",
)

SQLITE = (
    f"CREATE TRIGGER site_since_insert AFTER INSERT ON site BEGIN "
    f"UPDATE unit SET {_recompute('NEW.unit')} WHERE id = NEW.unit; END",
    f"CREATE TRIGGER site_since_delete AFTER DELETE ON site BEGIN "
    f"UPDATE unit SET {_recompute('OLD.unit')} WHERE id = OLD.unit; END",
    f"CREATE TRIGGER site_since_update AFTER UPDATE OF unit, provider_kind, created_at ON site BEGIN "
    f"UPDATE unit SET {_recompute('OLD.unit')} WHERE id = OLD.unit; "
    f"UPDATE unit SET {_recompute('NEW.unit')} WHERE id = NEW.unit AND NEW.unit IS NOT OLD.unit; END",
)

BACKFILL = f"UPDATE unit SET {_recompute('unit.id')}"


async def _forwards() -> None:
    db = engine_finder()
    sqlite = isinstance(db, SQLiteEngine)
    for column in COLUMNS:
        await db.run_ddl(f"ALTER TABLE unit ADD COLUMN {column} TIMESTAMPTZ")
    await db.run_ddl(BACKFILL)
    for statement in SQLITE if sqlite else PG:
        await db.run_ddl(statement)


async def _backwards() -> None:
    db = engine_finder()
    if isinstance(db, SQLiteEngine):
        for name in ("site_since_insert", "site_since_delete", "site_since_update"):
            await db.run_ddl(f"DROP TRIGGER IF EXISTS {name}")
    else:
        await db.run_ddl("DROP TRIGGER IF EXISTS site_since ON site")
        await db.run_ddl("DROP FUNCTION IF EXISTS site_since()")
    for column in COLUMNS:
        await db.run_ddl(f"ALTER TABLE unit DROP COLUMN {column}")


ID = "2026-11-30T22:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "first site per kind of provider on the unit"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    manager.add_raw(_forwards)
    manager.add_raw_backwards(_backwards)
    return manager
