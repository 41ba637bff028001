"""The imap backend against a real Dovecot and a real SMTP submission server.

Mail takes the way it takes in a company: a person submits it over SMTP (AUTH), the
server delivers it into the shared mailbox, collabd finds it over IMAP, moves it to the
processed folder and answers over SMTP submission into the person's own mailbox, where
the test reads it over IMAP.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import smtplib
import threading
import time
from collections import Counter
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from collabd.config import Config, ImapServer, Secret, SmtpServer
from collabd.demo import new_mail, person
from collabd.mailbox.base import MailboxUnavailable, SendError
from collabd.mailbox.imap import ImapMailbox
from collabd.mailbox.smtp import SmtpSender
from helpers import SHARED, DaemonProcess, collabd, parse, wait_until
from servers import (
    NO_MOVE_NO_IDLE,
    NO_MOVE_NO_UIDPLUS,
    OAUTH_TOKEN,
    PASSWORD,
    Dovecot,
    Submission,
    imap_deployment,
)

pytestmark = pytest.mark.integration

LIU = person("刘洋", "liu.yang@example.com")  # 市场部, in the shipped org.yaml
PROCESSED = "collabd.processed"  # collabd/processed with Dovecot's "." separator
OVERSIZE = "collabd.oversize"


def request_body(title: str) -> str:
    due = (dt.date.today() + dt.timedelta(days=60)).isoformat()
    return f"""发起部门：市场部
