"""A liaison sees nothing outside their scope — on every route of the app, in every list,
export and count.

The test builds a district where every kind of record exists inside and outside each
liaison's scope (police inspections with findings and photos, self-inspections of the other
body, rectification orders with outcomes and guard actions, a re-inspection, clues with
photos, a spot-check draw), then logs in as a township liaison and as a sector liaison and
walks app.routes: every method of every route, with the ids of out-of-scope records in the
path and in the usual query parameters (and every column of the statistics table). Each
answer must be a refusal (403/404), a validation message, or a page, export or count that
names nothing out of scope. Markers are names, addresses and texts that only out-of-scope
records carry. POSTs must change nothing (no audit entry). Public routes (the login page,
the published spot-check results, the card verification page) are for everyone and skipped.
"""

from __future__ import annotations

import io
import itertools
import re
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook

from server.models.audit import AuditEntry
from server.models.evidence import Photo
from server.models.inspections import Finding, GuardCheck, Inspection
from server.models.rectification import ClueDocument, ClueReferral, CluePhoto, SpotCheckDraw, SpotCheckTarget
from tests.support.flow import answer_all, new_id, start
from tests.support.html import soup, visible_text
from tests.test_clues import PDF, photo_files, refer
from tests.test_rectification import confirmed_inspection, order_for
from tests.test_review import upload

SKIP = {("POST", "/logout")}  # would end the session being tested


async def self_inspection(c, site_id: int, note: str) -> str:
    key = await start(c, site_id)
    await answer_all(c, key, violations={3: note})
    f = await Finding.objects().where(Finding.inspection.uuid == key).first()
    await upload(c, key, f"finding:{f.id}", color=(90, 90, 0))
    return key


async def build_district(client_factory, world) -> SimpleNamespace:
    office = await client_factory("office")
    school = await confirmed_inspection(client_factory, world.sites.school.id, {3: "越界问题-学校 未开展培训"})
    estate = await confirmed_inspection(client_factory, world.sites.estate.id, {2: "越界问题-小区 着装不规范"},
                                        officer="officer2")
    school_order = await order_for(office, world.units.school.id, [f.id for f in school.findings],
                                   note="越界整改-学校")
    estate_order = await order_for(office, world.units.estate_co.id, [f.id for f in estate.findings],
                                   note="越界整改-小区")
    for order, guard in ((school_order, world.guards.none), (estate_order, None)):
        await office.post(f"/rectification/orders/{order.id}/outcomes", data={"stat_column": "22", "quantity": "1"})
        if guard:
            await office.post(f"/rectification/orders/{order.id}/guards",
                              data={"guard_id": str(guard.id), "action": "removed"})
    officer = await client_factory("officer")
    r = await officer.post(f"/rectification/orders/{school_order.id}/reinspect", data={"uuid": new_id()})
    school_re = r.headers["location"].rsplit("/", 1)[1]
    officer2 = await client_factory("officer2")
    r = await officer2.post(f"/rectification/orders/{estate_order.id}/reinspect", data={"uuid": new_id()})
    estate_re = r.headers["location"].rsplit("/", 1)[1]

    edu, town = await client_factory("liaison_edu"), await client_factory("liaison_town")
    edu_self = await self_inspection(edu, world.sites.school.id, "越界自查-学校")
    town_self = await self_inspection(town, world.sites.estate.id, "越界自查-小区")
    contract = [("documents", ("越界合同.pdf", PDF, "application/pdf"))]
    edu_clue = await refer(edu, unit_id=str(world.units.school.id), description="越界线索-教育 学校门卫无证",
                           files=photo_files((1, 2, 3)) + contract)
    town_clue = await refer(town, unit_id=str(world.units.estate_co.id), description="越界线索-乡镇 小区保安着特勤服",
                            files=photo_files((3, 2, 1)) + contract)
    r = await office.post("/spotchecks", data={"n": "2", "seed": "walk", "rule": "none", "save": "1"})
    assert r.status_code == 303
    return SimpleNamespace(school=school, estate=estate, school_order=school_order, estate_order=estate_order,
                           school_re=school_re, estate_re=estate_re, edu_self=edu_self, town_self=town_self,
                           edu_clue=edu_clue, town_clue=town_clue)


