"""A fuzzer over every form field of the route table, against a real server process.

For every route of tests/test_access_matrix.py (every POST, and every GET with its query
string) and each role the table lets in, it sends malformed values: empty, blank, very long,
unicode with control and bidi characters, NUL, negative and huge numbers, bad dates, bad and
nil uuids, wrong types (a file where text is read, JSON or plain text or bytes that are not
UTF-8 instead of a form), missing and repeated fields, and ids in the path out of the
database's integer range — now in every field at once, now in one field among plausible
values (so that the checks after the first refusal are reached too). The field names come from the app itself: the handler's own query
parameters and every name the capability's code reads from a form or query string
(`form.get("…")`, `text(form, "…", …)` …), so a new field is fuzzed without editing this file.

The inputs follow from a fixed seed (per route and role); the count is bounded (CASES per
route for the first role the table names, two for each other role). Every answer must be
below 500: a malformed request is the user's mistake, answered in Chinese, never a crash.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import random
import re
import uuid as uuidlib
from pathlib import Path
from urllib.parse import urlencode

import httpx

from tests.faults.conftest import ROOT, session
from tests.test_access_matrix import ALL, MATRIX, PUBLIC, app_routes, fill, records  # noqa: F401 - records: a fixture

SEED = int(os.environ.get("FUZZ_SEED", "16"))  # another seed explores other inputs, as reproducibly
CASES = 10
NAME = r'"([a-z][a-z0-9_]{0,40})"'
READS = [re.compile(r"\.(?:get|getall|getlist)\(\s*" + NAME),
         re.compile(r"\(\s*(?:form|params|query|q|data|f|raw|values|fields|request\.query_params)\s*,\s*" + NAME),
         re.compile(r"\b(?:form|params|query|q|data)\[\s*" + NAME)]
COMMON = {"uuid", "q", "page", "next", "username", "password", "outbox_actors"}
NOT_FIELDS = {"request", "state", "scope", "headers", "data", "socket", "body"}

LONG = "长" * 3000 + "x" * 3000
BAD = ["", " ", "\t\n", LONG, "🙂中文\u202e\u200b\ufeff", "a\x00b", "\x00", "-1", "-2147483649",
       "99999999999999999999999", "2147483648", "1e309", "NaN", "-0", "1.5", "０１２", "2021-02-30",
       "9999-99-99", "0000-00-00", "2021-13-01", "99999-01-01", "not-a-uuid", str(uuidlib.UUID(int=0)),
       "true", "[]", "{\"a\": 1}", "../../etc/passwd", "<script>alert(1)</script>", "' OR 1=1 --",
       "%00", "\\", "none", "null"]
"""The malformed values; a case gives each field one of them or a plausible value."""


def plausible(name: str, w, rng: random.Random) -> str:
    """A value of the kind the field expects, so that the bad ones beside it get read too."""
    ids = {"site_id": w.sites.school.id, "guard_id": w.guards.valid.id, "unit_id": w.units.school.id,
           "body_id": w.bodies.edu.id, "township": w.townships.yuyang.id, "officer_id": w.users.officer.id,
           "user_id": w.users.officer.id, "employer": w.units.secco.id, "site": w.sites.school.id,
           "unit": w.units.school.id, "provider": w.units.secco.id, "body": w.bodies.edu.id}
    if name in ids:
        return str(ids[name])
    if name == "uuid" or name.endswith("_uuid"):
        return str(uuidlib.UUID(int=rng.getrandbits(128), version=4))
    if name.endswith(("_on", "_from", "_to", "_until", "date", "deadline")) or name in ("as_of", "day"):
        return rng.choice(["2021-01-05", "2020-12-20", "2021年1月8日"])
    if name.endswith(("_id", "_ids")) or name in ("area", "quantity", "count", "page", "col", "n", "hours",
                                                   "ordinal", "rectify_days", "clue_response_days"):
        return str(rng.choice([1, 2, 3]))
    if name == "answer":
        return rng.choice(["ok", "violation", "na"])
    if name == "target":
        return rng.choice(["general", "guard:1", "finding:1", "guard:x"])
    if name in ("lat", "lng"):
        return "39.05"
    return rng.choice(["测试", "蓟州区", "津保120200000001", "120225199001011234", "yes", "no", "1"])


def fields_of(handler) -> list[str]:
    """The names the route may read: its handler's query parameters, and every name the
    code of its capability reads from a form or a query string."""
    names = set(COMMON)
    for p in inspect.signature(handler.fn).parameters.values():
        if p.name not in NOT_FIELDS:
            names.add(p.name)
    module = handler.fn.__module__.split(".")
    where = ROOT.joinpath(*module[:2]) if len(module) > 2 else ROOT.joinpath(*module).with_suffix(".py")
    for f in ([where] if where.is_file() else sorted(Path(where).glob("*.py"))):
        source = f.read_text()
        for pattern in READS:
            names.update(pattern.findall(source))
    return sorted(names)


async def more_records(records, office: httpx.AsyncClient) -> dict[str, int]:
    """Real records for the paths that the access matrix fills with ids of none (so that the
    fuzzed fields of those routes are read, not refused with a 404): a rectification order,
    a spot-check draw with its target, a phase, a reporting deadline, a township, a body and
    an account of it that nobody fuzzing uses (the fuzzer may deactivate it)."""
    from server.models.auth import User
    import datetime as dt

    from server.models.campaign import Phase, ReportingDeadline
    from server.models.rectification import RectificationOrder, SpotCheckDraw, SpotCheckTarget

    w = records.world
    order = RectificationOrder(number="蓟公保整〔2021〕1号", campaign=w.campaign.id, unit=w.units.estate_co.id,
                               issued_by=w.users.office.id, deadline=dt.date(2021, 1, 20))
    await order.save()
    r = await office.post("/spotchecks", data={"township": str(w.townships.yuyang.id), "kind": "using_unit",
                                               "rule": "none", "n": "1", "save": "1"})
    assert r.status_code == 303, r.text[:300]
    r = await office.post("/campaign/deadlines", data={"title": "报送方案", "due_on": "2030-01-01"})
    assert r.status_code in (200, 303), r.text[:300]
    draw = await SpotCheckDraw.objects().first()
    target = await SpotCheckTarget.objects().first()
    phase = await Phase.objects().first()
    deadline = await ReportingDeadline.objects().first()
    spare = User(username="spare", password_hash=w.users.liaison_edu.password_hash, role="liaison",
                 body=w.bodies.edu.id, display_name="备用联络员")
    await spare.save()
    return {"order_id:int": order.id, "draw_id:int": draw.id, "target_id:int": target.id,
            "phase_id:int": phase.id, "deadline_id:int": deadline.id, "township_id:int": w.townships.guanzhuang.id,
            "body_id:int": w.bodies.edu.id, "user_id:int": spare.id}


def path_for(path: str, records, real: dict[str, int], rng: random.Random, wild: bool) -> str:
    """The route's path with real records in it, or (`wild`) with ids beyond any integer
    column, negative ids and odd strings."""
    if not wild:
        for name, value in real.items():
            path = path.replace("{" + name + "}", str(value))
        return fill(path, records)

    def one(m: re.Match) -> str:
        kind = m.group(1).split(":")[-1]
        if kind == "int":
            return rng.choice(["9223372036854775808", "2147483648", "-1", "0"])
        if kind == "path":
            return "css/app.css"
        return rng.choice(["%00", "..%2F..", "x" * 300, "0" * 36, "%E4%B8%AD%E6%96%87", "-1"])
    return re.sub(r"\{([^}]+)\}", one, path)


def cases(method: str, names: list[str], w, rng: random.Random, count: int) -> list[dict]:
    """`count` requests for one route: keyword arguments for httpx (without the URL)."""
    get = method == "GET"
    kinds = ["mixed", "one-bad", "same", "repeated", "wild-path", "multipart", "one-bad", "json",
             "not-utf8", "one-bad"]
    out = []
    for n in range(count):
        kind = kinds[n % len(kinds)]
        hx = {"HX-Request": "true"} if n % 2 else {}
        bad = rng.choice(BAD)
        if get and len(bad) > 300:
            bad = bad[:300]

        victim = rng.choice(names)  # "one-bad": every field plausible but this one, bad or left out

        def value(name: str) -> str:
            if kind == "same":
                return bad
            if kind == "one-bad":
                v = rng.choice(BAD) if name == victim else plausible(name, w, rng)
            else:
                v = rng.choice(BAD) if rng.random() < 0.5 else plausible(name, w, rng)
            return v[:300] if get else v
        chosen = [f for f in names if (not get or rng.random() < 0.5)
                  and not (kind == "one-bad" and f == victim and rng.random() < 0.3)]
        pairs = [(f, value(f)) for f in chosen]
        if kind == "repeated":
            pairs += [(f, value(f)) for f in chosen]
        request: dict = {"headers": hx, "wild": kind == "wild-path"}
        if get:
            if len(urlencode(pairs)) > 6000:  # a request line the server reads (h11: 16 kB with the headers)
                pairs = [(f, v[:12]) for f, v in pairs]
            request["params"] = pairs
        elif kind == "multipart":  # every field a file: the wrong type wherever text is read
            request["files"] = [(f, (f"{f}.jpg", v.encode("utf-8", "replace")[:2000] or b"\xff\xd8",
                                     rng.choice(["image/jpeg", "application/octet-stream", "text/plain"])))
                                for f, v in pairs] + [("file", ("x.jpg", b"\xff\xd8\xff\xe0garbage", "image/jpeg"))]
        elif kind == "json":
            request["content"] = json.dumps(dict(pairs)).encode()
            request["headers"] = {**hx, "Content-Type": rng.choice(["application/json", "text/plain"])}
        elif kind == "not-utf8":
            request["content"] = b"&".join(f.encode() + b"=%FF%FE%C0" for f in chosen) + b"&\xff\xfe=\xc0"
            request["headers"] = {**hx, "Content-Type": "application/x-www-form-urlencoded"}
        else:
            request["content"] = urlencode(pairs).encode()
            request["headers"] = {**hx, "Content-Type": "application/x-www-form-urlencoded"}
            request["fields"] = sorted({f for f, _ in pairs})
        out.append(request)
    return out


async def test_every_form_field_of_every_route_fuzzed(server, app, records, tally):
    w = records.world
    visitor = httpx.AsyncClient(base_url=server.url, timeout=60)
    await visitor.get("/login")
    visitor.headers["x-csrftoken"] = visitor.cookies.get("csrftoken")
    users = {u: await session(server.url, u) for u in ALL}
    real = await more_records(records, users["office"])
    routes = app_routes(app)
    plan: list[tuple[str, str, httpx.AsyncClient, str, dict]] = []
    for (method, path) in sorted(routes, key=lambda k: (k == ("POST", "/logout"), k)):
        allowed = MATRIX[(method, path)][0]
        if path.startswith("/static/"):
            continue
        who = ["visitor"] if allowed == PUBLIC else list(allowed)
        names = fields_of(routes[(method, path)])
        for i, role in enumerate(who):
            rng = random.Random(f"{SEED} {method} {path} {role}")
            for request in cases(method, names, w, rng, CASES if i == 0 else 2):
                url = path_for(path, records, real, rng, request.pop("wild"))
                plan.append((method, url, visitor if role == "visitor" else users[role], role, request))

    async def send(method: str, url: str, c: httpx.AsyncClient, role: str, request: dict) -> None:
        fields = request.pop("fields", None) or sorted({k for k, _ in request.get("params") or []})
        try:
            try:
                r = await c.request(method, url, **request)
            except httpx.TransportError:  # a kept-alive connection the server closed as it was reused
                r = await c.request(method, url, **request)
        except httpx.HTTPError as exc:
            tally.server_errors.append(f"{role} {method} {url[:120]}: no answer ({exc!r})")
            return
        if r.status_code >= 500:
            tally.server_errors.append(f"{role} {method} {url[:120]}: {r.status_code} 错误编号 "
                                       f"{r.headers.get('x-error-ref', '?')} "
                                       f"({', '.join(fields)[:200]})")
        tally.requests += 1

    tally.faults += len(plan)
    logout = [p for p in plan if p[1] == "/logout"]
    rest = [p for p in plan if p[1] != "/logout"]
    lanes = 3  # a little overlap between client and server; each lane keeps its order
    await asyncio.gather(*(_lane(send, rest[i::lanes]) for i in range(lanes)))
    await _lane(send, logout)
    for c in [visitor, *users.values()]:
        await c.aclose()


async def _lane(send, plan) -> None:
    for item in plan:
        await send(*item)
