"""The archive (归档): closed records out of the working set, in files of 1,000.

A record's file follows from its id: XQ-2026-12345 lives in `archive/XQ-2026/0012.json`
with XQ-2026-12000 … XQ-2026-12999. Archiving rewrites only the files of the records
it moves (at most 1,000 records each), and reading one record reads one such file: both
cost the same at 100 archived records as at 100,000. Archives written by earlier
versions (`archive/<year>.json`, a whole year in one file) are still read.

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

from tinydb import Query
from tinydb.table import Document

from collabd.store.derived import key_bytes, key_of
from collabd.store.fsutil import fsync_dir
from collabd.store.tinystore import AtomicJSONStorage, CollabdTinyDB

_YEAR = re.compile(r"-(\d{4})-")
_ID = re.compile(r"^([A-Z]{2,4})-(\d{4})-(\d{1,9})$")
TABLE = "records"
MESSAGES = "messages"
PER_FILE = 1000


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
            (self.dir / name).parent.mkdir(parents=True, exist_ok=True)
            with self._db(name) as db:
                table = db.table(TABLE)
                ids = {r["id"] for r in batch}
                present = [doc.doc_id for doc in table.all() if doc.doc_id in ids]
                if present:
                    table.remove(doc_ids=present)
                table.insert_multiple(Document(r, doc_id=r["id"]) for r in batch)
                entries = entries_by_file.get(name)
                if entries:
                    index = db.table(MESSAGES)
                    # One read of the table (contains() would read the file per id).
                    present = [d.doc_id for d in index.all() if d.doc_id in entries]
                    if present:
                        index.remove(doc_ids=present)
                    index.insert_multiple(
                        Document(e, doc_id=m)  # type: ignore[arg-type]
                        for m, e in entries.items())
        if messages:
            self._add_to_buckets(messages)
        return sum(len(b) for b in by_file.values())

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
        name = chunk_of(record_id)
        if not (self.dir / f"{name}.json").exists():
            return {}
        with self._db(name) as db:
            docs = db.table(MESSAGES).all()
        return {str(d.doc_id): dict(d) for d in docs if d.get("record") == record_id}

    def get(self, record_id: str) -> dict[str, Any] | None:
        for name in (chunk_of(record_id), _year_of(record_id)):  # then a legacy year file
            if not (self.dir / f"{name}.json").exists():
                continue
            with self._db(name) as db:
                doc = db.table(TABLE).get(doc_id=record_id)
            if doc is not None:
                return dict(doc)
        return None

    def get_with_messages(self, record_id: str) -> tuple[dict[str, Any] | None,
                                                         dict[str, dict[str, Any]]]:
        """An archived record and its message-index entries, from one read of its file
        (`collabd show`)."""
        path = self.dir / f"{chunk_of(record_id)}.json"
        data = AtomicJSONStorage(path).read() if path.exists() else None
        if data is None or record_id not in data.get(TABLE, {}):
            return self.get(record_id), {}  # not there, or in a legacy year file
        messages = {mid: entry for mid, entry in data.get(MESSAGES, {}).items()
                    if entry.get("record") == record_id}
        return dict(data[TABLE][record_id]), messages

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
