"""Department figures (部门协作绩效, guide 003: collaboration counts for at least 20% of
each department's 绩效), per calendar month, against the month before.

What each figure means (the README's "Department figures" says the same to users):

- 首次响应 (first response): a request the department received (as receiver, or as a
  cooperating department), created in the month, from its arrival to the department's
  first answer, in working hours. Median and p90 (nearest rank) of those answered.
- 按时响应率: of those requests whose response deadline fell in the month or that were
  answered in it, the share answered by the deadline (an unanswered one past its
  deadline counts as late).
- 按时交付率: requests the department received and project tasks it is R for whose due
  date fell in the month: the share delivered (first delivery, or 实际完成) by the end
  of that day. Not delivered by the end of the month: late.
- 签署时长 (sign-off latency): every 确认/不确认/驳回 given in the month by someone of
  the department, from when it was first asked (minutes sent, deliverable handed in,
  memo sent) to the answer, in working hours; median.
- 逾期次数: deadlines the department missed in the month, as the daemon's reminder
  ladders marked them (their "overdue" step reached about someone of the department).
- 被升级次数: escalation steps fired in the month about the department.
- 问题: problem reports addressed to the department, created in the month, by severity;
  of those closed in the month, the median time to close in working hours.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from collabd.clock import stored_moment

if TYPE_CHECKING:
    from collabd.policy.rules import Rules
    from collabd.store.view import StateView

Rec = Mapping[str, Any]
SEVERITIES = ("重大", "重要", "一般")


@dataclass(frozen=True)
class Period:
    start: dt.datetime
    end: dt.datetime  # exclusive

    @property
    def label(self) -> str:
        return f"{self.start.year}年{self.start.month}月"

    def __contains__(self, moment: dt.datetime | None) -> bool:
        return moment is not None and self.start <= moment < self.end

    def previous(self) -> Period:
        return month(self.start - dt.timedelta(days=1))


def month(moment: dt.datetime | dt.date, tz: dt.tzinfo | None = None) -> Period:
    """The calendar month containing `moment` (in its own zone, or `tz` for a date)."""
    zone = tz or (moment.tzinfo if isinstance(moment, dt.datetime) else None) or dt.UTC
    first = dt.datetime(moment.year, moment.month, 1, tzinfo=zone)
    following = dt.datetime(moment.year + moment.month // 12, moment.month % 12 + 1, 1,
                            tzinfo=zone)
    return Period(first, following)


def last_complete_month(now: dt.datetime) -> Period:
    return month(now).previous()


@dataclass
class Figures:
    """One department's figures for one period, with the events measured (明细)."""

    dept: str
    response_hours: list[float] = field(default_factory=list)
    responses_due: int = 0
    responses_on_time: int = 0
    deliveries_due: int = 0
    deliveries_on_time: int = 0
    signoff_hours: list[float] = field(default_factory=list)
    overdue: int = 0
    escalations: int = 0
    problems: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SEVERITIES, 0))
    problem_close_hours: list[float] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "dept": self.dept,
            "responses": len(self.response_hours),
            "response_median_h": _median(self.response_hours),
            "response_p90_h": _p90(self.response_hours),
            "response_on_time_pct": _pct(self.responses_on_time, self.responses_due),
            "responses_due": self.responses_due,
            "delivery_on_time_pct": _pct(self.deliveries_on_time, self.deliveries_due),
            "deliveries_due": self.deliveries_due,
            "signoffs": len(self.signoff_hours),
            "signoff_median_h": _median(self.signoff_hours),
            "overdue": self.overdue,
            "escalations": self.escalations,
            "problems": dict(self.problems),
            "problems_total": sum(self.problems.values()),
            "problems_closed": len(self.problem_close_hours),
            "problem_close_median_h": _median(self.problem_close_hours),
        }


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _p90(values: list[float]) -> float | None:
    """Nearest-rank 90th percentile: the smallest value at least 90% are not above."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)], 1)


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


# Higher is better for these; lower is better for the rest (hours, counts).
HIGHER_IS_BETTER = frozenset({"response_on_time_pct", "delivery_on_time_pct"})
TRENDED = ("response_median_h", "response_p90_h", "response_on_time_pct",
           "delivery_on_time_pct", "signoff_median_h", "overdue", "escalations",
           "problems_total", "problem_close_median_h")


def trend(current: Mapping[str, Any], previous: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Per figure: the change from the previous period and whether it is better (↑/↓)."""
    out: dict[str, dict[str, Any]] = {}
    for key in TRENDED:
        now, before = current.get(key), previous.get(key)
        if now is None or before is None or now == before:
            out[key] = {"delta": None if now is None or before is None else 0.0,
                        "better": None}
            continue
        delta = round(float(now) - float(before), 1)
        out[key] = {"delta": delta, "better": (delta > 0) == (key in HIGHER_IS_BETTER)}
    return out


