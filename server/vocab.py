"""Controlled vocabularies shared by the tables, the forms and the templates.

Values are stable English codes stored in the database; labels are the Chinese the users read.
"""

from __future__ import annotations

from enum import Enum


class Choice(str, Enum):
    """A str enum with a Chinese label. Subclasses define LABELS."""

    @property
    def label(self) -> str:
        return type(self).LABELS()[self.value]  # type: ignore[attr-defined]

    @classmethod
    def options(cls) -> list[tuple[str, str]]:
        return [(m.value, m.label) for m in cls]

    @classmethod
    def label_of(cls, value: str | None) -> str:
        """The label of a value (a code or a member); an unknown code is returned as it is.
        A dict lookup: exports and pages call it for every row (Enum's own lookup is slow)."""
        if value is None:
            return ""
        if isinstance(value, Enum):
            value = value.value
        try:
            return cls.LABELS().get(value, value)  # type: ignore[attr-defined]
        except TypeError:  # unhashable: not a code
            return value


def _labels(**kw: str):
    return staticmethod(lambda: kw)


class Role(Choice):
    officer = "officer"
    office = "office"
    liaison = "liaison"
    leader = "leader"
    LABELS = _labels(officer="民警", office="办公室", liaison="联络员", leader="领导")


class UnitKind(Choice):
    security_company = "security_company"
    self_recruiting = "self_recruiting"
    property_company = "property_company"
    using_unit = "using_unit"
    unqualified_employer = "unqualified_employer"
    illegal_org = "illegal_org"
    LABELS = _labels(
        security_company="保安服务公司",
        self_recruiting="自招保安单位",
        property_company="物业服务企业",
        using_unit="使用保安单位",
        unqualified_employer="无资格单位(劳务/保洁等)",
        illegal_org="非法保安组织",
    )


SELF_RECRUITING_KINDS = (UnitKind.self_recruiting.value, UnitKind.property_company.value)


class Sector(Choice):
    """The sector a unit belongs to; sector bodies (e.g. the education bureau) see their sector."""

    party_office = "party_office"
    gov_office = "gov_office"
    property = "property"
    hospital = "hospital"
    school = "school"
    entertainment = "entertainment"
    transport = "transport"
    labour = "labour"
    enterprise = "enterprise"
    finance = "finance"
    security = "security"
    other = "other"
    LABELS = _labels(
        party_office="区委机关",
        gov_office="区政府机关",
        property="物业小区",
        hospital="医院",
        school="中小学幼儿园",
        entertainment="娱乐场所",
        transport="客运站场",
        labour="劳务派遣/保洁",
        enterprise="企业",
        finance="金融网点",
        security="保安服务业",
        other="其他",
    )


class BodyScope(Choice):
    district = "district"
    sector = "sector"
    township = "township"
    LABELS = _labels(district="全区", sector="行业", township="乡镇街")


class DocumentKind(Choice):
    """A body's one-off document (section 六(四)); its due date is the campaign's reporting
    deadline of the same kind."""
    plan = "plan"
    summary = "summary"
    LABELS = _labels(plan="工作方案", summary="工作总结")


class DocumentStatus(Choice):
    """submitted, accepted and returned are stored; missing and late are what a body without
    a document is, before and after the due date."""
    submitted = "submitted"
    accepted = "accepted"
    returned = "returned"
    missing = "missing"
    late = "late"
    LABELS = _labels(submitted="已报送", accepted="已接收", returned="已退回", missing="未报送", late="逾期")


class FilingStatus(Choice):
    not_required = "not_required"
    unfiled = "unfiled"
    filed = "filed"
    revoked = "revoked"
    LABELS = _labels(not_required="无需备案", unfiled="未备案", filed="已备案", revoked="已撤销备案")


class ProviderKind(Choice):
    """Who guards a site (服务目标)."""

    own = "own"
    security_company = "security_company"
    property_company = "property_company"
    unqualified = "unqualified"
    LABELS = _labels(
        own="自招保安",
        security_company="保安服务公司",
        property_company="物业服务企业",
        unqualified="无资格单位",
    )


