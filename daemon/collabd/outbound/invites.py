"""Meeting invites as iCalendar (RFC 5545) for iMIP (RFC 6047): small pure functions.

Built with the `icalendar` package. A meeting's VEVENT carries UID and SEQUENCE (an
update keeps the UID and raises the SEQUENCE; a cancellation is METHOD:CANCEL with
STATUS:CANCELLED), DTSTAMP, DTSTART/DTEND in the deployment's zone with its VTIMEZONE,
ORGANIZER (the shared mailbox), one ATTENDEE per person with ROLE, PARTSTAT, RSVP and
CN, SUMMARY, LOCATION, DESCRIPTION (the agenda) and a VALARM reminder.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import email.utils
import functools
import hashlib
from collections.abc import Sequence
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import icalendar

from collabd.model import Attendee, Meeting, PersonRef

PRODID = "-//collabd//collabd 1.0//ZH"
# The VTIMEZONE is written for this range: one STANDARD rule for Asia/Shanghai, what
# Outlook itself writes, instead of the zone's whole history back to 1970.
_TZ_FIRST = dt.date(2000, 1, 1)
_TZ_LAST = dt.date(2038, 1, 1)


def _address(address: str, name: str = "") -> icalendar.vCalAddress:
    value = icalendar.vCalAddress(f"mailto:{address}")
    if name:
        value.params["CN"] = name
    return value


def attendee(person: PersonRef, *, partstat: str = "NEEDS-ACTION") -> icalendar.vCalAddress:
    value = _address(person["address"], person.get("name") or "")
    value.params["ROLE"] = "REQ-PARTICIPANT" if person.get("required", True) else (
        "OPT-PARTICIPANT")
    value.params["PARTSTAT"] = partstat
    value.params["RSVP"] = "TRUE"
    value.params["CUTYPE"] = "INDIVIDUAL"
    return value


def new_vevent(meeting: Meeting, *, organizer: tuple[str, str], stamp: dt.datetime,
               reminder: dt.timedelta, tz: ZoneInfo, cancelled: bool = False,
               attendees: Sequence[PersonRef] | None = None) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", meeting["uid"])
    event.add("sequence", int(meeting.get("sequence", 0)))
    event.add("dtstamp", stamp.astimezone(dt.UTC))
    # In the named zone (TZID=Asia/Shanghai with its VTIMEZONE), not a bare offset:
    # clients show and move meetings by zone.
    event.add("dtstart", dt.datetime.fromisoformat(meeting["start"]).astimezone(tz))
    event.add("dtend", dt.datetime.fromisoformat(meeting["end"]).astimezone(tz))
    event.add("summary", meeting["summary"])
    event.add("location", meeting.get("location") or "")
    event.add("description", meeting.get("agenda") or "")
    event.add("organizer", _address(organizer[0], organizer[1]))
    for person in attendees if attendees is not None else meeting["attendees"]:
        event.add("attendee", attendee(person))
    if cancelled:
        event.add("status", "CANCELLED")
    else:
        event.add("status", "CONFIRMED")
        event.add("transp", "OPAQUE")
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", meeting["summary"])
        alarm.add("trigger", -reminder)
        event.add_component(alarm)
    return event


@functools.lru_cache(maxsize=16)
def _vtimezone(tz: ZoneInfo) -> bytes:
    # Computing a zone's transitions takes icalendar ~25 ms; a zone does not change while
    # the daemon runs, so it is computed once and parsed back for each invite.
    return bytes(icalendar.Timezone.from_tzinfo(tz, first_date=_TZ_FIRST,
                                                last_date=_TZ_LAST).to_ical())


def calendar_bytes(method: str, event: icalendar.Event, tz: ZoneInfo,
                   more: Sequence[icalendar.Event] = ()) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    calendar.add_component(event)
    for other in more:
        calendar.add_component(other)
    data = bytes(calendar.to_ical())
    # The zone's VTIMEZONE (serialised once, see _vtimezone) goes before the event, as
    # add_missing_timezones would put it.
    marker = b"BEGIN:VEVENT\r\n"
    return data.replace(marker, _vtimezone(tz) + marker, 1)


def request_ics(meeting: Meeting, *, organizer: tuple[str, str], stamp: dt.datetime,
                reminder: dt.timedelta, tz: ZoneInfo) -> bytes:
    event = new_vevent(meeting, organizer=organizer, stamp=stamp, reminder=reminder, tz=tz)
    overrides: list[icalendar.Event] = []
    if meeting.get("rrule"):
        # A series: one UID, its rule until its last day; an occurrence on a holiday
        # skipped (EXDATE) or moved (an override with its RECURRENCE-ID).
        rule = icalendar.vRecur.from_ical(meeting.get("rrule", ""))
        rule["UNTIL"] = dt.datetime.fromisoformat(
            meeting.get("until") or meeting["start"]).astimezone(dt.UTC)
        event.add("rrule", rule)
        for skipped in meeting.get("exdates", []):
            event.add("exdate", dt.datetime.fromisoformat(skipped).astimezone(tz))
        length = dt.datetime.fromisoformat(meeting["end"]) - dt.datetime.fromisoformat(
            meeting["start"])
        for original, moved in meeting.get("moved", {}).items():
            override = new_vevent(meeting, organizer=organizer, stamp=stamp,
                                  reminder=reminder, tz=tz)
            start = dt.datetime.fromisoformat(moved).astimezone(tz)
            override["DTSTART"] = icalendar.vDDDTypes(start)
            override["DTEND"] = icalendar.vDDDTypes(start + length)
            override.add("recurrence-id", dt.datetime.fromisoformat(original).astimezone(tz))
            overrides.append(override)
    return calendar_bytes("REQUEST", event, tz, overrides)


def cancel_ics(meeting: Meeting, *, organizer: tuple[str, str], stamp: dt.datetime,
               tz: ZoneInfo) -> bytes:
    return calendar_bytes("CANCEL", new_vevent(meeting, organizer=organizer, stamp=stamp,
                                               reminder=dt.timedelta(0), tz=tz,
                                               cancelled=True), tz)


def cancel_occurrence_ics(meeting: Meeting, original: dt.datetime, actual: dt.datetime, *,
                          organizer: tuple[str, str], stamp: dt.datetime,
                          tz: ZoneInfo) -> bytes:
    """One occurrence of a series called off: its RECURRENCE-ID, cancelled."""
    event = new_vevent(meeting, organizer=organizer, stamp=stamp, reminder=dt.timedelta(0),
                       tz=tz, cancelled=True)
    length = dt.datetime.fromisoformat(meeting["end"]) - dt.datetime.fromisoformat(
        meeting["start"])
    event["DTSTART"] = icalendar.vDDDTypes(actual.astimezone(tz))
    event["DTEND"] = icalendar.vDDDTypes(actual.astimezone(tz) + length)
    event.add("recurrence-id", original.astimezone(tz))
    return calendar_bytes("CANCEL", event, tz)


_ANSWER_WORDS = {"ACCEPTED": "已接受", "DECLINED": "已拒绝", "TENTATIVE": "暂定"}


def native_answer(meeting: Meeting, attendee: Attendee, partstat: str, *,
                  answered_at: dt.datetime | None, organizer: str, stamp: dt.datetime
                  ) -> bytes:
    """An attendee's answer read from the server's calendar (Exchange), written as the
    iMIP REPLY their client would have sent, so that it takes the same way in.

    Its Message-ID is derived from the meeting, the attendee, the answer, when it was
    given and what it replaces: the same observation read twice is one message (the
    journal drops the second), a changed answer is a new one.
    """
    event = icalendar.Event()
    event.add("uid", meeting["uid"])
    event.add("sequence", int(meeting.get("sequence", 0)))
    event.add("dtstamp", stamp.astimezone(dt.UTC))
    event.add("dtstart", dt.datetime.fromisoformat(meeting["start"]).astimezone(dt.UTC))
    event.add("dtend", dt.datetime.fromisoformat(meeting["end"]).astimezone(dt.UTC))
    event.add("summary", meeting.get("summary") or meeting.get("title") or "")
    event.add("organizer", _address(organizer))
    event.add("attendee", attendee_answer(attendee, partstat))
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "REPLY")
    calendar.add_component(event)
    key = "|".join((meeting["uid"], attendee["address"].lower(), partstat,
                    str(meeting.get("sequence", 0)), str(attendee.get("partstat")),
                    str(attendee.get("replied")), str(answered_at)))
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:24]
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = email.utils.formataddr((attendee.get("name") or "", attendee["address"]))
    message["To"] = organizer
    message["Subject"] = (f"{_ANSWER_WORDS.get(partstat, partstat)}："
                          f"{meeting.get('summary') or meeting.get('title') or ''}")
    message["Date"] = email.utils.format_datetime(stamp)
    message["Message-ID"] = f"<answer.{digest}@collabd.calendar>"
    message["X-Collabd-Source"] = "the attendee's answer in the mail server's calendar"
    message.set_content(bytes(calendar.to_ical()), maintype="text", subtype="calendar",
                        params={"method": "REPLY"})
    return message.as_bytes()


def attendee_answer(attendee: PersonRef, partstat: str) -> icalendar.vCalAddress:
    value = _address(attendee["address"], attendee.get("name") or "")
    value.params["PARTSTAT"] = partstat
    return value
