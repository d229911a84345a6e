"""The final summary (总结报告, due 2-8 in the seed): per focus area, what was found and done
over the whole campaign — confirmed findings, how many were rectified, handed to punishment or
are still open (listed), and the typical cases the bodies reported — as a printable page and
a Word document (python-docx) the office edits further."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from server.campaign import checklist
from server.campaign.options import options_of
from server.models.campaign import Campaign
from server.models.inspections import Finding
from server.models.reports import ReportCase
from server.vocab import FindingStatus, OrderStatus, ReportStatus

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DONE = (OrderStatus.verified.value, OrderStatus.closed.value)
PUNISHED = (OrderStatus.escalated.value,)
MAX_OPEN_LISTED = 50


@dataclass
class AreaSummary:
    number: int
    title: str
    findings: int = 0
    quantity: int = 0
    rectified: int = 0
    punished: int = 0
    open_items: list[dict] = field(default_factory=list)
    open_count: int = 0
    cases: list[dict] = field(default_factory=list)


@dataclass
class Summary:
    title: str
    campaign: Campaign
    as_of: dt.date
    areas: list[AreaSummary]
    other_cases: list[dict]


def classify(order_status: str | None) -> str:
    """A confirmed finding is rectified (its order verified or closed), punished (escalated)
    or open (no order yet, or the order still running)."""
    if order_status in DONE:
        return "rectified"
    if order_status in PUNISHED:
        return "punished"
    return "open"


async def build(campaign: Campaign, today: dt.date) -> Summary:
    areas = {a.number: AreaSummary(a.number, a.title) for a in checklist.worded(options_of(campaign))}
    rows = await Finding.select(
        Finding.id, Finding.area, Finding.quantity, Finding.text, Finding.unit.name, Finding.order.number,
        Finding.order.status, Finding.order.deadline,
    ).where((Finding.inspection.campaign == campaign.id) & (Finding.status == FindingStatus.confirmed)).order_by(
        Finding.id)
    for r in rows:
        a = areas.get(r["area"])
        if a is None:
            continue
        a.findings += 1
        a.quantity += r["quantity"] or 0
        kind = classify(r["order.status"])
        if kind == "rectified":
            a.rectified += 1
        elif kind == "punished":
            a.punished += 1
        else:
            a.open_count += 1
            if len(a.open_items) < MAX_OPEN_LISTED:
                a.open_items.append(r)
    cases = await ReportCase.select(
        ReportCase.uuid, ReportCase.area, ReportCase.title, ReportCase.happened, ReportCase.done,
        ReportCase.report.body.name, ReportCase.report.report_day,
    ).where((ReportCase.report.campaign == campaign.id)
            & (ReportCase.report.status == ReportStatus.accepted)).order_by(ReportCase.id)
    other = []
    for c in cases:
        (areas[c["area"]].cases if c["area"] in areas else other).append(c)
    return Summary(f"{campaign.name}工作总结", campaign, today, list(areas.values()), other)


def _case_paragraphs(doc: Document, cases: list[dict]) -> None:
    for c in cases:
        doc.add_paragraph(f"{c['title']}（{c['report.body.name']}，{c['report.report_day'].isoformat()}）",
                          style="List Number")
        doc.add_paragraph(f"基本情况：{c['happened']}")
        if c["done"]:
            doc.add_paragraph(f"处置情况：{c['done']}")


def to_docx(summary: Summary) -> bytes:
    """The summary as a Word document: a heading per focus area, its numbers, its typical
    cases and its open items, ready for the office to write around."""
    doc = Document()
    style = doc.styles["Normal"]
    style.font.size = Pt(12)
    heading = doc.add_heading(summary.title, level=0)
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph(f"统计截至：{summary.as_of.year}年{summary.as_of.month}月{summary.as_of.day}日")
    doc.add_heading("一、总体情况", level=1)
    total = sum(a.findings for a in summary.areas)
    doc.add_paragraph(
        f"专项行动期间，共确认发现问题 {total} 起，已整改 {sum(a.rectified for a in summary.areas)} 起，"
        f"立案处罚 {sum(a.punished for a in summary.areas)} 起，尚未办结 {sum(a.open_count for a in summary.areas)} 起。")
    table = doc.add_table(rows=1, cols=5)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, ("整顿重点", "发现问题（起）", "已整改", "立案处罚", "未办结")):
        cell.text = text
    for a in summary.areas:
        cells = table.add_row().cells
        for cell, text in zip(cells, (f"{a.number}. {a.title}", a.findings, a.rectified, a.punished, a.open_count)):
            cell.text = str(text)
    doc.add_heading("二、各整顿重点", level=1)
    for a in summary.areas:
        doc.add_heading(f"（{a.number}）{a.title}", level=2)
        doc.add_paragraph(f"发现问题 {a.findings} 起（涉及 {a.quantity} 人次/起），已整改 {a.rectified} 起，"
                          f"立案处罚 {a.punished} 起，尚未办结 {a.open_count} 起。")
        if a.cases:
            doc.add_paragraph("典型案例：")
            _case_paragraphs(doc, a.cases)
        if a.open_items:
            doc.add_paragraph("尚未办结：")
            for r in a.open_items:
                order = f"整改单 {r['order.number']}，期限 {r['order.deadline']}" if r["order.number"] else "尚未下达整改"
                doc.add_paragraph(f"{r['unit.name']}：{r['text']}（{order}）", style="List Bullet")
    if summary.other_cases:
        doc.add_heading("三、其他典型案例", level=1)
        _case_paragraphs(doc, summary.other_cases)
    doc.add_heading("四、经验做法和下一步工作", level=1)
    doc.add_paragraph("（由办公室补充）")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
