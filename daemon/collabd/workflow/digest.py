"""The daily digest (每日待办提醒): on working days at the time the rules set (sla.yaml
digest, default 09:00), each person in the org directory with something waiting on
them gets one mail listing it, with the message to reply to for each; a department
head also gets what of their department is overdue. Nothing is sent to someone with
nothing, nothing twice a day, nothing on a day off, and nothing after noon (a morning
missed while the daemon was stopped is not made up). `退订` stops a person's digest,
`订阅` restarts it (classify.read_query, queries.handle_query)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from collabd.clock import isoformat
from collabd.model import AnyRecord
from collabd.report import STATUS_LABELS, record_summary
from collabd.workflow.context import Context
from collabd.workflow.ledgers import due_once
from collabd.workflow.outcome import Outcome
from collabd.workflow.queries import latest_to, overdue_first

LATEST = dt.time(12)  # a digest not sent by noon is not sent that day
MAX_LISTED = 30


def opted_out_key(address: str) -> str:
    return f"digest_off:{address.lower()}"


def is_opted_out(ctx: Context, address: str) -> bool:
    entry = ctx.view.meta(opted_out_key(address))
    return bool(entry and entry.get("off"))


def on_tick(ctx: Context, out: Outcome) -> None:
    rules = ctx.rules.sla.digest
    if not rules.enabled:
        return
    calendar = ctx.rules.calendar
    today = ctx.now.astimezone(calendar.tz).date()
    moment = dt.datetime.combine(today, rules.time, tzinfo=calendar.tz)
    noon = dt.datetime.combine(today, LATEST, tzinfo=calendar.tz)
    if not calendar.is_workday(today) or not due_once(ctx, out, f"digest:{today.isoformat()}",
                                                      moment, noon - moment):
        return
    directory = ctx.rules.directory
    mine: dict[str, list[dict[str, Any]]] = {}
    dept_overdue: dict[str, list[dict[str, Any]]] = {}
    for record in ctx.view.open_records():
        summary: dict[str, Any] | None = None
        for address in record.get("waiting_on", []):
            summary = summary or record_summary(record, ctx.now, calendar)
            mine.setdefault(address.lower(), []).append(_item(record, summary))
        if record.get("waiting_people"):
            summary = summary or record_summary(record, ctx.now, calendar)
            if summary["overdue"]:
                for dept in {p.get("dept") for p in record.get("waiting_people", [])}:
                    if dept:
                        dept_overdue.setdefault(dept, []).append(_item(record, summary))
    sent: list[str] = []
    for person in directory.people():
        address = person.address.lower()
        if address in sent or is_opted_out(ctx, address):
            continue
        items = sorted(mine.get(address, []), key=overdue_first)
        headed = [d.name for d in directory.departments
                  if directory.same_person(d.head.address, address)]
        overdue = sorted((i for d in headed for i in dept_overdue.get(d, [])
                          if address not in [a.lower() for a in i["record"]
                                             .get("waiting_on", [])]), key=overdue_first)
        if not items and not overdue:
            continue  # nothing waits on them: no mail
        items = [{**i, "latest": latest_to(ctx, i["record"], address)}
                 for i in items[:MAX_LISTED]] + items[MAX_LISTED:]
        sent.append(address)
        out.send(ctx.draft(
            "digest_daily", to=[ctx.person(person)], record=None, purpose="digest_daily",
            items=items[:MAX_LISTED], more=max(0, len(items) - MAX_LISTED),
            dept_overdue=overdue[:MAX_LISTED], depts=headed, today=today,
            words=STATUS_LABELS))
    out.meta[f"digest:{today.isoformat()}"] = {"at": isoformat(ctx.now), "sent": len(sent)}


def _item(record: AnyRecord, summary: dict[str, Any]) -> dict[str, Any]:
    return {"record": record, "summary": summary}
