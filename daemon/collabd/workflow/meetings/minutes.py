"""Minutes (会议纪要): asked for, distributed, confirmed within 24 hours, action items."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from collabd.clock import isoformat
from collabd.inbound.classify import Event
from collabd.inbound.forms import attachment_lines, text_lines
from collabd.inbound.values import parse_date
from collabd.model import ActionItem, Attendee, Meeting, MinutesRound, Task
from collabd.policy.durations import Duration
from collabd.textnorm import fold
from collabd.workflow import signoff
from collabd.workflow.context import Context, next_id
from collabd.workflow.outcome import Outcome, audit, new_record

# -- minutes -----------------------------------------------------------------------------------

def _deadline(ctx: Context, start: dt.datetime, duration: Duration) -> dt.datetime:
    """`start` + `duration` as the rules count it; a deadline in plain hours that ends
    outside working time moves to the next working moment (sla.after_hours)."""
    due = ctx.rules.calendar.add(start, duration)
    if ctx.rules.sla.after_hours == "next_working_moment" and (
            not ctx.rules.calendar.is_working_time(due)):
        return ctx.rules.calendar.next_working_moment(due)
    return due


def ask_for_minutes(meeting: Meeting, ctx: Context, out: Outcome) -> None:
    """After the meeting: the minutes' owner is asked for them (会后24小时内)."""
    # 24 hours from the end of the meeting, or from now if the daemon asks late (it was
    # stopped): nobody is chased for minutes they were never asked for.
    end = max(dt.datetime.fromisoformat(meeting["end"]), ctx.now)
    due = _deadline(ctx, end, ctx.rules.sla.minutes_due)
    meeting["status"] = "minutes_requested"
    meeting["minutes"]["due"] = isoformat(due)
    meeting["minutes"]["requested"] = isoformat(ctx.now)
    organizer = meeting.get("organizer")
    audit(meeting, ctx.now, "minutes requested",
          to=organizer.get("address") if organizer else None, due=isoformat(due))
    if organizer:
        out.send(ctx.draft(
            "minutes_request", to=[organizer], record=meeting["id"], purpose="minutes_request",
            asks=organizer["address"], meta={"minutes_for": meeting["id"]}, meeting=meeting,
            due=due,
        ))


_ITEM_FIELDS = {
    "task": ("待办", "待办事项", "行动项", "事项", "任务", "工作内容", "todo", "action"),
    "owner": ("负责人", "责任人", "执行人", "owner"),
    "due": ("截止", "截止时间", "截止日期", "完成时间", "完成日期", "期限", "due"),
}


_ITEM_LINE = re.compile(
    r"(?:待办|待办事项|行动项|todo|action)\s*[:：]\s*(?P<task>.+?)\s*[,，;；\s]\s*"
    r"(?:负责人|责任人|执行人|owner)\s*[:：]\s*(?P<owner>[^,，;；\s]+)\s*[,，;；\s]*\s*"
    r"(?:截止|截止时间|截止日期|完成时间|期限|due)\s*[:：]\s*(?P<due>[^,，;；\n]+)",
    re.IGNORECASE)


def action_items(text: str, tables: Sequence[list[str]] = ()) -> list[ActionItem]:
    """`待办：… 负责人：… 截止：…` lines, and tables with those columns."""
    items: list[ActionItem] = []
    for line in text_lines(text):
        found = _ITEM_LINE.search(line)
        if found:
            task, owner, due = (found[k].strip(" 。.") for k in ("task", "owner", "due"))
            items.append({"task": task, "owner": owner, "due": due})
    for lines in tables:
        header: dict[str, int] | None = None
        for line in lines:
            cells = [c.strip() for c in line.split("\t")]
            if header is None:
                mapping = {}
                for index, cell in enumerate(cells):
                    for name, words in _ITEM_FIELDS.items():
                        if fold(cell) in {fold(w) for w in words}:
                            mapping[name] = index
                if {"task", "owner"} <= set(mapping):
                    header = mapping
                continue
            if len(cells) <= max(header.values()) or not cells[header["task"]]:
                continue
            items.append({"task": cells[header["task"]], "owner": cells[header["owner"]],
                          "due": cells[header["due"]] if "due" in header else ""})
    return items


