"""An iMIP invite as the workflow wrote it, read back as a native calendar meeting.

The workflow writes every invite, update and cancellation as iMIP (RFC 6047): a
message with a text/calendar part. On a backend with a native calendar (Exchange) the
outbox hands a single meeting to the server instead, which sends its own invitations;
this module reads the meeting out of the message the outbox holds, a series with its
rule, skipped and moved occurrences. A calendar that cannot keep a series (`accepts`)
is not handed it: the iMIP the workflow wrote goes out instead.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
from dataclasses import dataclass
from email.message import EmailMessage

import icalendar

from collabd.mailbox.base import Attendee, NativeMeeting

_TAG = re.compile(r"\[[A-Z]{2}-\d{4}-\d{4,}\]")


@dataclass(frozen=True)
class NativeInvite:
    method: str  # REQUEST or CANCEL
    meeting: NativeMeeting
    body_html: str  # the message's own HTML: the agenda, or the reason for cancelling


def invite_in(raw: bytes) -> NativeInvite | None:
    """The meeting an iMIP REQUEST or CANCEL carries; None for any other message."""
    if b"text/calendar" not in raw:
        return None
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    part = next((p for p in message.walk() if p.get_content_type() == "text/calendar"), None)
    if part is None:
        return None
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return None
    calendar = icalendar.Calendar.from_ical(payload)
    method = str(calendar.get("method", "")).upper()
    events = calendar.walk("VEVENT")
    event = next(iter(events), None)
    if method not in ("REQUEST", "CANCEL") or event is None:
        return None
    # A project's recurring meeting: its RRULE, the days skipped, the occurrences moved
    # (override VEVENTs); or one occurrence of it (a RECURRENCE-ID alone).
    master = next((e for e in events if e.get("recurrence-id") is None), None)
    rrule = master.get("rrule") if master is not None else None
    exdates: list[dt.datetime] = []
    if master is not None:
        for value in _as_list(master.get("exdate")):
            exdates += [_moment(d.dt) for d in getattr(value, "dts", [])]
    moved = [(_moment(e.decoded("recurrence-id")), _moment(e.decoded("dtstart")),
              _moment(e.decoded("dtend"))) for e in events
             if e.get("recurrence-id") is not None and master is not None]
    occurrence = (_moment(event.decoded("recurrence-id"))
                  if master is None and event.get("recurrence-id") is not None else None)
    if master is not None:
        event = master
    attendees = []
    for value in _as_list(event.get("attendee")):
        address = str(value).removeprefix("mailto:").removeprefix("MAILTO:")
        params = getattr(value, "params", {})
        attendees.append(Attendee(address=address, name=str(params.get("CN", "")),
                                  required=params.get("ROLE", "REQ-PARTICIPANT")
                                  != "OPT-PARTICIPANT"))
    html_part = message.get_body(preferencelist=("html",))
    html = html_part.get_content() if html_part is not None else ""
    # The record's tag in front, as in every subject collabd writes: the invitations
    # Exchange sends, and the answers and replies to them, then name the meeting.
    tag = _TAG.match(str(message.get("Subject", "")))
    summary = str(event.get("summary", ""))
    meeting = NativeMeeting(
        uid=str(event["uid"]), subject=f"{tag.group(0)} {summary}" if tag else summary,
        start=_moment(event.decoded("dtstart")), end=_moment(event.decoded("dtend")),
        location=str(event.get("location", "")),
        body_html=html or f"<pre>{event.get('description', '')}</pre>",
        attendees=tuple(attendees), sequence=int(event.get("sequence", 0)),
        rrule=rrule.to_ical().decode("ascii") if rrule is not None else None,
        exdates=tuple(exdates), moved=tuple(moved), recurrence_id=occurrence)
    return NativeInvite(method, meeting, html)


def _as_list(value: object) -> list[object]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _moment(value: object) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    raise ValueError(f"expected a date and time in the invite, found {value!r}")
