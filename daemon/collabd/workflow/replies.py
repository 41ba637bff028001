"""Replies on a record's thread: recorded on the record they answer."""

from __future__ import annotations

from collabd.inbound.classify import Event
from collabd.workflow.context import Context
from collabd.workflow.outcome import Outcome, audit, changed


def handle_reply(event: Event, ctx: Context) -> Outcome:
    out = Outcome()
    out.inbound = {"kind": "reply", "record": event.thread}
    record = ctx.view.store.get("records", event.thread or "") or (
        ctx.view.record(event.thread) if event.thread else None)
    if record is None:
        out.inbound["note"] = "the record it names does not exist"
        return out
    updated = changed(record)
    text = event.message.body.text.strip()
    audit(updated, ctx.now, "comment", by=event.message.sender,
          message=event.message.message_id, text=text[:500])
    out.put(updated)
    return out
