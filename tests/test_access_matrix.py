"""Every route of the app × every kind of user, against the answer written once per route below.

The table is the specification: which roles get past the access guard on each route. A route
missing from the table (a new one) or in the table but gone fails the test, so whoever adds a
route decides here who may use it. Each route is then called by a visitor without a session,
an officer, the office, a liaison of a sector body (区教育局), a liaison of a township body
(官庄镇) and a leader, with real records in its path:
- a role the table leaves out gets 403 with the Chinese message; a visitor is sent to log in
  (public routes excepted);
- a role the table lets in never gets 401/403 and never a 5xx, whatever the empty form it
  posts (a record out of its reach is 404, never a hint that it exists);
- where the route takes the id of a record of one body (marked OTHER), a liaison of another
  body asking for it gets 403 or 404 and never the record.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from server.models.documents import BodyDocument
from server.models.evidence import Photo
from server.models.inspections import Finding, GuardCheck
from server.models.rectification import ClueDocument, CluePhoto
from tests.support.flow import new_id, start
from tests.support.html import jpeg, visible_text

F, O, S, T, L = "officer", "office", "liaison_edu", "liaison_town", "leader"
ALL = (F, O, S, T, L)
PUBLIC = "public"
OTHER = "other body"  # the path names a record of one body: another body's liaison is refused

OFFICE, READ = (O,), (O, L)
EDIT = (F, S, T)
STATS = (O, L, S, T)
RECT = (O, F)
RECT_READ = (O, F, L)
CLUES = (O, F, L, S, T)

# (method, path) → (the users let in, [OTHER])
MATRIX: dict[tuple[str, str], tuple] = {
    ("GET", "/healthz"): (PUBLIC,),
    ("GET", "/login"): (PUBLIC,),
    ("POST", "/login"): (PUBLIC,),
    ("POST", "/logout"): (ALL,),
    ("GET", "/"): (ALL,),
    ("GET", "/sites"): ((F, S, T),),
    ("GET", "/registry"): (READ,),
    ("GET", "/registry/units"): (READ,),
    ("POST", "/registry/units"): (OFFICE,),
    ("GET", "/registry/units/new"): (OFFICE,),
    ("GET", "/registry/units/{unit_id:int}"): (READ,),
    ("POST", "/registry/units/{unit_id:int}"): (OFFICE,),
    ("GET", "/registry/units/{unit_id:int}/edit"): (OFFICE,),
    ("GET", "/registry/sites"): (READ,),
    ("POST", "/registry/sites"): (OFFICE,),
    ("GET", "/registry/sites/new"): (OFFICE,),
    ("GET", "/registry/sites/{site_id:int}"): (READ,),
    ("POST", "/registry/sites/{site_id:int}"): (OFFICE,),
    ("GET", "/registry/sites/{site_id:int}/edit"): (OFFICE,),
    ("GET", "/registry/guards"): (READ,),
    ("POST", "/registry/guards"): (OFFICE,),
    ("GET", "/registry/guards/new"): (OFFICE,),
    ("GET", "/registry/guards/{guard_id:int}"): (READ,),
    ("POST", "/registry/guards/{guard_id:int}"): (OFFICE,),
    ("GET", "/registry/guards/{guard_id:int}/edit"): (OFFICE,),
    ("POST", "/registry/guards/{guard_id:int}/reveal"): ((O, F),),
    ("GET", "/registry/guards/{guard_id:int}/portrait"): (ALL, OTHER),
    ("POST", "/registry/guards/{guard_id:int}/portrait"): (OFFICE,),
    ("POST", "/registry/guards/{guard_id:int}/training"): (OFFICE,),
    ("POST", "/registry/guards/{guard_id:int}/training/{record_id:int}/delete"): (OFFICE,),
    ("GET", "/registry/pick/{name:str}"): (OFFICE,),
    ("GET", "/registry/collection"): (READ,),
    ("GET", "/registry/import"): (OFFICE,),
    ("POST", "/registry/import"): (OFFICE,),
    ("GET", "/registry/import/template.xlsx"): (OFFICE,),
    ("POST", "/registry/import/{key:str}/commit"): (OFFICE,),
    ("GET", "/registry/import/{key:str}/rejected.xlsx"): (OFFICE,),
    ("GET", "/registry/import/{key:str}"): (OFFICE,),
    ("GET", "/registry/import/{key:str}/progress"): (OFFICE,),
    ("POST", "/inspections"): (EDIT,),
    ("GET", "/inspections/{uuid:str}"): (ALL, OTHER),
    ("POST", "/inspections/{uuid:str}/checklist/{area:int}"): (EDIT, OTHER),
    ("POST", "/inspections/{uuid:str}/guards"): (EDIT, OTHER),
    ("POST", "/inspections/{uuid:str}/checklist/all-ok"): (EDIT, OTHER),
    ("GET", "/inspections/{uuid:str}/missing"): (ALL, OTHER),
    ("POST", "/inspections/{uuid:str}/guards/{check_id:int}/all-ok"): (EDIT, OTHER),
    ("POST", "/inspections/{uuid:str}/guards/{check_id:int}"): (EDIT, OTHER),
    ("POST", "/inspections/{uuid:str}/guards/{check_id:int}/remove"): (EDIT, OTHER),
    ("GET", "/inspections/{uuid:str}/findings"): (ALL, OTHER),
    ("POST", "/inspections/{uuid:str}/findings"): (EDIT, OTHER),
    ("POST", "/inspections/{uuid:str}/findings/{finding_id:int}"): (EDIT, OTHER),
    ("POST", "/inspections/{uuid:str}/findings/{finding_id:int}/delete"): (EDIT, OTHER),
    ("POST", "/inspections/{uuid:str}/scan"): (EDIT, OTHER),
    ("POST", "/inspections/{uuid:str}/submit"): (EDIT, OTHER),
    ("POST", "/inspections/{uuid:str}/photos"): (EDIT, OTHER),
    ("GET", "/photos/{uuid:str}"): (ALL, OTHER),
    ("GET", "/photos/{uuid:str}/thumb"): (ALL, OTHER),
    ("GET", "/photos/{uuid:str}/download"): (ALL, OTHER),
    ("GET", "/photos/{uuid:str}/view"): (ALL, OTHER),
    ("GET", "/photos/{uuid:str}/verify"): (ALL, OTHER),
    ("GET", "/office/inspections"): (READ,),
    ("GET", "/office/inspections/{uuid:str}"): (READ,),
    ("GET", "/office/inspections/{uuid:str}/print"): (READ,),
    ("POST", "/office/inspections/{uuid:str}/findings/{finding_id:int}"): (OFFICE,),
    ("POST", "/office/inspections/{uuid:str}/photos/{photo_id:int}"): (OFFICE,),
    ("POST", "/office/inspections/{uuid:str}/finish"): (OFFICE,),
    ("GET", "/audit"): (OFFICE,),
    ("GET", "/audit/{table:str}/{record_id:str}"): (OFFICE,),
    ("GET", "/c/{token:str}"): (PUBLIC,),
    ("GET", "/cards/public-key"): (PUBLIC,),
    ("GET", "/scan"): (EDIT,),
    ("POST", "/scan"): (EDIT,),
    ("POST", "/cards/guards/{guard_id:int}/issue"): (OFFICE,),
    ("POST", "/cards/guards/{guard_id:int}/revoke"): (OFFICE,),
    ("GET", "/cards/sheet"): (OFFICE,),
    ("POST", "/cards/sheet/issue"): (OFFICE,),
    ("GET", "/cards/guards/{guard_id:int}/card.png"): (OFFICE,),
    ("GET", "/stats"): (STATS,),
    ("GET", "/stats/export"): (STATS,),
    ("GET", "/stats/cell"): (STATS,),
    ("GET", "/stats/weekly"): (STATS,),
    ("POST", "/stats/weekly/{day:str}"): (OFFICE,),
    ("GET", "/stats/weekly/{day:str}"): (STATS,),
    ("GET", "/stats/weekly/{day:str}/export"): (STATS,),
    ("GET", "/stats/weekly/{day:str}/cell"): (STATS,),
    ("GET", "/stats/weekly/{day:str}/progress"): (STATS,),
    ("GET", "/ledger"): (READ,),
    ("GET", "/ledger/{kind:str}"): (READ,),
    ("POST", "/ledger/exports"): (OFFICE,),
    ("GET", "/ledger/exports/{job:str}"): (OFFICE,),
    ("GET", "/ledger/exports/{job:str}/progress"): (OFFICE,),
    ("GET", "/ledger/exports/{job:str}/file"): (OFFICE,),
    ("GET", "/dashboard"): (READ,),
    ("GET", "/coverage"): (STATS,),
    ("GET", "/documents"): (STATS,),
    ("GET", "/survey"): ((S, T),),
    ("GET", "/survey/units/new"): ((S, T),),
    ("POST", "/survey/units"): ((S, T),),
    ("GET", "/survey/guards/new"): ((S, T),),
    ("POST", "/survey/guards"): ((S, T),),
    ("GET", "/registry/additions"): (OFFICE,),
    ("POST", "/registry/additions/{kind:str}/{row_id:int}/confirm"): (OFFICE,),
    ("GET", "/documents/board"): (READ,),
    ("POST", "/documents/{doc_kind:str}"): ((S, T),),
    ("POST", "/documents/{doc_id:int}/accept"): (OFFICE,),
    ("POST", "/documents/{doc_id:int}/return"): (OFFICE,),
    ("GET", "/documents/{doc_id:int}/file"): (STATS, OTHER),
    ("GET", "/rectification"): (RECT_READ,),
    ("GET", "/rectification/new"): (RECT,),
    ("POST", "/rectification/orders"): (RECT,),
    ("GET", "/rectification/orders/{order_id:int}"): (RECT_READ,),
    ("GET", "/rectification/orders/{order_id:int}/notice"): (RECT_READ,),
    ("POST", "/rectification/orders/{order_id:int}/status"): (RECT,),
    ("POST", "/rectification/orders/{order_id:int}/outcomes"): (RECT,),
    ("POST", "/rectification/orders/{order_id:int}/filing"): (RECT,),
    ("POST", "/rectification/orders/{order_id:int}/guards"): (RECT,),
    ("POST", "/rectification/orders/{order_id:int}/reinspect"): ((F,),),
    ("POST", "/rectification/units/{unit_id:int}/revoke-filing"): (RECT,),
    ("GET", "/rectification/due"): (RECT_READ,),
    ("GET", "/rectification/reinspections/{uuid:str}/compare"): (RECT_READ,),
    ("GET", "/spotchecks"): (READ,),
    ("POST", "/spotchecks"): (OFFICE,),
    ("GET", "/spotchecks/{draw_id:int}"): (READ,),
    ("POST", "/spotchecks/targets/{target_id:int}/start"): ((F,),),
    ("GET", "/public/spotchecks/{key:str}"): (PUBLIC,),
    ("GET", "/clues"): (CLUES,),
    ("POST", "/clues"): ((S, T),),
    ("GET", "/clues/new"): ((S, T),),
    ("GET", "/clues/{uuid:str}"): (CLUES, OTHER),
    ("POST", "/clues/{uuid:str}/accept"): (OFFICE,),
    ("POST", "/clues/{uuid:str}/decline"): (OFFICE,),
    ("POST", "/clues/{uuid:str}/close"): (OFFICE,),
    ("GET", "/clues/{uuid:str}/photos/{photo:str}"): (CLUES, OTHER),
    ("GET", "/clues/{uuid:str}/photos/{photo:str}/thumb"): (CLUES, OTHER),
    ("GET", "/clues/{uuid:str}/documents/{doc:str}"): (CLUES, OTHER),
    ("GET", "/reports"): (STATS,),
    ("GET", "/reports/{day:str}"): (STATS,),
    ("GET", "/reports/{day:str}/{body_id:int}"): (STATS, OTHER),
    ("POST", "/reports/{day:str}/{body_id:int}"): ((O, S, T), OTHER),
    ("POST", "/reports/{day:str}/{body_id:int}/cases"): ((O, S, T), OTHER),
    ("POST", "/reports/{day:str}/{body_id:int}/cases/{uuid:str}/delete"): ((O, S, T), OTHER),
    ("POST", "/reports/{day:str}/{body_id:int}/accept"): (OFFICE,),
    ("POST", "/reports/{day:str}/{body_id:int}/return"): (OFFICE,),
    ("GET", "/reports/{day:str}/table"): (READ,),
    ("GET", "/reports/{day:str}/table.xlsx"): (READ,),
    ("GET", "/reports/photos/{uuid:str}"): (STATS,),
    ("GET", "/reports/photos/{uuid:str}/thumb"): (STATS,),
    ("GET", "/reports/summary"): (READ,),
    ("GET", "/reports/summary.docx"): (READ,),
    ("GET", "/campaign"): (OFFICE,),
    ("POST", "/campaign/options"): (OFFICE,),
    ("POST", "/campaign/counting"): (OFFICE,),
    ("POST", "/campaign/phases"): (OFFICE,),
    ("POST", "/campaign/phases/{phase_id:int}"): (OFFICE,),
    ("POST", "/campaign/deadlines"): (OFFICE,),
    ("POST", "/campaign/deadlines/{deadline_id:int}"): (OFFICE,),
    ("POST", "/campaign/deadlines/{deadline_id:int}/delete"): (OFFICE,),
    ("GET", "/campaign/due"): (ALL,),
    ("GET", "/campaign/new"): (OFFICE,),
    ("POST", "/campaign/new"): (OFFICE,),
    ("POST", "/campaign/info"): (OFFICE,),
    ("POST", "/campaign/checklist"): (OFFICE,),
    ("GET", "/campaign/townships"): (OFFICE,),
    ("POST", "/campaign/townships"): (OFFICE,),
    ("POST", "/campaign/townships/{township_id:int}"): (OFFICE,),
    ("GET", "/campaign/bodies"): (OFFICE,),
    ("POST", "/campaign/bodies"): (OFFICE,),
    ("GET", "/campaign/bodies/{body_id:int}"): (OFFICE,),
    ("POST", "/campaign/bodies/{body_id:int}"): (OFFICE,),
    ("POST", "/campaign/bodies/{body_id:int}/accounts"): (OFFICE,),
    ("POST", "/campaign/bodies/{body_id:int}/accounts/{user_id:int}/active"): (OFFICE,),
    ("POST", "/campaign/bodies/{body_id:int}/accounts/{user_id:int}/password"): (OFFICE,),
    ("GET", "/manifest.webmanifest"): (PUBLIC,),
    ("GET", "/icons/{name:str}"): (PUBLIC,),
    ("GET", "/sw.js"): (PUBLIC,),
    ("GET", "/offline"): (PUBLIC,),
    ("GET", "/outbox"): (PUBLIC,),
    ("GET", "/static/{file_path:path}"): (PUBLIC,),
}


def app_routes(app) -> dict[tuple[str, str], object]:
    """(method, path) → handler, for every route of the app (HEAD and OPTIONS aside)."""
    found = {}
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            for method in getattr(handler, "http_methods", ()):
                if method not in ("HEAD", "OPTIONS"):
                    found[(method, route.path)] = handler
    return found


def test_the_table_names_every_route_and_says_what_the_handlers_say(app):
    routes = app_routes(app)
    assert sorted(set(routes) - set(MATRIX)) == [], "new routes: add them to MATRIX with who may use them"
    assert sorted(set(MATRIX) - set(routes)) == [], "routes in MATRIX that the app no longer has"
    for key, handler in routes.items():
        allowed = MATRIX[key][0]
        if allowed == PUBLIC:
            assert handler.opt.get("public"), key
            continue
        assert not handler.opt.get("public"), key
        roles = set(handler.opt.get("roles") or ("officer", "office", "liaison", "leader"))
        assert roles == {"liaison" if u.startswith("liaison") else u for u in allowed}, key


@pytest.fixture
async def records(client_factory, world, app):
    """Real records to name in paths: the officer's inspection (a guard, a finding, a photo),
    the township liaison's self-inspection with a photo, and her clue with a photo."""
    officer = await client_factory(F)
    key = await start(officer, world.sites.school.id)
    hx = {"HX-Request": "true"}
    await officer.post(f"/inspections/{key}/guards", data={"uuid": new_id(), "guard_id": str(world.guards.none.id)}, headers=hx)
    photo = new_id()
    await officer.post(f"/inspections/{key}/photos", data={"photo_uuid": photo, "target": "general"},
                       files={"file": ("p.jpg", jpeg(), "image/jpeg")}, headers=hx)
    town = await client_factory(T)
    town_key = await start(town, world.sites.estate.id)
    town_photo = new_id()
    await town.post(f"/inspections/{town_key}/photos", data={"photo_uuid": town_photo, "target": "general"},
                    files={"file": ("p.jpg", jpeg(), "image/jpeg")}, headers=hx)
    clue = new_id()
    r = await town.post("/clues", data={"uuid": clue, "unit_id": str(world.units.estate_co.id), "description": "线索"},
                        files=[("photos", ("p.jpg", jpeg(), "image/jpeg")),
                               ("documents", ("合同.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf"))])
    assert r.status_code == 303, r.text
    r = await town.post("/documents/plan", data={"uuid": new_id()},
                        files={"file": ("plan.pdf", b"%PDF-1.4\n%%EOF\n")})
    assert r.status_code == 303, r.text
    document = await BodyDocument.objects().first()
    check = await GuardCheck.objects().where(GuardCheck.inspection.uuid == key).first()
    finding = await Finding.objects().where(Finding.inspection.uuid == key).first()
    clue_photo = await CluePhoto.objects().first()
    clue_document = await ClueDocument.objects().first()
    assert check and finding and clue_photo and await Photo.count() == 2
    return SimpleNamespace(
        key=key, photo=photo, photo_id=(await Photo.objects().where(Photo.uuid == photo).first()).id,
        check=check.id, finding=finding.id, clue=clue, clue_photo=clue_photo.uuid,
        clue_document=clue_document.uuid,
        town_key=town_key, town_photo=town_photo, town_guard=world.guards.estate.id, world=world,
        document=document.id)


