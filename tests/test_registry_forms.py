"""The registry's pure validators (shared by the office forms and the Excel import)."""

from __future__ import annotations

import datetime as dt

import pytest

from server.forms import parse_date
from server.registry import forms
from server.registry.ids import id_check_digit, uscc_check_char

ID = "12022519850312003" + id_check_digit("12022519850312003")


@pytest.mark.parametrize("raw, expected", [
    ("2020-12-14", dt.date(2020, 12, 14)), ("2020/1/5", dt.date(2020, 1, 5)), ("2020.12.14", dt.date(2020, 12, 14)),
    ("2020年12月14日", dt.date(2020, 12, 14)), ("20201214", dt.date(2020, 12, 14)),
    ("２０２０－１２－１４", dt.date(2020, 12, 14)), ("2020-12-14 00:00:00", dt.date(2020, 12, 14)),
    (dt.datetime(2020, 12, 14, 8, 0), dt.date(2020, 12, 14)), ("", None), (None, None),
])
def test_dates_in_the_usual_formats(raw, expected):
    assert parse_date(raw) == expected


@pytest.mark.parametrize("raw", ["2020-02-30", "14/12/2020", "昨天", "2020-13-01"])
def test_bad_dates_raise(raw):
    with pytest.raises(ValueError):
        parse_date(raw)


def test_uscc_and_id_messages():
    good = "91120225MA05TQ8R3" + uscc_check_char("91120225MA05TQ8R3")
    assert forms.uscc_message(good) is None
    assert "18 位" in forms.uscc_message(good[:10])
    assert "GB 32100" in forms.uscc_message(good[:17] + ("0" if good[17] != "0" else "1"))
    assert forms.id_number_message(ID) is None
    assert "出生日期无效" in forms.id_number_message("12022519851332003" + id_check_digit("12022519851332003"))
    assert "GB 11643" in forms.id_number_message(ID[:17] + ("0" if ID[17] != "0" else "1"))


def test_guard_values_derive_gender_and_certificate_status():
    values, errors = forms.guard_values({"name": "孙明", "id_number": ID.lower(), "employer": "1",
                                         "certificate_no": "津保１２３"}, {1}, set())
    assert errors == {}
    assert values["id_number"] == ID and values["gender"] == "男"
    assert values["certificate_no"] == "津保123" and values["certificate_status"] == "valid"
    values, errors = forms.guard_values({"name": "孙明", "id_number": ID, "employer": "2", "gender": "X",
                                         "certificate_issued_on": "1984-01-01"}, {1}, set())
    assert errors["employer"] == "所选所属单位不存在"
    assert errors["gender"] == "性别只能是 男 或 女"
    assert errors["certificate_issued_on"] == "发证日期早于出生日期，请核对"


def test_site_needs_a_provider_unless_self_guarded():
    _, errors = forms.site_values({"name": "东门", "unit": "1", "provider_kind": "security_company"}, {1}, set())
    assert errors == {"provider": "请选择提供保安服务的单位"}
    values, errors = forms.site_values({"name": "东门", "unit": "1", "provider_kind": "own", "provider": "1"}, {1}, set())
    assert errors == {} and values["provider"] is None
