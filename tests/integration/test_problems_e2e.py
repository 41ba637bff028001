"""Problem reports close the loop: answers reach the reporter, the secretary grades,
重要 gets a 协调会 and 重大 the leader's 专题会议, and closure reaches everyone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import icalendar
import pytest

from collabd.config import Config
from helpers import (
    DATA,
    Harness,
    at,
    body_text,
    calendar_part,
    collabd,
    message,
    reply_to,
)

pytestmark = pytest.mark.integration

PROBLEM = "WT-2026-0001"
REPORTER = "陈晨 <chen.chen@example.com>"
SECRETARY = "李静 <li.jing@example.com>"


@pytest.fixture
def h(deployment: Config) -> Iterator[Harness]:
    harness = Harness(deployment, "2026-12-03 09:00")
    yield harness
    harness.close()


def _report(severity: str) -> bytes:
    return message(sender=REPORTER, subject="问题反馈单：报表口径不一致",
                   message_id=f"<problem-{len(severity)}{ord(severity[-1])}@example.com>", body=(
                       "问题标题：报表口径不一致\n涉及部门：财务部\n"
                       "问题描述：市场部与财务部的月度销售额相差 3%。\n影响范围：月度复盘。\n"
                       f"严重程度：{severity}\n"))


def _invite(sent: list) -> icalendar.Event:  # type: ignore[type-arg]
    mail = next(m for m in sent if any(p.get_content_type() == "text/calendar"
                                       for p in m.walk()))
    return icalendar.Calendar.from_ical(calendar_part(mail)).walk("VEVENT")[0]


def test_answers_reach_the_reporter_and_the_reporters_confirmation_closes(
        h: Harness) -> None:
    h.at("2026-12-03 10:00", _report("一般"))
    notify = h.sent("报表口径不一致", to="zheng.hao@example.com")
    # The other side answers: the reporter hears it, nobody chases the one who answered.
    sent = h.at("2026-12-03 15:00", reply_to(notify, sender="郑浩 <zheng.hao@example.com>",
                                             text="已核对，差异来自退款口径，今天内更正。"))
    [update] = [m for m in sent if "问题处理进展" in str(m["Subject"])]
    assert str(update["To"]) == REPORTER and "退款口径" in body_text(update)
    assert "直接回复本邮件“确认”" in body_text(update)
    assert h.record(PROBLEM)["status"] == "in_progress"
    assert not [m for m in h.at("2026-12-07 10:00") if "已逾期" in str(m["Subject"])]
    # The reporter asks something: it reaches the one who answered.
    sent = h.at("2026-12-07 11:00", reply_to(update, sender=REPORTER,
                                             text="11月的报表也需要更正吗？"))
    [back] = [m for m in sent if "问题处理进展" in str(m["Subject"])]
    assert "zheng.hao@example.com" in str(back["To"]) and "11月" in body_text(back)
    # 确认 closes it; everyone who was told of it hears so.
    sent = h.at("2026-12-07 14:00", reply_to(update, sender=REPORTER, text="确认，已解决"))
    [closed] = [m for m in sent if "问题已关闭" in str(m["Subject"])]
    assert "chen.chen@example.com" in str(closed["To"])
    assert "zheng.hao@example.com" in str(closed["To"])
    assert h.record(PROBLEM)["status"] == "closed"


def test_a_problem_the_secretary_grades_important_gets_a_coordination_meeting(
        h: Harness) -> None:
    h.at("2026-12-03 10:00", _report("一般"))
    notify = h.sent("报表口径不一致", to="zheng.hao@example.com")
    sent = h.at("2026-12-03 11:00", reply_to(notify, sender=SECRETARY, text="分级：重要"))
    graded = [m for m in sent if "定级为重要" in str(m["Subject"])]
    assert graded and "协调会" in body_text(graded[0])
    record = h.record(PROBLEM)
    assert record["severity"] == "重要" and record["graded_by"]["address"] == "li.jing@example.com"
    event = _invite(sent)
    start = event["DTSTART"].dt
    # Within the 3 working days the rules give, in a room, organised by the secretary,
    # with both departments' liaisons and the reporter.
    assert at("2026-12-03 11:00") < start <= at("2026-12-08 18:00")
    assert str(event["LOCATION"]).startswith("总部3楼")
    attendees = {str(a).lower().removeprefix("mailto:") for a in event.get("ATTENDEE")}
    assert {"zheng.hao@example.com", "liu.yang@example.com", "chen.chen@example.com"} <= attendees
    meeting = h.record(record["meeting"])
    assert meeting["meeting_kind"] == "coordination" and meeting["parent"] == PROBLEM
    assert meeting["organizer"]["address"] == "li.jing@example.com"
    # The minutes are asked of the secretary after it.
    end = dt.datetime.fromisoformat(meeting["end"])
    asked = h.at(end.strftime("%Y-%m-%d %H:%M"))
    assert [str(m["To"]) for m in asked if "提交会议纪要" in str(m["Subject"])] == [SECRETARY]
    # Minutes she does not send are escalated above her: the secretary has no
    # department head, the 组长 is hers.
    due = dt.datetime.fromisoformat(h.record(meeting["id"])["minutes"]["due"])
    later = [h.at((due + dt.timedelta(days=d)).strftime("%Y-%m-%d 10:00")) for d in (1, 3, 4, 5)]
    escalated = [m for batch in later for m in batch if "wang.jianguo" in str(m["To"])
                 and meeting["id"] in str(m["Subject"])]
    assert escalated, [str(m["Subject"]) for batch in later for m in batch]


def test_a_major_problem_gets_the_leaders_special_meeting(h: Harness) -> None:
    sent = h.at("2026-12-03 10:00", _report("重大"))
    event = _invite(sent)
    meeting = h.record(h.record(PROBLEM)["meeting"])
    assert meeting["organizer"]["address"] == "wang.jianguo@example.com"  # holds it
    assert meeting["meeting_kind"] == "special"
    assert str(event["SUMMARY"]).startswith("问题专题会议")
    assert at("2026-12-03 10:00") < event["DTSTART"].dt <= at("2026-12-04 18:00")


def test_the_secretary_closes_a_problem_and_everyone_told_hears(h: Harness) -> None:
    h.at("2026-12-03 10:00", _report("重大"))
    report_to_leader = h.sent("重大问题上报")
    sent = h.at("2026-12-03 11:00", reply_to(report_to_leader, sender=SECRETARY,
                                             text="关闭：重复提交，已并入 WT-2026-0002"))
    [closed] = [m for m in sent if "问题已关闭" in str(m["Subject"])]
    assert "由执行秘书" in body_text(closed) and "重复提交" in body_text(closed)
    told = str(closed["To"])
    for address in ("chen.chen@example.com", "wang.jianguo@example.com",
                    "zheng.hao@example.com"):
        assert address in told, address
    # Its meeting, not begun, is called off.
    assert any("会议取消" in str(m["Subject"]) or "取消" in str(m["Subject"]) for m in sent)


def test_a_problem_linked_to_a_request_shows_on_it(h: Harness) -> None:
    h.at("2026-12-03 09:30", (DATA / "qqmail_numbered_request.eml").read_bytes())
    h.at("2026-12-03 10:00", message(
        sender=REPORTER, subject="问题反馈单：预算口径", message_id="<linked@example.com>",
        body="问题标题：预算口径\n关联需求编号：XQ-2026-0001\n问题描述：预算口径不一致。\n"
             "严重程度：一般\n"))
    shown = collabd("show", "XQ-2026-0001", config=h.config).stdout.decode()
    assert "关联问题：WT-2026-0001" in shown


@pytest.mark.parametrize("sender", [
    "李静 <li.jing@example.com>, 助理 <assistant@evil.example>",  # two From addresses
])
def test_a_forged_secretary_neither_grades_nor_closes(h: Harness, sender: str) -> None:
    h.at("2026-12-03 10:00", _report("一般"))
    notice = h.sent("报表口径不一致", to="zheng.hao@example.com")
    raw = reply_to(notice, sender="x <placeholder@example.org>", text="关闭：已处理")
    raw = raw.replace(b"From: x <placeholder@example.org>", b"From: " + sender.encode(), 1)
    sent = h.at("2026-12-03 11:00", raw)
    record = h.record(PROBLEM)
    assert record["status"] != "closed"
    assert "command not counted" in [a["what"] for a in record["audit"]]
    # The real secretary hears that a command in her name was not carried out.
    [told] = [m for m in sent if "li.jing@example.com" in str(m["To"])]
    assert "没有执行" in body_text(told)
    # A command that is no reply to the problem's mail (only its number in the
    # subject) is not carried out either.
    h.at("2026-12-03 12:00", message(sender=SECRETARY, subject="[WT-2026-0001] 分级",
                                     message_id="<grade-new@example.com>", body="分级：重大"))
    assert h.record(PROBLEM)["severity"] == "一般"
