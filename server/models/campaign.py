"""Campaigns, their phases and reporting deadlines (all data, never code), townships and the
reporting bodies (填报单位) with their scopes."""

from piccolo.columns import JSON, Boolean, Date, ForeignKey, Integer, Text, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from server.vocab import BodyScope, Sector


class Township(Table):
    """乡镇街 (township, street or the development zone)."""

    name = Varchar(length=64, unique=True)
    ordinal = Integer(default=0)
    active = Boolean(default=True)
    """Retired townships stay (records point to them) but are offered for nothing new."""


class Body(Table):
    """A reporting body (填报单位). Its scope decides which units it sees and counts:
    the whole district, one sector (e.g. schools), or one township."""

    name = Varchar(length=64, unique=True)
    short_name = Varchar(length=32, default="")
    scope = Varchar(length=16, choices=BodyScope, default=BodyScope.district)
    sector = Varchar(length=32, choices=Sector, null=True, default=None)
    township = ForeignKey(references=Township, null=True, on_delete=OnDelete.restrict)
    is_police = Boolean(default=False)
    ordinal = Integer(default=0)
    contact_name = Varchar(length=64, default="")
    """The body's liaison (联络员) named to the office (the seed asks for one by 12-15)."""
    contact_phone = Varchar(length=32, default="")
    active = Boolean(default=True)
    """A retired body keeps its records and accounts' history; it reports nothing new."""


class Campaign(Table):
    name = Varchar(length=128)
    """The full title, e.g. 蓟州区保安服务市场清理整顿专项行动; the statistics table's title derives from it."""
    district = Varchar(length=32)
    starts_on = Date()
    ends_on = Date()
    weekly_weekday = Integer(default=4)
    """Weekday of the cumulative weekly report (0 = Monday … 4 = Friday)."""
    weekly_from = Date(null=True, default=None)
    weekly_until = Date(null=True, default=None)
    active = Boolean(default=True)
    options = JSON(default="{}")
    """Office-editable settings: default rectification days per focus area, legal-basis text."""


class Phase(Table):
    campaign = ForeignKey(references=Campaign, on_delete=OnDelete.cascade)
    code = Varchar(length=32)
    name = Varchar(length=64)
    description = Text(default="")
    starts_on = Date()
    ends_on = Date()
    ordinal = Integer(default=0)


class ReportingDeadline(Table):
    campaign = ForeignKey(references=Campaign, on_delete=OnDelete.cascade)
    kind = Varchar(length=32)
    """contacts, plan, statistics, weekly, summary — free codes, the title is what users read."""
    title = Varchar(length=128)
    due_on = Date()
    body = ForeignKey(references=Body, null=True, on_delete=OnDelete.cascade)
    """Null: due from every body."""
