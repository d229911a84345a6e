"""Photo evidence and the log of every view of evidence or personal data."""

from piccolo.columns import DoublePrecision, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from server.models.auth import User
from server.models.inspections import Finding, GuardCheck, Inspection
from server.vocab import PhotoReview


class Photo(Table):
    uuid = Varchar(length=36, unique=True)
    """Made by the phone; a retried upload with the same UUID returns the same photo."""
    object_key = Varchar(length=255, unique=True)
    thumb_key = Varchar(length=255, default="")
    sha256 = Varchar(length=64, index=True)
    bytes = Integer()
    width = Integer()
    height = Integer()
    content_type = Varchar(length=32)
    captured_at = Timestamptz(null=True, default=None)
    uploaded_at = Timestamptz(default=TimestamptzNow())
    uploader = ForeignKey(references=User, on_delete=OnDelete.restrict)
    inspection = ForeignKey(references=Inspection, on_delete=OnDelete.restrict, index=True)
    guard_check = ForeignKey(references=GuardCheck, null=True, on_delete=OnDelete.set_null)
    finding = ForeignKey(references=Finding, null=True, on_delete=OnDelete.set_null)
    lat = DoublePrecision(null=True, default=None)
    lng = DoublePrecision(null=True, default=None)
    review_status = Varchar(length=16, choices=PhotoReview, default=PhotoReview.pending)
    review_note = Text(default="")


class AccessLog(Table):
    """Who looked at what: evidence views and downloads, reveals of personal data."""

    at = Timestamptz(default=TimestamptzNow(), index=True)
    user = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    username = Varchar(length=64, default="")
    action = Varchar(length=32)
    object_table = Varchar(length=32)
    object_id = Varchar(length=64, index=True)
    ip = Varchar(length=64, default="")
