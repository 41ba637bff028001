"""When each open record next needs the clock: the tick visits only what is due.

`next_due(record, ctx)` is the earliest moment at which a tick could act on the record
as it stands — a meeting's end, the first ladder step not yet fired, the moment its
progress would fall behind plan by more than the rules allow — or None when no tick
would ever act on it until it changes. It may be early (the tick then visits the
record and does nothing), never late: that is what keeps the ticks' results the same
as visiting every record every minute.

`Agenda` holds that moment for every open record in a heap; the daemon updates it for
each record a commit changes and asks it, each tick, which records are due.

A request waiting for its review meeting is due at once (`NOW`), but a tick plans at
most `ticks.MEETINGS_PER_TICK` meetings: after a backlog, thousands wait. The agenda
also keeps, for each of them, the moment it would be due for anything else
(`review_only`), so that a tick that has planned its share leaves the rest unread
instead of visiting each to do nothing.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Iterable

from collabd.model import Request, Task
from collabd.store.view import CLOSED
from collabd.workflow import meetings, ticks
from collabd.workflow.context import Context
from collabd.workflow.outcome import Record
from collabd.workflow.waits import waits

# "As soon as possible": a review meeting to plan, a plan already behind.
NOW = dt.datetime.min.replace(tzinfo=dt.UTC)


def waits_for_review(record: Record) -> bool:
    """A request whose review meeting is still to be planned (by the next ticks)."""
    if record["kind"] != "request":
        return False
    review = record.get("review")
    return bool(review and review.get("status") == "pending"
                and record.get("status") in ("open", "in_progress"))


def next_due(record: Record, ctx: Context, *, review: bool = True) -> dt.datetime | None:
    """`review=False`: the moment it is due for anything but planning its review."""
    if record.get("status") in CLOSED:
        return None
    if review and waits_for_review(record):
        return NOW
    status = record.get("status")
    moments: list[dt.datetime] = []
    if record["kind"] == "project":
        from collabd.workflow import projects

        sync = projects.next_sync(record, ctx)
        if sync is not None:
            moments.append(sync)
    if record["kind"] == "meeting" and status == "scheduled" and (
            record.get("meeting_kind") == "series"):
        found = meetings.series_next_moment(record, ctx)
        if found is not None:
            moments.append(found)
    elif record["kind"] == "meeting" and status == "scheduled" and record.get("end"):
        moments.append(dt.datetime.fromisoformat(record["end"]))
    if (record["kind"] == "request" or record["kind"] == "task") and status in (
            "open", "in_progress") and not record.get("risk"):
        behind = _falls_behind(record, ctx)
        if behind is not None:
            moments.append(behind)
    fired = record.get("fired", {})
    for wait in waits(record, ctx):
        steps = ctx.rules.escalation.ladders.get(wait.name, [])
        if not steps:
            continue
        times = ticks._schedule(ctx.rules.calendar, tuple(s.when for s in steps),
                                wait.deadline)
        moments += [due for index, due in enumerate(times)
                    if f"{wait.key}#{index}" not in fired]
    return min(moments) if moments else None


def _falls_behind(record: Request | Task, ctx: Context) -> dt.datetime | None:
    """The first moment the plan could be ahead of the reported progress by more than
    the rules' deviation (planned_percent grows with time; this is a little early at
    worst, since it ignores rounding)."""
    progress = (record.get("progress") or {}).get("percent")
    span = meetings.plan_span(record, ctx)
    if progress is None or span is None:
        return None
    deviation = ctx.rules.meetings.risk.deviation
    total = span.total(ctx.rules.calendar)
    if total <= 0:
        return NOW if 100 - progress > deviation else None
    if progress + deviation >= 100:
        return None  # the plan never passes 100%
    return span.moment(total * (progress + deviation) / 100, ctx.rules.calendar)


class Agenda:
    """Open records by the moment they next need the clock."""

    def __init__(self) -> None:
        self._when: dict[str, dt.datetime] = {}
        self._heap: list[tuple[dt.datetime, str]] = []
        # requests waiting for review planning → when they are due for anything else
        self._otherwise: dict[str, dt.datetime | None] = {}

    def __len__(self) -> int:
        return len(self._when)

    def set(self, record_id: str, when: dt.datetime | None) -> None:
        if when is None:
            self._when.pop(record_id, None)
            self._otherwise.pop(record_id, None)
            return
        if self._when.get(record_id) == when:
            return
        self._when[record_id] = when
        heapq.heappush(self._heap, (when, record_id))
        if len(self._heap) > 4 * len(self._when) + 1024:
            self._heap = [(w, r) for r, w in self._when.items()]
            heapq.heapify(self._heap)

    def plan(self, record: Record, ctx: Context) -> None:
        """Put `record` on the agenda as it stands."""
        self.set(record["id"], next_due(record, ctx))
        if waits_for_review(record):
            self._otherwise[record["id"]] = next_due(record, ctx, review=False)
        else:
            self._otherwise.pop(record["id"], None)

    def update(self, records: Iterable[Record], ctx: Context) -> None:
        for record in records:
            self.plan(record, ctx)

    def review_only(self, due: Iterable[str], now: dt.datetime) -> frozenset[str]:
        """Those of `due` that are due now only to have their review planned."""
        otherwise = self._otherwise
        return frozenset(r for r in due if r in otherwise
                         and ((when := otherwise[r]) is None or when > now))

    def due(self, now: dt.datetime) -> list[str]:
        """Ids of the records due at `now`. They stay due until `set` moves them: a
        visited record is re-planned by its caller, changed or not."""
        found: list[str] = []
        while self._heap and self._heap[0][0] <= now:
            when, record_id = heapq.heappop(self._heap)
            if self._when.get(record_id) == when:
                found.append(record_id)
        for record_id in found:  # back on the heap: due until re-planned
            heapq.heappush(self._heap, (self._when[record_id], record_id))
        return sorted(set(found))
