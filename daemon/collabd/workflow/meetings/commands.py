"""The organizer's commands on a meeting thread: 改期, 取消会议, 增加参会人."""

from __future__ import annotations

import datetime as dt
import re

from collabd.inbound.classify import Event
from collabd.inbound.values import parse_date
from collabd.model import Meeting
from collabd.workflow.context import Context
from collabd.workflow.meetings.create import add_attendee, cancel, reschedule
from collabd.workflow.outcome import Outcome, audit

# -- the organizer's commands on a meeting thread -------------------------------------------

_RESCHEDULE = re.compile(r"^\s*(?:改期|改到|调整到|改为)\s*[:：]?\s*(?P<when>.+)$")


_CANCEL = re.compile(r"^\s*(?:取消会议|会议取消|取消)\s*[。.!！]?\s*(?P<reason>.*)$")


_ADD = re.compile(r"^\s*(?:增加参会人|添加参会人|加上|邀请)\s*[:：]\s*(?P<who>.+)$")


_TIME = re.compile(r"(\d{1,2})\s*[:：点时]\s*(\d{1,2})?")


def organizer_command(meeting: Meeting, event: Event, ctx: Context, out: Outcome) -> bool:
    text = (event.new_text or "").strip()
    first = text.splitlines()[0] if text else ""
    by = event.message.sender
    found = _RESCHEDULE.match(first)
    if meeting.get("meeting_kind") == "series" and (found or _CANCEL.match(first)):
        from collabd.workflow.meetings.series import occurrence_command

        return occurrence_command(meeting, first, ctx, out, by=by)
    if found:
        today = ctx.now.astimezone(ctx.rules.calendar.tz).date()
        day, problem = parse_date(found.group("when"), today)
        hour = _TIME.search(found.group("when").split(" ", 1)[-1] if day else "")
        if day is None or hour is None:
            audit(meeting, ctx.now, "command not understood", by=by, text=first,
                  reason=problem or ("改期需要写明日期和时间，如 改期："
                                     f"{today + dt.timedelta(days=7):%Y-%m-%d} 15:00"))
            return True
        start = dt.datetime(day.year, day.month, day.day, int(hour.group(1)),
                            int(hour.group(2) or 0), tzinfo=ctx.rules.calendar.tz)
        reschedule(meeting, ctx, out, start, by=by)
        return True
    found = _CANCEL.match(first)
    if found and meeting.get("meeting_kind") == "kickoff":
        # A project starts from its 启动会 (its memo follows the minutes): moved, not
        # called off.
        reason = "项目需要先召开启动会，启动会不能取消；如需调整时间，请回复“改期：日期 时间”"
        audit(meeting, ctx.now, "command not understood", by=by, text=first, reason=reason)
        out.send(ctx.draft("command_refused", to=[meeting.get("organizer")],
                           record=meeting["id"], purpose="command_refused",
                           meeting=meeting, command=first, reason=reason))
        return True
    if found:
        cancel(meeting, ctx, out, by=by, reason=found.group("reason") or "会议取消")
        return True
    found = _ADD.match(first)
    if found:
        for name in re.split(r"[、,，;；\s]+", found.group("who")):
            person, problem = ctx.rules.directory.resolve(name)
            if person is None:
                audit(meeting, ctx.now, "attendee not added", by=by, name=name, reason=problem)
                continue
            add_attendee(meeting, ctx, out, ctx.person(person) or {}, by=by)
        return True
    return False
