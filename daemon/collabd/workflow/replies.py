"""Replies on a record's thread: responses, comments, progress, delivery and sign-off.

A reply is tied to its record by In-Reply-To/References (or the subject tag). What it
means (confirm, reject, progress, delivered, comment) comes from its new text only.
A confirm or reject is a sign-off only when it answers the message that asked the
sender for it (see signoff.py); otherwise it is recorded as a comment, with the reason
it did not count.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from collabd.clock import isoformat
from collabd.inbound.classify import Event
from collabd.inbound.intent import classify as classify_intent
from collabd.inbound.values import parse_date
from collabd.model import (
    Delivery,
    DepartmentResponse,
    Meeting,
    Problem,
    Progress,
    Project,
    Request,
    Task,
)
from collabd.outbound.compose import forwarded
from collabd.workflow import archiving, meetings, problems, projects, signoff
from collabd.workflow.context import Context, PersonDict
from collabd.workflow.outcome import Outcome, Record, audit, changed


def handle_reply(event: Event, ctx: Context) -> Outcome:
    out = Outcome()
    out.inbound = {"kind": "reply", "record": event.thread,
                   "intent": event.intent.kind if event.intent else None}
    stored = ctx.view.record(event.thread) if event.thread else None
    if stored is None:
        out.inbound["note"] = "the record it names does not exist"
        return out
    record = changed(stored)
    out.put(record)  # (what it leads to changes this copy: Outcome.get)
    if record["kind"] == "request":
        _on_request(record, event, ctx, out)
    elif record["kind"] == "problem":
        _on_problem(record, event, ctx, out)
    elif record["kind"] == "meeting":
        _on_meeting(record, event, ctx, out)
    elif record["kind"] == "task":
        _on_task(record, event, ctx, out)
    else:
        _on_project(record, event, ctx, out)
    out.put(record)
    return out


# -- sides --------------------------------------------------------------------------------

def _addresses(*people: PersonDict | None) -> set[str]:
    return {p["address"].lower() for p in people if p and p.get("address")}


def _on_side(ctx: Context, sender: str, people: list[PersonDict | None],
             dept_name: str | None) -> bool:
    """Does the sender speak for a side: one of its people, or of its department?"""
    directory = ctx.rules.directory
    if any(directory.same_person(sender, a) for a in _addresses(*people)):
        return True
    dept = directory.department_of(sender)
    return dept is not None and dept.name == dept_name


def _receiver_side(record: Request, ctx: Context, sender: str) -> bool:
    return _on_side(ctx, sender, [record.get("receiver"), record.get("receiver_liaison"),
                                  record.get("receiver_head")], record.get("receiver_dept"))


def _requester_side(record: Request, ctx: Context, sender: str) -> bool:
    return _on_side(ctx, sender, [record.get("requester"), record.get("submitted_by"),
                                  record.get("requester_head")], record.get("requester_dept"))


def _receiver_people(record: Request) -> list[PersonDict | None]:
    return [record.get("receiver_liaison"), record.get("receiver")]


def _requester_people(record: Request) -> list[PersonDict | None]:
    return [record.get("requester"), record.get("submitted_by")]


def _heads(record: Request) -> list[PersonDict | None]:
    return [record.get("requester_head"), record.get("receiver_head")]


# -- requests -------------------------------------------------------------------------------

def _on_request(record: Request, event: Event, ctx: Context, out: Outcome) -> None:
    intent = event.intent
    kind = intent.kind if intent else "comment"
    sender = event.message.sender
    asked_kind = ((event.replied_to or {}).get("meta") or {}).get("signoff")
    receiver_side = _receiver_side(record, ctx, sender)
    cooperating = None if receiver_side else _cooperating_of(record, ctx, sender)
    if cooperating is not None and not asked_kind and kind not in ("confirm", "reject"):
        _cooperating_response(record, cooperating, event, ctx, out)
        return
    if asked_kind and (kind in ("confirm", "reject") or not receiver_side):
        auth = signoff.authority(event, ctx)
        if kind in ("confirm", "reject"):
            if not auth.ok:
                _not_counted(record, event, ctx, out, auth)
                return
            if auth.kind == "deliverable":
                _acceptance(record, event, ctx, out, auth)
                return
        elif _unclear_answer(record, event, ctx, out, auth):
            # What they wrote still reaches the other side (附件打不开, a question).
            _relay(record, event, ctx, out, from_receiver=False)
            return
    if kind in ("confirm", "reject") and not asked_kind and _answered_elsewhere(
            record, event, ctx, out, "这封回复针对的不是发给您的确认请求邮件"):
        return
    if kind == "reject" and record.get("status") == "closed" and not receiver_side:
        # A 驳回 after the request was accepted and closed changes nothing by itself;
        # it is not lost either: the person is told, and the other side gets the text.
        closed = str(record.get("closed") or "")[:16].replace("T", " ")
        _changed_mind(record, event, ctx, out, sender,
                      f"需求已于 {closed} 验收关闭，这封回复不会重新打开它；您的意见已转给接收方。"
                      "如需重新处理，请提交《跨部门协作问题反馈单》并注明需求编号")
        _relay(record, event, ctx, out, from_receiver=False)
        return
    if kind == "delivered":
        if receiver_side:
            _delivered(record, event, ctx, out)
        else:
            _comment(record, event, ctx, why="只有接收方可以提交交付物")
        return
    if kind == "progress" and receiver_side:
        _progress(record, event, ctx, out)
        _first_response(record, event, ctx, out)
        return
    if receiver_side and meetings.asks_for_review(event.new_text or "", ctx) and (
            not record.get("review")):
        _first_response(record, event, ctx, out)
        meetings.want_review(record, ctx, reason="接收方要求召开需求评审会")
        return
    if receiver_side and record.get("status") == "open":
        _first_response(record, event, ctx, out)
        return
    _comment(record, event, ctx, why=None)
    _relay(record, event, ctx, out, receiver_side)


def _cooperating_of(record: Request, ctx: Context, sender: str) -> DepartmentResponse | None:
    """The cooperating department (its entry on the record) the sender answers for."""
    return next((entry for entry in record.get("departments", []) if _on_side(
        ctx, sender, [entry.get("liaison"), entry.get("head")], entry.get("dept"))), None)


def _cooperating_response(record: Request, entry: DepartmentResponse, event: Event,
                          ctx: Context, out: Outcome) -> None:
    """A cooperating department answered: its wait ends (the first time), and the
    requester is told, with where every department stands."""
    first = entry.get("responded") is None
    if first:
        entry["responded"] = isoformat(ctx.now)
        entry["responded_by"] = ctx.person_by_address(event.message.sender)
        audit(record, ctx.now, "department responded", dept=entry["dept"],
              by=event.message.sender, message=event.message.message_id,
              text=(event.new_text or "")[:500])
    else:
        _comment(record, event, ctx, why=None)
    if not (event.new_text or "").strip() and not first:
        return
    out.send(ctx.draft(
        "receiver_responded", to=_requester_people(record), record=record["id"],
        purpose="receiver_responded", request=record, dept=entry["dept"],
        responder=ctx.person_by_address(event.message.sender), text=event.new_text or "",
    ))


def _first_response(record: Request, event: Event, ctx: Context, out: Outcome) -> None:
    """The receiving side answered the request for the first time (响应)."""
    if record.get("status") != "open":
        return
    record["status"] = "in_progress"
    record["responded"] = isoformat(ctx.now)
    record["responded_by"] = ctx.person_by_address(event.message.sender)
    record["waiting_on"] = []
    audit(record, ctx.now, "receiver responded", by=event.message.sender,
          message=event.message.message_id, text=(event.new_text or "")[:500])
    out.send(ctx.draft(
        "receiver_responded", to=_requester_people(record), record=record["id"],
        purpose="receiver_responded", request=record, dept=record.get("receiver_dept"),
        responder=record["responded_by"], text=event.new_text or "",
    ))


def _comment(record: Record, event: Event, ctx: Context, *, why: str | None) -> None:
    intent = event.intent
    audit(record, ctx.now, "comment", by=event.message.sender,
          message=event.message.message_id, text=(event.new_text or "")[:2000],
          intent=intent.kind if intent else None, read_as=intent.why if intent else None,
          note=why)


def _relay(record: Request, event: Event, ctx: Context, out: Outcome,
           from_receiver: bool) -> None:
    """A comment from one side of a request is passed to the other side."""
    sender = event.message.sender
    if not (event.new_text or "").strip():
        return
    if from_receiver:
        to = _requester_people(record)
    elif _requester_side(record, ctx, sender):
        to = _receiver_people(record)
    else:
        return
    out.send(ctx.draft(
        "comment_relay", to=to, record=record["id"], purpose="comment_relay",
        request=record, author=ctx.person_by_address(sender), text=event.new_text or "",
    ))


def _progress(record: Request | Task, event: Event, ctx: Context, out: Outcome) -> None:
    intent = event.intent
    assert intent is not None
    progress: Progress = {
        "percent": intent.percent,
        "status": intent.status,
        "reason": intent.reason,
        "at": isoformat(ctx.now),
        "by": event.message.sender,
        "message": event.message.message_id,
    }
    previous = record.get("progress") or {}
    if progress["percent"] is None:
        progress["percent"] = previous.get("percent")
    if progress["status"] is None:
        progress["status"] = previous.get("status") or "正常"
    record["progress"] = progress
    record.setdefault("progress_history", []).append(progress)
    audit(record, ctx.now, "progress", by=event.message.sender, percent=progress["percent"],
          status=progress["status"], reason=progress["reason"])
    if progress["status"] in ("滞后", "阻塞"):
        if not record.get("risk"):
            meetings.mark_risk(record, ctx, out,
                               reason=f"{progress['status']}：{progress['reason'] or ''}")
    elif record.get("risk") and progress["status"] == "正常":
        record["risk"] = False
        audit(record, ctx.now, "no longer a risk", by=event.message.sender)


# -- deliverables and acceptance (验收) -----------------------------------------------------

def _delivered(record: Request, event: Event, ctx: Context, out: Outcome) -> None:
    intent = event.intent
    assert intent is not None
    if record.get("status") == "closed":
        _comment(record, event, ctx, why="需求已验收关闭")
        return
    rounds = record.setdefault("deliveries", [])
    number = len(rounds) + 1
    attachments = event.message.body.documents
    delivery: Delivery = {
        "round": number,
        "at": isoformat(ctx.now),
        "by": event.message.sender,
        "message": event.message.message_id,
        "text": (event.new_text or "")[:2000],
        "links": intent.links,
        "attachments": [a.filename for a in attachments],
        "decision": None,
    }
    rounds.append(delivery)
    record["status"] = "delivered"
    _first_response_fields(record, event, ctx)
    requester = record.get("requester") or record.get("submitted_by")
    if requester is None:
        _comment(record, event, ctx, why="没有可以验收的发起人")
        return
    record["waiting_on"] = [requester["address"]]
    signoff.ask(record, "deliverable", number, requester["address"])
    record["acceptance_due"] = isoformat(
        ctx.rules.calendar.add(ctx.now, ctx.rules.sla.deliverable_acceptance))
    audit(record, ctx.now, "delivered", by=event.message.sender, round=number,
          links=intent.links or None, attachments=delivery["attachments"] or None)
    # Sent to the requester alone: its Message-ID then stands for this record, this
    # round and this person, and only their reply to it can sign.
    out.send(ctx.draft(
        "acceptance_request", to=[requester], record=record["id"],
        purpose="acceptance_request", asks=requester["address"],
        attachments=forwarded(attachments), meta={"signoff": "deliverable", "round": number},
        request=record, delivery=delivery,
        deliverer=ctx.person_by_address(event.message.sender), due=record["acceptance_due"],
    ))
    audit(record, ctx.now, "acceptance requested", to=requester["address"], round=number,
          due=record["acceptance_due"])


def _first_response_fields(record: Request, event: Event, ctx: Context) -> None:
    if record.get("responded"):
        return
    record["responded"] = isoformat(ctx.now)
    record["responded_by"] = ctx.person_by_address(event.message.sender)


def _acceptance(record: Request, event: Event, ctx: Context, out: Outcome,
                auth: signoff.Authority) -> None:
    intent = event.intent
    assert intent is not None
    decision = "accepted" if intent.kind == "confirm" else "rejected"
    person = auth.asked or event.message.sender
    before = signoff.existing(record, "deliverable", auth.round, person)
    if before is not None:
        if before["decision"] == decision:
            # The same answer again (a resend, a second 确认): it was counted once.
            audit(record, ctx.now, "sign-off repeated, nothing changed", by=person,
                  round=auth.round, decision=decision, message=event.message.message_id)
            return
        if decision == "accepted" or ctx.rules.signoff.reject_after_confirm == "ignore":
            # The first answer on a round stands; a different one later is not lost in
            # silence: the person is told, and asked again if a newer round waits.
            said = "驳回" if before["decision"] == "rejected" else "验收通过"
            _changed_mind(record, event, ctx, out, person, f"您对第{auth.round}次交付的验收意见"
                          f"（{said}）已于 {before['at'][:16].replace('T', ' ')} 记录，"
                          "之后的不同答复不改变结果")
            return
    if before is None and signoff.still_pending(record, "deliverable", auth.round,
                                                person) is None:
        _changed_mind(record, event, ctx, out, person,
                      f"这封邮件针对的是第{auth.round}次交付，它已不在等待验收")
        return
    rounds = record.get("deliveries", [])
    current = next((r for r in rounds if r["round"] == auth.round), None)
    entry = signoff.record_signoff(record, ctx, event, auth, decision,
                                   intent.reason if decision == "rejected" else None)
    if current is not None:
        current["decision"] = decision
    signoff.answered(record, "deliverable", auth.round, person)
    everyone = _requester_people(record) + _receiver_people(record)
    if decision == "accepted":
        record["status"] = "closed"
        record["closed"] = isoformat(ctx.now)
        record["resolution"] = "accepted"
        record["waiting_on"] = []
        audit(record, ctx.now, "accepted (验收通过)", by=person, round=auth.round,
              message=event.message.message_id)
        archiving.on_close(record, ctx, out)
        out.send(ctx.draft("acceptance_accepted", to=everyone, cc=_heads(record),
                           record=record["id"], purpose="acceptance_accepted",
                           request=record, signoff=entry))
        return
    reason = intent.reason or ""
    today = ctx.now.astimezone(ctx.rules.calendar.tz).date()
    new_due, _ = parse_date(reason, today) if reason else (None, None)
    if new_due is not None and new_due >= today:
        record["due_date"] = new_due.isoformat()
    record["status"] = "in_progress"
    record["closed"] = None
    record["resolution"] = None
    record["waiting_on"] = [p["address"] for p in _receiver_people(record) if p]
    record.setdefault("rework", []).append({
        "round": auth.round, "reason": reason, "new_due": new_due.isoformat()
        if new_due else None, "at": isoformat(ctx.now)})
    audit(record, ctx.now, "rejected (驳回)", by=person, round=auth.round, reason=reason,
          new_due=new_due.isoformat() if new_due else None, message=event.message.message_id)
    out.send(ctx.draft("acceptance_rejected", to=_receiver_people(record),
                       cc=_requester_people(record), record=record["id"],
                       purpose="acceptance_rejected", request=record, reason=reason,
                       new_due=new_due, signoff=entry))


# What counts an answer to an ask to sign, by the ask's kind: (record, event, ctx, out,
# authority) → why it could not change anything (told to the person), or None.
Answer = Callable[..., "str | None"]


def _signoff_reply(record: Record, event: Event, ctx: Context, out: Outcome,
                   answers: dict[str, Answer], *, elsewhere: str) -> bool:
    """A reply that may be a sign-off. To a message that asked the sender (its kind in
    `answers`): a clear 确认/不确认 from the person asked is counted by `answer`, anyone
    else's is not, and an unclear one is asked back; a 确认/不确认 on a message that asked
    nothing, from someone an ask waits for, is not counted (`elsewhere` says why) and
    they are asked again. True when the reply was one of these."""
    intent = event.intent
    kind = intent.kind if intent else "comment"
    asked_kind = ((event.replied_to or {}).get("meta") or {}).get("signoff")
    answer = answers.get(asked_kind) if asked_kind else None
    if answer is not None:
        auth = signoff.authority(event, ctx)
        if kind in ("confirm", "reject"):
            if not auth.ok:
                _not_counted(record, event, ctx, out, auth)
                return True
            refused = answer(record, event, ctx, out, auth)
            if refused is not None:
                _changed_mind(record, event, ctx, out, auth.asked or event.message.sender,
                              refused)
            return True
        if _unclear_answer(record, event, ctx, out, auth):
            return True
    return kind in ("confirm", "reject") and not asked_kind and _answered_elsewhere(
        record, event, ctx, out, elsewhere)


def _changed_mind(record: Record, event: Event, ctx: Context, out: Outcome, person: str,
                  reason: str) -> None:
    """A decision that cannot change what was decided (an answered or superseded
    round): recorded as not counted, the person told — and sent the current ask when
    one waits for them."""
    _not_counted(record, event, ctx, out, signoff.Authority(
        False, person, None, None, reason))


def _answered_elsewhere(record: Record, event: Event, ctx: Context, out: Outcome,
                        why: str) -> bool:
    """The right person, answering the wrong message (the acknowledgement, a relay, a
    notice) with a confirm or reject: it does not count, and they are told so and sent
    the ask again. False when nothing waits for them on this record."""
    waiting = signoff.pending_for(record, ctx, event.message.sender)
    if waiting is None:
        return False
    _not_counted(record, event, ctx, out, signoff.Authority(
        False, waiting["person"], waiting["kind"], waiting.get("round"), why))
    return True


def _unclear_answer(record: Record, event: Event, ctx: Context, out: Outcome,
                    auth: signoff.Authority) -> bool:
    """A reply to an ask that neither clearly confirms nor clearly rejects, from the
    person asked: recorded, not counted, and asked back. False when it is not an answer
    to an ask still open (then it is an ordinary comment)."""
    if not auth.ok:
        return False
    pending = signoff.still_pending(record, auth.kind, auth.round, auth.asked)
    if pending is None:
        return False
    intent = event.intent
    _comment(record, event, ctx, why="回复既不是明确的确认，也不是明确的不确认/驳回")
    audit(record, ctx.now, "unclear answer, not counted", by=event.message.sender,
          asked=auth.asked, kind=auth.kind, round=auth.round,
          text=(event.new_text or "")[:2000], message=event.message.message_id,
          read_as=intent.why if intent else None)
    signoff.ask_again(record, event, ctx, out, pending, situation="unclear")
    return True


def _not_counted(record: Record, event: Event, ctx: Context, out: Outcome,
                 auth: signoff.Authority) -> None:
    intent = event.intent
    message = event.message
    _comment(record, event, ctx, why=auth.reason)
    audit(record, ctx.now, "sign-off not counted", by=message.sender,
          asked=auth.asked, reason=auth.reason, intent=intent.kind if intent else None,
          text=(event.new_text or "")[:2000], message=message.message_id,
          sender_issues=message.sender_issues or None)
    # Tell the sender when they are someone we know (a colleague answering for someone
    # else learns why; a forged From reaches the real person, who should know). When
    # they are themselves asked to sign here, the message is the ask again.
    known = ctx.rules.directory.by_address(message.sender)
    if known is None:
        return
    waiting = signoff.pending_for(record, ctx, message.sender)
    if waiting is not None and not message.sender_issues:
        signoff.ask_again(record, event, ctx, out, waiting, situation="elsewhere",
                          reason=auth.reason)
        return
    out.send(ctx.draft(
        "signoff_not_counted", to=[ctx.person(known)], record=record["id"],
        purpose="signoff_not_counted", record_title=record.get("title", ""),
        record_id=record["id"], reason=auth.reason or "",
        in_reply_to=message.message_id if message.has_message_id else None,
    ))


# -- meetings and tasks ------------------------------------------------------------------------

def _on_meeting(meeting: Meeting, event: Event, ctx: Context, out: Outcome) -> None:
    sender = event.message.sender
    if _signoff_reply(meeting, event, ctx, out, {
            "minutes": meetings.on_minutes_signoff, "resolution": projects.resolution_answer},
            elsewhere="这封回复针对的不是发给您的纪要确认邮件"):
        return
    organizer = (meeting.get("organizer") or {}).get("address", "")
    if organizer and ctx.rules.directory.same_person(sender, organizer):
        # Commands and minutes act in the organizer's name: a forged From must not.
        doubt = signoff.sender_doubt(event, ctx)
        if doubt is not None:
            first = (event.new_text or "").strip().splitlines()[:1]
            audit(meeting, ctx.now, "command not counted", by=sender, reason=doubt,
                  text=first[0] if first else "", message=event.message.message_id)
            out.send(ctx.draft(
                "signoff_not_counted", to=[ctx.person_by_address(organizer)],
                record=meeting["id"], purpose="signoff_not_counted",
                record_title=meeting.get("title", ""), record_id=meeting["id"],
                reason=doubt, command=first[0] if first else "（会议纪要）"))
            return
        if meeting.get("status") == "scheduled" and meetings.organizer_command(
                meeting, event, ctx, out):
            return
        has_document = bool(event.message.body.documents)
        substantive = len((event.new_text or "").strip()) >= 10 or has_document
        if meeting.get("status") in ("held", "minutes_requested", "minutes_revision") and (
                substantive):
            meetings.on_minutes(meeting, event, ctx, out)
            return
    _comment(meeting, event, ctx, why=None)


def _on_task(task: Task, event: Event, ctx: Context, out: Outcome) -> None:
    intent = event.intent
    if task.get("accountable") and _task_acceptance(task, event, ctx, out):
        return
    owner = (task.get("owner") or {}).get("address", "")
    asked = (event.replied_to or {}).get("meta") or {}
    if asked.get("milestone") and owner and ctx.rules.directory.same_person(
            event.message.sender, owner) and task.get("accountable") and (
            (event.new_text or "").strip() or event.message.body.attachments):
        projects.milestone_report(task, event, ctx, out)
        return
    if not owner or not ctx.rules.directory.same_person(event.message.sender, owner):
        _comment(task, event, ctx, why=None)
        if projects.consulted(task, event.message.sender, ctx) and (
                event.new_text or "").strip():
            # A consulted (C) or informed (I) department's comment reaches the R and A.
            out.send(ctx.draft(
                "comment_relay", to=[task.get("owner"), task.get("accountable")],
                record=task["id"], purpose="comment_relay", request=task,
                author=ctx.person_by_address(event.message.sender),
                text=event.new_text or ""))
        return
    # ("RW-2026-0001 已完成": the task named first, as the list of tasks asks)
    text = projects.without_task_id(event.new_text or "")
    done = (intent is not None and (intent.kind == "delivered" or (
        intent.kind == "progress" and intent.percent == 100))) or text.startswith(
        projects.DONE_WORDS)
    if done and task.get("status") == "open" and task.get("accountable"):
        # A project's task is done when its A accepts what was delivered.
        projects.task_delivered(task, event, ctx, out)
        return
    if done and task.get("status") == "open":
        task["status"] = "done"
        task["closed"] = isoformat(ctx.now)
        task["risk"] = False
        task["waiting_on"] = []
        audit(task, ctx.now, "done", by=event.message.sender, text=text[:500])
        return
    if intent is not None and intent.kind == "progress":
        _progress(task, event, ctx, out)
        return
    _comment(task, event, ctx, why=None)


def _task_acceptance(task: Task, event: Event, ctx: Context, out: Outcome) -> bool:
    """The A's 确认/驳回 of a task's delivery, with every rule of a request's acceptance:
    only on the message that asked them, only from them. False: not an answer to that."""
    return _signoff_reply(task, event, ctx, out, {
        "deliverable": projects.task_acceptance, "milestone": projects.milestone_answer},
        elsewhere="这封回复针对的不是发给您的验收请求邮件")


# -- projects -----------------------------------------------------------------------------

def _on_project(project: Project, event: Event, ctx: Context, out: Outcome) -> None:
    """A head's answer to the memo (signed by 确认, objected to by 不确认); anything else
    on the project's thread is kept on it."""
    if _signoff_reply(project, event, ctx, out, {"memo": projects.on_memo_signoff},
                      elsewhere="这封回复针对的不是发给您的备忘录签署邮件"):
        return
    if projects.feedback(project, event, ctx):
        return
    # An R reporting on the project's mail (the list of their tasks): each task it names
    # (a line each), or their only one.
    segments = projects.split_by_task(project, event.new_text or "")
    if len(segments) > 1:
        has_attachment = bool(event.message.body.documents)
        for task_id, text in segments:
            stored = ctx.view.record(task_id)
            if stored is None or stored["kind"] != "task":
                continue
            one = dataclasses.replace(event, new_text=text, intent=classify_intent(
                text, ctx.rules.signoff.keywords, has_attachment=has_attachment))
            found = changed(stored)
            _on_task(found, one, ctx, out)
            out.put(found)
        return
    task = projects.task_of_reply(project, event, ctx, out)
    if task is not None:
        _on_task(task, event, ctx, out)
        out.put(task)
        return
    _comment(project, event, ctx, why=None)


