"""The counting rules of the statistics table on a constructed district with known answers.

Pure: no database, no server. The scenario is small enough to count by hand; each expected
number below says which records make it."""

from __future__ import annotations

import datetime as dt

import pytest

from server.auth.scope import Scope
from server import clock
from server.ledger.row import StatRow
from tests.support import counting
from tests.support.counting import Dataset, FindingRec, GuardRec, OutcomeRec, SiteRec, UnitRec
from server.ledger.weekly import compare, parse_day, report_weeks
from server.vocab import BodyScope

D = dt.date
YUYANG, GUANZHUANG = 1, 2
DISTRICT = Scope(BodyScope.district, None, None)
SCHOOLS = Scope(BodyScope.sector, "school", None)
GUANZHUANG_TOWN = Scope(BodyScope.township, None, GUANZHUANG)
YUYANG_TOWN = Scope(BodyScope.township, None, YUYANG)


def unit(i, kind, sector, township, created=D(2020, 12, 15)):
    return UnitRec(i, kind, sector, township, created)


def guard(i, employer, site_unit, cert="valid", issued=None, status="active", hired=None, left=None,
          created=D(2020, 12, 15), updated=D(2020, 12, 15)):
    return GuardRec(i, employer, site_unit, cert, issued, status, hired, left, created, updated)


def finding(i, unit_id, column, quantity=1, status="confirmed", on=D(2020, 12, 20), area=1):
    return FindingRec(i, unit_id, area, column, quantity, status, on)


@pytest.fixture
def data() -> Dataset:
    units = [
        unit(1, "using_unit", "school", YUYANG),                              # a school
        unit(2, "using_unit", "hospital", GUANZHUANG, D(2020, 12, 20)),       # a hospital
        unit(3, "property_company", "property", GUANZHUANG, D(2020, 12, 16)),  # guards its own estate
        unit(4, "self_recruiting", "enterprise", YUYANG, D(2020, 12, 28)),     # registered late
        unit(5, "security_company", "security", YUYANG, D(2020, 12, 14)),
        unit(6, "unqualified_employer", "labour", YUYANG),
        unit(7, "illegal_org", "security", YUYANG),
        unit(8, "using_unit", "school", GUANZHUANG),                           # no site: uses no guards
    ]
    sites = [
        SiteRec(1, 1, "security_company", D(2020, 12, 15)),
        SiteRec(2, 1, "unqualified", D(2020, 12, 15)),
        SiteRec(3, 2, "property_company", D(2020, 12, 20)),
        SiteRec(4, 3, "own", D(2020, 12, 16)),
        SiteRec(5, 4, "own", D(2020, 12, 28)),
        SiteRec(6, 2, "security_company", D(2021, 1, 5)),                      # added in January
    ]
    guards = [
        guard(1, 5, 1, issued=D(2019, 5, 1)),                                  # at the school, certified
        guard(2, 5, 1, cert="none"),                                           # at the school, no card
        guard(3, 3, 3, issued=D(2021, 1, 5)),                                  # card issued in January
        guard(4, 3, 3, cert="none", status="left", left=D(2020, 12, 30)),      # left on 12-30
        guard(5, 3, 3, cert="none", status="dismissed", updated=D(2021, 1, 2)),  # dismissed, no date
        guard(6, 6, None),                                                     # labour company, no site
        guard(7, 3, 3, hired=D(2021, 1, 3), created=D(2020, 12, 20)),          # hired in January
    ]
    findings = [
        finding(1, 7, 8, on=D(2020, 12, 20)),                       # unlicensed service
        finding(2, 3, 10, on=D(2020, 12, 22)),                      # property company not filed
        finding(3, 4, 10, on=D(2020, 12, 29)),                      # self-recruiting unit not filed
        finding(4, 3, 11, on=D(2020, 12, 23)),                      # entered as 11: folded into 10
        finding(5, 3, 12, status="submitted", on=None),             # not confirmed: never counted
        finding(6, 1, 15, quantity=3, on=D(2020, 12, 21)),          # three unqualified guards
        finding(7, 1, 16, on=D(2021, 1, 5)),                        # confirmed in January
        finding(8, 1, None, on=D(2020, 12, 21), area=3),            # training: a remark
        finding(9, 4, 13, on=D(2020, 12, 30)),                      # 13 on a non-property unit: 12 only
        finding(10, 2, 14, status="rejected", on=D(2020, 12, 21)),  # rejected: never counted
    ]
    outcomes = [
        OutcomeRec(1, 7, 17, 1, D(2020, 12, 28)),
        OutcomeRec(2, 1, 20, 2, D(2021, 1, 4)),
        OutcomeRec(3, 3, 21, 1, D(2020, 12, 30), answers_filing=True),  # the order of finding 2
    ]
    return Dataset({u.id: u for u in units}, sites, guards, findings, outcomes)


