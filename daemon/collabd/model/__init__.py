"""The records collabd keeps, as types: one place that says what a request, a problem,
a meeting and a task hold (and the people, department responses and sign-offs inside
them).

Records are stored as JSON (TinyDB documents) and handled as dicts; these TypedDicts
are their shape, for the type checker and for the test that validates every record a
full run of the procedure leaves (tests/unit/test_model.py: a field the code writes
and this file does not name fails it). Every field but the common ones is optional:
records written by earlier versions load as they are.
"""

from __future__ import annotations

from typing import Any, Literal, Required, TypeVar

from typing_extensions import TypedDict  # (pydantic validates these only on 3.12+ otherwise)


class PersonRef(TypedDict, total=False):
    """Someone a record names: as the org directory has them, or an address."""

    name: str | None
    address: str
    dept: str | None


class Attendee(PersonRef, total=False):
    role: str
    required: bool
    partstat: str
    delegated_to: str | None
    comment: str | None
    replied: str  # when they last answered the invitation


class DepartmentResponse(TypedDict, total=False):
    """A cooperating department of a request to several (Request.departments)."""

    dept: str
    role: str  # cooperating
    liaison: PersonRef | None
    head: PersonRef | None
    responded: str | None  # when it first answered (ISO-8601)
    responded_by: PersonRef


class Progress(TypedDict, total=False):
    """A progress report (进度) from the receiving side or a task's owner."""

    percent: int | None
    status: str | None  # 正常 | 滞后 | 阻塞
    reason: str | None
    at: str
    by: str
    message: str


class PendingSignoff(TypedDict, total=False):
    """Someone asked to sign and not yet answered (signoff.py)."""

    kind: str  # minutes | deliverable
    round: int | None
    person: str


class Signoff(TypedDict, total=False):
    """A counted 确认/不确认/驳回: who, on what round, answering which ask."""

    kind: str | None
    round: int | None
    by: str | None
    decision: str  # accepted | rejected | confirmed
    at: str
    message: str
    answers: str | None  # the Message-ID of the ask it answers
    text: str
    reason: str | None
    read_as: str | None


class Delivery(TypedDict, total=False):
    """One round of delivery (交付) of a request, waiting for the requester's 验收."""

    round: int
    at: str
    by: str
    message: str
    text: str
    links: list[str]
    attachments: list[str]
    decision: str | None


class Rework(TypedDict, total=False):
    round: int | None
    reason: str
    new_due: str | None
    at: str


class Review(TypedDict, total=False):
    """A request's review meeting (需求评审会): wanted, then planned."""

    status: str  # pending | planned
    reason: str
    at: str
    meeting: str


class ActionItem(TypedDict, total=False):
    task: str
    owner: str
    due: str


class MinutesRound(TypedDict, total=False):
    """One version of a meeting's minutes, sent to every signer."""

    round: int
    received: str
    by: str
    message: str
    text: str
    attachments: list[str]
    action_items: list[ActionItem]
    distributed: str
    confirm_due: str
    status: str  # distributed | rejected | signed_off


class Minutes(TypedDict, total=False):
    rounds: list[MinutesRound]
    due: str
    requested: str
    signed_off: str


class CounterProposal(TypedDict, total=False):
    """An attendee's proposed new time (iTIP COUNTER)."""

    by: str
    at: str
    start: str | None
    end: str | None
    comment: str | None


class AuditEntry(TypedDict, total=False):
    at: str
    what: str


class _Common(TypedDict):
    id: str
    schema: int
    created: str
    updated: str
    audit: list[dict[str, Any]]


class _Record(_Common, total=False):
    status: str
    title: str
    closed: str | None
    resolution: str | None
    asked_again: dict[str, int]  # "kind:round:person" → times asked again (signoff.py)
    waiting_on: list[str]
    waiting_people: list[PersonRef]  # the same, with names and departments
    escalation: str | None
    fired: dict[str, str]
    settled_told: list[str]
    risk: bool
    risk_since: str
    risk_reason: str
    progress: Progress
    progress_history: list[Progress]
    signoffs: list[Signoff]
    pending_signoffs: list[PendingSignoff]
    meetings: list[str]
    meeting: str
    fields: dict[str, Any]
    source_message: str
    submitted_by: PersonRef
    response_due: str | None
    responded: str


class Request(_Record, total=False):
    """XQ-: a cross-department request (《跨部门沟通需求表》 / 《跨部门协作需求单》)."""

    kind: Required[Literal["request"]]
    requester: PersonRef | None
    receiver: PersonRef | None
    requester_dept: str | None
    receiver_dept: str
    requester_head: PersonRef | None
    receiver_head: PersonRef | None
    receiver_liaison: PersonRef | None
    cooperating_depts: list[str]
    departments: list[DepartmentResponse]
    type: str | None
    urgency: str
    due_date: str | None
    source: str
    review: Review
    responded_by: PersonRef
    deliveries: list[Delivery]
    acceptance_due: str
    rework: list[Rework]
    milestone_reports: list[dict[str, Any]]  # 《阶段性成果说明》 and the A's answer
    problems: list[str]
    project: str  # the PJ- project it belongs to (关联项目)


