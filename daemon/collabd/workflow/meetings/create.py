"""Meeting records, their invitations, and the organizer's changes to them."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence

from collabd.clock import isoformat
from collabd.model import Attendee, Meeting
from collabd.outbound.compose import CalendarPart
from collabd.outbound.invites import cancel_ics, request_ics
from collabd.policy.rules import resolve_name
from collabd.policy.schema import Place
from collabd.workflow import rooms
from collabd.workflow.context import Context, PersonDict, next_id
from collabd.workflow.meetings.slots import _clock
from collabd.workflow.outcome import Outcome, audit, new_record

OPEN_MEETING = frozenset({"scheduled", "held", "minutes_requested", "minutes_distributed",
                          "minutes_revision"})


# -- creating ---------------------------------------------------------------------------------

def _uid(meeting_id: str, domain: str) -> str:
    return f"{meeting_id}-{secrets.token_hex(6)}@{domain}"


def _attendee(person: PersonDict | None, role: str, *, required: bool = True
              ) -> Attendee | None:
    if not person:
        return None
    return {"name": person.get("name", ""), "address": person["address"],
            "dept": person.get("dept"), "role": role, "required": required,
            "partstat": "NEEDS-ACTION"}


def _dedupe(attendees: list[Attendee | None]) -> list[Attendee]:
    seen: dict[str, Attendee] = {}
    for a in attendees:
        if a is None:
            continue
        if a["address"] in seen:
            seen[a["address"]]["role"] += "、" + a["role"]
            seen[a["address"]]["required"] = seen[a["address"]]["required"] or a["required"]
        else:
            seen[a["address"]] = a.copy()
    return list(seen.values())


def _extra(ctx: Context, names: list[str]) -> list[Attendee | None]:
    """The rules' extra attendees: leader, secretary, people or departments (their head)."""
    directory = ctx.rules.directory
    out: list[Attendee | None] = []
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


def _new_meeting(ctx: Context, out: Outcome, *, kind: str, title: str, start: dt.datetime,
                 length: dt.timedelta, place: Place, room: str | None,
                 organizer: PersonDict | None, attendees: list[Attendee],
                 parent: str | None, agenda: str) -> Meeting:
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


def _send_invite(meeting: Meeting, ctx: Context, out: Outcome, *,
                 to: Sequence[PersonDict], purpose: str) -> None:
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


def reschedule(meeting: Meeting, ctx: Context, out: Outcome, start: dt.datetime, *,
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


def _keep_a_room(meeting: Meeting, ctx: Context, out: Outcome, start: dt.datetime,
                 end: dt.datetime) -> None:
    """At its new time the meeting keeps its room if that is free, else gets another
    free one that seats everyone, else is held online (or 待定)."""
    held = rooms.room_of(meeting)
    if held is None:
        return
    rules = ctx.rules.meetings
    place = {"risk": rules.risk.place, "kickoff": rules.kickoff.place,
             "retro": rules.retro.place, "push": rules.push.place}.get(
        meeting.get("meeting_kind", ""), rules.review.place)
    fitting = rooms.candidates(ctx, place, len(meeting.get("attendees", [])))
    fitting.sort(key=lambda r: r.name != held)
    found = rooms.free_room(ctx, fitting, start, end, out.meetings(), besides=meeting["id"])
    room = found.name if found is not None else None
    if room != held:
        audit(meeting, ctx.now, "room changed", before=held, after=room,
              reason=f"{held} 在新的时间已被占用")
    meeting["room"] = room
    meeting["location"] = rooms.location(room, place)


def cancel(meeting: Meeting, ctx: Context, out: Outcome, *, by: str, reason: str) -> None:
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


def add_attendee(meeting: Meeting, ctx: Context, out: Outcome, person: PersonDict, *,
                 by: str, role: str = "参会人") -> None:
    """The new attendee gets the current version (same UID and SEQUENCE)."""
    if any(a["address"] == person["address"] for a in meeting["attendees"]):
        return
    entry = _attendee(person, role)
    assert entry is not None
    meeting["attendees"].append(entry)
    audit(meeting, ctx.now, "attendee added", by=by, attendee=person["address"])
    _send_invite(meeting, ctx, out, to=[entry], purpose="meeting_invite")
