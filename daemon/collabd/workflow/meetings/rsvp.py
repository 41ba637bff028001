"""Attendees' answers to invitations (iTIP REPLY)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from collabd.clock import isoformat
from collabd.inbound.classify import Event
from collabd.model import Meeting
from collabd.workflow.context import Context
from collabd.workflow.meetings.create import add_attendee
from collabd.workflow.outcome import Outcome, audit, changed

# -- RSVPs -------------------------------------------------------------------------------------

def on_calendar_reply(event: Event, ctx: Context) -> Outcome:
    out = Outcome()
    reply = event.calendar
    assert reply is not None
    out.inbound = {"kind": "calendar_reply", "record": event.thread, **reply.to_json()}
    stored = ctx.view.record(event.thread) if event.thread else None
    if stored is None or stored["kind"] != "meeting" or stored.get("uid") != reply.uid:
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


def _tell_organizer(meeting: Meeting, ctx: Context, out: Outcome, template: str,
                    **context: Any) -> None:
    organizer = meeting.get("organizer")
    if not organizer:
        return
    out.send(ctx.draft(template, to=[organizer], record=meeting["id"], purpose=template,
                       meeting=meeting, start=dt.datetime.fromisoformat(meeting["start"]),
                       **context))
