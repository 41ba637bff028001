"""Department figures (部门协作绩效) on a constructed history whose answers are known by
hand: November 2026 (no holidays; working hours 09:00-18:00, 9 hours a day) against
October."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from collabd import figures
from collabd.policy.calendar import WorkCalendar

TZ = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar(TZ)
PEOPLE = {"rd@example.com": "研发部", "fin@example.com": "财务部", "mkt@example.com": "市场部",
          "rd.head@example.com": "研发部"}


def t(text: str) -> str:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ).isoformat()


def request(rid: str, created: str, *, responded: str | None, due: str, receiver: str = "研发部",
            due_date: str | None = None, delivered: str | None = None,
            **more: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": rid, "kind": "request", "title": rid, "status": "in_progress",
        "created": t(created), "receiver_dept": receiver, "response_due": t(due),
        "responded": t(responded) if responded else None, "due_date": due_date,
        "deliveries": [{"round": 1, "at": t(delivered)}] if delivered else [], "audit": []}
    record.update(more)
    return record


def history() -> list[dict[str, Any]]:
    fired = [
        {"at": t("2026-11-12 18:00"), "what": "rule fired", "template": "overdue",
         "depts": ["研发部"], "to": ["rd@example.com"]},
        {"at": t("2026-11-13 18:00"), "what": "rule fired", "template": "escalation",
         "depts": ["研发部"], "to": ["rd.head@example.com"]},
        # recorded before the ladder named departments: whom it went to says
        {"at": t("2026-11-16 18:00"), "what": "rule fired", "template": "escalation",
         "to": ["rd.head@example.com"]},
        {"at": t("2026-11-11 09:00"), "what": "rule fired", "template": "reminder",
         "depts": ["研发部"]},  # a reminder is neither overdue nor an escalation
    ]
    return [
        # answered in 2 working hours, on time; delivered on its due date
        request("XQ-A", "2026-11-02 10:00", responded="2026-11-02 12:00",
                due="2026-11-05 18:00", due_date="2026-11-10", delivered="2026-11-10 17:00",
                signoffs=[{"kind": "deliverable", "round": 1, "by": "mkt@example.com",
                           "decision": "accepted", "at": t("2026-11-11 10:00")}]),
        # answered the next day (9 + 1 = 10 working hours), after its deadline; due
        # 11-20 and never delivered
        request("XQ-B", "2026-11-03 09:00", responded="2026-11-04 10:00",
                due="2026-11-03 18:00", due_date="2026-11-20"),
        # never answered, its deadline passed: late, and the ladder fired
        request("XQ-C", "2026-11-09 09:00", responded=None, due="2026-11-12 18:00",
                audit=fired),
        # arrived on the month's last afternoon, due in December: not counted yet
        request("XQ-D", "2026-11-30 17:00", responded=None, due="2026-12-03 18:00"),
        # 财务部 receives; 研发部 cooperates and answered in 6 working hours
        request("XQ-E", "2026-11-16 09:00", responded="2026-11-17 09:00",
                due="2026-11-18 18:00", receiver="财务部",
                departments=[{"dept": "研发部", "role": "cooperating",
                              "responded": t("2026-11-16 15:00")}]),
        # October: answered in 4 working hours, on time
        request("XQ-F", "2026-10-12 09:00", responded="2026-10-12 13:00",
                due="2026-10-15 18:00"),
        # a project task finished early, and one called off (nothing owed)
        {"id": "RW-1", "kind": "task", "title": "接口", "status": "done", "project": "PJ-1",
         "dept": "研发部", "created": t("2026-11-01 09:00"), "due_date": "2026-11-25",
         "actual_finish": "2026-11-24", "audit": []},
        {"id": "RW-2", "kind": "task", "title": "取消", "status": "cancelled",
         "project": "PJ-1", "dept": "研发部", "created": t("2026-11-01 09:00"),
         "due_date": "2026-11-27", "audit": []},
        # minutes sent 11-05 10:00: 财务部 confirmed in 4 working hours, 研发部 in 9
        {"id": "HY-1", "kind": "meeting", "title": "评审", "status": "minutes_confirmed",
         "created": t("2026-11-04 09:00"), "audit": [],
         "minutes": {"rounds": [{"round": 1, "distributed": t("2026-11-05 10:00")}]},
         "signoffs": [
             {"kind": "minutes", "round": 1, "by": "fin@example.com", "decision": "confirmed",
              "at": t("2026-11-05 14:00")},
             {"kind": "minutes", "round": 1, "by": "rd@example.com", "decision": "confirmed",
              "at": t("2026-11-06 10:00")}]},
        # problems to 研发部: one closed in 12 working hours, one still open
        {"id": "WT-1", "kind": "problem", "title": "口径", "status": "closed",
         "severity": "重要", "target_dept": "研发部", "created": t("2026-11-02 09:00"),
         "closed": t("2026-11-03 12:00"), "audit": []},
        {"id": "WT-2", "kind": "problem", "title": "故障", "status": "open",
         "severity": "重大", "target_dept": "研发部", "created": t("2026-11-20 09:00"),
         "audit": []},
    ]


def compute(dept: str | None = None) -> dict[str, Any]:
    return figures.departments(
        history(), figures.month(dt.date(2026, 11, 1), tz=TZ),
        dt.datetime(2026, 12, 1, 9, 30, tzinfo=TZ), calendar=CAL, dept_of=PEOPLE.get,
        names=["研发部", "财务部", "市场部"], dept=dept)


def row(data: dict[str, Any], dept: str) -> dict[str, Any]:
    return next(r for r in data["rows"] if r["dept"] == dept)


def test_response_times_and_on_time_rate() -> None:
    rd = row(compute(), "研发部")["current"]
    assert rd["responses"] == 3  # A, B and E (as cooperating); C never answered
    assert rd["response_median_h"] == 6.0
    assert rd["response_p90_h"] == 10.0
    # A and E on time, B answered late, C unanswered past its deadline; D not due yet
    assert (rd["responses_due"], rd["response_on_time_pct"]) == (4, 50.0)
    fin = row(compute(), "财务部")["current"]
    assert (fin["response_median_h"], fin["response_on_time_pct"]) == (9.0, 100.0)


def test_on_time_delivery() -> None:
    rd = row(compute(), "研发部")["current"]
    # A on its day, RW-1 early, B never: 2 of 3 (the cancelled task owed nothing)
    assert (rd["deliveries_due"], rd["delivery_on_time_pct"]) == (3, 66.7)


def test_sign_off_latency_by_the_signers_department() -> None:
    data = compute()
    assert row(data, "财务部")["current"]["signoff_median_h"] == 4.0
    assert row(data, "研发部")["current"]["signoff_median_h"] == 9.0
    # the deliverable handed in 11-10 17:00, accepted 11-11 10:00: 1 + 1 hours
    assert row(data, "市场部")["current"]["signoff_median_h"] == 2.0


def test_overdue_and_escalations_and_problems() -> None:
    rd = row(compute(), "研发部")["current"]
    assert (rd["overdue"], rd["escalations"]) == (1, 2)
    assert rd["problems"] == {"重大": 1, "重要": 1, "一般": 0}
    assert (rd["problems_closed"], rd["problem_close_median_h"]) == (1, 12.0)


def test_trend_against_the_previous_month() -> None:
    rd = row(compute(), "研发部")
    assert rd["previous"]["response_median_h"] == 4.0
    assert rd["previous"]["response_on_time_pct"] == 100.0
    assert rd["trend"]["response_median_h"] == {"delta": 2.0, "better": False}
    assert rd["trend"]["response_on_time_pct"] == {"delta": -50.0, "better": False}
    assert rd["trend"]["delivery_on_time_pct"] == {"delta": None, "better": None}
    # fewer hours is better
    assert figures.trend({"signoff_median_h": 3.0}, {"signoff_median_h": 5.0})[
        "signoff_median_h"] == {"delta": -2.0, "better": True}


def test_a_month_still_running_counts_only_what_is_due() -> None:
    now = dt.datetime(2026, 11, 10, 12, 0, tzinfo=TZ)
    known = [r for r in history() if r["created"] < now.isoformat()]  # the state then
    data = figures.departments(
        known, figures.month(dt.date(2026, 11, 1), tz=TZ), now, calendar=CAL,
        dept_of=PEOPLE.get, names=["研发部"])
    rd = data["rows"][0]["current"]
    # by 11-10 noon: A (on time) and B (late) were due; C's deadline is still ahead
    assert (rd["responses_due"], rd["response_on_time_pct"]) == (2, 50.0)
    # B, due 11-20 and not delivered, is not late yet
    assert not [e for e in data["events"] if e["what"] == "交付" and e["record"] == "XQ-B"]


def test_one_department_and_the_workbook() -> None:
    import openpyxl

    data = compute("研发部")
    assert [r["dept"] for r in data["rows"]] == ["研发部"]
    book = openpyxl.load_workbook(io.BytesIO(figures.departments_xlsx(data)))
    assert book.sheetnames == ["本期 2026年11月", "上期 2026年10月", "明细"]
    current = [list(r) for r in book["本期 2026年11月"].iter_rows(values_only=True)]
    assert current[0][:4] == ["部门", "首次响应中位数(工时)", "首次响应P90(工时)", "按时响应率(%)"]
    assert current[1][:4] == ["研发部", 6.0, 10.0, 50.0]
    assert book["本期 2026年11月"].freeze_panes == "A2"
    detail = [list(r) for r in book["明细"].iter_rows(values_only=True)]
    late = [r for r in detail if r[1] == "响应" and r[7] == "否"]
    assert sorted(r[2] for r in late) == ["XQ-B", "XQ-C"]  # why the rate is 50%
    assert isinstance(next(r for r in detail if r[2] == "XQ-A")[4], dt.datetime)


@pytest.mark.parametrize(("moment", "label", "previous"), [
    (dt.datetime(2026, 1, 15, tzinfo=TZ), "2026年1月", "2025年12月"),
    (dt.datetime(2026, 12, 31, 23, 0, tzinfo=TZ), "2026年12月", "2026年11月"),
])
def test_months(moment: dt.datetime, label: str, previous: str) -> None:
    period = figures.month(moment)
    assert (period.label, period.previous().label) == (label, previous)
    assert period.end - period.start >= dt.timedelta(days=28)
