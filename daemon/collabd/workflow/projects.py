"""Collaboration projects (协作项目, PJ-): a plan of tasks across departments with a RACI
matrix (seed 001), started with a 启动会 whose minutes every attendee confirms, then a
《跨部门协作备忘录》 each participating department head signs alone, by reply (guide 002).

Each task of the plan is a task record (RW-) of its own, linked to the project: its R is
asked for progress like any task's owner, and falls behind its plan like one.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any, cast

from dateutil.rrule import rrulestr

from collabd.clock import isoformat
from collabd.inbound.classify import Event
from collabd.inbound.plan import PlanTask
from collabd.model import (
    Attendee,
    CommPlanRow,
    Delivery,
    Meeting,
    Project,
    ProjectDepartment,
    Signoff,
    Task,
)
from collabd.outbound.compose import Attachment, forwarded
from collabd.outbound.plan_workbook import FILENAME, blank_plan
from collabd.policy.org import Department, Person
from collabd.policy.schema import Place
from collabd.textnorm import key
from collabd.workflow import archiving, meetings, signoff
from collabd.workflow.context import Context, PersonDict, next_id
from collabd.workflow.outcome import Outcome, audit, changed, new_record

# Project states: kickoff (the 启动会 is planned, its minutes awaited), memo (heads are
# signing the memo), running (signed: the plan is being carried out), closed.
OPEN_PROJECT = frozenset({"kickoff", "memo", "running", "change_review"})


def plan_workbook(ctx: Context) -> Attachment:
    """The blank plan, for people to start from (attached where a plan is asked for)."""
    return Attachment(
        FILENAME, blank_plan(ctx.rules),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def handle_project(event: Event, ctx: Context) -> Outcome:
    """A plan mailed in: the project and one task record per row of 表2; the lead (and
    whoever sent it) told, each R told of their tasks, the 启动会 planned."""
    from collabd.workflow import intake

    reading = event.reading
    assert reading is not None and reading.plan is not None
    if ctx.rules.directory.by_address(event.message.sender) is None:
        # Nothing in the plan can fix this: they are told whom to ask, nothing else (the
        # blank plan names the directory's departments: for colleagues only).
        out = Outcome()
        out.inbound = {"kind": "project_refused", "reason": "sender not in the directory"}
        return intake.answer_sender(event, ctx, out, "project_refused",
                                    ctx.rules.forms.not_understood_per_day,
                                    secretary=ctx.person(ctx.rules.directory.secretary))
    if not reading.complete:
        return intake.form_incomplete(event, ctx, attachments=[plan_workbook(ctx)])
    plan = reading.plan
    message = event.message
    out = Outcome()
    pid, counter, number = next_id(ctx.view, "PJ", ctx.now, out.meta)
    out.meta[counter] = number
    lead = ctx.person(plan.lead)
    departments: list[ProjectDepartment] = [
        {"dept": d.name, "liaison": ctx.person(plan.liaisons.get(d.name) or d.liaison),
         "head": ctx.person(d.head)} for d in plan.departments]
    project = new_record(
        "project", pid, ctx.now, status="kickoff", title=reading.fields["title"],
        goal=reading.fields.get("goal", ""), lead=lead, lead_dept=reading.fields.get("lead_dept"),
        submitted_by=ctx.person_by_address(message.sender), departments=departments,
        comm_plan=[m.to_json() for m in plan.meetings], tasks=[],
        start=reading.fields.get("start"), finish=reading.fields.get("finish"),
        fields={k: v for k, v in reading.fields.items()}, source_message=message.message_id,
        source=reading.source,
    )
    audit(project, ctx.now, "project received", by=message.sender,
          message=message.message_id, source=reading.source, tasks=len(plan.tasks))
    tasks = [_new_task(pid, row, lead, ctx, out) for row in plan.tasks]
    project["tasks"] = [t["id"] for t in tasks]
    kickoff = plan_kickoff(project, tasks, ctx, out)
    clashes: list[str] = []
    series = meetings.plan_series(project, ctx, out, clashes)
    series += plan_push(project, tasks, ctx, out)
    secretary = ctx.person(ctx.rules.directory.secretary)
    common: dict[str, Any] = {"project": project, "tasks": tasks, "kickoff": kickoff,
                              "series": series, "notes": reading.notes,
                              "clashes": clashes}
    ack = ctx.draft(
        "project_ack", to=[ctx.person_by_address(message.sender), lead], cc=[secretary],
        record=pid, purpose="project_ack",
        in_reply_to=message.message_id if message.has_message_id else None, **common)
    out.send(ack)
    audit(project, ctx.now, "acknowledged", to=[p.address for p in ack.to],
          cc=[p.address for p in ack.cc])
    for owner, theirs in _by_owner(tasks).items():
        out.send(ctx.draft("project_tasks", to=[theirs[0].get("owner")], record=pid,
                           purpose="project_tasks", mine=theirs, **common))
        audit(project, ctx.now, "tasks told", to=owner, tasks=[t["id"] for t in theirs])
    out.put(project)
    out.inbound = {"kind": "project", "record": pid}
    return out


def _new_task(pid: str, row: PlanTask, lead: PersonDict | None, ctx: Context,
              out: Outcome) -> Task:
    task_id, counter, number = next_id(ctx.view, "RW", ctx.now, out.meta)
    out.meta[counter] = number
    owner = ctx.person(row.owner)
    task = new_record(
        "task", task_id, ctx.now, status="open", title=row.name[:200], project=pid,
        description=row.description, dept=row.dept.name if row.dept else None,
        owner=owner, owner_text=row.owner.name if row.owner else "", requester=lead,
        accountable=ctx.person(row.accountable), raci=dict(row.raci),
        planned_start=row.start.isoformat() if row.start else None,
        due_date=row.finish.isoformat() if row.finish else None,
        actual_finish=row.actual.isoformat() if row.actual else None,
        plan_status=row.status, deliverable=row.deliverable, issues=row.issues,
        milestone=row.milestone, waiting_on=[owner["address"]] if owner else [],
    )
    audit(task, ctx.now, "created from the plan", project=pid)
    out.put(task)
    return task


def _by_owner(tasks: list[Task]) -> dict[str, list[Task]]:
    found: dict[str, list[Task]] = {}
    for task in tasks:
        owner = task.get("owner")
        if owner:
            found.setdefault(owner["address"].lower(), []).append(task)
    return found


def _everyone(project: Project, ctx: Context, extra: list[str]) -> list[Attendee]:
    """A project meeting's attendees: the lead, every department's head and liaison, and
    the rules' extra attendees."""
    people: list[Attendee | None] = [meetings.attendee(project.get("lead"), "项目负责人")]
    for entry in project.get("departments", []):
        people.append(meetings.attendee(entry.get("head"), f"{entry['dept']}负责人"))
        people.append(meetings.attendee(entry.get("liaison"), f"{entry['dept']}对接人"))
    people += meetings._extra(ctx, extra)
    return meetings.dedupe(people)


