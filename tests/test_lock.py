"""The locks are current: every dependency declared in pyproject.toml is pinned, with hashes,
at a version its range allows; the test lock pins the app's packages at the same versions.
(`make lock` regenerates them; `make install` installs only from them.)"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
PIN = re.compile(r"^([A-Za-z0-9_.\-\[\]]+)==([^\s;\\]+)", re.M)


def pins(name: str) -> dict[str, str]:
    text = (ROOT / "requirements" / name).read_text()
    found = {canonicalize_name(n.split("[")[0]): v for n, v in PIN.findall(text)}
    blocks = re.split(r"\n(?=\S)", text)
    for block in blocks:
        if PIN.match(block):
            assert "--hash=sha256:" in block, f"{name}: no hash for {block.splitlines()[0]}"
    return found


def check(requirements: list[str], locked: dict[str, str]) -> None:
    for line in requirements:
        req = Requirement(line)
        name = canonicalize_name(req.name)
        assert name in locked, f"{req.name} is not in the lock: run `make lock`"
        assert req.specifier.contains(locked[name], prereleases=True), \
            f"{req.name}=={locked[name]} is outside {req.specifier}: run `make lock`"


def test_app_lock_pins_every_dependency_within_its_range():
    check(PYPROJECT["dependencies"] + ["setuptools>=68"], pins("app.lock"))


def test_test_lock_adds_the_test_extras_at_the_app_locks_versions():
    app, test = pins("app.lock"), pins("test.lock")
    check(PYPROJECT["dependencies"] + PYPROJECT["optional-dependencies"]["test"], test)
    assert {n: v for n, v in test.items() if n in app} == app


def test_no_range_is_open_ended():
    for line in PYPROJECT["dependencies"] + PYPROJECT["optional-dependencies"]["test"]:
        spec = Requirement(line).specifier
        assert any(s.operator in ("==", "<", "<=", "~=", "===") for s in spec), f"{line} has no upper bound"
