"""Everyone escalated to hears when the matter is settled.

A ladder's overdue and escalation steps tell heads, the secretary, the leader that
something is late. When what they were told about ends — the receiver answers, the
minutes are confirmed, the deliverable is accepted, the record closes — each of them
gets one message saying so, and the record's escalation mark is cleared.
"""

from __future__ import annotations

from typing import Any

from collabd.outbound.compose import Draft
from collabd.policy.schema import WAITS
from collabd.store.view import CLOSED
from collabd.workflow.context import Context
from collabd.workflow.outcome import Record, audit
from collabd.workflow.waits import waits

# Steps whose recipients were told of a delay (a first reminder tells only the one
# waited on, who knows best when they answered).
_TOLD = ("overdue", "escalation")


def _ladder(entry: dict[str, Any]) -> str:
    return str(entry.get("rule", "")).split("[", 1)[0]


def settled(record: Record, ctx: Context, already: set[str]) -> list[Draft]:
    """Messages to those told of delays that have now ended (none if nothing ended;
    always none for a record that no step fired on, a new one among them);
    `already`: addresses that get a message about this record in the same commit."""
    fired = [e for e in record.get("audit", []) if e.get("what") == "rule fired"]
    if not fired:
        return []
    told = record.setdefault("settled_told", [])
    active = set() if record.get("status") in CLOSED else {w.name for w in waits(record, ctx)}
    ended: dict[str, list[dict[str, Any]]] = {}
    for entry in fired:
        key = f"{entry.get('rule')}@{entry.get('at')}"
        if entry.get("template") in _TOLD and _ladder(entry) not in active and (
                key not in told):
            ended.setdefault(_ladder(entry), []).append(entry)
            told.append(key)
    if not told:
        record.pop("settled_told")
    if not ended:
        return []
    if record.get("escalation") and not active & {_ladder(e) for e in fired}:
        record["escalation"] = None  # no delay left that anyone was told of
    # Those who were waited on (their reminders) settled it themselves: not told.
    waited = {str(a) for e in fired if e.get("template") == "reminder"
              for a in e.get("to") or []}
    drafts = []
    for ladder, entries in ended.items():
        people: dict[str, None] = {}
        for entry in entries:
            for address in [*(entry.get("to") or []), *(entry.get("cc") or [])]:
                if (address not in already and address not in waited
                        and address != ctx.identity.address):
                    people.setdefault(str(address), None)
        if not people:
            continue
        closed = record.get("status") in CLOSED
        drafts.append(ctx.draft(
            "escalation_settled", to=[ctx.person_by_address(a) for a in people],
            record=record["id"], purpose=f"settled:{ladder}", record_data=record,
            wait=WAITS.get(ladder, ladder), closed=closed))
        audit(record, ctx.now, "told it is settled", rule=ladder, to=list(people))
    return drafts
