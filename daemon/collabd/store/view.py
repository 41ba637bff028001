"""A read-only view of the state, handed to the pure workflow and to the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from collabd.store.archive import Archive
from collabd.store.state import Store

CLOSED = frozenset({"closed", "withdrawn", "cancelled", "done"})


class StateView:
    def __init__(self, store: Store, archive: Archive) -> None:
        self.store = store
        self.archive = archive

    def record(self, record_id: str) -> dict[str, Any] | None:
        found = self.store.get("records", record_id)
        if found is None:
            found = self.archive.get(record_id)
        return found

    def records(self, kind: str | None = None) -> Iterator[dict[str, Any]]:
        """Records in the working set (open ones, and closed ones not yet archived)."""
        if kind is None:
            yield from self.store.values("records")
            return
        for key in self.store.keys_of_kind(kind):
            record = self.store.get("records", key)
            if record is not None:
                yield record

    def open_records(self, kind: str | None = None) -> Iterator[dict[str, Any]]:
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