class _Measure:
    def __init__(self, period: Period, as_of: dt.datetime, calendar: Any,
                 dept_of: Callable[[str], str | None],
                 sent_at: Callable[[str], dt.datetime | None], names: Iterable[str]) -> None:
        self.period = period
        self.as_of = min(as_of, period.end)
        self.calendar = calendar
        self.dept_of = dept_of
        self.sent_at = sent_at
        self.by_dept = {name: Figures(name) for name in names}

    def hours(self, start: dt.datetime, end: dt.datetime) -> float:
        if self.calendar is None:
            return max(0.0, (end - start).total_seconds() / 3600)
        return float(self.calendar.working_seconds(start, end)) / 3600

    def day_end(self, day: str) -> dt.datetime | None:
        from collabd.report import day_end

        try:
            return dt.datetime.fromisoformat(day_end(self.calendar, str(day)[:10]))
        except ValueError:
            return None

    def note(self, figures: Figures, what: str, record: Rec, start: Any, end: Any,
             hours: float | None, on_time: bool | None) -> None:
        figures.events.append({
            "dept": figures.dept, "what": what, "record": record.get("id"),
            "title": record.get("title", ""), "start": start, "end": end,
            "hours": None if hours is None else round(hours, 1), "on_time": on_time})

    # -- one record --------------------------------------------------------------

    def record(self, record: Rec) -> None:
        kind = record.get("kind")
        if kind == "request":
            self.request(record)
        elif kind == "task":
            self.task(record)
        elif kind == "problem":
            self.problem(record)
        self.signoffs(record)
        self.ladders(record)

    def request(self, record: Rec) -> None:
        created = stored_moment(record.get("created"))
        deadline = stored_moment(record.get("response_due"))
        sides = [(record.get("receiver_dept"), stored_moment(record.get("responded")))]
        sides += [(d.get("dept"), stored_moment(d.get("responded")))
                  for d in record.get("departments") or [] if d.get("role") == "cooperating"]
        for dept, responded in sides:
            figures = self.by_dept.get(str(dept))
            if figures is None or created is None:
                continue
            hours = None
            if responded is not None and created in self.period:
                hours = self.hours(created, responded)
                figures.response_hours.append(hours)
            counted = (deadline in self.period) or (responded in self.period)
            if deadline is not None and counted and (
                    responded is not None or deadline < self.as_of):
                on_time = responded is not None and responded <= deadline
                figures.responses_due += 1
                figures.responses_on_time += on_time
                self.note(figures, "响应", record, created, responded, hours, on_time)
            elif hours is not None:
                self.note(figures, "响应", record, created, responded, hours, None)
        deliveries = record.get("deliveries") or []
        delivered = stored_moment(deliveries[0].get("at")) if deliveries else None
        self.delivery(record, record.get("receiver_dept"), record.get("due_date"), delivered)

    def task(self, record: Rec) -> None:
        if not record.get("project"):
            return  # an action item from minutes: not a department's delivery
        deliveries = record.get("deliveries") or []
        delivered = stored_moment(deliveries[0].get("at")) if deliveries else None
        if delivered is None and record.get("actual_finish"):
            delivered = self.day_end(str(record["actual_finish"]))
        self.delivery(record, record.get("dept"), record.get("due_date"), delivered)

    def delivery(self, record: Rec, dept: Any, due: Any, delivered: dt.datetime | None) -> None:
        figures = self.by_dept.get(str(dept))
        end = self.day_end(str(due)) if due and figures is not None else None
        if figures is None or end is None or end not in self.period:
            return
        if record.get("status") in ("cancelled", "withdrawn", "rejected") and delivered is None:
            return  # called off: nothing was owed
        if delivered is None and end > self.as_of:
            return  # not due yet (the month is still running)
        on_time = delivered is not None and delivered <= end
        figures.deliveries_due += 1
        figures.deliveries_on_time += on_time
        self.note(figures, "交付", record, end, delivered, None, on_time)

    def problem(self, record: Rec) -> None:
        figures = self.by_dept.get(str(record.get("target_dept")))
        created = stored_moment(record.get("created"))
        if figures is None or created is None:
            return
        if created in self.period:
            severity = str(record.get("severity") or "一般")
            figures.problems[severity] = figures.problems.get(severity, 0) + 1
        closed = stored_moment(record.get("closed"))
        if closed in self.period and closed is not None:
            hours = self.hours(created, closed)
            figures.problem_close_hours.append(hours)
            self.note(figures, "问题关闭", record, created, closed, hours, None)

    def asked_at(self, record: Rec, signoff: Mapping[str, Any]) -> dt.datetime | None:
        kind, round_ = signoff.get("kind"), signoff.get("round")
        if kind == "minutes":
            for r in (record.get("minutes") or {}).get("rounds") or []:
                if r.get("round") == round_ and r.get("distributed"):
                    return stored_moment(r["distributed"])
        elif kind == "deliverable":
            for d in record.get("deliveries") or []:
                if d.get("round") == round_:
                    return stored_moment(d.get("at"))
        elif kind == "memo":
            memo = record.get("memo") or {}
            if memo.get("round", 1) == (round_ or 1) and memo.get("sent"):
                return stored_moment(memo["sent"])
        answers = signoff.get("answers")
        return self.sent_at(str(answers)) if answers else None

    def signoffs(self, record: Rec) -> None:
        for signoff in record.get("signoffs") or []:
            at = stored_moment(signoff.get("at"))
            if at not in self.period or not signoff.get("by"):
                continue
            figures = self.by_dept.get(str(self.dept_of(str(signoff["by"]))))
            asked = self.asked_at(record, signoff)
            if figures is None or asked is None or at is None:
                continue
            hours = self.hours(asked, at)
            figures.signoff_hours.append(hours)
            self.note(figures, "签署", record, asked, at, hours, None)

    def ladders(self, record: Rec) -> None:
        for entry in record.get("audit") or []:
            what = entry.get("what")
            if what not in ("rule fired", "rule step superseded") or (
                    stored_moment(entry.get("at")) not in self.period):
                continue
            template = entry.get("template")
            # A deadline missed while the daemon was down still was missed (its overdue
            # step superseded by a later one); an escalation never sent was not received.
            if template != "overdue" and (template != "escalation" or what != "rule fired"):
                continue
            depts = entry.get("depts")
            if depts is None:  # (recorded before the ladder named them)
                people = list(entry.get("to") or []) + list(entry.get("cc") or [])
                depts = sorted({d for d in map(self.dept_of, people) if d})[:1]
            for dept in depts:
                figures = self.by_dept.get(str(dept))
                if figures is None:
                    continue
                if template == "overdue":
                    figures.overdue += 1
                    self.note(figures, "逾期", record, entry.get("at"), None, None, False)
                else:
                    figures.escalations += 1
                    self.note(figures, "升级", record, entry.get("at"), None, None, None)


