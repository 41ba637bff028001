"""`collabd journal`: the messages set aside for a human — list, show, retry, drop.

A message is set aside in `state/queue/shunt/` when processing it raised (the error is
beside it), or in `state/queue/bad/` when the daemon stopped three times while
processing it. Nothing here needs the daemon's lock: moving a file between the queue's
folders is atomic, and the daemon takes what appears in `in/`. Every retry and drop is
a line in `state/queue/operations.log`.
"""

from __future__ import annotations

import datetime as dt
import email.parser
import email.policy
from typing import Any

from collabd.clock import isoformat
from collabd.inbound.decode import decode_header_value
from collabd.store.journal import Journal

_HEADERS = email.parser.BytesParser(policy=email.policy.compat32)


def describe(journal: Any, kind: str, target: Any, tz: dt.tzinfo) -> dict[str, Any]:
    """What an operator needs to decide about one set-aside message (`target`: as the
    journal, on files or in PostgreSQL, names it)."""
    raw = journal.read(target)
    head: dict[str, str] = {}
    try:
        msg = _HEADERS.parsebytes(raw[:65536], headersonly=True)
        for name in ("From", "Subject", "Date", "Message-ID"):
            value = msg.get(name)
            head[name.lower()] = decode_header_value(str(value)).text if value else ""
    except Exception as exc:  # describing must work for exactly the broken ones
        head["unreadable_headers"] = f"{type(exc).__name__}: {exc}"[:200]
    error = journal.error(target)
    last = next((line.strip() for line in reversed(error.splitlines()) if line.strip()), "")
    stamp = target.name.split("-", 1)[0]
    received = (dt.datetime.fromtimestamp(int(stamp) / 1e9, tz) if stamp.isdigit() else None)
    return {"name": target.name, "where": kind, "size": len(raw),
            "received": isoformat(received) if received else None, **head,
            "error": last[:300]}


def list_entries(journal: Journal | Any, tz: dt.tzinfo) -> list[dict[str, Any]]:
    return [describe(journal, kind, target, tz) for kind, target in journal.set_aside()]


def text(entries: list[dict[str, Any]], waiting: int) -> str:
    if not entries:
        return f"nothing set aside ({waiting} waiting to be processed)"
    lines = [f"{len(entries)} set aside ({waiting} waiting to be processed):"]
    for e in entries:
        lines.append(f"  {e['name']}  [{e['where']}]  {e.get('received') or ''}  "
                     f"{e.get('from', '')}  「{e.get('subject', '')}」")
        if e.get("error"):
            lines.append(f"      {e['error']}")
    lines.append("collabd journal show NAME | retry NAME | drop NAME")
    return "\n".join(lines)
