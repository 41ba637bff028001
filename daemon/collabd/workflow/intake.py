"""Intake: a request form or a problem report becomes a record; the sides are told.

A complete request is stored, acknowledged to the sender with both department heads in
CC (抄送双方部门负责人), and the receiving liaison (and named receiver) is notified. An
incomplete one is not stored: the sender gets one reply listing what is missing or
wrong, with the blank form. Problem reports are stored and routed by severity.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, TypedDict

from collabd.clock import isoformat
from collabd.ids import KINDS, with_prefix
from collabd.inbound.autoreply import robot_sender
from collabd.inbound.classify import Event
from collabd.inbound.interpret import QUESTIONS, Reading, label_of
from collabd.inbound.message import InboundMessage
from collabd.model import DepartmentResponse, Request
from collabd.outbound.compose import Attachment
from collabd.policy.org import Department, Person
from collabd.workflow import meetings, problems, projects
from collabd.workflow.context import Context, PersonDict, next_id
from collabd.workflow.outcome import Outcome, audit, changed, new_record

_REPLY_PREFIX = re.compile(r"^\s*(?:re|fw|fwd|回复|答复|回覆|转发|轉寄)\s*[:：]\s*",
                           re.IGNORECASE)
# What our own notices put in front of a subject (a form sent back as a reply to the
# "incomplete" notice keeps it), and the names of the forms themselves.
_NOTICE_PREFIX = re.compile(
    r"\s*(?:(?:需求表|问题反馈单)信息不完整，请补充后重新发送|未能识别您的邮件|"
    r"邮件过大，未能处理)\s*[:：]\s*")
_TITLE_NOISE = re.compile(
    r"(?:需求表|问题反馈单)信息不完整，请补充后重新发送[:：]?|"
    r"《?(?:跨部门)?(?:沟通)?需求[表单]》?(?:（附件）)?|《?(?:跨部门协作)?问题反馈单》?")


def clean_subject(subject: str) -> str:
    """A subject without reply/forward prefixes and without what our own notices put in
    front of it, so that answering back and forth never stacks them."""
    cleaned = subject
    while True:
        stripped = _REPLY_PREFIX.sub("", cleaned, count=1)
        stripped = _NOTICE_PREFIX.sub("", stripped, count=1)
        if stripped == cleaned:
            return cleaned.strip()
        cleaned = stripped


def _title(reading: Reading, subject: str) -> str:
    cleaned = _TITLE_NOISE.sub("", clean_subject(subject)).strip(" :：-—_")
    if len(cleaned) >= 2:
        return cleaned[:60]
    content = reading.fields.get("content") or reading.fields.get("description") or ""
    first = content.strip().splitlines()[0] if content.strip() else "未命名需求"
    return first[:30] + ("…" if len(first) > 30 else "")


class DeptPeople(TypedDict):
    head: PersonDict | None
    liaison: PersonDict | None


def _dept_people(ctx: Context, dept: Department | None) -> DeptPeople:
    if dept is None:
        return {"head": None, "liaison": None}
    return {"head": ctx.person(dept.head), "liaison": ctx.person(dept.liaison)}


def _field_rows(ctx: Context, kind: str, fields: dict[str, Any]) -> list[tuple[str, str]]:
    forms = ctx.rules.forms
    labels = {"request": forms.request.labels, "problem": forms.problem.labels,
              "project": forms.project.labels}[kind]
    rows = [(label_of(ctx.rules, kind, name), "、".join(value) if isinstance(value, list)
             else value) for name in labels if (value := fields.get(name))]
    if fields.get("cooperating_depts"):
        rows.append(("配合部门", "、".join(fields["cooperating_depts"])))
    if fields.get("external_ref"):
        rows.append(("原编号", fields["external_ref"]))
    return rows


def handle_request(event: Event, ctx: Context) -> Outcome:
    reading = event.reading
    assert reading is not None
    if not reading.complete:
        return form_incomplete(event, ctx)
    message = event.message
    out = Outcome()
    project_id = reading.fields.get("project")
    project = ctx.view.project(project_id) if project_id else None
    if project_id and (project is None or project.get("status") == "closed"):
        reading.errors.append(f"关联项目 {project_id} "
                              + ("不存在" if project is None else "已关闭")
                              + "（请核对项目编号，或留空）")
        return form_incomplete(event, ctx)
    given = reading.fields.get("request_id")
    if given:  # (an id given by hand is this mailbox's: its prefix, if it has one)
        given = with_prefix(given, ctx.view.id_prefix)
        head = given.split("-", 1)[0]
        if head not in KINDS and head != ctx.view.id_prefix:
            # Another mailbox's id (BJ-XQ-… written to SH): a reference, not our id.
            reading.fields["external_ref"] = given
            given = None
    if given and ctx.view.record(given) is not None:
        reading.errors.append(f"需求编号 {given} 已存在（同一需求请直接回复原邮件，"
                              "新需求请留空编号）")
        return form_incomplete(event, ctx)
    if given:
        rid = given
    else:
        rid, counter, number = next_id(ctx.view, "XQ", ctx.now, out.meta)
        out.meta[counter] = number
    urgency = reading.fields.get("urgency") or ctx.rules.forms.urgency.default or "一般"
    response_due = ctx.rules.calendar.add(ctx.now, ctx.rules.sla.request_response[urgency])
    req_dept = reading.departments.get("requester_dept")
    rec_dept = reading.departments["receiver_dept"]
    requester = ctx.person(reading.people.get("requester"))
    receiver = ctx.person(reading.people.get("receiver"))
    # (a colleague no source lists: by the name they gave, not their bare address)
    submitter = (ctx.person(reading.unlisted) if reading.unlisted is not None
                 else ctx.person_by_address(message.sender))
    req_side = _dept_people(ctx, req_dept)
    rec_side = _dept_people(ctx, rec_dept)
    title = _title(reading, message.subject)
    waiting = [p["address"] for p in (rec_side["liaison"], receiver) if p]
    record = new_record(
        "request", rid, ctx.now,
        status="open",
        title=title,
        fields=dict(reading.fields, request_id=rid),
        requester=requester,
        submitted_by=submitter,
        receiver=receiver,
        requester_dept=req_dept.name if req_dept else reading.fields.get("requester_dept"),
        receiver_dept=rec_dept.name,
        requester_head=req_side["head"],
        receiver_head=rec_side["head"],
        receiver_liaison=rec_side["liaison"],
        type=reading.fields.get("type"),
        urgency=urgency,
        due_date=reading.fields.get("due"),
        response_due=isoformat(response_due),
        waiting_on=list(dict.fromkeys(waiting)),
        source_message=message.message_id,
        source=reading.source,
    )
    audit(record, ctx.now, "request received", by=message.sender, message=message.message_id,
          source=reading.source)
    # Cooperating departments (several ticked): each notified and chased on its own.
    departments: list[DepartmentResponse] = []
    for d in reading.cooperating:
        people = _dept_people(ctx, d)
        departments.append({"dept": d.name, "role": "cooperating", "liaison": people["liaison"],
                            "head": people["head"], "responded": None})
    if departments:
        record["cooperating_depts"] = [d["dept"] for d in departments]
        record["departments"] = departments
    rows = _field_rows(ctx, "request", record["fields"])
    common: dict[str, Any] = {"request": record, "rows": rows, "response_due": response_due,
              "notes": reading.notes}
    ack = ctx.draft(
        "request_ack",
        to=[submitter, requester],
        cc=[req_side["head"], rec_side["head"]],
        record=rid, purpose="request_ack",
        in_reply_to=message.message_id if message.has_message_id else None,
        **common,
    )
    notify = ctx.draft(
        "request_notify",
        to=[rec_side["liaison"], receiver],
        record=rid, purpose="request_notify", cooperating=None,
        **common,
    )
    cooperating_notices = [ctx.draft(
        "request_notify", to=[entry["liaison"] or entry["head"]], record=rid,
        purpose="request_notify", cooperating=entry, **common)
        for entry in departments]
    audit(record, ctx.now, "acknowledged", to=[p.address for p in ack.to],
          cc=[p.address for p in ack.cc])
    audit(record, ctx.now, "receiver notified", to=[p.address for p in notify.to],
          response_due=isoformat(response_due))
    for entry, draft in zip(departments, cooperating_notices, strict=True):
        audit(record, ctx.now, "department notified", dept=entry["dept"],
              to=[p.address for p in draft.to], response_due=isoformat(response_due))
    out.put(record)
    out.send(ack)
    out.send(notify)
    for draft in cooperating_notices:
        out.send(draft)
    if reading.unlisted is not None:
        _tell_secretary_unlisted(reading.unlisted, record, ctx, out)
    if project is not None:
        # It shows among the project's work (and in its archive).
        record["project"] = project["id"]
        linked = changed(project)
        linked.setdefault("requests", []).append(rid)
        audit(linked, ctx.now, "request linked", request=rid, by=message.sender)
        out.put(linked)
    if meetings.review_needed(record, ctx):
        reason = f"规则：{record.get('urgency')}/{record.get('type')} 需求需评审"
        meetings.want_review(record, ctx, reason=reason)
    out.inbound = {"kind": "request", "record": rid}
    return out


def _tell_secretary_unlisted(person: Person, record: Request, ctx: Context,
                             out: Outcome) -> None:
    """A colleague no directory source lists filed a request (accepted as the requester
    of the department they named): the secretary hears of it, once per person."""
    audit(record, ctx.now, "requester not in the directory", person=person.address,
          dept=person.department)
    key = f"unlisted_told:{person.address}"
    if ctx.view.meta(key) is not None or key in out.meta:
        return
    out.meta[key] = {"at": isoformat(ctx.now), "record": record["id"]}
    out.send(ctx.draft(
        "unlisted_requester", to=[ctx.person(ctx.rules.directory.secretary)],
        record=None, purpose="unlisted_requester", person=ctx.person(person),
        request=record))


def handle_problem(event: Event, ctx: Context) -> Outcome:
    reading = event.reading
    assert reading is not None
    if not reading.complete:
        return form_incomplete(event, ctx)
    message = event.message
    out = Outcome()
    pid, counter, number = next_id(ctx.view, "WT", ctx.now, out.meta)
    out.meta[counter] = number
    severity = reading.fields["severity"]
    sla = ctx.rules.sla.problem.get(severity)
    directory = ctx.rules.directory
    reporter = ctx.person(reading.people.get("reporter"))
    submitter = ctx.person_by_address(message.sender)
    related_id = reading.fields.get("related_request")
    related = ctx.view.request(related_id) if related_id else None
    target = reading.departments.get("target_dept")
    reporter_dept = reading.departments.get("reporter_dept")
    if target is None and related is not None:
        # The other side of the related request, seen from the reporter's department.
        other = (related.get("requester_dept") if reporter_dept and
                 reporter_dept.name == related.get("receiver_dept")
                 else related.get("receiver_dept"))
        target = directory.department(other) if other else None
    leader, secretary = ctx.person(directory.leader), ctx.person(directory.secretary)
    target_side = _dept_people(ctx, target)
    reporter_side = _dept_people(ctx, reporter_dept)
    to: list[PersonDict | None]
    cc: list[PersonDict | None]
    if sla is not None and sla.escalate_to_leader:
        to, cc = [leader, secretary], [target_side["head"], reporter_side["head"]]
    elif sla is not None and sla.meeting_within is not None:
        to, cc = [target_side["liaison"], target_side["head"]], [secretary]
    else:
        to, cc = [target_side["liaison"]], []
    if not any(to):
        to = [secretary]  # nobody to route to: the secretary triages
    deadline = None
    if sla is not None:
        within = sla.resolve_within or sla.meeting_within
        if within is not None:
            deadline = ctx.rules.calendar.add(ctx.now, within)
    record = new_record(
        "problem", pid, ctx.now,
        status="open",
        title=reading.fields.get("title", ""),
        fields=dict(reading.fields),
        severity=severity,
        reporter=reporter,
        submitted_by=submitter,
        reporter_dept=reporter_dept.name if reporter_dept else None,
        target_dept=target.name if target else None,
        related_request=related_id,
        target_liaison=target_side["liaison"],
        target_head=target_side["head"],
        response_due=isoformat(deadline) if deadline else None,
        escalated=bool(sla and sla.escalate_to_leader),
        waiting_on=[p["address"] for p in to if p],
        source_message=message.message_id,
    )
    audit(record, ctx.now, "problem reported", by=message.sender, severity=severity,
          message=message.message_id)
    rows = _field_rows(ctx, "problem", record["fields"])
    common: dict[str, Any] = {"problem": record, "rows": rows, "deadline": deadline,
                              "notes": reading.notes,
              "sla": sla}
    ack = ctx.draft("problem_ack", to=[submitter, reporter], record=pid, purpose="problem_ack",
                    in_reply_to=message.message_id if message.has_message_id else None,
                    **common)
    notify = ctx.draft("problem_notify", to=to, cc=cc, record=pid, purpose="problem_notify",
                       **common)
    audit(record, ctx.now, "acknowledged", to=[p.address for p in ack.to])
    audit(record, ctx.now, "routed", severity=severity, to=[p.address for p in notify.to],
          cc=[p.address for p in notify.cc],
          rule=f"sla.problem.{severity}" if sla else None)
    if record["escalated"]:
        audit(record, ctx.now, "escalated to leader", to=directory.leader.address,
              rule=f"sla.problem.{severity}.escalate_to_leader")
    if sla is not None and sla.meeting_within is not None:
        # 重要: a 协调会; 重大: the leader's 专题会议 — organised, not only promised.
        problems.plan_meeting(record, ctx, out, deadline=deadline)
    out.put(record)
    if related is not None and ctx.view.store.get("records", related_id or "") is not None:
        linked = changed(related)
        linked.setdefault("problems", []).append(pid)
        audit(linked, ctx.now, "problem reported", problem=pid, severity=severity)
        out.put(linked)
    out.send(ack)
    out.send(notify)
    out.inbound = {"kind": "problem", "record": pid}
    return out


def form_incomplete(event: Event, ctx: Context,
                    attachments: Sequence[Attachment] = (), record: str | None = None) -> Outcome:
    """One reply listing what is missing or wrong. `record`: the record it is about (an
    updated plan): the corrected answer then goes to it, not to a new one."""
    reading = event.reading
    assert reading is not None
    message = event.message
    out = Outcome()
    out.inbound = {"kind": f"{reading.kind}_incomplete", "missing": reading.missing,
                   "errors": reading.errors}
    if not may_answer(message, ctx, out, "form_incomplete",
                       ctx.rules.forms.incomplete_replies_per_day):
        return out
    outside = not ctx.rules.is_internal(message.sender)
    missing = [(label_of(ctx.rules, reading.kind, name), QUESTIONS.get(name, ""))
               for name in reading.missing]
    rows = _field_rows(ctx, reading.kind, reading.fields)
    errors = list(reading.errors)
    if outside:
        # Whoever wrote from outside gets back only a short excerpt of what they sent:
        # the shared mailbox must not be a reflector for someone else's text.
        rows = [(label, excerpt(value)) for label, value in rows]
        ours = frozenset({ctx.rules.directory.secretary.address.lower(),
                          ctx.identity.address.lower()})
        errors = [excerpt(error, 120, keep=ours) for error in errors]
    out.send(ctx.draft(
        "form_incomplete",
        to=[ctx.person_by_address(message.sender)],
        record=record, purpose="form_incomplete",
        in_reply_to=message.message_id if message.has_message_id else None,
        references=message.references,
        # What the form said so far: an answer with only the missing fields is merged.
        meta={"form": reading.kind,
              "fields": {k: v[:4000] for k, v in reading.raw.items() if v},
              # Their own values, shown back to them: a correction repeating one is
              # theirs, not a quote of ours.
              "echo": "\n".join(f"{label}：{value}" for label, value in rows)[:4000]},
        form=reading.kind, missing=missing, errors=errors,
        original_subject=_their_subject(message, outside),
        rows=rows, attachments=attachments, notes=reading.notes,
    ))
    return out


_LINKS = re.compile(r"(?:https?|ftp)://\S+|www\.\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|"
                    r"\b[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|cn|top|xyz|info|io|cc)\b\S*",
                    re.IGNORECASE)


def excerpt(text: str, limit: int = 30, *, outside: bool = True,
            keep: frozenset[str] = frozenset()) -> str:
    """A short excerpt of what someone sent; from outside, without its links and
    addresses: what we send back must not carry a stranger's phishing link. `keep`:
    addresses of our own (the secretary's, named in our own words) left as they are."""
    if outside:
        text = _LINKS.sub(lambda m: m.group(0) if m.group(0).lower() in keep else "[链接]",
                          text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


# Replies to senders outside the company (form incomplete, not understood, too large)
# are limited per hour in all, on top of each kind's limit per sender and day: a
# flood of forged senders must not turn the shared mailbox into a spam cannon.
OUTSIDE_REPLIES_PER_HOUR = 30


def _their_subject(message: InboundMessage, outside: bool) -> str:
    """The sender's subject, as our reply quotes it back."""
    return excerpt(clean_subject(message.subject), 60 if outside else 200, outside=outside)


def may_answer(message: InboundMessage, ctx: Context, out: Outcome, kind: str,
                per_day: int) -> bool:
    """May the sender get one more `kind` reply? Counts it (in out.meta) when yes."""
    if not message.sender or "@" not in message.sender:
        out.inbound["not_answered"] = "no usable sender address"
        return False
    if robot_sender(message.sender):
        out.inbound["not_answered"] = "the sender is a robot's address"
        return False
    today = ctx.now.date().isoformat()
    key = f"{kind.removesuffix('_notice')}:{message.sender}"
    state: dict[str, Any] = out.meta.get(key) or ctx.view.meta(key) or {}
    count = int(state.get("count", 0)) if state.get("day") == today else 0
    if count >= per_day:
        out.inbound["not_answered"] = f"daily limit of {kind} replies reached"
        return False
    if not ctx.rules.is_internal(message.sender):
        hour_key = f"outside_replies:{ctx.now.strftime('%Y-%m-%dT%H')}"
        sent = int(out.meta.get(hour_key, ctx.view.meta(hour_key, 0)) or 0)
        if sent >= OUTSIDE_REPLIES_PER_HOUR:
            out.inbound["not_answered"] = "hourly limit of replies to outside senders reached"
            return False
        out.meta[hour_key] = sent + 1
    out.meta[key] = {"day": today, "count": count + 1}
    return True


# Our own record-less notices: a reply to one of them that is not a form is never
# answered (an auto-responder or a helpdesk answering us would start a loop).
OWN_NOTICES = ("not_understood", "oversize_notice", "form_incomplete", "unreadable_notice")


def not_understood(event: Event, ctx: Context) -> Outcome:
    """At most N "I could not understand this" replies per sender per day."""
    out = Outcome()
    out.inbound = {"kind": "unknown"}
    if (event.replied_to or {}).get("purpose") in OWN_NOTICES:
        out.inbound["not_answered"] = "a reply to our own notice, without a form"
        return out
    # A colleague also gets the blank project plan (it names the org directory's
    # departments: not for strangers).
    known = ctx.rules.directory.by_address(event.message.sender) is not None
    return answer_sender(event, ctx, out, "not_understood",
                          ctx.rules.forms.not_understood_per_day,
                          unreadable=event.unreadable, plan_attached=known,
                          attachments=[projects.plan_workbook(ctx)] if known else [])


OVERSIZE_REPLIES_PER_DAY = 5


def too_large(event: Event, ctx: Context) -> Outcome:
    """A message the backend did not download because of its size: the sender is told
    once (the Message-ID makes it once), at most OVERSIZE_REPLIES_PER_DAY times a day so
    that a loop of large automatic mail cannot turn into a storm."""
    size, limit = int(event.extra["size"]), int(event.extra["limit"])
    out = Outcome()
    out.inbound = {"kind": "oversize", "size": size, "limit": limit}
    return answer_sender(event, ctx, out, "oversize_notice", OVERSIZE_REPLIES_PER_DAY,
                          size=_human_size(size), limit=_human_size(limit))


def answer_sender(event: Event, ctx: Context, out: Outcome, template: str,
                   per_day: int, **context: Any) -> Outcome:
    """Reply to the sender with `template`, at most `per_day` such replies a day each."""
    message = event.message
    if not may_answer(message, ctx, out, template, per_day):
        return out
    attachments = context.pop("attachments", ())
    out.send(ctx.draft(
        template, to=[ctx.person_by_address(message.sender)], record=None,
        purpose=template, attachments=attachments,
        in_reply_to=message.message_id if message.has_message_id else None,
        original_subject=_their_subject(message, not ctx.rules.is_internal(message.sender)),
        **context,
    ))
    return out


UNREADABLE_REPLIES_PER_DAY = 1


def unreadable(event: Event, ctx: Context) -> Outcome:
    """A message that could not be read within its bounds (its reading ran out of
    time, its structure is too deep): the message itself is kept; a sender the
    directory knows is told once a day, anyone else not at all (a stranger's mail that
    cannot be read is most likely not meant for a person)."""
    reason = str(event.extra.get("reason") or "内容过于复杂")
    out = Outcome()
    out.inbound = {"kind": "unreadable", "reason": reason}
    if ctx.rules.directory.by_address(event.message.sender) is None:
        out.inbound["not_answered"] = "sender not in the directory"
        return out
    if (event.replied_to or {}).get("purpose") in OWN_NOTICES:
        out.inbound["not_answered"] = "a reply to our own notice"
        return out
    return answer_sender(event, ctx, out, "unreadable_notice", UNREADABLE_REPLIES_PER_DAY,
                          reason=reason)


def _human_size(size: int) -> str:
    """25 MB, 1.5 MB, 140 KB: as a mail client shows an attachment's size."""
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0") + " MB"


def automatic(event: Event, ctx: Context) -> Outcome:
    """Auto-replies and bounces are recorded, never answered."""
    out = Outcome()
    out.inbound = {"kind": event.kind, "reason": event.auto_reason}
    if event.thread:
        record = ctx.view.store.get("records", event.thread)
        if record is not None:
            updated = changed(record)
            if event.kind == "bounce":
                failed_to = (event.replied_to or {}).get("to")
                audit(updated, ctx.now, "delivery failed", message=event.replied_to_id,
                      to=failed_to, reason=event.auto_reason)
            else:
                audit(updated, ctx.now, "automatic reply received", by=event.message.sender,
                      subject=event.message.subject[:80])
            out.put(updated)
            out.inbound["record"] = event.thread
    return out


# -- messages set aside ------------------------------------------------------------------

SET_ASIDE_NOTICES_PER_DAY = 3


def set_aside(head: InboundMessage, name: str, ctx: Context) -> Outcome:
    """A message whose processing failed was set aside: its sender, if the directory
    knows them, is told (a few times a day at most) that it was not processed and that
    the secretary has it. Strangers are not answered: most such mail is junk."""
    out = Outcome()
    if head.sender_issues or ctx.rules.directory.by_address(head.sender) is None:
        return out
    if not may_answer(head, ctx, out, "set_aside_notice", SET_ASIDE_NOTICES_PER_DAY):
        return out
    out.send(ctx.draft(
        "set_aside_notice", to=[ctx.person_by_address(head.sender)], record=None,
        purpose="set_aside_notice",
        in_reply_to=head.message_id if head.has_message_id else None,
        original_subject=_their_subject(head, outside=False),
        secretary=ctx.person(ctx.rules.directory.secretary), reference=name,
    ))
    return out


SET_ASIDE_REPORTED = "set_aside:reported"


def set_aside_summary(ctx: Context,
                      describe: Callable[[], list[dict[str, Any]]]) -> Outcome:
    """Once a working day, the secretary gets the list of messages set aside since the
    last summary (and how many are still waiting for a decision)."""
    out = Outcome()
    if not ctx.rules.calendar.is_working_time(ctx.now):
        return out
    today = ctx.now.astimezone(ctx.rules.calendar.tz).date().isoformat()
    if (ctx.view.meta("set_aside:summary_day") or "") == today:
        return out
    entries = describe()
    reported = set(ctx.view.meta(SET_ASIDE_REPORTED) or [])
    new = [e for e in entries if e["name"] not in reported]
    out.meta["set_aside:summary_day"] = today
    if not new:
        return out
    out.meta[SET_ASIDE_REPORTED] = sorted({e["name"] for e in entries})[-2000:]
    out.send(ctx.draft(
        "set_aside_summary", to=[ctx.person(ctx.rules.directory.secretary)], record=None,
        purpose="set_aside_summary", new=new, total=len(entries),
    ))
    return out
