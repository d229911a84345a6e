"""The eight focus areas of the campaign (整顿重点, section 三 of the document): the checklist.

Each area says which statistics column a finding in it counts toward by default, and in
which unit; the officer may pick another violation column where the case calls for it
(e.g. area 4 is either 未经许可 (8) or 挂靠/承包/… (9)).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping

from server.vocab import CountUnit


@dataclass(frozen=True)
class FocusArea:
    number: int
    title: str
    question: str
    default_column: int | None
    columns: tuple[int, ...]
    count_unit: str


FOCUS_AREAS: tuple[FocusArea, ...] = (
    FocusArea(1, "无证上岗", "保安员是否经审查、留存指纹等人体生物信息并通过考试，持证上岗", 15, (15,), CountUnit.person),
    FocusArea(2, "着装与标志", "保安员是否按规定着保安服、佩戴保安服务标志，服装有无“特勤”“特别勤务”字样", 16, (16,), CountUnit.person),
    FocusArea(3, "教育培训", "是否按规定开展岗前和在岗定期教育培训（法律、专业知识、职业道德、服务技能）", None, (), CountUnit.case),
    FocusArea(4, "无证经营与变相经营", "有无未经许可从事保安服务，或以挂靠、承包、委托、加盟、劳务派遣等方式变相从事保安服务", 8, (8, 9, 14), CountUnit.case),
    FocusArea(5, "未依法备案", "保安从业单位（含自招保安单位）是否依法备案", 10, (10,), CountUnit.case),
    FocusArea(6, "自招单位对外服务", "自招保安单位有无在本单位或物业管理区域以外提供保安服务", 12, (12,), CountUnit.case),
    FocusArea(7, "内部管理", "内部管理是否混乱，有无保安员违法犯罪、枪支/运钞车/服务目标被盗抢等案事件或隐患", None, (), CountUnit.case),
    FocusArea(8, "其他违法违规", "有无其他违反法律、法规的行为", None, (), CountUnit.case),
)

BY_NUMBER = {a.number: a for a in FOCUS_AREAS}
AREA_NUMBERS = tuple(BY_NUMBER)


def worded(options: Mapping) -> tuple[FocusArea, ...]:
    """The eight areas with a campaign's own wording (Campaign.options["checklist"], edited on
    /campaign): only titles and questions change; numbers and columns stay these."""
    wording = options.get("checklist") or {}
    if not isinstance(wording, Mapping):
        return FOCUS_AREAS
    out = []
    for a in FOCUS_AREAS:
        w = wording.get(str(a.number)) or {}
        out.append(replace(a, title=str(w.get("title") or a.title), question=str(w.get("question") or a.question)))
    return tuple(out)
