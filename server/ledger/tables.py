"""Frozen weekly cumulative reports (累计周报)."""

from piccolo.columns import JSON, Date, ForeignKey, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from server.auth.tables import User
from server.campaign.tables import Body, Campaign


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