def _project_meeting(project: Project, ctx: Context, out: Outcome, *, kind: str, title: str,
                     attendees: list[Attendee], earliest: dt.datetime, length: dt.timedelta,
                     place: Place, reason: str, agenda: str, **context: Any) -> Meeting:
    """A meeting of the project, the lead organizing: booked from `earliest`, its agenda
    rendered from the template `agenda`, invited, and listed on the project."""
    start, room = meetings.book(ctx, place, attendees, earliest, length, out.meetings())
    meeting = meetings.new_meeting(
        ctx, out, kind=kind, title=title, start=start, length=length, place=place, room=room,
        organizer=project.get("lead") or project.get("submitted_by"),
        attendees=attendees, parent=project["id"],
        agenda=ctx.templates.render_text(agenda, project=project, attendees=attendees,
                                         start=start, end=start + length, **context))
    audit(meeting, ctx.now, "planned", reason=reason, parent=project["id"])
    meetings.send_invite(meeting, ctx, out)
    out.put(meeting)
    project.setdefault("meetings", []).append(meeting["id"])
    return meeting


# -- the 启动会 ------------------------------------------------------------------------------

def plan_kickoff(project: Project, tasks: list[Task], ctx: Context, out: Outcome) -> Meeting:
    """The 启动会: every participating head and liaison, the lead as organizer (who sends
    its minutes), within the rules' notice."""
    rules = ctx.rules.meetings.kickoff
    meeting = _project_meeting(
        project, ctx, out, kind="kickoff", title=f"项目启动会：{project.get('title', '')}",
        attendees=_everyone(project, ctx, rules.extra_attendees),
        earliest=ctx.rules.calendar.add(ctx.now, rules.notice),
        length=meetings.clock_length(ctx, rules.length), place=rules.place,
        reason="项目启动", agenda="agenda_kickoff", tasks=tasks,
        deviation=ctx.rules.meetings.risk.deviation)
    project["kickoff"] = meeting["id"]
    audit(project, ctx.now, "kickoff planned", meeting=meeting["id"], start=meeting["start"])
    return meeting


def meeting_signed(meeting: Meeting, ctx: Context, out: Outcome) -> None:
    """A project's meeting whose minutes everyone confirmed: after the 启动会 the memo
    goes to each head; after the 复盘会 (its minutes are the 《协作复盘报告》, confirmed
    by every head) the project is closed."""
    parent = meeting.get("parent")
    stored = ctx.view.project(parent) if parent else None
    if stored is None:
        return
    kind = meeting.get("meeting_kind")
    if kind == "push":
        ask_resolution(meeting, ctx, out)
        return
    if (kind == "kickoff" and stored.get("status") == "kickoff") or (
            kind == "change_review" and stored.get("status") == "change_review"):
        project = changed(stored)
        send_memo(project, ctx, out)  # (after a change: the memo of the new plan, again)
        out.put(project)
    elif kind == "retro" and stored.get("status") == "retro":
        project = changed(stored)
        rounds = (meeting.get("minutes") or {}).get("rounds") or []
        project["retro_report"] = rounds[-1].get("text", "") if rounds else ""
        _close(project, ctx, out, why="复盘报告已由全体参会人确认")
        out.put(project)


# -- the 《跨部门协作备忘录》 ---------------------------------------------------------------------

def _tasks(project: Project, ctx: Context) -> list[Task]:
    found = []
    for task_id in project.get("tasks", []):
        task = ctx.view.record(task_id)
        if task is not None and task["kind"] == "task":
            found.append(task)
    return found


def _heads(project: Project) -> list[PersonDict]:
    seen: dict[str, PersonDict] = {}
    for entry in project.get("departments", []):
        head = entry.get("head")
        if head:
            seen.setdefault(head["address"].lower(), head)
    return list(seen.values())


def send_memo(project: Project, ctx: Context, out: Outcome) -> None:
    """Generate the memo from the plan and ask each department head alone to sign it:
    their reply to that message is their signature (确认), or their objection."""
    number = int((project.get("memo") or {}).get("round", 0)) + 1
    due = meetings._deadline(ctx, ctx.now, ctx.rules.sla.memo_signoff)
    tasks = [t for t in _tasks(project, ctx) if t.get("status") != "cancelled"]
    text = ctx.templates.render_text("text_memo", project=project, tasks=tasks)
    project["memo"] = {"round": number, "text": text, "sent": isoformat(ctx.now),
                       "due": isoformat(due), "signed": None,
                       "objections": (project.get("memo") or {}).get("objections", [])}
    project["status"] = "memo"
    project["pending_signoffs"] = [p for p in project.get("pending_signoffs", [])
                                   if p.get("kind") != "memo"]
    for head in _heads(project):
        signoff.ask(project, "memo", number, head["address"])
        out.send(ctx.draft(
            "memo_sign", to=[head], record=project["id"], purpose="memo_sign",
            asks=head["address"], meta={"signoff": "memo", "round": number},
            project=project, memo=project["memo"], person=head, due=due))
    audit(project, ctx.now, "memo sent to sign", round=number,
          to=[h["address"] for h in _heads(project)], due=isoformat(due))


