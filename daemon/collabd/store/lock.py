"""The lock that keeps a second daemon off a state directory."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from collabd.errors import CollabdError

LOCK_NAME = "collabd.lock"


class StateLocked(CollabdError):
    """Another daemon holds the state directory."""


class StateLock:
    """An exclusive flock on `<state>/collabd.lock`, held for the daemon's lifetime.

    flock (not the mere existence of a pid file) is used so that a daemon killed with
    SIGKILL never leaves a stale lock behind: the kernel drops it with the process.
    """

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise StateLocked(
                f"another collabd (pid {holder}) is already running on the state directory "
                f"{self.path.parent}; stop it first (e.g. `systemctl stop collabd`). "
                "`collabd status`, `show` and `deliver` work while it runs."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> StateLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
