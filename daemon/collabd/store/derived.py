"""Files derived from a checkpoint, so that `status` and `show` need not load the state.

At 100,000 open records the table files are hundreds of megabytes: parsing them is
seconds. So each checkpoint also writes, beside the table files:

- `summary.json`: for every record in the working set, the few fields `status` shows
  (`project`), and the log position they are good through. `status` reads it, the
  small outbox and meta tables, and the log after that position.
- `records.idx.json` / `messages.idx.json`: where each record, and each record's
  group of message-index entries, lies in the table file (byte offset and length).
  The table files are written in that layout by `layout`, and stay ordinary TinyDB
  files. `show` reads one slice of each and the log entries that name the record.

They are derived data: never the only copy of anything. A reader that finds one
missing, stale or not matching its table file falls back to loading the state.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from collabd.store.wal import SEGMENT_SUFFIX, Entry, segments

SUMMARY = "summary.json"
MANIFEST = "checkpoint.json"
INDEX_SUFFIX = ".idx.json"
META_TABLE = "_checkpoint"
# What `status` reads of a record: the keys of report.record_summary and report._due.
SUMMARY_KEYS = ("id", "kind", "status", "title", "updated", "waiting_on", "escalation",
                "response_due", "acceptance_due", "due_date", "start")
_TRAILER = re.compile(rb'"wal_seq":(\d+)')


class Unavailable(Exception):
    """A derived file cannot be used (missing, stale, or not matching); load instead."""


def project(record: Any) -> dict[str, Any]:
    """The part of a record `status` needs: a few hundred bytes instead of kilobytes."""
    if not isinstance(record, dict):
        return {}
    out = {k: record[k] for k in SUMMARY_KEYS if k in record}
    if record.get("risk"):
        out["risk"] = True
    minutes = record.get("minutes")
    if isinstance(minutes, dict):
        rounds = minutes.get("rounds") or []
        last = rounds[-1] if rounds and isinstance(rounds[-1], dict) else {}
        out["minutes"] = {"due": minutes.get("due"),
                          "rounds": [{"confirm_due": last.get("confirm_due")}] if rounds else []}
    return out


def message_group(entry: Any) -> str:
    """Which record a message-index entry belongs to ('' for none)."""
    record = entry.get("record") if isinstance(entry, dict) else None
    return record if isinstance(record, str) else ""


def layout(table: str, items: Iterable[tuple[str, Any]], wal_seq: int, schema: int, *,
           group: Any = None) -> tuple[bytes, dict[str, list[int]]]:
    """A TinyDB table file's bytes, and where each value (or each group of entries) lies.

    Without `group`: key → [offset, length] of its value. With `group` (a function of
    the value): entries are written grouped, and group → [offset, length] of the run
    `"key":value,"key":value` (read back by wrapping it in braces)."""
    dumps = orjson.dumps
    parts: list[bytes] = []
    at: dict[str, list[int]] = {}
    head = b'{"' + table.encode() + b'":{'
    parts.append(head)
    pos = len(head)
    first = True
    pairs = list(items)
    if group is not None:
        keyed = sorted(((group(v), k, v) for k, v in pairs), key=lambda t: t[0])
        for name, key, value in keyed:
            piece = (b"" if first else b",") + dumps(key) + b":" + dumps(value)
            start = pos + (0 if first else 1)
            span = at.get(name)
            if span is None:
                at[name] = [start, len(piece) - (0 if first else 1)]
            else:
                span[1] = start + len(piece) - (0 if first else 1) - span[0]
            parts.append(piece)
            pos += len(piece)
            first = False
    else:
        for key, value in pairs:
            kb = dumps(key)
            vb = dumps(value)
            piece = (b"" if first else b",") + kb + b":" + vb
            at[key] = [pos + len(piece) - len(vb), len(vb)]
            parts.append(piece)
            pos += len(piece)
            first = False
    parts.append(b'},"' + META_TABLE.encode() + b'":{"checkpoint":'
                 + dumps({"wal_seq": wal_seq, "schema": schema}) + b"}}")
    return b"".join(parts), at


def index_path(db_dir: Path, table: str) -> Path:
    return db_dir / f"{table}{INDEX_SUFFIX}"


INDEX_MAGIC = b"collabd-index 1"


def index_bytes(file_seq: int, size: int, at: dict[str, list[int]]) -> bytes:
    """One line per key, `\nkey\toffset\tlength`: a lookup is one bytes.find, with
    nothing parsed (a JSON index of 100,000 keys costs 70 ms to load)."""
    lines = [b"%s %d %d" % (INDEX_MAGIC, file_seq, size)]
    lines += [b"%s\t%d\t%d" % (k.encode("utf-8", "surrogatepass"), off, length)
              for k, (off, length) in at.items() if "\t" not in k and "\n" not in k]
    return b"\n".join(lines) + b"\n"


def summary_bytes(seq: int, records: Iterable[tuple[str, Any]]) -> bytes:
    return orjson.dumps({"seq": seq, "records": {k: project(v) for k, v in records}})


# -- reading --------------------------------------------------------------------


def read_summary(db_dir: Path) -> tuple[int, dict[str, dict[str, Any]]]:
    try:
        data = orjson.loads((db_dir / SUMMARY).read_bytes())
        return int(data["seq"]), dict(data["records"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise Unavailable(f"{SUMMARY}: {exc}") from None


def log_after(wal_dir: Path, after: int, needles: tuple[bytes, ...] = ()) -> Iterator[Entry]:
    """Committed log entries after `after`, read without repairing anything (the daemon
    may be appending). With `needles`, only entries whose line contains one of them are
    decoded (the others cannot concern what is looked for)."""
    segs = segments(wal_dir)
    first_kept = int(segs[0].name[: -len(SEGMENT_SUFFIX)]) if segs else after + 1
    if first_kept > after + 1:
        raise Unavailable(f"the log starts at entry {first_kept}, after {after + 1}")
    for index, seg in enumerate(segs):
        if index + 1 < len(segs) and int(segs[index + 1].name[: -len(SEGMENT_SUFFIX)]) <= after + 1:
            continue
        data = seg.read_bytes()
        for line in data.split(b"\n"):
            if len(line) < 10 or line[8:9] != b" ":
                continue  # the torn end of a line being written
            if needles and not any(n in line for n in needles):
                continue
            try:
                raw = orjson.loads(line[9:])
            except orjson.JSONDecodeError:
                continue
            seq = int(raw["seq"])
            if seq > after:
                yield Entry(seq, raw["ops"])


def _slice(path: Path, index: _Index, span: list[int]) -> bytes:
    """`span` of the table file the index describes, or Unavailable if the file on disk
    is another one (rewritten since the index was read)."""
    with path.open("rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size != index.size:
            raise Unavailable(f"{path.name} changed size")
        tail = os.pread(fh.fileno(), 96, max(0, size - 96))
        found = _TRAILER.search(tail)
        if found is None or int(found.group(1)) != index.file_seq:
            raise Unavailable(f"{path.name} is not the checkpoint its index describes")
        return os.pread(fh.fileno(), span[1], span[0])


class _Index:
    def __init__(self, db_dir: Path, table: str) -> None:
        try:
            self.data = index_path(db_dir, table).read_bytes()
            magic, file_seq, size = self.data[: self.data.index(b"\n")].rsplit(b" ", 2)
            if magic != INDEX_MAGIC:
                raise ValueError("not an index")
            self.file_seq, self.size = int(file_seq), int(size)
        except (OSError, ValueError) as exc:
            raise Unavailable(f"{table} index: {exc}") from None

    def find(self, key: str) -> list[int] | None:
        needle = b"\n" + key.encode("utf-8", "surrogatepass") + b"\t"
        at = self.data.find(needle)
        if at < 0:
            return None
        end = self.data.index(b"\n", at + 1)
        off, length = self.data[at + len(needle): end].split(b"\t")
        return [int(off), int(length)]


def current_through(db_dir: Path, table: str, file_seq: int) -> int:
    """The log position a table file written at `file_seq` is good through: later, if
    the checkpoint manifest says later checkpoints found the table unchanged."""
    try:
        known = orjson.loads((db_dir / MANIFEST).read_bytes())["tables"][table]
        if int(known["file_seq"]) == file_seq:
            return max(file_seq, int(known["through"]))
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return file_seq


def read_one(db_dir: Path, record_id: str) -> tuple[dict[str, Any] | None,
                                                    dict[str, dict[str, Any]]]:
    """One record of the working set (None if it is not there) and its message-index
    entries, read from slices of the table files and the log after them."""
    rec_index = _Index(db_dir, "records")
    msg_index = _Index(db_dir, "messages")
    record: dict[str, Any] | None = None
    span = rec_index.find(record_id)
    if span is not None:
        record = orjson.loads(_slice(db_dir / "records.json", rec_index, span))
    messages: dict[str, dict[str, Any]] = {}
    span = msg_index.find(record_id)
    if span is not None:
        messages = orjson.loads(b"{" + _slice(db_dir / "messages.json", msg_index, span) + b"}")
    rec_seq = current_through(db_dir, "records", rec_index.file_seq)
    msg_seq = current_through(db_dir, "messages", msg_index.file_seq)
    after = min(rec_seq, msg_seq)
    needles = (orjson.dumps(record_id), *(orjson.dumps(k) for k in messages))
    for entry in log_after(db_dir / "wal", after, needles):
        for op in entry.ops:
            table, key = op[1], op[2]
            if table == "records" and key == record_id and entry.seq > rec_seq:
                record = op[3] if op[0] == "put" else None
            elif table == "messages" and entry.seq > msg_seq:
                if op[0] == "put" and message_group(op[3]) == record_id:
                    messages[key] = op[3]
                elif key in messages:
                    messages.pop(key)
    return record, messages