def on_memo_signoff(project: Project, event: Event, ctx: Context, out: Outcome,
                    auth: signoff.Authority) -> str | None:
    """A head's 确认 (signed) or 不确认 (an objection, told to the lead and secretary).
    Returns why it could not change anything, for the person to be told; None when it
    counted or repeated what was counted."""
    intent = event.intent
    assert intent is not None
    memo = project.get("memo") or {}
    person = auth.asked or event.message.sender
    if auth.round != memo.get("round") or project.get("status") != "memo":
        return f"这封邮件针对的是第{auth.round}版备忘录，它已不在等待签署"
    decision = "confirmed" if intent.kind == "confirm" else "rejected"
    before = signoff.existing(project, "memo", auth.round, person)
    if before is not None and before["decision"] == decision:
        audit(project, ctx.now, "sign-off repeated, nothing changed", by=person,
              round=auth.round, decision=decision)
        return None
    if before is not None and decision == "rejected":
        said = "签署"
        return (f"您对第{auth.round}版备忘录的答复（{said}）已于 "
                f"{before.get('at', '')[:16].replace('T', ' ')} 记录，之后的不同答复不改变结果")
    entry = signoff.record_signoff(project, ctx, event, auth, decision,
                                   intent.reason if decision == "rejected" else None)
    signoff.answered(project, "memo", auth.round, person)
    head = ctx.person_by_address(person)
    if decision == "rejected":
        memo.setdefault("objections", []).append(
            {"round": auth.round, "by": person, "at": isoformat(ctx.now),
             "reason": intent.reason or (event.new_text or "")[:2000]})
        project["memo"] = memo
        audit(project, ctx.now, "memo objected (不签署)", by=person, round=auth.round,
              reason=intent.reason)
        out.send(ctx.draft(
            "memo_objection", to=[project.get("lead")],
            cc=[ctx.person(ctx.rules.directory.secretary)], record=project["id"],
            purpose="memo_objection", project=project, head=head,
            reason=intent.reason or (event.new_text or "").strip()))
        return None
    audit(project, ctx.now, "memo signed", by=person, round=auth.round)
    signed = {s.get("by") for s in project.get("signoffs", [])
              if s.get("kind") == "memo" and s.get("round") == auth.round
              and s.get("decision") == "confirmed"}
    if all(any(ctx.rules.directory.same_person(h["address"], str(b)) for b in signed if b)
           for h in _heads(project)):
        memo["signed"] = isoformat(ctx.now)
        project["memo"] = memo
        project["status"] = "running"
        audit(project, ctx.now, "memo signed by every head", round=auth.round)
        signatures = [s for s in project.get("signoffs", [])
                      if s.get("kind") == "memo" and s.get("round") == auth.round
                      and s.get("decision") == "confirmed"]
        everyone: list[PersonDict | None] = [project.get("lead")]
        for dept in project.get("departments", []):
            everyone += [dept.get("head"), dept.get("liaison")]
        out.send(ctx.draft(
            "memo_signed", to=everyone, cc=[ctx.person(ctx.rules.directory.secretary)],
            record=project["id"], purpose="memo_signed", project=project, memo=memo,
            signatures=[{**s, "person": ctx.person_by_address(str(s.get("by")))}
                        for s in signatures], last=entry))
    return None


# -- tasks: delivered by the R, accepted by the A --------------------------------------------



def task_delivered(task: Task, event: Event, ctx: Context, out: Outcome) -> None:
    """The R says it is done (已交付/已完成, with the deliverable): the A is asked alone to
    accept it (确认) or send it back (驳回). An R who is also the A accepts their own."""
    message = event.message
    intent = event.intent
    accountable = task.get("accountable")
    assert accountable is not None
    rounds = task.setdefault("deliveries", [])
    number = len(rounds) + 1
    attachments = message.body.documents
    delivery: Delivery = {
        "round": number, "at": isoformat(ctx.now), "by": message.sender,
        "message": message.message_id, "text": (event.new_text or "")[:2000],
        "links": list(intent.links) if intent else [],
        "attachments": [a.filename for a in attachments], "decision": None,
    }
    rounds.append(delivery)
    audit(task, ctx.now, "delivered", by=message.sender, round=number,
          attachments=delivery["attachments"] or None)
    if ctx.rules.directory.same_person(message.sender, accountable["address"]):
        delivery["decision"] = "accepted"
        _accepted(task, ctx, out, by=accountable, note="负责人即验收人")
        return
    task["status"] = "delivered"
    task["risk"] = False
    task["waiting_on"] = [accountable["address"]]
    due = ctx.rules.calendar.add(ctx.now, ctx.rules.sla.deliverable_acceptance)
    task["acceptance_due"] = isoformat(due)
    signoff.ask(task, "deliverable", number, accountable["address"])
    files = forwarded(attachments)
    out.send(ctx.draft(
        "task_acceptance_request", to=[accountable], record=task["id"],
        purpose="acceptance_request", asks=accountable["address"], attachments=files,
        meta={"signoff": "deliverable", "round": number}, task=task, delivery=delivery,
        deliverer=ctx.person_by_address(message.sender), due=due))
    audit(task, ctx.now, "acceptance requested", to=accountable["address"], round=number,
          due=task["acceptance_due"])
    # RACI: the consulted (C) see the delivery and may comment (their reply reaches the R
    # and the A); they do not accept it.
    consulted = _raci_people(task, "C", ctx)
    if consulted:
        out.send(ctx.draft(
            "task_consult", to=consulted, record=task["id"], purpose="task_consult",
            attachments=files, task=task, delivery=delivery,
            deliverer=ctx.person_by_address(message.sender)))
        audit(task, ctx.now, "consulted", to=[p["address"] for p in consulted],
              round=number)


def task_acceptance(task: Task, event: Event, ctx: Context, out: Outcome,
                    auth: signoff.Authority) -> str | None:
    """The A's answer on a delivery round. Returns why it could not change anything (a
    round no longer waiting, a different answer after the first), for them to be told."""
    from collabd.inbound.values import parse_date

    intent = event.intent
    assert intent is not None
    decision = "accepted" if intent.kind == "confirm" else "rejected"
    person = auth.asked or event.message.sender
    before = signoff.existing(task, "deliverable", auth.round, person)
    if before is not None:
        if before["decision"] == decision:
            audit(task, ctx.now, "sign-off repeated, nothing changed", by=person,
                  round=auth.round, decision=decision)
            return None
        said = "驳回" if before["decision"] == "rejected" else "验收通过"
        return (f"您对第{auth.round}次交付的验收意见（{said}）已于 "
                f"{before.get('at', '')[:16].replace('T', ' ')} 记录，之后的不同答复不改变结果")
    if signoff.still_pending(task, "deliverable", auth.round, person) is None or (
            task.get("status") != "delivered"):
        return f"这封邮件针对的是第{auth.round}次交付，它已不在等待验收"
    entry = signoff.record_signoff(task, ctx, event, auth, decision,
                                   intent.reason if decision == "rejected" else None)
    signoff.answered(task, "deliverable", auth.round, person)
    current = next((d for d in task.get("deliveries", []) if d.get("round") == auth.round),
                   None)
    if current is not None:
        current["decision"] = decision
    by = ctx.person_by_address(person)
    if decision == "accepted":
        _accepted(task, ctx, out, by=by, signed=entry)
        return None
    reason = intent.reason or ""
    today = ctx.now.astimezone(ctx.rules.calendar.tz).date()
    new_due, _ = parse_date(reason, today) if reason else (None, None)
    if new_due is not None and new_due >= today:
        task["due_date"] = new_due.isoformat()
    task["status"] = "open"
    owner = task.get("owner")
    task["waiting_on"] = [owner["address"]] if owner else []
    task.setdefault("rework", []).append({
        "round": auth.round, "reason": reason,
        "new_due": new_due.isoformat() if new_due else None, "at": isoformat(ctx.now)})
    audit(task, ctx.now, "rejected (驳回)", by=person, round=auth.round, reason=reason,
          new_due=new_due.isoformat() if new_due else None)
    out.send(ctx.draft("task_rejected", to=[owner], cc=[by], record=task["id"],
                       purpose="acceptance_rejected", task=task, reason=reason,
                       new_due=new_due, by=by))
    return None


