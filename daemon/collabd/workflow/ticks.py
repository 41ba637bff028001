"""The clock tick: what is due now, acted on through the same workflow as mail is.

A tick (every minute in the daemon, or once for `collabd run --once --now`, or without
committing for `collabd rules simulate`) does, for each open record: the transitions
time makes (a review meeting decided on is planned; a meeting that ended asks for its
minutes; a task that fell behind its plan becomes a risk), and the escalation ladders'
steps that are due. Then the weekly risk meeting. Steps fire once each (recorded on the
record), only in working hours, and a deadline that passed at night is acted on at the
next working-hour start. When several
steps of one ladder are due at once (the daemon was stopped), the latest fires and the
earlier ones are recorded as superseded, so nobody gets a reminder and its escalation
in the same minute.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Collection, Iterable, Iterator, Mapping
from typing import Any, cast

from collabd.clock import isoformat
from collabd.model import Meeting, Request, Task
from collabd.policy.calendar import WorkCalendar
from collabd.policy.rules import resolve_name
from collabd.policy.schema import WAIT_TASKS, WAITS, Step, When
from collabd.store.view import CLOSED
from collabd.workflow import calendar_notice, digest, ledgers, meetings
from collabd.workflow.context import Context, PersonDict
from collabd.workflow.outcome import Outcome, Record, audit, changed
from collabd.workflow.waits import Wait, waits


def step_time(ctx: Context, deadline: dt.datetime, when: When) -> dt.datetime:
    return _step_time(ctx.rules.calendar, deadline, when)


# A record's deadlines do not move between ticks, so each step's moment is worked out
# once (working-day arithmetic for ten thousand records every minute is the tick's cost).
@functools.lru_cache(maxsize=262144)
def _step_time(calendar: WorkCalendar, deadline: dt.datetime, when: When) -> dt.datetime:
    if when.offset is None:
        return deadline
    if when.after:
        return calendar.add(deadline, when.offset)
    return calendar.subtract(deadline, when.offset)


MEETINGS_PER_TICK = 50


def _due_records(ctx: Context, only: Collection[str], review_only: Collection[str],
                 out: Outcome, skipped: set[str] | None) -> Iterator[Record]:
    store = ctx.view.store
    for key in store.in_record_order(only):
        if key in review_only and len(out.meetings()) >= MEETINGS_PER_TICK:
            if skipped is not None:
                skipped.add(key)
            continue
        record = store.get("records", key)
        if record is not None and record.get("status") not in CLOSED:
            yield record


def on_tick(ctx: Context, only: Collection[str] | None = None,
            review_only: Collection[str] = (), skipped: set[str] | None = None) -> Outcome:
    """`only`: the records due now (workflow/agenda.py), visited in the order a full
    scan would meet them; None visits every open record (rules simulate, --once).
    `review_only`: those of them due only to have their review meeting planned — once
    the tick has planned its MEETINGS_PER_TICK, visiting them would do nothing, so
    they are not read (and are added to `skipped`)."""
    out = Outcome()
    working = ctx.rules.calendar.is_working_time(ctx.now)
    visit: Iterable[Record]
    if only is None:
        visit = list(ctx.view.open_records())
    else:
        visit = _due_records(ctx, only, review_only, out, skipped)
    for stored in visit:
        edit = _Edit(stored)
        _transitions(stored, edit, ctx, out, working)
        if working:
            for wait in waits(edit.current, ctx):
                _ladder(edit.current, wait, edit, ctx, out)
        if edit.record is not None:
            out.put(edit.record)
    if working:
        _weekly_risk(ctx, out)
        ledgers.on_tick(ctx, out)
        digest.on_tick(ctx, out)
        calendar_notice.on_tick(ctx, out)
    return out


class _Edit:
    """A record copied only when something changes it: most ticks change nothing."""

    def __init__(self, stored: Record) -> None:
        self.stored = stored
        self.record: Record | None = None

    def __call__(self) -> Record:
        if self.record is None:
            self.record = changed(self.stored)
        return self.record

    @property
    def current(self) -> Record:
        return self.record if self.record is not None else self.stored


# -- transitions --------------------------------------------------------------------------

def _transitions(stored: Record, editable: _Edit, ctx: Context, out: Outcome,
                 working: bool) -> None:
    """What time changes by itself. Planning a review meeting someone's mail asked for
    happens at any hour (it answers their mail); asking a person for minutes waits for
    working hours, like every reminder."""
    if stored["kind"] == "project":
        # (a progress mail goes at the time the plan says, 18:30 too)
        from collabd.workflow import projects  # (projects builds on the tick's parts)

        found = projects.on_tick(stored, ctx, out)
        if found is not None:
            editable.record = found
        return
    if stored["kind"] == "meeting" and stored.get("meeting_kind") == "series":
        if stored.get("status") == "scheduled":
            changed_series = meetings.series_tick(stored, ctx, out, working)
            if changed_series is not None:
                editable.record = changed_series
        return
    if stored["kind"] == "meeting" and stored.get("status") == "scheduled" and working and (
            dt.datetime.fromisoformat(stored["end"]) <= ctx.now):
        meeting = cast(Meeting, editable())  # (a copy of `stored`: the same kind)
        meeting["status"] = "held"
        audit(meeting, ctx.now, "held", start=meeting["start"], end=meeting["end"])
        meetings.ask_for_minutes(meeting, ctx, out)
        return
    if stored["kind"] == "request":
        review = stored.get("review")
        if review and review.get("status") == "pending" and (
                stored.get("status") in ("open", "in_progress")) and (
                len(out.meetings()) < MEETINGS_PER_TICK):
            # After a backlog, thousands may wait: a tick plans a bounded number and the
            # next one goes on (the agenda keeps the rest due), so no tick outlasts the
            # watchdog and the first invitations leave early.
            meetings.plan_review(cast(Request, editable()), ctx, out,
                                 reason=review.get("reason", ""))
    if (stored["kind"] == "request" or stored["kind"] == "task") and stored.get(
            "status") in ("open", "in_progress") and not stored.get("risk") and working:
        planned = meetings.planned_percent(stored, ctx.now, ctx)
        progress = (stored.get("progress") or {}).get("percent")
        if planned is None or progress is None:
            return
        lag = planned - progress
        if lag > ctx.rules.meetings.risk.deviation:
            record = cast("Request | Task", editable())
            meetings.mark_risk(record, ctx, out,
                               reason=f"进度落后计划 {lag}%（计划 {planned}%，实际 {progress}%）")


# -- ladders -----------------------------------------------------------------------------------

@functools.lru_cache(maxsize=262144)
def _schedule(calendar: WorkCalendar, whens: tuple[When, ...],
              deadline: dt.datetime) -> tuple[dt.datetime, ...]:
    return tuple(_step_time(calendar, deadline, when) for when in whens)


def _ladder(current: Record, wait: Wait, editable: _Edit, ctx: Context, out: Outcome) -> None:
    steps = ctx.rules.escalation.ladders.get(wait.name, [])
    if not steps:
        return
    times = _schedule(ctx.rules.calendar, tuple(step.when for step in steps), wait.deadline)
    if min(times) > ctx.now:
        return  # nothing of this ladder is due yet: most records, most minutes
    fired = current.get("fired", {})
    due_steps = []
    for index, (step, due) in enumerate(zip(steps, times, strict=True)):
        key = f"{wait.key}#{index}"
        if key not in fired and due <= ctx.now:
            due_steps.append((index, step, due, key))
    if not due_steps:
        return
    record = editable()
    record.setdefault("fired", {})
    *superseded, (index, step, due, key) = due_steps
    for old_index, old_step, old_due, old_key in superseded:
        record["fired"][old_key] = isoformat(ctx.now)
        audit(record, ctx.now, "rule step superseded", rule=f"{wait.name}[{old_index}]",
              when=str(old_step.when), due=isoformat(old_due),
              note=f"a later step ({index}) is due too", template=old_step.template,
              depts=_waited_depts(wait))
    _fire(record, wait, index, step, due, ctx, out)
    record["fired"][key] = isoformat(ctx.now)


def _fire(record: Record, wait: Wait, index: int, step: Step, due: dt.datetime,
          ctx: Context, out: Outcome) -> None:
    to = _resolve(step.to, record, wait, ctx)
    cc = [p for p in _resolve(step.cc, record, wait, ctx)
          if p["address"] not in {t["address"] for t in to}]
    rule = f"{wait.name}[{index}]"
    why = (f"{WAITS[wait.name]}; deadline {isoformat(wait.deadline)}, step "
           f"'{step.when}' due {isoformat(due)}")
    if not to:
        audit(record, ctx.now, "rule fired, nobody to tell", rule=rule, why=why)
        return
    common: dict[str, Any] = dict(
        record=record["id"], purpose=f"rule:{rule}", record_data=record,
        wait=WAITS[wait.name], task=WAIT_TASKS[wait.name], wait_name=wait.name,
        deadline=wait.deadline, waited=wait.waited, step_index=index, detail=wait.detail,
        overdue=ctx.now >= wait.deadline)
    asked = [p for p in to if wait.asks is not None and p["address"] == wait.asks]
    if asked:
        # A reminder to the person asked to sign is itself a request to sign (their
        # reply to it counts, like a reply to the first request), so it goes to them
        # alone: nobody in CC can answer it in their name. Whoever else the step names
        # gets the same notice in a message of their own, which asks nothing.
        out.send(ctx.draft(step.template, to=asked, asks=wait.asks, meta=wait.meta,
                           **common))
        others = [p for p in to if p not in asked]
        if others or cc:
            out.send(ctx.draft(step.template, to=others or cc, cc=cc if others else (),
                               **common))
    else:
        out.send(ctx.draft(step.template, to=to, cc=cc, **common))
    if step.status:
        record["escalation"] = step.status
    audit(record, ctx.now, "rule fired", rule=rule, why=why, to=[p["address"] for p in to],
          cc=[p["address"] for p in cc] or None, template=step.template, status=step.status,
          depts=_waited_depts(wait))


def _waited_depts(wait: Wait) -> list[str] | None:
    """Whose lateness this is (the department figures count missed deadlines and
    escalations by it): the departments of whoever is waited on."""
    depts = sorted({str(d) for d in [wait.detail.get("dept"),
                                     *(p.get("dept") for p in wait.waited)] if d})
    return depts or None


def _resolve(targets: list[str], record: Record, wait: Wait,
             ctx: Context) -> list[PersonDict]:
    directory = ctx.rules.directory
    out: list[PersonDict] = []
    # The rules name whom to tell by the record's fields (requester, organizer, owner…),
    # whatever its kind; a kind without the field names nobody.
    fields = cast("Mapping[str, Any]", record)

    def named(field: str) -> PersonDict | None:
        value = fields.get(field)
        return cast(PersonDict, value) if isinstance(value, dict) else None

    def head_of(person: PersonDict | None) -> PersonDict | None:
        if not person:
            return None
        dept = directory.department_of(person["address"]) or (
            directory.department(person.get("dept") or "") if person.get("dept") else None)
        return ctx.person(dept.head) if dept else None

    def dept_people(name: str | None, role: str) -> PersonDict | None:
        dept = directory.department(name) if name else None
        if dept is None:
            return None
        return ctx.person(dept.head if role == "head" else dept.liaison)

    # A cooperating department's wait: "the receiving side" is that department.
    dept = wait.detail.get("dept")
    for target in targets:
        found: list[PersonDict | None]
        if dept and target in ("receiver_head", "receiver_liaison", "receiver"):
            found = [dept_people(dept, "head" if target == "receiver_head" else "liaison")]
        elif target == "waited":
            found = list(wait.waited)
        elif target == "waited_head":
            # Someone of the coordination group itself (the secretary, who organises
            # the problem meetings) has no department head: theirs is the 组长.
            found = [head_of(p) or (ctx.person(directory.leader) if (
                        (member := directory.by_address(p["address"])) is not None
                        and member.department is None) else None)
                     for p in wait.waited]
        elif target == "leader":
            found = [ctx.person(directory.leader)]
        elif target == "secretary":
            found = [ctx.person(directory.secretary)]
        elif target == "requester":
            found = [named("requester") or named("submitted_by")]
        elif target == "requester_head":
            found = [named("requester_head") or head_of(named("requester"))]
        elif target == "receiver":
            found = [named("receiver") or named("receiver_liaison")]
        elif target == "receiver_head":
            found = [named("receiver_head") or head_of(named("owner"))]
        elif target in ("receiver_liaison", "organizer", "owner", "reporter"):
            found = [named(target)]
        elif target in ("target_liaison", "target_head"):
            target_dept = fields.get("target_dept")
            found = [named(target) or dept_people(
                target_dept if isinstance(target_dept, str) else None,
                "head" if target == "target_head" else "liaison")]
        else:  # a person or department of org.yaml (checked when the rules load)
            found = [ctx.person(resolve_name(directory, target))]
        for person in found:
            if person and person.get("address") and all(
                    p["address"] != person["address"] for p in out):
                out.append(person)
    return out


# -- the weekly risk meeting -------------------------------------------------------------------

def _weekly_risk(ctx: Context, out: Outcome) -> None:
    rules = ctx.rules.meetings.risk.weekly
    calendar = ctx.rules.calendar
    today = ctx.now.astimezone(calendar.tz).date()
    day = today + dt.timedelta(days=(rules.day - today.weekday()) % 7)
    start = dt.datetime.combine(day, rules.time, tzinfo=calendar.tz)
    if start <= ctx.now:
        day += dt.timedelta(days=7)
        start = dt.datetime.combine(day, rules.time, tzinfo=calendar.tz)
    if ctx.now < calendar.subtract(start, rules.invite_before):
        return
    key = f"risk_weekly:{day.isoformat()}"
    if ctx.view.meta(key) is not None or key in out.meta:
        return
    if not calendar.is_workday(day):
        out.meta[key] = {"skipped": "not a workday", "at": isoformat(ctx.now)}
        return
    items: list[meetings.RiskItem] = sorted(
        (r for r in ctx.view.open_records() if (r["kind"] == "request" or r["kind"] == "task")
         and r.get("risk")), key=lambda r: r["id"])
    items += [r for r in out.records if (r["kind"] == "request" or r["kind"] == "task")
              and r.get("risk") and r not in items]
    if not items:
        out.meta[key] = {"skipped": "no open risk items", "at": isoformat(ctx.now)}
        return
    length = meetings._clock(ctx, rules.length)
    meeting = meetings.plan_risk(items, ctx, out, start=start, length=length, adhoc=False,
                                 reason="weekly risk meeting")
    out.meta[key] = {"meeting": meeting["id"], "at": isoformat(ctx.now)}
