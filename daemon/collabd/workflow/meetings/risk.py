"""Risk meetings (风险排查会) and the plan-vs-progress rule that makes risks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from collabd.clock import isoformat
from collabd.model import Attendee, Meeting, Request, Task
from collabd.policy.calendar import WorkCalendar
from collabd.workflow import rooms
from collabd.workflow.context import Context, PersonDict
from collabd.workflow.meetings.create import _attendee, _dedupe, _extra, _new_meeting, _send_invite
from collabd.workflow.meetings.slots import _clock, book
from collabd.workflow.outcome import Outcome, audit

# What a risk meeting looks at: requests and tasks behind plan (滞后/阻塞).
RiskItem = Request | Task


def plan_risk(items: list[RiskItem], ctx: Context, out: Outcome, *, start: dt.datetime,
              length: dt.timedelta, adhoc: bool, reason: str,
              room: str | Literal[False] | None = False) -> Meeting:
    """`room`: where `book` put it; False: a free room at `start` (the weekly one's
    time is fixed), else online."""
    directory = ctx.rules.directory
    secretary = ctx.person(directory.secretary)
    people: list[Attendee | None] = [
        _attendee(secretary, "执行秘书"), *_extra(ctx, ctx.rules.meetings.risk.extra_attendees)]
    for item in items:
        for person, role in _risk_people(item):
            people.append(_attendee(person, role))
        # The head the risk notice goes to is invited too, to attend if they wish (an
        # optional attendee does not hold the meeting up).
        head = _risk_head(item, ctx)
        if head is not None:
            people.append(_attendee(head, "部门负责人（可选）", required=False))
    attendees = _dedupe(people)
    title = ("风险排查会：" + items[0].get("title", "")) if adhoc and len(items) == 1 else (
        "风险排查会" if adhoc else "每周风险排查会")
    place = ctx.rules.meetings.risk.place
    if room is False:
        found = rooms.free_room(ctx, rooms.candidates(ctx, place, len(attendees)), start,
                                start + length, out.meetings())
        room = found.name if found is not None else None
    meeting = _new_meeting(
        ctx, out, kind="risk", title=title, start=start, length=length,
        place=place, room=room, organizer=secretary,
        attendees=attendees, parent=items[0]["id"] if adhoc and len(items) == 1 else None,
        agenda=ctx.templates.render_text("agenda_risk", items=[_risk_row(i, ctx) for i in items],
                                         start=start, end=start + length, adhoc=adhoc),
    )
    meeting["risk_items"] = [i["id"] for i in items]
    meeting["adhoc"] = adhoc
    audit(meeting, ctx.now, "planned", reason=reason, items=meeting["risk_items"])
    _send_invite(meeting, ctx, out, to=meeting["attendees"], purpose="meeting_invite")
    out.put(meeting)
    return meeting


def _risk_people(item: RiskItem) -> list[tuple[PersonDict | None, str]]:
    if item["kind"] == "task":
        return [(item.get("owner"), "任务负责人"), (item.get("requester"), "需求发起人")]
    return [(item.get("receiver_liaison"), "接收部门对接人"), (item.get("receiver"), "接收人"),
            (item.get("requester"), "发起人")]


def _risk_head(item: RiskItem, ctx: Context) -> PersonDict | None:
    """The department head a risk item's notice goes to (escalation: waited_head)."""
    if item["kind"] == "task":
        owner = item.get("owner")
        dept = ctx.rules.directory.department_of(owner["address"]) if owner else None
        return ctx.person(dept.head) if dept is not None and dept.head else None
    return item.get("receiver_head")


def _risk_row(item: RiskItem, ctx: Context) -> dict[str, Any]:
    progress = item.get("progress") or {}
    owner = (item.get("owner") if item["kind"] == "task"
             else item.get("receiver") or item.get("receiver_liaison"))
    return {
        "id": item["id"],
        "title": item.get("title", ""),
        "owner": owner.get("name", "") if owner else "",
        "planned": planned_percent(item, ctx.now, ctx),
        "actual": progress.get("percent"),
        "status": progress.get("status") or ("滞后" if item.get("risk") else "正常"),
        "reason": progress.get("reason") or item.get("risk_reason") or "",
    }