def consulted(task: Task, sender: str, ctx: Context) -> bool:
    """Does the sender speak for a department the task's RACI consults (C) or informs (I)?"""
    dept = ctx.rules.directory.department_of(sender)
    letters = (task.get("raci") or {}).get(dept.name, "") if dept is not None else ""
    return "C" in letters or "I" in letters


def _raci_people(task: Task, letter: str, ctx: Context) -> list[PersonDict]:
    """The liaisons of the departments with `letter` (C: consulted, I: informed) in the
    task's RACI row, but not its R or A."""
    found: list[PersonDict] = []
    skip = {(task.get("owner") or {}).get("address"),
            (task.get("accountable") or {}).get("address")}
    for dept_name, letters in (task.get("raci") or {}).items():
        if letter not in letters or "R" in letters or "A" in letters:
            continue
        dept = ctx.rules.directory.department(dept_name)
        person = ctx.person(dept.liaison) if dept is not None else None
        if person is not None and person["address"] not in skip:
            found.append(person)
    return found


def _accepted(task: Task, ctx: Context, out: Outcome, *, by: PersonDict,
              signed: Signoff | None = None, note: str | None = None) -> None:
    """Accepted: done, 实际完成 filled in, the R and the lead told (and, by the RACI, the
    consulted and informed departments); the last task of a project accepted closes its
    work (feedback, 复盘)."""
    task["status"] = "done"
    task["closed"] = isoformat(ctx.now)
    task["actual_finish"] = ctx.now.astimezone(ctx.rules.calendar.tz).date().isoformat()
    task["risk"] = False
    task["waiting_on"] = []
    audit(task, ctx.now, "accepted (验收通过)", by=by["address"], note=note)
    out.send(ctx.draft("task_accepted", to=[task.get("owner")],
                       cc=[task.get("requester"), by, *_raci_people(task, "C", ctx),
                           *_raci_people(task, "I", ctx)], record=task["id"],
                       purpose="acceptance_accepted", task=task, by=by, note=note or ""))
    project = _editable_project(task.get("project"), ctx, out)
    if project is not None and project.get("status") in OPEN_PROJECT:
        others = [t for t in _tasks(project, ctx) if t["id"] != task["id"]]
        if all(t.get("status") in ("done", "cancelled") for t in others):
            work_done(project, [t for t in (*others, task) if t.get("status") == "done"],
                      ctx, out)
            out.put(project)


def _editable_project(project_id: str | None, ctx: Context, out: Outcome) -> Project | None:
    """The project to change: the copy this pass already changes (a reply on the
    project's own thread), else a new copy of the stored one."""
    if not project_id:
        return None
    pending = out.get(project_id)
    if pending is not None:
        return pending if pending["kind"] == "project" else None
    stored = ctx.view.project(project_id)
    return changed(stored) if stored is not None else None


# (a mailbox's id prefix may stand before it: SH-RW-2026-0002, collabd.ids)
_TASK_ID = re.compile(r"\b(?:[A-Z]{2,6}\s*-\s*)?RW\s*-\s*(\d{4})\s*-\s*(\d{1,5})\b",
                      re.IGNORECASE)


def _task_named(found: re.Match[str], ours: set[str]) -> str | None:
    """The project's task a task number names (written with or without the mailbox's
    id prefix); None when it is not one of the project's."""
    base = f"RW-{found.group(1)}-{int(found.group(2)):04d}"
    if base in ours:
        return base
    return next((t for t in sorted(ours) if t.endswith("-" + base)), None)


# What says a task is done, at the start of a reply (as the task mails ask).
DONE_WORDS = ("已完成", "完成了", "已办结", "已处理完")


def without_task_id(text: str) -> str:
    """A report's text without the task number it starts with."""
    text = unicodedata.normalize("NFKC", text).strip()
    found = _TASK_ID.match(text)
    return text[found.end():].lstrip(" :：,，.。") if found else text


def split_by_task(project: Project, text: str) -> list[tuple[str, str]]:
    """A report naming several of the project's tasks, a line or more each
    ("RW-2026-0002 进度 30%\nRW-2026-0005 进度 10%") → (task, its text) for each."""
    ours = set(project.get("tasks", []))
    segments: dict[str, list[str]] = {}
    current: str | None = None
    for line in unicodedata.normalize("NFKC", text).splitlines():
        found = _TASK_ID.search(line)
        task_id = _task_named(found, ours) if found else None
        if task_id is not None:
            current = task_id
            segments.setdefault(task_id, []).append(line)
        elif current is not None and line.strip():
            segments[current].append(line)
    return [(task_id, "\n".join(lines)) for task_id, lines in segments.items()]


def task_of_reply(project: Project, event: Event, ctx: Context, out: Outcome) -> Task | None:
    """The task of this project a reply on the project's thread is about: the one it
    names (RW-2026-0002), else the sender's only open task. A sender with several who
    names none is asked which (nothing is guessed); None then, and for anyone else."""
    text = unicodedata.normalize("NFKC", event.new_text or "")
    ours = set(project.get("tasks", []))
    for found in _TASK_ID.finditer(text):
        task_id = _task_named(found, ours)
        stored = ctx.view.record(task_id) if task_id is not None else None
        if stored is not None and stored["kind"] == "task":
            return changed(stored)
    sender = event.message.sender
    directory = ctx.rules.directory
    mine = [t for t in _tasks(project, ctx)
            if t.get("status") in ("open", "delivered") and directory.same_person(
                sender, (t.get("owner") or {}).get("address", ""))]
    intent = event.intent
    reports = (intent is not None and intent.kind in ("progress", "delivered")) or (
        without_task_id(event.new_text or "").startswith(DONE_WORDS))
    if not reports:
        return None  # (a word to the project, not a report on a task)
    if len(mine) == 1:
        return changed(mine[0])
    if len(mine) > 1:
        out.send(ctx.draft(
            "project_which_task", to=[ctx.person_by_address(sender)], record=project["id"],
            purpose="project_which_task", project=project, mine=mine,
            person=ctx.person_by_address(sender), read=(event.new_text or "")[:500],
            in_reply_to=event.message.message_id if event.message.has_message_id else None))
        audit(project, ctx.now, "asked which task", by=sender,
              tasks=[t["id"] for t in mine])
    return None


