"""The one Piccolo app: every capability's tables, migrations in migrations/core/."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from server.models.audit import AuditEntry
from server.models.auth import LoginAttempt, Session, User
from server.models.campaign import Body, Campaign, Phase, ReportingDeadline, Township
from server.models.evidence import AccessLog, Photo
from server.models.inspections import ChecklistAnswer, Finding, GuardCheck, Inspection
from server.models.ledger import WeeklyCell, WeeklyReport
from server.models.rectification import (
    ClueReferral,
    CluePhoto,
    GuardAction,
    RectificationOrder,
    RectificationOutcome,
    SpotCheckDraw,
    SpotCheckTarget,
)
from server.models.registry import Guard, GuardCard, Site, TrainingRecord, Unit

TABLES = [
    Township, Body, Campaign, Phase, ReportingDeadline,
    User, Session, LoginAttempt,
    Unit, Site, Guard, TrainingRecord, GuardCard,
    Inspection, ChecklistAnswer, GuardCheck, Finding,
    Photo, AccessLog,
    RectificationOrder, RectificationOutcome, GuardAction, ClueReferral, CluePhoto,
    SpotCheckDraw, SpotCheckTarget,
    WeeklyReport, WeeklyCell,
    AuditEntry,
]

APP_CONFIG = AppConfig(
    app_name="core",
    migrations_folder_path=str(Path(__file__).resolve().parent.parent / "migrations" / "core"),
    table_classes=TABLES,
    migration_dependencies=[],
    commands=[],
)
