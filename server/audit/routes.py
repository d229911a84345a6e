"""The office opens any record's history in the audit log."""

from __future__ import annotations

import re

from litestar import Request, get
from litestar.params import FromPath
from litestar.response import Redirect, Template

from server.audit import labels, service
from server.vocab import Role
from server.web import go, render, roles

OFFICE = roles(Role.office)
_CODE = re.compile(r"[a-z_]{1,64}")


@get("/audit", opt=OFFICE, name="audit")
async def audit_index(request: Request) -> Template | Redirect:
    """The newest entries, by table or person, and a form to open one record's history."""
    q = request.query_params
    errors: dict[str, str] = {}
    table = str(q.get("table") or "").strip()
    actor = str(q.get("actor") or "").strip()[:64]
    record = str(q.get("record") or "").strip()
    if table and not _CODE.fullmatch(table):
        errors["table"] = "记录类型的取值无效"
        table = ""
    if record and not re.fullmatch(r"\d{1,12}", record):
        errors["record"] = "记录编号须为数字"
        record = ""
    if table and record and not errors:
        return go(request, f"/audit/{table}/{record}")
    rows = await service.recent(table, actor)
    return render("audit/index.html", status_code=422 if errors else 200, rows=rows, table=table,
                  actor=actor, record=record, errors=errors, tables=await service.table_names(),
                  L=labels)


@get("/audit/{table:str}/{record_id:str}", opt=OFFICE, name="audit_history")
async def audit_history(request: Request, table: FromPath[str], record_id: FromPath[str]) -> Template:
    entries = await service.history(table, record_id) if _CODE.fullmatch(table) else []
    return render("audit/history.html", entries=entries, table=table, record_id=record_id, L=labels)


route_handlers = [audit_index, audit_history]