def departments(records: Iterable[Rec], period: Period, now: dt.datetime, *, calendar: Any,
                dept_of: Callable[[str], str | None], names: list[str],
                sent_at: Callable[[str], dt.datetime | None] = lambda _: None,
                dept: str | None = None) -> dict[str, Any]:
    """The figures of every department (or one) for `period` and the period before,
    with the trend of each figure; what is not due by `now` is not counted yet."""
    previous = period.previous()
    wanted = [n for n in names if dept is None or n == dept]
    current_ = _Measure(period, now, calendar, dept_of, sent_at, wanted)
    before = _Measure(previous, now, calendar, dept_of, sent_at, wanted)
    for record in records:
        current_.record(record)
        before.record(record)
    rows = []
    events: list[dict[str, Any]] = []
    for name in wanted:
        current = current_.by_dept[name].summary()
        past = before.by_dept[name].summary()
        rows.append({"dept": name, "current": current, "previous": past,
                     "trend": trend(current, past)})
        events += current_.by_dept[name].events
    return {"period": period, "previous": previous, "dept": dept, "rows": rows,
            "events": events, "partial_until": now if now < period.end else None}


def of_state(view: StateView, rules: Rules, now: dt.datetime, period: Period,
             dept: str | None = None) -> dict[str, Any]:
    """The figures from a state: its working set and its archive (a month's records may
    have been archived since)."""
    directory = rules.directory

    def dept_of(address: str) -> str | None:
        found = directory.department_of(address)
        return found.name if found is not None else None

    def sent_at(message_id: str) -> dt.datetime | None:
        entry = view.message(message_id) or {}
        value = (entry.get("sent") or entry.get("at")) if entry.get("dir") == "out" else None
        return stored_moment(value)

    records = [*view.records(), *view.archive.search()]
    return departments(records, period, now, calendar=rules.calendar, dept_of=dept_of,
                       names=directory.department_names(), sent_at=sent_at, dept=dept)


