"""A reporting body's one-off documents (its work plan, its final summary): the file it
uploaded last and what the office decided about it."""

from piccolo.columns import ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from server.models.auth import User
from server.models.campaign import Body, Campaign
from server.vocab import DocumentKind, DocumentStatus


class BodyDocument(Table):
    key = Varchar(length=64, unique=True)
    """"<campaign>:<body>:<kind>": one document of a kind per body and campaign."""
    campaign = ForeignKey(references=Campaign, on_delete=OnDelete.restrict, index=True)
    body = ForeignKey(references=Body, on_delete=OnDelete.restrict, index=True)
    kind = Varchar(length=16, choices=DocumentKind)
    status = Varchar(length=16, choices=DocumentStatus, default=DocumentStatus.submitted)
    upload_uuid = Varchar(length=36, default="")
    """The client-made id of the last upload: the same upload sent again changes nothing."""
    object_key = Varchar(length=255)
    """documents/…; a replaced file's object stays (the audit names it)."""
    filename = Varchar(length=128, default="")
    content_type = Varchar(length=128)
    size = Integer()
    sha256 = Varchar(length=64)
    submitted_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    submitted_at = Timestamptz(default=TimestamptzNow())
    decided_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    decided_at = Timestamptz(null=True, default=None)
    return_reason = Text(default="")
