"""The weekly ledgers by mail (sla.yaml ledger: default Friday 16:00, before the weekly
meeting): the secretary and the 组长 get the whole 《跨部门协作进度台账》 and 《问题台账》,
each department head their department's view; the .xlsx attached, once a week. And the
monthly department figures (sla.yaml figures: the first working day, 09:30) to the 组长
and the secretary."""

from __future__ import annotations

import datetime as dt
from typing import Any

from collabd import figures, ledger
from collabd.clock import isoformat
from collabd.outbound.compose import Attachment
from collabd.workflow.context import Context, PersonDict
from collabd.workflow.outcome import Outcome

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def on_tick(ctx: Context, out: Outcome) -> None:
    _weekly(ctx, out)
    _monthly_figures(ctx, out)


def due_once(ctx: Context, out: Outcome, key: str, moment: dt.datetime,
             within: dt.timedelta) -> bool:
    """Is a scheduled mail due now — `moment` passed, by no more than `within` (one long
    missed while the daemon was stopped is not sent late), and not sent yet? Marks it
    sent (in the same transaction as what it sends)."""
    if ctx.now < moment or ctx.now - moment >= within or (
            ctx.view.meta(key) is not None or key in out.meta):
        return False
    out.meta[key] = {"at": isoformat(ctx.now)}
    return True


def _monthly_figures(ctx: Context, out: Outcome) -> None:
    rules = ctx.rules.sla.figures
    if not rules.enabled:
        return
    calendar = ctx.rules.calendar
    local = ctx.now.astimezone(calendar.tz)
    first = local.date().replace(day=1)
    day = first if calendar.is_workday(first) else calendar.next_workday(first)
    moment = dt.datetime.combine(day, rules.time, tzinfo=calendar.tz)
    if not due_once(ctx, out, f"figures_monthly:{first:%Y-%m}", moment, dt.timedelta(days=3)):
        return
    period = figures.month(local).previous()
    data = figures.of_state(ctx.view, ctx.rules, ctx.now, period)
    if not figures.measured(data):
        return  # nothing happened in the month (a new deployment): no report of dashes
    directory = ctx.rules.directory
    out.send(ctx.draft(
        "figures_departments", to=[ctx.person(directory.leader), ctx.person(directory.secretary)],
        record=None, purpose="figures_monthly",
        attachments=[Attachment(f"部门协作绩效_{period.start:%Y%m}.xlsx",
                                figures.departments_xlsx(data), XLSX)],
        **data))


def _weekly(ctx: Context, out: Outcome) -> None:
    rules = ctx.rules.sla.ledger
    if not rules.enabled:
        return
    calendar = ctx.rules.calendar
    today = ctx.now.astimezone(calendar.tz).date()
    day = today - dt.timedelta(days=(today.weekday() - rules.day) % 7)
    moment = dt.datetime.combine(day, rules.time, tzinfo=calendar.tz)
    if not due_once(ctx, out, f"ledger_weekly:{day.isoformat()}", moment, dt.timedelta(days=1)):
        return
    records = [dict(r) for r in ctx.view.records()]
    directory = ctx.rules.directory
    views: list[tuple[list[PersonDict | None], str | None]] = [
        ([ctx.person(directory.secretary), ctx.person(directory.leader)], None)]
    views += [([ctx.person(d.head)], d.name) for d in directory.departments]
    summaries: dict[str, Any] = {}  # (each record summarised once, for every view)
    for to, dept in views:
        weekly = ledger.weekly(records, ctx.now, calendar, dept=dept, summaries=summaries)
        problems = ledger.problems(records, ctx.now, dept=dept)
        if dept is not None and not any(weekly["rows"].values()) and not problems["items"]:
            continue  # a department with nothing this week gets nothing
        stem = f"{dept + '_' if dept else ''}{ctx.now:%Y%m%d}"
        context: dict[str, Any] = dict(weekly)
        out.send(ctx.draft(
            "ledger_weekly", to=to, record=None, purpose="ledger_weekly",
            attachments=[
                Attachment(f"跨部门协作进度台账_{stem}.xlsx", ledger.weekly_xlsx(weekly), XLSX),
                Attachment(f"问题台账_{stem}.xlsx", ledger.problems_xlsx(problems), XLSX)],
            **context))
