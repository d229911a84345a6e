"""The pure rules of the review: queue filters, decisions, the outcome of a review round,
and the pure parts of evidence integrity and the audit history."""

from __future__ import annotations

import datetime as dt

from server.audit.service import changes
from server.evidence import integrity
from server.review import rules
from server.review.rules import PhotoFacts

T0 = dt.datetime(2021, 1, 5, 9, 0, tzinfo=dt.timezone.utc)


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def test_filters_default_to_submitted_and_read_every_field():
    f, errors = rules.parse_filters({})
    assert errors == {} and f.status == "submitted" and f.page == 1
    f, errors = rules.parse_filters({"status": "sent_back", "body": "3", "township": "4", "phase": "5",
                                     "officer": "6", "date_from": "2021-01-01", "date_to": "2021-01-31",
                                     "page": "2"})
    assert errors == {}
    assert (f.status, f.body, f.township, f.phase, f.officer, f.page) == ("sent_back", 3, 4, 5, 6, 2)
    assert f.date_from == dt.date(2021, 1, 1) and f.date_to == dt.date(2021, 1, 31)
    # Links keep every filter and change only what they say.
    assert "township=4" in f.query(page=1) and "page" not in f.query(page=1)
    assert "status=all" in f.query(status="all")


def test_bad_filters_are_dropped_with_chinese_messages():
    f, errors = rules.parse_filters({"status": "draft", "body": "x1", "date_from": "2021-13-01",
                                     "page": "-3"})
    assert f.status == "submitted" and f.body is None and f.date_from is None and f.page == 1
    assert errors == {"status": "状态的取值无效", "body": "填报单位的取值无效",
                      "date_from": "开始日期不是有效日期，请按 年-月-日 填写，例如 2021-01-15"}
    f, errors = rules.parse_filters({"date_from": "2021-02-01", "date_to": "2021-01-01"})
    assert errors == {"date_to": "结束日期不能早于开始日期"} and f.date_to is None


def test_send_back_reject_and_reshoot_need_a_reason():
    assert rules.decision_errors("confirm", "", rules.FINDING_DECISIONS) == {}
    assert rules.decision_errors("send_back", " ", rules.FINDING_DECISIONS) == {"note": "请填写退回原因，民警会看到这段话"}
    assert rules.decision_errors("reject", "", rules.FINDING_DECISIONS) == {"note": "请填写驳回理由"}
    assert rules.decision_errors("reshoot", "", rules.PHOTO_DECISIONS) == {"note": "请说明需要重拍的原因"}
    assert rules.decision_errors("accept", "", rules.PHOTO_DECISIONS) == {}
    assert rules.decision_errors("", "", rules.FINDING_DECISIONS) == {"decision": "请选择审核结论"}
    assert rules.decision_errors("accept", "", rules.FINDING_DECISIONS) == {"decision": "请选择审核结论"}
    assert "不能超过 500 字" in rules.decision_errors("send_back", "字" * 501, rules.FINDING_DECISIONS)["note"]


def test_outcome_is_reviewed_only_when_everything_is_settled():
    o = rules.outcome(["confirmed", "rejected"], [PhotoFacts(1, "general", "accepted", at(0))], None)
    assert o.can_finish and o.status == "reviewed" and o.summary() == ""
    o = rules.outcome(["confirmed", "submitted"], [], None)
    assert not o.can_finish and o.undecided == 1 and "还有 1 条问题未审核" in o.blocking_message()
    o = rules.outcome(["confirmed", "sent_back"], [], None)
    assert o.status == "sent_back" and o.summary().startswith("1 条问题被退回")
    o = rules.outcome([], [PhotoFacts(1, "general", "reshoot", at(0))], None)
    assert o.can_finish and o.status == "sent_back" and o.reshoot == [1] and "1 张照片需要重拍" in o.summary()
    # No findings and no photos: nothing to object to.
    assert rules.outcome([], [], None).status == "reviewed"


def test_a_reshoot_is_settled_only_by_a_later_photo_of_the_same_thing():
    sent_back_at = at(10)
    bad = PhotoFacts(1, "finding:7", "reshoot", at(0))
    # Sent back, nothing new yet: still waiting.
    assert rules.awaiting_reshoot([bad], sent_back_at) == [1]
    # An older photo of the same finding does not count, nor a new one of something else.
    older = PhotoFacts(2, "finding:7", "accepted", at(-5))
    elsewhere = PhotoFacts(3, "general", "pending", at(20))
    assert rules.awaiting_reshoot([bad, older, elsewhere], sent_back_at) == [1]
    # A new photo of the same finding after the send-back settles it ...
    new = PhotoFacts(4, "finding:7", "pending", at(20))
    assert rules.awaiting_reshoot([bad, new], sent_back_at) == []
    # ... unless the office asks for that one to be re-shot too.
    new_bad = PhotoFacts(4, "finding:7", "reshoot", at(20))
    assert rules.awaiting_reshoot([bad, new_bad], sent_back_at) == [1, 4]
    # Before the first send-back, nothing can have been re-shot.
    assert rules.awaiting_reshoot([bad, new], None) == [1]


def test_photo_targets():
    assert rules.photo_target(None, None) == "general"
    assert rules.photo_target(3, None) == "guard:3"
    assert rules.photo_target(3, 9) == "finding:9"


def test_integrity_check_of_one_object():
    data = b"original bytes"
    good = integrity.digest(data)
    assert integrity.check_bytes(1, "photos/a.jpg", good, data) is None
    p = integrity.check_bytes(1, "photos/a.jpg", good, b"changed bytes")
    assert p.kind == integrity.MISMATCH and p.actual == integrity.digest(b"changed bytes")
    assert "MISMATCH photo 1" in p.describe() and good in p.describe()
    p = integrity.check_bytes(2, "photos/b.jpg", good, None)
    assert p.kind == integrity.MISSING and "MISSING  photo 2" in p.describe()


def test_storage_compare():
    referenced = {"photos/a.jpg": ("photo", 1, "object_key"), "thumbs/a.jpg": ("photo", 1, "thumb_key")}
    missing, orphans = integrity.compare(referenced, {"photos/a.jpg", "photos/stray.jpg"})
    assert [(m.table, m.row_id, m.column, m.key) for m in missing] == [("photo", 1, "thumb_key", "thumbs/a.jpg")]
    assert orphans == ["photos/stray.jpg"]


def test_history_changes_list_only_what_changed():
    assert changes({"status": "submitted", "text": "a"}, {"status": "confirmed", "text": "a"}) == [
        ("status", "submitted", "confirmed")]
    assert changes(None, {"name": "x"}) == [("name", None, "x")]
    assert changes({"name": "x"}, None) == [("name", "x", None)]
