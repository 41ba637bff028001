"""Risk meetings: ad hoc within 48 hours when work turns 滞后/阻塞 or lags its plan, and
the weekly one listing every open risk item — skipped when there is nothing to discuss."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from collabd.config import Config
from helpers import (
    DATA,
    Harness,
    body_text,
    calendar_part,
    no_lunch_break,
    no_review_meetings,
    reply_to,
    subjects,
)

pytestmark = pytest.mark.integration

RECEIVER = "孙丽 <sun.li@example.com>"


@pytest.fixture
def h(deployment: Config) -> Iterator[Harness]:
    no_lunch_break(deployment)
    no_review_meetings(deployment)  # the flows under test here are others
    harness = Harness(deployment, "2026-11-30 09:00")
    yield harness
    harness.close()


def test_blocked_task_gets_a_risk_meeting_within_48_hours(h: Harness) -> None:
    h.at("2026-11-30 10:00", (DATA / "foxmail_gbk_request.eml").read_bytes())
    notify = h.sent("新的跨部门需求")
    sent = h.at("2026-12-02 10:00", reply_to(
        notify, sender=RECEIVER, text="阻塞，原因：测试环境不可用，等待运维扩容。"))
    invite = next(m for m in sent if "风险排查会" in str(m["Subject"]))
    ics = calendar_part(invite).decode()
    # 2 working hours of notice, on a slot boundary: 12:00 the same day.
    assert "DTSTART;TZID=Asia/Shanghai:20261202T120000" in ics
    # The secretary organises it; the receiver and the requester attend.
    for address in ("li.jing@example.com", "sun.li@example.com", "zhang.wei@example.com"):
        assert address in str(invite["To"])
    # The receiving head, whom the risk notice tells of the meeting, is invited too,
    # as an optional attendee (ROLE=OPT-PARTICIPANT: the meeting does not wait for them).
    assert "zhao.qiang@example.com" in str(invite["To"])
    head = next(a for a in h.record(str(invite["X-Collabd-Record"]))["attendees"]
                if a["address"] == "zhao.qiang@example.com")
    assert head["required"] is False
    assert "OPT-PARTICIPANT" in ics.replace("\r\n ", "")
    agenda = body_text(invite)
    assert "XQ-2026-0001" in agenda and "测试环境不可用" in agenda and "阻塞" in agenda
    record = h.record("XQ-2026-0001")
    assert record["risk"] is True and "risk meeting planned" in h.whats("XQ-2026-0001")
    # A second report of the same risk does not plan a second meeting.
    sent = h.at("2026-12-02 10:30",
                reply_to(notify, sender=RECEIVER, text="仍然阻塞，原因：未排期"))
    assert not any("风险排查会" in str(m["Subject"]) for m in sent)


def test_a_task_lagging_its_plan_becomes_a_risk(h: Harness) -> None:
    h.at("2026-11-30 10:00", (DATA / "foxmail_gbk_request.eml").read_bytes())
    notify = h.sent("新的跨部门需求")
    # 30% done with the due date (20 Dec) near: far behind the plan.
    h.at("2026-12-01 10:00", reply_to(notify, sender=RECEIVER, text="进度 30%，按计划推进"))
    assert not h.record("XQ-2026-0001").get("risk")
    sent = h.at("2026-12-16 10:00")
    record = h.record("XQ-2026-0001")
    assert record["risk"] is True and record["risk_reason"].startswith("进度落后计划")
    assert any("风险排查会" in str(m["Subject"]) for m in sent)


def test_weekly_risk_meeting_lists_every_risk_and_is_skipped_without_one(h: Harness) -> None:
    # Friday 4 Dec 15:00; invites go out one workday before (Thursday 15:00).
    h.at("2026-12-03 15:00")  # no risk items: no meeting, no invite
    assert h.daemon.view.meta("risk_weekly:2026-12-04") == {
        "skipped": "no open risk items", "at": "2026-12-03T15:00:00+08:00"}
    h.at("2026-12-04 09:00", (DATA / "foxmail_gbk_request.eml").read_bytes(),
         (DATA / "qqmail_numbered_request.eml").read_bytes())
    notify = h.sent("新的跨部门需求", to="sun.li@example.com")
    h.at("2026-12-07 10:00", reply_to(notify, sender=RECEIVER, text="状态：滞后，原因：需求变更"))
    sent = h.at("2026-12-10 15:00")
    weekly = [m for m in sent if "风险排查会（2026年12月11日（周五）" in str(m["Subject"])]
    assert len(weekly) == 1
    assert "DTSTART;TZID=Asia/Shanghai:20261211T150000" in calendar_part(weekly[0]).decode()
    assert "需求变更" in body_text(weekly[0])
    assert h.at("2026-12-10 15:05") == []  # once per week


def test_nothing_goes_out_outside_working_hours(h: Harness) -> None:
    h.at("2026-12-01 10:00", (DATA / "qqmail_numbered_request.eml").read_bytes())
    # The receiver's deadline (3 workdays) passes on Friday 18:00; the ladder's steps
    # wait for working hours: nothing on the weekend, the catch-up on Monday morning.
    assert h.at("2026-12-04 18:30") == []
    assert h.at("2026-12-05 10:00") == []
    assert h.at("2026-12-06 23:00") == []
    monday = h.at("2026-12-07 09:00")
    assert subjects(monday) == [
        "[XQ-2026-0001] 已逾期：接收方未在时限内响应需求（期限 2026年12月4日（周五）18:00）"]
    audit = h.record("XQ-2026-0001")["audit"]
    assert [a["what"] for a in audit].count("rule step superseded") == 1
