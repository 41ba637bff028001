"""When and where a meeting can be: slots everyone can come to, rooms free."""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Sequence

from collabd.model import Meeting
from collabd.policy.durations import Duration
from collabd.policy.schema import Place
from collabd.workflow import rooms
from collabd.workflow.context import Context, PersonDict, merge_intervals

# -- time ----------------------------------------------------------------------------------

def _clock(ctx: Context, duration: Duration) -> dt.timedelta:
    """A duration that is plain clock time (meeting lengths, slot steps)."""
    base = ctx.now
    return ctx.rules.calendar.add(base, duration) - base if not duration.is_working_time else (
        dt.timedelta(hours=duration.amount))


def _align(moment: dt.datetime, step: dt.timedelta) -> dt.datetime:
    """Round up to the next slot boundary (09:00, 09:30, …)."""
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    steps = -(-(moment - midnight) // step)  # ceiling division of timedeltas
    return midnight + steps * step


# How far ahead the mail server's free/busy is asked for when a meeting slot is sought.
FREE_BUSY_WINDOW = dt.timedelta(days=21)


def _busy(ctx: Context, people: set[str], pending: Sequence[Meeting], after: dt.datetime
          ) -> list[tuple[dt.datetime, dt.datetime]]:
    """When these people are already in a meeting we organised (after `after`), or busy
    by the mail server's calendar where it has one, as sorted intervals with overlapping
    ones merged.

    An interval that began before `after` may start earlier than it would if the spans
    ending before `after` were left out first; a slot is only sought from `after` on,
    where both are the same."""
    stored = ctx.busy_together(frozenset(people))
    # Merged intervals are disjoint and sorted: their ends increase.
    first = bisect.bisect_right(stored, after, key=lambda span: span[1])
    busy: list[tuple[dt.datetime, dt.datetime]] = []
    for meeting in pending:
        if meeting.get("status") != "scheduled":
            continue
        end = dt.datetime.fromisoformat(meeting["end"])
        if end <= after or not people & {a["address"] for a in meeting.get("attendees", [])}:
            continue
        busy.append((dt.datetime.fromisoformat(meeting["start"]), end))
    if ctx.busy is not None and people:
        busy.extend((start, end) for start, end in
                    ctx.busy(sorted(people), after, after + FREE_BUSY_WINDOW) if end > after)
    if not busy:
        return stored[first:]
    return merge_intervals(sorted(stored[first:] + busy))


def find_slot(ctx: Context, earliest: dt.datetime, length: dt.timedelta,
              attendees: Sequence[PersonDict], pending: Sequence[Meeting] = ()) -> dt.datetime:
    """The first start at or after `earliest`, on a slot boundary, inside one working
    interval, that clashes with none of the attendees' other meetings we organised."""
    calendar = ctx.rules.calendar
    step = _clock(ctx, ctx.rules.meetings.slot_step)
    # Optional attendees do not hold a meeting up.
    people = frozenset(a["address"] for a in attendees
                       if a.get("address") and a.get("required", True))
    busy = _busy(ctx, set(people), pending, earliest)
    position = 0  # candidates only move forward, and so does the first busy interval
    start = _align(calendar.next_working_moment(earliest), step)
    # The same people, from the same moment, again in this pass (after a backlog the
    # same heads are in every review a tick plans): nothing before the slot found last
    # time was free then, and busy time has only been added since — go on from there.
    key = (people, earliest, length)
    pending_ids = frozenset(str(m.get("id")) for m in pending)
    found = ctx.slot_memo.get(key)
    if found is not None and found[1] <= pending_ids:
        start = max(start, found[0])
    for _ in range(5000):
        start = _align(calendar.next_working_moment(start), step)
        interval = next(i for i in calendar.intervals(start.date()) if i[1] > start) if (
            calendar.is_working_time(start)) else None
        if interval is None:
            start += step
            continue
        end = start + length
        if end > interval[1]:
            start = interval[1]
            continue
        while position < len(busy) and busy[position][1] <= start:
            position += 1
        if position == len(busy) or busy[position][0] >= end:
            ctx.slot_memo[key] = (start, pending_ids)
            return start
        start = busy[position][1]
    raise ValueError("no free meeting slot within reach; check working hours in the rules")


def book(ctx: Context, place: Place, attendees: Sequence[PersonDict], earliest: dt.datetime,
         length: dt.timedelta, pending: Sequence[Meeting] = ()) -> tuple[dt.datetime, str | None]:
    """When and where: the first time everyone can come at which a room that seats
    them is free — or, when the rules allow a meeting online only, the first time
    everyone can come, in a room if one is free. No room (none listed, none big
    enough): the time everyone can come, online or 待定."""
    fitting = rooms.candidates(ctx, place, len(attendees))
    step = _clock(ctx, ctx.rules.meetings.slot_step)
    for _ in range(2000):
        start = find_slot(ctx, earliest, length, attendees, pending)
        if not fitting:
            return start, None
        room = rooms.free_room(ctx, fitting, start, start + length, pending)
        if room is not None:
            return start, room.name
        if place.online_only:
            return start, None
        earliest = start + step
    raise ValueError("no free meeting room within reach: list more rooms in meetings.yaml, "
                     "or allow online_only")
