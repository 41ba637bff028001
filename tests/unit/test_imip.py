"""Calendar replies from real clients (tests/data/imip/, with provenance) are read."""

from __future__ import annotations

import datetime as dt
import json

import icalendar
import pytest

from collabd.inbound import imip
from collabd.inbound.message import read_message
from helpers import IMIP, _reply_ics, collabd

REAL = {
    "apple_ical_reply_accepted.eml": ("1E71F9C8-AEDA-48EB-98D0-76E898F6BB5C", "xyzzy@example.com",
                                      "ACCEPTED", 7),
    "exchange_owa_reply_accepted_de.eml": ("0e4a0959-e1c7-4c5a-b353-d7abbd8ca8ac",
                                           "markus.brechtel@uk-koeln.de", "ACCEPTED", 0),
    "exchange_owa_reply_declined_comment_de.eml": ("abcfacd3-4db3-4c42-bcf5-0c17752c65fb",
                                                   "markus.brechtel@uk-koeln.de", "DECLINED",
                                                   0),
}


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_client_replies(name: str) -> None:
    message = read_message((IMIP / name).read_bytes())
    reply = imip.find(message.body.calendars)
    assert reply is not None and reply.method == "REPLY"
    uid, attendee, partstat, sequence = REAL[name]
    assert (reply.uid, reply.answers[0].address, reply.answers[0].partstat,
            reply.sequence) == (uid, attendee, partstat, sequence)


def test_exchange_decline_comment_is_kept() -> None:
    reply = imip.parse((IMIP / "exchange_reply_declined_comment_en.ics").read_bytes())
    assert reply is not None
    assert reply.answers[0].partstat == "DECLINED"
    assert reply.comment == "test-message-from-the-calendar"
    assert reply.answers[0].name == "Eigenmann, Martin"


def test_delegation_and_counter_from_an_exchange_reply_shape() -> None:
    template = (IMIP / "exchange_reply_declined_comment_en.ics").read_bytes()
    delegated = imip.parse(_reply_ics(template, uid="HY-2026-0001-x@example.com", sequence=0,
                                      attendee="zheng.hao@example.com", name="郑浩",
                                      partstat="DELEGATED",
                                      delegated_to="zhou.jie@example.com"))
    assert delegated is not None
    assert delegated.answers[0].delegated_to == ["zhou.jie@example.com"]
    cal = icalendar.Calendar.from_ical(template)
    cal["METHOD"] = "COUNTER"
    event = next(iter(cal.walk("VEVENT")))
    event["DTSTART"] = icalendar.vDDDTypes(dt.datetime(2026, 12, 3, 6, 0, tzinfo=dt.UTC))
    event["DTEND"] = icalendar.vDDDTypes(dt.datetime(2026, 12, 3, 7, 0, tzinfo=dt.UTC))
    counter = imip.parse(cal.to_ical())
    assert counter is not None and counter.method == "COUNTER"
    assert counter.proposed_start == dt.datetime(2026, 12, 3, 6, 0, tzinfo=dt.UTC)


def test_requests_and_cancellations_are_not_replies() -> None:
    assert imip.parse(b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:x\r\n"
                      b"END:VEVENT\r\nEND:VCALENDAR\r\n") is None
    with pytest.raises(imip.UnreadableCalendar):
        imip.parse(b"not a calendar")


def test_parse_reports_calendar_reply_keys() -> None:
    out = collabd("parse", str(IMIP / "exchange_owa_reply_declined_comment_de.eml"), "--json")
    data = json.loads(out.stdout)
    assert data["kind"] == "calendar_reply"
    assert data["uid"] == "abcfacd3-4db3-4c42-bcf5-0c17752c65fb"
    assert data["attendee"] == "markus.brechtel@uk-koeln.de"
    assert data["partstat"] == "DECLINED" and data["sequence"] == 0
