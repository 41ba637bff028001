"""Problem reports (问题反馈单) closed loop, as guide 003 sets it out.

Every answer from the other side reaches the reporter, and the reporter's back; the
executive secretary grades a problem (the reporter's severity is a proposal) by
replying `分级：重要`; 重要 gets a 协调会 of both liaisons, the reporter and the
secretary within the rules' window, 重大 a 专题会议 held by the coordination group's
leader — their minutes' action items (待办：… 负责人：… 截止：…) are the tracked owners
and dates; the reporter's 确认, or the secretary's `关闭：原因`, closes it, and
everyone who was asked or told of it hears so.
"""

from __future__ import annotations

import datetime as dt
import re

from collabd.clock import isoformat
from collabd.inbound.classify import Event
from collabd.model import Problem
from collabd.policy.durations import parse_duration
from collabd.workflow import meetings, signoff
from collabd.workflow.context import Context, PersonDict
from collabd.workflow.outcome import Outcome, Record, audit, changed

_GRADE = re.compile(r"^\s*(?:分级|定级|等级|级别)\s*[:：]\s*(?P<level>\S+)")
_CLOSE = re.compile(r"^\s*(?:关闭|关闭问题)\s*[:：]\s*(?P<reason>.*)$")
# How soon a problem's meeting may start: time to read the invitation.
NOTICE = parse_duration("2 working hours")
LENGTH = parse_duration("60m")
KINDS = {"coordination": "问题协调会", "special": "问题专题会议"}


def is_secretary(ctx: Context, sender: str) -> bool:
    return ctx.rules.directory.same_person(sender, ctx.rules.directory.secretary.address)


def command(problem: Problem, event: Event, ctx: Context, out: Outcome) -> bool:
    """The secretary's `分级：…` or `关闭：…` on any mail of the problem; True if it was one."""
    sender = event.message.sender
    if not is_secretary(ctx, sender):
        return False
    first = (event.new_text or "").strip().splitlines()[0] if (event.new_text or "").strip() \
        else ""
    if not (_GRADE.match(first) or _CLOSE.match(first)):
        return False
    # A command acts in the secretary's name: a forged From must not grade or close.
    doubt = signoff.sender_doubt(event, ctx)
    if doubt is None and event.replied_to is None:
        doubt = "指令只凭主题中的编号关联到问题，请直接回复系统发出的该问题邮件"
    if doubt is not None:
        audit(problem, ctx.now, "command not counted", by=sender, text=first, reason=doubt,
              message=event.message.message_id)
        out.send(ctx.draft(
            "signoff_not_counted", to=[ctx.person(ctx.rules.directory.secretary)],
            record=problem["id"], purpose="signoff_not_counted",
            record_title=problem.get("title", ""), record_id=problem["id"], reason=doubt,
            command=first))
        return True
    found = _GRADE.match(first)
    if found:
        grade(problem, found.group("level"), event, ctx, out)
        return True
    found = _CLOSE.match(first)
    if found and problem.get("status") != "closed":
        close(problem, ctx, out, by=ctx.person_by_address(sender),
              text=found.group("reason").strip() or "执行秘书关闭", how="secretary")
        return True
    return False


def grade(problem: Problem, level: str, event: Event, ctx: Context, out: Outcome) -> None:
    """The secretary grades (or regrades) the problem, and what the level calls for
    follows: a 协调会 (重要), the leader and a 专题会议 (重大), a deadline (一般)."""
    from collabd.inbound.values import parse_choice

    forms = ctx.rules.forms
    chosen, problem_text = parse_choice(level, forms.severity, forms.checked_marks,
                                        forms.unchecked_marks)
    if chosen is None:
        audit(problem, ctx.now, "command not understood", by=event.message.sender,
              text=level, reason=problem_text)
        return
    before = problem.get("severity")
    problem["severity"] = chosen
    problem["graded_by"] = ctx.person_by_address(event.message.sender)
    audit(problem, ctx.now, "graded", by=event.message.sender, before=before, after=chosen)
    sla = ctx.rules.sla.problem.get(chosen)
    within = (sla.resolve_within or sla.meeting_within) if sla is not None else None
    deadline = ctx.rules.calendar.add(ctx.now, within) if within is not None else None
    if deadline is not None:
        problem["response_due"] = isoformat(deadline)
    if sla is not None and sla.escalate_to_leader and not problem.get("escalated"):
        problem["escalated"] = True
        audit(problem, ctx.now, "escalated to leader",
              to=ctx.rules.directory.leader.address, rule=f"sla.problem.{chosen}")
    people = [problem.get("reporter"), problem.get("target_liaison"),
              problem.get("target_head"),
              *( [ctx.person(ctx.rules.directory.leader)] if problem.get("escalated") else [])]
    out.send(ctx.draft(
        "problem_graded", to=people, cc=[ctx.person(ctx.rules.directory.secretary)],
        record=problem["id"], purpose="problem_graded", problem=problem, before=before,
        after=chosen, deadline=deadline))
    if sla is not None and sla.meeting_within is not None:
        plan_meeting(problem, ctx, out, deadline=deadline)