# -- problems -----------------------------------------------------------------------------

def _on_problem(record: Problem, event: Event, ctx: Context, out: Outcome) -> None:
    sender = event.message.sender
    if problems.command(record, event, ctx, out):
        return
    intent = event.intent
    reporter = record.get("reporter") or {}
    from_reporter = bool(reporter) and ctx.rules.directory.same_person(
        sender, reporter.get("address", ""))
    if intent is not None and intent.kind == "confirm" and from_reporter and (
            record.get("status") != "closed"):
        doubt = signoff.sender_doubt(event, ctx)
        if doubt is None and event.replied_to is None:
            doubt = "这封邮件只凭主题中的编号关联到问题，请直接回复系统发给您的问题反馈邮件"
        if doubt is not None:
            _not_counted(record, event, ctx, out, signoff.Authority(
                False, reporter.get("address"), "problem", None, doubt))
            return
        # Nobody learns of a closure by silence: everyone asked or told of it hears.
        problems.close(record, ctx, out, by=ctx.person_by_address(sender),
                       text=event.new_text or "", how="reporter",
                       message=event.message.message_id, read_as=intent.why)
        return
    if from_reporter or record.get("status") == "closed":
        _comment(record, event, ctx, why="问题已关闭" if record.get("status") == "closed"
                 else None)
        if record.get("status") != "closed":
            problems.relay(record, event, ctx, out, from_reporter=True)
        return
    # The handling side (or the secretary, the leader, anyone asked) answers: it reaches
    # the reporter, and the problem is in hand — no longer chased as unanswered.
    answered = record.setdefault("answered_by", [])
    if sender.lower() not in answered:
        answered.append(sender.lower())
    if record.get("status") == "open":
        record["status"] = "in_progress"
        record["responded"] = isoformat(ctx.now)
        audit(record, ctx.now, "responded", by=sender, message=event.message.message_id,
              text=(event.new_text or "")[:500])
    else:
        _comment(record, event, ctx, why=None)
    problems.relay(record, event, ctx, out, from_reporter=False)
