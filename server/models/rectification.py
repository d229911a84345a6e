"""Rectification orders and their outcomes, per-guard actions, clue referrals, spot-check draws."""

from piccolo.columns import JSON, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from server.models.auth import User
from server.models.campaign import Body, Campaign
from server.models.inspections import Inspection
from server.models.registry import Guard, Unit
from server.vocab import ClueStatus, GuardActionKind, OrderStatus


class RectificationOrder(Table):
    """责令限期整改通知书: findings (Finding.order) against one unit, with a deadline."""

    number = Varchar(length=32, unique=True)
    campaign = ForeignKey(references=Campaign, on_delete=OnDelete.restrict)
    unit = ForeignKey(references=Unit, on_delete=OnDelete.restrict, index=True)
    inspection = ForeignKey(references=Inspection, null=True, on_delete=OnDelete.set_null)
    issued_by = ForeignKey(references=User, on_delete=OnDelete.restrict)
    issued_at = Timestamptz(default=TimestamptzNow())
    deadline = Date(index=True)
    status = Varchar(length=16, choices=OrderStatus, default=OrderStatus.ordered, index=True)
    reported_at = Timestamptz(null=True, default=None)
    reinspection = ForeignKey(references=Inspection, null=True, on_delete=OnDelete.set_null)
    verified_at = Timestamptz(null=True, default=None)
    escalated_at = Timestamptz(null=True, default=None)
    punishment = Text(default="")
    closed_at = Timestamptz(null=True, default=None)
    note = Text(default="")
    officer = Integer(null=True, default=None, index=True)
    """The order's officer: who inspected (the inspection's officer), else who ordered
    (issued_by). A copy kept by the database (migration "order officer") for the 回头看
    list's filter; never set by the app."""


class RectificationOutcome(Table):
    """A counted result of an order: one of the action columns (17–22) with a quantity."""

    order = ForeignKey(references=RectificationOrder, on_delete=OnDelete.cascade, index=True)
    stat_column = Integer()
    quantity = Integer(default=1)
    recorded_on = Date()
    recorded_by = ForeignKey(references=User, on_delete=OnDelete.restrict)
    note = Text(default="")


class GuardAction(Table):
    order = ForeignKey(references=RectificationOrder, on_delete=OnDelete.cascade, index=True)
    guard = ForeignKey(references=Guard, on_delete=OnDelete.restrict, index=True)
    action = Varchar(length=16, choices=GuardActionKind)
    done_on = Date()
    recorded_by = ForeignKey(references=User, on_delete=OnDelete.restrict)


class ClueReferral(Table):
    """线索: a department or township refers a suspected violation to the police."""

    uuid = Varchar(length=36, unique=True)
    from_body = ForeignKey(references=Body, on_delete=OnDelete.restrict, index=True)
    to_body = ForeignKey(references=Body, on_delete=OnDelete.restrict, index=True)
    unit = ForeignKey(references=Unit, null=True, on_delete=OnDelete.set_null)
    unit_name = Varchar(length=128, default="")
    address = Varchar(length=255, default="")
    description = Text()
    status = Varchar(length=16, choices=ClueStatus, default=ClueStatus.referred, index=True)
    response_due = Date()
    created_by = ForeignKey(references=User, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())
    accepted_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    accepted_at = Timestamptz(null=True, default=None)
    inspection = ForeignKey(references=Inspection, null=True, on_delete=OnDelete.set_null)
    outcome = Text(default="")
    closed_at = Timestamptz(null=True, default=None)


class CluePhoto(Table):
    """A photo sent with a clue (the Photo table belongs to inspections). Stored like evidence:
    original and server-made thumbnail in the object store, checked by content, hashed."""

    uuid = Varchar(length=36, unique=True)
    clue = ForeignKey(references=ClueReferral, on_delete=OnDelete.cascade, index=True)
    object_key = Varchar(length=255, unique=True)
    thumb_key = Varchar(length=255, default="")
    sha256 = Varchar(length=64)
    bytes = Integer()
    width = Integer()
    height = Integer()
    content_type = Varchar(length=32)
    uploader = ForeignKey(references=User, on_delete=OnDelete.restrict)
    uploaded_at = Timestamptz(default=TimestamptzNow())


class ClueDocument(Table):
    """A document sent with a clue (a contract, an agreement): a PDF or a photo of the paper,
    checked by content, hashed, kept under the name the liaison's file had, downloaded as an
    attachment by the referring body and the police."""

    uuid = Varchar(length=36, unique=True)
    clue = ForeignKey(references=ClueReferral, on_delete=OnDelete.cascade, index=True)
    object_key = Varchar(length=255, unique=True)
    file_name = Varchar(length=255)
    sha256 = Varchar(length=64)
    bytes = Integer()
    content_type = Varchar(length=80)
    uploader = ForeignKey(references=User, on_delete=OnDelete.restrict)
    uploaded_at = Timestamptz(default=TimestamptzNow())


class SpotCheckDraw(Table):
    """双随机: the seed, the filters and the exact pool are kept so anyone can redo the draw."""

    campaign = ForeignKey(references=Campaign, on_delete=OnDelete.restrict)
    seed = Varchar(length=64)
    n = Integer()
    pool_filter = JSON(default="{}")
    pool = JSON(default="[]")
    officers = JSON(default="[]")
    exclusions = JSON(default="{}")
    created_by = ForeignKey(references=User, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())


class SpotCheckTarget(Table):
    draw = ForeignKey(references=SpotCheckDraw, on_delete=OnDelete.cascade, index=True)
    unit = ForeignKey(references=Unit, on_delete=OnDelete.restrict)
    officer = ForeignKey(references=User, on_delete=OnDelete.restrict)
    inspection = ForeignKey(references=Inspection, null=True, on_delete=OnDelete.set_null)
