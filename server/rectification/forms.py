"""Reading date fields with Chinese messages (server/forms.py has the other kinds)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Mapping


def date_field(form: Mapping[str, Any], name: str, *, label: str, errors: dict[str, str],
               required: bool = True, default: dt.date | None = None) -> dt.date | None:
    """A YYYY-MM-DD date (what <input type=date> sends). Blank gives the default, or an
    error when required and there is no default."""
    raw = str(form.get(name) or "").strip()
    if not raw:
        if required and default is None:
            errors[name] = f"请填写{label}"
        return default
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        errors[name] = f"{label}格式应为 年-月-日，例如 2021-01-15"
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        errors[name] = f"{label}不是有效日期"
        return None
