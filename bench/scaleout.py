"""6. Scale-out: two app processes over one PostgreSQL and one S3 server.

Each granian process is what one container of compose.yaml runs; a proxy would spread phones
over them with no stickiness, so any request may land on either. Checked on real servers:
a session made on one is valid on the other (and ends on both at logout), an inspection started
on one is answered, photographed and submitted across both, a photo stored through one is served
by the other; then the card page's throughput with one process under load against two.
"""

from __future__ import annotations

import io
import re
import subprocess
import uuid
from statistics import median

import httpx
from PIL import Image

from bench.card import CARD_URL_SNIPPET, CONNECTIONS, parse_wrk
from bench.common import Row, Section, backend, log_in, run_py, seed_demo, serve
from bench.weight import start_inspection

ROUND_S = 5
ROUNDS = 3


def small_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (40, 90, 160)).save(out, "JPEG", quality=85)
    return out.getvalue()


def consistency(a: str, b: str) -> list[Row]:
    """The checks a user would notice if the processes did not share their state."""
    rows: list[Row] = []
    with httpx.Client(base_url=a, timeout=10.0) as ca, httpx.Client(base_url=b, timeout=10.0) as cb:
        csrf = log_in(ca, "minjing")
        cb.cookies = ca.cookies  # the same phone, its next request routed to the other process
        hx = {"HX-Request": "true", "x-csrftoken": csrf}

        home = cb.get("/")
        rows.append(Row("a session made on A is valid on B (B's home page greets 王警官)",
                        "yes" if home.status_code == 200 and "王警官" in home.text else
                        f"no (HTTP {home.status_code})", "yes", home.status_code == 200 and "王警官" in home.text))

        path = start_inspection(ca, csrf)  # started on A …
        for area in range(1, 9):  # … answered on B …
            cb.post(f"{path}/checklist/{area}", headers=hx, data={
                "answer": "violation" if area == 5 else "ok",
                "note": "未到公安机关备案" if area == 5 else ""}).raise_for_status()
        photo_id = str(uuid.uuid4())  # … photographed on A …
        ca.post(f"{path}/photos", headers=hx, data={"photo_uuid": photo_id, "target": "general"},
                files={"file": ("p.jpg", small_jpeg(), "image/jpeg")}).raise_for_status()
        submitted = cb.post(f"{path}/submit", headers={"x-csrftoken": csrf})  # … submitted on B
        page = ca.get(path).text
        ok = submitted.status_code == 303 and "已提交" in page
        rows.append(Row("an inspection started on A, answered and submitted on B, shows 已提交 on A",
                        "yes" if ok else f"no (submit HTTP {submitted.status_code})", "yes", ok))

        thumb = cb.get(f"/photos/{photo_id}/thumb")
        ok = thumb.status_code == 200 and thumb.headers.get("content-type") == "image/jpeg"
        rows.append(Row("a photo uploaded through A is served by B (one S3 bucket)",
                        "yes" if ok else f"no (HTTP {thumb.status_code})", "yes", ok))

        with httpx.Client(base_url=b, timeout=10.0) as office:
            log_in(office, "bangongshi")
            queue = office.get("/office/inspections").text
        ok = bool(re.search(r"王警官", queue)) and "已提交" in queue
        rows.append(Row("the office, on B, sees the submission in its review queue",
                        "yes" if ok else "no", "yes", ok))

        cb.post("/logout", headers={"x-csrftoken": csrf})
        after = ca.get("/", follow_redirects=False)
        ok = after.status_code == 303 and "/login" in after.headers.get("location", "")
        rows.append(Row("logging out on B ends the session on A", "yes" if ok else
                        f"no (HTTP {after.status_code})", "yes", ok))
    return rows


def wrk_many(urls: list[str], cookie: str, seconds: int) -> list[dict]:
    """One wrk per URL, all at once, each with CONNECTIONS connections."""
    procs = [subprocess.Popen(["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency",
                               "-H", f"Cookie: {cookie}", url], stdout=subprocess.PIPE, text=True)
             for url in urls]
    return [parse_wrk(p.communicate()[0]) for p in procs]


def throughput(a: str, b: str, card: str) -> list[Row]:
    with httpx.Client(base_url=a, timeout=10.0) as c:
        log_in(c, "minjing")
        cookie = f"sid={c.cookies['sid']}"
    wrk_many([a + card, b + card], cookie, 2)  # warm-up of both
    one, two = [], []
    for i in range(ROUNDS):
        r1 = wrk_many([a + card], cookie, ROUND_S)[0]["rps"]
        r2 = sum(r["rps"] for r in wrk_many([a + card, b + card], cookie, ROUND_S))
        one.append(r1)
        two.append(r2)
        print(f"  round {i + 1}/{ROUNDS}: one process {r1:7.1f} req/s, two processes {r2:7.1f} req/s", flush=True)
    one_m, two_m = median(one), median(two)
    return [
        Row("card page (officer), one process under load", f"{one_m:.0f} req/s"),
        Row("card page (officer), two processes under load (sum)", f"{two_m:.0f} req/s"),
        Row("two processes ÷ one", f"{two_m / one_m:.2f}"),
    ]


def run() -> Section:
    section = Section("6. Scale-out: two app processes, one PostgreSQL, one S3", notes=[
        "two granian processes (A and B) started like compose.yaml's app containers, sharing "
        "SECRET_KEY, DATABASE_URL and the S3 bucket (moto on loopback)",
        f"throughput: the officer's card page, wrk with {CONNECTIONS} connections per process; "
        f"{ROUNDS} alternating rounds of {ROUND_S} s of one process alone vs both at once; medians. "
        "On this 2-core machine the two processes, PostgreSQL and the wrk clients share two cores, "
        "so the sum cannot double: the figure shows that nothing serialises across processes",
    ])
    with backend("postgres") as b:
        seed_demo(b)
        with serve(b, processes=2) as (a, bb):
            card = httpx.URL(run_py(dict(b.env, BASE_URL=a), "-c", CARD_URL_SNIPPET).strip()).path
            section.rows += consistency(a, bb)
            section.rows += throughput(a, bb, card)
    return section
