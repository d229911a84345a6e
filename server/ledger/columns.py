"""The 23 columns of the official statistics table (附件: 专项行动统计表), as data.

Numbers follow ../shared/domain.md. Findings and rectification outcomes store the column
number they count toward; the counting rules themselves live beside this file.
"""

from __future__ import annotations

from dataclasses import dataclass

SURVEY = "辖区摸底情况"
VIOLATIONS = "发现违法违规行为情况"
ACTIONS = "查处整顿情况"


@dataclass(frozen=True)
class Column:
    number: int
    section: str
    label: str
    unit: str  # 家 / 人 / 起 / 个, or "" where the form prints none
    parent: int | None = None  # "of which" columns name the column they are part of


COLUMNS: tuple[Column, ...] = (
    Column(1, SURVEY, "使用保安单位", "家"),
    Column(2, SURVEY, "自招保安单位", "家"),
    Column(3, SURVEY, "雇佣保安公司从事保安服务", "家"),
    Column(4, SURVEY, "雇佣物业公司从事保安服务", "家"),
    Column(5, SURVEY, "由劳务公司、保洁公司等无资格单位雇佣保安员", ""),
    Column(6, SURVEY, "保安员", "人"),
    Column(7, SURVEY, "持保安员证", "人"),
    Column(8, VIOLATIONS, "未经许可从事保安服务", "起"),
    Column(9, VIOLATIONS, "挂靠、承包、委托加盟劳务派遣", "起"),
    Column(10, VIOLATIONS, "自招保安员单位未备案", "起"),
    Column(11, VIOLATIONS, "物业服务企业", "起", parent=10),
    Column(12, VIOLATIONS, "自招保安员单位对外提供保安服务", "起"),
    Column(13, VIOLATIONS, "物业服务企业", "起", parent=12),
    Column(14, VIOLATIONS, "雇佣无资质公司从事保安服务", "起"),
    Column(15, VIOLATIONS, "雇佣不符合规定人员从事保安服务", "人"),
    Column(16, VIOLATIONS, "发现不按规定着保安服", "人"),
    Column(17, ACTIONS, "清理非法保安组织", "个"),
    Column(18, ACTIONS, "经整改与物业公司签订含有保安服务的物业服务合同", "人"),
    Column(19, ACTIONS, "经整改与保安公司签订保安服务合同", "人"),
    Column(20, ACTIONS, "经督促已办理保安员证", "人"),
    Column(21, ACTIONS, "经督促已办理自招单位备案", "家"),
    Column(22, ACTIONS, "清整穿着仿警服或使用“特勤”“特别勤务”字样", "人"),
    Column(23, ACTIONS, "备注", ""),
)

BY_NUMBER = {c.number: c for c in COLUMNS}
VIOLATION_COLUMNS = tuple(c.number for c in COLUMNS if c.section == VIOLATIONS)
ACTION_COLUMNS = tuple(c.number for c in COLUMNS if c.section == ACTIONS and c.number != 23)


def counting_notes(count_on: str = "found") -> tuple[str, ...]:
    """The numbered notes printed under the statistics table (page and xlsx): the rules the
    form leaves open, as docs/counting-rules.md states them. count_on: the campaign's count
    date for findings (found | confirmed)."""
    day = ("发现之日（检查当日）" if count_on != "confirmed" else "办公室审核确认之日")
    return (
        "第5栏按“家”统计：场所由劳务公司、保洁公司等无资格单位派人担任保安的使用单位，每个单位计1家，不论场所和人数多少。",
        f"第8—16栏只统计经办公室审核确认的问题，按{day}计入当期；周五报送的累计周报包含截至当日发现并已确认的问题。",
        "第8—17栏及整改结果按违法主体（实际违法的单位，如派驻的服务单位）统计，不按被检查场所统计；回头看复查仍未整改的同一问题不重复计数。",
        "第10栏（含第11栏）只统计违法主体为自招保安单位的未备案问题，其他单位的同类问题列入备注。",
        "第18栏每1人指经整改后由含保安服务的物业服务合同覆盖的1名保安员；第19栏每1人指经整改后由保安服务合同覆盖的1名保安员；均按人计，不按合同份数计。",
        "第21栏只统计针对未备案问题下达整改后办理的备案（按家计）。",
        "第22栏按人计，每1人对应保安员核查时记录有“特勤”“特别勤务”等字样的1名人员，可追溯到具体人员。",
    )
