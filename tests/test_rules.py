"""The inspection's pure rules: card verdicts, derived findings, what blocks a submission."""

from server.inspections.rules import GuardFacts, card_verdict, derive_findings, submit_problems

ALL_OK = {a: ("ok", "") for a in range(1, 9)}


def test_card_verdicts():
    assert card_verdict(False, None, None, {1}) == "unrecognised"
    assert card_verdict(True, "revoked", 1, {1}) == "revoked"
    assert card_verdict(True, "none", 1, {1}) == "no_certificate"
    assert card_verdict(True, "valid", 2, {1}) == "other_unit"
    assert card_verdict(True, "valid", 1, {1, 3}) == "valid"


def test_each_guard_counts_once_per_column_even_with_several_uniform_problems():
    g = GuardFacts(7, 3, "张伟", "津保1", "valid", uniform_ok=False, insignia_ok=False, tejin_marking=True)
    found = derive_findings(ALL_OK, [g])
    assert [(f.area, f.stat_column, f.count_unit, f.quantity) for f in found] == [(2, 16, "person", 1)]
    assert "特勤" in found[0].text and "未佩戴保安服务标志" in found[0].text


def test_uncertified_guard_counts_in_column_15():
    found = derive_findings(ALL_OK, [GuardFacts(1, None, "", "津保9", "unrecognised")])
    assert [(f.area, f.stat_column) for f in found] == [(1, 15)]
    assert "可能伪造" in found[0].text


def test_area_violation_without_guard_findings_gives_one_area_finding():
    answers = {**ALL_OK, 5: ("violation", "未备案"), 3: ("violation", "")}
    found = derive_findings(answers, [])
    assert [(f.key, f.stat_column) for f in found] == [("area:3", None), ("area:5", 10)]
    assert found[1].text == "未依法备案：未备案"


def test_person_area_is_not_double_counted_when_guards_carry_it():
    answers = {**ALL_OK, 1: ("violation", "两人无证")}
    found = derive_findings(answers, [GuardFacts(1, 2, "李强", "", "no_certificate")])
    assert [f.key for f in found] == ["guard:1:1"]


def test_submit_problems():
    p = submit_problems({1: ("ok", "")}, [], [])
    assert sorted(p.areas) == [2, 3, 4, 5, 6, 7, 8]
    assert "第2项（着装与标志）：请选择 符合 / 不符合 / 不适用" in p.messages()
    derived = derive_findings(ALL_OK, [GuardFacts(1, 2, "李强", "", "no_certificate")])
    p = submit_problems(ALL_OK, derived, [f.text for f in derived])
    assert list(p.areas) == [1]
    assert not submit_problems({**ALL_OK, 1: ("violation", "")}, derived, ["x"])
    assert submit_problems(ALL_OK, [], ["  "]).general == ["有问题描述为空，请补充"]
