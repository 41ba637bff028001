"""The daemon as a real process on the embedded backend: SMTP in, journal, process, kill -9."""

from __future__ import annotations

import json
import signal
import smtplib
import threading

import pytest

from collabd.config import Config
from helpers import (
    DaemonProcess,
    collabd,
    message,
    parse,
    sent_messages,
    smtp_send,
    wait_until,
)

pytestmark = pytest.mark.integration


def _status(config: Config) -> dict:  # type: ignore[type-arg]
    result = collabd("status", "--json", config=config)
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_mail_sent_to_the_listener_is_journaled_and_processed(deployment: Config) -> None:
    daemon = DaemonProcess(deployment).start()
    try:
        smtp_send(deployment, message(subject="经 SMTP 送达", message_id="<smtp-1@example.com>"))
        # Straight after the SMTP transaction the message is durable in the Maildir.
        status = wait_until(lambda: (s := _status(deployment))["mail"]["processed"] == 1 and s,
                            message="message processed")
        assert status["daemon"]["running"] is True
        assert status["journal"] == {"waiting": 0, "shunt": 0, "bad": 0}
        # The raw message was kept in the inbox Maildir, marked as processed.
        cur = list((deployment.state_dir / "mail" / "inbox" / "cur").iterdir())
        assert len(cur) == 1
        kept = parse(cur[0].read_bytes())
        assert kept["Subject"] == "经 SMTP 送达"
        assert kept["Return-Path"] == "<zhang.wei@example.com>"
        # status and deliver work while the daemon runs; a second run is refused.
        collabd("deliver", config=deployment,
                stdin=message(subject="deliver 管道", message_id="<pipe-1@example.com>"))
        wait_until(lambda: _status(deployment)["mail"]["processed"] == 2,
                   message="delivered message processed")
        second = collabd("run", "--once", config=deployment, check=False)
        assert second.returncode != 0
        assert b"already running" in second.stderr
    finally:
        assert daemon.stop() == 0, daemon.log()
    assert "stopped; state checkpointed" in daemon.log()


def test_listener_refuses_other_recipients(deployment: Config) -> None:
    daemon = DaemonProcess(deployment).start()
    try:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as info:
            smtp_send(deployment, message(), recipients=["someone.else@example.com"])
        code, text = info.value.recipients["someone.else@example.com"]
        assert code == 550 and b"shared mailbox" in text
    finally:
        daemon.stop()


def _request(n: int) -> bytes:
    body = (f"发起部门：市场部\n接收部门：研发部\n需求背景与目标：第{n}号需求的背景。\n"
            f"具体需求内容：第{n}号需求的内容。\n期望完成时间：2099-12-30\n"
            "交付标准：通过验收。\n")
    return message(subject=f"需求表：第{n}号", body=body, message_id=f"<kill-{n}@example.com>")


def test_sigkill_mid_run_loses_and_duplicates_nothing(deployment: Config) -> None:
    total = 120
    daemon = DaemonProcess(deployment).start()
    sender_done = threading.Event()
    sent_ids: list[str] = []

    def send_all() -> None:
        local = deployment.settings.local
        try:
            for n in range(total):
                mid = f"<kill-{n}@example.com>"
                # Reconnect per message: the listener is gone for a moment after the kill.
                for _ in range(200):
                    try:
                        with smtplib.SMTP(local.listen_host, local.listen_port, timeout=5) as s:
                            s.sendmail("zhang.wei@example.com", ["collab@example.com"],
                                       _request(n))
                        break
                    except OSError:
                        sender_done.wait(0.05)
                sent_ids.append(mid)
        finally:
            sender_done.set()

    thread = threading.Thread(target=send_all)
    thread.start()
    wait_until(lambda: _status(deployment)["mail"]["processed"] >= 10, timeout=30,
               message="some messages processed")
    daemon.proc.send_signal(signal.SIGKILL)  # type: ignore[union-attr]
    daemon.proc.wait(10)  # type: ignore[union-attr]
    daemon.start()  # restart on the same state: the lock died with the process
    thread.join(60)
    assert len(sent_ids) == total
    wait_until(lambda: (s := _status(deployment))["mail"]["processed"] == total
               and s["outbox"]["pending"] == 0, timeout=60,
               message="all messages processed and answered after restart")
    assert daemon.stop() == 0, daemon.log()
    status = _status(deployment)
    assert status["journal"] == {"waiting": 0, "shunt": 0, "bad": 0}
    # Nothing lost, nothing duplicated: one request per message, and for each exactly
    # one acknowledgement and one notification, each sent once.
    assert status["counts"]["open"] == total
    sent = sent_messages(deployment.state_dir)
    assert len(sent) == 2 * total
    assert len({m["Message-ID"] for m in sent}) == 2 * total
    per_record: dict[str, int] = {}
    for m in sent:
        per_record[m["X-Collabd-Record"]] = per_record.get(m["X-Collabd-Record"], 0) + 1
    assert sorted(per_record.values()) == [2] * total
    # A full restart with everything already processed changes nothing.
    again = collabd("run", "--once", config=deployment)
    assert b"processed 0" in again.stderr
    assert _status(deployment)["mail"]["processed"] == total