async def _ids_of_inspections(keys: list[str]) -> dict[str, list]:
    insps = await Inspection.objects().where(Inspection.uuid.is_in(keys))
    ids = [i.id for i in insps]
    photos = await Photo.select(Photo.id, Photo.uuid).where(Photo.inspection.is_in(ids))
    return {
        "uuid": keys + [p["uuid"] for p in photos],
        "photo_id": [p["id"] for p in photos],
        "finding_id": [f["id"] for f in await Finding.select(Finding.id).where(Finding.inspection.is_in(ids))],
        "check_id": [g["id"] for g in await GuardCheck.select(GuardCheck.id).where(GuardCheck.inspection.is_in(ids))] or [1],
    }


async def outside(world, d: SimpleNamespace, username: str) -> SimpleNamespace:
    """The ids and the markers of what this liaison must not see."""
    if username == "liaison_town":  # 官庄镇: the school (渔阳镇) and its security company are outside
        keys = [d.school.key, d.school_re, d.edu_self]
        clue, units, site = d.edu_clue, [world.units.school.id, world.units.secco.id], world.sites.school.id
        guards = [world.guards.valid.id, world.guards.none.id, world.guards.revoked.id]
        order, township, sector = d.school_order, world.townships.yuyang.id, "school"
        other_body = world.bodies.edu.id
        markers = ["蓟州区第一中学", "第一中学校门", "文昌街1号", "安泰保安", "张伟", "李强", "王磊", "越界问题-学校", "越界整改-学校",
                   "越界自查-学校", "越界线索-教育"]
        q = "中学"
    else:  # 区教育局 (schools): the housing estate is outside
        keys = [d.estate.key, d.estate_re, d.town_self]
        clue, units, site = d.town_clue, [world.units.estate_co.id], world.sites.estate.id
        guards = [world.guards.estate.id]
        order, township, sector = d.estate_order, world.townships.guanzhuang.id, "property"
        other_body = world.bodies.town.id
        markers = ["绿园", "花园路8号", "赵敏", "越界问题-小区", "越界整改-小区", "越界自查-小区", "越界线索-乡镇"]
        q = "小区"
    ids = await _ids_of_inspections(keys)
    clue_row = await ClueReferral.objects().where(ClueReferral.uuid == clue).first()
    clue_photos = [p["uuid"] for p in await CluePhoto.select(CluePhoto.uuid).where(CluePhoto.clue == clue_row.id)]
    clue_docs = [d["uuid"] for d in await ClueDocument.select(ClueDocument.uuid).where(ClueDocument.clue == clue_row.id)]
    assert clue_docs
    draw = await SpotCheckDraw.objects().first()
    target = await SpotCheckTarget.objects().first()
    params = {
        "uuid": ids["uuid"] + [clue], "photo": clue_photos, "doc": clue_docs, "photo_id": ids["photo_id"],
        "finding_id": ids["finding_id"], "check_id": ids["check_id"], "unit_id": units, "site_id": [site],
        "guard_id": guards, "order_id": [order.id], "draw_id": [draw.id], "target_id": [target.id],
        "area": [3], "record_id": [str(units[0])], "table": ["unit"], "day": ["2021-01-01"],
        "kind": ["units", "guards", "findings"], "job": [new_id()], "key": [new_id()], "token": ["x"],
        "name": ["icon-192.png"], "deadline_id": [1], "phase_id": [1],
    }
    query = {"body": str(other_body), "township": str(township), "unit": str(units[0]), "site": str(site),
             "guard": str(guards[0]), "sector": sector, "q": q, "status": "all", "order": str(order.id)}
    form = {"uuid": new_id(), "site_id": str(site), "unit_id": str(units[0]), "guard_id": str(guards[0]),
            "answer": "ok", "description": "越界测试", "decision": "confirm", "action": "report",
            "stat_column": "22", "quantity": "1", "n": "1", "rule": "none", "officer_id": "1"}
    return SimpleNamespace(params=params, query=query, form=form, markers=markers,
                           bodies=[str(other_body), str(world.bodies.police.id), "district"])


