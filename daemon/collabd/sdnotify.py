"""systemd readiness and watchdog notifications (sd_notify protocol).

The protocol is one datagram to the socket named in $NOTIFY_SOCKET. It is written out
here rather than taken from a package: the maintained binding (systemd-python) needs
libsystemd headers to build, and the small PyPI clones are unmaintained; the protocol
itself is stable and documented in sd_notify(3).
"""

from __future__ import annotations

import os
import socket


class Notifier:
    def __init__(self) -> None:
        address = os.environ.get("NOTIFY_SOCKET")
        self._address: str | None = None
        if address:
            # "@name" is an abstract socket: a leading NUL byte on Linux.
            self._address = "\0" + address[1:] if address.startswith("@") else address
        usec = os.environ.get("WATCHDOG_USEC")
        pid = os.environ.get("WATCHDOG_PID")
        self.watchdog_seconds: float | None = None
        if usec and usec.isdigit() and (pid is None or pid == str(os.getpid())):
            self.watchdog_seconds = int(usec) / 1_000_000

    @property
    def enabled(self) -> bool:
        return self._address is not None

    def notify(self, state: str) -> None:
        if self._address is None:
            return
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            # Never blocking: a reader that has stopped reading (its queue full) must not
            # hold the daemon, which could then not even stop on SIGTERM.
            sock.setblocking(False)
            try:
                sock.connect(self._address)
                sock.sendall(state.encode("utf-8"))
            except OSError:
                pass  # systemd went away, or is not reading; nothing useful to do

    def ready(self, status: str = "") -> None:
        self.notify("READY=1" + (f"\nSTATUS={status}" if status else ""))

    def status(self, status: str) -> None:
        self.notify(f"STATUS={status}")

    def watchdog(self) -> None:
        self.notify("WATCHDOG=1")

    def stopping(self) -> None:
        self.notify("STOPPING=1")
