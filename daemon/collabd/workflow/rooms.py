"""Meeting rooms as resources (会议室): a meeting gets a room that is free and seats its
attendees, or is held online when the rules allow — never a room already booked.

A room is booked when one of our scheduled meetings holds it (`room` in the meeting;
for meetings made before rooms were booked, the first part of their location), or,
for a room with an Exchange room mailbox (`calendar`), when the server's free/busy
says so.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Sequence

from collabd.model import Meeting
from collabd.policy.schema import Place, Room
from collabd.workflow.context import Context

ONLINE_PREFIX = "线上"
UNDECIDED = "待定"
# How far back a booking can start and still overlap a moment (a meeting's length).
_LONGEST = dt.timedelta(days=1)


def location(room: str | None, place: Place) -> str:
    """The meeting's LOCATION: the room, then the online link."""
    parts = [room] if room else []
    if place.online:
        parts.append(f"{ONLINE_PREFIX}：{place.online}")
    return "；".join(parts) or UNDECIDED


def room_of(meeting: Meeting) -> str | None:
    """The room a meeting holds."""
    if "room" in meeting:
        return meeting["room"]
    first = str(meeting.get("location") or "").split("；", 1)[0].strip()
    if not first or first.startswith(ONLINE_PREFIX) or first == UNDECIDED:
        return None
    return first


def candidates(ctx: Context, place: Place, people: int) -> list[Room]:
    """The rooms a meeting of `people` may have, the preferred one first, then the
    smallest that seat them (a big room stays free for a big meeting)."""
    catalog = {r.name: r for r in ctx.rules.meetings.rooms}
    if place.room and place.room not in catalog:
        catalog[place.room] = Room(name=place.room)  # named in place only: any size
    allowed = [catalog[n] for n in place.rooms] if place.rooms else list(catalog.values())
    if place.room and all(r.name != place.room for r in allowed):
        allowed.append(catalog[place.room])
    fitting = [r for r in allowed if r.capacity is None or r.capacity >= people]
    fitting.sort(key=lambda r: (r.name != place.room, r.capacity is None, r.capacity or 0))
    return fitting


def is_free(ctx: Context, room: Room, start: dt.datetime, end: dt.datetime,
            pending: Sequence[Meeting] = (), *, besides: str | None = None) -> bool:
    """Is `room` free from `start` to `end` (`besides`: a meeting that may keep it)?"""
    bookings = ctx.room_bookings(room_of).get(room.name, [])
    low = bisect.bisect_left(bookings, (start - _LONGEST,))
    high = bisect.bisect_left(bookings, (end,))
    for _start, b_end, meeting_id in bookings[low:high]:
        if b_end > start and meeting_id != besides:
            return False
    for meeting in pending:
        if (meeting.get("status") == "scheduled"
                and meeting.get("id") != besides and room_of(meeting) == room.name
                and dt.datetime.fromisoformat(meeting["start"]) < end
                and dt.datetime.fromisoformat(meeting["end"]) > start):
            return False
    if room.calendar and ctx.busy is not None:
        for b_start, b_end in ctx.server_busy(room.calendar):
            if b_start < end and b_end > start:
                return False
    return True


def free_room(ctx: Context, rooms: Sequence[Room], start: dt.datetime, end: dt.datetime,
              pending: Sequence[Meeting] = (), *, besides: str | None = None) -> Room | None:
    return next((r for r in rooms if is_free(ctx, r, start, end, pending, besides=besides)),
                None)
