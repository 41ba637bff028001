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

from typing import Any

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


class AuditEntry(TypedDict, total=False):
    at: str
    what: str


class _Common(TypedDict):
    id: str
    kind: str
    schema: int
    created: str
    updated: str
    audit: list[dict[str, Any]]


class _Record(_Common, total=False):
    status: str
    title: str
    closed: str
    waiting_on: list[str]
    waiting_people: list[PersonRef]  # the same, with names and departments
    escalation: str | None
    fired: dict[str, str]
    settled_told: list[str]
    risk: bool
    risk_since: str
    risk_reason: str
    progress: dict[str, Any]
    progress_history: list[dict[str, Any]]
    signoffs: list[dict[str, Any]]
    pending_signoffs: list[dict[str, Any]]
    meetings: list[str]
    meeting: str
    fields: dict[str, Any]
    source_message: str
    submitted_by: PersonRef
    response_due: str | None
    responded: str


class Request(_Record, total=False):
    """XQ-: a cross-department request (《跨部门沟通需求表》 / 《跨部门协作需求单》)."""

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
    review: dict[str, Any]
    responded_by: PersonRef
    deliveries: list[dict[str, Any]]
    acceptance_due: str
    resolution: str
    rework: list[dict[str, Any]] | dict[str, Any]
    problems: list[str]


class Problem(_Record, total=False):
    """WT-: a problem report (《跨部门协作问题反馈单》)."""

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
    minutes: dict[str, Any]
    risk_items: list[str]
    adhoc: bool
    tasks: list[str]


class Task(_Record, total=False):
    """RW-: an action item from minutes (待办)."""

    owner: PersonRef | None
    owner_text: str
    requester: PersonRef | None
    request: str | None
    due_date: str | None


KINDS: dict[str, type] = {"request": Request, "problem": Problem, "meeting": Meeting,
                          "task": Task}