# -- closing: 反馈, 复盘, closed --------------------------------------------------------------

def needs_retro(project: Project, ctx: Context) -> bool:
    rules = ctx.rules.meetings.retro
    return (len(project.get("tasks", [])) >= rules.min_tasks
            or len(project.get("departments", [])) >= rules.min_departments)


def work_done(project: Project, tasks: list[Task], ctx: Context, out: Outcome) -> None:
    """Every task accepted: the lead is asked for 反馈 (use and effect, by reply); a
    project the rules mark gets a 复盘会, whose minutes — the 《协作复盘报告》, asked of
    the lead — every attendee confirms; otherwise the project is closed now."""
    audit(project, ctx.now, "every task accepted")
    project["feedback_asked"] = isoformat(ctx.now)
    retro = plan_retro(project, tasks, ctx, out) if needs_retro(project, ctx) else None
    out.send(ctx.draft(
        "project_feedback", to=[project.get("lead")],
        cc=[ctx.person(ctx.rules.directory.secretary)], record=project["id"],
        purpose="project_feedback", project=project, tasks=tasks, retro=retro))
    if retro is None:
        _close(project, ctx, out, why="全部任务已验收")
    else:
        project["status"] = "retro"


def plan_retro(project: Project, tasks: list[Task], ctx: Context, out: Outcome) -> Meeting:
    rules = ctx.rules.meetings.retro
    meeting = _project_meeting(
        project, ctx, out, kind="retro", title=f"项目复盘会：{project.get('title', '')}",
        attendees=_everyone(project, ctx, rules.extra_attendees),
        earliest=ctx.rules.calendar.add(ctx.now, rules.notice),
        length=meetings.clock_length(ctx, rules.length), place=rules.place,
        reason="项目复盘", agenda="agenda_retro", tasks=tasks)
    project["retro"] = meeting["id"]
    audit(project, ctx.now, "retro planned", meeting=meeting["id"], start=meeting["start"])
    return meeting


def _close(project: Project, ctx: Context, out: Outcome, *, why: str) -> None:
    project["pending_signoffs"] = []  # (a late 确认 on the memo changes nothing now)
    # The communication plan's meetings still ahead are called off (the series whole),
    # and minutes no longer matter for its occurrences still waiting for them.
    ids = list(project.get("meetings", []))
    for meeting_id in list(ids):
        found = out.get(meeting_id) or ctx.view.meeting(meeting_id)
        if found is not None and found["kind"] == "meeting":
            ids += found.get("occurrences", [])
    tasks = set(project.get("tasks", []))
    ids += [m["id"] for m in ctx.view.open_records("meeting")  # its tasks' risk meetings
            if m.get("meeting_kind") == "risk" and tasks & set(m.get("risk_items", []))]
    for meeting_id in ids:
        stored = out.get(meeting_id) or ctx.view.meeting(meeting_id)
        if stored is None or stored["kind"] != "meeting":
            continue
        kind, status = stored.get("meeting_kind"), stored.get("status")
        if kind == "series" and status == "scheduled" and stored.get("occurrences_done"):
            # Held before: the series ends now (its past stays in people's calendars).
            meeting = changed(stored)
            meetings.end_series(meeting, ctx, out, reason=f"项目 {project['id']} 已关闭")
            out.put(meeting)
        elif kind in ("series", "plan", "push", "kickoff", "change_review") and (
                status == "scheduled"):
            meeting = changed(stored)
            meetings.cancel(meeting, ctx, out, by=ctx.identity.address,
                            reason=f"项目 {project['id']} 已关闭")
            out.put(meeting)
        elif kind in ("occurrence", "push", "risk") and status in ("minutes_requested",
                                                                    "minutes_revision"):
            meeting = changed(stored)
            meeting["status"] = "closed"
            meeting["closed"] = isoformat(ctx.now)
            audit(meeting, ctx.now, "minutes no longer needed",
                  reason=f"项目 {project['id']} 已关闭")
            out.put(meeting)
    project["status"] = "closed"
    project["closed"] = isoformat(ctx.now)
    project["waiting_on"] = []
    audit(project, ctx.now, "closed", reason=why)
    everyone: list[PersonDict | None] = [project.get("lead")]
    for dept in project.get("departments", []):
        everyone += [dept.get("head"), dept.get("liaison")]
    out.send(ctx.draft(
        "project_closed", to=everyone, cc=[ctx.person(ctx.rules.directory.secretary)],
        record=project["id"], purpose="project_closed", project=project, why=why,
        tasks=_tasks(project, ctx)))
    archiving.on_close(project, ctx, out)


def feedback(project: Project, event: Event, ctx: Context) -> bool:
    """The lead's 反馈 (use and effect) after the work is done, kept on the project."""
    lead = (project.get("lead") or {}).get("address", "")
    text = (event.new_text or "").strip()
    if not project.get("feedback_asked") or project.get("feedback") or not text or not (
            ctx.rules.directory.same_person(event.message.sender, lead)):
        return False
    project["feedback"] = {"at": isoformat(ctx.now), "by": event.message.sender,
                           "text": text[:4000], "message": event.message.message_id}
    audit(project, ctx.now, "feedback", by=event.message.sender, text=text[:500])
    return True


# -- an updated plan: applied as a diff --------------------------------------------------------

_COMPARED = (("dept", "负责部门"), ("owner", "负责人"), ("planned_start", "计划开始"),
             ("due_date", "计划完成"), ("deliverable", "产出物"), ("raci", "RACI"),
             ("milestone", "关键节点"), ("accountable", "验收人（A）"))


def _shown(field: str, value: Any) -> str:
    if isinstance(value, dict) and field == "raci":
        return "、".join(f"{d}{v}" for d, v in value.items()) or "—"
    if isinstance(value, dict):
        return str(value.get("name") or value.get("address") or "—")
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value) if value else "—"


def _fresh(pid: str, row: PlanTask, lead: PersonDict | None, ctx: Context) -> dict[str, Any]:
    """A row of the plan as a task's fields (what `_new_task` would store)."""
    return {
        "title": row.name[:200], "description": row.description,
        "dept": row.dept.name if row.dept else None, "owner": ctx.person(row.owner),
        "owner_text": row.owner.name if row.owner else "", "requester": lead,
        "accountable": ctx.person(row.accountable), "raci": dict(row.raci),
        "planned_start": row.start.isoformat() if row.start else None,
        "due_date": row.finish.isoformat() if row.finish else None,
        "deliverable": row.deliverable, "issues": row.issues, "milestone": row.milestone,
    }