def values(row: StatRow) -> dict[int, int]:
    return {c: v for c, v in row.values().items() if v}


def test_district_as_of_new_year_eve(data):
    row = counting.count(data, DISTRICT, D(2020, 12, 31))
    assert values(row) == {
        1: 4,   # units 1–4 use guards (5–7 supply them; 8 has no guarded site)
        2: 2,   # unit 3 (property company) and unit 4 (self-recruiting, registered 12-28)
        3: 1,   # unit 1's school gate (unit 2's security company came in January)
        4: 1,   # unit 2 by a property company
        5: 1,   # unit 1's second site, by a labour company
        6: 5,   # guards 1, 2, 3, 5 (dismissed after 12-31), 6; not 4 (left 12-30), not 7 (hired 01-03)
        7: 2,   # guards 1 and 6; guard 3's card came on 01-05
        8: 1,
        10: 3,  # findings 2, 3 and 4 (entered as 11)
        11: 2,  # findings 2 and 4: their unit is a property company
        12: 1,  # finding 9 (entered as 13, but unit 4 is not a property company)
        15: 3,  # finding 6 counts three persons
        17: 1,
        21: 1,
    }
    assert row.cells[10].ids == (2, 3, 4) and row.cells[11].ids == (2, 4)
    assert row.cells[6].ids == (1, 2, 3, 5, 6) and row.cells[1].ids == (1, 2, 3, 4)
    assert row.remarks == "未计入上列栏目的问题：教育培训 1 起" and row.remark_ids == (8,)


def test_the_same_district_a_week_later_and_a_week_earlier(data):
    later = counting.count(data, DISTRICT, D(2021, 1, 8))
    assert later.value(3) == 2          # unit 2 now also has a security company
    # Guard 5 is gone (dismissed, record changed 01-02), guard 7 hired, guard 3 certified.
    assert later.cells[6].ids == (1, 2, 3, 6, 7) and later.cells[7].ids == (1, 3, 6, 7)
    assert later.value(16) == 1 and later.value(20) == 2
    earlier = counting.count(data, DISTRICT, D(2020, 12, 25))
    assert earlier.value(1) == 3 and earlier.value(2) == 1   # unit 4 not registered yet
    assert earlier.value(6) == 6        # guard 4 still on duty (left 12-30), guard 5 too
    assert earlier.value(10) == 2 and earlier.value(12) == 0 and earlier.value(17) == 0


def test_a_sector_body_counts_its_sector_only(data):
    row = counting.count(data, SCHOOLS, D(2020, 12, 31))
    # Unit 1 (school); unit 8 is a school but uses no guards. Guards 1, 2 serve the school
    # although a security company employs them.
    assert values(row) == {1: 1, 3: 1, 5: 1, 6: 2, 7: 1, 15: 3}
    assert row.remarks.endswith("教育培训 1 起")


def test_a_township_body_counts_its_township_only(data):
    row = counting.count(data, GUANZHUANG_TOWN, D(2020, 12, 31))
    # Units 2 and 3 (unit 8 has no guarded site); guards 3 and 5 at unit 3's estate, none
    # of them certified on 12-31.
    assert values(row) == {1: 2, 2: 1, 4: 1, 6: 2, 10: 2, 11: 2, 21: 1}
    assert row.remarks == ""