def signers(meeting: Meeting, ctx: Context) -> list[Attendee]:
    """Who must confirm the minutes: attendees who did not decline (the required ones
    only, if the rules say so), except the person who wrote them."""
    organizer = (meeting.get("organizer") or {}).get("address", "")
    required_only = ctx.rules.signoff.minutes_signers == "required_attendees"
    return [a for a in meeting["attendees"]
            if a.get("partstat") not in ("DECLINED", "DELEGATED")
            and not ctx.rules.directory.same_person(a["address"], organizer)
            and (a.get("required") or not required_only)]


def on_minutes(meeting: Meeting, event: Event, ctx: Context, out: Outcome) -> None:
    """The organizer sent (revised) minutes: a new round goes to every signer."""
    text = (event.new_text or "").strip()
    tables: list[list[str]] = []
    attachments = event.message.body.documents
    for a in attachments:
        try:
            lines = attachment_lines(a.filename, a.data)
        except Exception:
            lines = None
        if lines:
            tables.append(lines)
    rounds = meeting["minutes"]["rounds"]
    number = len(rounds) + 1
    confirm_due = _deadline(ctx, ctx.now, ctx.rules.sla.confirmation_due)
    items = action_items(text, tables)
    entry: MinutesRound = {
             "round": number, "received": isoformat(ctx.now), "by": event.message.sender,
             "message": event.message.message_id, "text": text[:20000],
             "attachments": [a.filename for a in attachments], "action_items": items,
             "distributed": isoformat(ctx.now), "confirm_due": isoformat(confirm_due),
             "status": "distributed"}
    rounds.append(entry)
    meeting["status"] = "minutes_distributed"
    meeting["pending_signoffs"] = []
    audit(meeting, ctx.now, "minutes received", by=event.message.sender, round=number,
          action_items=len(items))
    from collabd.outbound.compose import Attachment

    files = [Attachment(a.filename, a.data, a.content_type) for a in attachments]
    for person in signers(meeting, ctx):
        signoff.ask(meeting, "minutes", number, person["address"])
        out.send(ctx.draft(
            "minutes_confirm", to=[person], record=meeting["id"], purpose="minutes_confirm",
            asks=person["address"], meta={"signoff": "minutes", "round": number},
            attachments=files, meeting=meeting, minutes=entry, due=confirm_due,
            person=person,
        ))
    audit(meeting, ctx.now, "minutes distributed", round=number,
          to=[p["address"] for p in signers(meeting, ctx)], due=isoformat(confirm_due))
    if not signers(meeting, ctx):
        _signed_off(meeting, ctx, out, entry)


