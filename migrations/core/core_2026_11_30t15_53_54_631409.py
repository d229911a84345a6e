from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.columns.column_types import ForeignKey
from piccolo.columns.column_types import Integer
from piccolo.columns.column_types import Timestamptz
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

# The statistics table counts a province's million findings and half a million guards. It
# reads the scope of each (the sector and township of the offender or of the guard's unit),
# the offender's kind and the inspection's campaign and start from copies on the record,
# kept here by the database itself: triggers update the copies in the transaction that
# changes their source, whoever writes (the app, a bulk update, the province loader), and
# the migration fills them for the rows already there. Copies are never set by the app.

PG_FUNCTIONS = (
    """CREATE OR REPLACE FUNCTION finding_copies() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        SELECT u.sector, u.township, u.kind INTO NEW.scope_sector, NEW.scope_township, NEW.unit_kind
            FROM unit u WHERE u.id = NEW.unit;
        SELECT i.campaign, i.started_at INTO NEW.campaign, NEW.found_at
            FROM inspection i WHERE i.id = NEW.inspection;
        RETURN NEW;
    END $$""",
    """CREATE OR REPLACE FUNCTION guard_copies() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        SELECT u.sector, u.township INTO NEW.scope_sector, NEW.scope_township
            FROM unit u WHERE u.id = COALESCE((SELECT s.unit FROM site s WHERE s.id = NEW.site), NEW.employer);
        RETURN NEW;
    END $$""",
    """CREATE OR REPLACE FUNCTION unit_copies() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE finding SET scope_sector = NEW.sector, scope_township = NEW.township, unit_kind = NEW.kind
            WHERE unit = NEW.id;
        UPDATE guard SET scope_sector = NEW.sector, scope_township = NEW.township
            WHERE site IN (SELECT s.id FROM site s WHERE s.unit = NEW.id) OR (site IS NULL AND employer = NEW.id);
        RETURN NULL;
    END $$""",
    """CREATE OR REPLACE FUNCTION site_copies() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE guard SET scope_sector = u.sector, scope_township = u.township
            FROM unit u WHERE u.id = NEW.unit AND guard.site = NEW.id;
        RETURN NULL;
    END $$""",
    """CREATE OR REPLACE FUNCTION inspection_copies() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE finding SET campaign = NEW.campaign, found_at = NEW.started_at WHERE inspection = NEW.id;
        RETURN NULL;
    END $$""",
)

PG_TRIGGERS = (
    "CREATE TRIGGER finding_copies BEFORE INSERT OR UPDATE OF unit, inspection ON finding "
    "FOR EACH ROW EXECUTE FUNCTION finding_copies()",
    "CREATE TRIGGER guard_copies BEFORE INSERT OR UPDATE OF site, employer ON guard "
    "FOR EACH ROW EXECUTE FUNCTION guard_copies()",
    "CREATE TRIGGER unit_copies AFTER UPDATE OF sector, township, kind ON unit FOR EACH ROW "
    "WHEN (OLD.sector IS DISTINCT FROM NEW.sector OR OLD.township IS DISTINCT FROM NEW.township "
    "OR OLD.kind IS DISTINCT FROM NEW.kind) EXECUTE FUNCTION unit_copies()",
    "CREATE TRIGGER site_copies AFTER UPDATE OF unit ON site FOR EACH ROW "
    "WHEN (OLD.unit IS DISTINCT FROM NEW.unit) EXECUTE FUNCTION site_copies()",
    "CREATE TRIGGER inspection_copies AFTER UPDATE OF campaign, started_at ON inspection FOR EACH ROW "
    "WHEN (OLD.campaign IS DISTINCT FROM NEW.campaign OR OLD.started_at IS DISTINCT FROM NEW.started_at) "
    "EXECUTE FUNCTION inspection_copies()",
)

