"""The pure rules of rectification: deadlines per focus area, overdue across phase boundaries,
status transitions, notice numbers, counted outcomes, the filing lifecycle and clue deadlines."""

from __future__ import annotations

import datetime as dt

import pytest

from server.campaign import options
from server.rectification import rules
from server.rectification.rules import PhaseSpan

D = dt.date
OPTIONS = {"rectify_days": {"1": 15, "2": 7, "3": 15, "4": 15, "5": 15, "6": 15, "7": 30, "8": 15}}
# The Jizhou plan: 集中整治 ends on the day 总结提升 starts.
PHASES = [
    PhaseSpan("调查摸底", D(2020, 12, 14), D(2020, 12, 25)),
    PhaseSpan("自查整改", D(2020, 12, 26), D(2021, 1, 10)),
    PhaseSpan("集中整治", D(2021, 1, 11), D(2021, 1, 25)),
    PhaseSpan("总结提升", D(2021, 1, 25), D(2021, 2, 5)),
]


# ---------------------------------------------------------------- deadlines

def test_default_deadline_is_the_shortest_period_of_the_findings_areas():
    issued = D(2021, 1, 5)
    assert rules.default_deadline(issued, [3], OPTIONS) == D(2021, 1, 20)
    assert rules.default_deadline(issued, [3, 2, 7], OPTIONS) == D(2021, 1, 12)  # area 2: 7 days wins
    assert rules.default_deadline(issued, [7], OPTIONS) == D(2021, 2, 4)


def test_rectify_days_fall_back_to_the_default_for_missing_or_bad_values():
    assert options.rectify_days({}, 2) == options.DEFAULT_RECTIFY_DAYS
    assert options.rectify_days({"rectify_days": {"2": "abc"}}, 2) == options.DEFAULT_RECTIFY_DAYS
    assert options.rectify_days({"rectify_days": {"2": 0}}, 2) == options.DEFAULT_RECTIFY_DAYS
    assert options.rectify_days({"rectify_days": {"2": 3}}, 2) == 3
    assert rules.default_deadline(D(2021, 1, 1), [], {}) == D(2021, 1, 16)


def test_deadline_problems_in_chinese():
    assert rules.deadline_problems(D(2021, 1, 5), None) == {"deadline": "请填写整改期限（日期）"}
    assert rules.deadline_problems(D(2021, 1, 5), D(2021, 1, 4)) == {"deadline": "整改期限不能早于下达日期"}
    assert "不能超过" in rules.deadline_problems(D(2021, 1, 5), D(2021, 12, 5))["deadline"]
    assert rules.deadline_problems(D(2021, 1, 5), D(2021, 1, 5)) == {}


def test_a_deadline_after_the_campaign_ends_is_warned_not_refused():
    assert "晚于专项行动结束日（2021-02-05）" in rules.deadline_warning(D(2021, 2, 10), D(2021, 2, 5))
    assert rules.deadline_warning(D(2021, 2, 5), D(2021, 2, 5)) == ""


def test_phase_at_takes_the_later_phase_on_a_shared_day_and_none_outside():
    assert rules.phase_at(D(2021, 1, 10), PHASES).name == "自查整改"
    assert rules.phase_at(D(2021, 1, 11), PHASES).name == "集中整治"
    assert rules.phase_at(D(2021, 1, 25), PHASES).name == "总结提升"
    assert rules.phase_at(D(2020, 12, 1), PHASES) is None
    assert rules.phase_at(D(2021, 2, 6), PHASES) is None


