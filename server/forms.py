"""Reading form fields with clear Chinese messages. Pure: a mapping in, values or errors out."""

from __future__ import annotations

import re
import uuid as uuidlib
from typing import Any, Mapping

MAX_NOTE = 500


class FormError(Exception):
    """Invalid input: `errors` maps field name → message shown beside the field."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def text(form: Mapping[str, Any], name: str, *, label: str, max_len: int = MAX_NOTE,
         required: bool = False, errors: dict[str, str]) -> str:
    value = str(form.get(name) or "").strip()
    if required and not value:
        errors[name] = f"请填写{label}"
    elif len(value) > max_len:
        errors[name] = f"{label}不能超过 {max_len} 字（现有 {len(value)} 字）"
    return value[:max_len]


def choice(form: Mapping[str, Any], name: str, allowed: set[str], *, label: str,
           required: bool = True, errors: dict[str, str]) -> str:
    value = str(form.get(name) or "").strip()
    if not value:
        if required:
            errors[name] = f"请选择{label}"
        return ""
    if value not in allowed:
        errors[name] = f"{label}的取值无效"
        return ""
    return value


def tristate(form: Mapping[str, Any], name: str) -> bool | None:
    """'yes' → True, 'no' → False, anything else → None (not checked)."""
    value = str(form.get(name) or "")
    return True if value == "yes" else False if value == "no" else None


def integer(form: Mapping[str, Any], name: str, *, label: str, minimum: int = 0, maximum: int = 10_000,
            required: bool = False, errors: dict[str, str]) -> int | None:
    raw = str(form.get(name) or "").strip()
    if not raw:
        if required:
            errors[name] = f"请填写{label}"
        return None
    if not re.fullmatch(r"-?\d+", raw):
        errors[name] = f"{label}须为整数"
        return None
    value = int(raw)
    if not minimum <= value <= maximum:
        errors[name] = f"{label}须在 {minimum}–{maximum} 之间"
        return None
    return value


def number(form: Mapping[str, Any], name: str, *, lo: float, hi: float) -> float | None:
    """An optional float (GPS); out of range or garbage is dropped, not an error."""
    try:
        value = float(str(form.get(name) or ""))
    except ValueError:
        return None
    return value if lo <= value <= hi else None


def client_uuid(form: Mapping[str, Any], name: str = "uuid") -> str:
    """The client-made UUID that makes a submission idempotent."""
    raw = str(form.get(name) or "").strip()
    try:
        return str(uuidlib.UUID(raw))
    except ValueError:
        raise FormError({name: "请求缺少有效的编号，请刷新页面后重试"}) from None


def new_uuid() -> str:
    return str(uuidlib.uuid4())
