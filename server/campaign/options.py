"""The campaign's options (Campaign.options, edited by the office on /campaign): pure readers
that give each setting with its default, for every capability that needs one."""

from __future__ import annotations

import json
from typing import Any, Mapping

DEFAULT_RECTIFY_DAYS = 15
"""When the campaign's options name no rectification period for a focus area."""
MAX_RECTIFY_DAYS = 180
DEFAULT_CLUE_RESPONSE_DAYS = 5
"""The police answer a referred clue (accept or decline) within this many days by default."""


def options_of(campaign: Any) -> dict[str, Any]:
    """Campaign.options as a dict, whatever the driver returned (JSON text or a dict)."""
    raw = campaign.options if not isinstance(campaign, dict) else campaign.get("options")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw or "{}")
        except ValueError:
            raw = {}
    return dict(raw or {})


def rectify_days(options: Mapping, area: int) -> int:
    """The campaign's rectification period for a focus area (Campaign.options["rectify_days"],
    keys are the area numbers as strings), or the default."""
    table = options.get("rectify_days") or {}
    raw = table.get(str(area), table.get(area)) if isinstance(table, Mapping) else None
    try:
        days = int(raw)
    except (TypeError, ValueError):
        return DEFAULT_RECTIFY_DAYS
    return days if 1 <= days <= MAX_RECTIFY_DAYS else DEFAULT_RECTIFY_DAYS


def default_notice_prefix(district: str) -> str:
    """E.g. 蓟州区 → 蓟公保责改字; the office may set its own in the campaign settings."""
    return f"{(district or '区')[:1]}公保责改字"


def clue_response_days(options: Mapping) -> int:
    try:
        days = int(options.get("clue_response_days", DEFAULT_CLUE_RESPONSE_DAYS))
    except (TypeError, ValueError):
        return DEFAULT_CLUE_RESPONSE_DAYS
    return days if 1 <= days <= 60 else DEFAULT_CLUE_RESPONSE_DAYS


COUNT_ON_FOUND = "found"
COUNT_ON_CONFIRMED = "confirmed"
COUNT_ON = {COUNT_ON_FOUND: "发现之日（检查当日）", COUNT_ON_CONFIRMED: "办公室审核确认之日"}
"""Which day a confirmed finding counts on in the statistics table (Campaign.options["count_on"])."""
COUNT_ON_CHOICES = {COUNT_ON_FOUND: "按发现日期（默认）", COUNT_ON_CONFIRMED: "按审核确认日期"}
"""The same choice as the office's set-up screen words it (统计日期)."""


def count_on(options: Mapping) -> str:
    """The campaign's count date for findings: the day found (the inspection's day, the
    default: a case found on Thursday belongs to that Friday's report) or the day the office
    confirmed it."""
    value = options.get("count_on")
    return value if value in COUNT_ON else COUNT_ON_FOUND
