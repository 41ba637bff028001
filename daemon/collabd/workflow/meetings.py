"""Meetings: review meetings (需求评审会) and risk meetings (风险排查会), their invites and
RSVPs, and the minutes (会议纪要) driven to a confirmed state within 24 hours.

A meeting is a record `HY-<year>-NNNN`. Its invite is iCalendar over email (iMIP); its
UID starts with the record id, so calendar replies find it without an index. The
organizer in the calendar is the shared mailbox; the person who owns the minutes (the
requester of a review meeting, the secretary of a risk meeting) is the record's
`organizer`.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
import secrets
from collections.abc import Sequence
from typing import Any, Literal

from collabd.clock import isoformat
from collabd.inbound.classify import Event
from collabd.inbound.forms import attachment_lines, text_lines
from collabd.inbound.values import parse_date
from collabd.outbound.compose import CalendarPart
from collabd.outbound.invites import cancel_ics, request_ics
from collabd.policy.durations import Duration
from collabd.policy.rules import resolve_name
from collabd.policy.schema import Place
from collabd.textnorm import fold
from collabd.workflow import rooms, signoff
from collabd.workflow.context import Context, PersonDict, merge_intervals, next_id
from collabd.workflow.outcome import Outcome, Record, audit, changed, new_record

OPEN_MEETING = frozenset({"scheduled", "held", "minutes_requested", "minutes_distributed",
                          "minutes_revision"})


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


def _busy(ctx: Context, people: set[str], pending: Sequence[Record], after: dt.datetime
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
        if meeting.get("kind") != "meeting" or meeting.get("status") != "scheduled":
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
              attendees: list[PersonDict], pending: Sequence[Record] = ()) -> dt.datetime:
    """The first start at or after `earliest`, on a slot boundary, inside one working
    interval, that clashes with none of the attendees' other meetings we organised."""
    calendar = ctx.rules.calendar
    step = _clock(ctx, ctx.rules.meetings.slot_step)
    # Optional attendees do not hold a meeting up.
    busy = _busy(ctx, {a["address"] for a in attendees
                       if a.get("address") and a.get("required", True)}, pending, earliest)
    position = 0  # candidates only move forward, and so does the first busy interval
    start = _align(calendar.next_working_moment(earliest), step)
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
            return start
        start = busy[position][1]
    raise ValueError("no free meeting slot within reach; check working hours in the rules")


def book(ctx: Context, place: Place, attendees: list[PersonDict], earliest: dt.datetime,
         length: dt.timedelta, pending: Sequence[Record] = ()) -> tuple[dt.datetime, str | None]:
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


# -- creating ---------------------------------------------------------------------------------

def _uid(meeting_id: str, domain: str) -> str:
    return f"{meeting_id}-{secrets.token_hex(6)}@{domain}"


def _attendee(person: PersonDict | None, role: str, *, required: bool = True
              ) -> dict[str, Any] | None:
    if not person:
        return None
    return {"name": person.get("name", ""), "address": person["address"],
            "dept": person.get("dept"), "role": role, "required": required,
            "partstat": "NEEDS-ACTION"}


