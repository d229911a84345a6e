"""Steps of the officer's flow, shared by tests."""

from __future__ import annotations

import uuid


def new_id() -> str:
    return str(uuid.uuid4())


async def start(c, site_id: int, key: str | None = None) -> str:
    key = key or new_id()
    r = await c.post("/inspections", data={"uuid": key, "site_id": str(site_id)})
    assert r.status_code == 303, r.text
    assert r.headers["location"] == f"/inspections/{key}"
    return key


async def answer_all(c, key: str, violations: dict[int, str] | None = None) -> None:
    violations = violations or {}
    for area in range(1, 9):
        data = {"answer": "violation" if area in violations else "ok", "note": violations.get(area, "")}
        r = await c.post(f"/inspections/{key}/checklist/{area}", data=data, headers={"HX-Request": "true"})
        assert r.status_code == 200, r.text
