"""`collabd rules simulate --at T`: what the rules would do at a moment, changing nothing.

It runs the very tick the daemon runs (workflow.ticks), on the state as it is, and
reports the outcome instead of committing it: the rule steps that would fire (which
rule, why now, to whom) and the messages that would go out.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from collabd.app import load_policy
from collabd.clock import isoformat
from collabd.config import Config
from collabd.store.backend import read_view
from collabd.store.view import StateView
from collabd.workflow.engine import Identity, Workflow

_WEEKDAYS = "一二三四五六日"


def simulate(config: Config, at: dt.datetime) -> dict[str, Any]:
    rules, templates = load_policy(config)
    view: StateView = read_view(config)
    settings = config.settings
    workflow = Workflow(rules, templates,
                        Identity(settings.mailbox.address, settings.mailbox.display_name))
    outcome = workflow.on_tick(view, at)
    actions = []
    for record in outcome.records:
        stored = view.record(record["id"])
        before = len(stored.get("audit", [])) if stored else 0
        for entry in record.get("audit", [])[before:]:
            actions.append({"record": record["id"], **entry})
    messages = [{
        "record": d.record,
        "purpose": d.purpose,
        "to": [p.display() for p in d.to],
        "cc": [p.display() for p in d.cc],
        "subject": d.subject,
    } for d in outcome.drafts]
    return {
        "at": isoformat(at),
        "working_time": rules.calendar.is_working_time(at),
        "workday": rules.calendar.is_workday(at.astimezone(rules.calendar.tz).date()),
        "actions": actions,
        "messages": messages,
    }


def text(report: dict[str, Any]) -> str:
    at = dt.datetime.fromisoformat(report["at"])
    when = ("working hours" if report["working_time"] else
            "outside working hours: reminders wait for the next working hour"
            if report["workday"] else "not a workday: reminders wait for the next one")
    lines = [f"At {report['at']} (周{_WEEKDAYS[at.weekday()]}, {when}):"]
    if not report["actions"]:
        lines.append("  nothing is due")
    for action in report["actions"]:
        detail = []
        if action.get("rule"):
            detail.append(action["rule"])
        if action.get("to"):
            to = action["to"] if isinstance(action["to"], list) else [action["to"]]
            detail.append("to " + ", ".join(map(str, to)))
        if action.get("cc"):
            detail.append("cc " + ", ".join(action["cc"]))
        lines.append(f"  {action['record']}  {action['what']}"
                     + (f"  ({'; '.join(detail)})" if detail else ""))
        if action.get("why"):
            lines.append(f"      why: {action['why']}")
        if action.get("reason"):
            lines.append(f"      reason: {action['reason']}")
    if report["messages"]:
        lines.append(f"Messages that would be sent ({len(report['messages'])}):")
        for m in report["messages"]:
            cc = f"; cc {', '.join(m['cc'])}" if m["cc"] else ""
            lines.append(f"  {m['subject']}\n      → {', '.join(m['to'])}{cc}")
    lines.append("Nothing was sent and nothing was changed.")
    return "\n".join(lines)
