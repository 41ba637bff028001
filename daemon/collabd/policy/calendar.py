"""The working-day calendar: Chinese public holidays and 调休 make-up days, working hours.

Holidays and the weekend days that become workdays (调休) come from the `holidays`
package; the company adds its own days off and workdays in rules/calendar.yaml.

The State Council publishes each year's schedule in November of the year before. For
a year the installed package has no notice for, it guesses the fixed-rule holidays and
knows no 调休 workday: wrong on a dozen days. So the calendar says which years it
really knows (`published`), and calendar.yaml can give a whole year's days (`years`),
which then win over the package for that year.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Iterator, Mapping
from zoneinfo import ZoneInfo

import holidays

from collabd.policy.durations import Duration

_WEEKDAYS = "一二三四五六日"


def _published_years(country: str) -> int | None:
    """The last year whose official schedule the installed `holidays` package carries
    for China (its 调休 days are in the package only once the notice is out); None
    for another country, whose calendar is taken as it is."""
    if country.upper() not in ("CN", "CHN"):
        return None
    try:
        from holidays.countries.china import ChinaStaticHolidays
    except ImportError:  # (a package laid out otherwise: trust it)
        return None
    years = getattr(ChinaStaticHolidays, "special_public_holidays", None) or {}
    return max(years) if years else None


class WorkCalendar:
    def __init__(self, tz: ZoneInfo, *, start: dt.time = dt.time(9), end: dt.time = dt.time(18),
                 lunch: tuple[dt.time, dt.time] | None = None, country: str = "CN",
                 extra_days_off: Iterable[dt.date] = (),
                 extra_workdays: Iterable[dt.date] = (),
                 years: Mapping[int, tuple[Iterable[dt.date], Iterable[dt.date]]] | None = None,
                 ) -> None:
        if end <= start:
            raise ValueError("working hours must end after they start")
        self.tz = tz
        self.start = start
        self.end = end
        self.lunch = lunch
        self.country = country
        self.extra_days_off = frozenset(extra_days_off)
        self.extra_workdays = frozenset(extra_workdays)
        # year → (days off, workdays) as calendar.yaml gives them
        self.years = {year: (frozenset(off), frozenset(work))
                      for year, (off, work) in (years or {}).items()}
        self._holidays = holidays.country_holidays(country)
        self._known = _published_years(country)

    # -- days -----------------------------------------------------------------------

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - a calendar lives as long as its rules
    def is_workday(self, day: dt.date) -> bool:
        if day in self.extra_workdays:
            return True
        if day in self.extra_days_off:
            return False
        given = self.years.get(day.year)
        if given is not None:
            days_off, workdays = given
            return day in workdays or (day.weekday() < 5 and day not in days_off)
        return bool(self._holidays.is_working_day(day))

    def holiday_name(self, day: dt.date) -> str | None:
        given = self.years.get(day.year)
        if given is not None:
            if day not in given[0]:
                return None
            name = self._holidays.get(day)
            return str(name) if name else "假日"
        name = self._holidays.get(day)
        return str(name) if name else None

    def published(self, year: int) -> bool:
        """Is this year's schedule known — the official notice in the installed
        `holidays` package, or the year given in calendar.yaml?"""
        return year in self.years or self._known is None or year <= self._known

    def unpublished_ahead(self, today: dt.date) -> list[int]:
        """The years whose schedule is not known though it is needed: this year, and
        from 1 November the next (when the notice is due and plans reach into it)."""
        wanted = [today.year] + ([today.year + 1] if today.month >= 11 else [])
        return [year for year in wanted if not self.published(year)]

    def next_workday(self, day: dt.date) -> dt.date:
        """The first workday strictly after `day`."""
        day += dt.timedelta(days=1)
        for _ in range(400):
            if self.is_workday(day):
                return day
            day += dt.timedelta(days=1)
        raise ValueError("no workday within 400 days; check extra_days_off in the rules")

    # -- hours -----------------------------------------------------------------------

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - a calendar lives as long as its rules
    def intervals(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The working intervals of one day (two when lunch is excluded), none off-days.
        Cached (a slot search walks the same days for every meeting): read, never change."""
        if not self.is_workday(day):
            return []

        def at(t: dt.time) -> dt.datetime:
            return dt.datetime.combine(day, t, tzinfo=self.tz)

        if self.lunch is None:
            return [(at(self.start), at(self.end))]
        return [(at(self.start), at(self.lunch[0])), (at(self.lunch[1]), at(self.end))]

    def _intervals_from(self, moment: dt.datetime) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        moment = moment.astimezone(self.tz)
        day = moment.date()
        for _ in range(800):
            for begin, finish in self.intervals(day):
                if finish > moment:
                    yield max(begin, moment), finish
            day += dt.timedelta(days=1)

    def is_working_time(self, moment: dt.datetime) -> bool:
        moment = moment.astimezone(self.tz)
        return any(b <= moment < f for b, f in self.intervals(moment.date()))

    def next_working_moment(self, moment: dt.datetime) -> dt.datetime:
        """`moment` itself in working hours, else the start of the next working interval."""
        return next(self._intervals_from(moment))[0]

    @property
    def workday_hours(self) -> float:
        return sum((f - b).total_seconds() for b, f in self.intervals_template()) / 3600

    def intervals_template(self) -> list[tuple[dt.datetime, dt.datetime]]:
        base = dt.date(2000, 1, 3)  # any date; only the times matter

        def at(t: dt.time) -> dt.datetime:
            return dt.datetime.combine(base, t)

        if self.lunch is None:
            return [(at(self.start), at(self.end))]
        return [(at(self.start), at(self.lunch[0])), (at(self.lunch[1]), at(self.end))]

    # -- arithmetic ------------------------------------------------------------------

    def add(self, moment: dt.datetime, duration: Duration) -> dt.datetime:
        """`moment` + `duration`, in working time where the unit says so.

        `N workdays` ends at the close of business of the Nth workday after the day of
        `moment` (a request received on Monday with 3 workdays is due Thursday 18:00;
        one received on Saturday counts Monday as the first). `N working hours` counts
        only time inside working intervals.
        """
        moment = moment.astimezone(self.tz)
        amount = duration.amount
        plain = _clock_time(duration)
        if plain is not None:
            return moment + plain
        if duration.unit == "workdays" and amount == int(amount):
            day = moment.date()
            for _ in range(int(amount)):
                day = self.next_workday(day)
            if amount == 0:
                return self.next_working_moment(moment)
            return self.intervals(day)[-1][1]
        hours = amount * self.workday_hours if duration.unit == "workdays" else amount
        return self._add_working_seconds(moment, hours * 3600)

    def working_seconds(self, start: dt.datetime, end: dt.datetime) -> float:
        """Working time between two moments, in seconds (0 when `end` is not after it)."""
        total = 0.0
        for begin, finish in self._intervals_from(start):
            if begin >= end:
                break
            total += (min(finish, end) - begin).total_seconds()
        return total

    def add_working_seconds(self, moment: dt.datetime, seconds: float) -> dt.datetime:
        """The moment `seconds` of working time after `moment`."""
        return self._add_working_seconds(moment, seconds)

    def _add_working_seconds(self, moment: dt.datetime, seconds: float) -> dt.datetime:
        remaining = seconds
        for begin, finish in self._intervals_from(moment):
            span = (finish - begin).total_seconds()
            if remaining <= span:
                return begin + dt.timedelta(seconds=remaining)
            remaining -= span
        raise ValueError("duration reaches beyond the calendar")

    def subtract(self, moment: dt.datetime, duration: Duration) -> dt.datetime:
        """`moment` − `duration` (for reminders *before* a deadline)."""
        moment = moment.astimezone(self.tz)
        plain = _clock_time(duration)
        if plain is not None:
            return moment - plain
        if duration.unit == "workdays" and duration.amount == int(duration.amount):
            day = moment.date()
            for _ in range(int(duration.amount)):
                day -= dt.timedelta(days=1)
                while not self.is_workday(day):
                    day -= dt.timedelta(days=1)
            return dt.datetime.combine(day, moment.timetz()).astimezone(self.tz)
        hours = (duration.amount * self.workday_hours if duration.unit == "workdays"
                 else duration.amount)
        return self._subtract_working_seconds(moment, hours * 3600)

    def _subtract_working_seconds(self, moment: dt.datetime, seconds: float) -> dt.datetime:
        remaining = seconds
        day = moment.date()
        for _ in range(800):
            for begin, finish in reversed(self.intervals(day)):
                end = min(finish, moment)
                if end <= begin:
                    continue
                span = (end - begin).total_seconds()
                if remaining <= span:
                    return end - dt.timedelta(seconds=remaining)
                remaining -= span
            day -= dt.timedelta(days=1)
        raise ValueError("duration reaches before the calendar")

    def workdays_between(self, start: dt.date, end: dt.date) -> int:
        count = 0
        day = start
        while day < end:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                count += 1
        return count

    # -- words -----------------------------------------------------------------------

    @staticmethod
    def cn_date(moment: dt.datetime | dt.date) -> str:
        """2026年12月8日（周二）"""
        day = moment.date() if isinstance(moment, dt.datetime) else moment
        return f"{day.year}年{day.month}月{day.day}日（周{_WEEKDAYS[day.weekday()]}）"

    def cn_datetime(self, moment: dt.datetime) -> str:
        """2026年12月8日（周二）18:00"""
        local = moment.astimezone(self.tz)
        return f"{self.cn_date(local)}{local:%H:%M}"


def _clock_time(duration: Duration) -> dt.timedelta | None:
    """The plain length of a duration in clock time; None for working-time units."""
    seconds = {"minutes": 60, "hours": 3600, "days": 86400}.get(duration.unit)
    return None if seconds is None else dt.timedelta(seconds=duration.amount * seconds)
