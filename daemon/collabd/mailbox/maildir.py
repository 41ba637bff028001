"""A Maildir written durably (tmp/ → fsync → new/) and read oldest first."""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from collabd.store.fsutil import fsync_dir, write_new_file

_HOST = socket.gethostname().replace("/", "\\057").replace(":", "\\072")


class Maildir:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp = root / "tmp"
        self.new = root / "new"
        self.cur = root / "cur"

    def ensure(self) -> None:
        for d in (self.tmp, self.new, self.cur):
            d.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def unique_name() -> str:
        # Maildir's "time.MusecPpid_random.host" form; sorts by arrival time.
        now = time.time()
        sec = int(now)
        usec = int((now - sec) * 1_000_000)
        return f"{sec}.M{usec:06d}P{os.getpid()}R{secrets.token_hex(4)}.{_HOST}"

    def deliver(self, raw: bytes, name: str | None = None) -> Path:
        """Write one message; it is durable and visible in new/ when this returns."""
        tmp, final = self.stage(raw, name, sync=True)
        os.replace(tmp, final)
        fsync_dir(self.new)
        return final

    def stage(self, raw: bytes, name: str | None = None, *,
              sync: bool = False) -> tuple[Path, Path]:
        """Write one message into tmp/; returns (temp path, its name in new/), for the
        caller to move there (a batch: fsutil.rename_batch)."""
        self.ensure()
        name = name or self.unique_name()
        # The temp name is always fresh: a given final name (the sent folder uses one per
        # Message-ID) must not collide with a temp file a crash left behind.
        tmp = self.tmp / f"{name}.{secrets.token_hex(4)}"
        write_new_file(tmp, raw, sync=sync)
        return tmp, self.new / name

    def contains(self, name: str) -> bool:
        if (self.new / name).exists():
            return True
        return any(self.cur.glob(f"{name}:2,*")) if self.cur.is_dir() else False

    def new_messages(self) -> Iterator[Path]:
        if not self.new.is_dir():
            return iter(())
        return iter(sorted(p for p in self.new.iterdir() if not p.name.startswith(".")))

    def mark_seen(self, name: str) -> None:
        self.ensure()
        # Already moved when this is a second ack after a crash.
        with contextlib.suppress(FileNotFoundError):
            os.replace(self.new / name, self.cur / f"{name}:2,S")

    def all_messages(self) -> list[Path]:
        """Every message in new/ and cur/, oldest first (by Maildir name)."""
        found = [p for d in (self.new, self.cur) if d.is_dir() for p in d.iterdir()
                 if not p.name.startswith(".")]
        return sorted(found, key=lambda p: p.name)

    def clean_tmp(self, older_than_seconds: float = 36 * 3600) -> None:
        # Maildir's rule: tmp/ files untouched for 36 hours are leftovers of a crash.
        if not self.tmp.is_dir():
            return
        limit = time.time() - older_than_seconds
        for p in self.tmp.iterdir():
            if p.stat().st_mtime < limit:
                p.unlink(missing_ok=True)