def plan_update(event: Event, ctx: Context) -> Outcome:
    """The lead mails an updated plan on the project's thread: tasks are matched by name,
    added, changed or cancelled; whoever's tasks changed is told; after the memo was
    signed, a change of scope or dates asks for a 变更评审 (guide 001 step 6), after
    which the memo is signed again."""
    from collabd.workflow import intake

    out = Outcome()
    out.inbound = {"kind": "plan_update", "record": event.thread}
    reading = event.reading
    stored = ctx.view.project(event.thread or "")
    if stored is None or reading is None or reading.plan is None:
        out.inbound["note"] = "no project of that id"
        return out
    project = changed(stored)
    out.put(project)
    sender = event.message.sender
    lead = project.get("lead") or {}
    doubt = signoff.sender_doubt(event, ctx)
    if doubt is None and event.replied_to is None:
        doubt = "更新的计划需直接回复系统发出的该项目邮件（只凭主题中的编号不能更新计划）"
    if ctx.rules.directory.same_person(sender, lead.get("address", "")) and doubt:
        # Changing the plan tells every R and may call a meeting: as a sign-off, the
        # sender must be who the From says, answering our mail.
        audit(project, ctx.now, "plan update not applied", by=sender, reason=doubt,
              message=event.message.message_id)
        out.send(ctx.draft(
            "signoff_not_counted", to=[lead], record=project["id"],
            purpose="signoff_not_counted", record_title=project.get("title", ""),
            record_id=project["id"], reason=doubt, command="（更新的项目计划）"))
        return out
    if not ctx.rules.directory.same_person(sender, lead.get("address", "")):
        audit(project, ctx.now, "plan update not applied", by=sender,
              reason="只有项目负责人可以更新计划", message=event.message.message_id)
        known = ctx.rules.directory.by_address(sender)
        if known is not None:
            out.send(ctx.draft(
                "signoff_not_counted", to=[ctx.person(known)], record=project["id"],
                purpose="signoff_not_counted", record_title=project.get("title", ""),
                record_id=project["id"], reason="只有项目负责人可以更新项目计划，请把修改意见发给"
                f"{lead.get('name') or '项目负责人'}", command="（更新的项目计划）"))
        return out
    if project.get("status") not in OPEN_PROJECT:
        audit(project, ctx.now, "plan update not applied", by=sender, reason="项目已关闭")
        return out
    if not reading.complete:
        return intake.form_incomplete(event, ctx, record=project["id"])
    plan = reading.plan
    current = {key(t.get("title", "")): t for t in _tasks(project, ctx)
               if t.get("status") != "cancelled"}
    rows = {key(r.name): r for r in plan.tasks}
    changes: list[dict[str, Any]] = []
    told: dict[str, list[str]] = {}
    for name, row in rows.items():
        fresh = _fresh(project["id"], row, project.get("lead"), ctx)
        task = current.get(name)
        if task is None:
            made = _new_task(project["id"], row, project.get("lead"), ctx, out)
            project.setdefault("tasks", []).append(made["id"])
            changes.append({"task": made["id"], "title": made["title"], "what": "新增"})
            owner = made.get("owner")
            if owner:
                told.setdefault(owner["address"], []).append(
                    f"新增任务 {made['id']} {made['title']}：{made.get('planned_start') or '—'} 至 "
                    f"{made.get('due_date') or '—'}")
            continue
        diffs = [(label, _shown(field, task.get(field)), _shown(field, fresh[field]))
                 for field, label in _COMPARED
                 if _shown(field, task.get(field)) != _shown(field, fresh[field])]
        if not diffs:
            continue
        edited = changed(task)
        cast("dict[str, Any]", edited).update({f: fresh[f] for f, _label in _COMPARED})
        owner = edited.get("owner")
        if owner and edited.get("status") == "open":
            edited["waiting_on"] = [owner["address"]]
        audit(edited, ctx.now, "plan changed", by=sender,
              changes=[f"{label}：{old} → {new}" for label, old, new in diffs])
        out.put(edited)
        changes.append({"task": edited["id"], "title": edited["title"], "what": "修改",
                        "diffs": diffs})
        lines = [f"{edited['id']} {edited['title']}：" + "；".join(
            f"{label} {old} → {new}" for label, old, new in diffs)]
        for person in {(task.get("owner") or {}).get("address"), (owner or {}).get("address")}:
            if person:
                told.setdefault(person, []).extend(lines)
    for name, task in current.items():
        if name in rows or task.get("status") == "done":
            continue
        edited = changed(task)
        edited["status"] = "cancelled"
        edited["closed"] = isoformat(ctx.now)
        edited["waiting_on"] = []
        edited["pending_signoffs"] = []  # (nothing is asked of anyone any more)
        audit(edited, ctx.now, "cancelled by the plan", by=sender)
        out.put(edited)
        changes.append({"task": edited["id"], "title": edited["title"], "what": "取消"})
        owner = edited.get("owner")
        if owner:
            told.setdefault(owner["address"], []).append(
                f"任务 {edited['id']} {edited['title']} 已从计划中取消")
    if not changes:
        audit(project, ctx.now, "plan unchanged", by=sender, message=event.message.message_id)
        out.send(ctx.draft("project_plan_changed", to=[lead], record=project["id"],
                           purpose="project_plan_changed", project=project, changes=[],
                           review=None, lines=[]))
        return out
    _follow_plan(project, reading.fields, plan.departments, plan.liaisons, ctx, out)
    states = []
    for task_id in project.get("tasks", []):
        found = out.get(task_id) or ctx.view.record(task_id)
        states.append(found.get("status") if found is not None else None)
    if states and all(s in ("done", "cancelled") for s in states) and "done" in states:
        # What is left was all cancelled: the work is done.
        audit(project, ctx.now, "plan updated", by=sender, message=event.message.message_id,
              changes=[f"{c['what']} {c['task']}" for c in changes])
        work_done(project, [t for t in _tasks(project, ctx) if t.get("status") == "done"],
                  ctx, out)
        return out
    review = None
    if project.get("status") == "running" or (project.get("memo") or {}).get("signed"):
        review = plan_change_review(project, changes, ctx, out)
    elif project.get("status") == "memo":
        send_memo(project, ctx, out)  # not yet signed: the heads sign the new plan
    audit(project, ctx.now, "plan updated", by=sender, message=event.message.message_id,
          changes=[f"{c['what']} {c['task']}" for c in changes],
          review=review["id"] if review else None)
    out.send(ctx.draft("project_plan_changed", to=[lead],
                       cc=[ctx.person(ctx.rules.directory.secretary)], record=project["id"],
                       purpose="project_plan_changed", project=project, changes=changes,
                       review=review, lines=[]))
    for address, lines in told.items():
        out.send(ctx.draft("project_plan_changed", to=[ctx.person_by_address(address)],
                           record=project["id"], purpose="project_plan_changed",
                           project=project, changes=[], review=review, lines=lines))
    return out