def fill(path: str, r: SimpleNamespace, other: bool = False) -> str:
    """The path with real records in it; `other`: the township body's records."""
    w = r.world
    inspection, photo = (r.town_key, r.town_photo) if other else (r.key, r.photo)
    if path.startswith("/clues/"):
        path = path.replace("{uuid:str}", r.clue).replace("{photo:str}", r.clue_photo).replace(
            "{doc:str}", r.clue_document)
    if path.startswith("/photos/"):
        path = path.replace("{uuid:str}", photo)
    values = {
        "uuid:str": inspection, "unit_id:int": w.units.school.id, "site_id:int": w.sites.school.id,
        "guard_id:int": r.town_guard if other else w.guards.valid.id, "check_id:int": r.check,
        "finding_id:int": r.finding, "photo_id:int": r.photo_id, "area:int": 1, "record_id:int": 999999,
        "name:str": "icon-192.png" if path.startswith("/icons/") else "unit", "key:str": new_id(),
        "table:str": "inspection", "record_id:str": "1", "token:str": "not-a-card", "day:str": "2021-01-01",
        "kind:str": "units", "job:str": new_id(), "order_id:int": 999999, "draw_id:int": 999999,
        "target_id:int": 999999, "phase_id:int": 999999, "deadline_id:int": 999999,
        "township_id:int": 999999, "body_id:int": 999999, "user_id:int": 999999,
        "file_path:path": "css/app.css", "doc_kind:str": "plan", "doc_id:int": r.document,
        "row_id:int": 999999,
    }
    return re.sub(r"\{([^}]+)\}", lambda m: str(values[m.group(1)]), path)