def test_overdue_across_a_phase_boundary():
    # Ordered in 自查整改 with a 7-day period (area 2): the deadline falls in 集中整治.
    issued = D(2021, 1, 8)
    deadline = rules.default_deadline(issued, [2], OPTIONS)
    assert deadline == D(2021, 1, 15)
    assert rules.phase_at(issued, PHASES).name == "自查整改"
    assert rules.phase_at(deadline, PHASES).name == "集中整治"
    # Still in the ordering phase: not yet due for re-inspection.
    s = rules.due_state("ordered", deadline, D(2021, 1, 10))
    assert (s.kind, s.days, s.label) == ("upcoming", 5, "还剩 5 天")
    assert not rules.needs_reinspection("ordered", deadline, D(2021, 1, 10))
    # The next phase: due within the horizon, then on the day, then overdue by calendar days.
    assert rules.due_state("ordered", deadline, D(2021, 1, 12)).label == "还剩 3 天"
    assert rules.needs_reinspection("ordered", deadline, D(2021, 1, 12))
    assert rules.due_state("ordered", deadline, D(2021, 1, 15)).label == "今天到期"
    late = rules.due_state("ordered", deadline, D(2021, 1, 26))  # now in 总结提升
    assert late.overdue and late.days == -11 and late.label == "逾期 11 天"
    assert rules.phase_at(D(2021, 1, 26), PHASES).name == "总结提升"


def test_due_state_by_status():
    deadline = D(2021, 1, 15)
    assert rules.due_state("reported", deadline, D(2021, 1, 1)).label == "单位已报整改，待回头看"
    assert rules.needs_reinspection("reported", deadline, D(2021, 1, 1))  # reported early: go and look
    assert rules.due_state("not_rectified", deadline, D(2021, 1, 20)).kind == "escalate"
    for done in ("verified", "escalated", "closed"):
        s = rules.due_state(done, deadline, D(2021, 2, 1))
        assert s.kind == "done" and not s.overdue
        assert not rules.needs_reinspection(done, deadline, D(2021, 2, 1))


# ---------------------------------------------------------------- transitions

@pytest.mark.parametrize("status, actions", [
    ("ordered", ["report", "verify", "fail"]),
    ("reported", ["verify", "fail"]),
    ("not_rectified", ["escalate"]),
    ("verified", ["close"]),
    ("escalated", ["close"]),
    ("closed", []),
])
def test_available_actions(status, actions):
    assert [t.action for t in rules.available_actions(status)] == actions


def test_transition_problems():
    assert rules.transition_problems("ordered", "report") == {}
    assert rules.transition_problems("closed", "report") == {"action": "当前状态为“已结案”，不能记录“单位已报整改”"}
    assert rules.transition_problems("ordered", "nonsense") == {"action": "请选择要记录的结论"}
    # A re-inspection result needs a submitted re-inspection.
    assert rules.transition_problems("reported", "verify") == {"action": "请先开展回头看检查并提交，再记录复查结论"}
    assert rules.transition_problems("reported", "fail", reinspection_status="draft") == {
        "action": "回头看检查尚未提交，提交后才能记录复查结论"}
    assert rules.transition_problems("reported", "verify", reinspection_status="submitted") == {}
    assert rules.transition_problems("reported", "fail", reinspection_status="reviewed") == {}
    # Escalating records the punishment.
    assert rules.transition_problems("not_rectified", "escalate", punishment="  ") == {
        "punishment": "请填写处罚情况（如处罚决定书文号和处罚内容）"}
    assert rules.transition_problems("not_rectified", "escalate", punishment="罚款五千元") == {}
    assert rules.transition_problems("escalated", "close") == {}


# ---------------------------------------------------------------- notice numbers

def test_notice_numbers_per_campaign_prefix_and_year():
    prefix = options.default_notice_prefix("蓟州区")
    assert prefix == "蓟公保责改字"
    assert rules.notice_number(prefix, 2021, 7) == "蓟公保责改字〔2021〕007号"
    existing = ["蓟公保责改字〔2020〕009号", "蓟公保责改字〔2021〕001号", "蓟公保责改字〔2021〕012号",
                "别的前缀〔2021〕099号", ""]
    assert rules.next_notice_seq(existing, prefix, 2021) == 13
    assert rules.next_notice_seq(existing, prefix, 2020) == 10
    assert rules.next_notice_seq(existing, prefix, 2022) == 1
    assert rules.next_notice_seq(existing, "别的前缀", 2021) == 100


# ---------------------------------------------------------------- outcomes

