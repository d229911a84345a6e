"""Each responsible body's own report for a report day (server/reports): the numbers computed
from the records, frozen when it submits, what it adds (overrides with a note, 备注, 工作进展),
its typical cases (典型案例) with photos, and the office's answer.

Beside WeeklyReport rather than in it: a WeeklyReport is the police-derived snapshot the
statistics pages freeze (district total and the ids behind every number); a body's report is a
document with a life (draft, submitted, returned, resubmitted, accepted) and the body's own
words. The numbers it was given are frozen here, in `computed`.
"""

from piccolo.columns import JSON, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from server.models.auth import User
from server.models.campaign import Body, Campaign
from server.vocab import ReportStatus


class BodyReport(Table):
    campaign = ForeignKey(references=Campaign, on_delete=OnDelete.restrict)
    body = ForeignKey(references=Body, on_delete=OnDelete.restrict, index=True)
    report_day = Date()
    key = Varchar(length=64, unique=True)
    """"<campaign>:<body>:<day>": one report per body and report day."""
    status = Varchar(length=16, choices=ReportStatus, default=ReportStatus.draft)
    computed = JSON(default="{}")
    """The body's row (StatRow.to_data) as counted from the records when it submitted; {} before."""
    overrides = JSON(default="{}")
    """{"<column>": {"value": n, "note": "why"}}: the body's own figure where it differs."""
    remarks = Text(default="")
    """备注, the body's own words (the computed remarks stay in `computed`)."""
    progress = Text(default="")
    """工作进展."""
    return_reason = Text(default="")
    submitted_by = ForeignKey(references=User, null=True, on_delete=OnDelete.restrict)
    submitted_at = Timestamptz(null=True, default=None)
    decided_by = ForeignKey(references=User, null=True, on_delete=OnDelete.restrict)
    decided_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class ReportCase(Table):
    """A typical case (典型案例) in a body's report."""

    uuid = Varchar(length=36, unique=True)
    report = ForeignKey(references=BodyReport, on_delete=OnDelete.cascade, index=True)
    area = Integer(null=True, default=None)
    """The focus area (1–8) it belongs to, if any: the final summary groups cases by area."""
    title = Varchar(length=128)
    happened = Text(default="")
    done = Text(default="")
    created_by = ForeignKey(references=User, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())


class ReportCasePhoto(Table):
    """A photo of a typical case, stored like evidence: original and thumbnail in the object
    store, checked by content, hashed."""

    uuid = Varchar(length=36, unique=True)
    case = ForeignKey(references=ReportCase, on_delete=OnDelete.cascade, index=True)
    object_key = Varchar(length=255, unique=True)
    thumb_key = Varchar(length=255, default="")
    sha256 = Varchar(length=64)
    bytes = Integer()
    width = Integer()
    height = Integer()
    content_type = Varchar(length=32)
    uploader = ForeignKey(references=User, on_delete=OnDelete.restrict)
    uploaded_at = Timestamptz(default=TimestamptzNow())
