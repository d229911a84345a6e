"""Users, server-side sessions and login attempts."""

from piccolo.columns import Boolean, ForeignKey, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from server.models.campaign import Body
from server.vocab import Role


class User(Table, tablename="app_user"):
    username = Varchar(length=64, unique=True)
    display_name = Varchar(length=64, default="")
    password_hash = Varchar(length=255)
    role = Varchar(length=16, choices=Role)
    body = ForeignKey(references=Body, null=True, on_delete=OnDelete.restrict)
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    password_changed_at = Timestamptz(default=TimestamptzNow())


class Session(Table, tablename="app_session"):
    """A login. The cookie holds a random token; only its SHA-256 is stored, so a database
    leak does not leak live sessions. Revoking sets revoked_at."""

    token_hash = Varchar(length=64, unique=True)
    user = ForeignKey(references=User, on_delete=OnDelete.cascade, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    last_seen_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
    ip = Varchar(length=64, default="")
    user_agent = Varchar(length=255, default="")


class LoginAttempt(Table):
    username = Varchar(length=64, index=True)
    ip = Varchar(length=64, default="", index=True)  # the lockout counts failures per address
    at = Timestamptz(default=TimestamptzNow(), index=True)
    success = Boolean(default=False)
