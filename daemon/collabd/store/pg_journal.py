"""The inbound journal in PostgreSQL: what journal.py keeps as files in state/queue,
as rows of `collabd_journal` under the mailbox's space, written through the store's
session (so an old leader is fenced here too: it can neither take nor add).

A row is `in` (waiting), `taken` (being processed), `shunt` (processing raised; the
error beside it), `bad` (the daemon stopped three times while processing it) or
`dropped` (an operator took it out of the way). The same life as the files: a taken
row found at start was interrupted, and goes back with its try count raised.
"""

from __future__ import annotations

import hashlib
import logging
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from collabd.store.journal import MAX_CRASHES
from collabd.store.pg import HOLDS_LOCK, PgStore

log = logging.getLogger(__name__)

SET_ASIDE = ("shunt", "bad")


@dataclass(frozen=True)
class PgEntry:
    """A message taken for processing (journal.JournalEntry's counterpart)."""

    id: int
    name: str
    tries: int
    raw: bytes

    def read(self) -> bytes:
        return self.raw


@dataclass(frozen=True)
class PgSetAside:
    """A message set aside for a human: its row, its name and where it is."""

    id: int
    name: str
    kind: str

    def __str__(self) -> str:
        return f"the database journal ({self.kind}: {self.name})"


class PgJournal:
    def __init__(self, store: PgStore) -> None:
        self.store = store
        self.space = store.space

    def ensure(self) -> None:
        return None  # (the schema is the store's)

    def _rows(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        return self.store._rows(sql, params)

    # -- producer side ---------------------------------------------------------------

    def put(self, raw: bytes) -> str:
        return self.put_many([raw])[0]

    def put_many(self, raws: list[bytes]) -> list[str]:
        """Insert a batch in one transaction; when this returns it is durable."""
        if not raws:
            return []
        names = [f"{time.time_ns() + i:020d}-{hashlib.sha1(raw).hexdigest()[:16]}"
                 for i, raw in enumerate(raws)]
        with self.store.write() as conn, conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO collabd_journal (space, name, raw) VALUES (%s, %s, %s)",
                [(self.space, name, raw) for name, raw in zip(names, raws, strict=True)])
        return names

    # -- consumer side (the leader) ----------------------------------------------------

    def recover(self) -> list[PgSetAside]:
        """Put back messages a stopped leader left taken; the third stop sets one aside."""
        moved: list[PgSetAside] = []
        with self.store.write() as conn:
            rows = conn.execute(
                "UPDATE collabd_journal SET tries = tries + 1, state = CASE WHEN "
                "tries + 1 >= %s THEN 'bad' ELSE 'in' END, error = CASE WHEN tries + 1 >= %s "
                "THEN %s ELSE error END WHERE space = %s AND state = 'taken' "
                "RETURNING id, name, tries, state",
                (MAX_CRASHES, MAX_CRASHES,
                 f"collabd stopped {MAX_CRASHES} times while processing this message "
                 "(crash, kill, power loss or a lost database); it is set aside so that it "
                 "cannot stop the daemon again. Requeue it with `collabd journal retry NAME` "
                 "once fixed.", self.space)).fetchall()
        for row_id, name, tries, state in sorted(rows):
            if state == "bad":
                log.error("journal: %s stopped the daemon %d times; set aside", name, tries)
            else:
                log.warning("journal: %s was interrupted while processing; retry %d",
                            name, tries)
            moved.append(PgSetAside(row_id, name, state))
        return moved

    def __iter__(self) -> Iterator[PgEntry]:
        """Take the waiting messages one by one, oldest first. One statement each, that
        takes nothing unless this process leads (when one leads: fencing)."""
        store = self.store
        fence = f" AND {HOLDS_LOCK}" if store.leading else ""
        while True:
            rows = self._rows(
                "UPDATE collabd_journal SET state = 'taken' WHERE id = (SELECT id FROM "
                "collabd_journal WHERE space = %s AND state = 'in' ORDER BY id LIMIT 1 "
                f"FOR UPDATE SKIP LOCKED){fence} RETURNING id, name, tries, raw",
                (self.space, *(store._lock_key() if fence else ())))
            if not rows:
                store.check_lead()  # (nothing taken: nothing waits, or it no longer leads)
                return
            row = rows[0]
            yield PgEntry(int(row[0]), str(row[1]), int(row[2]), bytes(row[3]))

    def done(self, entry: PgEntry) -> None:
        """(A processed message's row went in its commit; this removes a duplicate's.)"""
        if entry.id in self.store.settled:
            self.store.settled.discard(entry.id)
            return
        self._rows("DELETE FROM collabd_journal WHERE id = %s RETURNING id",
                         (entry.id,))

    def release(self, entry: PgEntry) -> None:
        with self.store.write() as conn:
            conn.execute("UPDATE collabd_journal SET state = 'in' WHERE id = %s",
                         (entry.id,))

    def shunt(self, entry: PgEntry, error: BaseException) -> PgSetAside:
        text = "".join(traceback.format_exception(error)).replace("\x00", "\ufffd")
        with self.store.write() as conn:
            conn.execute("UPDATE collabd_journal SET state = 'shunt', error = %s "
                         "WHERE id = %s", (text, entry.id))
        return PgSetAside(entry.id, entry.name, "shunt")

    # -- set-aside messages, for an operator --------------------------------------------

    def is_bad(self, target: PgSetAside) -> bool:
        return target.kind == "bad"

    def read(self, target: PgSetAside) -> bytes:
        rows = self._rows("SELECT raw FROM collabd_journal WHERE id = %s", (target.id,))
        return bytes(rows[0][0]) if rows else b""

    def error(self, target: PgSetAside) -> str:
        rows = self._rows("SELECT error FROM collabd_journal WHERE id = %s", (target.id,))
        return str(rows[0][0]) if rows and rows[0][0] else ""

    def set_aside(self) -> list[tuple[str, PgSetAside]]:
        rows = self._rows("SELECT id, name, state FROM collabd_journal WHERE space = %s "
                          "AND state IN ('shunt', 'bad') ORDER BY name", (self.space,))
        return [(state, PgSetAside(int(i), str(name), state)) for i, name, state in rows]

    def find(self, name: str) -> tuple[str, PgSetAside] | None:
        matches = [(k, t) for k, t in self.set_aside()
                   if t.name == name or t.name.startswith(name)]
        return matches[0] if len(matches) == 1 else None

    def requeue(self, target: PgSetAside, *, by: str, at: str) -> PgSetAside:
        with self.store.write() as conn:
            conn.execute("UPDATE collabd_journal SET state = 'in', tries = 0, error = NULL "
                         "WHERE id = %s", (target.id,))
        self.record("retry", target.name, at=at, by=by)
        return PgSetAside(target.id, target.name, "in")

    def drop(self, target: PgSetAside, *, by: str, at: str) -> PgSetAside:
        with self.store.write() as conn:
            conn.execute("UPDATE collabd_journal SET state = 'dropped' WHERE id = %s",
                         (target.id,))
        self.record("drop", target.name, at=at, by=by)
        return PgSetAside(target.id, target.name, "dropped")

    def record(self, action: str, name: str, *, at: str, **detail: Any) -> None:
        from psycopg.types.json import Jsonb

        with self.store.write() as conn:
            conn.execute("INSERT INTO collabd_journal_ops (space, at, action, message, "
                         "detail) VALUES (%s, %s, %s, %s, %s)",
                         (self.space, at, action, name, Jsonb(detail)))

    def operations(self) -> list[dict[str, Any]]:
        """What operators did to which message, oldest first."""
        rows = self._rows("SELECT at, action, message, detail FROM collabd_journal_ops "
                          "WHERE space = %s ORDER BY id", (self.space,))
        return [{"at": at, "action": action, "message": message, **detail}
                for at, action, message, detail in rows]

    # -- moving a state (`collabd store export/import`) ---------------------------------

    def export_entries(self) -> Iterator[dict[str, Any]]:
        rows = self._rows("SELECT name, state, tries, raw, error FROM collabd_journal "
                          "WHERE space = %s ORDER BY id", (self.space,))
        for name, state, tries, raw, error in rows:
            yield {"name": name, "state": state, "tries": int(tries), "raw": bytes(raw),
                   "error": error or ""}

    def restore(self, name: str, state: str, tries: int, raw: bytes, error: str) -> None:
        with self.store.write() as conn:
            conn.execute("INSERT INTO collabd_journal (space, name, raw, tries, state, "
                         "error) VALUES (%s, %s, %s, %s, %s, %s)",
                         (self.space, name, raw, tries, state,
                          error.replace("\x00", "\ufffd") if error else None))

    def counts(self) -> dict[str, int]:
        rows = self._rows("SELECT state, count(*) FROM collabd_journal WHERE space = %s "
                          "GROUP BY state", (self.space,))
        found = {str(state): int(n) for state, n in rows}
        return {"waiting": found.get("in", 0) + found.get("taken", 0),
                "shunt": found.get("shunt", 0), "bad": found.get("bad", 0)}
