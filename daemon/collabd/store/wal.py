"""Write-ahead log: one fsynced line per commit; the table files are checkpoints of it."""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from collabd.store.errors import StateDamaged
from collabd.store.fsutil import fsync_dir

SEGMENT_SUFFIX = ".wal"

Op = list[Any]  # ["put", table, key, value] | ["del", table, key]


@dataclass(frozen=True)
class Entry:
    seq: int
    ops: list[Op]


def encode(seq: int, ops: list[Op]) -> bytes:
    data = orjson.dumps({"seq": seq, "ops": ops})
    # The checksum tells a torn last line (crash during append) from a complete one.
    return b"%08x %s\n" % (zlib.crc32(data), data)


def _segment_name(first_seq: int) -> str:
    return f"{first_seq:012d}{SEGMENT_SUFFIX}"


def segments(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.name.endswith(SEGMENT_SUFFIX))


def first_seq(segment: Path) -> int:
    return int(segment.name[: -len(SEGMENT_SUFFIX)])


@dataclass
class _Scan:
    entries: list[Entry]
    torn_at: int | None  # byte offset of an incomplete last line in the last segment


def _scan_segment(path: Path, *, is_last: bool) -> _Scan:
    data = path.read_bytes()
    entries: list[Entry] = []
    offset = 0
    line_no = 0
    while offset < len(data):
        line_no += 1
        end = data.find(b"\n", offset)
        line = data[offset:end] if end != -1 else data[offset:]
        ok = end != -1 and len(line) > 9 and line[8:9] == b" "
        if ok:
            try:
                ok = int(line[:8], 16) == zlib.crc32(line[9:])
            except ValueError:
                ok = False
        if not ok:
            rest_is_last_line = end == -1 or end == len(data) - 1
            if is_last and rest_is_last_line:
                return _Scan(entries, offset)
            after = data[offset:].count(b"\n") + (0 if data.endswith(b"\n") else 1)
            last_good = entries[-1].seq if entries else first_seq(path) - 1
            raise StateDamaged(
                f"{path}: line {line_no} of the write-ahead log is damaged (checksum mismatch "
                "in the middle of the log, not a torn last write)",
                recovery=(
                    "this is disk damage, not a crash; keep a copy of the state directory "
                    "first. The log can be cut at the damaged line:\n"
                    f"    collabd store truncate-log {path.name}:{line_no}\n"
                    f"That keeps the {len(entries)} entries before it (through entry "
                    f"{last_good}) and drops line {line_no} and the {after - 1} line(s) after "
                    f"it in {path.name}, i.e. every change committed after entry {last_good}"
                    + (" and every later segment" if not is_last else "") + ". Messages "
                    "received since then and still in state/queue are processed again; "
                    "effects of messages already processed in that span are lost. Or "
                    "restore the state directory from a backup that holds this segment whole."
                ),
            )
        raw = orjson.loads(line[9:])
        entries.append(Entry(int(raw["seq"]), raw["ops"]))
        offset = end + 1
    return _Scan(entries, None)


def truncate_at(path: Path, line_no: int) -> tuple[int, int]:
    """Cut a segment before its line `line_no` (1-based), keeping a copy of the whole
    segment beside it. Returns (entries kept, lines dropped)."""
    data = path.read_bytes()
    offset = 0
    for _ in range(line_no - 1):
        end = data.find(b"\n", offset)
        if end == -1:
            raise ValueError(f"{path} has fewer than {line_no} lines")
        offset = end + 1
    copy = path.with_name(path.name + ".damaged")
    copy.write_bytes(data)
    dropped = data[offset:].count(b"\n") + (0 if data.endswith(b"\n") or offset == len(data)
                                            else 1)
    with path.open("r+b") as fh:
        fh.truncate(offset)
        fh.flush()
        os.fsync(fh.fileno())
    fsync_dir(path.parent)
    return line_no - 1, dropped


class CommitMark:
    """The position of the last commit, kept outside the log (db/committed).

    Written after every append with one pwrite and no fsync of its own (it is synced at
    checkpoints): it costs nothing on the commit path and survives a crash of the
    process (the page cache does). It never runs ahead of the durable log, since the
    log line is synced first; after a power loss it may lag behind, never lead. At
    start, a log that ends before it has lost committed entries (a segment truncated
    or deleted by hand or by disk), and the state is refused.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def read(self) -> int | None:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        line = data.split(b"\n", 1)[0]
        try:
            seq, crc = line.split(b" ")
            if int(crc, 16) != zlib.crc32(seq):
                return None
            return int(seq)
        except ValueError:
            return None

    def write(self, seq: int) -> None:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o640)
        text = b"%012d" % seq
        os.pwrite(self._fd, b"%s %08x\n" % (text, zlib.crc32(text)), 0)

    def sync(self) -> None:
        if self._fd is not None:
            os.fsync(self._fd)

    def close(self) -> None:
        if self._fd is not None:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None


class WriteAheadLog:
    """Append-only segments `<first seq>.wal` in one directory.

    Every commit is one line, written with a single write() and made durable with one
    fdatasync before the caller is told it is committed.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._fd: int | None = None
        self._segment: Path | None = None
        self.last_seq = 0

    # -- reading ---------------------------------------------------------------

    def read(self, *, after: int, repair: bool) -> Iterator[Entry]:
        """Every entry with seq > `after`, in order; a torn last line is cut off if `repair`."""
        segs = segments(self.directory)
        for index, seg in enumerate(segs):
            is_last = index == len(segs) - 1
            if not is_last and first_seq(segs[index + 1]) <= after + 1:
                continue  # entirely before what the checkpoint already holds
            scan = _scan_segment(seg, is_last=is_last)
            if scan.torn_at is not None and repair:
                with seg.open("r+b") as fh:
                    fh.truncate(scan.torn_at)
                    fh.flush()
                    os.fsync(fh.fileno())
            for entry in scan.entries:
                self.last_seq = max(self.last_seq, entry.seq)
                if entry.seq > after:
                    yield entry

    def first_available_seq(self) -> int | None:
        segs = segments(self.directory)
        return first_seq(segs[0]) if segs else None

    # -- writing ---------------------------------------------------------------

    def open_for_append(self, next_seq: int) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        segs = segments(self.directory)
        if segs:
            self._open_segment(segs[-1])
        else:
            self.rotate(next_seq)

    def _open_segment(self, path: Path) -> None:
        if self._fd is not None:
            os.close(self._fd)
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        self._segment = path

    def rotate(self, next_seq: int) -> None:
        """Start a new segment whose first entry will be `next_seq`."""
        path = self.directory / _segment_name(next_seq)
        if path != self._segment:
            self._open_segment(path)
            fsync_dir(self.directory)

    def append(self, seq: int, ops: list[Op], *, sync: bool = True) -> bytes:
        if self._fd is None:
            raise RuntimeError("write-ahead log is not open for writing")
        line = encode(seq, ops)
        view = memoryview(line)
        while view:
            view = view[os.write(self._fd, view) :]
        if sync:
            os.fdatasync(self._fd)
        self.last_seq = seq
        return line

    def sync(self) -> None:
        if self._fd is not None:
            os.fdatasync(self._fd)

    def drop_segments_before(self, seq: int) -> None:
        """Delete segments all of whose entries are <= `seq` (no longer needed to recover)."""
        segs = segments(self.directory)
        dropped = False
        for index, seg in enumerate(segs[:-1]):
            if first_seq(segs[index + 1]) - 1 <= seq and seg != self._segment:
                seg.unlink(missing_ok=True)
                dropped = True
        if dropped:
            fsync_dir(self.directory)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
            self._segment = None
