"""The default working day has a lunch break, and a deadline stated in hours never
ends on a weekend or in the evening."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from collabd.config import Config
from collabd.policy.durations import parse_duration
from helpers import DATA, Harness, at, body_text, default_rules, subjects

pytestmark = pytest.mark.integration


def test_the_default_day_has_a_lunch_break() -> None:
    calendar = default_rules().calendar
    assert calendar.is_working_time(at("2026-12-01 11:59"))
    assert not calendar.is_working_time(at("2026-12-01 12:00"))
    assert not calendar.is_working_time(at("2026-12-01 13:29"))
    assert calendar.next_working_moment(at("2026-12-01 12:15")) == at("2026-12-01 13:30")
    # 8 working hours from Tuesday 10:00: 2 h before lunch, 4.5 h after, 1.5 h Wednesday.
    assert calendar.add(at("2026-12-01 10:00"), parse_duration("8 working hours")) == (
        at("2026-12-02 10:30"))


def test_no_meeting_and_no_minutes_deadline_fall_outside_working_time(
        deployment: Config) -> None:
    h = Harness(deployment, "2026-12-03 09:00")  # a Thursday
    try:
        sent = h.at("2026-12-03 10:05", (DATA / "qqmail_numbered_request.eml").read_bytes())
        invite = next(m for m in sent if "会议邀请" in str(m["Subject"]))
        meeting = next(r for r in h.daemon.store.values("records") if r.get("kind") == "meeting")
        start = dt.datetime.fromisoformat(meeting["start"])
        end = dt.datetime.fromisoformat(meeting["end"])
        # Friday 11:00-12:00: after 8 working hours (lunch left out), ending as lunch begins.
        assert (start, end) == (at("2026-12-04 11:00"), at("2026-12-04 12:00"))
        assert "（2026年12月4日（周五）11:00）" in str(invite["Subject"])
        # Asked for when lunch ends; 24 hours later would be Saturday: due Monday 09:00.
        assert h.at("2026-12-04 12:00") == []
        asked = h.at("2026-12-04 13:30")
        assert subjects(asked) == ["[HY-2026-0001] 请于2026年12月7日（周一）09:00前提交会议纪要："
                                   "需求评审会：双十二活动预算"]
    finally:
        h.close()


def test_the_secretary_is_told_of_a_year_the_calendar_does_not_know(tmp_path: Path) -> None:
    from helpers import TEST_2027, edit_rules, make_deployment

    config = make_deployment(tmp_path / "deploy")
    edit_rules(config, "calendar.yaml", (TEST_2027, "years: {}"))  # as shipped
    if default_rules().calendar.published(2027):
        pytest.skip("the installed holidays package already has 2027's notice")
    h = Harness(config, "2026-11-30 10:00")
    try:
        told = "请确认2027年的节假日安排：工作日历尚未包含"
        assert told not in subjects(h.at("2026-11-30 10:05"))  # November: `check` warns
        december = [m for m in h.at("2026-12-01 09:30") if str(m["Subject"]) == told]
        assert [str(m["To"]) for m in december] == ["李静 <li.jing@example.com>"]
        text = body_text(december[0])
        assert "pip install -U holidays" in text and "years: 2027" in text
        assert told not in subjects(h.at("2026-12-02 09:30") + h.at("2026-12-31 17:00"))
        begun = [m for m in h.at("2027-01-04 09:30") if str(m["Subject"]) == told]
        assert len(begun) == 1 and "已经进入2027年" in body_text(begun[0])
        assert told not in subjects(h.at("2027-01-05 09:30"))
    finally:
        h.close()
