"""For the other meetings of the procedure (workflow/problems.py): the building blocks
review and risk meetings are made of."""

from __future__ import annotations

from collabd.model import Meeting
from collabd.workflow.context import Context
from collabd.workflow.meetings.create import _attendee, _dedupe, _new_meeting, _send_invite
from collabd.workflow.meetings.slots import _clock
from collabd.workflow.outcome import Outcome

attendee = _attendee
dedupe = _dedupe
new_meeting = _new_meeting
clock_length = _clock


def send_invite(meeting: Meeting, ctx: Context, out: Outcome) -> None:
    _send_invite(meeting, ctx, out, to=meeting["attendees"], purpose="meeting_invite")
