"""Who may sign: a confirm or reject counts only from the person it was asked of, on the
message that asked them, and (optionally) only when the receiving server vouches for
an outside sender's domain. Each sign-off is recorded once."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from collabd.clock import isoformat
from collabd.inbound.authres import verify_sender
from collabd.inbound.classify import Event
from collabd.model import PendingSignoff, Signoff
from collabd.workflow.context import Context
from collabd.workflow.outcome import Outcome, Record, audit


@dataclass(frozen=True)
class Authority:
    ok: bool
    asked: str | None  # the address the sign-off was asked of
    kind: str | None  # what was asked: deliverable, minutes, ...
    round: int | None
    reason: str | None = None  # why it does not count (Chinese, for the record and reply)


def authority(event: Event, ctx: Context) -> Authority:
    """May this reply's sender sign what the message it answers asked for?"""
    asked_msg = event.replied_to or {}
    meta: dict[str, Any] = asked_msg.get("meta") or {}
    kind = meta.get("signoff")
    asked = asked_msg.get("asks")
    sender = event.message.sender
    round_ = int(meta["round"]) if meta.get("round") is not None else None
    if not kind or not asked:
        return Authority(False, None, None, None,
                         "这封回复针对的邮件并未请求确认（请回复系统发给您本人的确认请求邮件）")
    if not ctx.rules.directory.same_person(sender, asked):
        return Authority(False, asked, kind, round_,
                         f"确认请求是发给 {asked} 的，回复来自 {sender}，不能代为确认")
    doubt = sender_doubt(event, ctx)
    if doubt is not None:
        return Authority(False, asked, kind, round_, doubt)
    return Authority(True, asked, kind, round_)


def sender_doubt(event: Event, ctx: Context) -> str | None:
    """Why this message's sender cannot be taken to be who the From says (Chinese, for
    the record and the reply), or None."""
    message = event.message
    sender = message.sender
    if message.sender_issues:
        return "发件人信息可疑（" + "；".join(message.sender_issues) + "），不予计入"
    if message.sender_header and message.sender_header != sender and not (
            ctx.rules.is_internal(sender)):
        return (f"邮件由 {message.sender_header} 代 {sender} 发出（Sender 与 From 不一致），"
                "不予计入")
    auth = ctx.rules.signoff.authentication
    if auth.require:
        verdict = verify_sender(message, auth.authserv_id, auth.internal_domains)
        if not verdict.ok:
            return f"发件域名未通过验证（{verdict.reason}），确认不予计入"
    return None


def existing(record: Record, kind: str, round_: int | None, person: str) -> Signoff | None:
    """This person's latest decision on this sign-off round, if any."""
    for entry in reversed(record.get("signoffs", [])):
        if entry["kind"] == kind and entry.get("round") == round_ and entry["by"] == person:
            return entry.copy()
    return None


def record_signoff(record: Record, ctx: Context, event: Event, auth: Authority,
                   decision: str, reason: str | None) -> Signoff:
    entry: Signoff = {
        "kind": auth.kind,
        "round": auth.round,
        "by": auth.asked,
        "decision": decision,
        "at": isoformat(ctx.now),
        "message": event.message.message_id,
        "answers": event.replied_to_id,
        "text": (event.new_text or "")[:2000],
        "reason": reason,
        "read_as": event.intent.why if event.intent else None,
    }
    record.setdefault("signoffs", []).append(entry)
    return entry


def ask(record: Record, kind: str, round_: int | None, person: str) -> None:
    """Note on the record that `person` has been asked to sign `kind` for `round_`."""
    pending = record.setdefault("pending_signoffs", [])
    entry: PendingSignoff = {"kind": kind, "round": round_, "person": person}
    if entry not in pending:
        pending.append(entry)


def answered(record: Record, kind: str, round_: int | None, person: str) -> None:
    record["pending_signoffs"] = [
        p for p in record.get("pending_signoffs", [])
        if not (p["kind"] == kind and p.get("round") == round_ and p["person"] == person)]


def pending_for(record: Record, ctx: Context, sender: str) -> PendingSignoff | None:
    """A sign-off still awaited from `sender` on this record, if any."""
    for entry in record.get("pending_signoffs", []):
        if ctx.rules.directory.same_person(sender, entry["person"]):
            return entry.copy()
    return None


# An unclear answer, or one on the wrong message, is asked again at most this many times
# per person and round: reminders and escalation go on regardless, and a person (or a
# robot) answering every message unclearly must not start a ping-pong.
ASK_AGAIN_LIMIT = 3


def still_pending(record: Record, kind: str | None, round_: int | None,
                  person: str | None) -> PendingSignoff | None:
    for entry in record.get("pending_signoffs", []):
        if entry["kind"] == kind and entry.get("round") == round_ and entry["person"] == person:
            return entry.copy()
    return None


def ask_again(record: Record, event: Event, ctx: Context, out: Outcome,
              pending: PendingSignoff, *, situation: str, reason: str | None = None) -> None:
    """Send the person the ask again, in a message of its own (itself an ask: a reply to
    it counts), saying what was read and exactly what to answer. `situation`: unclear
    (neither a clear confirm nor a clear reject) or elsewhere (a decision on the wrong
    message, or one that did not count)."""
    kind, round_, person = pending["kind"], pending.get("round"), pending["person"]
    key = f"{kind}:{round_}:{person}"
    asked = record.setdefault("asked_again", {})
    if asked.get(key, 0) >= ASK_AGAIN_LIMIT:
        audit(record, ctx.now, "not asked again (limit reached)", person=person, kind=kind,
              round=round_, limit=ASK_AGAIN_LIMIT, message=event.message.message_id)
        return
    asked[key] = asked.get(key, 0) + 1
    minutes = delivery = None
    due: dt.datetime | None = None
    if kind == "minutes" and record["kind"] == "meeting":
        rounds = (record.get("minutes") or {}).get("rounds", [])
        minutes = next((r for r in rounds if r.get("round") == round_), None)
        if minutes and minutes.get("confirm_due"):
            due = dt.datetime.fromisoformat(minutes["confirm_due"])
    elif kind == "deliverable" and record["kind"] == "request":
        delivery = next((d for d in record.get("deliveries", []) if d.get("round") == round_),
                        None)
        acceptance_due = record.get("acceptance_due")
        if acceptance_due:
            due = dt.datetime.fromisoformat(acceptance_due)
    message = event.message
    out.send(ctx.draft(
        "signoff_ask_again", to=[ctx.person_by_address(person)], record=record["id"],
        purpose="signoff_ask_again", asks=person,
        # What they wrote, quoted back to them, is theirs: a reply repeating it is not
        # a quote of ours (Original.fingerprints leaves it out).
        meta={"signoff": kind, "round": round_, "echo": (event.new_text or "")[:500]},
        in_reply_to=message.message_id if message.has_message_id else None,
        references=message.references, person=ctx.person_by_address(person),
        situation=situation, reason=reason or "", read=(event.new_text or "（空白）")[:500],
        kind=kind, round=round_, record_data=record, minutes=minutes, delivery=delivery,
        due=due if due is not None and due > ctx.now else None,
    ))
    audit(record, ctx.now, "asked again", person=person, kind=kind, round=round_,
          situation=situation, reason=reason, message=message.message_id)
