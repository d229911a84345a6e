"""The benchmark suite (issue 8): `make bench`, or `.venv/bin/python bench/run.py [SECTION ...]`.

Runs each section (all by default, in the order below), prints its table as it finishes and
writes bench/RESULTS.md with the date, the machine and every figure against its target.
Running only some sections rewrites RESULTS.md with just those. See bench/README.md.
"""

from __future__ import annotations

import datetime as dt
import importlib
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import Section, machine  # noqa: E402

RESULTS = ROOT / "bench" / "RESULTS.md"

# name → module in bench/ with run() -> Section
SECTIONS = ["card", "weight", "lighthouse", "photos", "scale", "scaleout", "roster", "flow"]


def main(argv: list[str]) -> int:
    chosen = argv or SECTIONS
    unknown = [n for n in chosen if n not in SECTIONS]
    if unknown:
        print(f"unknown section(s): {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
        return 2
    started = time.monotonic()
    results: list[str] = []
    failed = []
    for name in chosen:
        print(f"== {name} ...", flush=True)
        t0 = time.monotonic()
        try:
            section: Section = importlib.import_module(f"bench.{name}").run()
            section.seconds = time.monotonic() - t0
        except Exception:  # a broken section is reported, the others still run
            traceback.print_exc()
            failed.append(name)
            results.append(f"## {name}\n\nFAILED to run (see the console output).\n")
            continue
        text = section.markdown()
        print(text, flush=True)
        results.append(text)
    header = [
        "# Benchmark results", "",
        f"- date: {dt.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"- machine: {machine()}",
        f"- sections: {', '.join(chosen)}; the whole run took {time.monotonic() - started:.0f} s",
        "",
    ]
    RESULTS.write_text("\n".join(header) + "\n" + "\n".join(results), encoding="utf-8")
    print(f"written to {RESULTS.relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