def test_overlapping_scopes_the_total_is_not_the_sum_of_rows(data):
    day = D(2020, 12, 31)
    schools, yuyang = counting.count(data, SCHOOLS, day), counting.count(data, YUYANG_TOWN, day)
    total = counting.count(data, DISTRICT, day)
    # The school is in both the education bureau's sector and 渔阳镇: counted once in the total.
    assert schools.cells[1].ids == (1,) and 1 in yuyang.cells[1].ids
    assert total.value(15) == 3 and schools.value(15) + yuyang.value(15) == 6


def test_rules_one_by_one():
    g = guard(1, 1, None, cert="valid", issued=D(2021, 1, 5), status="removed", left=None, updated=D(2021, 1, 10))
    assert counting.guard_on_duty(g, D(2021, 1, 9)) and not counting.guard_on_duty(g, D(2021, 1, 10))
    assert not counting.guard_certified(g, D(2021, 1, 4)) and counting.guard_certified(g, D(2021, 1, 5))
    assert counting.finding_column(finding(1, 1, 11)) == 10
    assert counting.finding_column(finding(1, 1, 13)) == 12
    assert counting.finding_column(finding(1, 1, 17)) is None      # not a violation column
    assert counting.finding_column(finding(1, 1, None)) is None
    assert not counting.finding_counts(finding(1, 1, 8, status="confirmed", on=None), D(2030, 1, 1))
    assert counting.finding_counts(finding(1, 1, 8, on=D(2021, 1, 1)), D(2021, 1, 1))
    assert not counting.finding_counts(finding(1, 1, 8, on=D(2021, 1, 2)), D(2021, 1, 1))


def test_local_date_is_beijing_time():
    late_utc = dt.datetime(2020, 12, 31, 17, 30, tzinfo=dt.timezone.utc)  # 01:30 on 01-01 in Beijing
    assert clock.local_date(late_utc) == D(2021, 1, 1)
    assert clock.local_date(dt.datetime(2020, 12, 31, 15, 59)) == D(2020, 12, 31)  # naive = UTC
    assert clock.local_date(None) is None


def test_frozen_form_round_trips(data):
    row = counting.count(data, DISTRICT, D(2020, 12, 31))
    again = StatRow.from_data(row.to_data())
    assert again == row


def test_report_weeks_are_the_campaign_weekdays_inclusive():
    weeks = report_weeks(D(2020, 12, 25), D(2021, 2, 5), 4)
    assert [w.ending for w in weeks][:2] == [D(2020, 12, 25), D(2021, 1, 1)]
    assert weeks[-1].ending == D(2021, 2, 5) and weeks[-1].number == 7
    assert all(w.ending.weekday() == 4 for w in weeks)
    assert [w.ending for w in report_weeks(D(2020, 12, 26), D(2021, 1, 10), 4)] == [D(2021, 1, 1), D(2021, 1, 8)]
    assert report_weeks(None, D(2021, 1, 1), 4) == [] and report_weeks(D(2021, 1, 2), D(2021, 1, 1), 4) == []
    assert [w.ending for w in report_weeks(D(2021, 1, 1), D(2021, 1, 20), 0)] == [D(2021, 1, 4), D(2021, 1, 11), D(2021, 1, 18)]


def test_compare_weeks_by_column():
    changes = compare({1: 3, 10: 1}, {1: 3, 10: 4, 17: 1})
    by_col = {c.column: c for c in changes}
    assert len(changes) == 22
    assert by_col[10].delta == 3 and by_col[10].changed
    assert by_col[17].before == 0 and by_col[17].delta == 1
    assert not by_col[1].changed and by_col[1].delta == 0
    first = compare(None, {1: 3})
    assert first[0].before is None and first[0].delta is None and not first[0].changed


