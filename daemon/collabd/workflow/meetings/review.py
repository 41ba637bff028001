"""Review meetings (需求评审会): which requests get one, and planning it."""

from __future__ import annotations

from collabd.clock import isoformat
from collabd.model import Request
from collabd.textnorm import fold
from collabd.workflow.context import Context
from collabd.workflow.meetings.create import _attendee, _dedupe, _extra, _new_meeting, _send_invite
from collabd.workflow.meetings.slots import _clock, book
from collabd.workflow.outcome import Outcome, Record, audit


def review_needed(request: Request, ctx: Context) -> bool:
    when = ctx.rules.meetings.review.when
    return request.get("urgency") in when.urgency or request.get("type") in when.type


def asks_for_review(text: str, ctx: Context) -> bool:
    folded = fold(text)
    return any(fold(word) in folded for word in ctx.rules.meetings.review.asked_by_words)


def want_review(request: Request, ctx: Context, *, reason: str) -> None:
    """Decide that `request` gets a review meeting; the next tick plans it and sends the
    invites. (Intake stays cheap and independent of how many meetings exist; the
    invite follows within a minute.)"""
    request["review"] = {"status": "pending", "reason": reason, "at": isoformat(ctx.now)}
    audit(request, ctx.now, "review meeting needed", reason=reason)


def plan_review(request: Request, ctx: Context, out: Outcome, *, reason: str) -> Record:
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
