""""What is open for me?" by mail: 我的待办 lists what waits on the sender (with the
message to reply to for each), 查询 XQ-2026-0012 the state of one record they take part
in, 查询 部门 (a head) or 查询 研发部 (the secretary, the 组长) what waits on a
department. Only for people in the org directory; limited per day on their own, apart
from the "not understood" replies."""

from __future__ import annotations

import json
from typing import Any

from collabd.inbound.classify import Event
from collabd.model import AnyRecord
from collabd.policy.org import Person
from collabd.report import AUDIT_LABELS, STATUS_LABELS, record_summary
from collabd.workflow.context import Context
from collabd.workflow.outcome import Outcome

QUERIES_PER_DAY = 20
MAX_LISTED = 50


def handle_query(event: Event, ctx: Context) -> Outcome:
    from collabd.workflow import intake

    out = Outcome()
    query: dict[str, str] = event.extra.get("query") or {}
    out.inbound = {"kind": "query", **query}
    message = event.message
    directory = ctx.rules.directory
    person = directory.by_address(message.sender)
    if person is None or message.sender_issues:
        # Not a colleague (or not who the From says): nothing of the state is told.
        out.inbound["not_answered"] = "the sender is not in the org directory"
        return intake.not_understood(event, ctx)
    if not intake.may_answer(message, ctx, out, "query", QUERIES_PER_DAY):
        return out
    what = query.get("what", "mine")
    if what in ("unsubscribe", "subscribe"):
        return _subscription(event, ctx, out, person, off=what == "unsubscribe")
    if what == "board":
        return _board_link(event, ctx, out, person)
    items: list[dict[str, Any]] = []
    record: AnyRecord | None = None
    refused = ""
    dept_name = ""
    if what == "record":
        record = ctx.view.record(query.get("record", ""))
        if record is None:
            refused = f"没有编号为 {query.get('record')} 的事项"
        elif not _may_see(record, message.sender, ctx):
            record, refused = None, f"您没有参与 {query.get('record')}，不能查询它的进展"
    elif what == "dept":
        own = directory.department_of(message.sender)
        wanted = directory.department(query["dept"]) if query.get("dept") else own
        overseer = message.sender.lower() in {directory.leader.address.lower(),
                                              directory.secretary.address.lower()}
        if wanted is None:
            refused = f"组织目录中没有「{query.get('dept')}」"
        elif not overseer and not (own is not None and own is wanted
                                   and directory.same_person(message.sender,
                                                             wanted.head.address)):
            refused = "部门的待办只有本部门负责人、执行秘书和组长可以查询"
        else:
            dept_name = wanted.name
            items = _waiting(ctx, lambda r: any(p.get("dept") == wanted.name
                                                for p in r.get("waiting_people", [])))
    else:
        # (written from an alias in org.yaml: the same person, waited on by their address)
        mine = {a.lower() for a in (person.address, *person.aliases) if "@" in a}
        items = _waiting(ctx, lambda r: bool(mine & {a.lower() for a in r.get("waiting_on", [])}),
                         reply_to=person.address)
    out.send(ctx.draft(
        "query_answer", to=[ctx.person(person)], record=None, purpose="query_answer",
        in_reply_to=message.message_id if message.has_message_id else None,
        what=what, items=items[:MAX_LISTED], more=max(0, len(items) - MAX_LISTED),
        record_data=record, refused=refused, dept=dept_name, words=STATUS_LABELS,
        timeline=[{"at": e.get("at", ""),
                   "what": AUDIT_LABELS.get(str(e.get("what")), str(e.get("what")))}
                  for e in record["audit"][-5:]] if record is not None else []))
    return out


def _subscription(event: Event, ctx: Context, out: Outcome, person: Person,
                  *, off: bool) -> Outcome:
    """退订 / 订阅: the sender's own daily digest, stopped or restarted, and told so."""
    from collabd.clock import isoformat
    from collabd.workflow import digest

    message = event.message
    out.meta[digest.opted_out_key(person.address)] = {"off": off, "at": isoformat(ctx.now),
                                                      "message": message.message_id}
    out.inbound["digest"] = "off" if off else "on"
    out.send(ctx.draft(
        "digest_subscription", to=[ctx.person(person)], record=None,
        purpose="digest_subscription",
        in_reply_to=message.message_id if message.has_message_id else None,
        off=off, enabled=ctx.rules.sla.digest.enabled, time=ctx.rules.sla.digest.time))
    return out


def _board_link(event: Event, ctx: Context, out: Outcome, person: Person) -> Outcome:
    """看板: a personal link to the board, to the sender alone (its address is the one in
    the directory, not the From as written)."""
    links = ctx.identity.board
    message = event.message
    link, expires = links.link(person.address, ctx.now) if links is not None else (None, None)
    out.inbound["board_link"] = "sent" if link else "no board"
    out.send(ctx.draft(
        "board_link", to=[ctx.person(person)], record=None, purpose="board_link",
        in_reply_to=message.message_id if message.has_message_id else None,
        link=link, expires=expires))
    return out


def _may_see(record: AnyRecord, sender: str, ctx: Context) -> bool:
    """Someone the record names (anywhere in it), the head of a department it names,
    the secretary, the 组长."""
    directory = ctx.rules.directory
    text = json.dumps(record, ensure_ascii=False).lower()
    if sender.lower() in text or sender.lower() in {directory.leader.address.lower(),
                                                    directory.secretary.address.lower()}:
        return True
    own = directory.department_of(sender)
    return own is not None and directory.same_person(sender, own.head.address) and (
        f'"{own.name}"' in text)


def _waiting(ctx: Context, wanted: Any, reply_to: str | None = None) -> list[dict[str, Any]]:
    """Open records waiting as `wanted` says, each with the latest message about it sent
    to `reply_to` (the one to answer)."""
    found: list[dict[str, Any]] = []
    for record in ctx.view.open_records():
        if not wanted(record):
            continue
        found.append({"record": record,
                      "summary": record_summary(record, ctx.now, ctx.rules.calendar),
                      "latest": latest_to(ctx, record, reply_to) if reply_to else None})
    found.sort(key=overdue_first)
    return found


def overdue_first(item: dict[str, Any]) -> tuple[bool, str, str]:
    """How what waits on someone is listed (here and in the daily digest): overdue
    first, then by deadline, then by number."""
    summary = item["summary"]
    return (not summary["overdue"], summary["due"] or "9999", str(item["record"]["id"]))


def latest_to(ctx: Context, record: AnyRecord, address: str) -> dict[str, Any] | None:
    """The latest message about the record sent to `address`: the one to reply to (a
    project's task is answered on its own mail, or on the project's task list)."""
    store = ctx.view.store
    latest: dict[str, Any] | None = None
    groups = [record["id"], *([record["project"]] if record["kind"] == "task"
                              and record.get("project") else [])]
    for key in (k for g in groups for k in store.group_keys(g)):
        entry = store.get("messages", key) or {}
        to = [str(a).lower() for a in entry.get("to") or []]
        if entry.get("dir") == "out" and address.lower() in to and (
                latest is None or str(entry.get("at", "")) > str(latest.get("at", ""))):
            latest = {**entry, "message_id": key}
    return latest
