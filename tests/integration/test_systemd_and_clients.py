"""The daemon as systemd and real clients see it: sd_notify, watchdog, SIGHUP, swaks."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from collabd.config import Config
from helpers import SHARED, DaemonProcess, collabd, require_binary, wait_until

pytestmark = pytest.mark.integration


def test_ready_after_listener_is_up_and_watchdog_is_fed(deployment: Config,
                                                        tmp_path: Path) -> None:
    sock_path = tmp_path / "notify.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(sock_path))
    server.settimeout(20)
    local = deployment.settings.local
    env = {**os.environ, "NOTIFY_SOCKET": str(sock_path), "WATCHDOG_USEC": "5000000"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "collabd", "run", "--config", str(deployment.path)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        first = server.recv(4096).decode()
        assert first.startswith("READY=1")
        # READY means the SMTP listener already accepts connections.
        with socket.create_connection((local.listen_host, local.listen_port), 2):
            pass
        seen = set()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and "WATCHDOG=1" not in seen:
            seen.add(server.recv(4096).decode())
        assert "WATCHDOG=1" in seen
        proc.send_signal(signal.SIGHUP)  # a reload, not a death
        time.sleep(0.5)
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
        stderr = proc.stderr.read().decode() if proc.stderr else ""
        assert "reload requested" in stderr
        messages = []
        server.settimeout(1)
        try:
            while True:
                messages.append(server.recv(4096).decode())
        except TimeoutError:
            pass
        assert "STOPPING=1" in messages
    finally:
        if proc.poll() is None:
            proc.kill()
        server.close()


def test_swaks_can_send_to_the_local_listener(deployment: Config) -> None:
    swaks = require_binary("swaks", why="the README tells people to try the daemon with it")
    daemon = DaemonProcess(deployment).start()
    try:
        local = deployment.settings.local
        result = subprocess.run(
            [swaks, "--server", f"{local.listen_host}:{local.listen_port}", "--to", SHARED,
             "--from", "zhang.wei@example.com", "--header", "Subject: swaks 测试",
             "--body", "你好"],
            capture_output=True, timeout=30, check=False,
        )
        assert result.returncode == 0, result.stdout.decode(errors="replace")
        wait_until(lambda: b'"processed": 1' in collabd("status", "--json",
                                                         config=deployment).stdout,
                   message="swaks message processed")
    finally:
        daemon.stop()
