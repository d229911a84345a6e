"""2. Page weight of each phone page on first load: HTML + CSS + JS, gzipped, nothing cached.

The QR decoder (/static/vendor/jsQR.js) is excluded: the scanner loads it only when the camera
starts. Pages are fetched logged in as the demo officer `minjing`.
"""

from __future__ import annotations

import gzip
import re
import time
import uuid

import httpx

from bench.common import Row, Section, backend, log_in, seed_demo, serve

TARGET_KB = 60.0
LAZY_SCRIPTS = {"/static/vendor/jsQR.js"}


def wire_bytes(client: httpx.Client, path: str) -> tuple[int, str]:
    """Bytes on the wire of one response body, as served with Accept-Encoding: gzip.
    Falls back to gzip level 6 done here when the server sent the body uncompressed."""
    r = client.get(path)
    r.raise_for_status()
    if r.headers.get("content-encoding") == "gzip":
        return r.num_bytes_downloaded, "server"
    return len(gzip.compress(r.content, compresslevel=6)), "bench"


def page_weight(client: httpx.Client, path: str) -> dict:
    html = client.get(path)
    html.raise_for_status()
    assets = ["/static/css/app.css"]
    assets += [s for s in re.findall(r'<script[^>]*\bsrc="([^"]+)"', html.text)
               if s.split("?")[0] not in LAZY_SCRIPTS]
    total, by = 0, set()
    for p in [path, *assets]:
        n, who = wire_bytes(client, p)
        total += n
        by.add(who)
    label = "/inspections/<uuid>" if path.startswith("/inspections/") else path
    return {"page": label, "files": 1 + len(assets), "kb": total / 1024, "gzip_by": "+".join(sorted(by))}


def start_inspection(client: httpx.Client, csrf: str, query: str = "中学") -> str:
    """Start an inspection at the first site a search finds; return its page's path."""
    search = client.get("/sites", params={"q": query})
    site_id = re.search(r'name="site_id" value="(\d+)"', search.text).group(1)
    r = client.post("/inspections", data={"uuid": str(uuid.uuid4()), "site_id": site_id,
                                          "_csrf_token": csrf}, headers={"x-csrftoken": csrf})
    path = r.headers.get("location", "")
    if not (r.is_redirect and path.startswith("/inspections/")):
        raise RuntimeError(f"starting an inspection failed: HTTP {r.status_code}")
    return path


def run() -> Section:
    started = time.monotonic()
    with backend("sqlite") as b:
        seed_demo(b)
        with serve(b) as (base,), httpx.Client(base_url=base, headers={"Accept-Encoding": "gzip"},
                                               timeout=10.0) as c:
            csrf = log_in(c, "minjing")
            pages = ["/", "/sites?q=中学", start_inspection(c, csrf), "/scan", "/outbox"]
            measured = [page_weight(c, p) for p in pages]
    section = Section("2. Page weight of the phone pages (first load, gzipped)", notes=[
        "HTML + /static/css/app.css + every `<script src>` of the page, Accept-Encoding: gzip, "
        "nothing cached; jsQR.js excluded (loaded only when the camera starts)",
        "logged in as the demo officer `minjing`; SQLite demo, one granian process"])
    section.rows = [Row(f"`{p['page']}` ({p['files']} files, gzip by {p['gzip_by']})",
                        f"{p['kb']:.1f} KB", f"≤ {TARGET_KB:.0f} KB", p["kb"] <= TARGET_KB)
                    for p in measured]
    section.seconds = time.monotonic() - started
    return section