def test_outcome_problems():
    assert rules.outcome_problems(18, 3, "property_company", []) == {}
    assert rules.outcome_problems(None, 1, "using_unit", []) == {"stat_column": "请选择统计栏目"}
    assert "按人登记" in rules.outcome_problems(20, 1, "using_unit", [])["stat_column"]
    assert "按人登记" in rules.outcome_problems(21, 1, "self_recruiting", [])["stat_column"]
    assert rules.outcome_problems(17, 1, "using_unit", []) == {
        "stat_column": "“清理非法保安组织”只适用于登记为非法保安组织的单位"}
    assert rules.outcome_problems(17, 1, "illegal_org", []) == {}
    assert rules.outcome_problems(17, 2, "illegal_org", []) == {"quantity": "此项按单位计，数量只能为 1"}
    assert rules.outcome_problems(17, 1, "illegal_org", [17]) == {"stat_column": "该整改单已登记过此项结果"}
    assert rules.outcome_problems(22, None, "using_unit", []) == {"quantity": "请填写人数"}
    assert rules.outcome_problems(22, 2, "using_unit", [22]) == {}  # persons may be added in steps


def test_filing_outcome_problems():
    assert rules.filing_outcome_problems("property_company", [], "津公备001") == {}
    assert rules.filing_outcome_problems("using_unit", [], "x") == {
        "filing_no": "只有自招保安单位（含物业服务企业）需要办理备案"}
    assert rules.filing_outcome_problems("self_recruiting", [], " ") == {"filing_no": "请填写备案编号"}
    assert rules.filing_outcome_problems("self_recruiting", [21], "x") == {"filing_no": "该整改单已登记过备案结果"}


# ---------------------------------------------------------------- filing lifecycle

def test_filing_alerts():
    today = D(2021, 1, 20)
    assert rules.filing_alert("using_unit", "unfiled", None, None, today) is None
    unfiled = rules.filing_alert("property_company", "unfiled", None, None, today)
    assert unfiled.kind == "unfiled" and unfiled.message == "自招保安单位未依法备案"
    assert rules.filing_alert("self_recruiting", "not_required", None, None, today).kind == "unfiled"
    assert rules.filing_alert("self_recruiting", "filed", None, None, today) is None
    # Stopped service: 30 days to revoke the filing; the 31st day is an alert.
    assert rules.filing_alert("self_recruiting", "filed", today - dt.timedelta(days=30), None, today) is None
    stale = rules.filing_alert("self_recruiting", "filed", today - dt.timedelta(days=31), None, today)
    assert stale.kind == "stale" and stale.message == "已停止服务 31 天，仍未撤销备案（应在 30 日内撤销）"
    assert rules.filing_alert("self_recruiting", "revoked", today - dt.timedelta(days=90), D(2021, 1, 1), today) is None
    # A stopped unit that never filed has nothing to revoke.
    assert rules.filing_alert("self_recruiting", "unfiled", today - dt.timedelta(days=90), None, today) is None


# ---------------------------------------------------------------- clues

def test_clue_response_deadline_and_labels():
    assert rules.clue_response_due(D(2021, 1, 4), {}) == D(2021, 1, 9)
    assert rules.clue_response_due(D(2021, 1, 4), {"clue_response_days": 3}) == D(2021, 1, 7)
    assert rules.clue_response_due(D(2021, 1, 4), {"clue_response_days": "x"}) == D(2021, 1, 9)
    due = D(2021, 1, 9)
    assert rules.clue_due_label("referred", due, D(2021, 1, 4)) == ("须在 5 天内答复", False)
    assert rules.clue_due_label("referred", due, D(2021, 1, 9)) == ("今天须答复", False)
    assert rules.clue_due_label("referred", due, D(2021, 1, 11)) == ("答复已逾期 2 天", True)
    assert rules.clue_due_label("accepted", due, D(2021, 1, 11)) == ("", False)


def test_spot_results_published():
    assert rules.spot_result(None, 0) == "待检查"
    assert rules.spot_result("draft", 0) == "待检查"
    assert rules.spot_result("submitted", 2) == "已检查，结果审核中"
    assert rules.spot_result("reviewed", 0) == "未发现问题"
    assert rules.spot_result("reviewed", 1) == "发现违法违规问题"