async def test_every_route_answers_each_user_as_the_table_says(app, client_factory, records):
    visitor = await client_factory()
    await visitor.get("/login")
    visitor.headers["x-csrftoken"] = visitor.cookies.get("csrftoken")
    users = {u: await client_factory(u) for u in ALL}
    routes = sorted(app_routes(app), key=lambda k: k == ("POST", "/logout"))  # logging out last
    wrong: list[str] = []
    calls = 0
    for method, path in routes:
        allowed, *rest = MATRIX[(method, path)]
        scoped = bool(rest) and rest[0] == OTHER
        url = fill(path, records)
        r = await visitor.request(method, url)
        calls += 1
        if allowed == PUBLIC:  # open to all (POST /login with no password: 401, rightly)
            if r.status_code >= 500 or r.status_code == 403:
                wrong.append(f"visitor {method} {url}: {r.status_code}")
        elif r.status_code not in (303, 401) or (r.status_code == 303 and "/login" not in r.headers["location"]):
            wrong.append(f"visitor {method} {url}: {r.status_code}, not sent to log in")
        for username, c in users.items():
            r = await c.request(method, url)
            calls += 1
            if allowed != PUBLIC and username not in allowed:
                if r.status_code != 403 or "无权" not in visible_text_of(r):
                    wrong.append(f"{username} {method} {url}: {r.status_code}, expected 403")
            elif r.status_code >= 500 or (r.status_code == 401 and allowed != PUBLIC) or (
                    r.status_code == 403 and allowed != PUBLIC):
                wrong.append(f"{username} {method} {url}: {r.status_code}")
        if scoped:
            r = await users[S].request(method, fill(path, records, other=True))
            calls += 1
            if r.status_code not in (403, 404):
                wrong.append(f"liaison of another body {method} {path}: {r.status_code}")
    assert wrong == [], "\n".join(wrong)
    assert calls == len(MATRIX) * 6 + sum(1 for v in MATRIX.values() if OTHER in v[1:])


def visible_text_of(r) -> str:
    from bs4 import BeautifulSoup

    return visible_text(BeautifulSoup(r.text, "html.parser"))

