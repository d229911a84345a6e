"""Pure rules of the office's review: reading the queue's filters, what a decision needs,
and what a finished review makes of an inspection. No I/O here."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Mapping
from urllib.parse import urlencode

from server.forms import date_field
from server.vocab import FindingStatus, InspectionStatus, PhotoReview

MAX_NOTE = 500

# ---------------------------------------------------------------- the queue's filters

QUEUE_STATUSES = tuple(s.value for s in InspectionStatus if s != InspectionStatus.draft)
ALL = "all"


@dataclass(frozen=True)
class Filters:
    status: str = InspectionStatus.submitted.value
    """One of QUEUE_STATUSES, or ALL."""
    body: int | None = None
    township: int | None = None
    phase: int | None = None
    officer: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    page: int = 1

    def params(self, **change: Any) -> dict[str, str]:
        f = replace(self, **change)
        out = {"status": f.status}
        for name in ("body", "township", "phase", "officer"):
            if getattr(f, name) is not None:
                out[name] = str(getattr(f, name))
        if f.date_from:
            out["date_from"] = f.date_from.isoformat()
        if f.date_to:
            out["date_to"] = f.date_to.isoformat()
        if f.page > 1:
            out["page"] = str(f.page)
        return out

    def query(self, **change: Any) -> str:
        """The query string for a link to this list with some filters changed."""
        return urlencode(self.params(**change))


def _id(params: Mapping[str, Any], name: str, label: str, errors: dict[str, str]) -> int | None:
    raw = str(params.get(name) or "").strip()
    if not raw:
        return None
    if not re.fullmatch(r"\d{1,9}", raw):
        errors[name] = f"{label}的取值无效"
        return None
    return int(raw)


def parse_filters(params: Mapping[str, Any]) -> tuple[Filters, dict[str, str]]:
    """Read the queue's query string. Bad values are dropped and explained, never fatal."""
    errors: dict[str, str] = {}
    status = str(params.get("status") or InspectionStatus.submitted.value).strip()
    if status not in QUEUE_STATUSES and status != ALL:
        errors["status"] = "状态的取值无效"
        status = InspectionStatus.submitted.value
    date_from = date_field(params, "date_from", label="开始日期", errors=errors)
    date_to = date_field(params, "date_to", label="结束日期", errors=errors)
    if date_from and date_to and date_from > date_to:
        errors["date_to"] = "结束日期不能早于开始日期"
        date_to = None
    raw_page = str(params.get("page") or "1").strip()
    page = int(raw_page) if re.fullmatch(r"\d{1,6}", raw_page) and int(raw_page) > 0 else 1
    return Filters(
        status=status,
        body=_id(params, "body", "填报单位", errors),
        township=_id(params, "township", "乡镇街", errors),
        phase=_id(params, "phase", "阶段", errors),
        officer=_id(params, "officer", "检查人", errors),
        date_from=date_from, date_to=date_to, page=page,
    ), errors


# ---------------------------------------------------------------- decisions

FINDING_DECISIONS = {
    "confirm": FindingStatus.confirmed.value,
    "send_back": FindingStatus.sent_back.value,
    "reject": FindingStatus.rejected.value,
}
PHOTO_DECISIONS = {
    "accept": PhotoReview.accepted.value,
    "reshoot": PhotoReview.reshoot.value,
}
_NEEDS_REASON = {
    "send_back": "请填写退回原因，民警会看到这段话",
    "reject": "请填写驳回理由",
    "reshoot": "请说明需要重拍的原因",
}


def decision_errors(decision: str, note: str, allowed: Iterable[str]) -> dict[str, str]:
    """What is wrong with a decision and its note ({} when it may be applied)."""
    if decision not in set(allowed):
        return {"decision": "请选择审核结论"}
    if len(note) > MAX_NOTE:
        return {"note": f"审核意见不能超过 {MAX_NOTE} 字（现有 {len(note)} 字）"}
    if decision in _NEEDS_REASON and not note.strip():
        return {"note": _NEEDS_REASON[decision]}
    return {}


# ---------------------------------------------------------------- the outcome of a review

@dataclass(frozen=True)
class PhotoFacts:
    id: int
    target: str
    """What the photo shows: "general", "guard:<id>" or "finding:<id>"."""
    status: str
    uploaded_at: dt.datetime


def photo_target(guard_check: int | None, finding: int | None) -> str:
    if finding is not None:
        return f"finding:{finding}"
    if guard_check is not None:
        return f"guard:{guard_check}"
    return "general"


def awaiting_reshoot(photos: list[PhotoFacts], last_sent_back_at: dt.datetime | None) -> list[int]:
    """Photos the office asked to re-shoot that have not been re-shot yet.

    An original is never changed or deleted, so a re-shoot is a new photo of the same thing
    (same target). A photo marked 需重拍 counts as re-shot when a later photo of its target
    was uploaded after the inspection was last sent back and was not itself marked 需重拍."""
    waiting = []
    for p in photos:
        if p.status != PhotoReview.reshoot:
            continue
        replaced = last_sent_back_at is not None and any(
            q.id > p.id and q.target == p.target and q.status != PhotoReview.reshoot
            and q.uploaded_at > last_sent_back_at for q in photos)
        if not replaced:
            waiting.append(p.id)
    return waiting


@dataclass
class Outcome:
    undecided: int = 0
    sent_back: int = 0
    confirmed: int = 0
    rejected: int = 0
    reshoot: list[int] = field(default_factory=list)

    @property
    def can_finish(self) -> bool:
        return self.undecided == 0

    @property
    def status(self) -> str:
        """The inspection's status once the review is finished."""
        if self.sent_back or self.reshoot:
            return InspectionStatus.sent_back.value
        return InspectionStatus.reviewed.value

    def blocking_message(self) -> str:
        return f"还有 {self.undecided} 条问题未审核，请逐条确认、退回或驳回后再完成审核" if self.undecided else ""

    def summary(self) -> str:
        """What the officer reads when the inspection is sent back without an overall note."""
        parts = []
        if self.sent_back:
            parts.append(f"{self.sent_back} 条问题被退回")
        if self.reshoot:
            parts.append(f"{len(self.reshoot)} 张照片需要重拍")
        return "、".join(parts) + "，请按审核意见补充或更正后重新提交" if parts else ""


def outcome(finding_statuses: Iterable[str], photos: list[PhotoFacts],
            last_sent_back_at: dt.datetime | None) -> Outcome:
    o = Outcome(reshoot=awaiting_reshoot(photos, last_sent_back_at))
    for s in finding_statuses:
        if s == FindingStatus.confirmed:
            o.confirmed += 1
        elif s == FindingStatus.rejected:
            o.rejected += 1
        elif s == FindingStatus.sent_back:
            o.sent_back += 1
        else:  # submitted (or a draft that slipped through): not decided yet
            o.undecided += 1
    return o