_SQLITE_FINDING = """UPDATE finding SET
        scope_sector = (SELECT u.sector FROM unit u WHERE u.id = NEW.unit),
        scope_township = (SELECT u.township FROM unit u WHERE u.id = NEW.unit),
        unit_kind = (SELECT u.kind FROM unit u WHERE u.id = NEW.unit),
        campaign = (SELECT i.campaign FROM inspection i WHERE i.id = NEW.inspection),
        found_at = (SELECT i.started_at FROM inspection i WHERE i.id = NEW.inspection)
    WHERE id = NEW.id;"""
_SQLITE_GUARD = """UPDATE guard SET
        scope_sector = (SELECT u.sector FROM unit u WHERE u.id = COALESCE(
            (SELECT s.unit FROM site s WHERE s.id = NEW.site), NEW.employer)),
        scope_township = (SELECT u.township FROM unit u WHERE u.id = COALESCE(
            (SELECT s.unit FROM site s WHERE s.id = NEW.site), NEW.employer))
    WHERE id = NEW.id;"""

SQLITE_TRIGGERS = (
    f"CREATE TRIGGER finding_copies_insert AFTER INSERT ON finding BEGIN {_SQLITE_FINDING} END",
    f"CREATE TRIGGER finding_copies_update AFTER UPDATE OF unit, inspection ON finding BEGIN {_SQLITE_FINDING} END",
    f"CREATE TRIGGER guard_copies_insert AFTER INSERT ON guard BEGIN {_SQLITE_GUARD} END",
    f"CREATE TRIGGER guard_copies_update AFTER UPDATE OF site, employer ON guard BEGIN {_SQLITE_GUARD} END",
    """CREATE TRIGGER unit_copies AFTER UPDATE OF sector, township, kind ON unit
    WHEN OLD.sector IS NOT NEW.sector OR OLD.township IS NOT NEW.township OR OLD.kind IS NOT NEW.kind
    BEGIN
        UPDATE finding SET scope_sector = NEW.sector, scope_township = NEW.township, unit_kind = NEW.kind
            WHERE unit = NEW.id;
        UPDATE guard SET scope_sector = NEW.sector, scope_township = NEW.township
            WHERE site IN (SELECT s.id FROM site s WHERE s.unit = NEW.id) OR (site IS NULL AND employer = NEW.id);
    END""",
    """CREATE TRIGGER site_copies AFTER UPDATE OF unit ON site WHEN OLD.unit IS NOT NEW.unit
    BEGIN
        UPDATE guard SET scope_sector = (SELECT u.sector FROM unit u WHERE u.id = NEW.unit),
                         scope_township = (SELECT u.township FROM unit u WHERE u.id = NEW.unit)
            WHERE site = NEW.id;
    END""",
    """CREATE TRIGGER inspection_copies AFTER UPDATE OF campaign, started_at ON inspection
    WHEN OLD.campaign IS NOT NEW.campaign OR OLD.started_at IS NOT NEW.started_at
    BEGIN
        UPDATE finding SET campaign = NEW.campaign, found_at = NEW.started_at WHERE inspection = NEW.id;
    END""",
)

BACKFILL = (
    "UPDATE finding SET scope_sector = u.sector, scope_township = u.township, unit_kind = u.kind "
    "FROM unit u WHERE u.id = finding.unit",
    "UPDATE finding SET campaign = i.campaign, found_at = i.started_at "
    "FROM inspection i WHERE i.id = finding.inspection",
    "UPDATE guard SET scope_sector = u.sector, scope_township = u.township "
    "FROM site s, unit u WHERE s.id = guard.site AND u.id = s.unit",
    "UPDATE guard SET scope_sector = u.sector, scope_township = u.township "
    "FROM unit u WHERE u.id = guard.employer AND guard.site IS NULL",
)