def test_parse_day():
    assert parse_day("2021-01-08") == D(2021, 1, 8)
    assert parse_day("2021/01/08") is None and parse_day("") is None and parse_day(None) is None


# ---------------------------------------------------------------- the rules issue 15 settles

def test_a_repeat_found_at_reinspection_is_not_a_second_case(data):
    """回头看 finds unit 7's unlicensed service again: linked to finding 1, counted once."""
    data.findings.append(FindingRec(11, 7, 4, 8, 1, "confirmed", D(2021, 1, 12), D(2021, 1, 12), repeat_of=1))
    row = counting.count(data, DISTRICT, D(2021, 1, 15))
    assert row.value(8) == 1 and row.cells[8].ids == (1,)


def test_a_case_found_on_thursday_counts_in_that_fridays_report(data):
    """Found Thursday 2020-12-24, confirmed Monday 12-28: by default (the day found) it is in
    Friday 12-25's report; counted by the day confirmed, it waits for 01-01."""
    data.findings.append(FindingRec(11, 6, 4, 14, 1, "confirmed", D(2020, 12, 28), D(2020, 12, 24)))
    friday, next_friday = D(2020, 12, 25), D(2021, 1, 1)
    assert counting.count(data, DISTRICT, friday).value(14) == 1
    assert counting.count(data, DISTRICT, friday, "confirmed").value(14) == 0
    assert counting.count(data, DISTRICT, next_friday, "confirmed").value(14) == 1
    # Not confirmed yet when a report is counted: never counted, whatever the day found.
    data.findings.append(FindingRec(12, 6, 4, 14, 1, "submitted", None, D(2020, 12, 24)))
    assert counting.count(data, DISTRICT, next_friday).value(14) == 1


def test_column_10_counts_only_self_recruiting_units(data):
    """An unfiled finding against a security company (unit 5) or a school guarded by a
    company (unit 1) is no case of column 10: it goes to 备注. Unit 2 (a hospital) guarding a
    site of its own from 12-29 is self-recruiting from that day."""
    data.findings += [FindingRec(11, 5, 5, 10, 1, "confirmed", D(2020, 12, 20)),
                      FindingRec(12, 2, 5, 10, 1, "confirmed", D(2020, 12, 20))]
    row = counting.count(data, DISTRICT, D(2020, 12, 31))
    assert row.cells[10].ids == (2, 3, 4) and row.remark_ids == (8, 11, 12)
    assert row.remarks == "未计入上列栏目的问题：教育培训 1 起；未依法备案 2 起"
    data.sites.append(SiteRec(7, 2, "own", D(2020, 12, 29)))
    assert counting.count(data, DISTRICT, D(2020, 12, 28)).cells[10].ids == (2, 4)
    assert counting.count(data, DISTRICT, D(2020, 12, 31)).cells[10].ids == (2, 3, 4, 12)


def test_column_21_counts_only_filings_that_answer_a_finding(data):
    data.outcomes.append(OutcomeRec(4, 4, 21, 1, D(2020, 12, 30)))  # an order with no filing finding
    assert counting.count(data, DISTRICT, D(2020, 12, 31)).cells[21].ids == (3,)


def test_column_22_counts_persons_traceable_to_marked_guard_checks(data):
    """An outcome of 3 persons on an order with 2 guards seen with 特勤 marks counts 2; one on
    an order with no marked guard counts nothing."""
    data.outcomes += [OutcomeRec(4, 1, 22, 3, D(2020, 12, 30), marked_guards=2),
                      OutcomeRec(5, 2, 22, 1, D(2020, 12, 30))]
    row = counting.count(data, DISTRICT, D(2020, 12, 31))
    assert row.value(22) == 2 and row.cells[22].ids == (4,)


def test_column_5_counts_units_once_however_many_sites(data):
    """Column 5 is in 家: unit 1 with two sites by labour companies is one."""
    data.sites.append(SiteRec(7, 1, "unqualified", D(2020, 12, 16)))
    assert counting.count(data, DISTRICT, D(2020, 12, 31)).cells[5].ids == (1,)
