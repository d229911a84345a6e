from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from enum import Enum
from piccolo.columns.column_types import Varchar
from piccolo.engine.finder import engine_finder

ID = "2026-11-30T11:46:41:206327"
VERSION = "1.38.0"
DESCRIPTION = "send_back"
"""The office sends an inspection or a finding back to the officer: the status that says so is
now stored as 'sent_back' (it was 'returned'); rows already sent back are renamed here.
Audit entries keep the value they recorded (the hash chain covers them)."""

STATUS_TABLES = ("inspection", "finding")


def _rename(old: str, new: str):
    async def run() -> None:
        db = engine_finder()
        for table in STATUS_TABLES:
            await db.run_ddl(f"UPDATE {table} SET status = '{new}' WHERE status = '{old}'")

    return run


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="core", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="Inspection",
        tablename="inspection",
        column_name="status",
        db_column_name="status",
        params={
            "choices": Enum(
                "InspectionStatus",
                {
                    "draft": "draft",
                    "submitted": "submitted",
                    "sent_back": "sent_back",
                    "reviewed": "reviewed",
                },
            )
        },
        old_params={
            "choices": Enum(
                "InspectionStatus",
                {
                    "draft": "draft",
                    "submitted": "submitted",
                    "returned": "returned",
                    "reviewed": "reviewed",
                },
            )
        },
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Finding",
        tablename="finding",
        column_name="status",
        db_column_name="status",
        params={
            "choices": Enum(
                "FindingStatus",
                {
                    "draft": "draft",
                    "submitted": "submitted",
                    "confirmed": "confirmed",
                    "sent_back": "sent_back",
                    "rejected": "rejected",
                },
            )
        },
        old_params={
            "choices": Enum(
                "FindingStatus",
                {
                    "draft": "draft",
                    "submitted": "submitted",
                    "confirmed": "confirmed",
                    "returned": "returned",
                    "rejected": "rejected",
                },
            )
        },
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.add_raw(_rename("returned", "sent_back"))
    manager.add_raw_backwards(_rename("sent_back", "returned"))

    return manager