def _dedupe(attendees: list[dict[str, Any] | None]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for a in attendees:
        if a is None:
            continue
        if a["address"] in seen:
            seen[a["address"]]["role"] += "、" + a["role"]
            seen[a["address"]]["required"] = seen[a["address"]]["required"] or a["required"]
        else:
            seen[a["address"]] = dict(a)
    return list(seen.values())


def review_needed(request: Record, ctx: Context) -> bool:
    when = ctx.rules.meetings.review.when
    return request.get("urgency") in when.urgency or request.get("type") in when.type


def asks_for_review(text: str, ctx: Context) -> bool:
    folded = fold(text)
    return any(fold(word) in folded for word in ctx.rules.meetings.review.asked_by_words)


def want_review(request: Record, ctx: Context, *, reason: str) -> None:
    """Decide that `request` gets a review meeting; the next tick plans it and sends the
    invites. (Intake stays cheap and independent of how many meetings exist; the
    invite follows within a minute.)"""
    request["review"] = {"status": "pending", "reason": reason, "at": isoformat(ctx.now)}
    audit(request, ctx.now, "review meeting needed", reason=reason)


def plan_review(request: Record, ctx: Context, out: Outcome, *, reason: str) -> Record:
    """Create the review meeting of `request`, send the invites, link it (in place)."""
    rules = ctx.rules.meetings.review
    attendees = _dedupe([
        _attendee(request.get("requester"), "发起人"),
        _attendee(request.get("receiver_liaison"), "接收部门对接人"),
        _attendee(request.get("receiver"), "接收人"),
        *([_attendee(request.get("requester_head"), "发起部门负责人"),
           _attendee(request.get("receiver_head"), "接收部门负责人")]
          if rules.invite_heads else []),
        *_extra(ctx, rules.extra_attendees),
    ])
    earliest = ctx.rules.calendar.add(ctx.now, rules.notice)
    length = _clock(ctx, rules.length)
    start, room = book(ctx, rules.place, attendees, earliest, length, out.meetings())
    meeting = _new_meeting(
        ctx, out, kind="review", title=f"需求评审会：{request.get('title', '')}",
        start=start, length=length, place=rules.place, room=room,
        organizer=request.get("requester") or request.get("submitted_by"),
        attendees=attendees, parent=request["id"],
        agenda=ctx.templates.render_text("agenda_review", request=request,
                                         attendees=attendees, start=start,
                                         end=start + length),
    )
    request.setdefault("meetings", []).append(meeting["id"])
    request["review"] = {**(request.get("review") or {}), "status": "planned",
                         "meeting": meeting["id"]}
    audit(request, ctx.now, "review meeting planned", meeting=meeting["id"],
          start=meeting["start"], reason=reason)
    audit(meeting, ctx.now, "planned", reason=reason, parent=request["id"])
    _send_invite(meeting, ctx, out, to=meeting["attendees"], purpose="meeting_invite")
    out.put(meeting)
    return meeting


def plan_risk(items: list[Record], ctx: Context, out: Outcome, *, start: dt.datetime,
              length: dt.timedelta, adhoc: bool, reason: str,
              room: str | Literal[False] | None = False) -> Record:
    """`room`: where `book` put it; False: a free room at `start` (the weekly one's
    time is fixed), else online."""
    directory = ctx.rules.directory
    secretary = ctx.person(directory.secretary)
    people: list[dict[str, Any] | None] = [
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


def _extra(ctx: Context, names: list[str]) -> list[dict[str, Any] | None]:
    """The rules' extra attendees: leader, secretary, people or departments (their head)."""
    directory = ctx.rules.directory
    out = []
    for name in names:
        if name == "leader":
            person, role = directory.leader, "协作小组组长"
        elif name == "secretary":
            person, role = directory.secretary, "执行秘书"
        else:
            found = resolve_name(directory, name)
            if found is None:
                continue
            person, role = found, "列席"
        out.append(_attendee(ctx.person(person), role))
    return out


def _risk_people(item: Record) -> list[tuple[PersonDict | None, str]]:
    if item.get("kind") == "task":
        return [(item.get("owner"), "任务负责人"), (item.get("requester"), "需求发起人")]
    return [(item.get("receiver_liaison"), "接收部门对接人"), (item.get("receiver"), "接收人"),
            (item.get("requester"), "发起人")]


def _risk_head(item: Record, ctx: Context) -> PersonDict | None:
    """The department head a risk item's notice goes to (escalation: waited_head)."""
    if item.get("kind") == "task":
        owner = item.get("owner") or {}
        dept = ctx.rules.directory.department_of(owner.get("address", ""))
        return ctx.person(dept.head) if dept is not None and dept.head else None
    head = item.get("receiver_head")
    return head if isinstance(head, dict) else None


def _risk_row(item: Record, ctx: Context) -> dict[str, Any]:
    progress = item.get("progress") or {}
    owner = item.get("owner") or item.get("receiver") or item.get("receiver_liaison") or {}
    return {
        "id": item["id"],
        "title": item.get("title", ""),
        "owner": owner.get("name", ""),
        "planned": planned_percent(item, ctx.now, ctx),
        "actual": progress.get("percent"),
        "status": progress.get("status") or ("滞后" if item.get("risk") else "正常"),
        "reason": progress.get("reason") or item.get("risk_reason") or "",
    }


def _new_meeting(ctx: Context, out: Outcome, *, kind: str, title: str, start: dt.datetime,
                 length: dt.timedelta, place: Place, room: str | None,
                 organizer: PersonDict | None, attendees: list[dict[str, Any]],
                 parent: str | None, agenda: str) -> Record:
    meeting_id, counter, number = next_id(ctx.view, "HY", ctx.now, out.meta)
    out.meta[counter] = number
    domain = ctx.identity.address.rsplit("@", 1)[-1]
    return new_record(
        "meeting", meeting_id, ctx.now,
        meeting_kind=kind, status="scheduled", title=title, summary=title,
        uid=_uid(meeting_id, domain), sequence=0,
        start=isoformat(start), end=isoformat(start + length),
        location=rooms.location(room, place), room=room,
        organizer=organizer, attendees=attendees, parent=parent, agenda=agenda,
        minutes={"rounds": []},
    )


def _send_invite(meeting: Record, ctx: Context, out: Outcome, *, to: list[dict[str, Any]],
                 purpose: str) -> None:
    ics = request_ics(meeting, organizer=(ctx.identity.address, ctx.identity.display_name),
                      stamp=ctx.now, reminder=_clock(ctx, ctx.rules.meetings.reminder_before),
                      tz=ctx.rules.calendar.tz)
    out.send(ctx.draft(
        "meeting_invite", to=to, record=meeting["id"], purpose=purpose,
        calendar=CalendarPart(ics, "REQUEST"), meeting=meeting,
        start=dt.datetime.fromisoformat(meeting["start"]),
        end=dt.datetime.fromisoformat(meeting["end"]), update=meeting["sequence"] > 0,
    ))
    audit(meeting, ctx.now, "invite sent", to=[a["address"] for a in to],
          sequence=meeting["sequence"], purpose=purpose)


def reschedule(meeting: Record, ctx: Context, out: Outcome, start: dt.datetime, *,
               by: str) -> None:
    """Same UID, SEQUENCE+1, everyone asked again (their answers were for the old time)."""
    length = dt.datetime.fromisoformat(meeting["end"]) - dt.datetime.fromisoformat(
        meeting["start"])
    meeting["start"] = isoformat(start)
    meeting["end"] = isoformat(start + length)
    _keep_a_room(meeting, ctx, out, start, start + length)
    meeting["sequence"] = int(meeting.get("sequence", 0)) + 1
    for a in meeting["attendees"]:
        a["partstat"] = "NEEDS-ACTION"
    audit(meeting, ctx.now, "rescheduled", by=by, start=meeting["start"],
          sequence=meeting["sequence"])
    _send_invite(meeting, ctx, out, to=meeting["attendees"], purpose="meeting_update")


def _keep_a_room(meeting: Record, ctx: Context, out: Outcome, start: dt.datetime,
                 end: dt.datetime) -> None:
    """At its new time the meeting keeps its room if that is free, else gets another
    free one that seats everyone, else is held online (or 待定)."""
    held = rooms.room_of(meeting)
    if held is None:
        return
    place = (ctx.rules.meetings.risk.place if meeting.get("meeting_kind") == "risk"
             else ctx.rules.meetings.review.place)
    fitting = rooms.candidates(ctx, place, len(meeting.get("attendees", [])))
    fitting.sort(key=lambda r: r.name != held)
    found = rooms.free_room(ctx, fitting, start, end, out.meetings(), besides=meeting["id"])
    room = found.name if found is not None else None
    if room != held:
        audit(meeting, ctx.now, "room changed", before=held, after=room,
              reason=f"{held} 在新的时间已被占用")
    meeting["room"] = room
    meeting["location"] = rooms.location(room, place)


def cancel(meeting: Record, ctx: Context, out: Outcome, *, by: str, reason: str) -> None:
    meeting["sequence"] = int(meeting.get("sequence", 0)) + 1
    meeting["status"] = "cancelled"
    meeting["closed"] = isoformat(ctx.now)
    ics = cancel_ics(meeting, organizer=(ctx.identity.address, ctx.identity.display_name),
                     stamp=ctx.now, tz=ctx.rules.calendar.tz)
    out.send(ctx.draft(
        "meeting_cancel", to=meeting["attendees"], record=meeting["id"],
        purpose="meeting_cancel", calendar=CalendarPart(ics, "CANCEL"), meeting=meeting,
        start=dt.datetime.fromisoformat(meeting["start"]), reason=reason,
    ))
    audit(meeting, ctx.now, "cancelled", by=by, reason=reason, sequence=meeting["sequence"])


def add_attendee(meeting: Record, ctx: Context, out: Outcome, person: PersonDict, *,
                 by: str, role: str = "参会人") -> None:
    """The new attendee gets the current version (same UID and SEQUENCE)."""
    if any(a["address"] == person["address"] for a in meeting["attendees"]):
        return
    entry = _attendee(person, role)
    assert entry is not None
    meeting["attendees"].append(entry)
    audit(meeting, ctx.now, "attendee added", by=by, attendee=person["address"])
    _send_invite(meeting, ctx, out, to=[entry], purpose="meeting_invite")


# -- RSVPs -------------------------------------------------------------------------------------

def on_calendar_reply(event: Event, ctx: Context) -> Outcome:
    out = Outcome()
    reply = event.calendar
    assert reply is not None
    out.inbound = {"kind": "calendar_reply", "record": event.thread, **reply.to_json()}
    stored = ctx.view.record(event.thread) if event.thread else None
    if stored is None or stored.get("kind") != "meeting" or stored.get("uid") != reply.uid:
        out.inbound["ignored"] = "no meeting of ours has this UID"
        return out
    meeting = changed(stored)
    sender = event.message.sender
    directory = ctx.rules.directory
    for answer in reply.answers:
        invited = next((a for a in meeting["attendees"]
                        if directory.same_person(a["address"], answer.address)), None)
        if invited is None:
            audit(meeting, ctx.now, "calendar reply ignored", by=sender,
                  attendee=answer.address, reason="not an invitee")
            continue
        if not directory.same_person(sender, invited["address"]):
            audit(meeting, ctx.now, "calendar reply ignored", by=sender,
                  attendee=invited["address"], reason="sender is not the attendee")
            continue
        if reply.sequence < int(meeting.get("sequence", 0)):
            audit(meeting, ctx.now, "calendar reply ignored", by=sender,
                  attendee=invited["address"],
                  reason=f"answers sequence {reply.sequence}, the meeting is at "
                         f"{meeting.get('sequence', 0)}")
            continue
        if reply.method == "COUNTER":
            meeting.setdefault("counter_proposals", []).append({
                "by": invited["address"], "at": isoformat(ctx.now),
                "start": reply.proposed_start.isoformat() if reply.proposed_start else None,
                "end": reply.proposed_end.isoformat() if reply.proposed_end else None,
                "comment": reply.comment})
            audit(meeting, ctx.now, "new time proposed", by=invited["address"],
                  start=reply.proposed_start.isoformat() if reply.proposed_start else None)
            _tell_organizer(meeting, ctx, out, "meeting_counter", attendee=invited,
                            proposed=reply.proposed_start, comment=reply.comment)
            continue
        if answer.partstat == invited.get("partstat") and answer.partstat != "DELEGATED":
            # The same answer again (a client resending it, or the same answer seen both
            # in the mail and in the server's calendar): noted, nobody told twice.
            audit(meeting, ctx.now, "rsvp repeated", by=invited["address"],
                  partstat=answer.partstat)
            continue
        invited["partstat"] = answer.partstat
        invited["replied"] = isoformat(ctx.now)
        if reply.comment:
            invited["comment"] = reply.comment
        audit(meeting, ctx.now, f"rsvp {answer.partstat.lower()}", by=invited["address"],
              comment=reply.comment)
        if answer.partstat == "DELEGATED":
            for delegate in answer.delegated_to:
                person = ctx.person_by_address(delegate)
                add_attendee(meeting, ctx, out, person, by=invited["address"],
                             role=f"{invited['name'] or invited['address']}的代理人")
        if answer.partstat == "DECLINED" and invited.get("required"):
            _tell_organizer(meeting, ctx, out, "meeting_declined", attendee=invited,
                            comment=reply.comment)
    out.put(meeting)
    return out


def _tell_organizer(meeting: Record, ctx: Context, out: Outcome, template: str,
                    **context: Any) -> None:
    organizer = meeting.get("organizer")
    if not organizer:
        return
    out.send(ctx.draft(template, to=[organizer], record=meeting["id"], purpose=template,
                       meeting=meeting, start=dt.datetime.fromisoformat(meeting["start"]),
                       **context))


# -- minutes -----------------------------------------------------------------------------------

def _deadline(ctx: Context, start: dt.datetime, duration: Duration) -> dt.datetime:
    """`start` + `duration` as the rules count it; a deadline in plain hours that ends
    outside working time moves to the next working moment (sla.after_hours)."""
    due = ctx.rules.calendar.add(start, duration)
    if ctx.rules.sla.after_hours == "next_working_moment" and (
            not ctx.rules.calendar.is_working_time(due)):
        return ctx.rules.calendar.next_working_moment(due)
    return due


def ask_for_minutes(meeting: Record, ctx: Context, out: Outcome) -> None:
    """After the meeting: the minutes' owner is asked for them (会后24小时内)."""
    # 24 hours from the end of the meeting, or from now if the daemon asks late (it was
    # stopped): nobody is chased for minutes they were never asked for.
    end = max(dt.datetime.fromisoformat(meeting["end"]), ctx.now)
    due = _deadline(ctx, end, ctx.rules.sla.minutes_due)
    meeting["status"] = "minutes_requested"
    meeting["minutes"]["due"] = isoformat(due)
    meeting["minutes"]["requested"] = isoformat(ctx.now)
    organizer = meeting.get("organizer")
    audit(meeting, ctx.now, "minutes requested",
          to=organizer.get("address") if organizer else None, due=isoformat(due))
    if organizer:
        out.send(ctx.draft(
            "minutes_request", to=[organizer], record=meeting["id"], purpose="minutes_request",
            asks=organizer["address"], meta={"minutes_for": meeting["id"]}, meeting=meeting,
            due=due,
        ))


_ITEM_FIELDS = {
    "task": ("待办", "待办事项", "行动项", "事项", "任务", "工作内容", "todo", "action"),
    "owner": ("负责人", "责任人", "执行人", "owner"),
    "due": ("截止", "截止时间", "截止日期", "完成时间", "完成日期", "期限", "due"),
}
_ITEM_LINE = re.compile(
    r"(?:待办|待办事项|行动项|todo|action)\s*[:：]\s*(?P<task>.+?)\s*[,，;；\s]\s*"
    r"(?:负责人|责任人|执行人|owner)\s*[:：]\s*(?P<owner>[^,，;；\s]+)\s*[,，;；\s]*\s*"
    r"(?:截止|截止时间|截止日期|完成时间|期限|due)\s*[:：]\s*(?P<due>[^,，;；\n]+)",
    re.IGNORECASE)


def action_items(text: str, tables: Sequence[list[str]] = ()) -> list[dict[str, str]]:
    """`待办：… 负责人：… 截止：…` lines, and tables with those columns."""
    items: list[dict[str, str]] = []
    for line in text_lines(text):
        found = _ITEM_LINE.search(line)
        if found:
            items.append({k: v.strip(" 。.") for k, v in found.groupdict().items()})
    for lines in tables:
        header: dict[str, int] | None = None
        for line in lines:
            cells = [c.strip() for c in line.split("\t")]
            if header is None:
                mapping = {}
                for index, cell in enumerate(cells):
                    for name, words in _ITEM_FIELDS.items():
                        if fold(cell) in {fold(w) for w in words}:
                            mapping[name] = index
                if {"task", "owner"} <= set(mapping):
                    header = mapping
                continue
            if len(cells) <= max(header.values()) or not cells[header["task"]]:
                continue
            items.append({"task": cells[header["task"]], "owner": cells[header["owner"]],
                          "due": cells[header["due"]] if "due" in header else ""})
    return items


def signers(meeting: Record, ctx: Context) -> list[dict[str, Any]]:
    """Who must confirm the minutes: attendees who did not decline (the required ones
    only, if the rules say so), except the person who wrote them."""
    organizer = (meeting.get("organizer") or {}).get("address", "")
    required_only = ctx.rules.signoff.minutes_signers == "required_attendees"
    return [a for a in meeting["attendees"]
            if a.get("partstat") not in ("DECLINED", "DELEGATED")
            and not ctx.rules.directory.same_person(a["address"], organizer)
            and (a.get("required") or not required_only)]


def on_minutes(meeting: Record, event: Event, ctx: Context, out: Outcome) -> None:
    """The organizer sent (revised) minutes: a new round goes to every signer."""
    text = (event.new_text or "").strip()
    tables: list[list[str]] = []
    attachments = []
    for a in event.message.body.attachments:
        if a.filename.lower().endswith(".ics"):
            continue
        attachments.append(a)
        try:
            lines = attachment_lines(a.filename, a.data)
        except Exception:
            lines = None
        if lines:
            tables.append(lines)
    rounds = meeting["minutes"]["rounds"]
    number = len(rounds) + 1
    confirm_due = _deadline(ctx, ctx.now, ctx.rules.sla.confirmation_due)
    items = action_items(text, tables)
    entry = {"round": number, "received": isoformat(ctx.now), "by": event.message.sender,
             "message": event.message.message_id, "text": text[:20000],
             "attachments": [a.filename for a in attachments], "action_items": items,
             "distributed": isoformat(ctx.now), "confirm_due": isoformat(confirm_due),
             "status": "distributed"}
    rounds.append(entry)
    meeting["status"] = "minutes_distributed"
    meeting["pending_signoffs"] = []
    audit(meeting, ctx.now, "minutes received", by=event.message.sender, round=number,
          action_items=len(items))
    from collabd.outbound.compose import Attachment

    files = [Attachment(a.filename, a.data, a.content_type) for a in attachments]
    for person in signers(meeting, ctx):
        signoff.ask(meeting, "minutes", number, person["address"])
        out.send(ctx.draft(
            "minutes_confirm", to=[person], record=meeting["id"], purpose="minutes_confirm",
            asks=person["address"], meta={"signoff": "minutes", "round": number},
            attachments=files, meeting=meeting, minutes=entry, due=confirm_due,
            person=person,
        ))
    audit(meeting, ctx.now, "minutes distributed", round=number,
          to=[p["address"] for p in signers(meeting, ctx)], due=isoformat(confirm_due))
    if not signers(meeting, ctx):
        _signed_off(meeting, ctx, out, entry)


def on_minutes_signoff(meeting: Record, event: Event, ctx: Context, out: Outcome,
                       auth: signoff.Authority) -> str | None:
    """Count one attendee's 确认/不确认. Returns why it could not change anything (an
    old round, a different answer after the first), for the person to be told; None
    when it counted or merely repeated what was counted."""
    intent = event.intent
    assert intent is not None
    rounds = meeting["minutes"]["rounds"]
    current = rounds[-1] if rounds else None
    person = auth.asked or event.message.sender
    if current is None or current["round"] != auth.round or current["status"] != "distributed":
        audit(meeting, ctx.now, "sign-off for an old round, nothing changed", by=person,
              round=auth.round)
        return f"这封邮件针对的是第{auth.round}版会议纪要，它已不在等待确认"
    decision = "confirmed" if intent.kind == "confirm" else "rejected"
    before = signoff.existing(meeting, "minutes", auth.round, person)
    # The first answer on a round stands; a 不确认 after a 确认 opens a new round only
    # when the rules say so (reject_after_confirm: new_round).
    if before is not None and before["decision"] == decision:
        audit(meeting, ctx.now, "sign-off repeated, nothing changed", by=person,
              round=auth.round, decision=decision)
        return None
    if before is not None and (decision == "confirmed"
                               or ctx.rules.signoff.reject_after_confirm == "ignore"):
        said = "不确认" if before["decision"] == "rejected" else "确认"
        return (f"您对第{auth.round}版纪要的答复（{said}）已于 "
                f"{before['at'][:16].replace('T', ' ')} 记录，之后的不同答复不改变结果")
    signoff.record_signoff(meeting, ctx, event, auth, decision,
                           intent.reason if decision == "rejected" else None)
    signoff.answered(meeting, "minutes", auth.round, person)
    if decision == "rejected":
        current["status"] = "rejected"
        meeting["status"] = "minutes_revision"
        meeting["pending_signoffs"] = []
        meeting["minutes"]["due"] = isoformat(
            _deadline(ctx, ctx.now, ctx.rules.sla.minutes_due))
        audit(meeting, ctx.now, "minutes rejected (不确认)", by=person, round=auth.round,
              reason=intent.reason)
        organizer = meeting.get("organizer")
        if organizer:
            out.send(ctx.draft(
                "minutes_rejected", to=[organizer], record=meeting["id"],
                purpose="minutes_request", asks=organizer["address"],
                meta={"minutes_for": meeting["id"]}, meeting=meeting, minutes=current,
                by=ctx.person_by_address(person), reason=intent.reason or "",
                due=dt.datetime.fromisoformat(meeting["minutes"]["due"]),
            ))
        return None
    audit(meeting, ctx.now, "minutes confirmed", by=person, round=auth.round)
    confirmed = {s["by"] for s in meeting.get("signoffs", [])
                 if s["kind"] == "minutes" and s["round"] == auth.round
                 and s["decision"] == "confirmed"}
    if all(any(ctx.rules.directory.same_person(p["address"], c) for c in confirmed)
           for p in signers(meeting, ctx)):
        _signed_off(meeting, ctx, out, current)
    return None


def _signed_off(meeting: Record, ctx: Context, out: Outcome, current: dict[str, Any]) -> None:
    current["status"] = "signed_off"
    meeting["status"] = "closed"
    meeting["closed"] = isoformat(ctx.now)
    meeting["minutes"]["signed_off"] = isoformat(ctx.now)
    audit(meeting, ctx.now, "minutes signed off", round=current["round"])
    tasks = _create_tasks(meeting, ctx, out, current.get("action_items", []))
    everyone = [meeting.get("organizer"), *meeting["attendees"]]
    out.send(ctx.draft("minutes_signed_off", to=everyone, record=meeting["id"],
                       purpose="minutes_signed_off", meeting=meeting, minutes=current,
                       tasks=tasks))


def _create_tasks(meeting: Record, ctx: Context, out: Outcome,
                  items: list[dict[str, str]]) -> list[Record]:
    tasks = []
    parent = ctx.view.record(meeting["parent"]) if meeting.get("parent") else None
    today = ctx.now.astimezone(ctx.rules.calendar.tz).date()
    for item in items:
        owner, problem = ctx.rules.directory.resolve(item.get("owner", ""))
        due, _ = parse_date(item.get("due", ""), today) if item.get("due") else (None, None)
        task_id, counter, number = next_id(ctx.view, "RW", ctx.now, out.meta)
        out.meta[counter] = number
        owner_dict = ctx.person(owner) if owner else None
        task = new_record(
            "task", task_id, ctx.now, status="open", title=item.get("task", "")[:200],
            owner=owner_dict, owner_text=item.get("owner"), due_date=due.isoformat()
            if due else None, meeting=meeting["id"],
            request=parent["id"] if parent and parent.get("kind") == "request" else None,
            requester=parent.get("requester") if parent else None,
            waiting_on=[owner_dict["address"]] if owner_dict else [],
        )
        audit(task, ctx.now, "created from minutes", meeting=meeting["id"],
              note=problem)
        out.put(task)
        tasks.append(task)
        if owner_dict is not None:
            out.send(ctx.draft(
                "task_assigned", to=[owner_dict], record=task_id, purpose="task_assigned",
                asks=owner_dict["address"], meta={"task": task_id}, task=task,
                meeting=meeting))
    meeting["tasks"] = [t["id"] for t in tasks]
    return tasks


def plan_span(item: Record, ctx: Context) -> tuple[dt.datetime, float] | None:
    """When the planned work started (the response, else the request) and how many
    seconds it has until close of business of its due date; None without a due date."""
    due = item.get("due_date")
    if not due:
        return None
    start = dt.datetime.fromisoformat(item.get("responded") or item["created"])
    day = dt.date.fromisoformat(due)
    intervals = ctx.rules.calendar.intervals(day)
    end = intervals[-1][1] if intervals else dt.datetime.combine(
        day, ctx.rules.calendar.end, tzinfo=ctx.rules.calendar.tz)
    return start, (end - start).total_seconds()


def planned_percent(item: Record, now: dt.datetime, ctx: Context) -> int | None:
    """Where the plan says the work should be now: the share of its time that passed."""
    span = plan_span(item, ctx)
    if span is None:
        return None
    start, total = span
    if total <= 0:
        return 100
    return max(0, min(100, round((now - start).total_seconds() / total * 100)))


def mark_risk(record: Record, ctx: Context, out: Outcome, *, reason: str) -> None:
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


# -- the organizer's commands on a meeting thread -------------------------------------------

_RESCHEDULE = re.compile(r"^\s*(?:改期|改到|调整到|改为)\s*[:：]?\s*(?P<when>.+)$")
_CANCEL = re.compile(r"^\s*(?:取消会议|会议取消|取消)\s*[。.!！]?\s*(?P<reason>.*)$")
_ADD = re.compile(r"^\s*(?:增加参会人|添加参会人|加上|邀请)\s*[:：]\s*(?P<who>.+)$")
_TIME = re.compile(r"(\d{1,2})\s*[:：点时]\s*(\d{1,2})?")


def organizer_command(meeting: Record, event: Event, ctx: Context, out: Outcome) -> bool:
    text = (event.new_text or "").strip()
    first = text.splitlines()[0] if text else ""
    by = event.message.sender
    found = _RESCHEDULE.match(first)
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


# -- for the other meetings of the procedure (workflow/problems.py) -------------------

attendee = _attendee
dedupe = _dedupe
new_meeting = _new_meeting
clock_length = _clock


def send_invite(meeting: Record, ctx: Context, out: Outcome) -> None:
    _send_invite(meeting, ctx, out, to=meeting["attendees"], purpose="meeting_invite")