def on_minutes_signoff(meeting: Meeting, event: Event, ctx: Context, out: Outcome,
                       auth: signoff.Authority) -> str | None:
    """Count one attendee's 确认/不确认. Returns why it could not change anything (an
    old round, a different answer after the first), for the person to be told; None
    when it counted or merely repeated what was counted."""
    intent = event.intent
    assert intent is not None
    rounds = meeting["minutes"]["rounds"]
    current = rounds[-1] if rounds else None
    person = auth.asked or event.message.sender
    if current is None or current["round"] != auth.round or current["status"] != "distributed":
        audit(meeting, ctx.now, "sign-off for an old round, nothing changed", by=person,
              round=auth.round)
        return f"这封邮件针对的是第{auth.round}版会议纪要，它已不在等待确认"
    decision = "confirmed" if intent.kind == "confirm" else "rejected"
    before = signoff.existing(meeting, "minutes", auth.round, person)
    # The first answer on a round stands; a 不确认 after a 确认 opens a new round only
    # when the rules say so (reject_after_confirm: new_round).
    if before is not None and before["decision"] == decision:
        audit(meeting, ctx.now, "sign-off repeated, nothing changed", by=person,
              round=auth.round, decision=decision)
        return None
    if before is not None and (decision == "confirmed"
                               or ctx.rules.signoff.reject_after_confirm == "ignore"):
        said = "不确认" if before["decision"] == "rejected" else "确认"
        return (f"您对第{auth.round}版纪要的答复（{said}）已于 "
                f"{before['at'][:16].replace('T', ' ')} 记录，之后的不同答复不改变结果")
    signoff.record_signoff(meeting, ctx, event, auth, decision,
                           intent.reason if decision == "rejected" else None)
    signoff.answered(meeting, "minutes", auth.round, person)
    if decision == "rejected":
        current["status"] = "rejected"
        meeting["status"] = "minutes_revision"
        meeting["pending_signoffs"] = []
        meeting["minutes"]["due"] = isoformat(
            _deadline(ctx, ctx.now, ctx.rules.sla.minutes_due))
        audit(meeting, ctx.now, "minutes rejected (不确认)", by=person, round=auth.round,
              reason=intent.reason)
        organizer = meeting.get("organizer")
        if organizer:
            out.send(ctx.draft(
                "minutes_rejected", to=[organizer], record=meeting["id"],
                purpose="minutes_request", asks=organizer["address"],
                meta={"minutes_for": meeting["id"]}, meeting=meeting, minutes=current,
                by=ctx.person_by_address(person), reason=intent.reason or "",
                due=dt.datetime.fromisoformat(meeting["minutes"]["due"]),
            ))
        return None
    audit(meeting, ctx.now, "minutes confirmed", by=person, round=auth.round)
    confirmed = {by for s in meeting.get("signoffs", [])
                 if s["kind"] == "minutes" and s["round"] == auth.round
                 and s["decision"] == "confirmed" and (by := s["by"])}
    if all(any(ctx.rules.directory.same_person(p["address"], c) for c in confirmed)
           for p in signers(meeting, ctx)):
        _signed_off(meeting, ctx, out, current)
    return None


def _signed_off(meeting: Meeting, ctx: Context, out: Outcome, current: MinutesRound) -> None:
    current["status"] = "signed_off"
    meeting["status"] = "closed"
    meeting["closed"] = isoformat(ctx.now)
    meeting["minutes"]["signed_off"] = isoformat(ctx.now)
    audit(meeting, ctx.now, "minutes signed off", round=current["round"])
    tasks = _create_tasks(meeting, ctx, out, current.get("action_items", []))
    if meeting.get("meeting_kind") in ("kickoff", "retro", "change_review", "push"):
        from collabd.workflow import projects  # (projects builds on meetings)

        projects.meeting_signed(meeting, ctx, out)
    everyone = [meeting.get("organizer"), *meeting["attendees"]]
    out.send(ctx.draft("minutes_signed_off", to=everyone, record=meeting["id"],
                       purpose="minutes_signed_off", meeting=meeting, minutes=current,
                       tasks=tasks))


def _create_tasks(meeting: Meeting, ctx: Context, out: Outcome,
                  items: list[ActionItem]) -> list[Task]:
    tasks: list[Task] = []
    parent_id = meeting.get("parent")
    parent = ctx.view.record(parent_id) if parent_id else None
    request = parent if parent is not None and parent["kind"] == "request" else None
    today = ctx.now.astimezone(ctx.rules.calendar.tz).date()
    for item in items:
        owner, problem = ctx.rules.directory.resolve(item.get("owner", ""))
        due, _ = parse_date(item.get("due", ""), today) if item.get("due") else (None, None)
        task_id, counter, number = next_id(ctx.view, "RW", ctx.now, out.meta)
        out.meta[counter] = number
        owner_dict = ctx.person(owner) if owner else None
        task = new_record(
            "task", task_id, ctx.now, status="open", title=item.get("task", "")[:200],
            owner=owner_dict, owner_text=item.get("owner"), due_date=due.isoformat()
            if due else None, meeting=meeting["id"],
            request=request["id"] if request else None,
            requester=request.get("requester") if request else None,
            waiting_on=[owner_dict["address"]] if owner_dict else [],
        )
        audit(task, ctx.now, "created from minutes", meeting=meeting["id"],
              note=problem)
        out.put(task)
        tasks.append(task)
        if owner_dict is not None:
            out.send(ctx.draft(
                "task_assigned", to=[owner_dict], record=task_id, purpose="task_assigned",
                asks=owner_dict["address"], meta={"task": task_id}, task=task,
                meeting=meeting))
    meeting["tasks"] = [t["id"] for t in tasks]
    return tasks