# What the statistics queries read (PostgreSQL; SQLite has the plain indexes on the copies):
# the counted findings of a campaign by sector or by township, with everything the count reads,
# and the guards by scope with what the on-duty rule reads, so a count reads indexes alone.
_COUNTED = "found_at, reviewed_at, updated_at, stat_column, unit_kind, quantity, unit"
PG_INDEXES = (
    "CREATE INDEX finding_counted_sector ON finding (campaign, scope_sector, scope_township, area) "
    f"INCLUDE ({_COUNTED}) WHERE status = 'confirmed' AND repeat_of IS NULL",
    "CREATE INDEX finding_counted_township ON finding (campaign, scope_township, scope_sector, area) "
    f"INCLUDE ({_COUNTED}) WHERE status = 'confirmed' AND repeat_of IS NULL",
    "CREATE INDEX guard_counted ON guard (scope_sector, scope_township) INCLUDE (created_at, hired_on, left_on, "
    "employment_status, updated_at, certificate_status, certificate_issued_on)",
)


async def _copies() -> None:
    db = engine_finder()
    sqlite = isinstance(db, SQLiteEngine)
    for statement in BACKFILL:
        await db.run_ddl(statement)
    for statement in (SQLITE_TRIGGERS if sqlite else PG_FUNCTIONS + PG_TRIGGERS + PG_INDEXES):
        await db.run_ddl(statement)


async def _no_copies() -> None:
    db = engine_finder()
    if isinstance(db, SQLiteEngine):
        for name in ("finding_copies_insert", "finding_copies_update", "guard_copies_insert",
                     "guard_copies_update", "unit_copies", "site_copies", "inspection_copies"):
            await db.run_ddl(f"DROP TRIGGER IF EXISTS {name}")
        return
    for table, name in (("finding", "finding_copies"), ("guard", "guard_copies"), ("unit", "unit_copies"),
                        ("site", "site_copies"), ("inspection", "inspection_copies")):
        await db.run_ddl(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        await db.run_ddl(f"DROP FUNCTION IF EXISTS {name}()")
    for name in ("finding_counted_township", "finding_counted_sector", "guard_counted"):
        await db.run_ddl(f"DROP INDEX IF EXISTS {name}")


class _Manager(MigrationManager):
    """Fills the copies and installs the triggers after the columns are added (add_raw would
    run before them), inside the migration's transaction; backwards, drops the triggers
    before the columns go."""

    async def _run_add_columns(self, backwards: bool = False):
        if backwards and not self.preview:
            await _no_copies()
        await super()._run_add_columns(backwards=backwards)
        if not backwards and not self.preview:
            await _copies()



ID = "2026-11-30T15:53:54:631409"
VERSION = "1.38.0"
DESCRIPTION = "counting copies"


async def forwards():
    manager = _Manager(
        migration_id=ID, app_name="core", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Guard",
        tablename="guard",
        column_name="scope_sector",
        db_column_name="scope_sector",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 32,
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

    manager.add_column(
        table_class_name="Guard",
        tablename="guard",
        column_name="scope_township",
        db_column_name="scope_township",
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

    manager.add_column(
        table_class_name="Finding",
        tablename="finding",
        column_name="campaign",
        db_column_name="campaign",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="Finding",
        tablename="finding",
        column_name="found_at",
        db_column_name="found_at",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
        params={
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="Finding",
        tablename="finding",
        column_name="scope_sector",
        db_column_name="scope_sector",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 32,
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

    manager.add_column(
        table_class_name="Finding",
        tablename="finding",
        column_name="scope_township",
        db_column_name="scope_township",
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

    manager.add_column(
        table_class_name="Finding",
        tablename="finding",
        column_name="unit_kind",
        db_column_name="unit_kind",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 32,
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.alter_column(
        table_class_name="Finding",
        tablename="finding",
        column_name="order",
        db_column_name="order",
        params={"index": True},
        old_params={"index": False},
        column_class=ForeignKey,
        old_column_class=ForeignKey,
        schema=None,
    )

    return manager
