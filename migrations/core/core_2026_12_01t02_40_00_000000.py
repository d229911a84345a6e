from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.sqlite import SQLiteEngine

# Columns 17-22 of the statistics table count the outcomes of rectification orders, scoped by
# the order's unit; column 21 only for an order that answers a filing finding, column 22 no
# more persons than the guards with a 特勤 mark at the guard checks behind the order's
# findings. For a province's 27,000 outcomes the count joined the unit and ran two lookups
# over findings and guard checks per outcome (two thirds of the district table's time). The
# order now carries what it counts with, kept by the database like the counting copies
# (migration "counting copies"): its unit's sector and township, `marked` (the guards with a
# 特勤 mark behind it) and `answers_filing` (1 when one of its findings is a filing finding:
# focus area 5 or column 10/11). Triggers on rectification_order, unit, finding and
# guard_check keep them in the transaction that changes their source, whoever writes. Like
# unit.<kind>_since, the columns are not in the Piccolo model: only the counting SQL reads
# them, and an order saved from a stale read cannot overwrite them.

COLUMNS = (("scope_sector", "VARCHAR(32)"), ("scope_township", "INTEGER"),
           ("marked", "INTEGER NOT NULL DEFAULT 0"), ("answers_filing", "INTEGER NOT NULL DEFAULT 0"))

_SCOPE = ("scope_sector = (SELECT u.sector FROM unit u WHERE u.id = {o}.unit), "
          "scope_township = (SELECT u.township FROM unit u WHERE u.id = {o}.unit)")
_FACTS = ("marked = (SELECT COUNT(DISTINCT gc.id) FROM finding mf JOIN guard_check gc ON gc.id = mf.guard_check "
          "WHERE mf.\"order\" = rectification_order.id AND gc.tejin_marking = TRUE), "
          "answers_filing = CASE WHEN EXISTS (SELECT 1 FROM finding ff WHERE ff.\"order\" = rectification_order.id "
          "AND (ff.area = 5 OR ff.stat_column IN (10, 11))) THEN 1 ELSE 0 END")
FACTS_OF = f"UPDATE rectification_order SET {_FACTS} WHERE id IN ({{ids}})"
_UNIT_SCOPE = ("UPDATE rectification_order SET scope_sector = NEW.sector, scope_township = NEW.township "
               "WHERE unit = NEW.id")
_FINDING_CHANGES = ('"order"', "area", "stat_column", "guard_check")
OLD_ORDER, NEW_ORDER = 'OLD."order"', 'NEW."order"'
OF_CHECK = 'SELECT mf."order" FROM finding mf WHERE mf.guard_check = NEW.id'

