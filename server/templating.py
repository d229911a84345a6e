"""Jinja globals and filters: vocabularies, local time, masking."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from litestar.plugins.jinja import JinjaTemplateEngine

from server import vocab
from server.inspections.checklist import FOCUS_AREAS
from server.ledger.columns import BY_NUMBER as STAT_COLUMNS
from server.registry.ids import mask_id_number

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def local_dt(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(LOCAL_TZ).strftime(fmt)


def label(value: str | None, choice: str) -> str:
    return getattr(vocab, choice).label_of(value)


def make_template_engine(engine: JinjaTemplateEngine) -> None:
    env = engine.engine
    env.globals.update(vocab=vocab, FOCUS_AREAS=FOCUS_AREAS, STAT_COLUMNS=STAT_COLUMNS)
    env.filters.update(local_dt=local_dt, label=label, mask_id=mask_id_number)
    env.tests["startswith"] = lambda value, prefix: str(value).startswith(prefix)
    env.trim_blocks = True
    env.lstrip_blocks = True
