"""Which invites a native calendar (Exchange, Graph) takes over: a single meeting; a
recurring one, or an occurrence of it, goes out as the iMIP the workflow wrote (the
native calendar would keep only its first occurrence)."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

import icalendar

from collabd.outbound.native import invite_in

TZ = dt.timezone(dt.timedelta(hours=8))


def _invite(*events: icalendar.Event) -> bytes:
    cal = icalendar.Calendar()
    cal.add("prodid", "-//collabd//test//")
    cal.add("version", "2.0")
    cal.add("method", "REQUEST")
    for event in events:
        cal.add_component(event)
    msg = EmailMessage()
    msg["From"] = "collab@example.com"
    msg["To"] = "sun.li@example.com"
    msg["Subject"] = "[PJ-2026-0001] 会议邀请：项目周例会"
    msg.set_content("议程")
    msg.add_alternative(cal.to_ical(), maintype="text", subtype="calendar",
                        params={"method": "REQUEST"})
    return msg.as_bytes()


def _event(**extra: object) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", "series-1@collabd")
    event.add("summary", "项目周例会")
    event.add("dtstart", dt.datetime(2026, 12, 4, 15, tzinfo=TZ))
    event.add("dtend", dt.datetime(2026, 12, 4, 16, tzinfo=TZ))
    event.add("attendee", "mailto:sun.li@example.com")
    for key, value in extra.items():
        event.add(key, value)
    return event


def test_a_single_meeting_is_handed_to_the_native_calendar() -> None:
    invite = invite_in(_invite(_event()))
    assert invite is not None and invite.meeting.uid == "series-1@collabd"
    assert invite.meeting.subject == "[PJ-2026-0001] 项目周例会"


def test_a_series_or_its_occurrence_goes_out_as_imip() -> None:
    weekly = _event(rrule={"freq": "weekly", "byday": "FR", "until": dt.datetime(
        2027, 1, 22, 23, 59, tzinfo=dt.UTC)})
    assert invite_in(_invite(weekly)) is None
    moved = _event(**{"recurrence-id": dt.datetime(2027, 1, 1, 15, tzinfo=TZ)})
    assert invite_in(_invite(weekly, moved)) is None
    assert invite_in(_invite(moved)) is None
