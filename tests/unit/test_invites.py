"""Invites as iCalendar: golden files (time frozen, UID fixed, compared regardless of
property order), read back by icalendar and by vobject, an independent parser."""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject

from collabd.outbound.invites import cancel_ics, request_ics
from helpers import DATA

TZ = ZoneInfo("Asia/Shanghai")
GOLDEN = DATA / "golden"
STAMP = dt.datetime(2026, 12, 1, 10, 5, tzinfo=TZ)
ORGANIZER = ("collab@example.com", "跨部门协作秘书")

MEETING = {
    "uid": "HY-2026-0001-0123456789ab@example.com",
    "sequence": 0,
    "start": "2026-12-02T09:30:00+08:00",
    "end": "2026-12-02T10:30:00+08:00",
    "summary": "需求评审会：双十二活动预算",
    "location": "总部3楼第一会议室；线上：https://meeting.example.com/review",
    "agenda": "需求评审会议程（XQ-2026-0001）\n\n一、需求背景与目标\n双十二活动预算需要提前锁定。",
    "attendees": [
        {"name": "何芳", "address": "he.fang@example.com", "required": True},
        {"name": "郑浩", "address": "zheng.hao@example.com", "required": True},
        {"name": "黄磊", "address": "huang.lei@example.com", "required": False},
    ],
}


def _normalised(data: bytes) -> set[tuple[str, str, str, str]]:
    """Every property of every component, as (component, name, params, value)."""
    out = set()
    for component in icalendar.Calendar.from_ical(data).walk():
        for name, value in component.property_items(recursive=False, sorted=False):
            params = getattr(value, "params", {})
            ical = value if isinstance(value, str | bytes) else value.to_ical()
            text = ical.decode() if isinstance(ical, bytes) else str(ical)
            out.add((component.name, name, repr(sorted(dict(params).items())), text))
    return out


def _check_golden(name: str, data: bytes) -> None:
    path = GOLDEN / name
    if os.environ.get("COLLABD_REGEN_GOLDEN") or not path.exists():
        path.write_bytes(data)
        pytest.fail(f"{path} written; review it and commit it")
    assert _normalised(data) == _normalised(path.read_bytes())


def test_request_matches_golden_and_parses_twice() -> None:
    data = request_ics(MEETING, organizer=ORGANIZER, stamp=STAMP,
                       reminder=dt.timedelta(minutes=15), tz=TZ)
    _check_golden("review_request.ics", data)
    event = next(iter(icalendar.Calendar.from_ical(data).walk("VEVENT")))
    assert str(event["UID"]) == MEETING["uid"] and int(event["SEQUENCE"]) == 0
    assert event["DTSTART"].dt == dt.datetime(2026, 12, 2, 9, 30, tzinfo=TZ)
    assert event["DTSTART"].params["TZID"] == "Asia/Shanghai"
    roles = {str(a): a.params["ROLE"] for a in event["ATTENDEE"]}
    assert roles["mailto:huang.lei@example.com"] == "OPT-PARTICIPANT"
    assert {a.params["CN"] for a in event["ATTENDEE"]} == {"何芳", "郑浩", "黄磊"}
    assert all(a.params["PARTSTAT"] == "NEEDS-ACTION" and a.params["RSVP"] == "TRUE"
               for a in event["ATTENDEE"])
    # The independent parser reads the same meeting, Chinese names and all.
    parsed = vobject.readOne(data.decode("utf-8"))
    assert parsed.method.value == "REQUEST"
    v = parsed.vevent
    assert v.uid.value == MEETING["uid"]
    assert v.dtstart.value == dt.datetime(2026, 12, 2, 9, 30, tzinfo=TZ)
    assert v.summary.value == "需求评审会：双十二活动预算"
    assert sorted(a.params["CN"][0] for a in v.attendee_list) == sorted(["何芳", "郑浩", "黄磊"])
    assert v.valarm.trigger.value == dt.timedelta(minutes=-15)
    assert parsed.vtimezone.tzid.value == "Asia/Shanghai"


def test_update_keeps_uid_and_raises_sequence() -> None:
    moved = dict(MEETING, sequence=1, start="2026-12-03T14:00:00+08:00",
                 end="2026-12-03T15:00:00+08:00")
    data = request_ics(moved, organizer=ORGANIZER, stamp=STAMP,
                       reminder=dt.timedelta(minutes=15), tz=TZ)
    _check_golden("review_update.ics", data)
    v = vobject.readOne(data.decode("utf-8")).vevent
    assert v.uid.value == MEETING["uid"] and v.sequence.value == "1"


def test_cancel_is_method_cancel_with_status_cancelled() -> None:
    data = cancel_ics(dict(MEETING, sequence=2), organizer=ORGANIZER, stamp=STAMP, tz=TZ)
    _check_golden("review_cancel.ics", data)
    parsed = vobject.readOne(data.decode("utf-8"))
    assert parsed.method.value == "CANCEL"
    assert parsed.vevent.status.value == "CANCELLED"
    assert parsed.vevent.sequence.value == "2"
    assert not hasattr(parsed.vevent, "valarm")
