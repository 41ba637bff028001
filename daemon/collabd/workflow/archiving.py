"""资料归档 on closing: the secretary is mailed one .zip of everything about a request or a
project (collabd/bundle.py; `collabd archive export` makes the same on demand)."""

from __future__ import annotations

from typing import Any

from collabd import bundle
from collabd.inbound.interpret import form_labels
from collabd.model import Project, Request
from collabd.outbound.compose import Attachment
from collabd.workflow.context import Context
from collabd.workflow.outcome import Outcome, audit


def on_close(record: Request | Project, ctx: Context, out: Outcome) -> None:
    """When the rules say so (forms.yaml archive_on_close), mail the archive."""
    if record["kind"] not in ctx.rules.forms.archive_on_close:
        return
    secretary = ctx.person(ctx.rules.directory.secretary)

    def lookup(record_id: str) -> dict[str, Any] | None:
        found = out.get(record_id) or ctx.view.record(record_id)
        return dict(found) if found is not None else None

    def messages(record_id: str) -> dict[str, dict[str, Any]]:
        store = ctx.view.store
        entries = {key: store.get("messages", key) for key in store.group_keys(record_id)}
        return {k: v for k, v in entries.items() if isinstance(v, dict)}

    name, data = bundle.build(dict(record), lookup, messages,
                              ctx.now.astimezone(ctx.rules.calendar.tz).date(),
                              labels=form_labels(ctx.rules, record["kind"]),
                              name_of=bundle.names_from(ctx.rules.directory))
    out.send(ctx.draft(
        "archive_bundle", to=[secretary], record=record["id"], purpose="archive_bundle",
        attachments=[Attachment(name, data, "application/zip")], record_data=record,
        filename=name))
    audit(record, ctx.now, "archive sent", to=secretary["address"] if secretary else None,
          file=name, size=len(data))
