"""The record store: in-memory tables, a write-ahead log, TinyDB files as checkpoints.

TinyDB rewrites its whole file on every write, which is linear in the size of the
store. So a commit here is one fsynced line in the write-ahead log (the cost does not
depend on how many records exist), applied to in-memory tables; the TinyDB files are
checkpoints written in batches (every few thousand commits, every few minutes when
something changed, and at shutdown). Each table file remembers the log position it
holds, so replay after a crash applies exactly the entries it lacks and is idempotent.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from collabd.store import derived
from collabd.store.derived import Unavailable
from collabd.store.errors import StateDamaged, StateTooNew
from collabd.store.fsutil import atomic_write, remove_stale_temps
from collabd.store.tinystore import AtomicJSONStorage
from collabd.store.wal import CommitMark, Op, WriteAheadLog

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
TABLES = ("records", "messages", "outbox", "meta")
META_TABLE = "_checkpoint"
# Which log position each table file is good through. A table file is rewritten only when
# it changed; the manifest records that the unchanged ones are still current, so the log
# before the checkpoint can be dropped without rewriting every file.
MANIFEST = "checkpoint.json"

# Checkpoint when this much has been logged since the last one (or on idle/shutdown).
CHECKPOINT_EVERY_COMMITS = 5000
CHECKPOINT_EVERY_SECONDS = 300.0
KEEP_BACKUPS = 5
# The meta entry that counts the message index (inbound processed, outbound sent): kept
# by every commit that changes the index, so `status` reads two numbers, not the index.
COUNTS_KEY = "_message_counts"
# Tables the daemon keeps encoded in memory (see Store).
ENCODED = frozenset({"records", "messages"})
# A table the summary reader does not load: no log entry is applied to it.
_SKIPPED = 1 << 62


def encode(value: Any) -> bytes:
    """A value as the JSON bytes it is kept as. Copied to its exact size: orjson hands
    back bytes that keep a 4 KiB buffer, whatever the length (a 400-byte message-index
    entry would hold ten times its size, for as long as it is kept)."""
    return bytes(memoryview(orjson.dumps(value)))


def _counted(entry: Any) -> tuple[int, int]:
    """What one message-index entry adds to (processed, sent)."""
    if not isinstance(entry, dict):
        return 0, 0
    if entry.get("dir") == "in":
        return 1, 0
    if entry.get("dir") == "out" and entry.get("sent") and not entry.get("alias_of"):
        return 0, 1  # an alias (the id Exchange gave it) is the same message
    return 0, 0


@dataclass
class Txn:
    """Changes that commit together: record updates and the outbox entries they cause."""

    ops: list[Op] = field(default_factory=list)
    # Journal rows this commit settles (PostgreSQL, whose journal is in the same
    # database: deleted in the same transaction). The embedded store's journal is files,
    # settled after the commit is durable (Daemon._settle).
    settles: list[int] = field(default_factory=list)

    def put(self, table: str, key: str, value: Mapping[str, Any]) -> None:
        if table not in TABLES:
            raise KeyError(f"unknown table {table!r}")
        self.ops.append(["put", table, key, value])

    def delete(self, table: str, key: str) -> None:
        if table not in TABLES:
            raise KeyError(f"unknown table {table!r}")
        self.ops.append(["del", table, key])

    def __bool__(self) -> bool:
        return bool(self.ops or self.settles)


class Store:
    """All durable records of one state directory.

    The daemon keeps the records and the message index encoded: a value written by
    the last checkpoint stays in its table file and the table holds where it lies (an
    int, `derived.handle`; the file is kept open, and a checkpoint writes a new file,
    never this one), a value changed since is held as the JSON bytes it will be
    written as. `get`/`values` read and decode a fresh copy. So the daemon's memory
    does not grow with what it stores, only with what changed since the last
    checkpoint. The other tables, and every table of a read-only store, are kept as
    objects and handed out as they are. Either way callers treat values as read-only
    and commit changed copies.
    """

    # Commits may share one fdatasync (commit(sync=False), then sync()).
    group_commit = True

    def __init__(self, state_dir: Path, *, readonly: bool = False,
                 summary: bool = False) -> None:
        """`summary=True` (read-only): the records table holds `derived.project`ions
        read from summary.json and the log, the message index is not loaded; opening
        raises derived.Unavailable when the summary cannot serve."""
        self.state_dir = state_dir
        self.summary = summary and readonly
        self._encoded = frozenset() if readonly else ENCODED
        # records: each record's `derived.project`ion, encoded (for summary.json)
        self._projection: dict[str, bytes] = {}
        # messages: record id ('' for none) → keys of its message-index entries
        self._groups: dict[str, list[str]] = {}
        self.db_dir = state_dir / "db"
        self.backup_dir = self.db_dir / "backups"
        self.readonly = readonly
        self.wal = WriteAheadLog(self.db_dir / "wal")
        self.mark = CommitMark(self.db_dir / "committed")
        self._file_sha: dict[str, str] = {}
        self._tables: dict[str, dict[str, Any]] = {t: {} for t in TABLES}
        self._table_seq: dict[str, int] = dict.fromkeys(TABLES, 0)
        self._file_seq: dict[str, int] = dict.fromkeys(TABLES, 0)
        self._dirty: set[str] = set()
        # records table: kind → keys, so that "every meeting" does not scan every record
        self._kinds: dict[str, set[str]] = {}
        # records table: key → its place in the table's order (the order a scan sees)
        self._position: dict[str, int] = {}
        self._positions_built = False
        self._next_position = 0
        self._kinds_built = False
        self.seq = 0
        self._since_checkpoint = 0
        self._last_checkpoint = 0.0
        self._opened = False
        self._unsynced = False
        self._counts: list[int] | None = None
        self._summary_sha: str | None = None
        self._in_flight: _Checkpoint | None = None
        self._memo: dict[tuple[str, str], Any] | None = None
        # encoded tables: the open checkpoint file their int values point into
        self._fd: dict[str, int] = {}

    # -- opening ------------------------------------------------------------------

    def storage(self, table: str) -> AtomicJSONStorage:
        return AtomicJSONStorage(
            self.db_dir / f"{table}.json", backup_dir=self.backup_dir, keep=KEEP_BACKUPS
        )

    def open(self) -> Store:
        if self.readonly:
            # The daemon may checkpoint while we read; retry until the files and the log
            # we read fit together.
            for _ in range(10):
                try:
                    self._load()
                    break
                except _LogGap:
                    time.sleep(0.05)
            else:
                raise StateDamaged(
                    "the write-ahead log does not reach back to the table files",
                    recovery="run the command again; if it persists, stop the daemon first.",
                )
        else:
            self.db_dir.mkdir(parents=True, exist_ok=True)
            remove_stale_temps(self.db_dir)
            fresh = self._is_fresh()
            try:
                self._load()
            except _LogGap as gap:
                raise StateDamaged(
                    str(gap),
                    recovery=(
                        "restore the state directory from a backup taken together with its "
                        "db/wal folder."
                    ),
                ) from None
            self._check_mark()
            self.wal.open_for_append(self.seq + 1)
            if self.get("meta", COUNTS_KEY) is None and self._tables["messages"]:
                # A state from before the counts were kept: count once, keep from now on.
                counts = self.message_counts()
                txn = Txn()
                txn.put("meta", COUNTS_KEY, {"processed": counts[0], "sent": counts[1]})
                self.commit(txn)
            if fresh or not all(p.exists() for p in self._derived_files()):
                self.checkpoint(force=True)
        self._last_checkpoint = time.monotonic()
        self._opened = True
        return self

    def _derived_files(self) -> list[Path]:
        return [self.db_dir / derived.SUMMARY, derived.summary_index_path(self.db_dir),
                derived.index_path(self.db_dir, "records"),
                derived.index_path(self.db_dir, "messages"),
                derived.keys_index_path(self.db_dir, "messages")]

    def _check_mark(self) -> None:
        """Refuse a log that ends before the last commit recorded outside it."""
        marked = self.mark.read()
        if marked is None or marked <= self.seq:
            return
        lost = marked - self.seq
        raise StateDamaged(
            f"the write-ahead log ends at entry {self.seq}, but entry {marked} was committed "
            f"({self.mark.path}): {lost} committed change(s), entries {self.seq + 1} to "
            f"{marked}, are missing from {self.wal.directory} (a log segment was truncated "
            "or deleted)",
            recovery=(
                "restore db/wal from a backup that holds those entries. If none exists, "
                "accept the loss knowingly with\n"
                "    collabd store accept-loss\n"
                f"which starts from entry {self.seq}: the records, sent messages and id "
                f"counters of the {lost} lost change(s) are gone (acknowledgements already "
                "mailed for them name ids that may be issued again); messages still in "
                "state/queue are processed again."
            ),
        )

    def accept_loss(self) -> tuple[int, int | None]:
        """Read the state as its files and log have it, and make the commit mark agree
        with the log (after a loss the operator accepts; the caller holds the lock).
        Returns (log position, the mark it replaces). Raises StateDamaged for any
        other damage."""
        self._load()
        marked = self.mark.read()
        self.mark.write(self.seq)
        self.mark.close()
        return self.seq, marked

    def _is_fresh(self) -> bool:
        has_tables = any((self.db_dir / f"{t}.json").exists() for t in TABLES)
        return not has_tables and self.wal.first_available_seq() is None

    def _read_manifest(self) -> dict[str, dict[str, int]]:
        path = self.db_dir / MANIFEST
        try:
            data = json.loads(path.read_bytes())
        except FileNotFoundError:
            return {}
        except ValueError:
            # Only an optimisation: without it every table replays from its own position.
            log.warning("%s is unreadable; replaying the log from each table's own position",
                        path)
            return {}
        tables = data.get("tables", {}) if isinstance(data, dict) else {}
        return tables if isinstance(tables, dict) else {}

    def _verify(self, table: str, known: dict[str, Any], file_seq: int,
                storage: AtomicJSONStorage, raw: bytes | None = None) -> None:
        """A table file that claims to be the checkpoint the manifest recorded must be
        that very file: rewritten by hand or disk (valid JSON, other content), it is
        refused, with the way back. `raw`: its bytes, when the caller has read them."""
        expected = known.get("sha256")
        if not expected or known.get("file_seq") != file_seq:
            return
        if raw is None:
            raw = storage.path.read_bytes()
        actual = hashlib.sha256(raw).hexdigest()
        if actual != expected:
            raise StateDamaged(
                f"{storage.path} does not match the checksum recorded when it was written "
                f"(checkpoint at entry {file_seq}, {self.db_dir / MANIFEST}): it was changed "
                "since",
                recovery=storage.recovery_hint(),
            )
        self._file_sha[table] = actual

    def _load(self) -> None:
        fresh = self._is_fresh()
        manifest = self._read_manifest()
        for table in TABLES:
            if self.summary and table in ("records", "messages"):
                self._load_summary(table, manifest)
                continue
            storage = self.storage(table)
            known = manifest.get(table, {})
            if table in self._encoded:
                file_seq = self._read_encoded(table, storage, known, fresh)
            else:
                data = storage.read()
                if data is None:
                    if not fresh and not self.readonly:
                        raise StateDamaged(
                            f"{storage.path} is missing while the rest of the state exists",
                            recovery=storage.recovery_hint(),
                        )
                    data = {}
                meta = data.get(META_TABLE, {}).get("checkpoint", {})
                self._check_schema(storage, int(meta.get("schema", SCHEMA_VERSION)))
                self._tables[table] = data.get(table, {})
                file_seq = int(meta.get("wal_seq", 0))
                if not self.readonly:
                    self._verify(table, known, file_seq, storage)
            # The manifest vouches for the file only if it is the very file it saw (a
            # restored older copy has another log position, and replays from there).
            if known.get("file_seq") == file_seq:
                self._table_seq[table] = max(file_seq, int(known.get("through", 0)))
            else:
                self._table_seq[table] = file_seq
            self._file_seq[table] = file_seq
        low = min(v for v in self._table_seq.values())
        first = self.wal.first_available_seq()
        if self.summary and first is not None and first > low + 1:
            raise derived.Unavailable("the log does not reach back to the summary")
        if first is not None and first > low + 1:
            raise _LogGap(
                f"the write-ahead log starts at entry {first} but {self.db_dir} holds tables "
                f"only up to entry {low}"
            )
        self.seq = max(v for v in self._table_seq.values() if v != _SKIPPED)
        for entry in self.wal.read(after=low, repair=not self.readonly):
            self._apply(entry.ops, entry.seq, replay=True)
            self.seq = max(self.seq, entry.seq)
            self._since_checkpoint += 1

    @staticmethod
    def _check_schema(storage: AtomicJSONStorage, schema: int) -> None:
        if schema > SCHEMA_VERSION:
            raise StateTooNew(
                f"{storage.path} was written by a newer collabd (state schema {schema}, "
                f"this version knows {SCHEMA_VERSION}); upgrade collabd to run on it."
            )

    def _read_encoded(self, table: str, storage: AtomicJSONStorage, known: dict[str, Any],
                      fresh: bool) -> int:
        """Load a table the daemon keeps encoded; returns the log position of its file.

        A file the manifest vouches for (same position, same SHA-256) is cut into its
        values where its index says, nothing decoded; any other (an older copy put
        back, a file from before the index, an index that does not fit) is decoded
        and its values encoded again."""
        try:
            fd = os.open(storage.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            if not fresh:
                raise StateDamaged(
                    f"{storage.path} is missing while the rest of the state exists",
                    recovery=storage.recovery_hint(),
                ) from None
            self._tables[table] = {}
            return 0
        try:
            return self._read_encoded_from(table, storage, known, fd)
        finally:
            if self._fd.get(table) != fd:
                os.close(fd)  # decoded, or refused: nothing is read from it later

    def _read_encoded_from(self, table: str, storage: AtomicJSONStorage,
                           known: dict[str, Any], fd: int) -> int:
        # Read through the descriptor that is kept: the bytes verified below are those
        # of the very file the values will be read from.
        with open(fd, "rb", closefd=False) as fh:
            raw = fh.read()
        values: dict[str, Any] | None = None
        found = derived.trailer(raw)
        file_seq = found[0] if found else -1
        if found is not None and known.get("file_seq") == file_seq and known.get("sha256"):
            self._check_schema(storage, found[1])
            self._verify(table, known, file_seq, storage, raw)
            try:
                if table == "records":
                    values = derived.places(table, raw, derived.index_path(self.db_dir, table))
                else:
                    offsets: list[int] = []
                    values = derived.places(table, raw, derived.keys_index_path(
                        self.db_dir, table), offsets)
                    self._groups = derived.groups_of(raw, derived.index_path(
                        self.db_dir, table), values, offsets)
            except Unavailable:
                values = None
        sliced = values is not None
        if sliced:
            self._keep_file(table, fd)
        else:
            # Its indexes did not serve: the next checkpoint writes them anew.
            self._dirty.add(table)
            data = storage.decode(raw)
            meta = data.get(META_TABLE, {}).get("checkpoint", {})
            self._check_schema(storage, int(meta.get("schema", SCHEMA_VERSION)))
            file_seq = int(meta.get("wal_seq", 0))
            self._verify(table, known, file_seq, storage, raw)
            values = {k: encode(v) for k, v in data.get(table, {}).items()}
            del data
        del raw
        assert values is not None
        self._tables[table] = values
        if table == "records":
            self._projection = self._projections_from_summary(known, file_seq, values)
        elif not sliced:
            self._groups = {}
            for key, value in values.items():
                self._groups.setdefault(derived.message_group(orjson.loads(value)),
                                        []).append(key)
        return file_seq

    def _keep_file(self, table: str, fd: int) -> None:
        """From now on the table's int values point into the file open as `fd`."""
        old = self._fd.pop(table, None)
        if old is not None:
            os.close(old)
        self._fd[table] = fd

    def _bytes(self, table: str, value: Any) -> bytes:
        """An encoded table's value as its JSON bytes (read from the checkpoint file
        when that is where it is)."""
        return _value_bytes(self._fd.get(table), value)

    def _projections_from_summary(self, known: dict[str, Any], file_seq: int,
                                  values: dict[str, Any]) -> dict[str, bytes]:
        """Each record's projection: cut from summary.json when the manifest vouches for
        it (same SHA-256, same position, same records), else computed one by one (a
        decoded summary would leave the heap fragmented: hundreds of megabytes)."""
        try:
            data = (self.db_dir / derived.SUMMARY).read_bytes()
            if known.get("summary_sha256") == hashlib.sha256(data).hexdigest():
                found = derived.trailer(data)
                projections = derived.slices("records", data,
                                             derived.summary_index_path(self.db_dir))
                if found and found[0] == file_seq and projections.keys() == values.keys():
                    self._summary_sha = known["summary_sha256"]
                    return projections
        except (OSError, Unavailable):
            pass
        self._dirty.add("records")  # the next checkpoint writes the summary anew
        loads, read = orjson.loads, self._bytes
        return {k: encode(derived.project(loads(read("records", v))))
                for k, v in values.items()}

    def _load_summary(self, table: str, manifest: dict[str, dict[str, int]]) -> None:
        if table == "messages":
            self._tables[table] = {}
            self._table_seq[table] = _SKIPPED
            return
        seq, records = derived.read_summary(self.db_dir)
        known = manifest.get(table, {})
        self._tables[table] = records
        self._table_seq[table] = (max(seq, int(known.get("through", 0)))
                                  if known.get("file_seq") == seq else seq)
        self._file_seq[table] = seq

    def _apply(self, ops: list[Op], seq: int, *, replay: bool, copy: bool = False) -> None:
        """Apply log entries to the tables. `copy`: the values are the caller's objects
        (a commit), so what is kept must not share them."""
        for op in ops:
            table = op[1]
            if replay and seq <= self._table_seq[table]:
                continue  # already in this table's checkpoint
            if table in self._encoded:
                self._apply_encoded(op)
                self._dirty.add(table)
                continue
            if self.summary and op[0] == "put" and table == "records":
                op = [op[0], table, op[2], derived.project(op[3])]
            elif copy and op[0] == "put":
                op = [op[0], table, op[2], orjson.loads(orjson.dumps(op[3]))]
            if op[0] == "put":
                if table == "records" and self._positions_built and (
                        op[2] not in self._tables[table]):
                    self._position[op[2]] = self._next_position
                    self._next_position += 1
                self._tables[table][op[2]] = op[3]
                if table == "records":
                    self._index_kind(op[2], op[3])
            else:
                old = self._tables[table].pop(op[2], None)
                if table == "records" and isinstance(old, dict):
                    self._kinds.get(old.get("kind", ""), set()).discard(op[2])
                    self._position.pop(op[2], None)
            self._dirty.add(table)

    def _apply_encoded(self, op: Op) -> None:
        kind, table, key = op[0], op[1], op[2]
        if self._memo is not None:
            self._memo.pop((table, key), None)
        values = self._tables[table]
        old = values.get(key)
        if kind == "put":
            value = op[3]
            values[key] = encode(value)
            if table == "records":
                if self._positions_built and old is None:
                    self._position[key] = self._next_position
                    self._next_position += 1
                self._projection[key] = encode(derived.project(value))
                self._index_kind(key, value)
            else:
                group = derived.message_group(value)
                if old is not None:
                    before = derived.message_group(orjson.loads(self._bytes(table, old)))
                    if before == group:
                        return
                    self._ungroup(before, key)
                self._groups.setdefault(group, []).append(key)
            return
        if old is None:
            return
        del values[key]
        if table == "records":
            self._projection.pop(key, None)
            self._position.pop(key, None)
            for keys in self._kinds.values():
                keys.discard(key)
        else:
            self._ungroup(derived.message_group(orjson.loads(self._bytes(table, old))), key)

    def _ungroup(self, group: str, key: str) -> None:
        keys = self._groups.get(group)
        if keys is not None:
            keys.remove(key)
            if not keys:
                del self._groups[group]

    def _index_kind(self, key: str, record: Any) -> None:
        kind = record.get("kind", "") if isinstance(record, dict) else ""
        self._kinds.setdefault(kind, set()).add(key)

    def keys_of_kind(self, kind: str) -> list[str]:
        """Keys of the records of one kind (requests, meetings, tasks…), in key order."""
        if not self._kinds_built:
            if "records" in self._encoded:
                for key, projection in self._projection.items():
                    self._index_kind(key, orjson.loads(projection))
            else:
                for key, record in self._tables["records"].items():
                    self._index_kind(key, record)
            self._kinds_built = True
        return sorted(self._kinds.get(kind, ()))

    def in_record_order(self, keys: Iterable[str]) -> list[str]:
        """The records among `keys`, in the order a scan of the records table meets them."""
        if not self._positions_built:
            self._position = {k: i for i, k in enumerate(self._tables["records"])}
            self._next_position = len(self._position)
            self._positions_built = True
        return sorted((k for k in keys if k in self._position), key=self._position.__getitem__)

    # -- reading ------------------------------------------------------------------

    def get(self, table: str, key: str) -> Any | None:
        value = self._tables[table].get(key)
        if value is not None and table in self._encoded:
            memo = self._memo
            if memo is None:
                return orjson.loads(self._bytes(table, value))
            found = memo.get((table, key))
            if found is None:
                found = memo[(table, key)] = orjson.loads(self._bytes(table, value))
            return found
        return value

    def reading(self) -> contextlib.AbstractContextManager[None]:
        """Within: a value read twice is decoded once, and the same object is handed out
        (a tick reads each due record in the workflow, then again to plan it). What a
        commit changes is forgotten at once."""
        return remembering(self)

    def values(self, table: str) -> Iterable[Any]:
        if table in self._encoded:
            loads, read = orjson.loads, self._bytes
            return (loads(read(table, v)) for v in self._tables[table].values())
        return self._tables[table].values()

    def items(self, table: str) -> Iterator[tuple[str, Any]]:
        if table in self._encoded:
            loads, read = orjson.loads, self._bytes
            return ((k, loads(read(table, v))) for k, v in self._tables[table].items())
        return iter(self._tables[table].items())

    def group_keys(self, record_id: str) -> list[str]:
        """Keys of the message-index entries of one record (the daemon's store)."""
        return list(self._groups.get(record_id, ()))

    def count(self, table: str) -> int:
        return len(self._tables[table])

    # -- writing ------------------------------------------------------------------

    def commit(self, txn: Txn, *, sync: bool = True) -> int:
        """Make `txn` durable (one fdatasync) and visible. Returns its log position.

        `sync=False` (group commit): visible at once, durable at the next `sync()` or
        synced commit. Whoever defers must not let anything out of the process that
        depends on it (mail sent, a journal entry removed, a server acknowledged) before
        that: a crash in between loses the unsynced tail, which is then redone."""
        if self.readonly:
            raise RuntimeError("store opened read-only")
        if not txn.ops:
            return self.seq
        seq = self.seq + 1
        ops = txn.ops
        counts = self._counts_after(ops)
        if counts is not None:
            ops = [*ops, ["put", "meta", COUNTS_KEY, {"processed": counts[0],
                                                      "sent": counts[1]}]]
        self.wal.append(seq, ops, sync=sync)
        if counts is not None:
            self._counts = counts  # only once written: a failed commit counts nothing
        if sync:
            # The mark never runs ahead of what the log has made durable.
            self.mark.write(seq)
        else:
            self._unsynced = True
        # The in-memory tables never share objects with the caller, and hold exactly
        # what a replay of the line would produce.
        self._apply(ops, seq, replay=False, copy=True)
        self.seq = seq
        self._since_checkpoint += 1
        return seq

    def _counts_after(self, ops: list[Op]) -> list[int] | None:
        """The message counts once `ops` are applied, if they change the index."""
        if not any(op[1] == "messages" for op in ops):
            return None
        if self._counts is None:
            self._counts = self.message_counts()
        counts = list(self._counts)
        pending: dict[str, Any] = {}
        for op in ops:
            if op[1] != "messages":
                continue
            key = op[2]
            if op[0] != "put":
                # Counted ever since: an entry that leaves for the archive stays counted.
                pending[key] = None
                continue
            old = pending[key] if key in pending else self.get("messages", key)
            new = op[3]
            pending[key] = new
            for i, (a, b) in enumerate(zip(_counted(old), _counted(new), strict=True)):
                counts[i] += b - a
        return counts

    def message_counts(self) -> list[int]:
        """[inbound messages processed, outbound messages sent] ever: as kept in `meta`
        (COUNTS_KEY) by every commit that adds to the message index; counted from the
        index itself for a state from before they were kept."""
        kept = self.get("meta", COUNTS_KEY)
        if isinstance(kept, dict) or self.summary:
            kept = kept or {}
            return [int(kept.get("processed", 0)), int(kept.get("sent", 0))]
        processed = sent = 0
        for entry in self.values("messages"):
            p, s = _counted(entry)
            processed += p
            sent += s
        return [processed, sent]

    def check_lead(self) -> None:
        """The state directory's lock makes this process the only one (PgStore checks
        its leadership here)."""
        return None

    def describe(self) -> str:
        return str(self.state_dir)

    def sync(self) -> None:
        """Make every commit so far durable (one fdatasync for a whole batch)."""
        if self._unsynced:
            self.wal.sync()
            self.mark.write(self.seq)
            self._unsynced = False

    def checkpoint_due(self) -> bool:
        if not self._dirty or self._in_flight is not None:
            return False
        if self._since_checkpoint >= CHECKPOINT_EVERY_COMMITS:
            return True
        return time.monotonic() - self._last_checkpoint >= CHECKPOINT_EVERY_SECONDS

    def checkpoint(self, *, force: bool = False, background: bool = False) -> None:
        """Write every changed table file at the current log position.

        `background`: the files are written by a thread while commits go on (at
        100,000 records that is seconds of disk writing); `poll_checkpoint` completes
        it. What is written is a snapshot: the encoded values are immutable bytes, so
        copying the tables' dicts is enough, and every later commit goes to a new log
        segment. Until the manifest is written the previous checkpoint stays the one
        a start relies on."""
        if self.readonly:
            return
        self.finish_checkpoint()
        self.sync()
        seq = self.seq
        tables = TABLES if force else tuple(t for t in TABLES if t in self._dirty)
        jobs: list[tuple[str, AtomicJSONStorage, Any]] = []
        for table in tables:
            storage = self.storage(table)
            storage.backup_tag = f"{self._file_seq[table]:012d}"
            if table in self._encoded:
                jobs.append((table, storage, self._snapshot(table)))
            else:
                jobs.append((table, storage, orjson.dumps({
                    table: self._tables[table],
                    META_TABLE: {"checkpoint": {"wal_seq": seq, "schema": SCHEMA_VERSION}},
                })))
        self._dirty.clear()
        self._since_checkpoint = 0
        self._last_checkpoint = time.monotonic()
        self.wal.rotate(seq + 1)

        def write() -> dict[str, _Written]:
            written: dict[str, _Written] = {}
            try:
                for table, storage, data in jobs:
                    if isinstance(data, bytes):
                        written[table] = _Written(storage.write_payload(data))
                    else:
                        written[table] = self._write_encoded(table, storage, seq, data)
            except BaseException:
                for done in written.values():
                    if done.fd is not None:
                        os.close(done.fd)
                raise
            return written

        if not background:
            self._finalize(seq, write())
            return
        job = _Checkpoint(seq, write)
        self._in_flight = job
        job.start()

    def poll_checkpoint(self) -> None:
        """Complete a background checkpoint whose files are written (raises what
        writing them raised)."""
        if self._in_flight is not None and not self._in_flight.is_alive():
            self.finish_checkpoint()

    def finish_checkpoint(self) -> None:
        """Wait for a background checkpoint and complete it."""
        job, self._in_flight = self._in_flight, None
        if job is None:
            return
        job.join()
        if job.error is not None:
            self._dirty.update(TABLES)  # written again by the next checkpoint
            raise job.error
        self._finalize(job.seq, job.result)

    def _finalize(self, seq: int, written: dict[str, _Written]) -> None:
        for table, done in written.items():
            self._file_sha[table] = done.sha
            self._file_seq[table] = seq
            if done.summary_sha is not None:
                self._summary_sha = done.summary_sha
            if done.fd is not None:
                # What is unchanged since the snapshot now lives in the new file only.
                values = self._tables[table]
                for key, place in done.places.items():
                    if values.get(key) is done.snapshot[key]:
                        values[key] = place
                self._keep_file(table, done.fd)
        for table in TABLES:
            self._table_seq[table] = seq
        self.mark.sync()
        manifest = {t: {"file_seq": self._file_seq[t], "through": seq,
                        **({"sha256": self._file_sha[t]} if t in self._file_sha else {})}
                    for t in TABLES}
        if self._summary_sha is not None:
            manifest["records"]["summary_sha256"] = self._summary_sha
        atomic_write(self.db_dir / MANIFEST,
                     json.dumps({"tables": manifest}, indent=1).encode("utf-8"))
        # Keep the log back to the oldest kept copy, so restoring any kept copy of a
        # table and replaying the log loses nothing.
        oldest = seq
        for table in TABLES:
            for backup in self.storage(table).backups():
                oldest = min(oldest, int(backup.name.split(".")[-2]))
        self.wal.drop_segments_before(oldest)

    def _snapshot(self, table: str) -> tuple[dict[str, Any], Any, int | None]:
        values = dict(self._tables[table])
        fd = self._fd.get(table)
        if table == "records":
            return values, dict(self._projection), fd
        return values, {g: list(keys) for g, keys in self._groups.items()}, fd

    def _write_encoded(self, table: str, storage: AtomicJSONStorage, seq: int,
                       snapshot: tuple[dict[str, Any], Any, int | None]) -> _Written:
        """Write a table from a snapshot of its encoded values, laid out so that `show`
        and the next start read slices of it (derived.py), with its indexes (and the
        summary); the new file is opened for the values to be read from it. Touches
        nothing in memory: it may run in a thread."""
        values, extra, fd = snapshot

        if table == "records":
            entries: Iterable[tuple[str, str | None, bytes]] = (
                (k, None, _value_bytes(fd, v)) for k, v in values.items())
        else:
            entries = ((k, g, _value_bytes(fd, values[k])) for g, keys in extra.items()
                       for k in keys)
        payload, at, groups = derived.layout(table, entries, seq, SCHEMA_VERSION)
        sha = storage.write_payload(payload)
        size = len(payload)
        del payload
        kept = os.open(storage.path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            if os.fstat(kept).st_size != size:  # not the file just written: keep the bytes
                raise OSError(f"{storage.path} changed while it was being written")
            handles = {k: derived.handle(off, length) for k, (off, length) in at.items()}
            summary_sha = self._write_derived(table, seq, size, values, extra, at, groups)
        except BaseException:
            os.close(kept)  # a failed checkpoint holds no file open
            raise
        return _Written(sha, summary_sha, kept, handles, values)

    def _write_derived(self, table: str, seq: int, size: int, values: dict[str, Any],
                       extra: Any, at: dict[str, list[int]], groups: dict[str, list[int]]
                       ) -> str | None:
        """The indexes of a table file just written (and the summary, for records);
        returns the summary's SHA-256."""
        summary_sha = None
        if table == "records":
            atomic_write(derived.index_path(self.db_dir, table),
                         derived.index_bytes(seq, size, at), sync_dir=False)
            summary, places, _ = derived.layout(
                table, ((k, None, extra[k]) for k in values), seq, SCHEMA_VERSION)
            atomic_write(self.db_dir / derived.SUMMARY, summary, sync_dir=False)
            atomic_write(derived.summary_index_path(self.db_dir),
                         derived.index_bytes(seq, len(summary), places), sync_dir=False)
            summary_sha = hashlib.sha256(summary).hexdigest()
        else:
            atomic_write(derived.keys_index_path(self.db_dir, table),
                         derived.index_bytes(seq, size, at), sync_dir=False)
            atomic_write(derived.index_path(self.db_dir, table),
                         derived.index_bytes(seq, size, groups), sync_dir=False)
        return summary_sha

    def close(self) -> None:
        if self._opened and not self.readonly:
            self.checkpoint()  # completes one in flight first
        self.wal.close()
        self.mark.close()
        for fd in self._fd.values():
            os.close(fd)
        self._fd.clear()
        self._opened = False


@contextlib.contextmanager
def remembering(store: Any) -> Iterator[None]:
    """A store's `reading()`: its `_memo` kept for as long as the outermost one lasts."""
    outer = store._memo
    if outer is None:
        store._memo = {}
    try:
        yield
    finally:
        if outer is None:
            store._memo = None


def _value_bytes(fd: int | None, value: Any) -> bytes:
    """A stored value's JSON bytes: itself, or read where it lies in the file `fd`."""
    if value.__class__ is int:
        assert fd is not None, "a value in a table file without the file open"
        return derived.read_at(fd, value)
    return value  # type: ignore[no-any-return]


class _LogGap(Exception):
    pass


@dataclass
class _Written:
    """A table file a checkpoint wrote: its SHA-256 (and the summary's), and for an
    encoded table the file open for reading, where each value lies in it, and the
    snapshot it was written from."""

    sha: str
    summary_sha: str | None = None
    fd: int | None = None
    places: dict[str, int] = field(default_factory=dict)
    snapshot: dict[str, Any] = field(default_factory=dict)


class _Checkpoint(threading.Thread):
    """Table files being written in the background (Store.checkpoint)."""

    def __init__(self, seq: int, write: Callable[[], dict[str, _Written]]) -> None:
        super().__init__(name="collabd-checkpoint", daemon=True)
        self.seq = seq
        self._write = write
        self.result: dict[str, _Written] = {}
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self._write()
        except BaseException as exc:  # handed to the thread that completes it
            self.error = exc