def measured(data: Mapping[str, Any]) -> bool:
    """Did anything count in the period or the one before?"""
    return any(r[side][key] for r in data["rows"] for side in ("current", "previous")
               for key in ("responses_due", "responses", "deliveries_due", "signoffs",
                           "overdue", "escalations", "problems_total", "problems_closed"))


def departments_xlsx(data: dict[str, Any]) -> bytes:
    """本期 and 上期, one row per department; 明细: every event measured, so a head can
    see why a figure is what it is."""
    from collabd.ledger import add_sheet, book_bytes, new_book

    book = new_book()
    headings = ["部门", "首次响应中位数(工时)", "首次响应P90(工时)", "按时响应率(%)",
                "应响应数", "按时交付率(%)", "应交付数", "签署时长中位数(工时)", "签署次数",
                "逾期次数", "被升级次数", "问题(重大)", "问题(重要)", "问题(一般)",
                "问题关闭中位数(工时)"]

    def row(f: Mapping[str, Any]) -> list[Any]:
        return [f["dept"], f["response_median_h"], f["response_p90_h"],
                f["response_on_time_pct"], f["responses_due"], f["delivery_on_time_pct"],
                f["deliveries_due"], f["signoff_median_h"], f["signoffs"], f["overdue"],
                f["escalations"], *(f["problems"].get(s, 0) for s in SEVERITIES),
                f["problem_close_median_h"]]

    add_sheet(book, f"本期 {data['period'].label}", headings,
           [row(r["current"]) for r in data["rows"]])
    add_sheet(book, f"上期 {data['previous'].label}", headings,
           [row(r["previous"]) for r in data["rows"]])

    def cell(value: Any) -> Any:
        moment = stored_moment(value) if isinstance(value, str) else value
        return moment.replace(tzinfo=None) if isinstance(moment, dt.datetime) else value

    add_sheet(book, "明细", ["部门", "指标", "编号", "名称", "开始", "结束", "工时", "按时"],
           [[e["dept"], e["what"], e["record"], e["title"], cell(e["start"]), cell(e["end"]),
             e["hours"], {True: "是", False: "否"}.get(e["on_time"], "")]
            for e in data["events"]])
    return book_bytes(book)
