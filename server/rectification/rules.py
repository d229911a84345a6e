"""The rules of rectification, re-inspection, spot checks, clues and filings — pure functions.

No I/O here: dates, statuses, numbers and ids in, decisions and Chinese messages out. The
service loads the records and applies these; tests/test_rectification_rules.py pins them.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass
from typing import Iterable, Mapping

from server.campaign.options import (
    DEFAULT_RECTIFY_DAYS,
    MAX_RECTIFY_DAYS,
    clue_response_days,
    rectify_days,
)
from server.vocab import (
    SELF_RECRUITING_KINDS,
    ClueStatus,
    FilingStatus,
    InspectionStatus,
    OrderStatus,
    UnitKind,
)

DUE_HORIZON_DAYS = 3
"""An order enters the re-inspection list this many days before its deadline."""
STALE_FILING_DAYS = 30
"""A self-recruiting unit must revoke its filing within 30 days after it stops (四(二))."""


# ---------------------------------------------------------------- deadlines

def default_deadline(issued_on: dt.date, areas: Iterable[int], options: Mapping) -> dt.date:
    """The deadline an order gets unless the person ordering changes it: the shortest period
    among the focus areas of its findings (one notice, one date; the strictest wins)."""
    days = [rectify_days(options, a) for a in set(areas)]
    return issued_on + dt.timedelta(days=min(days) if days else DEFAULT_RECTIFY_DAYS)


@dataclass(frozen=True)
class PhaseSpan:
    name: str
    starts_on: dt.date
    ends_on: dt.date


def phase_at(day: dt.date, phases: Iterable[PhaseSpan]) -> PhaseSpan | None:
    """The phase a day falls in. Where two phases share a day (the Jizhou plan has 集中整治
    end on the day 总结提升 starts), the later phase wins. None outside the campaign."""
    found = None
    for p in sorted(phases, key=lambda p: (p.starts_on, p.ends_on)):
        if p.starts_on <= day <= p.ends_on:
            found = p
    return found


def deadline_problems(issued_on: dt.date, deadline: dt.date | None) -> dict[str, str]:
    if deadline is None:
        return {"deadline": "请填写整改期限（日期）"}
    if deadline < issued_on:
        return {"deadline": "整改期限不能早于下达日期"}
    if (deadline - issued_on).days > MAX_RECTIFY_DAYS:
        return {"deadline": f"整改期限不能超过 {MAX_RECTIFY_DAYS} 天"}
    return {}


def deadline_warning(deadline: dt.date, campaign_ends_on: dt.date | None) -> str:
    """Not an error: a deadline after the campaign ends leaves no time for 回头看 in it."""
    if campaign_ends_on and deadline > campaign_ends_on:
        return f"整改期限晚于专项行动结束日（{campaign_ends_on:%Y-%m-%d}），回头看将无法在行动期内完成"
    return ""


OPEN = (OrderStatus.ordered.value, OrderStatus.reported.value, OrderStatus.not_rectified.value)
DONE = (OrderStatus.verified.value, OrderStatus.escalated.value, OrderStatus.closed.value)


@dataclass(frozen=True)
class DueState:
    kind: str
    """overdue · due (within the horizon) · upcoming · reported · escalate · done"""
    days: int
    """Days left until the deadline (negative: days overdue)."""
    label: str

    @property
    def overdue(self) -> bool:
        return self.kind == "overdue"


def due_state(status: str, deadline: dt.date, today: dt.date, horizon: int = DUE_HORIZON_DAYS) -> DueState:
    """Where an order stands on a day. Days are calendar days: a deadline set in one phase is
    overdue the same way when the day falls in the next phase."""
    days = (deadline - today).days
    if status == OrderStatus.reported:
        return DueState("reported", days, "单位已报整改，待回头看")
    if status == OrderStatus.not_rectified:
        return DueState("escalate", days, "复查未整改，待立案处罚")
    if status != OrderStatus.ordered:
        return DueState("done", days, OrderStatus.label_of(status))
    if days < 0:
        return DueState("overdue", days, f"逾期 {-days} 天")
    if days == 0:
        return DueState("due", 0, "今天到期")
    if days <= horizon:
        return DueState("due", days, f"还剩 {days} 天")
    return DueState("upcoming", days, f"还剩 {days} 天")


def needs_reinspection(status: str, deadline: dt.date, today: dt.date, horizon: int = DUE_HORIZON_DAYS) -> bool:
    """On the 回头看 list: reported rectified, or the deadline is near or past."""
    return due_state(status, deadline, today, horizon).kind in ("overdue", "due", "reported")


# ---------------------------------------------------------------- status transitions

@dataclass(frozen=True)
class Transition:
    action: str
    label: str
    sources: tuple[str, ...]
    target: str


TRANSITIONS: dict[str, Transition] = {t.action: t for t in (
    Transition("report", "单位已报整改", (OrderStatus.ordered.value,), OrderStatus.reported.value),
    Transition("verify", "复查合格", (OrderStatus.ordered.value, OrderStatus.reported.value), OrderStatus.verified.value),
    Transition("fail", "复查未整改", (OrderStatus.ordered.value, OrderStatus.reported.value), OrderStatus.not_rectified.value),
    Transition("escalate", "立案处罚", (OrderStatus.not_rectified.value,), OrderStatus.escalated.value),
    Transition("close", "结案", (OrderStatus.verified.value, OrderStatus.escalated.value), OrderStatus.closed.value),
)}
NEEDS_REINSPECTION = ("verify", "fail")
SUBMITTED = (InspectionStatus.submitted.value, InspectionStatus.reviewed.value)


def available_actions(status: str) -> list[Transition]:
    return [t for t in TRANSITIONS.values() if status in t.sources]


def transition_problems(status: str, action: str, *, punishment: str = "",
                        reinspection_status: str | None = None) -> dict[str, str]:
    """Why an order cannot take this step now (field → message), or nothing."""
    t = TRANSITIONS.get(action)
    if t is None:
        return {"action": "请选择要记录的结论"}
    if status not in t.sources:
        return {"action": f"当前状态为“{OrderStatus.label_of(status)}”，不能记录“{t.label}”"}
    if action in NEEDS_REINSPECTION:
        if reinspection_status is None:
            return {"action": "请先开展回头看检查并提交，再记录复查结论"}
        if reinspection_status not in SUBMITTED:
            return {"action": "回头看检查尚未提交，提交后才能记录复查结论"}
    if action == "escalate" and not punishment.strip():
        return {"punishment": "请填写处罚情况（如处罚决定书文号和处罚内容）"}
    return {}


# ---------------------------------------------------------------- notice numbers

def notice_number(prefix: str, year: int, seq: int) -> str:
    """责令限期整改通知书 number: numbered per campaign and year, e.g. 蓟公保责改字〔2021〕007号."""
    return f"{prefix}〔{year}〕{seq:03d}号"


def next_notice_seq(existing: Iterable[str], prefix: str, year: int) -> int:
    """One more than the highest number already given with this prefix in this year."""
    pattern = re.compile(re.escape(f"{prefix}〔{year}〕") + r"(\d+)号$")
    seqs = [int(m.group(1)) for n in existing if (m := pattern.match(n or ""))]
    return max(seqs, default=0) + 1


# ---------------------------------------------------------------- outcomes (action columns)

MANUAL_OUTCOME_COLUMNS = (17, 18, 19, 22)
"""Recorded with a number on the order. 20 (保安员证) is recorded per guard, 21 (备案) by
recording the unit's filing, so each is traceable to the guard or unit it changed."""
ONCE_PER_ORDER = (17, 21)
"""Counted in 个 / 家: one order is about one unit, so at most one."""


