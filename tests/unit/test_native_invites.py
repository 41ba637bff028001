"""An invite read back as a native meeting: a single one; a series with its rule, the
days skipped and the occurrences moved; one occurrence by its RECURRENCE-ID. A calendar
that cannot keep a series (Exchange through EWS) declines it, and the iMIP goes out."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import icalendar

from collabd.outbound.native import invite_in

TZ = ZoneInfo("Asia/Shanghai")


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


def test_a_series_is_read_with_its_rule_skips_and_moves() -> None:
    weekly = _event(rrule={"freq": "weekly", "byday": "FR", "until": dt.datetime(
        2027, 1, 22, 23, 59, tzinfo=dt.UTC)}, exdate=dt.datetime(2026, 12, 25, 15, tzinfo=TZ))
    moved = _event(**{"recurrence-id": dt.datetime(2027, 1, 1, 15, tzinfo=TZ)})
    moved["DTSTART"] = icalendar.vDDDTypes(dt.datetime(2027, 1, 4, 15, tzinfo=TZ))
    moved["DTEND"] = icalendar.vDDDTypes(dt.datetime(2027, 1, 4, 16, tzinfo=TZ))
    invite = invite_in(_invite(weekly, moved))
    assert invite is not None
    meeting = invite.meeting
    assert meeting.rrule == "FREQ=WEEKLY;UNTIL=20270122T235900Z;BYDAY=FR"
    assert meeting.start == dt.datetime(2026, 12, 4, 15, tzinfo=TZ)  # the series, not the move
    assert list(meeting.exdates) == [dt.datetime(2026, 12, 25, 15, tzinfo=TZ)]
    assert list(meeting.moved) == [(dt.datetime(2027, 1, 1, 15, tzinfo=TZ),
                                    dt.datetime(2027, 1, 4, 15, tzinfo=TZ),
                                    dt.datetime(2027, 1, 4, 16, tzinfo=TZ))]
    occurrence = invite_in(_invite(moved))
    assert occurrence is not None
    assert occurrence.meeting.recurrence_id == dt.datetime(2027, 1, 1, 15, tzinfo=TZ)
    assert occurrence.meeting.rrule is None


def test_exchange_through_ews_declines_a_series_and_its_occurrences() -> None:
    from collabd.mailbox.ews import EwsCalendar

    weekly = invite_in(_invite(_event(rrule={"freq": "weekly", "byday": "FR"})))
    single = invite_in(_invite(_event()))
    assert weekly is not None and single is not None
    accepts = EwsCalendar.accepts
    assert not accepts(None, weekly.meeting)  # type: ignore[arg-type]
    assert accepts(None, single.meeting)  # type: ignore[arg-type]
