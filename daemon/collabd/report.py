"""What `collabd status` and `collabd show` print: stable JSON objects and readable text."""

from __future__ import annotations

import datetime as dt
import fcntl
import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from collabd.clock import isoformat
from collabd.store.lock import LOCK_NAME

if TYPE_CHECKING:
    from collabd.policy.calendar import WorkCalendar
    from collabd.store import Journal
    from collabd.store.view import StateView


def daemon_state(state_dir: Path) -> dict[str, Any]:
    """Is a daemon running on this state directory? (Probes its lock without taking it.)"""
    path = state_dir / LOCK_NAME
    if not path.exists():
        return {"running": False, "pid": None}
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            return {"running": True, "pid": int(text) if text.isdigit() else None}
        fcntl.flock(fd, fcntl.LOCK_UN)
        return {"running": False, "pid": None}
    finally:
        os.close(fd)


class LazyCalendar:
    """The working calendar, loaded (rules files, holidays) only if a record needs it:
    most of what `status` shows has its deadline as a timestamp already."""

    def __init__(self, load: Callable[[], WorkCalendar | None]) -> None:
        self._load = load
        self._loaded = False
        self._calendar: WorkCalendar | None = None
        self._ends: dict[str, str] = {}

    def get(self) -> WorkCalendar | None:
        if not self._loaded:
            self._calendar = self._load()
            self._loaded = True
        return self._calendar

    def day_end(self, day: str) -> str:
        end = self._ends.get(day)
        if end is None:
            end = self._ends[day] = day_end(self.get(), day)
        return end


def day_end(calendar: WorkCalendar | LazyCalendar | None, day: str) -> str:
    """Close of business of a due date (a date means the end of that working day)."""
    if isinstance(calendar, LazyCalendar):
        return calendar.day_end(day)
    date = dt.date.fromisoformat(day)
    if calendar is not None:
        intervals = calendar.intervals(date)
        end = intervals[-1][1] if intervals else dt.datetime.combine(
            date, calendar.end, tzinfo=calendar.tz)
        return isoformat(end)
    return f"{day}T18:00:00+08:00"


def _due(record: dict[str, Any],
         calendar: WorkCalendar | LazyCalendar | None = None) -> str | None:
    """The deadline of what the record waits for now."""
    status = record.get("status")
    kind = record.get("kind")
    value: Any = None
    if kind == "request":
        if status == "open":
            value = record.get("response_due")
        elif status == "delivered":
            value = record.get("acceptance_due")
        elif status == "in_progress" and record.get("due_date"):
            value = day_end(calendar, record["due_date"])
    elif kind == "meeting":
        minutes = record.get("minutes") or {}
        if status in ("minutes_requested", "minutes_revision"):
            value = minutes.get("due")
        elif status == "minutes_distributed" and minutes.get("rounds"):
            value = minutes["rounds"][-1].get("confirm_due")
        elif status == "scheduled":
            value = record.get("start")
    elif kind == "task":
        value = day_end(calendar, record["due_date"]) if record.get("due_date") else None
    else:
        value = record.get("response_due")
    return str(value) if value else None


_NOT_OVERDUE = frozenset({"closed", "done", "scheduled"})


@functools.lru_cache(maxsize=4096)
def _instant(text: str) -> dt.datetime:
    """A deadline as a moment (cached: 100,000 records share a few thousand)."""
    return dt.datetime.fromisoformat(text)


def record_summary(record: dict[str, Any], now: dt.datetime,
                   calendar: WorkCalendar | LazyCalendar | None = None) -> dict[str, Any]:
    due = _due(record, calendar)
    overdue = bool(due and record.get("status") not in _NOT_OVERDUE
                   and _instant(due) < now)
    get = record.get
    return {
        "id": record["id"],
        "kind": get("kind"),
        "status": get("status"),
        "title": get("title", ""),
        "due": due,
        "overdue": overdue,
        "waiting_on": get("waiting_on") or [],  # shared, not copied: the report is read-only
        "escalation": get("escalation"),
        "risk": bool(get("risk")),
        "updated": get("updated"),
    }


def status(view: StateView, journal: Journal, state_dir: Path,
           now: dt.datetime,
           calendar: WorkCalendar | LazyCalendar | None = None) -> dict[str, Any]:
    open_records = sorted(view.open_records(), key=lambda r: r["id"])
    summaries = [record_summary(r, now, calendar) for r in open_records]
    by_kind: dict[str, int] = {}
    for s in summaries:
        by_kind[str(s["kind"])] = by_kind.get(str(s["kind"]), 0) + 1
    outbox = list(view.store.values("outbox"))
    processed, sent = view.store.message_counts()
    return {
        "generated": isoformat(now),
        "state_dir": str(state_dir),
        "daemon": daemon_state(state_dir),
        "open": summaries,
        "counts": {
            "open": len(summaries),
            "by_kind": by_kind,
            "overdue": sum(1 for s in summaries if s["overdue"]),
        },
        "outbox": {
            "pending": sum(1 for e in outbox if not e.get("failed")),
            "failed": [
                {"message_id": mid, "record": e.get("record"), "error": e.get("last_error"),
                 "recipients": e.get("recipients")}
                for mid, e in view.store.items("outbox") if e.get("failed")
            ],
        },
        "journal": journal.counts(),
        "mail": {"processed": processed, "sent": sent},
    }