def _follow_plan(project: Project, fields: dict[str, Any], departments: list[Department],
                 liaisons: dict[str, Person], ctx: Context, out: Outcome) -> None:
    """The project follows its updated plan: a department now taking part joins (its
    head signs the memo, is invited to the 变更评审), and the period moves, with the
    last day of its recurring meetings."""
    known = {d["dept"] for d in project.get("departments", [])}
    for dept in departments:
        if dept.name not in known:
            project.setdefault("departments", []).append({
                "dept": dept.name, "liaison": ctx.person(liaisons.get(dept.name) or dept.liaison),
                "head": ctx.person(dept.head)})
            audit(project, ctx.now, "department joined", dept=dept.name)
    finish = fields.get("finish")
    if finish and finish != project.get("finish"):
        for meeting_id in project.get("meetings", []):
            stored = out.get(meeting_id) or ctx.view.meeting(meeting_id)
            if stored is None or stored["kind"] != "meeting" or (
                    stored.get("meeting_kind") != "series" or stored.get("status") != "scheduled"):
                continue
            series = changed(stored)
            clock = dt.datetime.fromisoformat(series["start"]).astimezone(
                ctx.rules.calendar.tz).timetz()
            series["until"] = isoformat(dt.datetime.combine(
                dt.date.fromisoformat(finish), clock))
            series["sequence"] = int(series.get("sequence", 0)) + 1
            meetings.place_occurrences(series, ctx)
            audit(series, ctx.now, "series until changed", until=series["until"])
            meetings.send_invite(series, ctx, out)
            out.put(series)
    project["finish"] = finish or project.get("finish")
    project["start"] = fields.get("start") or project.get("start")


def plan_change_review(project: Project, changes: list[dict[str, Any]], ctx: Context,
                       out: Outcome) -> Meeting:
    """A 变更评审 (guide 001 step 6): the heads and liaisons review the change; when its
    minutes are confirmed the memo, with the new plan, is signed again."""
    rules = ctx.rules.meetings.kickoff
    meeting = _project_meeting(
        project, ctx, out, kind="change_review",
        title=f"变更评审会：{project.get('title', '')}",
        attendees=_everyone(project, ctx, rules.extra_attendees),
        earliest=ctx.rules.calendar.add(ctx.now, rules.notice),
        length=meetings.clock_length(ctx, rules.length), place=rules.place,
        reason="项目计划变更", agenda="agenda_change", changes=changes)
    project["status"] = "change_review"
    audit(project, ctx.now, "change review planned", meeting=meeting["id"],
          start=meeting["start"])
    return meeting


# -- key nodes (关键节点): the 《阶段性成果说明》 --------------------------------------------

def milestone_report(task: Task, event: Event, ctx: Context, out: Outcome) -> None:
    """The R's 《阶段性成果说明》 for a key node: kept, and its A asked alone whether it
    meets expectations (确认) or what is missing (不确认：…)."""
    message = event.message
    accountable = task.get("accountable")
    assert accountable is not None
    reports = task.setdefault("milestone_reports", [])
    number = len(reports) + 1
    attachments = message.body.documents
    report = {"round": number, "at": isoformat(ctx.now), "by": message.sender,
              "text": (event.new_text or "")[:4000], "message": message.message_id,
              "attachments": [a.filename for a in attachments], "decision": None}
    reports.append(report)
    audit(task, ctx.now, "milestone report", by=message.sender, round=number)
    signoff.ask(task, "milestone", number, accountable["address"])
    out.send(ctx.draft(
        "milestone_confirm", to=[accountable], record=task["id"], purpose="milestone_confirm",
        asks=accountable["address"], meta={"signoff": "milestone", "round": number},
        attachments=[Attachment(a.filename, a.data, a.content_type) for a in attachments],
        task=task, report=report, reporter=ctx.person_by_address(message.sender)))


def milestone_answer(task: Task, event: Event, ctx: Context, out: Outcome,
                     auth: signoff.Authority) -> str | None:
    """The A's answer: it meets expectations, or what is missing goes to the R."""
    intent = event.intent
    assert intent is not None
    person = auth.asked or event.message.sender
    if signoff.still_pending(task, "milestone", auth.round, person) is None:
        return f"这封邮件针对的第{auth.round}份阶段性成果说明已答复过"
    decision = "confirmed" if intent.kind == "confirm" else "rejected"
    signoff.record_signoff(task, ctx, event, auth, decision,
                           intent.reason if decision == "rejected" else None)
    signoff.answered(task, "milestone", auth.round, person)
    for report in task.get("milestone_reports", []):
        if report.get("round") == auth.round:
            report["decision"] = decision
            report["reason"] = intent.reason or ""
    by = ctx.person_by_address(person)
    audit(task, ctx.now, "milestone confirmed" if decision == "confirmed"
          else "milestone not as expected", by=person, reason=intent.reason)
    out.send(ctx.draft("milestone_answered", to=[task.get("owner")],
                       cc=[task.get("requester")], record=task["id"],
                       purpose="milestone_answered", task=task, by=by,
                       confirmed=decision == "confirmed", reason=intent.reason or ""))
    return None


# -- the communication plan's rows held by mail: a progress ask to each R --------------------

def _mail_rows(project: Project) -> list[tuple[int, CommPlanRow]]:
    return [(i, row) for i, row in enumerate(project.get("comm_plan", []))
            if "邮件" in row.get("way", "") and row.get("time")]


def _sync_moments(row: CommPlanRow, ctx: Context) -> tuple[dt.datetime | None,
                                                             dt.datetime | None]:
    """(the latest moment of a mail row at or before now, the next one after now), on
    working days only."""
    calendar = ctx.rules.calendar
    clock = dt.time.fromisoformat(str(row.get("time")))
    rule = meetings.rule_of(row)
    if rule is None:
        day = dt.date.fromisoformat(str(row.get("date")))
        moment = dt.datetime.combine(day, clock, tzinfo=calendar.tz)
        return (moment, None) if moment <= ctx.now else (None, moment)
    anchor = dt.datetime.combine(ctx.now.astimezone(calendar.tz).date()
                                 - dt.timedelta(days=62), clock, tzinfo=calendar.tz)
    series = rrulestr(rule, dtstart=anchor)
    latest: dt.datetime | None = series.before(ctx.now, inc=True)
    while latest is not None and not calendar.is_workday(latest.date()):
        latest = series.before(latest)
    upcoming: dt.datetime | None = series.after(ctx.now)
    for _ in range(62):
        if upcoming is None or calendar.is_workday(upcoming.date()):
            break
        upcoming = series.after(upcoming)
    return latest, upcoming


