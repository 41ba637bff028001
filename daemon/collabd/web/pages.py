"""What the board shows (进度看板), built from a read-only view of the state: open
requests, projects with their task bars and burn-down, problems, this week's meetings
and the month's department figures; filtered by department, person and kind; and a
page per record with its timeline."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from collabd.clock import stored_day, stored_moment
from collabd.ledger import concerns
from collabd.report import (
    AUDIT_LABELS,
    FIELD_LABELS,
    KIND_LABELS,
    STATUS_LABELS,
    _readable,
    people_text,
    record_summary,
)
from collabd.web import svg

if TYPE_CHECKING:
    from collabd.policy.rules import Rules
    from collabd.store.view import StateView

KINDS = ("request", "project", "task", "problem", "meeting")
MAX_ROWS = 200  # per section: a page of 10,000 rows helps nobody; the filters narrow it


def _about_person(record: Mapping[str, Any], needles: list[str]) -> bool:
    """Does the record name this person (by any of their addresses or their name)?"""
    text = json.dumps(record, ensure_ascii=False).lower()
    return any(n in text for n in needles)


def person_needles(rules: Rules, person: str) -> list[str]:
    """What to look for in a record for a person as written in the filter: someone in
    the directory by any of their addresses, aliases and name; else the text itself."""
    directory = rules.directory
    found = directory.by_address(person)
    if found is None:
        named = directory.by_name(person)
        found = named[0] if len(named) == 1 else None
    if found is None:
        return [person.strip().lower()]
    return [a.lower() for a in (found.address, found.name, *found.aliases) if a]


MEETING_KINDS = {"review": "需求评审会", "risk": "风险排查会", "coordination": "问题协调会",
                 "special": "专项会议", "kickoff": "项目启动会", "retro": "复盘会",
                 "push": "专项推进会", "change_review": "变更评审会", "series": "例会",
                 "problem": "问题协调会"}


def _row(record: Mapping[str, Any], now: dt.datetime, rules: Rules) -> dict[str, Any]:
    from collabd.bundle import plan_status

    summary = record_summary(record, now, rules.calendar)
    if record.get("kind") == "task" and record.get("project"):
        # a project's task in 表2's words (正常 / 滞后 / 待验收 …)
        status = plan_status(dict(record), now.astimezone(rules.calendar.tz).date())
    else:
        status = STATUS_LABELS.get(str(record.get("status")), str(record.get("status")))
    return {"record": record, "summary": summary,
            "kind_label": KIND_LABELS.get(str(record.get("kind")), record.get("kind")),
            "status_label": status,
            "due": (summary["due"] or "")[:16].replace("T", " "),
            "waiting": people_text(record.get("waiting_people") or [])}


def overview(view: StateView, rules: Rules, now: dt.datetime, *, dept: str | None = None,
             person: str | None = None, kind: str | None = None,
             figures_data: dict[str, Any] | None = None) -> dict[str, Any]:
    local = now.astimezone(rules.calendar.tz)
    today = local.date()
    monday = today - dt.timedelta(days=today.weekday())
    week = (dt.datetime.combine(monday, dt.time(), tzinfo=rules.calendar.tz),
            dt.datetime.combine(monday + dt.timedelta(days=7), dt.time(),
                                tzinfo=rules.calendar.tz))

    needles = person_needles(rules, person) if person else []

    def wanted(record: Mapping[str, Any], as_kind: str) -> bool:
        return ((kind is None or kind == as_kind) and concerns(dict(record), dept)
                and (not needles or _about_person(record, needles)))

    records = list(view.records())
    by_id = {r["id"]: r for r in records}
    requests = [_row(r, now, rules) for r in records
                if r["kind"] == "request" and r.get("status") not in ("closed", "withdrawn",
                                                                      "cancelled")
                and wanted(r, "request")]
    problems = [_row(r, now, rules) for r in records
                if r["kind"] == "problem" and r.get("status") not in ("closed", "resolved")
                and wanted(r, "problem")]
    meetings = [_row(r, now, rules) for r in records if r["kind"] == "meeting"
                and (start := stored_moment(r.get("start"))) is not None
                and week[0] <= start < week[1]
                and r.get("status") != "cancelled" and wanted(r, "meeting")]
    meetings.sort(key=lambda m: str(m["record"].get("start")))
    tasks = [_row(r, now, rules) for r in records if r["kind"] == "task"
             and r.get("status") not in ("done", "cancelled", "closed") and wanted(r, "task")]
    projects = []
    for record in records:
        if record["kind"] != "project" or record.get("status") in ("closed", "cancelled"):
            continue
        own = [by_id[t] for t in record.get("tasks") or [] if t in by_id]
        if not (wanted(record, "project") or (kind in (None, "project") and any(
                wanted(t, "project") for t in own))):
            continue
        done = sum(1 for t in own if t.get("status") == "done")
        projects.append({**_row(record, now, rules), "tasks": own, "done": done,
                         "bar": svg.progress(done, len(own)),
                         "gantt": svg.task_bars(own, today)})
    for items in (requests, problems, tasks, projects):
        items.sort(key=lambda i: (not i["summary"]["overdue"], str(i["record"]["id"])))
    totals = {"requests": len(requests), "problems": len(problems), "tasks": len(tasks),
              "projects": len(projects), "meetings": len(meetings)}
    return {"now": local, "today": today, "week": week, "requests": requests[:MAX_ROWS],
            "problems": problems[:MAX_ROWS], "meetings": meetings[:MAX_ROWS],
            "tasks": tasks[:MAX_ROWS], "projects": projects[:MAX_ROWS], "totals": totals,
            "max_rows": MAX_ROWS,
            "figures": figures_data, "filters": {"dept": dept or "", "person": person or "",
                                                 "kind": kind or ""},
            "departments": rules.directory.department_names(),
            "kinds": [(k, KIND_LABELS[k]) for k in KINDS]}


def record_page(view: StateView, rules: Rules, now: dt.datetime,
                record_id: str) -> dict[str, Any] | None:
    record = view.record(record_id)
    if record is None:
        return None
    local = now.astimezone(rules.calendar.tz)
    row = _row(record, now, rules)
    # What a person reads: fields with a Chinese name, not the daemon's bookkeeping.
    skip = {"id", "kind", "status", "title", "audit", "schema", "signoffs", "fired",
            "pending_signoffs", "waiting_on", "waiting_people", "source_message", "fields",
            "quote", "asked_again", "settled_told", "memo", "comm_plan", "sync_sent",
            "minutes", "progress_history", "deliveries", "departments", "attendees",
            "occurrences_done", "agenda_sent", "moved", "exdates", "raci", "uid",
            "sequence", "source", "escalated", "target_head", "resolution_due",
            "rrule", "updated", *(("tasks",) if record["kind"] == "project" else ())}
    fields = []
    for key, value in record.items():
        if key in skip or key not in FIELD_LABELS or value in (None, "", [], {}):
            continue
        if key == "meeting_kind":
            value = MEETING_KINDS.get(str(value), value)
        if key == "meetings" and isinstance(value, list):
            value = list(dict.fromkeys(value))
        fields.append((FIELD_LABELS[key], _readable(value)))
    directory = rules.directory

    def who(entry: Mapping[str, Any]) -> str:
        for key in ("by", "person", "from"):
            value = entry.get(key)
            if isinstance(value, str) and value:
                found = directory.by_address(value)
                return found.name if found is not None else value
        return ""

    timeline = [{"at": str(e.get("at", ""))[:16].replace("T", " "),
                 "what": AUDIT_LABELS.get(str(e.get("what")), str(e.get("what"))),
                 "who": who(e)}
                for e in record.get("audit") or []]
    answers = {"accepted": "接受", "declined": "拒绝", "tentative": "暂定",
               "needs-action": "未答复"}
    attendees = [{"name": a.get("name") or a.get("address"), "dept": a.get("dept") or "",
                  "answer": answers.get(str(a.get("partstat", "")).lower(), "未答复")}
                 for a in cast("list[dict[str, Any]]", record.get("attendees") or [])]
    page: dict[str, Any] = {**row, "fields": fields, "timeline": timeline, "now": local,
                            "attendees": attendees}
    if record["kind"] == "project":
        tasks = [t for t in (view.record(i) for i in record.get("tasks") or []) if t]
        start = stored_day(record.get("start"))
        finish = stored_day(record.get("finish"))
        page["tasks"] = [_row(t, now, rules) for t in tasks]
        page["gantt"] = svg.task_bars(tasks, local.date())
        page["burn"] = svg.burn_down(tasks, start, finish, local.date())
        done = sum(1 for t in tasks if t.get("status") == "done")
        page["bar"] = svg.progress(done, len(tasks))
    return page

