"""The systemd notifications never hold the daemon: a reader that stops reading (its
queue full) must not block it, or it could not even stop on SIGTERM."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from collabd.sdnotify import Notifier


def test_notifications_to_a_reader_that_does_not_read_never_block(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as reader:
        reader.bind(str(path))
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        notifier = Notifier()
        began = time.monotonic()
        for _ in range(500):  # far more than the kernel queues (net.unix.max_dgram_qlen)
            notifier.watchdog()
        notifier.stopping()
        assert time.monotonic() - began < 5
        reader.settimeout(0.5)
        assert reader.recv(64) == b"WATCHDOG=1"  # (what was queued arrives)
