"""The archive (归档): closed records out of the working set, in files of 1,000.

A record's file follows from its id: XQ-2026-12345 lives in `archive/XQ-2026/0012.json`
with XQ-2026-12000 … XQ-2026-12999. Archiving rewrites only the files of the records
it moves (at most 1,000 records each), and reading one record reads one such file: both
cost the same at 100 archived records as at 100,000. Archives written by earlier
versions (`archive/<year>.json`, a whole year in one file) are still read.

Each file is written in one piece, its message-index entries grouped by record, with
`<file>.idx` beside it: where each record and each record's entries lie, and the
SHA-256 and size of the file it describes. Reading one record (`show`, a late reply)
reads the file, checks it is the one the index describes, and decodes only that
record's slices; a file without a matching index (an older version's, a crash between
the two writes) is decoded whole, as before.

The message-index entries of archived records go with them (table `messages` of the
same file), out of the daemon's memory; `archive/messages/<2 hex>.idx`, append-only
lines `Message-ID<TAB>record id` in 256 buckets by hash, still tell an archived
message by its id (a reply to it, or the same message sent again).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson
from tinydb import Query

from collabd.store import derived
from collabd.store.derived import key_bytes, key_of
from collabd.store.fsutil import atomic_write, fsync_dir
from collabd.store.tinystore import AtomicJSONStorage, CollabdTinyDB

_YEAR = re.compile(r"-(\d{4})-")
_ID = re.compile(r"^((?:[A-Z]{2,6}-)?[A-Z]{2,4})-(\d{4})-(\d{1,9})$")
TABLE = "records"
MESSAGES = "messages"
PER_FILE = 1000
INDEX_MAGIC = b"collabd-archive-index 1"


def _year_of(record_id: str) -> str:
    found = _YEAR.search(record_id)
    return found.group(1) if found else "other"


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as fh:
        fh.seek(-1, os.SEEK_END)
        return fh.read(1) == b"\n"


def chunk_of(record_id: str) -> str:
    """The archive file (relative, without .json) a record belongs in."""
    found = _ID.match(record_id)
    if found is None:
        return "other/0000"
    prefix, year, number = found.groups()
    return f"{prefix}-{year}/{int(number) // PER_FILE:04d}"


class Archive:
    """Records that are closed and old enough; read on demand, written in batches.

    Moving a record here is: write it into its archive file (atomic), then delete it
    from the working set in a store commit. A crash between the two leaves it in both
    places; the working copy wins on read and the next sweep simply archives it again.
    """

    def __init__(self, db_dir: Path) -> None:
        self.dir = db_dir / "archive"

    def _db(self, name: str) -> CollabdTinyDB:
        path = self.dir / f"{name}.json"
        return CollabdTinyDB(path, storage=AtomicJSONStorage,
                             backup_dir=path.parent / "backups", keep=2)

    def files(self) -> list[str]:
        """Every archive file, as names for `_db` (legacy year files first)."""
        if not self.dir.is_dir():
            return []
        legacy = sorted(p.stem for p in self.dir.glob("*.json"))
        chunks = sorted(f"{p.parent.name}/{p.stem}" for p in self.dir.glob("*/*.json")
                        if p.parent.name != "backups")
        return legacy + chunks

    def put_many(self, records: Iterable[dict[str, Any]],
                 messages: dict[str, dict[str, Any]] | None = None) -> int:
        """Archive records, and the message-index entries (Message-ID → entry) that
        belong to them: into the records' files, and each Message-ID into its bucket of
        `messages/` (so that a reply or a resend of an archived message is still known
        by its id: `message`)."""
        by_file: dict[str, list[dict[str, Any]]] = {}
        for record in records:
            by_file.setdefault(chunk_of(record["id"]), []).append(record)
        entries_by_file: dict[str, dict[str, dict[str, Any]]] = {}
        for mid, entry in (messages or {}).items():
            entries_by_file.setdefault(chunk_of(str(entry.get("record"))), {})[mid] = entry
        for name, batch in by_file.items():
            path = self.dir / f"{name}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            data = self._storage(name).read() or {}  # a damaged file is refused
            tables = {table: dict(data.get(table) or {}) for table in (TABLE, MESSAGES)}
            tables.update((t, v) for t, v in data.items() if t not in tables)
            tables[TABLE].update((r["id"], r) for r in batch)
            tables[MESSAGES].update(entries_by_file.get(name) or {})
            self._write(name, tables)
        if messages:
            self._add_to_buckets(messages)
        return sum(len(b) for b in by_file.values())

    def _storage(self, name: str) -> AtomicJSONStorage:
        path = self.dir / f"{name}.json"
        return AtomicJSONStorage(path, backup_dir=path.parent / "backups", keep=2)

    def _write(self, name: str, tables: dict[str, dict[str, Any]]) -> None:
        """One archive file (an ordinary TinyDB file), then its index."""
        grouped: dict[str, list[str]] = {}
        for mid, entry in tables[MESSAGES].items():
            grouped.setdefault(derived.message_group(entry), []).append(mid)
        dumps = orjson.dumps
        layout = [(TABLE, ((k, None, dumps(v)) for k, v in tables[TABLE].items())),
                  (MESSAGES, ((m, g, dumps(tables[MESSAGES][m]))
                              for g, mids in grouped.items() for m in mids))]
        layout += [(t, ((k, None, dumps(v)) for k, v in values.items()))
                   for t, values in tables.items() if t not in (TABLE, MESSAGES)]
        payload, places = derived.layout_tables(layout)
        sha = self._storage(name).write_payload(payload)
        entries = [b"r\t%s\t%d\t%d" % (key_bytes(k), off, length)
                   for k, (off, length) in places[TABLE][0].items()]
        entries += [b"m\t%s\t%d\t%d" % (key_bytes(g), off, length)
                    for g, (off, length) in places[MESSAGES][1].items()]
        lines = [b"%s %d %s %d" % (INDEX_MAGIC, len(payload), sha.encode(), len(entries)),
                 *entries]
        # Not synced on its own: an index lost in a crash describes another file, and
        # is then not used.
        atomic_write(self.dir / f"{name}.idx", b"\n".join(lines) + b"\n", sync_dir=False)

    def _read_indexed(self, name: str) -> tuple[bytes, bytes] | None:
        """An archive file's bytes and its index, if the index describes that file."""
        try:
            index = (self.dir / f"{name}.idx").read_bytes()
            data = (self.dir / f"{name}.json").read_bytes()
        except FileNotFoundError:
            return None
        head = index[: index.find(b"\n")].rsplit(b" ", 3)
        if len(head) != 4 or head[0] != INDEX_MAGIC or not head[1].isdigit() or (
                not head[3].isdigit()):
            return None  # not an index this version wrote, or damaged
        _, size, sha, count = head
        if (int(size) != len(data) or index.count(b"\n") != int(count) + 1
                or hashlib.sha256(data).hexdigest().encode() != sha):
            return None  # it describes another file, or was cut short
        return data, index

    @staticmethod
    def _slice(data: bytes, index: bytes, kind: bytes, key: str) -> bytes | None:
        """The value (r) or the run of entries (m) the index places for `key`; None if
        it has none; ValueError if what it says does not fit the file."""
        needle = b"\n" + kind + b"\t" + key_bytes(key) + b"\t"
        at = index.find(needle)
        if at < 0:
            return None
        end = index.find(b"\n", at + len(needle))
        off, length = (int(n) for n in index[at + len(needle): end].split(b"\t"))
        # A value follows its key; a run begins with its first entry's key.
        before = orjson.dumps(key) + b":" if kind == b"r" else b""
        if (off < len(before) or data[off - len(before): off] != before
                or data[off + length: off + length + 1] not in (b",", b"}")):
            raise ValueError(f"archive index: {key!r} does not fit its file")
        return data[off: off + length]

    def _lookup(self, record_id: str, record: bool, messages: bool
                ) -> tuple[dict[str, Any] | None, dict[str, dict[str, Any]]] | None:
        """From the record's file by its index: (record, its message-index entries),
        or None when the file has no usable index."""
        found = self._read_indexed(chunk_of(record_id))
        if found is None:
            return None
        data, index = found
        try:
            value = self._slice(data, index, b"r", record_id) if record else None
            run = self._slice(data, index, b"m", record_id) if messages else None
            return (orjson.loads(value) if value is not None else None,
                    orjson.loads(b"{" + run + b"}") if run is not None else {})
        except ValueError:  # (JSONDecodeError too) the index is damaged: decode whole
            return None

    # -- archived messages ----------------------------------------------------------

    def _bucket(self, message_id: str) -> Path:
        digest = hashlib.sha1(message_id.encode("utf-8", "surrogatepass")).hexdigest()
        return self.dir / "messages" / f"{digest[:2]}.idx"

    def _add_to_buckets(self, messages: dict[str, dict[str, Any]]) -> None:
        """Append `Message-ID<TAB>record id` lines (append-only: the cost of archiving
        does not grow with the archive; a line written twice after a crash is harmless)."""
        lines: dict[Path, list[bytes]] = {}
        for mid, entry in messages.items():
            lines.setdefault(self._bucket(mid), []).append(
                b"%s\t%s\n" % (key_bytes(mid), key_bytes(str(entry.get("record") or ""))))
        if not lines:
            return
        directory = self.dir / "messages"
        directory.mkdir(parents=True, exist_ok=True)
        for path, batch in lines.items():
            with path.open("ab") as fh:
                if fh.tell() and not _ends_with_newline(path):
                    batch.insert(0, b"\n")  # after a torn append: start a line of our own
                fh.write(b"".join(batch))
                fh.flush()
                os.fsync(fh.fileno())
        fsync_dir(directory)

    def message(self, message_id: str) -> dict[str, Any] | None:
        """The index entry of an archived message, by its Message-ID."""
        path = self._bucket(message_id)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        needle = b"\n" + key_bytes(message_id) + b"\t"
        lines = b"\n" + data
        before = len(lines)
        while (at := lines.rfind(needle, 0, before)) >= 0:
            before = at
            end = lines.find(b"\n", at + len(needle))
            if end < 0:
                continue  # a line torn by a crash while appending
            record_id = key_of(lines[at + len(needle):end])
            found = self.messages_of(record_id).get(message_id)
            if found is not None:
                return found
        return None

    def messages_of(self, record_id: str) -> dict[str, dict[str, Any]]:
        """The archived message-index entries of one record."""
        return self.get_with_messages(record_id, record=False)[1]

    def get(self, record_id: str) -> dict[str, Any] | None:
        return self.get_with_messages(record_id, messages=False)[0]

    def get_with_messages(self, record_id: str, *, record: bool = True,
                          messages: bool = True) -> tuple[dict[str, Any] | None,
                                                          dict[str, dict[str, Any]]]:
        """An archived record and its message-index entries, from one read of its file
        (`collabd show`); `record`/`messages` False: that part is not read."""
        found = self._lookup(record_id, record, messages)
        if found is not None and (found[0] is not None or not record):
            return found
        # Decoded whole: a file without a usable index, then a legacy year file.
        names = [_year_of(record_id)] if found is not None else [chunk_of(record_id),
                                                                  _year_of(record_id)]
        data: dict[str, Any] | None = None
        for name in names:
            path = self.dir / f"{name}.json"
            data = AtomicJSONStorage(path).read() if path.exists() else None
            if data is not None and record_id in (data.get(TABLE) or {}):
                break
        if data is None:
            return None, {}
        entries = {mid: dict(entry) for mid, entry in (data.get(MESSAGES) or {}).items()
                   if isinstance(entry, dict) and entry.get("record") == record_id}
        doc = (data.get(TABLE) or {}).get(record_id)
        return (dict(doc) if isinstance(doc, dict) and record else None), entries

    def items(self, table: str) -> Iterator[tuple[str, Any]]:
        """Every archived record ('archive') or message entry ('archived_messages'),
        file by file (`collabd store export`)."""
        inner = {"archive": TABLE, "archived_messages": MESSAGES}[table]
        for name in self.files():
            data = self._storage(name).read() or {}
            yield from ((str(k), v) for k, v in (data.get(inner) or {}).items())

    def search(self, **equals: Any) -> Iterator[dict[str, Any]]:
        """Archived records whose top-level keys equal the given values."""
        q = Query()
        cond = None
        for key, value in equals.items():
            term = q[key] == value
            cond = term if cond is None else (cond & term)
        for name in self.files():
            with self._db(name) as db:
                table = db.table(TABLE)
                docs = table.all() if cond is None else table.search(cond)
            for doc in docs:
                yield dict(doc)
