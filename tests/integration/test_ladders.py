"""Each step of an escalation ladder fires exactly once, at the first working minute at
or after its moment; `rules simulate` says beforehand exactly what `run` then does."""

from __future__ import annotations

import json

import pytest

from helpers import DATA, Harness, collabd, subjects

pytestmark = pytest.mark.integration

REQUEST = "XQ-2026-0001"



def fired(h: Harness) -> list[tuple[str, list[str]]]:
    return [(a["rule"], a["to"]) for a in h.record(REQUEST)["audit"]
            if a["what"] == "rule fired"]


def test_receiver_response_ladder_step_by_step(h: Harness) -> None:
    # 紧急 request on Tuesday 10:00: the receiver (财务部 郑浩) must respond within 3
    # workdays, by Friday 4 Dec 18:00.
    h.at("2026-12-01 10:05", (DATA / "qqmail_numbered_request.eml").read_bytes())
    assert h.record(REQUEST)["response_due"] == "2026-12-04T18:00:00+08:00"
    # Step 0, "1 workday before": Thursday 18:00, which is closing time, so the first
    # working minute after it: Friday 09:00. Not a minute earlier.
    assert h.at("2026-12-03 17:59") == []
    assert h.at("2026-12-03 18:00") == []
    assert h.at("2026-12-04 08:59") == []
    sent = h.at("2026-12-04 09:00")
    assert subjects(sent) == [
        "[XQ-2026-0001] 提醒：请于2026年12月4日（周五）18:00前响应需求"]
    assert str(sent[0]["To"]) == "郑浩 <zheng.hao@example.com>"
    # (Friday 16:00 brings the weekly ledgers, which are not about this request.)
    assert h.at("2026-12-04 09:01") == [] and [
        m for m in h.at("2026-12-04 17:59") if "进度台账" not in str(m["Subject"])] == []
    # Step 1, "at deadline" (Friday 18:00): Monday 09:00, head of 财务部 (吴敏) in CC.
    assert h.at("2026-12-05 10:00") == [] and h.at("2026-12-06 10:00") == []
    sent = h.at("2026-12-07 09:00")
    assert subjects(sent) == [
        "[XQ-2026-0001] 已逾期：接收方未在时限内响应需求（期限 2026年12月4日（周五）18:00）"]
    assert str(sent[0]["Cc"]) == "吴敏 <wu.min@example.com>"
    assert h.record(REQUEST)["escalation"] == "overdue"
    # Step 2, "1 workday after": Monday 18:00 → Tuesday 09:00, to the receiving head.
    assert h.at("2026-12-07 17:59") == []
    sent = h.at("2026-12-08 09:00")
    assert [str(m["To"]) for m in sent] == ["吴敏 <wu.min@example.com>"]
    assert "li.jing@example.com" in str(sent[0]["Cc"])
    # Step 3, "2 workdays after": Tuesday 18:00 → Wednesday 09:00, to the leader.
    sent = h.at("2026-12-09 09:00")
    assert [str(m["To"]) for m in sent] == ["王建国 <wang.jianguo@example.com>"]
    assert h.record(REQUEST)["escalation"] == "escalated"
    # Every step once, in order, and then silence from this ladder (the deliverable's
    # own ladder, due 10 Dec, starts on its own).
    h.at("2026-12-10 10:00")
    h.at("2026-12-14 10:00")
    assert [rule for rule, _ in fired(h) if rule.startswith("receiver_response")] == [
        f"receiver_response[{i}]" for i in range(4)]


def test_the_ladder_stops_when_the_receiver_responds(h: Harness) -> None:
    from helpers import reply_to

    h.at("2026-12-01 10:05", (DATA / "qqmail_numbered_request.eml").read_bytes())
    h.at("2026-12-04 09:00")  # the reminder
    notify = h.sent("新的跨部门需求")
    h.at("2026-12-04 10:00", reply_to(notify, sender="郑浩 <zheng.hao@example.com>",
                                      text="收到，已安排专人处理。"))
    assert h.at("2026-12-07 09:00") == []
    assert [rule for rule, _ in fired(h)] == ["receiver_response[0]"]


def test_simulate_says_exactly_what_run_then_does(h: Harness) -> None:
    h.at("2026-12-01 10:05", (DATA / "qqmail_numbered_request.eml").read_bytes())
    h.daemon.close()  # simulate and run are operator commands: the daemon is stopped
    config = h.config
    for moment in ("2026-12-04T09:00", "2026-12-07T09:00", "2026-12-09T09:00"):
        predicted = json.loads(collabd("rules", "simulate", "--at", moment, "--json",
                                       config=config).stdout)
        before = {a["rule"] for a in h.record_from_disk(REQUEST)["audit"]
                  if a["what"] == "rule fired"}
        collabd("run", "--once", "--now", moment, config=config)
        after = [a for a in h.record_from_disk(REQUEST)["audit"]
                 if a["what"] == "rule fired" and a["rule"] not in before]
        assert [(a["rule"], a["to"]) for a in predicted["actions"]
                if a["what"] == "rule fired"] == [(a["rule"], a["to"]) for a in after]
        sent_now = [m for m in h.sent_since_last()]
        assert [m["subject"] for m in predicted["messages"]] == subjects(sent_now)
        # And running again at the same moment sends nothing.
        collabd("run", "--once", "--now", moment, config=config)
        assert h.sent_since_last() == []


def test_answering_the_reminder_is_a_response_as_the_reminder_says(h: Harness) -> None:
    from helpers import body_text, reply_to

    h.at("2026-12-01 10:05", (DATA / "qqmail_numbered_request.eml").read_bytes())
    [reminder] = h.at("2026-12-04 09:00")
    assert "请直接回复本邮件" in body_text(reminder)
    h.at("2026-12-04 10:00", reply_to(reminder, sender="郑浩 <zheng.hao@example.com>",
                                      text="收到，已安排专人处理。"))
    assert h.record(REQUEST)["status"] == "in_progress"
    assert h.at("2026-12-07 09:00") == []  # nothing overdue: it was answered


def test_everyone_escalated_to_hears_when_the_matter_is_answered(h: Harness) -> None:
    from helpers import body_text, reply_to

    h.at("2026-12-01 10:05", (DATA / "qqmail_numbered_request.eml").read_bytes())
    h.at("2026-12-04 09:00")  # the reminder
    h.at("2026-12-07 09:00")  # overdue: the head (吴敏) in CC
    h.at("2026-12-08 09:00")  # escalated to the head, the secretary (李静) in CC
    assert h.record(REQUEST)["escalation"] == "overdue"
    notify = h.sent("新的跨部门需求")
    sent = h.at("2026-12-08 10:00", reply_to(notify, sender="郑浩 <zheng.hao@example.com>",
                                             text="收到，已安排专人处理。"))
    settled = [m for m in sent if "已处理" in str(m["Subject"])]
    assert len(settled) == 1
    assert sorted(a.strip() for a in str(settled[0]["To"]).split(",")) == [
        "吴敏 <wu.min@example.com>", "李静 <li.jing@example.com>"]
    assert "无需您再跟进" in body_text(settled[0])
    assert h.record(REQUEST)["escalation"] is None
    # Once: later changes to the request tell them nothing more.
    assert not [m for m in h.at("2026-12-09 10:00") if "已处理" in str(m["Subject"])]
