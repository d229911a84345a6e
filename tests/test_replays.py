"""Twenty copies of one post at once — an outbox replay racing a second tap — make one record
and get one answer, on every route that writes a record under a client-made uuid (and the
replayable posts on the inspection: checklist answers, submit)."""

from __future__ import annotations

import asyncio

from server.models.audit import AuditEntry
from server.models.evidence import Photo
from server.models.inspections import ChecklistAnswer, Finding, GuardCheck, Inspection
from server.models.rectification import ClueReferral, CluePhoto, RectificationOrder, SpotCheckTarget
from tests.support.flow import answer_all, new_id, start
from tests.support.html import jpeg, soup, visible_text
from tests.test_rectification import configured, confirmed_inspection, order_for  # noqa: F401 - fixture

N = 20
HX = {"HX-Request": "true"}


async def burst(send) -> list:
    """N identical requests at once; every answer the same status, none a 5xx."""
    answers = await asyncio.gather(*(send() for _ in range(N)))
    statuses = sorted({r.status_code for r in answers})
    assert all(s < 500 for s in statuses), [r.text[:300] for r in answers if r.status_code >= 500][:1]
    assert len(statuses) == 1, statuses
    return answers


async def test_start_guard_finding_answer_and_submit_twenty_at_once(client_factory, world):
    c = await client_factory("officer")
    key = new_id()
    answers = await burst(lambda: c.post("/inspections", data={"uuid": key, "site_id": str(world.sites.school.id)}))
    assert {(r.status_code, r.headers["location"]) for r in answers} == {(303, f"/inspections/{key}")}
    assert await Inspection.count().where(Inspection.uuid == key) == 1

    check = new_id()
    answers = await burst(lambda: c.post(f"/inspections/{key}/guards", headers=HX,
                                         data={"uuid": check, "guard_id": str(world.guards.none.id)}))
    assert answers[0].status_code == 200
    assert {tuple(visible_text(b) for b in soup(r).select(".verdict")) for r in answers} == {("无证",)}
    assert await GuardCheck.count().where(GuardCheck.uuid == check) == 1
    assert await GuardCheck.count().where(GuardCheck.inspection.uuid == key) == 1

    finding = new_id()
    answers = await burst(lambda: c.post(f"/inspections/{key}/findings", headers=HX, data={
        "uuid": finding, "area": "4", "stat_column": "", "quantity": "1", "text": "挂靠经营"}))
    assert answers[0].status_code == 200 and all("挂靠经营" in visible_text(soup(r)) for r in answers)
    assert await Finding.count().where(Finding.uuid == finding) == 1

    answers = await burst(lambda: c.post(f"/inspections/{key}/checklist/2", headers=HX,
                                         data={"answer": "violation", "note": "未着保安服"}))
    assert answers[0].status_code == 200
    assert await ChecklistAnswer.count().where(ChecklistAnswer.inspection.uuid == key) == 1
    # The derived findings (no certificate; the answer of area 2) exist once each.
    derived = await Finding.select(Finding.derived_key).where(
        (Finding.inspection.uuid == key) & Finding.derived_key.is_not_null())
    assert len(derived) == len({d["derived_key"] for d in derived}) >= 1

    await answer_all(c, key, violations={1: "无证上岗", 2: "未着保安服", 4: "挂靠经营"})
    answers = await burst(lambda: c.post(f"/inspections/{key}/submit"))
    assert answers[0].status_code == 303
    insp = await Inspection.objects().where(Inspection.uuid == key).first()
    assert insp.status == "submitted"
    assert await AuditEntry.count().where((AuditEntry.action == "submit") & (AuditEntry.record_id == str(insp.id))) == 1


async def test_photo_twenty_at_once_is_one_photo_with_its_own_objects(client_factory, world, app):
    c = await client_factory("officer")
    key = await start(c, world.sites.school.id)
    photo = new_id()
    data = jpeg(color=(10, 120, 200))
    answers = await burst(lambda: c.post(f"/inspections/{key}/photos", headers=HX,
                                         data={"photo_uuid": photo, "target": "general"},
                                         files={"file": ("p.jpg", data, "image/jpeg")}))
    assert answers[0].status_code == 200
    assert all(f"/photos/{photo}/thumb" in r.text for r in answers)
    rows = await Photo.objects().where(Photo.uuid == photo)
    assert len(rows) == 1
    # The losers removed their own objects and never the winner's.
    keys = [k for k in await app.state.store.list_keys() if photo in k]
    assert sorted(keys) == sorted([rows[0].object_key, rows[0].thumb_key])
    assert await app.state.store.get(rows[0].object_key) == data
    r = await c.get(f"/photos/{photo}")
    assert r.status_code == 200 and r.content == data


async def test_clue_twenty_at_once_is_one_clue(client_factory, world):
    town = await client_factory("liaison_town")
    key = new_id()
    answers = await burst(lambda: town.post("/clues", data={
        "uuid": key, "unit_id": str(world.units.estate_co.id), "description": "门岗保安员着“特勤”字样服装"},
        files=[("photos", ("p.jpg", jpeg(color=(0, 90, 0)), "image/jpeg"))]))
    assert {(r.status_code, r.headers["location"]) for r in answers} == {(303, f"/clues/{key}")}
    clue = await ClueReferral.objects().where(ClueReferral.uuid == key).first()
    assert await ClueReferral.count().where(ClueReferral.uuid == key) == 1
    assert await CluePhoto.count().where(CluePhoto.clue == clue.id) == 1


async def test_reinspection_start_twenty_at_once_is_one_inspection(client_factory, configured):
    w = configured
    s = await confirmed_inspection(client_factory, w.sites.estate.id, {2: "保安员着装不规范"})
    office = await client_factory("office")
    order = await order_for(office, w.units.estate_co.id, [f.id for f in s.findings])
    officer2 = await client_factory("officer2")
    key = new_id()
    answers = await burst(lambda: officer2.post(f"/rectification/orders/{order.id}/reinspect", data={"uuid": key}))
    assert {(r.status_code, r.headers["location"]) for r in answers} == {(303, f"/inspections/{key}")}
    insp = await Inspection.objects().where(Inspection.uuid == key).first()
    assert await Inspection.count().where(Inspection.kind == "reinspection") == 1
    assert (await RectificationOrder.objects().where(RectificationOrder.id == order.id).first()).reinspection == insp.id
    assert await AuditEntry.count().where(AuditEntry.action == "reinspect") == 1


async def test_spot_check_start_twenty_at_once_is_one_inspection(client_factory, world):
    office = await client_factory("office")
    r = await office.post("/spotchecks", data={"n": "1", "seed": "burst", "rule": "none",
                                               "kind": "property_company", "save": "1"})
    assert r.status_code == 303
    target = await SpotCheckTarget.objects().first()
    officer = await client_factory("officer" if target.officer == world.users.officer.id else "officer2")
    key = new_id()
    answers = await burst(lambda: officer.post(f"/spotchecks/targets/{target.id}/start", data={"uuid": key}))
    assert {(r.status_code, r.headers["location"]) for r in answers} == {(303, f"/inspections/{key}")}
    assert await Inspection.count().where(Inspection.kind == "spot_check") == 1
    assert await AuditEntry.count().where(AuditEntry.action == "start") == 1
