"""What the workflow decides: records to store and messages to send, as plain values."""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal, cast, overload

from collabd.clock import isoformat
from collabd.model import AnyRecord, Meeting, Problem, Project, R, Request, Task
from collabd.outbound.compose import Draft

RECORD_SCHEMA = 1

# Any record (collabd.model); workflow functions of one kind take that kind.
Record = AnyRecord


@dataclass
class Outcome:
    """The result of handling one event or one tick; committed as one transaction."""

    records: list[Record] = field(default_factory=list)
    drafts: list[Draft] = field(default_factory=list)
    # What is remembered about the inbound message in the message index.
    inbound: dict[str, Any] = field(default_factory=dict)
    # Small named values in the meta table (id counters, rate limits).
    meta: dict[str, Any] = field(default_factory=dict)
    # record id → its place in `records`: a tick after a backlog changes thousands of
    # records, and finding each by a scan made that quadratic.
    _where: dict[str, int] = field(default_factory=dict, repr=False)
    _meetings: list[int] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        records, self.records = self.records, []
        for record in records:
            self.put(record)

    def put(self, record: Record) -> None:
        index = self._where.get(record["id"])
        if index is not None:
            self.records[index] = record
            return
        self._where[record["id"]] = len(self.records)
        if record["kind"] == "meeting":
            self._meetings.append(len(self.records))
        self.records.append(record)

    def get(self, record_id: str) -> Record | None:
        """A record this outcome already changed (change that copy, not another)."""
        index = self._where.get(record_id)
        return self.records[index] if index is not None else None

    def meetings(self) -> list[Meeting]:
        """The meetings among the changed records (without scanning all of them)."""
        return [cast(Meeting, self.records[i]) for i in self._meetings]

    def send(self, draft: Draft) -> None:
        self.drafts.append(draft)

    def merge(self, other: Outcome) -> None:
        for record in other.records:
            self.put(record)
        self.drafts.extend(other.drafts)
        self.inbound.update(other.inbound)
        self.meta.update(other.meta)


@overload
def new_record(kind: Literal["request"], record_id: str, now: dt.datetime,
               **fields: Any) -> Request: ...
@overload
def new_record(kind: Literal["problem"], record_id: str, now: dt.datetime,
               **fields: Any) -> Problem: ...
@overload
def new_record(kind: Literal["meeting"], record_id: str, now: dt.datetime,
               **fields: Any) -> Meeting: ...
@overload
def new_record(kind: Literal["task"], record_id: str, now: dt.datetime,
               **fields: Any) -> Task: ...
@overload
def new_record(kind: Literal["project"], record_id: str, now: dt.datetime,
               **fields: Any) -> Project: ...


def new_record(kind: str, record_id: str, now: dt.datetime, **fields: Any) -> AnyRecord:
    """A new record of `kind` with the common fields; `fields` are the kind's own
    (tests/unit/test_model.py checks them against collabd.model)."""
    stamp = isoformat(now)
    return cast(AnyRecord, {
        "id": record_id,
        "kind": kind,
        "schema": RECORD_SCHEMA,
        "created": stamp,
        "updated": stamp,
        "audit": [],
        **fields,
    })


def changed(record: R) -> R:
    """A deep copy to change: stored records are shared and never mutated in place."""
    return copy.deepcopy(record)


def audit(record: R, now: dt.datetime, what: str, **detail: Any) -> R:
    """Append one audit entry (in place, on a copy made with `changed`)."""
    entry = {"at": isoformat(now), "what": what}
    entry.update({k: v for k, v in detail.items() if v is not None})
    cast("dict[str, Any]", record).setdefault("audit", []).append(entry)
    record["updated"] = isoformat(now)
    return record
