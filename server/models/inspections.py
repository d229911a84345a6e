"""Inspections at a site, their checklist answers, per-guard checks and findings.

Rows that a phone creates carry a client-made UUID (unique), so a double tap or a replayed
submission finds the row it already made instead of making another.
"""

from piccolo.columns import (
    Boolean,
    DoublePrecision,
    ForeignKey,
    Integer,
    LazyTableReference,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from server.models.auth import User
from server.models.campaign import Body, Campaign, Phase
from server.models.registry import Guard, Site, Unit
from server.vocab import (
    Answer,
    CardVerdict,
    CountUnit,
    FindingSource,
    FindingStatus,
    InspectionKind,
    InspectionStatus,
)


class Inspection(Table):
    uuid = Varchar(length=36, unique=True)
    campaign = ForeignKey(references=Campaign, on_delete=OnDelete.restrict, index=True)
    phase = ForeignKey(references=Phase, null=True, on_delete=OnDelete.set_null)
    kind = Varchar(length=16, choices=InspectionKind, default=InspectionKind.routine)
    status = Varchar(length=16, choices=InspectionStatus, default=InspectionStatus.draft, index=True)
    officer = ForeignKey(references=User, on_delete=OnDelete.restrict, index=True)
    body = ForeignKey(references=Body, on_delete=OnDelete.restrict, index=True)
    """The inspecting body: the police, or a department/township self-inspecting."""
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, index=True)
    unit = ForeignKey(references=Unit, on_delete=OnDelete.restrict, index=True)
    started_at = Timestamptz(default=TimestamptzNow())
    submitted_at = Timestamptz(null=True, default=None, index=True)
    reviewed_at = Timestamptz(null=True, default=None)
    lat = DoublePrecision(null=True, default=None)
    lng = DoublePrecision(null=True, default=None)
    gps_accuracy = DoublePrecision(null=True, default=None)
    note = Text(default="")
    review_note = Text(default="")


class ChecklistAnswer(Table):
    inspection = ForeignKey(references=Inspection, on_delete=OnDelete.cascade, index=True)
    area = Integer()
    answer = Varchar(length=16, choices=Answer)
    note = Text(default="")
    key = Varchar(length=48, unique=True)
    """"<inspection id>:<area>", one answer per area."""


class GuardCheck(Table):
    """One guard met on duty during an inspection."""

    uuid = Varchar(length=36, unique=True)
    inspection = ForeignKey(references=Inspection, on_delete=OnDelete.cascade, index=True)
    guard = ForeignKey(references=Guard, null=True, on_delete=OnDelete.restrict, index=True)
    typed_certificate_no = Varchar(length=32, default="")
    typed_name = Varchar(length=64, default="")
    verdict = Varchar(length=16, choices=CardVerdict, default=CardVerdict.unrecognised)
    certificate_shown = Boolean(null=True, default=None)
    uniform_ok = Boolean(null=True, default=None)
    insignia_ok = Boolean(null=True, default=None)
    tejin_marking = Boolean(null=True, default=None)
    """特勤 / 特别勤务 seen on the uniform."""
    note = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class Finding(Table):
    uuid = Varchar(length=36, unique=True)
    inspection = ForeignKey(references=Inspection, on_delete=OnDelete.cascade, index=True)
    unit = ForeignKey(references=Unit, on_delete=OnDelete.restrict, index=True)
    """The offender (违法主体): the unit that broke the rule, which the order, the notice and the
    statistics table follow. The site's owner, the provider posted there, a guard's employer or
    another unit (inspections.rules.default_offender gives the default by focus area)."""
    guard = ForeignKey(references=Guard, null=True, on_delete=OnDelete.restrict)
    guard_check = ForeignKey(references=GuardCheck, null=True, on_delete=OnDelete.cascade)
    area = Integer(index=True)
    stat_column = Integer(null=True, default=None, index=True)
    """The statistics-table column (8–16) this finding counts toward, or null (remarks only)."""
    count_unit = Varchar(length=8, choices=CountUnit, default=CountUnit.case)
    quantity = Integer(default=1)
    text = Text(default="")
    source = Varchar(length=16, choices=FindingSource, default=FindingSource.manual)
    derived_key = Varchar(length=96, null=True, default=None, unique=True)
    """For derived findings: "<inspection id>:<rule>", so re-deriving never duplicates."""
    edited = Boolean(default=False)
    status = Varchar(length=16, choices=FindingStatus, default=FindingStatus.draft, index=True)
    review_note = Text(default="")
    reviewed_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    reviewed_at = Timestamptz(null=True, default=None)
    order = ForeignKey(
        references=LazyTableReference("RectificationOrder", module_path="server.models.rectification"),
        null=True,
        on_delete=OnDelete.set_null,
        index=True,
    )
    repeat_of = ForeignKey(references="self", null=True, default=None, on_delete=OnDelete.set_null)
    """At a re-inspection (回头看): the earlier finding of the order being re-inspected that this one
    finds again (复查仍未整改). A repeat is never a second case in the statistics table."""
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    # Copies for the statistics table, kept by the database in the transaction that changes
    # their source (triggers of the migration "counting copies"; never set by the app): the
    # offender's sector, township and kind (Finding.unit), the inspection's campaign and start.
    # The district table then counts a million findings without joining units and inspections.
    scope_sector = Varchar(length=32, null=True, default=None, index=True)
    scope_township = Integer(null=True, default=None, index=True)
    unit_kind = Varchar(length=32, null=True, default=None)
    campaign = Integer(null=True, default=None)
    found_at = Timestamptz(null=True, default=None)
