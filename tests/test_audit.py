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


async def test_guard_id_numbers_are_kept_masked_in_the_log_as_on_screen(client_factory, world):
    from server.models.registry import Guard
    from server.registry.ids import id_check_digit
    from tests.support.html import soup, visible_text

    first, second = ("12022519850312003", "12022519900101002")
    first, second = first + id_check_digit(first), second + id_check_digit(second)
    office = await client_factory("office")
    data = {"name": "孙明", "employer": str(world.units.secco.id), "certificate_no": "津保120200000009",
            "hired_on": "2019-03-01"}
    r = await office.post("/registry/guards", data={**data, "id_number": first})
    assert r.status_code == 303, r.text
    guard = await Guard.objects().where(Guard.id_number == first).first()
    r = await office.post(f"/registry/guards/{guard.id}", data={**data, "id_number": second})
    assert r.status_code == 303, r.text

    rows = await AuditEntry.select().where(AuditEntry.table_name == "guard")
    assert [r["action"] for r in rows] == ["create", "update"]
    assert not any(n in (r["before"] or "") + (r["after"] or "") for r in rows for n in (first, second))
    shown = visible_text(soup(await office.get(f"/audit/guard/{guard.id}")))
    assert first[:4] + "**********" + first[-4:] in shown and second[:4] + "**********" + second[-4:] in shown
    assert first not in shown and second not in shown
    on_screen = visible_text(soup(await office.get(f"/registry/guards/{guard.id}")).select_one(f"#id-number-{guard.id}"))
    assert on_screen.startswith(second[:4] + "**********" + second[-4:])
    assert (await audit.verify_chain())[1] is None
