"""The working-day calendar and the State Council's yearly notice: 2026 as the notice
says on every day of the year; a year the installed `holidays` package has no notice
for is said to be unknown (never guessed silently); a year given in calendar.yaml is
used exactly as given."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from collabd.checks import calendar_warnings
from collabd.policy.calendar import WorkCalendar
from collabd.policy.rules import load_rules
from collabd.yamlsrc import ConfigError
from helpers import DATA, REPO

TZ = ZoneInfo("Asia/Shanghai")


def _notice(year: int) -> tuple[set[dt.date], set[dt.date]]:
    """(days off, 调休 workdays) read from the notice's own sentences."""
    off: set[dt.date] = set()
    work: set[dt.date] = set()
    for line in (DATA / f"cn_{year}_holiday_notice.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            continue
        rest, _, duty = line.partition("放假")
        found = re.search(r"(\d+)月(\d+)日（[^）]*）至(?:(\d+)月)?(\d+)日", rest)
        assert found, line
        month, first, month2, last = found.groups()
        start = dt.date(year, int(month), int(first))
        end = dt.date(year, int(month2 or month), int(last))
        off |= {start + dt.timedelta(days=n) for n in range((end - start).days + 1)}
        for m, d in re.findall(r"(\d+)月(\d+)日（周[六日]）", duty):
            work.add(dt.date(year, int(m), int(d)))
    return off, work


def test_2026_is_the_official_notice_on_every_day() -> None:
    off, work = _notice(2026)
    assert len(off) == 33 and len(work) == 6  # 3+9+3+5+3+3+7 days off, six 调休 days
    calendar = load_rules(REPO / "rules", tz=TZ).calendar
    day, wrong = dt.date(2026, 1, 1), []
    while day.year == 2026:
        expected = day in work or (day.weekday() < 5 and day not in off)
        if calendar.is_workday(day) != expected:
            wrong.append(day.isoformat())
        day += dt.timedelta(days=1)
    assert wrong == []
    assert calendar.published(2026)


def _unknown_year() -> int:
    """The first year the installed package has no notice for (2027 as this is written)."""
    calendar = WorkCalendar(TZ)
    year = dt.date.today().year
    while calendar.published(year):
        year += 1
    return year


def test_an_unpublished_year_is_said_from_november_of_the_year_before() -> None:
    year = _unknown_year()
    calendar = WorkCalendar(TZ)
    assert not calendar.published(year)
    assert calendar.unpublished_ahead(dt.date(year - 1, 10, 31)) == []
    assert calendar.unpublished_ahead(dt.date(year - 1, 11, 1)) == [year]
    assert calendar.unpublished_ahead(dt.date(year, 3, 2)) == [year]
    rules = load_rules(REPO / "rules", tz=TZ)
    [warning] = calendar_warnings(rules, dt.date(year - 1, 12, 1))
    assert f"the {year} holiday schedule" in warning and "calendar.yaml" in warning
    assert "pip install -U holidays" in warning


def _rules_with(tmp_path: Path, years: str) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(REPO / "rules", rules)
    path = rules / "calendar.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("years: {}", years),
                    encoding="utf-8")
    return rules


def test_a_year_given_in_calendar_yaml_is_used_as_given(tmp_path: Path) -> None:
    year = _unknown_year()
    rules = load_rules(_rules_with(tmp_path, f"""years:
  {year}:
    days_off: [{year}-01-01, {year}-02-05..{year}-02-11, {year}-10-01 至 {year}-10-07]
    workdays: [{year}-02-13, {year}-10-09]
"""), tz=TZ)
    calendar = rules.calendar
    assert calendar.published(year)
    assert calendar_warnings(rules, dt.date(year - 1, 12, 1)) == []
    days = {dt.date(year, 1, 1): False, dt.date(year, 2, 8): False,
            dt.date(year, 2, 11): False, dt.date(year, 2, 12): True,
            dt.date(year, 2, 13): True,  # a Saturday, given as a workday
            dt.date(year, 10, 5): False, dt.date(year, 10, 9): True}
    # and what the package would have guessed is not used: not given, so a workday
    days[dt.date(year, 4, 5)] = dt.date(year, 4, 5).weekday() < 5
    assert {d: calendar.is_workday(d) for d in days} == days
    # the days next to it are untouched: the year before still the package's
    assert calendar.is_workday(dt.date(year - 1, 10, 1)) == WorkCalendar(TZ).is_workday(
        dt.date(year - 1, 10, 1))


@pytest.mark.parametrize(("years", "said"), [
    ("years:\n  2027:\n    days_off: [2028-01-01]\n", "2028-01-01 is not in 2027"),
    ("years:\n  2027:\n    days_off: [2027-02-10..2027-02-01]\n", "from an earlier"),
    ("years:\n  2027:\n    days_off: [国庆]\n", "is not a date"),
    ("years:\n  2027:\n    days_off: [2027-02-13]\n    workdays: [2027-02-13]\n",
     "both a day off and a workday"),
])
def test_a_wrong_year_entry_is_an_error_at_its_line(tmp_path: Path, years: str,
                                                    said: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_rules(_rules_with(tmp_path, years), tz=TZ)
    text = str(caught.value)
    assert said in text and "calendar.yaml:" in text
