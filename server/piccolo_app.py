"""The one Piccolo app: every capability's tables, migrations in migrations/core/."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from server.models import TABLES

APP_CONFIG = AppConfig(
    app_name="core",
    migrations_folder_path=str(Path(__file__).resolve().parent.parent / "migrations" / "core"),
    table_classes=TABLES,
    migration_dependencies=[],
    commands=[],
)
