"""Inbox journal: raw messages made durable before anything acknowledges them.

Modelled on GNU Mailman's switchboard. A message is written to a temp file, fsynced and
renamed into `in/` as `<time>-<digest>-<tries>.eml`. Processing renames it to `.bak`
(taken), and deletes it once its effects are committed. A `.bak` found at start means a
crash while processing: it is put back with its try count raised, and after three such
crashes it is moved to `bad/` for a human. A message whose processing raises is moved to
`shunt/` with the error beside it; the daemon goes on with the next one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from collabd.store.fsutil import (
    fsync_dir,
    remove_stale_temps,
    rename_batch,
    temp_path_for,
    write_new_file,
)

log = logging.getLogger(__name__)

MAX_CRASHES = 3
READY = ".eml"
TAKEN = ".bak"


@dataclass(frozen=True)
class JournalEntry:
    path: Path
    name: str  # <time>-<digest>, stable across retries
    tries: int

    def read(self) -> bytes:
        return self.path.read_bytes()


def _parse(path: Path) -> tuple[str, int] | None:
    stem = path.name.rsplit(".", 1)[0]
    parts = stem.rsplit("-", 1)
    if len(parts) != 2 or not parts[1].isdigit():
        return None
    return parts[0], int(parts[1])


class Journal:
    def __init__(self, queue_dir: Path) -> None:
        self.root = queue_dir
        self.incoming = queue_dir / "in"
        self.shunt_dir = queue_dir / "shunt"
        self.bad_dir = queue_dir / "bad"

    def ensure(self) -> None:
        for d in (self.incoming, self.shunt_dir, self.bad_dir):
            d.mkdir(parents=True, exist_ok=True)

    # -- producer side (daemon fetch loop, `collabd deliver`, SMTP pipe) ----------

    def put(self, raw: bytes) -> Path:
        """Write `raw` durably into the queue; when this returns, a crash cannot lose it."""
        return self.put_many([raw])[0]

    def put_many(self, raws: list[bytes]) -> list[Path]:
        """Write a batch durably into the queue, sharing one flush (fsutil.sync_batch);
        when this returns, a crash cannot lose any of them. A crash before leaves whole
        files or none under their final names (each is renamed into place whole)."""
        self.ensure()
        pairs: list[tuple[Path, Path]] = []
        try:
            for raw in raws:
                digest = hashlib.sha1(raw).hexdigest()[:16]
                final = self.incoming / f"{time.time_ns():020d}-{digest}-0{READY}"
                pairs.append((temp_path_for(final), final))
                write_new_file(pairs[-1][0], raw, sync=len(raws) == 1)
            if len(raws) == 1:
                os.replace(*pairs[0])
                fsync_dir(self.incoming)
            else:
                rename_batch(pairs, self.incoming)
        except BaseException:
            for tmp, _final in pairs:
                tmp.unlink(missing_ok=True)
            raise
        return [final for _tmp, final in pairs]

    # -- consumer side (the daemon) ----------------------------------------------

    def recover(self) -> list[Path]:
        """Put back messages a crash left taken; three crashes send one to `bad/`."""
        self.ensure()
        remove_stale_temps(self.incoming)
        moved: list[Path] = []
        for path in sorted(self.incoming.glob(f"*{TAKEN}")):
            parsed = _parse(path)
            if parsed is None:
                continue
            name, tries = parsed
            tries += 1
            if tries >= MAX_CRASHES:
                target = self.bad_dir / f"{name}-{tries}{READY}"
                os.replace(path, target)
                _write_error(
                    target,
                    f"collabd stopped {tries} times while processing this message "
                    "(crash, kill or power loss); it is set aside so that it cannot stop "
                    "the daemon again. Requeue it with `collabd deliver < FILE` once fixed.\n",
                )
                log.error("journal: %s crashed the daemon %d times, moved to %s",
                          name, tries, target)
            else:
                target = self.incoming / f"{name}-{tries}{READY}"
                os.replace(path, target)
                log.warning("journal: %s was interrupted while processing; retry %d",
                            name, tries)
            moved.append(target)
        if moved:
            fsync_dir(self.incoming)
            fsync_dir(self.bad_dir)
        return moved

    def pending(self) -> list[Path]:
        """Messages waiting, oldest first (names sort by arrival). Sorted as strings:
        comparing 10,000 Paths costs a second."""
        names = _ready_names(self.incoming)
        names.sort()
        return [self.incoming / name for name in names]

    def __iter__(self) -> Iterator[JournalEntry]:
        for path in self.pending():
            entry = self.take(path)
            if entry is not None:
                yield entry

    def take(self, path: Path) -> JournalEntry | None:
        parsed = _parse(path)
        if parsed is None:
            return None
        name, tries = parsed
        taken = path.with_suffix(TAKEN)
        try:
            # No fsync: if this rename is lost in a crash the message is simply taken
            # again, and processing it twice changes nothing (Message-ID dedupe).
            os.replace(path, taken)
        except FileNotFoundError:
            return None
        return JournalEntry(taken, name, tries)

    def done(self, entry: JournalEntry) -> None:
        # No fsync either, for the same reason: replaying a processed message is a no-op.
        entry.path.unlink(missing_ok=True)

    def release(self, entry: JournalEntry) -> None:
        """Put back a message taken but not processed (shutdown between two messages)."""
        os.replace(entry.path, self.incoming / f"{entry.name}-{entry.tries}{READY}")

    def shunt(self, entry: JournalEntry, error: BaseException) -> Path:
        """Set aside a message whose processing raised, with the error beside it."""
        target = self.shunt_dir / f"{entry.name}-{entry.tries}{READY}"
        os.replace(entry.path, target)
        text = "".join(traceback.format_exception(error))
        _write_error(target, text)
        fsync_dir(self.shunt_dir)
        fsync_dir(self.incoming)
        return target

    # -- set-aside messages, for an operator (`collabd journal`) ---------------------

    def is_bad(self, target: Path) -> bool:
        return target.parent == self.bad_dir

    def read(self, target: Path) -> bytes:
        return target.read_bytes()

    def error(self, target: Path) -> str:
        path = target.with_suffix(".error")
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def set_aside(self) -> list[tuple[str, Path]]:
        """Messages set aside for a human: ("shunt" | "bad", path), oldest first."""
        found = [(kind, path) for kind, directory in (("shunt", self.shunt_dir),
                                                     ("bad", self.bad_dir))
                 if directory.is_dir() for path in directory.glob(f"*{READY}")]
        return sorted(found, key=lambda item: item[1].name)

    def find(self, name: str) -> tuple[str, Path] | None:
        """A set-aside message by its file name, or by a unique start of it."""
        matches = [(k, p) for k, p in self.set_aside()
                   if p.name == name or p.name.startswith(name)]
        return matches[0] if len(matches) == 1 else None

    def requeue(self, path: Path, *, by: str, at: str) -> Path:
        """Put a set-aside message back in the queue, as new (after a fix or upgrade)."""
        parsed = _parse(path)
        name = parsed[0] if parsed else path.stem
        target = self.incoming / f"{name}-0{READY}"
        os.replace(path, target)
        path.with_suffix(".error").unlink(missing_ok=True)
        fsync_dir(self.incoming)
        fsync_dir(path.parent)
        self.record("retry", path.name, at=at, by=by)
        return target

    def drop(self, path: Path, *, by: str, at: str) -> Path:
        """Take a set-aside message out of the way; it is kept in `dropped/`, never
        deleted, and the operation recorded."""
        dropped = self.root / "dropped"
        dropped.mkdir(parents=True, exist_ok=True)
        target = dropped / path.name
        os.replace(path, target)
        error = path.with_suffix(".error")
        if error.exists():
            os.replace(error, target.with_suffix(".error"))
        fsync_dir(dropped)
        fsync_dir(path.parent)
        self.record("drop", path.name, at=at, by=by)
        return target

    def record(self, action: str, name: str, *, at: str, **detail: Any) -> None:
        """One line in queue/operations.log: what an operator did to which message."""
        self.ensure()
        line = json.dumps({"at": at, "action": action, "message": name, **detail},
                          ensure_ascii=False)
        with (self.root / "operations.log").open("a", encoding="utf-8") as log_file:
            log_file.write(line + "\n")
            log_file.flush()
            os.fsync(log_file.fileno())

    def operations(self) -> list[dict[str, Any]]:
        """What operators did to which message (queue/operations.log), oldest first."""
        try:
            text = (self.root / "operations.log").read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        found = []
        for line in text.splitlines():
            try:
                found.append(json.loads(line))
            except ValueError:
                continue  # (a line torn by a crash)
        return found

    # -- moving a state (`collabd store export/import`) ---------------------------------

    def export_entries(self) -> Iterator[dict[str, Any]]:
        """Every message the journal holds, waiting, taken, set aside or dropped."""
        places = ((self.incoming, READY, "in"), (self.incoming, TAKEN, "taken"),
                  (self.shunt_dir, READY, "shunt"), (self.bad_dir, READY, "bad"),
                  (self.root / "dropped", READY, "dropped"))
        found: list[tuple[str, int, str, Path]] = []
        for directory, suffix, state in places:
            if directory.is_dir():
                found += [(parsed[0], parsed[1], state, path)
                          for path in directory.glob(f"*{suffix}")
                          if (parsed := _parse(path)) is not None]
        # In the order they arrived (names begin with the time), whatever their state:
        # a message interrupted while processing comes before the newer ones.
        for name, tries, state, path in sorted(found):
            yield {"name": name, "tries": tries, "state": state,
                   "raw": path.read_bytes(), "error": self.error(path)}

    def restore(self, name: str, state: str, tries: int, raw: bytes, error: str) -> None:
        """Put back one exported message where it was."""
        directory, suffix = {"in": (self.incoming, READY), "taken": (self.incoming, TAKEN),
                             "shunt": (self.shunt_dir, READY), "bad": (self.bad_dir, READY),
                             "dropped": (self.root / "dropped", READY)}[state]
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / f"{name}-{tries}{suffix}"
        write_new_file(target, raw, sync=True)
        if error:
            _write_error(target, error)
        fsync_dir(directory)

    def counts(self) -> dict[str, int]:
        return {
            "waiting": len(_ready_names(self.incoming)),
            "shunt": len(_ready_names(self.shunt_dir)),
            "bad": len(_ready_names(self.bad_dir)),
        }


def _ready_names(directory: Path) -> list[str]:
    try:
        return [n for n in os.listdir(directory) if n.endswith(READY) and not n.startswith(".")]
    except FileNotFoundError:
        return []


def _write_error(message_path: Path, text: str) -> None:
    error_path = message_path.with_suffix(".error")
    error_path.write_text(text, encoding="utf-8")
