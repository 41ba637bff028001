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
import logging
import os
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from collabd.store.fsutil import fsync_dir, remove_stale_temps, temp_path_for, write_new_file

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
        self.ensure()
        digest = hashlib.sha1(raw).hexdigest()[:16]
        name = f"{time.time_ns():020d}-{digest}-0{READY}"
        final = self.incoming / name
        tmp = temp_path_for(final)
        try:
            write_new_file(tmp, raw)
            os.replace(tmp, final)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        fsync_dir(self.incoming)
        return final

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
        if not self.incoming.is_dir():
            return []
        return sorted(self.incoming.glob(f"*{READY}"))

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

    def counts(self) -> dict[str, int]:
        return {
            "waiting": len(self.pending()),
            "shunt": _count(self.shunt_dir),
            "bad": _count(self.bad_dir),
        }


def _count(directory: Path) -> int:
    return len(list(directory.glob(f"*{READY}"))) if directory.is_dir() else 0


def _write_error(message_path: Path, text: str) -> None:
    error_path = message_path.with_suffix(".error")
    error_path.write_text(text, encoding="utf-8")