def status_text(report: dict[str, Any]) -> str:
    daemon = report["daemon"]
    lines = [
        f"collabd state {report['state_dir']}  (as of {report['generated']})",
        "daemon: " + (f"running (pid {daemon['pid']})" if daemon["running"] else "not running"),
        f"open records: {report['counts']['open']}"
        + (f", {report['counts']['overdue']} overdue" if report["counts"]["overdue"] else ""),
    ]
    for s in report["open"]:
        flag = ("  OVERDUE" if s["overdue"] else "") + (
            f"  [{s['escalation']}]" if s.get("escalation") else "") + (
            "  RISK" if s.get("risk") else "")
        waiting = f"  waiting on {', '.join(s['waiting_on'])}" if s["waiting_on"] else ""
        due = f"  due {s['due']}" if s["due"] else ""
        lines.append(f"  {s['id']}  {s['status']:<12} {s['title']}{due}{waiting}{flag}")
    j = report["journal"]
    lines.append(f"inbound: {report['mail']['processed']} processed, {j['waiting']} waiting, "
                 f"{j['shunt']} shunted, {j['bad']} bad")
    o = report["outbox"]
    lines.append(f"outbound: {report['mail']['sent']} sent, {o['pending']} queued, "
                 f"{len(o['failed'])} failed")
    for f in o["failed"]:
        lines.append(f"  FAILED {f['message_id']} ({f['record']}) to "
                     f"{', '.join(f['recipients'] or [])}: {f['error']}")
    return "\n".join(lines)


def show(view: StateView, record_id: str) -> dict[str, Any] | None:
    """One record from a loaded state (the CLI reads slices instead: `show_record`)."""
    working = view.store.get("records", record_id)
    record = working if working is not None else view.archive.get(record_id)
    if record is None:
        return None
    entries = {mid: entry for mid, entry in view.store.items("messages")
               if entry.get("record") == record_id}
    if working is None:
        entries.update(view.archive.messages_of(record_id))
    return show_record(record, entries, archived=working is None)


def show_record(record: dict[str, Any], entries: dict[str, dict[str, Any]], *,
                archived: bool) -> dict[str, Any]:
    messages = [{"message_id": mid, **entry} for mid, entry in entries.items()]
    messages.sort(key=lambda m: str(m.get("at", "")))
    return {"record": record, "messages": messages, "archived": archived}


def show_text(data: dict[str, Any]) -> str:
    record = data["record"]
    lines = [f"{record['id']}  ({record.get('kind')}, {record.get('status')})"
             + ("  [archived]" if data["archived"] else "")]
    if record.get("title"):
        lines.append(f"  {record['title']}")
    skip = {"id", "kind", "status", "title", "audit", "schema", "signoffs"}
    for key, value in record.items():
        if key in skip:
            continue
        lines.append(f"  {key}: {_short(value)}")
    lines += _signoff_lines(record)
    lines.append("audit trail:")
    for entry in record.get("audit", []):
        detail = ", ".join(f"{k}={_short(v)}" for k, v in entry.items() if k not in {"at", "what"})
        lines.append(f"  {entry['at']}  {entry['what']}" + (f"  ({detail})" if detail else ""))
    if data["messages"]:
        lines.append("messages:")
        for m in data["messages"]:
            arrow = "→" if m.get("dir") == "out" else "←"
            who = ", ".join(m.get("to", [])) if m.get("dir") == "out" else m.get("from", "")
            lines.append(f"  {m.get('at')}  {arrow} {m.get('purpose') or m.get('kind', '')}"
                         f"  {who}  {m['message_id']}")
    return "\n".join(lines)


_NOT_COUNTED = ("sign-off not counted", "unclear answer, not counted")


def _said(text: str | None) -> str:
    """What someone wrote, verbatim, on one line (line breaks shown as ⏎)."""
    return "“" + _short((text or "").replace("\r", "").replace("\n", " ⏎ ")) + "”"


def _signoff_lines(record: dict[str, Any]) -> list[str]:
    """Every sign-off and every answer that did not count, with what was written, the
    message it came in and why it counted or not: for a person to read."""
    lines: list[str] = []
    signoffs = record.get("signoffs", [])
    if signoffs:
        lines.append("sign-offs:")
        for s in signoffs:
            what = {"minutes": "minutes", "deliverable": "deliverable"}.get(s.get("kind"),
                                                                             s.get("kind"))
            lines.append(f"  {s.get('at')}  {s.get('by')}  {what} round {s.get('round')}: "
                         f"{s.get('decision')}")
            lines.append(f"      said {_said(s.get('text'))}")
            detail = f"message {s.get('message')}, answering {s.get('answers')}"
            if s.get("read_as"):
                detail += f"; read as: {s['read_as']}"
            if s.get("reason"):
                detail += f"; reason: {_short(s['reason'])}"
            lines.append(f"      ({detail})")
    refused = [e for e in record.get("audit", []) if e.get("what") in _NOT_COUNTED]
    if refused:
        lines.append("answers that did not count:")
        for e in refused:
            why = e.get("reason") or e.get("read_as") or ""
            lines.append(f"  {e.get('at')}  {e.get('by')}  (asked: {e.get('asked')})  "
                         f"{e['what']}: {why}")
            lines.append(f"      said {_said(e.get('text'))}  (message {e.get('message')})")
    return lines


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 200 else text[:197] + "..."
