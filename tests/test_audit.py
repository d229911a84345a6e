"""The hash-chained audit log: every change is recorded, and tampering is detected."""

from __future__ import annotations

import uuid

from server.audit import service as audit
from server.models.audit import AuditEntry
from tests.support.flow import start


async def test_changes_are_logged_with_who_and_what(client_factory, world):
    c = await client_factory("officer")
    key = await start(c, world.sites.school.id)
    await c.post(f"/inspections/{key}/checklist/3", data={"answer": "violation", "note": "未培训"},
                 headers={"HX-Request": "true"})
    rows = await AuditEntry.select().order_by(AuditEntry.id)
    actions = [(r["action"], r["table_name"], r["actor_name"]) for r in rows]
    assert ("create", "inspection", "officer") in actions
    assert ("answer", "checklist_answer", "officer") in actions
    count, problem = await audit.verify_chain()
    assert count == len(rows) and problem is None


async def test_altered_inserted_or_deleted_entries_are_detected(world):
    for i in range(4):
        await audit.record("update", "unit", i, after={"name": f"单位{i}"})
    assert (await audit.verify_chain())[1] is None
    rows = await AuditEntry.select().order_by(AuditEntry.id)

    await AuditEntry.update({AuditEntry.after: '{"name":"篡改"}'}).where(AuditEntry.id == rows[1]["id"])
    _, problem = await audit.verify_chain()
    assert problem.entry_id == rows[1]["id"] and "篡改" in problem.reason
    await AuditEntry.update({AuditEntry.after: rows[1]["after"]}).where(AuditEntry.id == rows[1]["id"])
    assert (await audit.verify_chain())[1] is None

    await AuditEntry.delete().where(AuditEntry.id == rows[2]["id"])
    _, problem = await audit.verify_chain()
    assert problem.entry_id == rows[3]["id"]


async def test_concurrent_appends_keep_one_chain(world):
    import asyncio

    await asyncio.gather(*(audit.record("create", "unit", uuid.uuid4().hex) for _ in range(10)))
    count, problem = await audit.verify_chain()
    assert count == 10 and problem is None
