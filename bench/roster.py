"""7. Roster import: a 20,000-row workbook (1,000 units, 19,000 guards) checked and written by
`python -m server registry import FILE --commit`, under GNU time, on SQLite and PostgreSQL with
the demo seeded. Figures: wall time and the importing process's peak RSS (targets ≤ 60 s and
≤ 300 MB); every row must import (none rejected).
"""

from __future__ import annotations

import datetime as dt
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from openpyxl import Workbook

from bench.common import ROOT, Row, Section, backend, seed_demo
from server.registry.ids import id_check_digit, uscc_check_char

UNITS = 1_000
GUARDS = 19_000
SECONDS = 60.0
MB = 300.0
TOWNSHIPS = ("渔阳镇", "官庄镇")  # the demo's
KINDS = ("保安服务公司", "自招保安单位", "使用保安单位")
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def workbook(path: Path, seed: int = 17) -> None:
    """The roster as an office would fill it in: a sheet of units, a sheet of guards."""
    rng = random.Random(seed)
    wb = Workbook(write_only=True)
    units = wb.create_sheet("单位名单")
    units.append(["单位全称", "统一社会信用代码", "单位类别", "所属乡镇"])
    codes = []
    for i in range(UNITS):
        body = "9112022" + "5MA" + "".join(rng.choice(USCC_CHARS) for _ in range(4)) + f"{i:03d}"[-3:]
        body = body[:17]
        code = body + uscc_check_char(body)
        codes.append(code)
        units.append([f"蓟州区测试{i:04d}号保安服务有限公司", code, rng.choice(KINDS), rng.choice(TOWNSHIPS)])
    guards = wb.create_sheet("花名册")
    guards.append(["姓名", "公民身份号码", "所属单位统一社会信用代码", "保安员证编号", "发证日期",
                   "是否采集指纹", "照片采集"])
    for i in range(GUARDS):
        born = dt.date(1970, 1, 1) + dt.timedelta(days=i // 1000 * 211)  # (day, sequence) unique
        body = f"120225{born:%Y%m%d}{i % 1000:03d}"
        cert = f"津保1203{i:07d}" if rng.random() < 0.8 else None
        guards.append([rng.choice("王李张刘陈杨赵黄周吴") + rng.choice(("伟", "芳", "敏", "静", "强", "磊", "军", "洋")),
                       body + id_check_digit(body), rng.choice(codes), cert,
                       dt.date(2015, 1, 1) + dt.timedelta(days=rng.randrange(2000)) if cert else None,
                       rng.choice(("是", "否")), rng.choice(("是", "否"))])
    wb.save(path)


def measure(name: str, path: Path) -> list[Row]:
    with backend(name) as b:
        seed_demo(b)
        t = time.monotonic()
        done = subprocess.run(["/usr/bin/time", "-v", sys.executable, "-m", "server", "registry", "import",
                               str(path), "--commit"], cwd=ROOT, env=b.env, capture_output=True, text=True,
                              timeout=1200)
        took = time.monotonic() - t
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1)) / 1024
    summary = next((line for line in done.stdout.splitlines() if line.startswith("读取")), "")
    if done.returncode != 0 or "已写入" not in summary:
        raise RuntimeError(f"roster import on {name} failed (exit {done.returncode}): {summary}\n"
                           f"{done.stdout[-1500:]}\n{done.stderr[-1500:]}")
    return [Row(f"{name}: import of {UNITS + GUARDS:,} rows, checked and written (`registry import --commit`)",
                f"{took:.1f} s", f"≤ {SECONDS:.0f} s", took <= SECONDS),
            Row(f"{name}: … peak memory of the importing process (max RSS)", f"{rss:.0f} MB",
                f"≤ {MB:.0f} MB", rss <= MB),
            Row(f"{name}: … its report", summary)]


def run() -> Section:
    section = Section("7. Roster import: a 20,000-row workbook", notes=[
        f"a workbook made at run time (seeded): {UNITS:,} units on 单位名单 and {GUARDS:,} guards on 花名册, "
        "valid USCCs and ID numbers, the demo's townships",
        "`python -m server registry import FILE --commit` under GNU time, demo seeded first; SQLite (the "
        "embedded default) and a throwaway PostgreSQL cluster (fsync off)",
    ])
    with tempfile.TemporaryDirectory(prefix="bench-roster-") as tmp:
        path = Path(tmp) / "roster.xlsx"
        workbook(path)
        for name in ("sqlite", "postgres"):
            section.rows += measure(name, path)
    return section