def outcome_problems(column: int | None, quantity: int | None, unit_kind: str,
                     columns_recorded: Iterable[int], marked_guards: int | None = None) -> dict[str, str]:
    """marked_guards: the guards with a 特勤 mark recorded at the guard checks behind the
    order's findings; column 22 counts no more persons than these (None: not checked)."""
    if column is None:
        return {"stat_column": "请选择统计栏目"}
    if column not in MANUAL_OUTCOME_COLUMNS:
        return {"stat_column": "该栏目不能在这里登记（保安员证按人登记，备案通过“已办理备案”登记）"}
    if column == 17 and unit_kind != UnitKind.illegal_org:
        return {"stat_column": "“清理非法保安组织”只适用于登记为非法保安组织的单位"}
    if column in ONCE_PER_ORDER and column in set(columns_recorded):
        return {"stat_column": "该整改单已登记过此项结果"}
    if quantity is None:
        return {"quantity": "请填写人数"}
    if column in ONCE_PER_ORDER and quantity != 1:
        return {"quantity": "此项按单位计，数量只能为 1"}
    if column == 22 and marked_guards is not None and quantity > marked_guards:
        if not marked_guards:
            return {"stat_column": "第22栏按人计：本整改单的问题中没有在保安员核查时记录“特勤”字样的人员，不能登记"}
        return {"quantity": f"第22栏按人计：本整改单在保安员核查时记录“特勤”字样的共 {marked_guards} 人，数量不能超过此数"}
    return {}


def filing_outcome_problems(unit_kind: str, columns_recorded: Iterable[int], filing_no: str) -> dict[str, str]:
    if unit_kind not in SELF_RECRUITING_KINDS:
        return {"filing_no": "只有自招保安单位（含物业服务企业）需要办理备案"}
    if 21 in set(columns_recorded):
        return {"filing_no": "该整改单已登记过备案结果"}
    if not filing_no.strip():
        return {"filing_no": "请填写备案编号"}
    return {}


