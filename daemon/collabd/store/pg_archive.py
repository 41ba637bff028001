"""The archive in PostgreSQL (archive.py's counterpart): records closed long enough and
their message-index entries, as rows of collabd_kv under the tables 'archive' and
'archived_messages' of the mailbox's space. Written in one transaction of the store's
session (fenced like every other write of a leader); a record archived again replaces
itself, so the sweep is idempotent as on files."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from collabd.store.pg import PgStore, storable

RECORDS = "archive"
MESSAGES = "archived_messages"


class PgArchive:
    def __init__(self, store: PgStore) -> None:
        self.store = store
        self.space = store.space

    def put_many(self, records: Iterable[dict[str, Any]],
                 messages: dict[str, dict[str, Any]] | None = None) -> int:
        from psycopg.types.json import Jsonb

        rows = [(self.space, RECORDS, r["id"], Jsonb(storable(r))) for r in records]
        rows += [(self.space, MESSAGES, storable(mid), Jsonb(storable(entry)))
                 for mid, entry in (messages or {}).items()]
        if rows:
            with self.store.write() as conn, conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO collabd_kv (space, tbl, key, value) VALUES (%s, %s, %s, %s) "
                    "ON CONFLICT (space, tbl, key) DO UPDATE SET value = EXCLUDED.value", rows)
        return sum(1 for r in rows if r[1] == RECORDS)

    def _get(self, table: str, key: str) -> dict[str, Any] | None:
        rows = self.store._rows("SELECT value FROM collabd_kv WHERE space = %s AND tbl = %s "
                                "AND key = %s", (self.space, table, storable(key)))
        return rows[0][0] if rows else None

    def message(self, message_id: str) -> dict[str, Any] | None:
        return self._get(MESSAGES, message_id)

    def get(self, record_id: str) -> dict[str, Any] | None:
        return self._get(RECORDS, record_id)

    def messages_of(self, record_id: str) -> dict[str, dict[str, Any]]:
        rows = self.store._rows("SELECT key, value FROM collabd_kv WHERE space = %s AND "
                                "tbl = %s AND value->>'record' = %s ORDER BY pos",
                                (self.space, MESSAGES, record_id))
        return {str(k): v for k, v in rows}

    def get_with_messages(self, record_id: str, *, record: bool = True,
                          messages: bool = True) -> tuple[dict[str, Any] | None,
                                                          dict[str, dict[str, Any]]]:
        return (self.get(record_id) if record else None,
                self.messages_of(record_id) if messages else {})

    def search(self, **equals: Any) -> Iterator[dict[str, Any]]:
        """Archived records whose top-level keys equal the given values."""
        from psycopg.types.json import Jsonb

        rows = self.store._rows("SELECT value FROM collabd_kv WHERE space = %s AND tbl = %s "
                                "AND value @> %s ORDER BY pos",
                                (self.space, RECORDS, Jsonb(equals)))
        for (doc,) in rows:
            if all(doc.get(k) == v for k, v in equals.items()):  # (@> also matches within)
                yield doc

    def items(self, table: str) -> Iterator[tuple[str, Any]]:
        """Every archived record ('archive') or message entry ('archived_messages'),
        for `collabd store export`."""
        rows = self.store._rows("SELECT key, value FROM collabd_kv WHERE space = %s AND "
                                "tbl = %s ORDER BY pos", (self.space, table))
        return iter([(str(k), v) for k, v in rows])