def _urls(path: str, params: dict[str, list]) -> list[str]:
    names = re.findall(r"\{(\w+):(\w+)\}", path)
    if not names:
        return [path]
    choices = [params.get(name, ["1"]) for name, _ in names]
    out = []
    for combo in itertools.product(*choices):
        url = path
        for (name, kind), value in zip(names, combo):
            url = url.replace(f"{{{name}:{kind}}}", str(value), 1)
        out.append(url)
    return out


def _texts(r) -> str:
    """What a response shows: HTML/JSON text, or every cell of an xlsx export."""
    kind = r.headers.get("content-type", "")
    if "spreadsheetml" in kind:
        wb = load_workbook(io.BytesIO(r.content), read_only=True)
        return " ".join(str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v)
    return r.text


@pytest.mark.parametrize("username", ["liaison_town", "liaison_edu"])
async def test_liaison_sees_nothing_outside_their_scope_on_any_route(app, client_factory, world, username):
    d = await build_district(client_factory, world)
    out = await outside(world, d, username)
    c = await client_factory(username)
    before = await AuditEntry.count()
    requests = 0
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if handler.opt.get("public"):
                continue
            for method in sorted(getattr(handler, "http_methods", ())):
                if method in ("HEAD", "OPTIONS") or (method, route.path) in SKIP:
                    continue
                for url in _urls(route.path, out.params):
                    if method == "GET":
                        queries = [{}, out.query]
                        if url.endswith("/cell"):
                            queries = [{"col": str(col), "body": body} for col in range(1, 24)
                                       for body in out.bodies + [""]]
                        elif url.startswith("/stats"):
                            queries += [{"body": body} for body in out.bodies]
                        calls = [dict(params=q) for q in queries]
                    else:
                        calls = [dict(data=out.form), dict(data={})]
                    for kwargs in calls:
                        r = await c.request(method, url, **kwargs)
                        requests += 1
                        where = f"{username}: {method} {url} {kwargs} → {r.status_code}"
                        assert r.status_code < 500, where
                        if r.status_code in (403, 404):
                            continue
                        if r.headers.get("content-type", "").startswith(("image/", "application/pdf")):
                            pytest.fail(f"{where} served an image or document of a record outside the scope")
                        text = _texts(r)
                        leaked = [m for m in out.markers if m in text]
                        assert not leaked, f"{where} showed {leaked}"
    assert requests > 300
    assert await AuditEntry.count() == before, f"{username}'s requests changed records outside their scope"


async def test_liaison_lists_and_counts_hold_only_their_own(client_factory, world):
    d = await build_district(client_factory, world)
    town = await client_factory("liaison_town")
    page = soup(await town.get("/clues"))
    assert [visible_text(a) for a in page.select("nav.tabs a")][0] == "全部 1"
    assert [visible_text(tr.select_one("td[data-label=单位]")) for tr in page.select("tbody tr")] == ["蓟州区绿园物业服务有限公司"]
    office = soup(await (await client_factory("office")).get("/clues"))
    assert [visible_text(a) for a in office.select("nav.tabs a")][0] == "全部 2"
    # Their own self-inspection is theirs to open; the other body's is not found.
    assert (await town.get(f"/inspections/{d.town_self}")).status_code == 200
    assert (await town.get(f"/inspections/{d.edu_self}")).status_code == 404
    # What is due: their own body only.
    due = soup(await town.get("/campaign/due"))
    assert [visible_text(h) for h in due.select("section.body-due h2")] == ["官庄镇"]
