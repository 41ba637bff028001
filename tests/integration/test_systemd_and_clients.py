"""The daemon as systemd and real clients see it: sd_notify, watchdog, SIGHUP, swaks."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
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
    # The log goes to a file: a pipe nobody reads until the end can fill up and block
    # the daemon on a log line, which would look like a daemon that does not stop.
    log_path = tmp_path / "daemon.log"
    log_file = log_path.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "collabd", "run", "--config", str(deployment.path)],
        env=env, stdout=subprocess.DEVNULL, stderr=log_file,
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
        # The reload happens at the top of the loop's next pass; two watchdog pings
        # after the signal mean a whole pass ran after it (a loaded CI machine can take
        # longer than any fixed sleep).
        pings = 0
        while pings < 2:
            pings += server.recv(4096).decode() == "WATCHDOG=1"
        assert proc.poll() is None
        # From here on read as systemd does, all the time (the daemon's notifications
        # never block it, so a reader that falls behind would lose the last ones).
        messages: list[str] = []
        server.settimeout(0.2)
        done = threading.Event()

        def drain() -> None:
            while not done.is_set():
                try:
                    messages.append(server.recv(4096).decode())
                except TimeoutError:
                    continue

        reader = threading.Thread(target=drain)
        reader.start()
        proc.send_signal(signal.SIGTERM)
        try:
            assert proc.wait(30) == 0
        except subprocess.TimeoutExpired:
            raise AssertionError("the daemon did not stop on SIGTERM:\n"
                                 + log_path.read_text(errors="replace")[-4000:]) from None
        finally:
            time.sleep(0.5)
            done.set()
            reader.join()
        stderr = log_path.read_text(encoding="utf-8", errors="replace")
        assert "reload requested" in stderr
        assert "STOPPING=1" in messages
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        log_file.close()
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


def test_sighup_takes_valid_rules_and_keeps_the_old_on_invalid(deployment: Config) -> None:
    from helpers import message, sent_messages, smtp_send

    daemon = DaemonProcess(deployment).start()
    try:
        forms = deployment.rules_dir / "forms.yaml"
        good = forms.read_text(encoding="utf-8")
        forms.write_text(good.replace("not_understood_per_day: 1",
                                      "not_understood_per_day: lots"), encoding="utf-8")
        assert daemon.proc is not None
        daemon.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: "keeping the rules in use" in daemon.log(), message="reload refused")
        assert "not_understood_per_day: expected a whole number" in daemon.log()
        assert daemon.proc.poll() is None  # still running, on the old rules
        smtp_send(deployment, message(subject="请问", message_id="<q1@example.com>"))
        wait_until(lambda: len(sent_messages(deployment.state_dir)) == 1,
                   message="not-understood reply under the old rules")
        # A valid change is taken: no more not-understood replies at all.
        forms.write_text(good.replace("not_understood_per_day: 1",
                                      "not_understood_per_day: 0"), encoding="utf-8")
        daemon.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: "rules and templates reloaded" in daemon.log(),
                   message="reload taken")
        smtp_send(deployment, message(subject="再问", message_id="<q2@example.com>",
                                      sender="陈晨 <chen.chen@example.com>"))
        wait_until(lambda: b'"processed": 2' in collabd("status", "--json",
                                                         config=deployment).stdout,
                   message="second message processed")
        assert len(sent_messages(deployment.state_dir)) == 1
    finally:
        daemon.stop()
