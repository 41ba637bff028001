"""A read-only view of the state, handed to the pure workflow and to the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal, cast, overload

from collabd.ids import with_prefix
from collabd.model import AnyRecord, Meeting, Problem, Project, Request, Task
from collabd.store.archive import Archive
from collabd.store.state import Store

CLOSED = frozenset({"closed", "withdrawn", "cancelled", "done"})


class StateView:
    def __init__(self, store: Store, archive: Archive, *, id_prefix: str = "") -> None:
        self.store = store
        self.archive = archive
        # The mailbox's record-id prefix (collabd.yaml mailbox.id_prefix; collabd.ids)
        self.id_prefix = id_prefix

    # Stored records are JSON documents; their shape is collabd.model's (a record
    # written by the workflow is one of its kinds), which these accessors assert.

    def record(self, record_id: str) -> AnyRecord | None:
        """A record by its id; in a mailbox with an id prefix, also as written without
        it (XQ-2026-0001 in a form, for SH-XQ-2026-0001)."""
        found = self.store.get("records", record_id)
        if found is None:
            found = self.archive.get(record_id)
        if found is None and self.id_prefix:
            prefixed = with_prefix(record_id, self.id_prefix)
            if prefixed != record_id:
                return self.record(prefixed)
        return cast("AnyRecord | None", found)

    def request(self, record_id: str) -> Request | None:
        """The request with this id (None when there is none, or it is of another kind)."""
        found = self.record(record_id)
        return found if found is not None and found["kind"] == "request" else None

    def meeting(self, record_id: str) -> Meeting | None:
        found = self.record(record_id)
        return found if found is not None and found["kind"] == "meeting" else None

    def project(self, record_id: str) -> Project | None:
        found = self.record(record_id)
        return found if found is not None and found["kind"] == "project" else None

    @overload
    def records(self, kind: Literal["request"]) -> Iterator[Request]: ...
    @overload
    def records(self, kind: Literal["problem"]) -> Iterator[Problem]: ...
    @overload
    def records(self, kind: Literal["meeting"]) -> Iterator[Meeting]: ...
    @overload
    def records(self, kind: Literal["task"]) -> Iterator[Task]: ...
    @overload
    def records(self, kind: Literal["project"]) -> Iterator[Project]: ...
    @overload
    def records(self, kind: str | None = None) -> Iterator[AnyRecord]: ...

    def records(self, kind: str | None = None) -> Iterator[AnyRecord]:
        """Records in the working set (open ones, and closed ones not yet archived)."""
        if kind is None:
            yield from cast("Iterator[AnyRecord]", self.store.values("records"))
            return
        for key in self.store.keys_of_kind(kind):
            record = self.store.get("records", key)
            if record is not None:
                yield cast("AnyRecord", record)

    @overload
    def open_records(self, kind: Literal["request"]) -> Iterator[Request]: ...
    @overload
    def open_records(self, kind: Literal["problem"]) -> Iterator[Problem]: ...
    @overload
    def open_records(self, kind: Literal["meeting"]) -> Iterator[Meeting]: ...
    @overload
    def open_records(self, kind: Literal["task"]) -> Iterator[Task]: ...
    @overload
    def open_records(self, kind: Literal["project"]) -> Iterator[Project]: ...
    @overload
    def open_records(self, kind: str | None = None) -> Iterator[AnyRecord]: ...

    def open_records(self, kind: str | None = None) -> Iterator[AnyRecord]:
        for record in self.records(kind):
            if record.get("status") not in CLOSED:
                yield record

    def message(self, message_id: str) -> dict[str, Any] | None:
        """A message we know (received or sent), in the working set or archived."""
        entry = self.store.get("messages", message_id)
        if entry is None:
            entry = self.archive.message(message_id)
        return entry if isinstance(entry, dict) else None

    def meta(self, key: str, default: Any = None) -> Any:
        entry = self.store.get("meta", key)
        return default if entry is None else entry.get("value", default)
