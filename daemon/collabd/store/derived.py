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

from collabd.store.wal import Entry, first_seq, segments

SUMMARY = "summary.json"
MANIFEST = "checkpoint.json"
INDEX_SUFFIX = ".idx.json"
META_TABLE = "_checkpoint"
# What `status` reads of a record: the keys of report.record_summary and report._due.
SUMMARY_KEYS = ("id", "kind", "status", "title", "updated", "waiting_on", "waiting_people",
                "escalation",
                "response_due", "acceptance_due", "due_date", "start")
TRAILER_BYTES = 160
_TRAILER = re.compile(rb'"checkpoint":\{"wal_seq":(\d+),"schema":(\d+)\}\}\}$')


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


def layout(table: str, entries: Iterable[tuple[str, str | None, bytes]], wal_seq: int,
           schema: int) -> tuple[bytes, dict[str, list[int]], dict[str, list[int]]]:
    """A TinyDB table file's bytes from (key, group, encoded value) in the order given,
    and where things lie in it: key → [offset, length] of its value, and group →
    [offset, length] of the run `"key":value,"key":value` of its entries (given one
    after the other; read back by wrapping the run in braces)."""
    parts: list[bytes] = [b"{"]
    at, groups = _lay(parts, 1, table, entries)
    parts.append(b',"' + META_TABLE.encode() + b'":{"checkpoint":'
                 + orjson.dumps({"wal_seq": wal_seq, "schema": schema}) + b"}}")
    return b"".join(parts), at, groups


def layout_tables(tables: Iterable[tuple[str, Iterable[tuple[str, str | None, bytes]]]]
                  ) -> tuple[bytes, dict[str, tuple[dict[str, list[int]],
                                                  dict[str, list[int]]]]]:
    """As `layout`, for a file of several tables (an archive file) and no trailer:
    the bytes (what orjson.dumps of the tables gives) and, per table, where its
    values and groups lie."""
    parts: list[bytes] = [b"{"]
    pos = 1
    places = {}
    for name, entries in tables:
        if pos > 1:
            parts.append(b",")
            pos += 1
        places[name] = _lay(parts, pos, name, entries)
        pos = sum(map(len, parts))
    parts.append(b"}")
    return b"".join(parts), places


def _lay(parts: list[bytes], pos: int, table: str,
         entries: Iterable[tuple[str, str | None, bytes]]
         ) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """Append one table, `"table":{...}`, starting at `pos` of the file."""
    dumps = orjson.dumps
    at: dict[str, list[int]] = {}
    groups: dict[str, list[int]] = {}
    head = dumps(table) + b":{"
    parts.append(head)
    pos += len(head)
    first = pos
    for key, name, value in entries:
        sep = b"," if pos > first else b""
        prefix = sep + dumps(key) + b":"
        start = pos + len(sep)
        at[key] = [pos + len(prefix), len(value)]
        pos += len(prefix) + len(value)
        if name is not None:
            span = groups.get(name)
            if span is None:
                groups[name] = [start, pos - start]
            else:
                span[1] = pos - span[0]
        parts.append(prefix)
        parts.append(value)
    parts.append(b"}")
    return at, groups


def trailer(data: bytes) -> tuple[int, int] | None:
    """(log position, schema) a table file written by `layout` ends with."""
    found = _TRAILER.search(data, max(0, len(data) - TRAILER_BYTES))
    return (int(found.group(1)), int(found.group(2))) if found else None


def slices(table: str, data: bytes, index_file: Path,
           offsets: list[int] | None = None) -> dict[str, bytes]:
    """Each value of a table file written by `layout`, as the bytes it is written as,
    cut where its index says — after checking that the index describes this very file
    and that the cuts fall exactly between `"key":` and the next entry. Unavailable
    otherwise (the caller then decodes the file). `offsets` receives where each value
    starts, in file order."""
    return _cut(table, data, index_file, offsets, handles=False)  # type: ignore[return-value]


def places(table: str, data: bytes, index_file: Path,
           offsets: list[int] | None = None) -> dict[str, int]:
    """As `slices`, but each value is where it lies in the file, as one int
    (`handle`), nothing copied: the caller reads it back with `read_at`."""
    return _cut(table, data, index_file, offsets, handles=True)  # type: ignore[return-value]


def handle(offset: int, length: int) -> int:
    """Where a value lies in a table file, as one int (offset and length)."""
    return offset << 32 | length


def read_at(fd: int, place: int) -> bytes:
    """The bytes at a `handle` in the open file `fd` (a checkpoint file, never written
    in place: a newer checkpoint is a new file)."""
    length = place & 0xFFFFFFFF
    data = os.pread(fd, length, place >> 32)
    if len(data) != length:
        raise OSError(f"a table file is shorter than its index says ({len(data)} of "
                      f"{length} bytes at {place >> 32})")
    return data


def _cut(table: str, data: bytes, index_file: Path, offsets: list[int] | None,
         handles: bool) -> dict[str, bytes] | dict[str, int]:
    index = _Index(index_file, table)
    index.describes(data)
    dumps = orjson.dumps
    out: dict[str, Any] = {}
    pos = len(b'{"' + table.encode() + b'":{')
    for line in index.data.split(b"\n")[1:]:
        if not line:
            continue
        try:
            key_b, off_b, len_b = line.split(b"\t")
            off, length = int(off_b), int(len_b)
        except ValueError:
            raise Unavailable(f"{index_file.name}: a damaged line") from None
        key = key_of(key_b)
        prefix = (b"," if out else b"") + dumps(key) + b":"
        if off != pos + len(prefix) or data[pos:off] != prefix:
            raise Unavailable(f"{index_file.name} does not match {table} at {key!r}")
        out[key] = handle(off, length) if handles else data[off:off + length]
        if offsets is not None:
            offsets.append(off)
        pos = off + length
    if data[pos:pos + 3] != b'},"':
        raise Unavailable(f"{index_file.name} does not cover all of {table}")
    return out


