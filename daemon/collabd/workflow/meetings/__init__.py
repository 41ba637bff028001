"""Meetings: review meetings (需求评审会) and risk meetings (风险排查会), their invites and
RSVPs, and the minutes (会议纪要) driven to a confirmed state within 24 hours.

A meeting is a record `HY-<year>-NNNN`. Its invite is iCalendar over email (iMIP); its
UID starts with the record id, so calendar replies find it without an index. The
organizer in the calendar is the shared mailbox; the person who owns the minutes (the
requester of a review meeting, the secretary of a risk meeting) is the record's
`organizer`.

The package is split by idea: slots (when, where), create (records, invitations,
changes), review, risk, rsvp, minutes, commands.
"""

from __future__ import annotations

from collabd.workflow.meetings.commands import _ADD, _CANCEL, _RESCHEDULE, _TIME, organizer_command
from collabd.workflow.meetings.create import (
    OPEN_MEETING,
    _attendee,
    _dedupe,
    _extra,
    _keep_a_room,
    _new_meeting,
    _send_invite,
    _uid,
    add_attendee,
    cancel,
    reschedule,
)
from collabd.workflow.meetings.minutes import (
    _ITEM_FIELDS,
    _ITEM_LINE,
    _create_tasks,
    _deadline,
    _signed_off,
    action_items,
    ask_for_minutes,
    on_minutes,
    on_minutes_signoff,
    signers,
)
from collabd.workflow.meetings.review import (
    asks_for_review,
    plan_review,
    review_needed,
    want_review,
)
from collabd.workflow.meetings.risk import (
    RiskItem,
    _risk_head,
    _risk_people,
    _risk_row,
    mark_risk,
    plan_risk,
    plan_span,
    planned_percent,
)
from collabd.workflow.meetings.rsvp import _tell_organizer, on_calendar_reply
from collabd.workflow.meetings.series import _place_occurrences as place_occurrences
from collabd.workflow.meetings.series import end_series, plan_series, rule_of
from collabd.workflow.meetings.series import next_moment as series_next_moment
from collabd.workflow.meetings.series import occurrences as series_occurrences
from collabd.workflow.meetings.series import on_tick as series_tick
from collabd.workflow.meetings.shared import (
    attendee,
    clock_length,
    dedupe,
    new_meeting,
    send_invite,
)
from collabd.workflow.meetings.slots import FREE_BUSY_WINDOW, _align, _busy, _clock, book, find_slot

__all__ = [
    "FREE_BUSY_WINDOW",
    "OPEN_MEETING",
    "_ADD",
    "_CANCEL",
    "_ITEM_FIELDS",
    "_ITEM_LINE",
    "_RESCHEDULE",
    "_TIME",
    "RiskItem",
    "_align",
    "_attendee",
    "_busy",
    "_clock",
    "_create_tasks",
    "_deadline",
    "_dedupe",
    "_extra",
    "_keep_a_room",
    "_new_meeting",
    "_risk_head",
    "_risk_people",
    "_risk_row",
    "_send_invite",
    "_signed_off",
    "_tell_organizer",
    "_uid",
    "action_items",
    "add_attendee",
    "ask_for_minutes",
    "asks_for_review",
    "attendee",
    "book",
    "cancel",
    "clock_length",
    "dedupe",
    "end_series",
    "find_slot",
    "mark_risk",
    "new_meeting",
    "on_calendar_reply",
    "on_minutes",
    "on_minutes_signoff",
    "organizer_command",
    "place_occurrences",
    "plan_review",
    "plan_risk",
    "plan_series",
    "plan_span",
    "planned_percent",
    "reschedule",
    "review_needed",
    "rule_of",
    "send_invite",
    "series_next_moment",
    "series_occurrences",
    "series_tick",
    "signers",
    "want_review",
]
