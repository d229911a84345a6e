"""The append-only audit log. Each entry holds the hash of the one before (a hash chain)."""

from piccolo.columns import JSON, ForeignKey, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from server.models.auth import User


class AuditEntry(Table):
    at = Timestamptz(default=TimestamptzNow())
    actor = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    actor_name = Varchar(length=64, default="")
    action = Varchar(length=32)
    table_name = Varchar(length=64, index=True)
    record_id = Varchar(length=64, index=True)
    before = JSON(null=True, default=None)
    after = JSON(null=True, default=None)
    prev_hash = Varchar(length=64)
    hash = Varchar(length=64, unique=True)