def groups_of(data: bytes, index_file: Path, keys: Iterable[str],
              offsets: list[int]) -> dict[str, list[str]]:
    """Group → its keys, for a table file written grouped by `layout`, from its group
    index (`index_path`) and where each value starts (`slices`), nothing decoded.
    Unavailable when the index does not describe this file or a value lies outside
    every group."""
    index = _Index(index_file, "groups")
    index.describes(data)
    try:
        spans = sorted((int(off), int(off) + int(length), key_of(name))
                       for name, off, length in (line.split(b"\t")
                                                 for line in index.data.split(b"\n")[1:] if line))
    except ValueError:
        raise Unavailable(f"{index_file.name}: a damaged line") from None
    groups: dict[str, list[str]] = {}
    at = 0
    for key, offset in zip(keys, offsets, strict=True):
        while at < len(spans) and offset >= spans[at][1]:
            at += 1
        if at == len(spans) or offset < spans[at][0]:
            raise Unavailable(f"{index_file.name}: {key!r} lies in no group")
        groups.setdefault(spans[at][2], []).append(key)
    return groups


def index_path(db_dir: Path, table: str) -> Path:
    """records: where each record lies; messages: where each record's group of
    message-index entries lies (for `show`)."""
    return db_dir / f"{table}{INDEX_SUFFIX}"


def keys_index_path(db_dir: Path, table: str) -> Path:
    """Where each entry of a grouped table lies (for loading it without decoding)."""
    return db_dir / f"{table}.keys{INDEX_SUFFIX}"


INDEX_MAGIC = b"collabd-index 1"


def index_bytes(file_seq: int, size: int, at: dict[str, list[int]]) -> bytes:
    """One line per key, `\nkey\toffset\tlength`: a lookup is one bytes.find, with
    nothing parsed (a JSON index of 100,000 keys costs 70 ms to load)."""
    lines = [b"%s %d %d" % (INDEX_MAGIC, file_seq, size)]
    lines += [b"%s\t%d\t%d" % (key_bytes(k), off, length) for k, (off, length) in at.items()]
    return b"\n".join(lines) + b"\n"


def key_bytes(key: str) -> bytes:
    """A key as it is written in an index line: tab, newline and backslash escaped (a
    Message-ID is whatever a sender wrote)."""
    if "\\" in key or "\t" in key or "\n" in key or "\r" in key:
        key = (key.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
               .replace("\r", "\\r"))
    return key.encode("utf-8", "surrogatepass")


def key_of(data: bytes) -> str:
    """The key an index line names (`key_bytes` undone)."""
    key = data.decode("utf-8", "surrogatepass")
    if "\\" not in key:
        return key
    return re.sub(r"\\(.)", lambda m: {"t": "\t", "n": "\n", "r": "\r"}.get(m.group(1),
                                                                          m.group(1)), key)


def summary_index_path(db_dir: Path) -> Path:
    return db_dir / f"summary{INDEX_SUFFIX}"


# -- reading --------------------------------------------------------------------


def read_summary(db_dir: Path) -> tuple[int, dict[str, dict[str, Any]]]:
    """summary.json: (log position, record id → projection). Written by `layout`, so
    the daemon reads it back as slices (no decoding) and `status` as one document."""
    try:
        data = orjson.loads((db_dir / SUMMARY).read_bytes())
        return int(data[META_TABLE]["checkpoint"]["wal_seq"]), dict(data["records"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise Unavailable(f"{SUMMARY}: {exc}") from None


def log_after(wal_dir: Path, after: int, needles: tuple[bytes, ...] = ()) -> Iterator[Entry]:
    """Committed log entries after `after`, read without repairing anything (the daemon
    may be appending). With `needles`, only entries whose line contains one of them are
    decoded (the others cannot concern what is looked for)."""
    segs = segments(wal_dir)
    first_kept = first_seq(segs[0]) if segs else after + 1
    if first_kept > after + 1:
        raise Unavailable(f"the log starts at entry {first_kept}, after {after + 1}")
    for index, seg in enumerate(segs):
        if index + 1 < len(segs) and first_seq(segs[index + 1]) <= after + 1:
            continue  # entirely before `after`
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
        found = trailer(os.pread(fh.fileno(), TRAILER_BYTES, max(0, size - TRAILER_BYTES)))
        if found is None or found[0] != index.file_seq:
            raise Unavailable(f"{path.name} is not the checkpoint its index describes")
        return os.pread(fh.fileno(), span[1], span[0])


class _Index:
    def __init__(self, path: Path, table: str) -> None:
        self.path = path
        try:
            self.data = path.read_bytes()
            magic, file_seq, size = self.data[: self.data.index(b"\n")].rsplit(b" ", 2)
            if magic != INDEX_MAGIC:
                raise ValueError("not an index")
            self.file_seq, self.size = int(file_seq), int(size)
        except (OSError, ValueError) as exc:
            raise Unavailable(f"{table} index: {exc}") from None

    def describes(self, data: bytes) -> None:
        """Unavailable unless this is the index of that very table file."""
        found = trailer(data)
        if found is None or found[0] != self.file_seq or len(data) != self.size:
            raise Unavailable(f"{self.path.name} describes another file")

    def find(self, key: str) -> list[int] | None:
        needle = b"\n" + key_bytes(key) + b"\t"
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
    rec_index = _Index(index_path(db_dir, "records"), "records")
    msg_index = _Index(index_path(db_dir, "messages"), "messages")
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
