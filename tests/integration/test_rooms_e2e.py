"""Meeting rooms are resources: two meetings at one hour get two rooms, a meeting gets
a room that seats its attendees, and when no room is free the meeting moves — or is
held online, when the rules allow it."""

from __future__ import annotations

import icalendar
import pytest

from collabd.config import Config
from helpers import Harness, calendar_part, edit_rules, message

pytestmark = pytest.mark.integration


def _urgent(sender: str, dept: str, receiver_dept: str, n: int) -> bytes:
    name = sender.split(" <")[0]
    return message(
        sender=sender, subject=f"跨部门沟通需求表：第{n}号", message_id=f"<room-{n}@example.com>",
        body=(f"发起部门：{dept}\n发起人：{name}\n接收部门：{receiver_dept}\n"
              "需求类型：■项目推进\n需求背景与目标：季度复盘需要统一的数据口径。\n"
              f"具体需求内容：开发销售数据看板第{n}期。\n期望完成时间：2026年12月20日\n"
              "紧急程度：紧急\n交付标准：看板上线并通过验收。\n"))


# Two requests whose review meetings share no attendee: both fit the same first slot.
FIRST = ("陈晨 <chen.chen@example.com>", "市场部", "财务部")
SECOND = ("周杰 <zhou.jie@example.com>", "研发部", "运营部")


def _invites(h: Harness) -> list[icalendar.Event]:
    """The review meetings' events, as their invitations carry them (one per meeting)."""
    sent = h.at("2026-12-01 10:05", _urgent(*FIRST, 1), _urgent(*SECOND, 2))
    sent += h.at("2026-12-01 10:06")
    events: list[icalendar.Event] = []
    for mail in sent:
        if not any(p.get_content_type() == "text/calendar" for p in mail.walk()):
            continue
        event = icalendar.Calendar.from_ical(calendar_part(mail)).walk("VEVENT")[0]
        if all(str(e["UID"]) != str(event["UID"]) for e in events):
            events.append(event)
    return sorted(events, key=lambda e: str(e["SUMMARY"]))


def test_two_meetings_at_one_hour_get_two_rooms(deployment: Config) -> None:
    h = Harness(deployment, "2026-12-01 10:00")
    try:
        events = _invites(h)
        assert len(events) == 2
        assert events[0]["DTSTART"].dt == events[1]["DTSTART"].dt  # the same hour …
        rooms = [str(e["LOCATION"]).split("；")[0] for e in events]
        assert rooms == ["总部3楼第一会议室", "总部3楼第二会议室"]  # … two rooms
        meetings = [r for r in h.daemon.store.values("records") if r.get("kind") == "meeting"]
        assert sorted(m["room"] for m in meetings) == sorted(rooms)
    finally:
        h.close()


def test_with_every_room_taken_a_meeting_moves_or_goes_online_as_the_rules_say(
        deployment: Config) -> None:
    # One room seats the attendees of a review; the others seat one person.
    edit_rules(deployment, "meetings.yaml",
               ("    capacity: 6\n", "    capacity: 1\n"),
               ("    capacity: 20", "    capacity: 1"))
    h = Harness(deployment, "2026-12-01 10:00")
    try:
        first, second = _invites(h)
        assert str(first["LOCATION"]).startswith("总部3楼第一会议室")
        assert str(second["LOCATION"]).startswith("总部3楼第一会议室")
        # Never the same room at the same time: the second meeting waits for the room.
        assert second["DTSTART"].dt >= first["DTEND"].dt
    finally:
        h.close()


def test_online_only_when_the_rules_allow_it(deployment: Config) -> None:
    edit_rules(deployment, "meetings.yaml",
               ("    capacity: 6\n", "    capacity: 1\n"),
               ("    capacity: 20", "    capacity: 1"),
               ("    online_only: false", "    online_only: true"))
    h = Harness(deployment, "2026-12-01 10:00")
    try:
        first, second = _invites(h)
        assert first["DTSTART"].dt == second["DTSTART"].dt
        assert str(first["LOCATION"]).startswith("总部3楼第一会议室")
        assert str(second["LOCATION"]) == "线上：https://meeting.example.com/review"
    finally:
        h.close()
