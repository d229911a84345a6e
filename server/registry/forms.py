"""Validating registry input (office forms and the roster import). Pure: values in, clean
values or Chinese messages out. The same checks serve both paths, so a unit that the form
refuses is refused by the import too."""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Mapping

from server.forms import date_field, text
from server.registry.ids import (
    id_birth_date,
    is_valid_id_number,
    is_valid_uscc,
    normalise_id_number,
    normalise_uscc,
)
from server.vocab import (
    CertStatus,
    EmploymentStatus,
    FilingStatus,
    ProviderKind,
    Sector,
    TrainingKind,
    UnitKind,
)

_PHONE_RE = re.compile(r"^[0-9+\-() ]{5,32}$")
def flag(form: Mapping[str, Any], name: str) -> bool:
    return str(form.get(name) or "") in {"1", "on", "yes", "true"}


def pick(form: Mapping[str, Any], name: str, choices: type, *, label: str, errors: dict[str, str],
         default: str | None = None) -> str | None:
    value = str(form.get(name) or "").strip()
    if not value:
        if default is None:
            errors[name] = f"请选择{label}"
        return default
    if value not in {c.value for c in choices}:
        errors[name] = f"{label}的取值无效"
        return default
    return value


def ref(form: Mapping[str, Any], name: str, allowed: set[int], *, label: str, required: bool,
        errors: dict[str, str]) -> int | None:
    raw = str(form.get(name) or "").strip()
    if not raw:
        if required:
            errors[name] = f"请选择{label}"
        return None
    if not raw.isdigit() or int(raw) not in allowed:
        errors[name] = f"所选{label}不存在"
        return None
    return int(raw)


def uscc_message(code: str) -> str | None:
    """The problem with a normalised USCC, or None when it is valid."""
    if len(code) != 18:
        return f"统一社会信用代码应为 18 位（现有 {len(code)} 位）"
    if not is_valid_uscc(code):
        return "统一社会信用代码校验位不正确（GB 32100），请核对"
    return None


def id_number_message(number: str) -> str | None:
    if len(number) != 18:
        return f"身份证号应为 18 位（现有 {len(number)} 位）"
    if not re.fullmatch(r"\d{17}[\dX]", number):
        return "身份证号只能由数字和末位 X 组成"
    if id_birth_date(number) is None:
        return "身份证号中的出生日期无效"
    if not is_valid_id_number(number):
        return "身份证号校验位不正确（GB 11643），请核对"
    return None


def phone(form: Mapping[str, Any], name: str, *, label: str, errors: dict[str, str]) -> str:
    value = unicodedata.normalize("NFKC", str(form.get(name) or "")).strip()
    if value and not _PHONE_RE.fullmatch(value):
        errors[name] = f"{label}格式不正确"
    return value[:32]


# ---------------------------------------------------------------- the three records

def unit_values(form: Mapping[str, Any], townships: set[int]) -> tuple[dict, dict[str, str]]:
    e: dict[str, str] = {}
    v: dict[str, Any] = {}
    v["name"] = text(form, "name", label="单位名称", max_len=128, required=True, errors=e)
    v["kind"] = pick(form, "kind", UnitKind, label="单位类型", errors=e)
    uscc = normalise_uscc(str(form.get("uscc") or ""))
    if uscc:
        msg = uscc_message(uscc)
        if msg:
            e["uscc"] = msg
    elif v["kind"] != UnitKind.illegal_org:
        e["uscc"] = "请填写统一社会信用代码（仅非法保安组织可空缺）"
    v["uscc"] = uscc or None
    v["sector"] = pick(form, "sector", Sector, label="行业", errors=e, default=Sector.other.value)
    v["township"] = ref(form, "township", townships, label="乡镇街", required=False, errors=e)
    v["address"] = text(form, "address", label="地址", max_len=255, errors=e)
    v["licence_no"] = text(form, "licence_no", label="保安服务许可证号", max_len=64, errors=e)
    if v["kind"] == UnitKind.security_company and not v["licence_no"]:
        e["licence_no"] = "保安服务公司须填写保安服务许可证号"
    v["filing_status"] = pick(form, "filing_status", FilingStatus, label="备案状态", errors=e,
                              default=FilingStatus.not_required.value)
    v["filing_no"] = text(form, "filing_no", label="备案编号", max_len=64, errors=e)
    v["filed_on"] = date_field(form, "filed_on", label="备案日期", errors=e, not_future=True)
    v["service_stopped_on"] = date_field(form, "service_stopped_on", label="停止服务日期", errors=e)
    v["filing_revoked_on"] = date_field(form, "filing_revoked_on", label="撤销备案日期", errors=e)
    if v["filing_status"] == FilingStatus.filed and v["filed_on"] is None and "filed_on" not in e:
        e["filed_on"] = "已备案的单位须填写备案日期"
    if v["filed_on"] and v["filing_revoked_on"] and v["filing_revoked_on"] < v["filed_on"]:
        e["filing_revoked_on"] = "撤销备案日期不能早于备案日期"
    v["legal_rep"] = text(form, "legal_rep", label="法定代表人", max_len=64, errors=e)
    v["contact_name"] = text(form, "contact_name", label="联系人", max_len=64, errors=e)
    v["contact_phone"] = phone(form, "contact_phone", label="联系电话", errors=e)
    v["notes"] = text(form, "notes", label="备注", max_len=2000, errors=e)
    return v, e


