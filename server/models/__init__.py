"""Floor 1: every Piccolo table of the app, one module per capability.

Tables refer to each other freely here (foreign keys cross capabilities); nothing in this
package imports a capability. Services and routes import the tables they read or write from
here, e.g. ``from server.models.registry import Guard``.
"""

from server.models.audit import AuditEntry
from server.models.auth import LoginAttempt, Session, User
from server.models.campaign import Body, Campaign, Phase, ReportingDeadline, Township
from server.models.documents import BodyDocument
from server.models.evidence import AccessLog, Photo
from server.models.inspections import ChecklistAnswer, Finding, GuardCheck, Inspection
from server.models.ledger import WeeklyCell, WeeklyReport
from server.models.rectification import (
    ClueDocument,
    ClueReferral,
    CluePhoto,
    GuardAction,
    RectificationOrder,
    RectificationOutcome,
    SpotCheckDraw,
    SpotCheckTarget,
)
from server.models.registry import Guard, GuardCard, Site, TrainingRecord, Unit
from server.models.reports import BodyReport, ReportCase, ReportCasePhoto

TABLES = [  # every table, in the order their foreign keys allow creating them
    Township, Body, Campaign, Phase, ReportingDeadline,
    User, Session, LoginAttempt,
    Unit, Site, Guard, TrainingRecord, GuardCard,
    Inspection, ChecklistAnswer, GuardCheck, Finding,
    Photo, AccessLog,
    RectificationOrder, RectificationOutcome, GuardAction, ClueReferral, CluePhoto, ClueDocument,
    SpotCheckDraw, SpotCheckTarget,
    WeeklyReport, WeeklyCell,
    BodyDocument,
    BodyReport, ReportCase, ReportCasePhoto,
    AuditEntry,
]