def plan_meeting(problem: Problem, ctx: Context, out: Outcome,
                 deadline: dt.datetime | None) -> Record | None:
    """重要: a 协调会 the secretary organises; 重大: a 专题会议 the leader holds. Once."""
    if problem.get("meeting"):
        return None
    directory = ctx.rules.directory
    secretary = ctx.person(directory.secretary)
    leader = ctx.person(directory.leader)
    special = bool(problem.get("escalated"))
    reporter_dept = directory.department(problem.get("reporter_dept") or "")
    reporter_liaison = ctx.person(reporter_dept.liaison) if reporter_dept else None
    reporter_head = ctx.person(reporter_dept.head) if reporter_dept else None
    a = meetings.attendee
    if special:
        kind, organizer = "special", leader
        people = [a(leader, "协作小组组长"), a(secretary, "执行秘书"),
                  a(problem.get("target_head"), "问题部门负责人"),
                  a(problem.get("target_liaison"), "问题部门对接人"),
                  a(problem.get("reporter"), "反馈人"), a(reporter_head, "反馈部门负责人")]
    else:
        kind, organizer = "coordination", secretary
        people = [a(secretary, "执行秘书"), a(problem.get("target_liaison"), "问题部门对接人"),
                  a(reporter_liaison, "反馈部门对接人"), a(problem.get("reporter"), "反馈人")]
    attendees = meetings.dedupe(people)
    earliest = ctx.rules.calendar.add(ctx.now, NOTICE)
    length = meetings.clock_length(ctx, LENGTH)
    place = ctx.rules.meetings.review.place
    start, room = meetings.book(ctx, place, attendees, earliest, length, out.meetings())
    title = f"{KINDS[kind]}：{problem.get('title', '')}"
    meeting = meetings.new_meeting(
        ctx, out, kind=kind, title=title, start=start, length=length, place=place, room=room,
        organizer=organizer, attendees=attendees, parent=problem["id"],
        agenda=ctx.templates.render_text("agenda_problem", problem=problem,
                                         attendees=attendees, start=start,
                                         end=start + length, special=special))
    problem["meeting"] = meeting["id"]
    problem.setdefault("meetings", []).append(meeting["id"])
    audit(problem, ctx.now, "problem meeting planned", meeting=meeting["id"],
          start=meeting["start"], kind=KINDS[kind])
    if deadline is not None and start > deadline:
        audit(meeting, ctx.now, "later than the rules' limit", limit=isoformat(deadline),
              note="no free slot earlier")
    audit(meeting, ctx.now, "planned", parent=problem["id"], reason=KINDS[kind])
    meetings.send_invite(meeting, ctx, out)
    out.put(meeting)
    return meeting


def relay(problem: Problem, event: Event, ctx: Context, out: Outcome,
          from_reporter: bool) -> None:
    """An answer reaches the other side: the reporter gets what the handling side (or
    anyone else) wrote; the handling side gets what the reporter wrote."""
    text = (event.new_text or "").strip()
    if not text:
        return
    sender = event.message.sender
    to: list[PersonDict | None]
    if from_reporter:
        to = [problem.get("target_liaison"),
              *[ctx.person_by_address(a) for a in problem.get("answered_by", [])]]
        to = [p for p in to if p and not ctx.rules.directory.same_person(p["address"], sender)]
    else:
        to = [problem.get("reporter")]
    if not any(to):
        return
    out.send(ctx.draft(
        "problem_update", to=to, record=problem["id"], purpose="problem_update",
        problem=problem, author=ctx.person_by_address(sender), text=text,
        to_reporter=not from_reporter))


def close(problem: Problem, ctx: Context, out: Outcome, *, by: PersonDict, text: str,
          how: str, **detail: object) -> None:
    """Closed: everyone who was asked or told of the problem hears so."""
    problem["status"] = "closed"
    problem["closed"] = isoformat(ctx.now)
    problem["waiting_on"] = []
    audit(problem, ctx.now, "resolved (reporter confirmed)" if how == "reporter"
          else "closed by the secretary", by=by["address"], text=text[:2000], **detail)
    told: dict[str, PersonDict] = {}
    for person in (problem.get("reporter"), problem.get("target_liaison"),
                   problem.get("target_head"), *_told_before(problem, ctx)):
        if person and person.get("address"):
            told.setdefault(person["address"].lower(), person)
    _settle_meeting(problem, ctx, out, by)
    secretary = ctx.person(ctx.rules.directory.secretary)
    out.send(ctx.draft(
        "problem_closed", to=list(told.values()),
        cc=[secretary] if secretary and secretary["address"].lower() not in told else [],
        record=problem["id"], purpose="problem_closed", problem=problem, by=by, text=text,
        closed=ctx.now, how=how))


def _settle_meeting(problem: Problem, ctx: Context, out: Outcome, by: PersonDict) -> None:
    """The problem's meeting is moot once it is closed: called off if it has not begun;
    if it was held, its minutes are no longer asked for (the closure says what was done)."""
    meeting_id = problem.get("meeting")
    stored = ctx.view.meeting(meeting_id) if meeting_id else None
    if stored is None:
        return
    if stored.get("status") == "scheduled" and (
            dt.datetime.fromisoformat(stored["start"]) > ctx.now):
        meeting = changed(stored)
        meetings.cancel(meeting, ctx, out, by=by["address"],
                        reason=f"问题 {problem['id']} 已关闭，会议取消")
        out.put(meeting)
    elif stored.get("status") in ("minutes_requested", "minutes_revision"):
        meeting = changed(stored)
        meeting["status"] = "closed"
        meeting["closed"] = isoformat(ctx.now)
        audit(meeting, ctx.now, "minutes no longer needed", reason=f"问题 {problem['id']} 已关闭")
        out.put(meeting)


def _told_before(problem: Problem, ctx: Context) -> list[PersonDict]:
    """Everyone a message about the problem went to (the leader it went up to …)."""
    store = ctx.view.store
    found: dict[str, None] = {}
    for key in store.group_keys(problem["id"]):
        entry = store.get("messages", key) or {}
        if entry.get("dir") == "out":
            for address in entry.get("to") or []:
                found.setdefault(str(address), None)
    return [ctx.person_by_address(a) for a in found if a != ctx.identity.address]
