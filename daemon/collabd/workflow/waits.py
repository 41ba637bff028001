"""What the daemon is waiting for on each open record, and until when.

Each wait is named after a ladder in rules/escalation.yaml (receiver_response,
minutes_not_sent, attendee_not_confirmed, deliverable_overdue, acceptance_pending,
problem_open, task_at_risk); the ladder's steps are timed from its deadline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from collabd.model import Meeting, Problem, Project, Request, Task
from collabd.workflow.context import Context, PersonDict
from collabd.workflow.outcome import Record


@dataclass
class Wait:
    name: str  # the ladder
    key: str  # unique on the record: which wait, for whom, which round
    deadline: dt.datetime
    waited: list[PersonDict]
    asks: str | None = None  # a reminder that may itself be answered to sign
    meta: dict[str, Any] | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def _moment(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _people(*people: PersonDict | None) -> list[PersonDict]:
    seen: dict[str, PersonDict] = {}
    for p in people:
        if p and p.get("address"):
            seen.setdefault(p["address"], p)
    return list(seen.values())


def end_of_day(ctx: Context, day: str) -> dt.datetime:
    """Close of business of a date (a due date written as a day means that day's end)."""
    date = dt.date.fromisoformat(day)
    intervals = ctx.rules.calendar.intervals(date)
    if intervals:
        return intervals[-1][1]
    return dt.datetime.combine(date, ctx.rules.calendar.end, tzinfo=ctx.rules.calendar.tz)


def waits(record: Record, ctx: Context) -> Iterator[Wait]:
    if record["kind"] == "request":
        yield from _request_waits(record, ctx)
    elif record["kind"] == "problem":
        yield from _problem_waits(record, ctx)
    elif record["kind"] == "meeting":
        yield from _meeting_waits(record)
    elif record["kind"] == "task":
        yield from _task_waits(record, ctx)
    elif record["kind"] == "project":
        yield from _project_waits(record)


def _request_waits(record: Request, ctx: Context) -> Iterator[Wait]:
    status = record.get("status")
    receiving = _people(record.get("receiver_liaison"), record.get("receiver"))
    response_due = _moment(record.get("response_due"))
    if status == "open" and response_due:
        yield Wait("receiver_response", "receiver_response", response_due, receiving)
    due_date = record.get("due_date")
    if status in ("open", "in_progress") and due_date:
        yield Wait("deliverable_overdue", f"deliverable_overdue:{due_date}",
                   end_of_day(ctx, due_date), receiving)
    acceptance_due = _moment(record.get("acceptance_due"))
    if status == "delivered" and acceptance_due:
        number = len(record.get("deliveries", []))
        requester = record.get("requester") or record.get("submitted_by")
        yield Wait("acceptance_pending", f"acceptance_pending:{number}", acceptance_due,
                   _people(requester), asks=requester["address"] if requester else None,
                   meta={"signoff": "deliverable", "round": number},
                   detail={"round": number})
    if record.get("risk") and status in ("open", "in_progress"):
        yield from _risk_wait(record, receiving)
    if status in ("open", "in_progress") and response_due:
        # Each cooperating department answers for itself, chased on its own ladder.
        for entry in record.get("departments", []):
            if entry.get("responded") is None:
                yield Wait("receiver_response", f"receiver_response:{entry['dept']}",
                           response_due, _people(entry.get("liaison") or entry.get("head")),
                           detail={"dept": entry["dept"]})


def _risk_wait(record: Request | Task, people: list[PersonDict]) -> Iterator[Wait]:
    since = record.get("risk_since") or record["updated"]
    yield Wait("task_at_risk", f"task_at_risk:{since}", dt.datetime.fromisoformat(since),
               people)


def _problem_waits(record: Problem, ctx: Context) -> Iterator[Wait]:
    # Chased until someone answers it (then the reporter's 确认 closes it).
    response_due = _moment(record.get("response_due"))
    if record.get("status") == "open" and response_due:
        yield Wait("problem_open", "problem_open", response_due,
                   _people(record.get("target_liaison"))
                   or _people(ctx.person(ctx.rules.directory.secretary)))


def _meeting_waits(record: Meeting) -> Iterator[Wait]:
    status = record.get("status")
    minutes = record.get("minutes") or {}
    organizer = record.get("organizer")
    minutes_due = _moment(minutes.get("due"))
    if status in ("minutes_requested", "minutes_revision") and minutes_due:
        number = len(minutes.get("rounds", []))
        yield Wait("minutes_not_sent", f"minutes_not_sent:{number}", minutes_due,
                   _people(organizer), asks=organizer["address"] if organizer else None,
                   meta={"minutes_for": record["id"]})
    resolution_due = _moment(record.get("resolution_due"))
    if status == "resolution" and resolution_due:
        for pending in record.get("pending_signoffs", []):
            if pending["kind"] == "resolution":
                yield Wait("resolution_not_signed",
                           f"resolution_not_signed:{pending['person']}", resolution_due,
                           _people({"name": pending["person"], "address": pending["person"]}),
                           asks=pending["person"],
                           meta={"signoff": "resolution", "round": pending["round"]})
    if status == "minutes_distributed" and minutes.get("rounds"):
        due = _moment(minutes["rounds"][-1].get("confirm_due"))
        for pending in record.get("pending_signoffs", []):
            if pending["kind"] != "minutes" or due is None:
                continue
            stranger: PersonDict = {"name": pending["person"], "address": pending["person"]}
            person: PersonDict = next(
                (a for a in record.get("attendees", []) if a["address"] == pending["person"]),
                stranger)
            yield Wait("attendee_not_confirmed",
                       f"attendee_not_confirmed:{pending['person']}:{pending['round']}",
                       due, [person], asks=pending["person"],
                       meta={"signoff": "minutes", "round": pending["round"]},
                       detail={"round": pending["round"]})


def _project_waits(record: Project) -> Iterator[Wait]:
    memo = record.get("memo") or {}
    due = _moment(memo.get("due"))
    if record.get("status") != "memo" or due is None:
        return
    for pending in record.get("pending_signoffs", []):
        if pending["kind"] != "memo":
            continue
        person: PersonDict = {"name": pending["person"], "address": pending["person"]}
        for entry in record.get("departments", []):
            head = entry.get("head")
            if head and head["address"] == pending["person"]:
                person = head
        yield Wait("memo_not_signed",
                   f"memo_not_signed:{pending['person']}:{pending['round']}", due, [person],
                   asks=pending["person"], meta={"signoff": "memo", "round": pending["round"]},
                   detail={"round": pending["round"]})


def _task_waits(record: Task, ctx: Context) -> Iterator[Wait]:
    acceptance_due = _moment(record.get("acceptance_due"))
    accountable = record.get("accountable")
    if record.get("status") == "delivered" and acceptance_due and accountable:
        number = len(record.get("deliveries", []))
        yield Wait("acceptance_pending", f"acceptance_pending:{number}", acceptance_due,
                   _people(accountable), asks=accountable["address"],
                   meta={"signoff": "deliverable", "round": number}, detail={"round": number})
    owner = _people(record.get("owner"))
    due_date = record.get("due_date")
    if record.get("milestone") and record.get("status") == "open" and due_date and owner \
            and not record.get("milestone_reports"):
        # A key node: its R is asked for a 《阶段性成果说明》 ahead of the day.
        day = dt.date.fromisoformat(due_date)
        opening = ctx.rules.calendar.intervals(day)
        start = opening[0][0] if opening else dt.datetime.combine(
            day, ctx.rules.calendar.start, tzinfo=ctx.rules.calendar.tz)
        yield Wait("milestone_report", f"milestone_report:{due_date}", start, owner,
                   asks=owner[0]["address"], meta={"milestone": due_date})
    if record.get("status") == "open" and due_date:
        yield Wait("task_overdue", f"task_overdue:{due_date}", end_of_day(ctx, due_date),
                   owner)
    if record.get("risk") and record.get("status") == "open":
        yield from _risk_wait(record, owner)


def waiting_on(record: Record, ctx: Context) -> list[str]:
    """Whom the record waits for now (addresses): everyone a wait is on, and for a
    request being worked on without a due date, its receiving side; nobody once it is
    closed. What `status` shows and filters by."""
    found: dict[str, None] = {}
    for wait in waits(record, ctx):
        for person in wait.waited:
            found.setdefault(person["address"], None)
    if record["kind"] == "request" and record.get("status") == "in_progress":
        for person in _people(record.get("receiver_liaison"), record.get("receiver")):
            found.setdefault(person["address"], None)
    return list(found)