def next_sync(project: Project, ctx: Context) -> dt.datetime | None:
    """When a mail row of the plan next asks for progress (for the agenda)."""
    if project.get("status") not in OPEN_PROJECT:
        return None
    found: list[dt.datetime] = []
    sent = project.get("sync_sent", {})
    for index, row in _mail_rows(project):
        latest, upcoming = _sync_moments(row, ctx)
        if latest is not None and sent.get(str(index)) != isoformat(latest) and (
                ctx.now - latest <= SYNC_LATE):
            found.append(latest)
        elif upcoming is not None:
            found.append(upcoming)
    return min(found) if found else None


# A progress ask missed by more than this (the daemon was stopped) is not sent late:
# the next one asks again.
SYNC_LATE = dt.timedelta(hours=12)


def on_tick(stored: Project, ctx: Context, out: Outcome) -> Project | None:
    """A mail row of the communication plan (每日 17:00 进度同步，方式：邮件) due now: each
    R with open tasks is asked for today's progress, answered by reply."""
    if stored.get("status") not in OPEN_PROJECT:
        return None
    project: Project | None = None
    for index, row in _mail_rows(stored):
        latest, _ = _sync_moments(row, ctx)
        if latest is None or stored.get("sync_sent", {}).get(str(index)) == isoformat(latest):
            continue
        if ctx.now - latest > SYNC_LATE:
            continue
        project = project or changed(stored)
        project.setdefault("sync_sent", {})[str(index)] = isoformat(latest)
        tasks = [t for t in _tasks(project, ctx) if t.get("status") == "open"]
        for theirs in _by_owner(tasks).values():
            out.send(ctx.draft("project_sync", to=[theirs[0].get("owner")],
                               record=project["id"], purpose="project_sync",
                               project=project, mine=theirs, row=row))
        audit(project, ctx.now, "progress asked", topic=row.get("topic"),
              to=sorted(_by_owner(tasks)))
    return project


# -- 专项推进会 at the key nodes: the 决议 signed by the 组长 ------------------------------

def plan_push(project: Project, tasks: list[Task], ctx: Context, out: Outcome) -> list[Meeting]:
    """The 专项推进会 at the key nodes the rules name (the middle of the project, a few
    working days before its last day), chaired by the lead department (guide 003)."""
    rules = ctx.rules.meetings.push
    calendar = ctx.rules.calendar
    start, finish = project.get("start"), project.get("finish")
    if not start or not finish:
        return []
    first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(finish)
    days: dict[str, dt.date] = {}
    if "middle" in rules.nodes:
        days["中期"] = first + (last - first) / 2
    if "before_acceptance" in rules.nodes:
        days["验收前"] = calendar.subtract(dt.datetime.combine(
            last, calendar.end, tzinfo=calendar.tz), rules.before_acceptance).date()
        if days.get("中期", last) >= days["验收前"]:
            days.pop("中期", None)  # (a short project: one push, before acceptance)
    attendees = _everyone(project, ctx, rules.extra_attendees)
    length = meetings.clock_length(ctx, rules.length)
    made: list[Meeting] = []
    taken: set[dt.date] = set()
    for node, day in days.items():
        earliest = calendar.next_working_moment(dt.datetime.combine(
            day, calendar.start, tzinfo=calendar.tz))
        if earliest <= calendar.add(ctx.now, ctx.rules.meetings.kickoff.notice) or (
                earliest.date() in taken):
            continue  # (a short project: its key nodes are the 启动会 and 验收)
        taken.add(earliest.date())
        made.append(_project_meeting(
            project, ctx, out, kind="push",
            title=f"专项推进会（{node}）：{project.get('title', '')}", attendees=attendees,
            earliest=earliest, length=length, place=rules.place, reason=f"关键节点：{node}",
            agenda="agenda_push", tasks=tasks, node=node))
    return made


def ask_resolution(meeting: Meeting, ctx: Context, out: Outcome) -> None:
    """The 推进会's minutes confirmed: its 决议 goes to the 组长 alone to sign."""
    leader = ctx.person(ctx.rules.directory.leader)
    if leader is None:
        return
    rounds = (meeting.get("minutes") or {}).get("rounds") or []
    text = rounds[-1].get("text", "") if rounds else ""
    signoff.ask(meeting, "resolution", 1, leader["address"])
    due = meetings._deadline(ctx, ctx.now, ctx.rules.sla.memo_signoff)
    # Open until the 组长 answers (chased by the resolution_not_signed ladder).
    meeting["status"] = "resolution"
    meeting["closed"] = None
    meeting["resolution_due"] = isoformat(due)
    out.send(ctx.draft(
        "resolution_sign", to=[leader], record=meeting["id"], purpose="resolution_sign",
        asks=leader["address"], meta={"signoff": "resolution", "round": 1},
        meeting=meeting, text=text, person=leader, due=due))
    audit(meeting, ctx.now, "resolution sent to sign", to=leader["address"])


def resolution_answer(meeting: Meeting, event: Event, ctx: Context, out: Outcome,
                      auth: signoff.Authority) -> str | None:
    """The 组长 signs the 决议 (确认), or sends it back with what to change."""
    intent = event.intent
    assert intent is not None
    person = auth.asked or event.message.sender
    if signoff.still_pending(meeting, "resolution", auth.round, person) is None:
        return "这份决议已经答复过"
    decision = "confirmed" if intent.kind == "confirm" else "rejected"
    signoff.record_signoff(meeting, ctx, event, auth, decision,
                           intent.reason if decision == "rejected" else None)
    signoff.answered(meeting, "resolution", auth.round, person)
    meeting["status"] = "closed"
    meeting["closed"] = isoformat(ctx.now)
    audit(meeting, ctx.now, "resolution signed" if decision == "confirmed"
          else "resolution not signed", by=person, reason=intent.reason)
    leader = ctx.person_by_address(person)
    to = ([meeting.get("organizer"), *meeting.get("attendees", [])] if decision == "confirmed"
          else [meeting.get("organizer")])
    out.send(ctx.draft("resolution_answered", to=to, record=meeting["id"],
                       purpose="resolution_answered", meeting=meeting, leader=leader,
                       confirmed=decision == "confirmed", reason=intent.reason or ""))
    return None
