"""Frozen weekly cumulative reports (累计周报)."""

from piccolo.columns import JSON, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from server.models.auth import User
from server.models.campaign import Body, Campaign


class WeeklyReport(Table):
    campaign = ForeignKey(references=Campaign, on_delete=OnDelete.restrict)
    body = ForeignKey(references=Body, null=True, on_delete=OnDelete.restrict)
    """Null: the district total."""
    week_ending = Date()
    key = Varchar(length=64, unique=True)
    """"<campaign>:<body or district>:<date>": one submitted report per body and week."""
    data = JSON()
    """The numbers and the ids behind each, frozen at submission."""
    submitted_by = ForeignKey(references=User, on_delete=OnDelete.restrict)
    submitted_at = Timestamptz(default=TimestamptzNow())


class WeeklyCell(Table):
    """The ids behind one number of a submitted weekly report, kept apart from the numbers so
    that reading a week does not read them (a province's guards are half a million ids)."""

    report = ForeignKey(references=WeeklyReport, on_delete=OnDelete.cascade, index=True)
    column = Integer()
    """1–22, or 23 for the findings named in 备注."""
    records = Integer()
    ids = Text()
    """Sorted ids, packed by weekly.pack_ids."""
