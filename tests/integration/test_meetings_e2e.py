"""Meetings and minutes end to end on the local backend, the clock driven forward:
request → review invite → RSVPs → minutes requested → distributed → two confirm, one
silent → reminder → escalation → late confirm → signed off; and a 不确认 round."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest

from collabd.config import Config
from helpers import (
    DATA,
    Harness,
    body_text,
    calendar_part,
    calendar_reply,
    no_lunch_break,
    reply_to,
    subjects,
)

pytestmark = pytest.mark.integration

REQUESTER = "何芳 <he.fang@example.com>"  # 运营部; owns the minutes of the review meeting
MEETING = "HY-2026-0001"
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def h(deployment: Config) -> Iterator[Harness]:
    no_lunch_break(deployment)
    meetings = deployment.rules_dir / "meetings.yaml"
    meetings.write_text(meetings.read_text(encoding="utf-8").replace(
        "invite_heads: false", "invite_heads: true"), encoding="utf-8")
    h = Harness(deployment, "2026-12-01 10:00")
    yield h
    h.close()


def rsvp(h: Harness, fixture: str, who: str, name: str, partstat: str, subject: str,
         **kw: Any) -> bytes:
    return calendar_reply(h.first("会议邀请"), fixture=fixture, attendee=who, name=name,
                          partstat=partstat, subject=subject, **kw)


def meeting_with_minutes(h: Harness) -> None:
    """紧急 request, review meeting, RSVPs, 周杰 added, meeting held, minutes sent."""
    sent = h.at("2026-12-01 10:05", (DATA / "qqmail_numbered_request.eml").read_bytes())
    invite = h.sent("会议邀请")
    assert "[HY-2026-0001] 会议邀请：需求评审会：双十二活动预算（2026年12月2日（周三）09:30）" in (
        subjects(sent))
    # 紧急 → a review meeting, 8 working hours later, on a slot boundary, with the heads.
    ics = calendar_part(invite).decode()
    assert "METHOD:REQUEST" in ics and "DTSTART;TZID=Asia/Shanghai:20261202T093000" in ics
    assert sorted(a["address"] for a in h.record(MEETING)["attendees"]) == [
        "he.fang@example.com", "huang.lei@example.com", "wu.min@example.com",
        "zheng.hao@example.com"]
    sent = h.at("2026-12-01 11:00",
                rsvp(h, "exchange_owa_reply_accepted_de.eml", "zheng.hao@example.com",
                     "郑浩", "ACCEPTED", "已接受: 需求评审会：双十二活动预算"),
                rsvp(h, "apple_ical_reply_accepted.eml", "huang.lei@example.com", "黄磊",
                     "ACCEPTED", "Event accepted: 需求评审会"),
                rsvp(h, "exchange_owa_reply_declined_comment_de.eml", "wu.min@example.com",
                     "吴敏", "DECLINED", "拒绝: 需求评审会", comment="当天出差"))
    # A required attendee declined: the organizer (the requester) is told.
    assert subjects(sent) == ["[HY-2026-0001] 吴敏 拒绝了会议邀请：需求评审会：双十二活动预算"]
    assert "当天出差" in body_text(sent[0]) and "he.fang@example.com" in sent[0]["To"]
    partstats = {a["address"]: a["partstat"] for a in h.record(MEETING)["attendees"]}
    assert partstats["zheng.hao@example.com"] == "ACCEPTED"
    assert partstats["wu.min@example.com"] == "DECLINED"
    # The organizer adds an attendee by replying; only the new attendee gets the invite.
    sent = h.at("2026-12-01 11:30", reply_to(invite, sender=REQUESTER, text="增加参会人：周杰"))
    assert len(sent) == 1 and "zhou.jie@example.com" in sent[0]["To"]
    assert "SEQUENCE:0" in calendar_part(sent[0]).decode()
    # Nothing happens before the meeting ends; afterwards the minutes are asked for.
    assert h.at("2026-12-02 10:00") == []
    sent = h.at("2026-12-02 10:30")  # the tick at the minute the meeting ends
    assert subjects(sent) == [
        "[HY-2026-0001] 请于2026年12月3日（周四）10:30前提交会议纪要：需求评审会：双十二活动预算"]
    assert str(sent[0]["To"]) == "何芳 <he.fang@example.com>"
    sent = h.at("2026-12-02 14:00", reply_to(sent[0], sender=REQUESTER, text=(
        "会议纪要：\n1. 财务部本周完成预审。\n"
        "待办：完成50万预算预审 负责人：郑浩 截止：2026-12-08\n"
        "待办：开通紧急报销通道 负责人：周杰 截止：2026-12-09")))
    # Each signer gets the minutes in a message of their own; 吴敏 declined, 何芳 wrote them.
    assert sorted(str(m["To"]) for m in sent) == [
        "周杰 <zhou.jie@example.com>", "郑浩 <zheng.hao@example.com>",
        "黄磊 <huang.lei@example.com>"]
    assert all(m["Cc"] is None and "24小时内" in body_text(m) for m in sent)
    assert "开通紧急报销通道" in body_text(sent[0])


def test_minutes_confirmed_with_a_silent_attendee_chased_and_escalated(h: Harness) -> None:
    meeting_with_minutes(h)
    for who, name in (("zheng.hao@example.com", "郑浩"), ("huang.lei@example.com", "黄磊")):
        assert h.at("2026-12-02 15:00", reply_to(h.sent("请确认会议纪要", to=who),
                                                 sender=f"{name} <{who}>", text="确认")) == []
    assert h.record(MEETING)["status"] == "minutes_distributed"
    # 周杰 is silent: 4 h before the 24 h limit a reminder, at the limit an overdue notice
    # (to him alone; the organizer is told in a message of her own), one workday after
    # it his head (研发部 赵强) and the secretary.
    assert h.at("2026-12-03 09:59") == []
    reminder = h.at("2026-12-03 10:00")
    assert subjects(reminder) == [
        "[HY-2026-0001] 提醒：请于2026年12月3日（周四）14:00前确认会议纪要"]
    assert str(reminder[0]["To"]) == "周杰 <zhou.jie@example.com>"
    # What he is asked to confirm travels with the ask, and so does what to reply to.
    assert "待确认的会议纪要（第1轮）" in body_text(reminder[0])
    assert "开通紧急报销通道" in body_text(reminder[0])
    assert "直接回复本邮件" in body_text(reminder[0])
    assert h.at("2026-12-03 10:01") == []  # never twice for the same step
    overdue = h.at("2026-12-03 14:00")
    assert [str(m["To"]) for m in overdue] == ["周杰 <zhou.jie@example.com>",
                                               "何芳 <he.fang@example.com>"]
    assert [m["Cc"] for m in overdue] == [None, None]  # an ask is never copied to anyone
    # The organizer answering her copy does not sign for him.
    assert subjects(h.at("2026-12-03 14:30", reply_to(
        overdue[1], sender="何芳 <he.fang@example.com>", text="确认"))) == []
    assert not any(s["by"] == "zhou.jie@example.com" for s in h.record(MEETING)["signoffs"])
    assert h.at("2026-12-05 10:00") == []  # Saturday: nothing goes out
    escalated = [m for m in h.at("2026-12-07 09:00") if m["X-Collabd-Record"] == MEETING]
    assert subjects(escalated) == [
        "[HY-2026-0001] 【升级】参会人未在24小时内确认会议纪要：需求评审会：双十二活动预算"]
    assert str(escalated[0]["To"]) == "赵强 <zhao.qiang@example.com>"
    assert "li.jing@example.com" in str(escalated[0]["Cc"])
    # He confirms late, by answering the reminder (it asked him, like the first message).
    sent = h.at("2026-12-07 10:00", reply_to(reminder[0], sender="周杰 <zhou.jie@example.com>",
                                            text="确认，抱歉回复晚了"))
    assert "[HY-2026-0001] 会议纪要已全员确认：需求评审会：双十二活动预算" in subjects(sent)
    meeting = h.record(MEETING)
    assert meeting["status"] == "closed"
    assert sorted(s["by"] for s in meeting["signoffs"]) == [
        "huang.lei@example.com", "zheng.hao@example.com", "zhou.jie@example.com"]
    # The action items became tracked tasks, each owner told in a message of their own.
    assigned = [m for m in sent if "新的待办事项" in str(m["Subject"])]
    assert sorted(str(m["To"]) for m in assigned) == [
        "周杰 <zhou.jie@example.com>", "郑浩 <zheng.hao@example.com>"]
    task = h.record("RW-2026-0001")
    assert task["owner"]["address"] == "zheng.hao@example.com"
    assert task["due_date"] == "2026-12-08"
    whats = h.whats(MEETING)
    assert whats.count("rule fired") == 3


def test_a_round_with_a_reject_goes_back_to_the_organizer(h: Harness) -> None:
    meeting_with_minutes(h)
    sent = h.at("2026-12-02 15:00", reply_to(
        h.sent("请确认会议纪要", to="zheng.hao@example.com"),
        sender="郑浩 <zheng.hao@example.com>", text="不确认：预审金额应为45万，不是50万。"))
    assert subjects(sent) == [
        "[HY-2026-0001] 会议纪要未获确认，请修改后重新提交：需求评审会：双十二活动预算"]
    assert "预审金额应为45万" in body_text(sent[0])
    assert h.record(MEETING)["status"] == "minutes_revision"
    # A confirm on the rejected round no longer counts for anything.
    h.at("2026-12-02 15:10", reply_to(h.sent("请确认会议纪要", to="huang.lei@example.com"),
                                      sender="黄磊 <huang.lei@example.com>", text="确认"))
    assert h.record(MEETING)["status"] == "minutes_revision"
    sent = h.at("2026-12-02 16:00", reply_to(sent[0], sender=REQUESTER, text=(
        "修订版会议纪要：\n1. 财务部本周完成预审，金额45万。\n"
        "待办：完成45万预算预审 负责人：郑浩 截止：2026-12-08")))
    assert len(sent) == 3 and all("修订第2版" in str(m["Subject"]) for m in sent)
    for m in sent:
        h.at("2026-12-02 17:00", reply_to(m, sender=str(m["To"]), text="确认"))
    meeting = h.record(MEETING)
    assert meeting["status"] == "closed"
    assert [r["status"] for r in meeting["minutes"]["rounds"]] == ["rejected", "signed_off"]


def test_calendar_replies_that_must_not_count(h: Harness) -> None:
    h.at("2026-12-01 10:05", (DATA / "qqmail_numbered_request.eml").read_bytes())
    before = {a["address"]: a["partstat"] for a in h.record(MEETING)["attendees"]}
    h.at("2026-12-01 11:00",
         # Not an invitee.
         rsvp(h, "exchange_owa_reply_accepted_de.eml", "chen.chen@example.com", "陈晨",
              "ACCEPTED", "已接受: x"),
         # An invitee's answer sent by someone else.
         rsvp(h, "exchange_owa_reply_accepted_de.eml", "zheng.hao@example.com", "郑浩",
              "DECLINED", "拒绝: x", sender="liu.yang@example.com"))
    after = {a["address"]: a["partstat"] for a in h.record(MEETING)["attendees"]}
    assert after == before
    reasons = [a.get("reason") for a in h.record(MEETING)["audit"]
               if a["what"] == "calendar reply ignored"]
    assert reasons == ["not an invitee", "sender is not the attendee"]


def test_delegation_counter_reschedule_and_cancel(h: Harness) -> None:
    h.at("2026-12-01 10:05", (DATA / "qqmail_numbered_request.eml").read_bytes())
    invite = h.sent("会议邀请")
    sent = h.at("2026-12-01 11:00", rsvp(
        h, "exchange_owa_reply_accepted_de.eml", "zheng.hao@example.com", "郑浩",
        "DELEGATED", "已委派: x", delegated_to="zhou.jie@example.com"))
    # The delegate is added and gets the current version of the invite.
    assert [str(m["To"]) for m in sent] == ["周杰 <zhou.jie@example.com>"]
    # A counter-proposal is recorded and the organizer told.
    def counter(cal: icalendar.Calendar) -> None:
        cal["METHOD"] = "COUNTER"
        event = next(iter(cal.walk("VEVENT")))
        event["DTSTART"] = icalendar.vDDDTypes(dt.datetime(2026, 12, 3, 14, 0, tzinfo=SHANGHAI))

    proposal = rsvp(h, "exchange_owa_reply_accepted_de.eml", "huang.lei@example.com", "黄磊",
                    "ACCEPTED", "新时间建议: x", mutate=counter)
    sent = h.at("2026-12-01 11:10", proposal)
    assert subjects(sent) == [
        "[HY-2026-0001] 黄磊 建议了新的会议时间：需求评审会：双十二活动预算"]
    assert "2026年12月3日（周四）14:00" in body_text(sent[0])
    # The organizer moves it: same UID, SEQUENCE 1, everyone asked again.
    sent = h.at("2026-12-01 11:30", reply_to(sent[0], sender=REQUESTER,
                                            text="改期：2026-12-03 14:00"))
    assert len(sent) == 1 and "会议时间更新" in str(sent[0]["Subject"])
    update = calendar_part(sent[0]).decode()
    uid = next(line for line in calendar_part(invite).decode().splitlines()
               if line.startswith("UID:"))
    assert uid in update and "SEQUENCE:1" in update
    assert "DTSTART;TZID=Asia/Shanghai:20261203T140000" in update
    # A reply to the old sequence no longer changes anything.
    h.at("2026-12-01 11:40", calendar_reply(invite, fixture="exchange_owa_reply_accepted_de.eml",
                                            attendee="huang.lei@example.com", name="黄磊",
                                            partstat="DECLINED", subject="拒绝: x"))
    assert {a["address"]: a["partstat"] for a in h.record(MEETING)["attendees"]}[
        "huang.lei@example.com"] == "NEEDS-ACTION"
    sent = h.at("2026-12-01 12:00",
                reply_to(sent[0], sender=REQUESTER, text="取消会议，改为线上沟通"))
    cancel = calendar_part(sent[0]).decode()
    assert "METHOD:CANCEL" in cancel and "STATUS:CANCELLED" in cancel and "SEQUENCE:2" in cancel
    assert h.record(MEETING)["status"] == "cancelled"
    # A cancelled meeting asks nobody for minutes after its time has passed.
    assert all(m["X-Collabd-Record"] != MEETING for m in h.at("2026-12-03 16:00"))
    assert h.record(MEETING)["status"] == "cancelled"


def test_a_forged_organizer_neither_cancels_nor_sends_minutes(h: Harness) -> None:
    h.at("2026-12-01 10:05", (DATA / "qqmail_numbered_request.eml").read_bytes())
    invite = h.sent("会议邀请")
    forged = reply_to(invite, sender="x <placeholder@example.org>", text="取消会议")
    forged = forged.replace(b"From: x <placeholder@example.org>",
                            ("From: " + REQUESTER + ", 助理 <assistant@evil.example>").encode(), 1)
    sent = h.at("2026-12-01 11:00", forged)
    assert h.record(MEETING)["status"] == "scheduled"  # not cancelled
    assert "command not counted" in h.whats(MEETING)
    assert any("没有执行" in body_text(m) for m in sent)