# ---------------------------------------------------------------- filing lifecycle

@dataclass(frozen=True)
class FilingAlert:
    kind: str
    """unfiled · stale (stopped service, filing not revoked after 30 days)"""
    message: str


def filing_alert(kind: str, filing_status: str, service_stopped_on: dt.date | None,
                 filing_revoked_on: dt.date | None, today: dt.date) -> FilingAlert | None:
    """Self-recruiting units must file; one that stopped service must revoke its filing
    within 30 days. Other kinds of unit have nothing to file."""
    if kind not in SELF_RECRUITING_KINDS:
        return None
    if service_stopped_on is not None:
        days = (today - service_stopped_on).days
        revoked = filing_status == FilingStatus.revoked or filing_revoked_on is not None
        if filing_status == FilingStatus.filed and not revoked and days > STALE_FILING_DAYS:
            return FilingAlert("stale", f"已停止服务 {days} 天，仍未撤销备案（应在 {STALE_FILING_DAYS} 日内撤销）")
        return None
    if filing_status in (FilingStatus.unfiled, FilingStatus.not_required):
        return FilingAlert("unfiled", "自招保安单位未依法备案")
    return None


# ---------------------------------------------------------------- clues

def clue_response_due(referred_on: dt.date, options: Mapping) -> dt.date:
    return referred_on + dt.timedelta(days=clue_response_days(options))


def clue_due_label(status: str, response_due: dt.date, today: dt.date) -> tuple[str, bool]:
    """(what both sides read about the response deadline, overdue?)."""
    if status != ClueStatus.referred:
        return "", False
    days = (response_due - today).days
    if days < 0:
        return f"答复已逾期 {-days} 天", True
    if days == 0:
        return "今天须答复", False
    return f"须在 {days} 天内答复", False


# ---------------------------------------------------------------- 双随机 spot-check draw

class DrawError(ValueError):
    """The draw cannot be made as asked; the message is for the user."""

    def __init__(self, message: str, unit_id: int | None = None):
        super().__init__(message)
        self.unit_id = unit_id


@dataclass(frozen=True)
class Assignment:
    unit_id: int
    officer_id: int


def draw(seed: str, pool: Iterable[int], officers: Iterable[int], n: int,
         exclusions: Mapping[int, Iterable[int]] | None = None) -> list[Assignment]:
    """Draw n units from the pool and give each an officer at random, never one excluded for
    that unit, spreading the work evenly (an officer gets a second unit only when every
    eligible officer has one). Reproducible: the same seed, pool, officers and exclusions
    always give the same result, whatever order they are passed in."""
    units = sorted(set(int(u) for u in pool))
    roster = sorted(set(int(o) for o in officers))
    if n < 1:
        raise DrawError("抽取数量至少为 1")
    if not units:
        raise DrawError("抽取范围内没有单位，请放宽筛选条件")
    if not roster:
        raise DrawError("没有可派的检查人员")
    banned = {int(u): {int(o) for o in os} for u, os in (exclusions or {}).items()}
    rng = random.Random(str(seed))
    picked = rng.sample(units, min(n, len(units)))
    load = {o: 0 for o in roster}
    out = []
    for unit in picked:
        eligible = [o for o in roster if o not in banned.get(unit, set())]
        if not eligible:
            raise DrawError("抽中的单位没有可派的检查人员（名单中的民警均须回避）", unit)
        fewest = min(load[o] for o in eligible)
        officer = rng.choice([o for o in eligible if load[o] == fewest])
        load[officer] += 1
        out.append(Assignment(unit, officer))
    return out


def spot_result(inspection_status: str | None, confirmed_findings: int) -> str:
    """The result published for one target (双随机、一公开)."""
    if inspection_status is None or inspection_status in (InspectionStatus.draft, InspectionStatus.sent_back):
        return "待检查"
    if inspection_status == InspectionStatus.submitted:
        return "已检查，结果审核中"
    return "发现违法违规问题" if confirmed_findings else "未发现问题"


FILING_AREA = 5
FILING_COLUMNS = (10, 11)


def is_filing_order(findings: list[tuple[int, int | None]], self_recruiting: bool) -> bool:
    """Whether an order is for a filing violation (its notice then says that a filing must be
    revoked within 30 days of stopping service): a finding of focus area 5 or columns 10/11,
    or an order with no findings against a self-recruiting unit (ordered from the filing
    alert)."""
    if not findings:
        return self_recruiting
    return any(area == FILING_AREA or column in FILING_COLUMNS for area, column in findings)