class CertStatus(Choice):
    none = "none"
    valid = "valid"
    revoked = "revoked"
    LABELS = _labels(none="无证", valid="持证", revoked="证件已注销")


class EmploymentStatus(Choice):
    active = "active"
    removed = "removed"
    dismissed = "dismissed"
    left = "left"
    LABELS = _labels(active="在岗", removed="已调离", dismissed="已辞退", left="已离职")


class InspectionKind(Choice):
    routine = "routine"
    reinspection = "reinspection"
    spot_check = "spot_check"
    self_inspection = "self_inspection"
    LABELS = _labels(
        routine="日常检查", reinspection="回头看", spot_check="双随机抽查", self_inspection="自查"
    )


class InspectionStatus(Choice):
    draft = "draft"
    submitted = "submitted"
    sent_back = "sent_back"
    reviewed = "reviewed"
    LABELS = _labels(draft="填写中", submitted="已提交", sent_back="已退回", reviewed="已审核")


class Answer(Choice):
    ok = "ok"
    violation = "violation"
    na = "na"
    LABELS = _labels(ok="符合", violation="不符合", na="不适用")


class CountUnit(Choice):
    case = "case"
    person = "person"
    unit = "unit"
    org = "org"
    LABELS = _labels(case="起", person="人", unit="家", org="个")


class FindingStatus(Choice):
    draft = "draft"
    submitted = "submitted"
    confirmed = "confirmed"
    sent_back = "sent_back"
    rejected = "rejected"
    LABELS = _labels(
        draft="草稿", submitted="待审核", confirmed="已确认", sent_back="已退回", rejected="已驳回"
    )


class FindingSource(Choice):
    derived = "derived"
    manual = "manual"
    LABELS = _labels(derived="由检查项生成", manual="手工录入")


class CardVerdict(Choice):
    valid = "valid"
    no_certificate = "no_certificate"
    revoked = "revoked"
    other_unit = "other_unit"
    unrecognised = "unrecognised"
    LABELS = _labels(
        valid="有效",
        no_certificate="无证",
        revoked="证件已注销",
        other_unit="非本单位",
        unrecognised="无法识别(可能伪造)",
    )


class PhotoReview(Choice):
    pending = "pending"
    accepted = "accepted"
    reshoot = "reshoot"
    LABELS = _labels(pending="待审核", accepted="已采纳", reshoot="需重拍")


class OrderStatus(Choice):
    ordered = "ordered"
    reported = "reported"
    verified = "verified"
    not_rectified = "not_rectified"
    escalated = "escalated"
    closed = "closed"
    LABELS = _labels(
        ordered="限期整改中",
        reported="已报整改",
        verified="复查合格",
        not_rectified="复查未整改",
        escalated="已立案处罚",
        closed="已结案",
    )


class GuardActionKind(Choice):
    removed = "removed"
    dismissed = "dismissed"
    certified = "certified"
    LABELS = _labels(removed="调离保安岗位", dismissed="依法辞退", certified="已办理保安员证")


class ClueStatus(Choice):
    referred = "referred"
    accepted = "accepted"
    declined = "declined"
    closed = "closed"
    LABELS = _labels(referred="已移交", accepted="已受理", declined="不予受理", closed="已反馈结果")


class TrainingKind(Choice):
    pre_job = "pre_job"
    periodic = "periodic"
    LABELS = _labels(pre_job="岗前培训", periodic="在岗定期培训")


class ReportStatus(Choice):
    """A body's report for a report day (server/reports). 逾期 and 未报送 are not stored: they
    are what a missing or draft report is before and after the report day ends."""

    draft = "draft"
    submitted = "submitted"
    accepted = "accepted"
    returned = "returned"
    missing = "missing"
    late = "late"
    LABELS = _labels(draft="草稿", submitted="已报送", accepted="已接收", returned="已退回",
                     missing="未报送", late="逾期")