def site_values(form: Mapping[str, Any], units: set[int], townships: set[int]) -> tuple[dict, dict[str, str]]:
    e: dict[str, str] = {}
    v: dict[str, Any] = {}
    v["name"] = text(form, "name", label="服务目标名称", max_len=128, required=True, errors=e)
    v["unit"] = ref(form, "unit", units, label="所属单位", required=True, errors=e)
    v["address"] = text(form, "address", label="地址", max_len=255, errors=e)
    v["township"] = ref(form, "township", townships, label="乡镇街", required=False, errors=e)
    v["sector"] = pick(form, "sector", Sector, label="行业", errors=e, default=Sector.other.value)
    v["provider_kind"] = pick(form, "provider_kind", ProviderKind, label="安保方式", errors=e)
    v["provider"] = ref(form, "provider", units, label="保安服务提供单位", required=False, errors=e)
    if v["provider_kind"] and v["provider_kind"] != ProviderKind.own and v["provider"] is None \
            and "provider" not in e:
        e["provider"] = "请选择提供保安服务的单位"
    if v["provider_kind"] == ProviderKind.own:
        v["provider"] = None
    raw = str(form.get("posts") or "1").strip()
    if not raw.isdigit() or not 0 <= int(raw) <= 999:
        e["posts"] = "岗位数须为 0–999 的整数"
        v["posts"] = 1
    else:
        v["posts"] = int(raw)
    return v, e


def guard_values(form: Mapping[str, Any], units: set[int], sites: set[int]) -> tuple[dict, dict[str, str]]:
    e: dict[str, str] = {}
    v: dict[str, Any] = {}
    v["name"] = text(form, "name", label="姓名", max_len=64, required=True, errors=e)
    number = normalise_id_number(str(form.get("id_number") or ""))
    if not number:
        e["id_number"] = "请填写身份证号"
    else:
        msg = id_number_message(number)
        if msg:
            e["id_number"] = msg
    v["id_number"] = number or None
    gender = str(form.get("gender") or "").strip()
    if gender not in ("", "男", "女"):
        e["gender"] = "性别只能是 男 或 女"
    if not gender and number and "id_number" not in e:
        gender = "男" if int(number[16]) % 2 else "女"
    v["gender"] = gender
    v["phone"] = phone(form, "phone", label="联系电话", errors=e)
    v["employer"] = ref(form, "employer", units, label="所属单位", required=True, errors=e)
    v["site"] = ref(form, "site", sites, label="服务目标", required=False, errors=e)
    cert = normalise_id_number(str(form.get("certificate_no") or ""))  # same folding rules
    if len(cert) > 32:
        e["certificate_no"] = "保安员证号不能超过 32 位"
    v["certificate_no"] = cert or None
    v["certificate_status"] = pick(form, "certificate_status", CertStatus, label="持证状态", errors=e,
                                   default=CertStatus.valid.value if cert else CertStatus.none.value)
    if v["certificate_status"] in (CertStatus.valid, CertStatus.revoked) and not cert:
        e["certificate_no"] = "持证（或已注销）的保安员须填写保安员证号"
    v["certificate_issued_on"] = date_field(form, "certificate_issued_on", label="发证日期", errors=e,
                                            not_future=True)
    born = id_birth_date(number) if number and "id_number" not in e else None
    if born and v["certificate_issued_on"] and v["certificate_issued_on"] < born:
        e["certificate_issued_on"] = "发证日期早于出生日期，请核对"
    for name in ("vetted", "exam_passed", "photo_collected", "fingerprint_collected"):
        v[name] = flag(form, name)
    v["employment_status"] = pick(form, "employment_status", EmploymentStatus, label="在岗状态",
                                  errors=e, default=EmploymentStatus.active.value)
    v["hired_on"] = date_field(form, "hired_on", label="入职日期", errors=e, not_future=True)
    v["left_on"] = date_field(form, "left_on", label="离岗日期", errors=e, not_future=True)
    if v["hired_on"] and v["left_on"] and v["left_on"] < v["hired_on"]:
        e["left_on"] = "离岗日期不能早于入职日期"
    if v["employment_status"] == EmploymentStatus.active:
        v["left_on"] = None
    return v, e


def training_values(form: Mapping[str, Any]) -> tuple[dict, dict[str, str]]:
    e: dict[str, str] = {}
    v: dict[str, Any] = {}
    v["kind"] = pick(form, "kind", TrainingKind, label="培训类型", errors=e)
    v["held_on"] = date_field(form, "held_on", label="培训日期", required=True, errors=e, not_future=True)
    raw = str(form.get("hours") or "0").strip()
    if not raw.isdigit() or not 0 <= int(raw) <= 500:
        e["hours"] = "学时须为 0–500 的整数"
        v["hours"] = 0
    else:
        v["hours"] = int(raw)
    v["topic"] = text(form, "topic", label="培训内容", max_len=128, errors=e)
    return v, e
