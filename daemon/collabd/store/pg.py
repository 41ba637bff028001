"""The record store on PostgreSQL (issue 18, first part): the same tables and the same
guarantees as the embedded store (collabd.store.state.Store) for the operations the
workflow, the outbox and the commands use — records, the message index, the outbox
and meta; a commit is one transaction; a value read is a fresh copy.

Everything of one shared mailbox lives under its `space` (several mailboxes share one
database and never mix). Record bodies are JSONB, with the two indexes the tick and
threading need: a record's kind, a message-index entry's record. The schema is created
and migrated by the store itself, versioned in `collabd_schema`.

Leadership: one process leads a mailbox, holding a PostgreSQL advisory lock on its
space for as long as its session lives (`lead`); any number of others wait for it. A
leader cut off from the database loses its session and with it the lock, and a standby
takes over; every commit of a leader first checks, inside its transaction, that its
session still holds the lock (fencing), so one that comes back stands down (`Fenced`)
before it writes anything.

The inbound journal (pg_journal.py) and the archive (pg_archive.py) live in the same
database, written through the same session, so they are fenced the same way. Each
process that opens a space says so in `collabd_node` (`collabd status` lists who leads
and who stands by).
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from collabd.errors import CollabdError
from collabd.store.derived import project
from collabd.store.errors import Fenced, StateDamaged, StateTooNew, StoreUnavailable
from collabd.store.state import COUNTS_KEY, TABLES, Txn, _counted, remembering

SCHEMA_VERSION = 5
MIGRATIONS: dict[int, list[str]] = {
    1: [
        """CREATE TABLE IF NOT EXISTS collabd_kv (
               space text NOT NULL,
               tbl text NOT NULL,
               key text NOT NULL,
               value jsonb NOT NULL,
               pos bigserial,
               PRIMARY KEY (space, tbl, key))""",
        # keys_of_kind (the tick, status) and group_keys (threading, show)
        """CREATE INDEX IF NOT EXISTS collabd_kv_kind ON collabd_kv (space, (value->>'kind'))
               WHERE tbl = 'records'""",
        """CREATE INDEX IF NOT EXISTS collabd_kv_record ON collabd_kv
               (space, (value->>'record')) WHERE tbl = 'messages'""",
        """CREATE TABLE IF NOT EXISTS collabd_space (
               space text PRIMARY KEY,
               seq bigint NOT NULL DEFAULT 0)""",
    ],
    2: [
        # The inbound journal: raw messages made durable before the server is told.
        """CREATE TABLE IF NOT EXISTS collabd_journal (
               id bigserial PRIMARY KEY,
               space text NOT NULL,
               name text NOT NULL,
               raw bytea NOT NULL,
               tries int NOT NULL DEFAULT 0,
               state text NOT NULL DEFAULT 'in',
               error text,
               at timestamptz NOT NULL DEFAULT now())""",
        """CREATE INDEX IF NOT EXISTS collabd_journal_state ON collabd_journal
               (space, state, id)""",
        """CREATE TABLE IF NOT EXISTS collabd_journal_ops (
               space text NOT NULL,
               at text NOT NULL,
               action text NOT NULL,
               message text NOT NULL,
               detail jsonb NOT NULL)""",
        # The archive: records and their message-index entries, kept as collabd_kv rows
        # of tables 'archive' and 'archived_messages'.
        """CREATE INDEX IF NOT EXISTS collabd_kv_archived_record ON collabd_kv
               (space, (value->>'record')) WHERE tbl = 'archived_messages'""",
        # Who serves a space: each process that opened it, with its session's pid.
        """CREATE TABLE IF NOT EXISTS collabd_node (
               space text NOT NULL,
               node text NOT NULL,
               backend_pid int NOT NULL,
               started timestamptz NOT NULL DEFAULT now(),
               PRIMARY KEY (space, node))""",
    ],
    3: [
        # What `collabd status` reads of a record (collabd.store.derived.project): a few
        # hundred bytes instead of kilobytes, as the embedded store's summary.json.
        "ALTER TABLE collabd_kv ADD COLUMN IF NOT EXISTS summary jsonb",
        # (the operators' actions in the order they were taken)
        "ALTER TABLE collabd_journal_ops ADD COLUMN IF NOT EXISTS id bigserial",
    ],
    4: [
        # A whole table read a page at a time, in its order (items)
        "CREATE INDEX IF NOT EXISTS collabd_kv_order ON collabd_kv (space, tbl, pos)",
    ],
    5: [
        # The summary is only ever read whole: kept as the JSON text it was written as
        # (json), which the server sends as it is, where jsonb is converted back to text
        # on every read (at 100,000 records, a third of `status`).
        "ALTER TABLE collabd_kv ALTER COLUMN summary TYPE json USING summary::json",
    ],
}
# A session the server keeps for a process that vanished without closing it (a machine
# gone, a network cut) is ended by TCP keepalives, server side and client side: then
# its lock is free for a standby. 3 s idle, 3 probes 1 s apart.
KEEPALIVE = {"keepalives": 1, "keepalives_idle": 3, "keepalives_interval": 1,
             "keepalives_count": 3, "tcp_user_timeout": 6000}
SERVER_KEEPALIVE = ("-c tcp_keepalives_idle=3 -c tcp_keepalives_interval=1 "
                    "-c tcp_keepalives_count=3 -c tcp_user_timeout=6000")


PAGE = 2000  # rows read at a time when a whole table is read
# Does this session hold the mailbox's advisory lock? (the parameter: _lock_key)
_HOLDS = ("EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted "
          "AND l.pid = {pid} AND ((l.classid::bigint << 32) | l.objid::bigint) = "
          "hashtextextended(%s, 0))")
HOLDS_LOCK = _HOLDS.format(pid="pg_backend_pid()")


def storable(value: Any) -> Any:
    """`value` as PostgreSQL can keep it: its text types refuse the NUL character (which
    hostile mail can carry in a subject or a name), so NUL becomes U+FFFD, as an
    undecodable byte does elsewhere. Others are returned as they are."""
    if isinstance(value, str) or b"\\u0000" in orjson.dumps(value):
        return _without_nul(value)
    return value


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_without_nul(v) for v in value]
    return value


def node_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class PgStore:
    """One mailbox's durable state in a PostgreSQL database (psycopg 3)."""

    # Each commit is durable when it returns (no group commit to wait for): the daemon
    # settles each message, and marks each mail sent, as it goes.
    group_commit = False

    def __init__(self, dsn: str, *, space: str = "default", readonly: bool = False,
                 node: str | None = None, password: str | None = None,
                 summary: bool = False) -> None:
        """`summary` (read-only): the records read are their `derived.project`ions."""
        self.dsn = dsn
        self.space = space
        self.readonly = readonly
        self.summary = summary and readonly
        self.seq = 0
        self.node = node or node_name()
        self._password = password
        self._conn: Any = None
        self._memo: dict[tuple[str, str], Any] | None = None
        self._announced = False
        self.settled: set[int] = set()  # journal rows its commits removed (PgJournal.done)
        self._lock = threading.RLock()
        self._lost: str | None = None  # why this session no longer leads, once it does not
        self.leading = False  # holds its space's lock (lead); commits are then fenced

    def describe(self) -> str:
        from psycopg.conninfo import conninfo_to_dict

        parts = conninfo_to_dict(self.dsn)
        where = f"{parts.get('host', 'localhost')}:{parts.get('port', 5432)}"
        return f"PostgreSQL {where}/{parts.get('dbname', '')} (mailbox {self.space})"

    # -- lifecycle ----------------------------------------------------------------

    def open(self) -> PgStore:
        import psycopg
        from psycopg.conninfo import conninfo_to_dict
        from psycopg.types.json import set_json_dumps, set_json_loads

        extra: dict[str, Any] = dict(KEEPALIVE)
        if "options" not in conninfo_to_dict(self.dsn):
            extra["options"] = SERVER_KEEPALIVE
        if self._password is not None:
            extra["password"] = self._password
        extra.setdefault("connect_timeout", 10)
        extra["application_name"] = f"collabd {self.node}"[:63]
        try:
            self._conn = psycopg.connect(self.dsn, autocommit=True, **extra)
        except psycopg.OperationalError as exc:
            raise StoreUnavailable(f"{self.describe()}: {exc}".strip()) from None
        # orjson both ways, as the embedded store: several times faster than json at
        # 100,000 records, and the same rules for what is JSON (str keys only).
        set_json_dumps(orjson.dumps, self._conn)
        set_json_loads(orjson.loads, self._conn)
        self._lost = None
        self.leading = False
        self.settled.clear()
        with self._conn.transaction():
            self._migrate()
            if not self.readonly:
                self._conn.execute("INSERT INTO collabd_space (space) VALUES (%s) "
                                   "ON CONFLICT (space) DO NOTHING", (self.space,))
            row = self._conn.execute("SELECT seq FROM collabd_space WHERE space = %s",
                                     (self.space,)).fetchone()
        self.seq = int(row[0]) if row else 0
        return self

    def announce(self) -> None:
        """Say that this process serves the mailbox (leads it or stands by), until its
        session ends: `nodes`."""
        with self._guard(), self._conn.transaction():
            self._conn.execute(
                "INSERT INTO collabd_node (space, node, backend_pid) VALUES "
                "(%s, %s, pg_backend_pid()) ON CONFLICT (space, node) DO UPDATE SET "
                "backend_pid = EXCLUDED.backend_pid, started = now()",
                (self.space, self.node))
        self._announced = True

    def nodes(self) -> list[dict[str, Any]]:
        """The processes serving this mailbox now: which leads, which stand by (those
        whose session ended are forgotten)."""
        rows = self._rows(
            f"SELECT n.node, n.started, {_HOLDS.format(pid='n.backend_pid')} "
            "FROM collabd_node n JOIN pg_stat_activity a ON a.pid = n.backend_pid "
            "WHERE n.space = %s ORDER BY n.started", (*self._lock_key(), self.space))
        return [{"node": node, "since": started.isoformat(timespec="seconds"),
                 "role": "leader" if leads else "standby"}
                for node, started, leads in rows]

    def leader(self) -> str | None:
        """The process that leads this mailbox now (None: none does)."""
        return next((n["node"] for n in self.nodes() if n["role"] == "leader"), None)

    def _migrate(self) -> None:
        """Create or migrate the schema. A reader (`status`, `board`, `export`) creates it
        where there is none, but never migrates an older one: that is the daemon's (a
        newer binary's `status` must not upgrade the database under older standbys)."""
        conn = self._conn
        version = self._schema_version()
        if version > SCHEMA_VERSION:
            raise StateTooNew(f"the database's collabd schema is version {version}; this "
                              f"collabd knows up to {SCHEMA_VERSION}: upgrade collabd")
        if version == SCHEMA_VERSION:
            return
        if self.readonly and version:
            raise CollabdError(
                f"{self.describe()}: the database's collabd schema is version {version}, "
                f"older than this collabd's ({SCHEMA_VERSION}); start the daemon of this "
                "version once, which migrates it (upgrade the leader and its standbys "
                "together)")
        # One creating or migrating process at a time (a standby starting beside a
        # leader); CREATE is asked of the database only when something is to be made.
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('collabd_schema'))")
        version = self._schema_version()  # (another may have done it meanwhile)
        if version == 0:
            conn.execute("CREATE TABLE IF NOT EXISTS collabd_schema (version int NOT NULL)")
        for step in range(version + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[step]:
                conn.execute(statement)
            conn.execute("INSERT INTO collabd_schema (version) VALUES (%s)", (step,))

    def _schema_version(self) -> int:
        conn = self._conn
        if conn.execute("SELECT to_regclass('collabd_schema')").fetchone()[0] is None:
            return 0
        row = conn.execute("SELECT max(version) FROM collabd_schema").fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):  # (a lost session: nothing to say)
                if self._announced and not self._conn.closed:
                    self._conn.execute("DELETE FROM collabd_node WHERE space = %s AND "
                                       "node = %s", (self.space, self.node))
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
        self.leading = False
        self._announced = False
        self._lost = None

    @contextlib.contextmanager
    def write(self) -> Iterator[Any]:
        """A transaction on this store's session (the journal and the archive write
        through it): fenced when this process leads, and a lost session is `Fenced`."""
        if self.readonly:
            raise RuntimeError("store opened read-only")
        with self._lock, self._guard(), self._conn.transaction():
            if self.leading:
                self._fence()
            yield self._conn

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        """A leader whose session is lost no longer leads (its lock went with it)."""
        import psycopg

        if self._lost is not None:  # (and stays so: a `finally` that commits again)
            raise Fenced(self._lost)
        try:
            yield
        except psycopg.OperationalError as exc:
            if self.leading:
                self.leading = False
                self._lost = (f"mailbox {self.space}: the database session was lost "
                              f"({exc}); this process no longer leads it")
                raise Fenced(self._lost) from exc
            raise

    def check_lead(self) -> None:
        """Raise Fenced unless this process still leads (before it touches the mailbox)."""
        if self._lost is not None:
            raise Fenced(self._lost)
        if self.leading:
            with self._lock, self._guard():
                self._fence()  # (one statement: no transaction around it)

    # -- leadership ---------------------------------------------------------------

    def _lock_key(self) -> tuple[str]:
        return (f"collabd-leader:{self.space}",)

    def lead(self, *, wait: float = 0.0, poll: float = 0.5) -> bool:
        """Try to become the one process that serves this mailbox, for `wait` seconds.
        True: this session holds the space's advisory lock until it ends or `close`."""
        import psycopg

        deadline = time.monotonic() + wait
        while True:
            try:
                row = self._conn.execute(
                    "SELECT pg_try_advisory_lock(hashtextextended(%s, 0))",
                    self._lock_key()).fetchone()
            except psycopg.OperationalError as exc:
                raise StoreUnavailable(f"{self.describe()}: {exc}".strip()) from None
            if row and row[0]:
                self.leading = True
                # (what the previous leader committed is the state now)
                found = self._conn.execute("SELECT seq FROM collabd_space WHERE space = %s",
                                           (self.space,)).fetchone()
                self.seq = int(found[0]) if found else self.seq
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(poll)

    def _fence(self) -> None:
        """Does this session still hold the lock? (Inside a transaction: for it.)"""
        row = self._conn.execute(f"SELECT {HOLDS_LOCK}", self._lock_key()).fetchone()
        if not row or not row[0]:
            self._lose(f"mailbox {self.space}: this process no longer leads it")

    def _lose(self, why: str) -> None:
        self.leading = False
        self._lost = why
        raise Fenced(why)

    # -- reading ------------------------------------------------------------------

    def _rows(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        # (one statement: no transaction around it; one at a time on the session: the
        # board's threads share a view)
        with self._lock, self._guard():
            return list(self._conn.execute(sql, params).fetchall())

    def get(self, table: str, key: str) -> Any | None:
        memo = self._memo
        if memo is not None and (table, key) in memo:
            return memo[(table, key)]
        rows = self._rows("SELECT value FROM collabd_kv WHERE space = %s AND tbl = %s "
                          "AND key = %s", (self.space, table, storable(key)))
        found = rows[0][0] if rows else None
        if memo is not None:
            memo[(table, key)] = found
        return found

    def reading(self) -> contextlib.AbstractContextManager[None]:
        """Within: a value read twice is read once, and the same object handed out (as
        the embedded store does); a commit forgets what it changes."""
        return remembering(self)

    def items(self, table: str) -> Iterator[tuple[str, Any]]:
        """Every entry of a table in its order, read a page at a time (at 100,000
        records the whole table decoded at once would be a gigabyte)."""
        column = ("COALESCE(summary, value::json)" if self.summary and table == "records"
                  else "value")
        after = -1
        while True:
            rows = self._rows(f"SELECT pos, key, {column} FROM collabd_kv WHERE space = %s "
                              "AND tbl = %s AND pos > %s ORDER BY pos LIMIT %s",
                              (self.space, table, after, PAGE))
            for _, key, value in rows:
                yield str(key), value
            if len(rows) < PAGE:
                return
            after = rows[-1][0]

    def values(self, table: str) -> Iterable[Any]:
        return (value for _, value in self.items(table))

    def count(self, table: str) -> int:
        return int(self._rows("SELECT count(*) FROM collabd_kv WHERE space = %s AND tbl = %s",
                              (self.space, table))[0][0])

    def keys_of_kind(self, kind: str) -> list[str]:
        return [str(r[0]) for r in self._rows(
            "SELECT key FROM collabd_kv WHERE space = %s AND tbl = 'records' "
            "AND value->>'kind' = %s ORDER BY key", (self.space, kind))]

    def group_keys(self, record_id: str) -> list[str]:
        return [str(r[0]) for r in self._rows(
            "SELECT key FROM collabd_kv WHERE space = %s AND tbl = 'messages' "
            "AND value->>'record' = %s ORDER BY pos", (self.space, record_id))]

    def messages_of(self, record_id: str) -> dict[str, Any]:
        """One record's message-index entries, by its index (`collabd show`)."""
        return {str(k): v for k, v in self._rows(
            "SELECT key, value FROM collabd_kv WHERE space = %s AND tbl = 'messages' "
            "AND value->>'record' = %s ORDER BY pos", (self.space, record_id))}

    def in_record_order(self, keys: Iterable[str]) -> list[str]:
        wanted = list(keys)
        return [str(r[0]) for r in self._rows(
            "SELECT key FROM collabd_kv WHERE space = %s AND tbl = 'records' "
            "AND key = ANY(%s) ORDER BY pos", (self.space, wanted))]

    def message_counts(self) -> list[int]:
        kept = self.get("meta", COUNTS_KEY)
        if isinstance(kept, dict):
            return [int(kept.get("processed", 0)), int(kept.get("sent", 0))]
        processed = sent = 0
        for entry in self.values("messages"):
            p, s = _counted(entry)
            processed, sent = processed + p, sent + s
        return [processed, sent]

    # -- writing ------------------------------------------------------------------

    def commit(self, txn: Txn, *, sync: bool = True) -> int:
        """`txn` in one transaction (PostgreSQL makes it durable at COMMIT: `sync` is
        accepted for the embedded store's interface). Returns its position."""

        if self.readonly:
            raise RuntimeError("store opened read-only")
        if not txn.ops and not txn.settles:
            return self.seq
        if self._memo is not None:
            for op in txn.ops:
                self._memo.pop((op[1], op[2]), None)
        with self._lock, self._guard():
            return self._commit(self._conn, txn)

    def _commit(self, conn: Any, txn: Txn) -> int:
        """One transaction in few round trips: the space's row first (locked until the
        end, so writers go one at a time and the counts read are not raced; its
        position taken; a leader's lock checked in the same statement: fencing), then
        what the counts need, then every write pipelined."""
        from psycopg.types.json import Json, Jsonb

        for op in txn.ops:
            if op[1] not in TABLES:
                raise KeyError(f"unknown table {op[1]!r}")
        with conn.transaction():
            fence = f" AND {HOLDS_LOCK}" if self.leading else ""
            row = conn.execute(
                f"UPDATE collabd_space SET seq = seq + 1 WHERE space = %s{fence} "
                "RETURNING seq", (self.space, *(self._lock_key() if fence else ()))
            ).fetchone()
            if row is None:
                if self.leading:
                    self._lose(f"mailbox {self.space}: this process no longer leads it")
                raise StateDamaged(f"the database has no state for mailbox {self.space}",
                                   recovery="open the store again (it is created then)")
            message_keys = list(dict.fromkeys(storable(op[2]) for op in txn.ops
                                              if op[1] == "messages"))
            counts = self._counts_after(conn, txn, message_keys) if message_keys else None
            upsert = ("INSERT INTO collabd_kv (space, tbl, key, value, summary) VALUES "
                      "(%s, %s, %s, %s, %s) ON CONFLICT (space, tbl, key) DO UPDATE SET "
                      "value = EXCLUDED.value, summary = EXCLUDED.summary")
            # Sent together (a pipeline: one round trip), in order (a delete between
            # puts keeps its place); a value that is not JSON fails, and the whole
            # commit with it. A record keeps beside it what `status` reads.
            rows = [(self.space, op[1], storable(op[2]), Jsonb(storable(op[3])),
                     Json(storable(project(op[3]))) if op[1] == "records" else None)
                    if op[0] == "put" else (self.space, op[1], storable(op[2]))
                    for op in txn.ops]
            with conn.pipeline():
                if len(rows) >= 32 and all(op[0] == "put" for op in txn.ops):
                    with conn.cursor() as cur:  # (a bulk load)
                        cur.executemany(upsert, rows)
                else:
                    for values in rows:
                        if len(values) == 5:
                            conn.execute(upsert, values)
                        else:
                            conn.execute("DELETE FROM collabd_kv WHERE space = %s AND "
                                         "tbl = %s AND key = %s", values)
                if txn.settles:  # (the journal rows of the messages it processed)
                    conn.execute("DELETE FROM collabd_journal WHERE space = %s AND "
                                 "id = ANY(%s)", (self.space, txn.settles))
                if counts is not None:
                    conn.execute(upsert, (self.space, "meta", COUNTS_KEY, Jsonb(
                        {"processed": counts[0], "sent": counts[1]}), None))
        self.settled.update(txn.settles)
        self.seq = int(row[0])
        return self.seq

    def _counts_after(self, conn: Any, txn: Txn, message_keys: list[str]) -> list[int]:
        """The message counts once `txn` is applied: the kept counts and the entries it
        replaces, read in one statement (inside the commit, the space's row locked)."""
        found = conn.execute(
            "SELECT tbl, key, value FROM collabd_kv WHERE space = %s AND ((tbl = 'meta' "
            "AND key = %s) OR (tbl = 'messages' AND key = ANY(%s)))",
            (self.space, COUNTS_KEY, message_keys)).fetchall()
        kept = next((v for t, _, v in found if t == "meta"), None)
        current: dict[str, Any] = {k: v for t, k, v in found if t == "messages"}
        if isinstance(kept, dict):
            counts = [int(kept.get("processed", 0)), int(kept.get("sent", 0))]
        else:  # a state from before the counts were kept: counted once
            counts = [0, 0]
            for (entry,) in conn.execute("SELECT value FROM collabd_kv WHERE space = %s "
                                         "AND tbl = 'messages'", (self.space,)).fetchall():
                p, sent = _counted(entry)
                counts = [counts[0] + p, counts[1] + sent]
        for op in txn.ops:
            if op[1] != "messages":
                continue
            key = storable(op[2])
            before = _counted(current.get(key))
            after = _counted(op[3]) if op[0] == "put" else before
            counts = [c + b - a for c, a, b in zip(counts, before, after, strict=True)]
            current[key] = op[3] if op[0] == "put" else current.get(key)
        return counts

    @contextlib.contextmanager
    def bulk(self) -> Iterator[None]:
        """Within: every commit is part of one transaction, all or nothing (`collabd
        store import`: a failure halfway leaves the store empty, to import again)."""
        with self._lock, self._guard(), self._conn.transaction():
            yield

    def analyze(self) -> None:
        """After a bulk load (`collabd store import`): the planner's statistics now, not
        when autovacuum gets to the new rows (lookups meanwhile take milliseconds)."""
        with self._lock, self._guard():
            self._conn.execute("VACUUM ANALYZE collabd_kv")
            self._conn.execute("VACUUM ANALYZE collabd_journal")

    # The embedded store's checkpointing has no counterpart: PostgreSQL keeps its own.
    def sync(self) -> None:
        return None

    def checkpoint_due(self) -> bool:
        return False

    def checkpoint(self, *, force: bool = False, background: bool = False) -> None:
        return None

    def poll_checkpoint(self) -> None:
        return None