@dataclass(frozen=True)
class PlanSpan:
    """The time a piece of work is planned to take: from its start to the close of
    business of its due date. A project's task (with 计划开始) counts working time
    only, as guide 002's 进度跟踪表 counts working days; a request, wall time from its
    response."""

    start: dt.datetime
    end: dt.datetime
    working: bool

    def total(self, calendar: WorkCalendar) -> float:
        if self.working:
            return calendar.working_seconds(self.start, self.end)
        return (self.end - self.start).total_seconds()

    def elapsed(self, now: dt.datetime, calendar: WorkCalendar) -> float:
        if self.working:
            return calendar.working_seconds(self.start, min(now, self.end))
        return (now - self.start).total_seconds()

    def moment(self, seconds: float, calendar: WorkCalendar) -> dt.datetime:
        """When `seconds` of the planned time have passed."""
        if self.working:
            return calendar.add_working_seconds(self.start, seconds)
        return self.start + dt.timedelta(seconds=seconds)


def plan_span(item: RiskItem, ctx: Context) -> PlanSpan | None:
    """When the planned work started (a plan's 计划开始, else the response, else the
    request) and when it is due (close of business of its due date); None without a
    due date."""
    due = item.get("due_date")
    if not due:
        return None
    planned = item.get("planned_start") if item["kind"] == "task" else None
    if planned:
        first = dt.date.fromisoformat(planned)
        opening = ctx.rules.calendar.intervals(first)
        start = opening[0][0] if opening else dt.datetime.combine(
            first, ctx.rules.calendar.start, tzinfo=ctx.rules.calendar.tz)
    else:
        start = dt.datetime.fromisoformat(item.get("responded") or item["created"])
    day = dt.date.fromisoformat(due)
    intervals = ctx.rules.calendar.intervals(day)
    end = intervals[-1][1] if intervals else dt.datetime.combine(
        day, ctx.rules.calendar.end, tzinfo=ctx.rules.calendar.tz)
    return PlanSpan(start, end, working=bool(planned))


def planned_percent(item: RiskItem, now: dt.datetime, ctx: Context) -> int | None:
    """Where the plan says the work should be now: the share of its time that passed."""
    span = plan_span(item, ctx)
    if span is None:
        return None
    calendar = ctx.rules.calendar
    total = span.total(calendar)
    if total <= 0:
        return 100
    return max(0, min(100, round(span.elapsed(now, calendar) / total * 100)))


def mark_risk(record: RiskItem, ctx: Context, out: Outcome, *, reason: str) -> None:
    """A task or request turned 滞后/阻塞 or fell behind its plan: a risk item, with a
    risk meeting within the rules' limit (unless one is already planned for it)."""
    record["risk"] = True
    record["risk_since"] = isoformat(ctx.now)
    record["risk_reason"] = reason
    audit(record, ctx.now, "became a risk", reason=reason)
    planned = [m for m in ctx.view.records("meeting")
               if m.get("meeting_kind") == "risk" and m.get("status") == "scheduled"
               and record["id"] in m.get("risk_items", [])]
    planned += [m for m in out.meetings() if record["id"] in m.get("risk_items", [])]
    if planned:
        return
    rules = ctx.rules.meetings.risk
    earliest = ctx.rules.calendar.add(ctx.now, rules.adhoc_notice)
    length = _clock(ctx, rules.adhoc_length)
    items = [record]
    attendees = [p for p, _ in _risk_people(record) if p]
    start, room = book(ctx, rules.place,
                       [*attendees, ctx.person(ctx.rules.directory.secretary) or {}],
                       earliest, length, out.meetings())
    limit = ctx.rules.calendar.add(ctx.now, rules.adhoc_within)
    meeting = plan_risk(items, ctx, out, start=start, length=length, adhoc=True,
                        reason=reason, room=room)
    if start > limit:
        audit(meeting, ctx.now, "later than the rules' limit",
              limit=isoformat(limit), note="no free slot earlier")
    audit(record, ctx.now, "risk meeting planned", meeting=meeting["id"],
          start=meeting["start"])