PG = (
    f"""CREATE OR REPLACE FUNCTION order_scope() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        SELECT u.sector, u.township INTO NEW.scope_sector, NEW.scope_township FROM unit u WHERE u.id = NEW.unit;
        RETURN NEW;
    END $$""",
    "CREATE TRIGGER order_scope BEFORE INSERT OR UPDATE OF unit ON rectification_order "
    "FOR EACH ROW EXECUTE FUNCTION order_scope()",
    f"""CREATE OR REPLACE FUNCTION unit_order_scope() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {_UNIT_SCOPE};
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER unit_order_scope AFTER UPDATE OF sector, township ON unit FOR EACH ROW "
    "WHEN (OLD.sector IS DISTINCT FROM NEW.sector OR OLD.township IS DISTINCT FROM NEW.township) "
    "EXECUTE FUNCTION unit_order_scope()",
    f"""CREATE OR REPLACE FUNCTION finding_order_facts() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' AND OLD."order" IS NOT NULL THEN
            {FACTS_OF.format(ids=OLD_ORDER)};
        END IF;
        IF TG_OP <> 'DELETE' AND NEW."order" IS NOT NULL THEN
            {FACTS_OF.format(ids=NEW_ORDER)};
        END IF;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER finding_order_facts AFTER INSERT OR DELETE ON finding FOR EACH ROW "
    "EXECUTE FUNCTION finding_order_facts()",
    "CREATE TRIGGER finding_order_facts_update AFTER UPDATE ON finding FOR EACH ROW WHEN ("
    + " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in _FINDING_CHANGES)
    + ") EXECUTE FUNCTION finding_order_facts()",
    f"""CREATE OR REPLACE FUNCTION guard_check_order_facts() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {FACTS_OF.format(ids=OF_CHECK)};
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER guard_check_order_facts AFTER UPDATE OF tejin_marking ON guard_check FOR EACH ROW "
    "WHEN (OLD.tejin_marking IS DISTINCT FROM NEW.tejin_marking) EXECUTE FUNCTION guard_check_order_facts()",
)

SQLITE = (
    f"CREATE TRIGGER order_scope_insert AFTER INSERT ON rectification_order BEGIN "
    f"UPDATE rectification_order SET {_SCOPE.format(o='NEW')} WHERE id = NEW.id; END",
    f"CREATE TRIGGER order_scope_update AFTER UPDATE OF unit ON rectification_order WHEN OLD.unit IS NOT NEW.unit "
    f"BEGIN UPDATE rectification_order SET {_SCOPE.format(o='NEW')} WHERE id = NEW.id; END",
    "CREATE TRIGGER unit_order_scope AFTER UPDATE OF sector, township ON unit "
    f"WHEN OLD.sector IS NOT NEW.sector OR OLD.township IS NOT NEW.township BEGIN {_UNIT_SCOPE}; END",
    f"CREATE TRIGGER finding_order_facts_insert AFTER INSERT ON finding WHEN {NEW_ORDER} IS NOT NULL "
    f"BEGIN {FACTS_OF.format(ids=NEW_ORDER)}; END",
    f"CREATE TRIGGER finding_order_facts_delete AFTER DELETE ON finding WHEN {OLD_ORDER} IS NOT NULL "
    f"BEGIN {FACTS_OF.format(ids=OLD_ORDER)}; END",
    "CREATE TRIGGER finding_order_facts_update AFTER UPDATE ON finding WHEN "
    + " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in _FINDING_CHANGES)
    + f" BEGIN {FACTS_OF.format(ids=f'{OLD_ORDER}, {NEW_ORDER}')}; END",
    "CREATE TRIGGER guard_check_order_facts AFTER UPDATE OF tejin_marking ON guard_check "
    "WHEN OLD.tejin_marking IS NOT NEW.tejin_marking "
    f"BEGIN {FACTS_OF.format(ids=OF_CHECK)}; END",
)

BACKFILL = f"UPDATE rectification_order SET {_SCOPE.format(o='rectification_order')}, {_FACTS}"
"""Also bench/province.py's, after its load (the triggers are off during it)."""


async def _forwards() -> None:
    db = engine_finder()
    sqlite = isinstance(db, SQLiteEngine)
    for name, kind in COLUMNS:
        await db.run_ddl(f"ALTER TABLE rectification_order ADD COLUMN {name} {kind}")
    await db.run_ddl(BACKFILL)
    for statement in SQLITE if sqlite else PG:
        await db.run_ddl(statement)


async def _backwards() -> None:
    db = engine_finder()
    if isinstance(db, SQLiteEngine):
        for name in ("order_scope_insert", "order_scope_update", "unit_order_scope", "finding_order_facts_insert",
                     "finding_order_facts_delete", "finding_order_facts_update", "guard_check_order_facts"):
            await db.run_ddl(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for table, name in (("rectification_order", "order_scope"), ("unit", "unit_order_scope"),
                            ("finding", "finding_order_facts"), ("finding", "finding_order_facts_update"),
                            ("guard_check", "guard_check_order_facts")):
            await db.run_ddl(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for name in ("order_scope", "unit_order_scope", "finding_order_facts", "guard_check_order_facts"):
            await db.run_ddl(f"DROP FUNCTION IF EXISTS {name}()")
    for name, _ in COLUMNS:
        await db.run_ddl(f"ALTER TABLE rectification_order DROP COLUMN {name}")


ID = "2026-12-01T02:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "what an order counts with"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    manager.add_raw(_forwards)
    manager.add_raw_backwards(_backwards)
    return manager
