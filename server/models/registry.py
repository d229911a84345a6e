"""The registry: units (单位), sites (服务目标), guards (保安员), training, guard cards."""

from piccolo.columns import (
    Boolean,
    Date,
    DoublePrecision,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from server.models.campaign import Body, Township
from server.vocab import (
    CertStatus,
    EmploymentStatus,
    FilingStatus,
    ProviderKind,
    Sector,
    TrainingKind,
    UnitKind,
)


class Unit(Table):
    name = Varchar(length=128, index=True)
    uscc = Varchar(length=18, unique=True, null=True, default=None)
    """统一社会信用代码 (GB 32100-2015); null for an illegal organisation without one."""
    kind = Varchar(length=32, choices=UnitKind, index=True)
    sector = Varchar(length=32, choices=Sector, default=Sector.other, index=True)
    township = ForeignKey(references=Township, null=True, on_delete=OnDelete.restrict, index=True)
    address = Varchar(length=255, default="")
    licence_no = Varchar(length=64, default="")
    """保安服务许可证 number, for security-service companies."""
    filing_status = Varchar(length=16, choices=FilingStatus, default=FilingStatus.not_required)
    filing_no = Varchar(length=64, default="")
    filed_on = Date(null=True, default=None)
    service_stopped_on = Date(null=True, default=None)
    filing_revoked_on = Date(null=True, default=None)
    legal_rep = Varchar(length=64, default="")
    contact_name = Varchar(length=64, default="")
    contact_phone = Varchar(length=32, default="")
    notes = Text(default="")
    to_verify = Boolean(default=False)
    """需核查: entered by name at a site (an unregistered organisation named as a finding's
    offender); the office completes or corrects the record."""
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    added_by_body = ForeignKey(references=Body, null=True, on_delete=OnDelete.set_null)
    """The body whose liaison registered the unit during the survey (null: the office's)."""
    confirmed = Boolean(default=True)
    """False for a liaison's addition until the office has checked and confirmed it."""


class Site(Table):
    """A guarded premises (服务目标) of a unit, and who guards it."""

    unit = ForeignKey(references=Unit, on_delete=OnDelete.restrict, index=True)
    name = Varchar(length=128, index=True)
    address = Varchar(length=255, default="")
    township = ForeignKey(references=Township, null=True, on_delete=OnDelete.restrict, index=True)
    sector = Varchar(length=32, choices=Sector, default=Sector.other)
    provider_kind = Varchar(length=32, choices=ProviderKind, default=ProviderKind.own)
    provider = ForeignKey(references=Unit, null=True, on_delete=OnDelete.restrict)
    """The company that supplies the guards; null when the unit guards itself."""
    posts = Integer(default=1)
    lat = DoublePrecision(null=True, default=None)
    lng = DoublePrecision(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Guard(Table):
    name = Varchar(length=64, index=True)
    id_number = Varchar(length=18, unique=True, null=True, default=None)
    """身份证号 (GB 11643-1999). Personal data: masked on screen, reveals are logged."""
    gender = Varchar(length=4, default="")
    phone = Varchar(length=32, default="")
    employer = ForeignKey(references=Unit, on_delete=OnDelete.restrict, index=True)
    site = ForeignKey(references=Site, null=True, on_delete=OnDelete.set_null, index=True)
    certificate_no = Varchar(length=32, unique=True, null=True, default=None)
    certificate_status = Varchar(length=16, choices=CertStatus, default=CertStatus.none, index=True)
    certificate_issued_on = Date(null=True, default=None)
    vetted = Boolean(default=False)
    exam_passed = Boolean(default=False)
    photo_collected = Boolean(default=False)
    fingerprint_collected = Boolean(default=False)
    portrait_key = Varchar(length=255, null=True, default=None)
    employment_status = Varchar(length=16, choices=EmploymentStatus, default=EmploymentStatus.active)
    hired_on = Date(null=True, default=None)
    left_on = Date(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    added_by_body = ForeignKey(references=Body, null=True, on_delete=OnDelete.set_null)
    """The body whose liaison registered the guard during the survey (null: the office's)."""
    # Copies for the statistics table, kept by the database (triggers of the migration
    # "counting copies"; never set by the app): the sector and township of the unit that
    # scopes the guard (the unit of their site, else their employer).
    scope_sector = Varchar(length=32, null=True, default=None, index=True)
    scope_township = Integer(null=True, default=None, index=True)
    confirmed = Boolean(default=True)
    """False for a liaison's addition until the office has checked and confirmed it."""


class TrainingRecord(Table):
    guard = ForeignKey(references=Guard, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=16, choices=TrainingKind)
    held_on = Date()
    hours = Integer(default=0)
    topic = Varchar(length=128, default="")


class GuardCard(Table):
    """A printed guard card. Reissuing revokes the previous card; the QR token names the serial."""

    guard = ForeignKey(references=Guard, on_delete=OnDelete.cascade, index=True)
    serial = Integer()
    issued_at = Timestamptz(default=TimestamptzNow())
    revoked_at = Timestamptz(null=True, default=None)
    token_hash = Varchar(length=64, null=True, default=None)
    """cards.tokens.token_hash of the card's token under the key that issued it; NULL for cards
    recorded without it (their scans are checked by the signature alone)."""