发起人：刘洋
接收部门：研发部
接收人：孙丽
需求类型：项目推进
需求背景与目标：{title}，减少手工汇总。
具体需求内容：{title}。
期望完成时间：{due}
紧急程度：一般
交付标准：通过市场部验收。
"""


def request(title: str, sender: str = LIU) -> bytes:
    return new_mail(sender, f"需求：{title}", request_body(title))


def submit(submission: Submission, raw: bytes, *, to: str = SHARED) -> None:
    """Send as a person does: SMTP submission with a login."""
    sender = email.utils.parseaddr(parse(raw)["From"])[1]
    with smtplib.SMTP("127.0.0.1", submission.port, timeout=30) as smtp:
        smtp.login(sender, PASSWORD)
        smtp.sendmail(sender, [to], raw)


def status(config: Config) -> dict[str, Any]:
    return json.loads(collabd("status", "--json", config=config).stdout)  # type: ignore[no-any-return]


def inbox(dovecot: Dovecot, user: str) -> list[EmailMessage]:
    return [parse(raw) for raw in dovecot.messages(user)]


def subjects_of(dovecot: Dovecot, user: str, contains: str) -> list[str]:
    return [str(m["Subject"]) for m in inbox(dovecot, user) if contains in str(m["Subject"])]


@pytest.fixture
def running() -> Iterator[list[DaemonProcess]]:
    """Daemons a test started; stopped (and their logs shown on failure) at the end."""
    daemons: list[DaemonProcess] = []
    yield daemons
    for daemon in daemons:
        if daemon.proc is not None and daemon.proc.poll() is None:
            daemon.stop()


def start(config: Config, running: list[DaemonProcess]) -> DaemonProcess:
    daemon = DaemonProcess(config).start()
    running.append(daemon)
    return daemon


def test_request_to_acknowledgement_through_real_imap_and_smtp(
        tmp_path: Path, dovecot: Dovecot, submission: Submission,
        running: list[DaemonProcess]) -> None:
    config = imap_deployment(tmp_path / "deploy", dovecot, submission)
    daemon = start(config, running)
    submit(submission, request("渠道数据接入"))

    ack = wait_until(lambda: subjects_of(dovecot, "liu.yang@example.com", "需求已受理"),
                     timeout=30, message="the acknowledgement in the requester's mailbox")
    assert len(ack) == 1 and ack[0].startswith("[XQ-")
    record_id = ack[0][1:ack[0].index("]")]
    # The receiving department's liaison was told, through the same SMTP server.
    wait_until(lambda: subjects_of(dovecot, "sun.li@example.com", record_id),
               message="the notification to 研发部")
    acknowledgement = next(m for m in inbox(dovecot, "liu.yang@example.com")
                           if "需求已受理" in str(m["Subject"]))
    assert email.utils.parseaddr(str(acknowledgement["From"]))[1] == SHARED
    # Dovecot's LMTP records the envelope sender as Return-Path.
    assert acknowledgement["Return-Path"] == f"<{SHARED}>"
    assert submission.delivered[-1][0] == SHARED and SHARED in submission.logins

    # Acknowledged on the server: moved out of INBOX into the processed folder, and left
    # unread there (people read the shared mailbox too; collabd does not read for them).
    assert dovecot.count(SHARED) == 0
    assert dovecot.count(SHARED, PROCESSED) == 1
    assert [b"\\Seen" in flags for flags in dovecot.flags(SHARED, PROCESSED)] == [False]
    record = collabd("show", record_id, "--json", config=config)
    assert json.loads(record.stdout)["record"]["title"]
    assert daemon.stop() == 0, daemon.log()


def test_a_thousand_waiting_messages_are_each_processed_once(
        tmp_path: Path, dovecot: Dovecot, submission: Submission,
        running: list[DaemonProcess]) -> None:
    # What piled up over a long weekend with the daemon off: 20 requests and 980
    # messages nobody can act on, from 49 other people.
    others = [f"user{n:02d}@example.com" for n in range(49)]
    raws = [request(f"需求{n:02d}") for n in range(20)]
    raws += [new_mail(person(f"同事{n % 49}", others[n % 49]), f"周报 {n}", f"第 {n} 份")
             for n in range(980)]
    dovecot.append(SHARED, raws)
    assert dovecot.count(SHARED) == 1000
    config = imap_deployment(tmp_path / "deploy", dovecot, submission)
    daemon = start(config, running)

    wait_until(lambda: status(config)["mail"]["processed"] == 1000, timeout=240,
               interval=1, message="1,000 messages processed")
    wait_until(lambda: status(config)["outbox"]["pending"] == 0, timeout=60,
               message="the answers sent")
    assert dovecot.count(SHARED) == 0
    assert dovecot.count(SHARED, PROCESSED) == 1000
    # Once each: 20 acknowledgements, one per request; one "could not understand" per
    # person a day however many they sent.
    acks = subjects_of(dovecot, "liu.yang@example.com", "需求已受理")
    assert len(acks) == 20 and len(set(acks)) == 20
    for address in others:
        assert len(subjects_of(dovecot, address, "未能识别")) == 1, address
    assert daemon.stop() == 0, daemon.log()
    assert "duplicate of" not in daemon.log()
    assert status(config)["journal"] == {"waiting": 0, "shunt": 0, "bad": 0}


def test_imap_server_restarted_mid_run(tmp_path: Path, dovecot: Dovecot,
                                       submission: Submission,
                                       running: list[DaemonProcess]) -> None:
    senders = [f"user{n:02d}@example.com" for n in range(300)]
    dovecot.append(SHARED, [new_mail(person("同事", a), "随便问问", "在吗") for a in senders])
    config = imap_deployment(tmp_path / "deploy", dovecot, submission)
    daemon = start(config, running)
    wait_until(lambda: status(config)["mail"]["processed"] > 0, timeout=60,
               interval=0.1, message="processing under way")
    dovecot.stop()
    wait_until(lambda: "mailbox unavailable" in daemon.log(), timeout=30,
               message="the daemon noticing the server is gone")
    time.sleep(3)  # several reconnect attempts, with backoff
    dovecot.start()
    # Mail that came while it was down is picked up too.
    submit(submission, new_mail(person("同事", "late@example.com"), "还在吗", "在吗"))
    wait_until(lambda: status(config)["mail"]["processed"] == 301, timeout=120,
               interval=0.5, message="every message processed after the restart")
    wait_until(lambda: status(config)["outbox"]["pending"] == 0, message="answers sent")
    wait_until(lambda: submission.queued == 0, message="the SMTP server's queue delivered")
    assert dovecot.count(SHARED) == 0
    assert dovecot.count(SHARED, PROCESSED) == 301
    for address in [*senders[:: 30], "late@example.com"]:
        # One reply each. (A copy the transport delivered twice, should Dovecot stop
        # between accepting it and answering, has the same Message-ID: the same reply.)
        replies = {str(m["Message-ID"]) for m in inbox(dovecot, address)
                   if "未能识别" in str(m["Subject"])}
        assert len(replies) == 1, address
    assert daemon.stop() == 0, daemon.log()
    log = daemon.log()
    # Logged once when it went, once when it came back; not once per retry.
    assert log.count("mailbox unavailable") == 1, log
    assert log.count("mailbox reachable again") == 1, log


def test_smtp_server_down_then_back_delivers_everything_once(
        tmp_path: Path, dovecot: Dovecot, submission: Submission,
        running: list[DaemonProcess]) -> None:
    config = imap_deployment(tmp_path / "deploy", dovecot, submission)
    daemon = start(config, running)
    submission.stop()
    dovecot.append(SHARED, [request(f"报表{n}") for n in range(3)])
    wait_until(lambda: status(config)["mail"]["processed"] == 3, message="processed")
    wait_until(lambda: "cannot send" in daemon.log(), message="the outage noticed")
    time.sleep(4)  # retries with backoff against a closed port
    pending = status(config)["outbox"]
    assert pending["pending"] >= 6 and pending["failed"] == []  # nothing given up
    submission.start()
    wait_until(lambda: status(config)["outbox"]["pending"] == 0, timeout=30,
               message="the queue drained once the server was back")
    acks = subjects_of(dovecot, "liu.yang@example.com", "需求已受理")
    assert sorted(acks) == sorted(set(acks)) and len(acks) == 3
    ids = Counter((user, str(m["Message-ID"]))
                  for user in ("liu.yang@example.com", "sun.li@example.com")
                  for m in inbox(dovecot, user))
    assert ids and max(ids.values()) == 1  # nothing delivered twice
    assert daemon.stop() == 0, daemon.log()
    log = daemon.log()
    assert log.count("cannot send") == 1, log
    assert log.count("sending works again") == 1, log


def test_uidvalidity_change_rereads_without_reprocessing(
        tmp_path: Path, dovecot: Dovecot, submission: Submission,
        running: list[DaemonProcess]) -> None:
    first = [request(f"迁移前{n}") for n in range(3)]
    dovecot.append(SHARED, first, folder="collab")
    config = imap_deployment(tmp_path / "deploy", dovecot, submission, folder="collab")
    daemon = start(config, running)
    wait_until(lambda: len(subjects_of(dovecot, "liu.yang@example.com", "需求已受理")) == 3,
               message="three acknowledgements")
    daemon.stop()
    # The mailbox is recreated (a migration restoring it from a backup): a new
    # UIDVALIDITY, two old messages back in it, and one new.
    with dovecot.login(SHARED) as client:
        before = client.folder_status("collab", ["UIDVALIDITY"])[b"UIDVALIDITY"]
        client.delete_folder("collab")
        client.create_folder("collab")
        after = client.folder_status("collab", ["UIDVALIDITY"])[b"UIDVALIDITY"]
    assert before != after
    dovecot.append(SHARED, [first[0], first[2], request("迁移后")], folder="collab")

    daemon = start(config, running)
    wait_until(lambda: len(subjects_of(dovecot, "liu.yang@example.com", "需求已受理")) == 4,
               message="the new request acknowledged")
    wait_until(lambda: dovecot.count(SHARED, "collab") == 0, message="folder emptied")
    wait_until(lambda: daemon.log().count("duplicate of") == 2,
               message="the two old ones recognised")
    wait_until(lambda: status(config)["outbox"]["pending"] == 0, message="all sent")
    acks = subjects_of(dovecot, "liu.yang@example.com", "需求已受理")
    assert len(acks) == 4 and any("迁移后" in s for s in acks)
    after_change = status(config)
    assert after_change["counts"]["by_kind"]["request"] == 4
    assert after_change["mail"]["processed"] == 4  # six taken in, two known already
    assert daemon.stop() == 0, daemon.log()
    log = daemon.log()
    assert "UIDVALIDITY of collab changed" in log
    assert log.count("duplicate of") == 2


def test_messages_marked_seen_by_people_are_still_processed(
        tmp_path: Path, dovecot: Dovecot, submission: Submission,
        running: list[DaemonProcess]) -> None:
    senders = [f"reader{n}@example.com" for n in range(6)]
    dovecot.append(SHARED, [new_mail(person("同事", a), "问个事", "你好") for a in senders[:3]])
    with dovecot.login(SHARED) as client:  # a colleague reads the shared mailbox first
        client.select_folder("INBOX")
        client.add_flags(client.search(["ALL"]), [b"\\Seen"])
    config = imap_deployment(tmp_path / "deploy", dovecot, submission)
    daemon = start(config, running)
    # ... and keeps reading while collabd runs: new mail is marked read at once, and
    # collabd, waiting in IDLE, sees those flag changes go by.
    with dovecot.login(SHARED) as colleague:
        colleague.select_folder("INBOX")
        for address in senders[3:]:
            submit(submission, new_mail(person("同事", address), "问个事", "你好"))
            uids = colleague.search(["ALL"])
            if uids:
                colleague.add_flags(uids, [b"\\Seen"])
    wait_until(lambda: status(config)["mail"]["processed"] == 6, message="all six processed")
    for address in senders:
        wait_until(lambda a=address: subjects_of(dovecot, a, "未能识别"),  # type: ignore[misc]
                   message=f"answer to {address}")
    assert dovecot.count(SHARED) == 0 and dovecot.count(SHARED, PROCESSED) == 6
    assert daemon.stop() == 0, daemon.log()


def test_oversized_message_answered_once_and_set_aside(
        tmp_path: Path, dovecot: Dovecot, submission: Submission,
        running: list[DaemonProcess]) -> None:
    big = new_mail(LIU, "需求：附上全部设计稿", request_body("设计稿评审"),
                   attachments=[("设计稿.psd", bytes(range(256)) * 400)])  # ~140 KB encoded
    assert len(big) > 100_000
    dovecot.append(SHARED, [big, request("小邮件照常处理")])
    config = imap_deployment(tmp_path / "deploy", dovecot, submission,
                             imap_extra="  max_message_bytes: 65536\n")
    daemon = start(config, running)
    notice = wait_until(lambda: [m for m in inbox(dovecot, "liu.yang@example.com")
                                 if "邮件过大" in str(m["Subject"])],
                        message="the oversize notice")
    assert len(notice) == 1
    text = notice[0].get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    on_server = big.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")  # as IMAP has it
    assert "附上全部设计稿" in text and "上限 64 KB" in text
    assert f"大小为 {round(len(on_server) / 1024)} KB" in text
    assert notice[0]["In-Reply-To"] == parse(big)["Message-ID"]
    wait_until(lambda: subjects_of(dovecot, "liu.yang@example.com", "需求已受理"),
               message="the small one acknowledged")
    assert dovecot.count(SHARED, OVERSIZE) == 1
    assert dovecot.count(SHARED, PROCESSED) == 1
    # Kept whole on the server, not truncated.
    assert dovecot.messages(SHARED, OVERSIZE)[0] == on_server
    assert daemon.stop() == 0, daemon.log()
    before = status(config)
    # (what the first run queued and had not sent yet when stopped goes out after the
    # restart: that is not an answer to the copy)
    sent_before = before["mail"]["sent"] + before["outbox"]["pending"]
    # Answered once: a restart does not answer again, nor does the same mail once more.
    dovecot.append(SHARED, [big])
    daemon = start(config, running)
    wait_until(lambda: dovecot.count(SHARED) == 0, message="the copy taken in")
    assert daemon.stop() == 0, daemon.log()
    log = daemon.log()
    assert log.count("as oversize") == 1 and log.count("duplicate of") == 1, log
    # Nothing was queued for it (an answer would be queued with its processing).
    after = status(config)
    assert after["mail"]["sent"] == sent_before and after["outbox"]["pending"] == 0
    assert dovecot.count(SHARED, OVERSIZE) == 2


def test_server_without_move_or_idle(tmp_path: Path, running: list[DaemonProcess]) -> None:
    server = Dovecot(capability=NO_MOVE_NO_IDLE).start()
    try:
        sub = Submission(server).start()
        config = imap_deployment(tmp_path / "deploy", server, sub)
        checked = collabd("check", config=config).stdout.decode()
        assert "MOVE: no (COPY + UID EXPUNGE)" in checked and "IDLE: no (polling)" in checked
        daemon = start(config, running)
        server.append(SHARED, [request(f"无 MOVE {n}") for n in range(3)])
        wait_until(lambda: len(subjects_of(server, "liu.yang@example.com", "需求已受理")) == 3,
                   message="acknowledged by polling")
        # Copied, flagged \Deleted and expunged: nothing left behind in INBOX.
        wait_until(lambda: server.count(SHARED) == 0, message="INBOX expunged")
        assert server.count(SHARED, PROCESSED) == 3
        assert daemon.stop() == 0, daemon.log()
        sub.close()
    finally:
        server.cleanup()


def test_check_reports_what_it_found(tmp_path: Path, dovecot: Dovecot,
                                     submission: Submission) -> None:
    config = imap_deployment(tmp_path / "deploy", dovecot, submission)
    out = collabd("check", config=config).stdout.decode()
    assert f"logged in as {SHARED}" in out
    assert "IDLE: yes" in out and "MOVE: yes" in out
    assert "folders:" in out and "INBOX" in out and PROCESSED in out
    assert f"SMTP 127.0.0.1:{submission.port} (none): logged in as {SHARED}" in out

    (tmp_path / "deploy" / "mail.secret").write_text("wrong\n", encoding="utf-8")
    failed = collabd("check", config=config, check=False)
    text = failed.stdout.decode() + failed.stderr.decode()
    assert failed.returncode != 0
    assert f"login as {SHARED} refused" in text  # IMAP
    assert "535" in text  # SMTP's answer, as the server gave it

    submission.stop()
    dovecot.stop()
    failed = collabd("check", config=config, check=False)
    text = failed.stdout.decode() + failed.stderr.decode()
    assert failed.returncode != 0
    assert f"IMAP 127.0.0.1:{dovecot.imap_port}" in text and "Connection refused" in text
    assert f"SMTP 127.0.0.1:{submission.port}" in text


def test_tls_with_a_private_ca(tmp_path: Path, running: list[DaemonProcess]) -> None:
    trustme = pytest.importorskip("trustme", reason="trustme makes the test certificates")
    ca = trustme.CA()
    server = Dovecot(ca=ca).start()
    sub = Submission(server, security="starttls", ca=ca).start()
    try:
        # Implicit TLS to IMAP (993-style), STARTTLS to submission (587-style).
        config = imap_deployment(tmp_path / "ok", server, sub, imap_security="tls",
                                 smtp_security="starttls")
        out = collabd("check", config=config).stdout.decode()
        assert "(tls): logged in" in out and "(starttls): logged in" in out
        daemon = start(config, running)
        server.append(SHARED, [request("加密通道")])
        wait_until(lambda: subjects_of(server, "liu.yang@example.com", "需求已受理"),
                   message="acknowledged over TLS")
        assert daemon.stop() == 0, daemon.log()

        # Verification is on by default: without the CA the servers are not trusted.
        untrusted = imap_deployment(tmp_path / "no-ca", server, sub, imap_security="starttls",
                                    smtp_security="starttls", ca_file=False)
        failed = collabd("check", config=untrusted, check=False)
        text = failed.stdout.decode() + failed.stderr.decode()
        assert failed.returncode != 0
        assert text.count("certificate could not be verified") == 2, text
        assert "imap.ca_file" in text and "smtp.ca_file" in text
    finally:
        sub.close()
        server.cleanup()


def _backend(dovecot: Dovecot, submission: Submission, **imap: Any) -> ImapMailbox:
    settings = ImapServer(host="127.0.0.1", port=dovecot.imap_port, security="none",
                          username=SHARED, auth=Secret(password_env="UNUSED"), **imap)
    smtp = SmtpServer(host="127.0.0.1", port=submission.port, security="none",
                      username=SHARED, auth=Secret(password_env="UNUSED"))
    return ImapMailbox(settings, smtp, imap_secret=lambda: PASSWORD,
                       smtp_secret=lambda: PASSWORD, base_dir=Path("."))


def test_connection_lost_between_journal_and_move(dovecot: Dovecot,
                                                  submission: Submission) -> None:
    """Journaled, cursor stored, then the server went away before the move: after
    reconnecting the messages are moved, not fetched again."""
    dovecot.append(SHARED, [new_mail(person("同事", f"u{n}@example.com"), "问", "好")
                            for n in range(3)])
    backend = _backend(dovecot, submission)
    backend.start()
    batch = backend.fetch(None)
    assert len(batch.messages) == 3
    dovecot.stop()
    with pytest.raises(MailboxUnavailable):
        backend.ack([m.ref for m in batch.messages])
    dovecot.start()
    backend.stop()

    again = _backend(dovecot, submission)  # as after a daemon restart, with the cursor
    again.start()
    assert again.fetch(batch.cursor).messages == []
    assert dovecot.count(SHARED) == 0 and dovecot.count(SHARED, PROCESSED) == 3
    # New mail after that is fetched as usual.
    dovecot.append(SHARED, [new_mail(person("同事", "u9@example.com"), "再问", "好")])
    assert [parse(m.raw)["Subject"] for m in again.fetch(batch.cursor).messages] == ["再问"]
    again.stop()


def test_daemon_started_before_the_imap_server(tmp_path: Path, dovecot: Dovecot,
                                               submission: Submission,
                                               running: list[DaemonProcess]) -> None:
    config = imap_deployment(tmp_path / "deploy", dovecot, submission)
    dovecot.stop()
    daemon = start(config, running)  # after a power cut, collabd may come up first
    wait_until(lambda: "not reachable yet" in daemon.log(), message="the start noted")
    dovecot.start()
    dovecot.append(SHARED, [request("先启动")])
    wait_until(lambda: subjects_of(dovecot, "liu.yang@example.com", "需求已受理"),
               timeout=30, message="acknowledged once the server is up")
    assert daemon.stop() == 0, daemon.log()


def test_wrong_password_stops_the_start(tmp_path: Path, dovecot: Dovecot,
                                        submission: Submission) -> None:
    config = imap_deployment(tmp_path / "deploy", dovecot, submission)
    (tmp_path / "deploy" / "mail.secret").write_text("wrong\n", encoding="utf-8")
    result = collabd("run", "--once", config=config, check=False)
    assert result.returncode != 0
    assert f"login as {SHARED} refused" in result.stderr.decode()


def test_xoauth2_login_to_submission(dovecot: Dovecot, submission: Submission) -> None:
    sender = SmtpSender("127.0.0.1", submission.port, security="none", username=SHARED,
                        secret=OAUTH_TOKEN, oauth2=True)
    sender.send(request("令牌登录"), SHARED, ["liu.yang@example.com"])
    sender.close()
    assert submission.logins == [SHARED]
    assert subjects_of(dovecot, "liu.yang@example.com", "令牌登录")
    refused = SmtpSender("127.0.0.1", submission.port, security="none", username=SHARED,
                         secret="expired-token", oauth2=True)
    with pytest.raises(SendError, match=r"login as collab@example\.com refused") as info:
        refused.send(request("过期令牌"), SHARED, ["liu.yang@example.com"])
    assert info.value.unreachable and not info.value.permanent  # kept, retried later


def test_old_server_without_uidplus_keeps_what_people_flagged_deleted(
        tmp_path: Path, running: list[DaemonProcess]) -> None:
    """No MOVE, no UIDPLUS, every folder below "INBOX." (Courier's, Cyrus's layout): a
    plain EXPUNGE would also remove a message that came after the fetch and that a
    colleague flagged \\Deleted (Outlook's "mark for deletion") before collabd read it."""
    server = Dovecot(capability=NO_MOVE_NO_UIDPLUS, inbox_prefix=True).start()
    sub = Submission(server).start()
    try:
        backend = _backend(server, sub)
        backend.start()
        server.append(SHARED, [request("旧服务器一")])
        first = backend.fetch(None)
        with server.login(SHARED) as colleague:
            colleague.append("INBOX", request("先别删"), flags=[b"\\Deleted"])
        backend.ack([m.ref for m in first.messages])
        assert server.count(SHARED, "INBOX.collabd.processed") == 1
        assert sorted(parse(raw)["Subject"] for raw in server.messages(SHARED)) == [
            "需求：先别删", "需求：旧服务器一"]  # nothing expunged: not only ours flagged
        second = backend.fetch(first.cursor)  # the colleague's is read, then moved too
        assert [parse(m.raw)["Subject"] for m in second.messages] == ["需求：先别删"]
        backend.ack([m.ref for m in second.messages])
        assert server.count(SHARED) == 0  # now every flagged one was ours: expunged
        assert server.count(SHARED, "INBOX.collabd.processed") == 2
        backend.stop()

        # The daemon on such a server: folders created below INBOX., mail moved there.
        config = imap_deployment(tmp_path / "deploy", server, sub)
        daemon = start(config, running)
        server.append(SHARED, [request("旧服务器二")])
        wait_until(lambda: subjects_of(server, "liu.yang@example.com", "旧服务器二"),
                   message="acknowledged on the old server")
        assert server.count(SHARED, "INBOX.collabd.processed") == 3
        assert daemon.stop() == 0, daemon.log()
        sub.close()
    finally:
        server.cleanup()


def test_failing_folder_is_retried_with_backoff_not_in_a_loop(
        dovecot: Dovecot, submission: Submission) -> None:
    backend = _backend(dovecot, submission, folder="不存在的文件夹")
    backend.start()
    failures = 0
    for _ in range(50):  # the daemon's loop asking again and again
        with pytest.raises(MailboxUnavailable, match=r"不存在的文件夹|doesn't exist"):
            backend.fetch(None)
        failures += 1
        backend.wait(0.01, 0.01, threading.Event())
    backend.stop()
    logins = dovecot.log().count("Login: user=<collab@example.com>")
    assert failures == 50 and logins <= 3, dovecot.log()


def test_expired_oauth2_token_is_read_again_from_its_file(
        tmp_path: Path, dovecot: Dovecot, submission: Submission) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("expired-token\n", encoding="utf-8")
    secret = Secret(xoauth2_token_file=token_file).source(tmp_path)
    sender = SmtpSender("127.0.0.1", submission.port, security="none", username=SHARED,
                        secret=secret, oauth2=True)
    with pytest.raises(SendError) as info:
        sender.send(request("令牌过期"), SHARED, ["liu.yang@example.com"])
    assert info.value.unreachable  # the outbox pauses; nothing is given up
    token_file.write_text(OAUTH_TOKEN + "\n", encoding="utf-8")  # the helper refreshed it
    sender.send(request("令牌刷新"), SHARED, ["liu.yang@example.com"])
    sender.close()
    assert subjects_of(dovecot, "liu.yang@example.com", "令牌刷新")


def test_kept_smtp_connection_timed_out_by_the_server(
        dovecot: Dovecot, caplog: pytest.LogCaptureFixture) -> None:
    """The server drops a client silent too long (Postfix: 421 after 300 s); the next
    send reconnects instead of failing."""
    sub = Submission(dovecot, idle_timeout=1).start()
    try:
        sender = SmtpSender("127.0.0.1", sub.port, security="none", username=SHARED,
                            secret=PASSWORD)
        sender.send(request("第一封"), SHARED, ["liu.yang@example.com"])
        time.sleep(2)  # longer than the server waits
        sender.send(request("第二封"), SHARED, ["liu.yang@example.com"])
        sender.close()
        assert len(sub.delivered) == 2
    finally:
        sub.close()


def test_killed_while_processing_loses_and_doubles_nothing(
        tmp_path: Path, dovecot: Dovecot, submission: Submission,
        running: list[DaemonProcess]) -> None:
    titles = [f"断电{n:02d}" for n in range(60)]
    dovecot.append(SHARED, [request(t) for t in titles])
    config = imap_deployment(tmp_path / "deploy", dovecot, submission)
    daemon = start(config, running)
    wait_until(lambda: status(config)["mail"]["processed"] >= 10, interval=0.02,
               message="processing under way")
    daemon.kill()  # kill -9: no clean shutdown, no checkpoint
    daemon = start(config, running)
    wait_until(lambda: status(config)["mail"]["processed"] == 60, timeout=60,
               message="all processed after the restart")
    wait_until(lambda: status(config)["outbox"]["pending"] == 0, message="all sent")
    assert daemon.stop() == 0, daemon.log()
    assert dovecot.count(SHARED) == 0 and dovecot.count(SHARED, PROCESSED) == 60
    acks = [m for m in inbox(dovecot, "liu.yang@example.com")
            if "需求已受理" in str(m["Subject"])]
    by_title: dict[str, set[str]] = {}
    for m in acks:
        title = str(m["Subject"]).rsplit("：", 1)[-1]
        by_title.setdefault(title, set()).add(str(m["Message-ID"]))
    assert sorted(by_title) == titles
    # One acknowledgement each; a copy sent again after the kill (the documented window
    # between the server's acceptance and its record) carries the same Message-ID.
    assert all(len(ids) == 1 for ids in by_title.values()), by_title
    assert status(config)["counts"]["by_kind"]["request"] == 60
