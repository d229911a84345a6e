from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer
from piccolo.columns.indexes import IndexMethod
from piccolo.engine.finder import engine_finder
from piccolo.engine.sqlite import SQLiteEngine

# The 回头看 list filters the open orders by their officer: who inspected (the inspection's
# officer), else who ordered (issued_by). Read through the inspection, that filter hashed every
# inspection of the province for each request. RectificationOrder.officer is a copy kept by
# the database, as the counting copies are (migration "counting copies"): triggers set it when
# an order is written and when an inspection's officer changes, whoever writes; the migration
# fills it for the orders already there.

_OFFICER = "COALESCE((SELECT i.officer FROM inspection i WHERE i.id = {order}.inspection), {order}.issued_by)"

PG_FUNCTIONS = (
    f"""CREATE OR REPLACE FUNCTION order_officer() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.officer := {_OFFICER.format(order="NEW")};
        RETURN NEW;
    END $$""",
    """CREATE OR REPLACE FUNCTION inspection_order_officer() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE rectification_order SET officer = COALESCE(NEW.officer, issued_by) WHERE inspection = NEW.id;
        RETURN NULL;
    END $$""",
)

PG_TRIGGERS = (
    "CREATE TRIGGER order_officer BEFORE INSERT OR UPDATE OF inspection, issued_by, officer "
    "ON rectification_order FOR EACH ROW EXECUTE FUNCTION order_officer()",
    "CREATE TRIGGER inspection_order_officer AFTER UPDATE OF officer ON inspection FOR EACH ROW "
    "WHEN (OLD.officer IS DISTINCT FROM NEW.officer) EXECUTE FUNCTION inspection_order_officer()",
)

# SQLite: after the write, the row is corrected (only when it differs, so the trigger's own
# update stops there).
_SQLITE_ORDER = (f"UPDATE rectification_order SET officer = {_OFFICER.format(order='NEW')} "
                 f"WHERE id = NEW.id AND officer IS NOT {_OFFICER.format(order='NEW')};")

SQLITE_TRIGGERS = (
    f"CREATE TRIGGER order_officer_insert AFTER INSERT ON rectification_order BEGIN {_SQLITE_ORDER} END",
    "CREATE TRIGGER order_officer_update AFTER UPDATE OF inspection, issued_by, officer ON rectification_order "
    f"BEGIN {_SQLITE_ORDER} END",
    """CREATE TRIGGER inspection_order_officer AFTER UPDATE OF officer ON inspection
    WHEN OLD.officer IS NOT NEW.officer
    BEGIN
        UPDATE rectification_order SET officer = COALESCE(NEW.officer, issued_by) WHERE inspection = NEW.id;
    END""",
)

# The list itself (and its count), unfiltered: the open orders of a campaign in deadline order
# (PostgreSQL; its count reads the index alone). SQLite keeps the plain deadline index.
PG_INDEXES = (
    "CREATE INDEX rectification_order_open ON rectification_order (campaign, deadline, id, status) "
    "WHERE status IN ('ordered', 'reported')",
)

BACKFILL = f"UPDATE rectification_order SET officer = {_OFFICER.format(order='rectification_order')}"


async def _copies() -> None:
    db = engine_finder()
    sqlite = isinstance(db, SQLiteEngine)
    await db.run_ddl(BACKFILL)
    for statement in (SQLITE_TRIGGERS if sqlite else PG_FUNCTIONS + PG_TRIGGERS + PG_INDEXES):
        await db.run_ddl(statement)


async def _no_copies() -> None:
    db = engine_finder()
    if isinstance(db, SQLiteEngine):
        for name in ("order_officer_insert", "order_officer_update", "inspection_order_officer"):
            await db.run_ddl(f"DROP TRIGGER IF EXISTS {name}")
        await db.run_ddl("DROP INDEX IF EXISTS rectification_order_officer")  # SQLite keeps it, then fails
        return
    for table, name in (("rectification_order", "order_officer"), ("inspection", "inspection_order_officer")):
        await db.run_ddl(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        await db.run_ddl(f"DROP FUNCTION IF EXISTS {name}()")
    await db.run_ddl("DROP INDEX IF EXISTS rectification_order_open")


class _Manager(MigrationManager):
    """Fills the copy and installs the triggers after the column is added (add_raw would run
    before it), inside the migration's transaction; backwards, drops the triggers before the
    column goes."""

    async def _run_add_columns(self, backwards: bool = False):
        if backwards and not self.preview:
            await _no_copies()
        await super()._run_add_columns(backwards=backwards)
        if not backwards and not self.preview:
            await _copies()


ID = "2026-11-30T21:23:23:682990"
VERSION = "1.38.0"
DESCRIPTION = "order officer, open orders index"


async def forwards():
    manager = _Manager(
        migration_id=ID, app_name="core", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="RectificationOrder",
        tablename="rectification_order",
        column_name="officer",
        db_column_name="officer",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": True,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
