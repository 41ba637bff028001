"""Working-day arithmetic across the 2026/2027 Chinese holidays and 调休 make-up days."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from collabd.policy.calendar import WorkCalendar
from collabd.policy.durations import parse_duration

TZ = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar(TZ)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ)


@pytest.mark.parametrize(("day", "workday"), [
    ("2026-10-01", False),  # National Day
    ("2026-10-07", False),  # the golden week's substituted day off
    ("2026-10-10", True),   # 调休: a Saturday that is a workday
    ("2026-09-20", True),   # 调休 Sunday
    ("2026-02-14", True),   # 调休 Saturday before the Spring Festival
    ("2026-02-20", False),  # Spring Festival day off
    ("2026-12-31", True),
    ("2027-01-01", False),  # New Year's Day
    ("2027-01-02", False),  # an ordinary Saturday
    ("2027-02-09", False),  # Spring Festival 2027
    ("2026-12-07", True),   # an ordinary Monday
])
def test_workdays(day: str, workday: bool) -> None:
    assert CAL.is_workday(dt.date.fromisoformat(day)) is workday


@pytest.mark.parametrize(("start", "duration", "end"), [
    # N workdays: close of business of the Nth workday after the start's day.
    ("2026-12-01 10:00", "3 workdays", "2026-12-04 18:00"),
    ("2026-09-30 10:00", "3 workdays", "2026-10-10 18:00"),  # golden week, then 调休 Sat
    ("2026-12-31 15:00", "1 workday", "2027-01-04 18:00"),   # holiday and weekend skipped
    ("2026-02-13 10:00", "1 workday", "2026-02-14 18:00"),   # Saturday is a workday here
    ("2026-12-05 11:00", "1 workday", "2026-12-07 18:00"),   # received on a Saturday
    # Working hours: only time inside 09:00-18:00 on workdays counts.
    ("2026-12-04 16:00", "4 working hours", "2026-12-07 11:00"),
    ("2026-12-31 17:00", "48 working hours", "2027-01-11 11:00"),
    # Clock time ignores the calendar.
    ("2026-12-31 17:00", "24h", "2027-01-01 17:00"),
    ("2026-12-31 17:00", "2d", "2027-01-02 17:00"),
])
def test_adding_durations(start: str, duration: str, end: str) -> None:
    assert CAL.add(at(start), parse_duration(duration)) == at(end)


@pytest.mark.parametrize(("deadline", "duration", "start"), [
    ("2026-10-12 18:00", "1 workday", "2026-10-10 18:00"),  # back onto the 调休 Saturday
    ("2027-01-04 18:00", "1 workday", "2026-12-31 18:00"),
    ("2026-12-07 10:00", "2 working hours", "2026-12-04 17:00"),
    ("2026-12-03 14:00", "4h", "2026-12-03 10:00"),
])
def test_subtracting_durations(deadline: str, duration: str, start: str) -> None:
    assert CAL.subtract(at(deadline), parse_duration(duration)) == at(start)


def test_lunch_and_the_company_own_days() -> None:
    cal = WorkCalendar(TZ, lunch=(dt.time(12), dt.time(13, 30)),
                       extra_days_off=[dt.date(2026, 12, 24)],
                       extra_workdays=[dt.date(2026, 12, 26)])
    assert cal.add(at("2026-12-23 11:00"), parse_duration("4 working hours")) == at(
        "2026-12-23 16:30")
    assert not cal.is_working_time(at("2026-12-23 12:30"))
    assert not cal.is_workday(dt.date(2026, 12, 24))  # a company day off (Thursday)
    assert cal.is_workday(dt.date(2026, 12, 26))  # a company workday (Saturday)
    assert cal.add(at("2026-12-23 10:00"), parse_duration("1 workday")) == at("2026-12-25 18:00")


def test_next_working_moment() -> None:
    assert CAL.next_working_moment(at("2026-12-31 19:00")) == at("2027-01-04 09:00")
    assert CAL.next_working_moment(at("2026-12-07 10:15")) == at("2026-12-07 10:15")


@pytest.mark.parametrize("text", ["3 wrkdays", "three days", "24", "h24", ""])
def test_unparseable_durations(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)