class Problem(_Record, total=False):
    """WT-: a problem report (《跨部门协作问题反馈单》)."""

    kind: Required[Literal["problem"]]
    severity: str
    graded_by: PersonRef
    reporter: PersonRef | None
    reporter_dept: str | None
    target_dept: str | None
    target_liaison: PersonRef | None
    target_head: PersonRef | None
    related_request: str | None
    escalated: bool
    answered_by: list[str]


class Meeting(_Record, total=False):
    """HY-: a review, risk, coordination or special meeting."""

    kind: Required[Literal["meeting"]]
    meeting_kind: str  # review | risk | coordination | special
    summary: str
    uid: str
    sequence: int
    start: str
    end: str
    location: str
    room: str | None
    organizer: PersonRef | None
    attendees: list[Attendee]
    parent: str | None
    agenda: str
    minutes: Minutes
    risk_items: list[str]
    adhoc: bool
    tasks: list[str]
    counter_proposals: list[CounterProposal]
    # A series (a project's recurring meeting): its RRULE, last day, the occurrences
    # skipped (EXDATE) or moved (RECURRENCE-ID → new start), and what was done for each.
    rrule: str
    until: str
    exdates: list[str]
    moved: dict[str, str]
    occurrences_done: list[str]
    agenda_sent: list[str]
    occurrences: list[str]  # the occurrence meetings held
    recurrence_id: str  # an occurrence: which one of its series
    resolution_due: str  # a 专项推进会: when the 组长 is to have signed its 决议


class Task(_Record, total=False):
    """RW-: an action item from minutes (待办), or a task of a project's plan (表2)."""

    kind: Required[Literal["task"]]
    owner: PersonRef | None
    owner_text: str
    requester: PersonRef | None
    request: str | None
    due_date: str | None  # (a project's task: 计划完成)
    # A project's task (表2 with its RACI row):
    project: str
    description: str
    dept: str | None  # 负责部门 (R)
    planned_start: str | None  # 计划开始
    actual_finish: str | None  # 实际完成
    plan_status: str  # the 状态 the plan gave
    deliverable: str  # 产出物
    issues: str  # 问题记录
    milestone: bool  # 关键节点
    raci: dict[str, str]  # department → R/A/C/I letters
    accountable: PersonRef | None  # A: accepts its deliverable
    deliveries: list[Delivery]
    acceptance_due: str
    rework: list[Rework]
    milestone_reports: list[dict[str, Any]]  # 《阶段性成果说明》 and the A's answer


class ProjectDepartment(TypedDict, total=False):
    """A department taking part in a project: who speaks for it and who signs for it."""

    dept: str
    liaison: PersonRef | None
    head: PersonRef | None


class CommPlanRow(TypedDict, total=False):
    """A row of a project's communication plan (沟通计划): once, or recurring."""

    topic: str
    when: str  # as written
    freq: str  # once | daily | weekly | monthly
    time: str | None  # HH:MM
    date: str | None
    weekday: int | None
    monthday: int | None  # -1: the month's last working day
    participants: str
    departments: list[str]
    way: str


class Memo(TypedDict, total=False):
    """The 《跨部门协作备忘录》 each participating head signs (guide 002)."""

    round: int
    text: str  # what was sent to be signed, as sent
    sent: str
    due: str
    signed: str | None  # when the last head signed
    objections: list[dict[str, Any]]


class Project(_Record, total=False):
    """PJ-: a cross-department project (协作项目): a plan of tasks with a RACI matrix."""

    kind: Required[Literal["project"]]
    goal: str
    lead: PersonRef | None
    lead_dept: str | None
    departments: list[ProjectDepartment]
    comm_plan: list[CommPlanRow]
    tasks: list[str]
    start: str | None
    finish: str | None
    kickoff: str  # the 启动会
    memo: Memo
    source: str  # where the plan was read: body | html | attachment:<name>
    feedback_asked: str
    requests: list[str]  # requests filed with it as their 关联项目
    sync_sent: dict[str, str]  # a mail row of the plan → the last progress ask it made
    feedback: dict[str, Any]  # the lead's 反馈 once the work is done
    retro: str  # the 复盘会
    retro_report: str  # its confirmed minutes: the 《协作复盘报告》


# A record of any kind; `record["kind"] == "request"` narrows it to a Request.
AnyRecord = Request | Problem | Meeting | Task | Project
# A function that takes a record of some kind and gives it back changed.
R = TypeVar("R", bound=AnyRecord)

KINDS: dict[str, type] = {"request": Request, "problem": Problem, "meeting": Meeting,
                          "task": Task, "project": Project}
