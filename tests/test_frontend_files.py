"""Every script and stylesheet a page loads exists: after `make vendor` in the working tree,
and in the image, whose vendor stage runs the same list (package.json "vendorFiles" through
scripts/vendor.mjs). A file missing from one copy list once left photo zoom out of production."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from server.pwa.service_worker import SHELL_STATIC

ROOT = Path(__file__).resolve().parents[1]
STATIC_REF = re.compile(r"""/static/([A-Za-z0-9_@./-]+\.(?:js|css|png|svg|ico|json|webmanifest))""")
SCRIPT_SRC = re.compile(r"""<script\b[^>]*\bsrc=["']([^"']+)["']""")
STYLESHEET = re.compile(r"""<link\b(?=[^>]*\brel=["']stylesheet["'])[^>]*\bhref=["']([^"']+)["']""")


def vendor_files() -> dict[str, str]:
    return json.loads((ROOT / "package.json").read_text())["vendorFiles"]


def referenced() -> dict[str, set[str]]:
    """/static/ paths (relative to static/) -> the files that load them: templates' <script src>,
    stylesheets and script URLs built in JS, the page scripts, and the service worker's shell."""
    refs: dict[str, set[str]] = {}
    sources = [*ROOT.glob("templates/**/*.html"), *ROOT.glob("templates/**/*.js"), *ROOT.glob("static/js/*.js")]
    for path in sources:
        text = path.read_text()
        where = str(path.relative_to(ROOT))
        for tag in (SCRIPT_SRC, STYLESHEET):
            for url in tag.findall(text):
                assert url.startswith("/") and "//" not in url, f"{where} loads {url} from elsewhere (no CDN)"
        for rel in STATIC_REF.findall(text):
            refs.setdefault(rel, set()).add(where)
    for rel in SHELL_STATIC:
        refs.setdefault(rel, set()).add("server/pwa/service_worker.py")
    return refs


def test_templates_load_the_pages_scripts_and_stylesheet():
    refs = referenced()
    for rel in ("css/app.css", "js/app.js", "vendor/htmx.min.js", "vendor/panzoom.min.js", "vendor/jsQR.js"):
        assert rel in refs, rel


def test_every_referenced_static_file_exists_after_make_vendor():
    if not (ROOT / "static" / "vendor" / ".stamp").exists():
        pytest.fail("static/vendor/ is not filled: run `make vendor` (make test does)")
    missing = {rel: sorted(where) for rel, where in referenced().items() if not (ROOT / "static" / rel).is_file()}
    assert not missing, f"referenced but not there: {missing}"


def test_every_vendor_file_a_page_loads_is_in_the_one_list():
    listed = set(vendor_files())
    wanted = {rel.removeprefix("vendor/") for rel in referenced() if rel.startswith("vendor/")}
    assert wanted - listed == set(), "add them to package.json vendorFiles"
    assert listed - wanted == set(), "listed in vendorFiles but loaded by no page"


def test_the_image_copies_the_same_list():
    dockerfile = (ROOT / "Dockerfile").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert "COPY scripts/vendor.mjs scripts/vendor.mjs" in dockerfile
    assert "npm run vendor -- /build/vendor" in dockerfile
    assert "COPY --from=vendor /build/vendor/ static/vendor/" in dockerfile
    assert re.search(r"^COPY static/ static/$", dockerfile, re.M)
    assert re.search(r"^COPY templates/ templates/$", dockerfile, re.M)
    assert "npm run --silent vendor" in makefile
    # No second copy list anywhere: no file of node_modules is named in either.
    for source in vendor_files().values():
        assert source not in dockerfile and source not in makefile


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js (make vendor does too)")
def test_the_vendor_script_produces_every_file_the_pages_load(tmp_path):
    if not (ROOT / "node_modules").is_dir():
        pytest.fail("node_modules/ is missing: run `make vendor`")
    done = subprocess.run(["node", "scripts/vendor.mjs", str(tmp_path / "vendor")], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    for rel in referenced():
        if rel.startswith("vendor/"):
            built = tmp_path / rel
            assert built.is_file(), rel
            assert built.read_bytes() == (ROOT / "static" / rel).read_bytes()


def test_no_third_party_file_is_committed():
    tracked = subprocess.run(["git", "ls-files", "static/vendor", "node_modules"], cwd=ROOT,
                             capture_output=True, text=True).stdout.split()
    assert tracked == []
