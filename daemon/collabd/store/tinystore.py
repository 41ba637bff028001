"""TinyDB storage that replaces its file atomically and keeps the last good copies."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import orjson
from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Table

from collabd.store.errors import StateDamaged
from collabd.store.fsutil import atomic_write, fsync_dir

BACKUP_SUFFIX = ".json"


class StrKeyTable(Table):
    """Documents keyed by their record id (XQ-2026-0001, a Message-ID), not by an int."""

    document_id_class = str  # type: ignore[assignment]


class CollabdTinyDB(TinyDB):
    table_class = StrKeyTable


class AtomicJSONStorage(Storage):
    """A TinyDB storage whose `write` never leaves a half-written file.

    Each write goes to a temp file in the same directory, is fsynced, renamed over the
    old file, and the directory is fsynced. The file it replaces is first hard-linked
    into `backups/` (no copy, no extra write) and the newest `keep` of those are kept,
    so a file damaged later by disk or hand can be restored from the last good copy.
    A damaged file is an error, never an empty database.
    """

    def __init__(self, path: str | Path, *, backup_dir: Path | None = None, keep: int = 5,
                 backup_tag: str | None = None) -> None:
        super().__init__()
        self.path = Path(path)
        self.backup_dir = backup_dir
        self.keep = keep
        self.backup_tag = backup_tag

    # TinyDB's interface ---------------------------------------------------------

    def read(self) -> dict[str, dict[str, Any]] | None:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        return self.decode(data)

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        self.write_checked(data)

    def write_checked(self, data: dict[str, dict[str, Any]]) -> str:
        """Replace the file with `data`; returns the SHA-256 of what was written (kept
        in the checkpoint manifest, checked at the next start)."""
        return self.write_payload(orjson.dumps(data))

    def write_payload(self, payload: bytes) -> str:
        """Replace the file with `payload`, JSON already encoded (in a layout the caller
        chose); returns its SHA-256."""
        self._backup_current()
        atomic_write(self.path, payload)
        return hashlib.sha256(payload).hexdigest()

    def close(self) -> None:
        pass

    # helpers --------------------------------------------------------------------

    def decode(self, data: bytes) -> dict[str, dict[str, Any]]:
        problem: str | None = None
        parsed: Any = None
        if not data.strip():
            problem = f"{self.path} is empty (0 bytes of data), it was truncated"
        else:
            try:
                parsed = orjson.loads(data)
            except orjson.JSONDecodeError as exc:
                problem = (
                    f"{self.path} is not valid JSON ({exc.msg} at line {exc.lineno} column "
                    f"{exc.colno}); it looks truncated or overwritten"
                )
            else:
                if not isinstance(parsed, dict) or not all(
                    isinstance(v, dict) for v in parsed.values()
                ):
                    problem = f"{self.path} does not hold TinyDB tables (a JSON object of objects)"
        if problem is not None:
            raise StateDamaged(problem, recovery=self.recovery_hint())
        assert isinstance(parsed, dict)
        return parsed

    def backups(self) -> list[Path]:
        """Kept copies of this file, newest first."""
        if self.backup_dir is None or not self.backup_dir.is_dir():
            return []
        prefix = f"{self.path.stem}."
        found = [
            p for p in self.backup_dir.iterdir()
            if p.name.startswith(prefix) and p.name.endswith(BACKUP_SUFFIX)
        ]
        return sorted(found, reverse=True)

    def newest_good_backup(self) -> Path | None:
        for candidate in self.backups():
            try:
                parsed = orjson.loads(candidate.read_bytes())
            except (OSError, ValueError):
                continue
            if isinstance(parsed, dict):
                return candidate
        return None

    def recovery_hint(self) -> str:
        good = self.newest_good_backup()
        if good is None:
            return (
                f"no good copy of {self.path.name} is kept in {self.backup_dir}; restore the "
                "state directory from your system backup, or move the damaged file aside to "
                "start this table empty (its records are then lost)."
            )
        return (
            f"copy the last good copy into place and start again:\n"
            f"    cp {good} {self.path}\n"
            "The write-ahead log (state/db/wal) replays every change made after that copy; "
            "the damaged file can be kept for inspection."
        )

    def _backup_current(self) -> None:
        if self.backup_dir is None or not self.path.exists():
            return
        self.backup_dir.mkdir(parents=True, exist_ok=True)
        tag = self.backup_tag or "0"
        target = self.backup_dir / f"{self.path.stem}.{tag}{BACKUP_SUFFIX}"
        if target.exists():
            target.unlink()
        # A hard link keeps the old inode alive after the rename replaces the name.
        os.link(self.path, target)
        for old in self.backups()[self.keep :]:
            old.unlink(missing_ok=True)
        fsync_dir(self.backup_dir)
